"""Use cases of merchant webhook endpoints: register, change, rotate the secret, delete, read the
delivery log, send a delivery again. The admin-only checks happen at the edge.

A URL is checked when it is saved (http or https; a host that resolves inside the network is refused
unless private addresses are allowed) and again by the sender before each delivery, because what a
name resolves to can change after it was saved (domain.model.webhooks.refusal is the one rule).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

from domain.clock import Clock, new_id
from domain.model.errors import EndpointDisabled, NotFound, ValidationFailed
from domain.model.events import Event
from domain.model.statuses import EndpointStatus, WebhookDeliveryStatus
from domain.model.webhooks import (
    WebhookDelivery,
    WebhookEndpoint,
    check_addresses,
    new_secret,
    parse_description,
    parse_events,
    parse_url,
)
from domain.ports import HostResolver, UnitOfWorkFactory
from domain.services.payments import MAX_PAGE, decode_cursor, encode_cursor

UPDATABLE = ("url", "events", "description", "status")


class WebhookService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, resolver: HostResolver, allow_private: bool = False,
                 on_due: Callable[[], None] = lambda: None) -> None:
        """`resolver` blocks (DNS): call these use cases off the event loop, as the API's plain routes are.
        `on_due` is told when a delivery was made due at once (a retry), to wake the sender."""
        self.uow = uow
        self.clock = clock
        self.resolver = resolver
        self.allow_private = allow_private
        self.on_due = on_due

    def check_url(self, raw: object) -> str:
        """The URL, when a delivery may go there; ValidationFailed (422) saying why not."""
        destination = parse_url(raw)
        if not self.allow_private:
            check_addresses(destination.host, self.resolver.resolve(destination.host, destination.port))
        return destination.url

    # --- endpoints -----------------------------------------------------------------------
    def create(self, raw: dict[str, Any]) -> WebhookEndpoint:
        """A new enabled endpoint with a new secret (the only time, with rotate_secret, it is shown)."""
        unknown = sorted(set(raw) - {"url", "events", "description"})
        if unknown:
            raise ValidationFailed.on(unknown[0], "is not a field of an endpoint")
        event_types = parse_events(raw.get("events"))
        description = parse_description(raw.get("description"))
        url = self.check_url(raw.get("url"))
        now = self.clock.now()
        endpoint = WebhookEndpoint(new_id("we"), url, event_types, description, EndpointStatus.ENABLED,
                                   new_secret(), now, now)
        endpoint.record("created", now)
        with self.uow() as uow:
            uow.webhooks.add_endpoint(endpoint)
            uow.commit()
        return endpoint

    def list(self) -> builtins.list[WebhookEndpoint]:
        """Every endpoint, oldest first."""
        with self.uow(read_only=True) as uow:
            return uow.webhooks.endpoints()

    def get(self, endpoint_id: str) -> WebhookEndpoint:
        with self.uow(read_only=True) as uow:
            endpoint = uow.webhooks.get_endpoint(endpoint_id)
        if endpoint is None:
            raise NotFound("webhook endpoint not found")
        return endpoint

    def update(self, endpoint_id: str, raw: dict[str, Any]) -> WebhookEndpoint:
        """Change url, events, description or status (enabled | disabled); the fields not given stay."""
        unknown = sorted(set(raw) - set(UPDATABLE))
        if unknown:
            raise ValidationFailed.on(unknown[0], "is not a field of an endpoint that can be changed")
        event_types = parse_events(raw["events"]) if "events" in raw else None
        description = parse_description(raw["description"]) if "description" in raw else None
        status = raw.get("status")
        if status is not None and status not in (EndpointStatus.ENABLED, EndpointStatus.DISABLED):
            raise ValidationFailed.on("status", "must be enabled or disabled")
        url = self.check_url(raw["url"]) if "url" in raw else None  # DNS before the transaction
        now = self.clock.now()
        with self.uow() as uow:
            endpoint = uow.webhooks.get_endpoint(endpoint_id, for_update=True)
            if endpoint is None:
                raise NotFound("webhook endpoint not found")
            endpoint.url = url if url is not None else endpoint.url
            endpoint.event_types = event_types if event_types is not None else endpoint.event_types
            endpoint.description = description if description is not None else endpoint.description
            endpoint.updated_at = now
            if status == EndpointStatus.ENABLED and not endpoint.enabled:
                endpoint.enable(now)
            elif status == EndpointStatus.DISABLED and endpoint.enabled:
                endpoint.disable(now)
            endpoint.record("updated", now)
            uow.webhooks.update_endpoint(endpoint)
            uow.commit()
        return endpoint

    def set_enabled(self, endpoint_id: str, enabled: bool) -> WebhookEndpoint:
        """Enable or disable (the UI's switch); enabling starts the count of dead deliveries afresh."""
        return self.update(endpoint_id, {"status": EndpointStatus.ENABLED if enabled else EndpointStatus.DISABLED})

    def rotate_secret(self, endpoint_id: str) -> WebhookEndpoint:
        """A new secret, in force at once; returned (with the endpoint) this one time."""
        now = self.clock.now()
        with self.uow() as uow:
            endpoint = uow.webhooks.get_endpoint(endpoint_id, for_update=True)
            if endpoint is None:
                raise NotFound("webhook endpoint not found")
            endpoint.rotate_secret(now)
            endpoint.record("secret_rotated", now)
            uow.webhooks.update_endpoint(endpoint)
            uow.commit()
        return endpoint

    def delete(self, endpoint_id: str) -> None:
        """The endpoint and its delivery log; a delivery in flight ends without an outcome."""
        now = self.clock.now()
        with self.uow() as uow:
            endpoint = uow.webhooks.get_endpoint(endpoint_id)
            if endpoint is None:
                raise NotFound("webhook endpoint not found")
            uow.webhooks.delete_endpoint(endpoint_id)
            uow.publish(Event("webhook_endpoint.deleted", endpoint.public(), now, aggregate_id=endpoint_id))
            uow.commit()

    # --- deliveries ----------------------------------------------------------------------
    def deliveries(self, endpoint_id: str, *, status: str | None = None, limit: int = 50,
                   cursor: str | None = None) -> tuple[builtins.list[WebhookDelivery], str | None]:
        """The endpoint's delivery log, newest first, with cursor pagination (like payments)."""
        if status is not None and status not in tuple(WebhookDeliveryStatus):
            raise ValidationFailed.on("status", f"must be one of {', '.join(WebhookDeliveryStatus)}")
        if not 1 <= limit <= MAX_PAGE:
            raise ValidationFailed.on("limit", f"must be from 1 to {MAX_PAGE}")
        after = decode_cursor(cursor) if cursor else None
        with self.uow(read_only=True) as uow:
            if uow.webhooks.get_endpoint(endpoint_id) is None:
                raise NotFound("webhook endpoint not found")
            page = uow.webhooks.deliveries(endpoint_id, status=status, limit=limit + 1, after=after)
        next_cursor = encode_cursor(page[limit - 1]) if len(page) > limit else None
        return page[:limit], next_cursor

    def delivery(self, delivery_id: str) -> WebhookDelivery:
        with self.uow(read_only=True) as uow:
            delivery = uow.webhooks.get_delivery(delivery_id)
        if delivery is None:
            raise NotFound("webhook delivery not found")
        return delivery

    def retry(self, delivery_id: str) -> WebhookDelivery:
        """Due now, whatever its status (dead too); the sender is woken. A delivery of a disabled
        endpoint is EndpointDisabled (409): nothing goes to a disabled endpoint."""
        now = self.clock.now()
        with self.uow() as uow:
            delivery = uow.webhooks.get_delivery(delivery_id, for_update=True)
            if delivery is None:
                raise NotFound("webhook delivery not found")
            endpoint = uow.webhooks.get_endpoint(delivery.endpoint_id)
            if endpoint is None:
                raise NotFound("webhook delivery not found")
            if not endpoint.enabled:
                raise EndpointDisabled("the endpoint is disabled; enable it before sending its deliveries again")
            delivery.send_again(now)
            uow.webhooks.update_delivery(delivery)
            uow.commit()
        self.on_due()
        return delivery
