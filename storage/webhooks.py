"""The repository of merchant webhook endpoints and their deliveries."""

from __future__ import annotations

import builtins
import json
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, update
from sqlmodel import Session, col, select

from domain.model.payments import PageCursor
from domain.model.statuses import EndpointStatus, WebhookDeliveryStatus
from domain.model.webhooks import Claimed, WebhookDelivery, WebhookEndpoint
from domain.ports import NewEvents
from storage.db import from_db, to_db
from storage.repositories import _event, flush
from storage.tables import OutboxRow, WebhookDeliveryRow, WebhookEndpointRow

DUE = (WebhookDeliveryStatus.PENDING.value, WebhookDeliveryStatus.FAILED.value)


def _endpoint(row: WebhookEndpointRow) -> WebhookEndpoint:
    return WebhookEndpoint(row.id, row.url, tuple(json.loads(row.event_types)), row.description,
                           EndpointStatus(row.status), row.secret, from_db(row.created_at), from_db(row.updated_at),
                           dead_in_a_row=row.dead_in_a_row, disabled_reason=row.disabled_reason)


def _endpoint_values(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {"url": endpoint.url, "event_types": json.dumps(list(endpoint.event_types)),
            "description": endpoint.description, "status": str(endpoint.status), "secret": endpoint.secret,
            "dead_in_a_row": endpoint.dead_in_a_row, "disabled_reason": endpoint.disabled_reason,
            "created_at": to_db(endpoint.created_at), "updated_at": to_db(endpoint.updated_at)}


def _delivery(row: WebhookDeliveryRow) -> WebhookDelivery:
    return WebhookDelivery(row.id, row.endpoint_id, row.event_id, row.event_type, WebhookDeliveryStatus(row.status),
                           from_db(row.created_at), from_db(row.updated_at), from_db(row.next_attempt_at),
                           attempts=row.attempts, last_status_code=row.last_status_code, last_error=row.last_error,
                           delivered_at=from_db(row.delivered_at), lease_owner=row.lease_owner,
                           lease_expires_at=from_db(row.lease_expires_at))


def _delivery_values(d: WebhookDelivery) -> dict[str, Any]:
    return {"endpoint_id": d.endpoint_id, "event_id": d.event_id, "event_type": d.event_type,
            "status": str(d.status), "attempts": d.attempts, "last_status_code": d.last_status_code,
            "last_error": d.last_error, "next_attempt_at": to_db(d.next_attempt_at),
            "delivered_at": to_db(d.delivered_at), "created_at": to_db(d.created_at),
            "updated_at": to_db(d.updated_at), "lease_owner": d.lease_owner,
            "lease_expires_at": to_db(d.lease_expires_at)}


class SqlWebhookRepository:
    def __init__(self, session: Session, events: NewEvents) -> None:
        self.session = session
        self._events = events  # an endpoint or delivery saved here has its new events written at commit

    # --- endpoints -----------------------------------------------------------------------
    def add_endpoint(self, endpoint: WebhookEndpoint) -> None:
        self.session.add(WebhookEndpointRow(id=endpoint.id, **_endpoint_values(endpoint)))
        flush(self.session)
        self._events.saw(endpoint)

    def get_endpoint(self, endpoint_id: str, for_update: bool = False) -> WebhookEndpoint | None:
        stmt = select(WebhookEndpointRow).where(col(WebhookEndpointRow.id) == endpoint_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = self.session.exec(stmt).first()
        return _endpoint(row) if row else None

    def endpoints(self, enabled_only: bool = False) -> builtins.list[WebhookEndpoint]:
        stmt = select(WebhookEndpointRow)
        if enabled_only:
            stmt = stmt.where(col(WebhookEndpointRow.status) == EndpointStatus.ENABLED.value)
        stmt = stmt.order_by(col(WebhookEndpointRow.created_at), col(WebhookEndpointRow.id))
        return [_endpoint(r) for r in self.session.exec(stmt).all()]

    def update_endpoint(self, endpoint: WebhookEndpoint) -> None:
        self.session.exec(update(WebhookEndpointRow).where(col(WebhookEndpointRow.id) == endpoint.id)
                          .values(**_endpoint_values(endpoint)))
        self._events.saw(endpoint)

    def delete_endpoint(self, endpoint_id: str) -> None:
        # Deliveries first: a delivery's outcome locks its row, then its endpoint's; the same order here.
        self.session.exec(delete(WebhookDeliveryRow).where(col(WebhookDeliveryRow.endpoint_id) == endpoint_id))
        self.session.exec(delete(WebhookEndpointRow).where(col(WebhookEndpointRow.id) == endpoint_id))

    # --- deliveries ----------------------------------------------------------------------
    def add_delivery(self, delivery: WebhookDelivery) -> None:
        self.session.add(WebhookDeliveryRow(id=delivery.id, **_delivery_values(delivery)))

    def get_delivery(self, delivery_id: str, for_update: bool = False) -> WebhookDelivery | None:
        stmt = select(WebhookDeliveryRow).where(col(WebhookDeliveryRow.id) == delivery_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = self.session.exec(stmt).first()
        return _delivery(row) if row else None

    def update_delivery(self, delivery: WebhookDelivery) -> None:
        self.session.exec(update(WebhookDeliveryRow).where(col(WebhookDeliveryRow.id) == delivery.id)
                          .values(**_delivery_values(delivery)))
        self._events.saw(delivery)

    def count_by_status(self) -> dict[str, int]:
        stmt = select(WebhookDeliveryRow.status, func.count()).group_by(col(WebhookDeliveryRow.status))
        return {status: count for status, count in self.session.exec(stmt).all()}

    def deliveries(self, endpoint_id: str, *, status: str | None, limit: int,
                   after: PageCursor | None) -> builtins.list[WebhookDelivery]:
        stmt = select(WebhookDeliveryRow).where(col(WebhookDeliveryRow.endpoint_id) == endpoint_id)
        if status is not None:
            stmt = stmt.where(col(WebhookDeliveryRow.status) == status)
        if after is not None:
            at = to_db(after.created_at)
            stmt = stmt.where(or_(col(WebhookDeliveryRow.created_at) < at,
                                  and_(col(WebhookDeliveryRow.created_at) == at,
                                       col(WebhookDeliveryRow.id) < after.id)))
        stmt = stmt.order_by(col(WebhookDeliveryRow.created_at).desc(), col(WebhookDeliveryRow.id).desc()).limit(limit)
        return [_delivery(r) for r in self.session.exec(stmt).all()]

    def claim_due(self, *, now: datetime, owner: str, lease_until: datetime, limit: int,
                  in_flight: dict[str, int], per_endpoint: int) -> builtins.list[Claimed]:
        # In rounds of at most the slots still free, each leaving out the endpoints that are full, so a
        # claimer locks (until it commits) few rows it does not take: the others skip locked rows.
        db_now = to_db(now)
        enabled = select(WebhookEndpointRow.id).where(col(WebhookEndpointRow.status) == EndpointStatus.ENABLED.value)
        taken: dict[str, int] = dict(in_flight)
        picked: list[WebhookDeliveryRow] = []
        while len(picked) < limit:
            full = [endpoint for endpoint, n in taken.items() if n >= per_endpoint]
            stmt = (select(WebhookDeliveryRow)
                    .where(col(WebhookDeliveryRow.status).in_(DUE), col(WebhookDeliveryRow.next_attempt_at) <= db_now,
                           or_(col(WebhookDeliveryRow.lease_expires_at).is_(None),
                               col(WebhookDeliveryRow.lease_expires_at) < db_now),
                           col(WebhookDeliveryRow.endpoint_id).in_(enabled),
                           col(WebhookDeliveryRow.id).not_in([r.id for r in picked]),
                           col(WebhookDeliveryRow.endpoint_id).not_in(full))
                    .order_by(col(WebhookDeliveryRow.next_attempt_at), col(WebhookDeliveryRow.id))
                    .limit(limit - len(picked)).with_for_update(skip_locked=True))
            rows = self.session.exec(stmt).all()
            if not rows:
                break
            for row in rows:
                if taken.get(row.endpoint_id, 0) >= per_endpoint:
                    continue
                taken[row.endpoint_id] = taken.get(row.endpoint_id, 0) + 1
                row.lease_owner, row.lease_expires_at = owner, to_db(lease_until)
                row.attempts += 1
                self.session.add(row)
                picked.append(row)
        if not picked:
            return []
        flush(self.session)
        endpoints = {r.id: r for r in self.session.exec(select(WebhookEndpointRow).where(
            col(WebhookEndpointRow.id).in_({r.endpoint_id for r in picked}))).all()}
        events = {r.id: _event(r) for r in self.session.exec(select(OutboxRow).where(
            col(OutboxRow.id).in_({r.event_id for r in picked}))).all()}
        return [Claimed(_delivery(r), endpoints[r.endpoint_id].url, endpoints[r.endpoint_id].secret,
                        events[r.event_id]) for r in picked if r.endpoint_id in endpoints and r.event_id in events]
