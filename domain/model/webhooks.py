"""Merchant webhooks: endpoints an admin registers, and the deliveries of public events to them.

An endpoint subscribes to public event types (or "*"). When an event is written to the outbox, each
enabled endpoint subscribed to its type is owed one delivery, in the same transaction
(domain.ports.NewEvents). A delivery is tried, and after a failure tried again on the retry schedule
(with jitter) until it is `delivered`, or `dead` once the schedule is spent. An endpoint whose
deliveries end dead ten times in a row is disabled, with a `webhook_endpoint.disabled` event.

The rules on where a delivery may go (http or https, and no address inside the network) are here,
so the check when an endpoint is saved and the check when a delivery is sent are one check.
"""

from __future__ import annotations

import ipaddress
import secrets
from base64 import b64encode
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

from domain.clock import iso
from domain.model.errors import IllegalTransition, ValidationFailed
from domain.model.events import Event
from domain.model.statuses import EndpointStatus, WebhookDeliveryStatus

PUBLIC_EVENT_TYPES: tuple[str, ...] = (
    "payment.created", "payment.processing", "payment.retry", "payment.completed", "payment.failed",
    "order.created", "order.paid", "order.payment_failed", "order.refunded",
    "refund.created", "refund.succeeded", "refund.failed",
    "webhook_endpoint.disabled",
)
"""The event types of the contract (API.md, Events): the only ones that go to endpoints."""
ALL_EVENTS = "*"
DEFAULT_RETRY_SCHEDULE: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000)
"""Seconds to wait after the 1st, 2nd, ... failed try; a try after the last one is the delivery's last."""
JITTER = 0.1  # each wait is the schedule's ±10 %, so retries of one outage do not arrive in a wave
DEAD_IN_A_ROW_TO_DISABLE = 10
MAX_URL = 2048
MAX_DESCRIPTION = 500
SECRET_PREFIX = "whsec_"
SECRET_BYTES = 24
MAX_ERROR = 500


def is_public(event_type: str) -> bool:
    return event_type in PUBLIC_EVENT_TYPES


def new_secret() -> str:
    """`whsec_` and the base64 of 24 random bytes (Standard Webhooks' form of a symmetric secret)."""
    return SECRET_PREFIX + b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


# --- where a delivery may go ---------------------------------------------------------------
def subscribed(event_types: Iterable[str], event_type: str) -> bool:
    """Whether a subscription to `event_types` covers `event_type` (ALL_EVENTS covers every one)."""
    types = frozenset(event_types)
    return ALL_EVENTS in types or event_type in types


@dataclass(frozen=True)
class Destination:
    """A checked endpoint URL, taken apart: the host to resolve and the port to connect to."""

    url: str
    scheme: str
    host: str
    port: int


def parse_url(raw: object, field_name: str = "url") -> Destination:
    """An http or https URL with a host and no credentials; else ValidationFailed naming `field_name`."""
    if not isinstance(raw, str) or not raw or len(raw) > MAX_URL or not raw.isprintable() or " " in raw:
        raise ValidationFailed.on(field_name, f"must be an http or https URL of at most {MAX_URL} characters")
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise ValidationFailed.on(field_name, "is not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValidationFailed.on(field_name, "must use http or https")
    if not parts.hostname:
        raise ValidationFailed.on(field_name, "must name a host")
    if parts.username is not None or parts.password is not None:
        raise ValidationFailed.on(field_name, "must not carry a user name or password")
    if parts.fragment:
        raise ValidationFailed.on(field_name, "must not have a #fragment")
    return Destination(raw, scheme, parts.hostname, port or (443 if scheme == "https" else 80))


def refusal(address: str) -> str | None:
    """Why a delivery may not go to `address` (an IP address as text), or None when it may.

    Anything but a globally routable unicast address is refused: private, loopback, link-local,
    multicast, reserved, unspecified, shared (carrier-grade NAT) and documentation ranges, and an
    IPv6 address that maps, or translates, to a refused IPv4 one.
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # a scope (fe80::1%eth0) is link-local anyway
    except ValueError:
        return f"{address!r} is not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if inner is not None:
            reason = refusal(str(inner))
            if reason is not None:
                return reason
    # The narrower kinds first: ipaddress counts link-local, unspecified and reserved ranges as private too.
    kinds = [("loopback", ip.is_loopback), ("link-local", ip.is_link_local), ("multicast", ip.is_multicast),
             ("unspecified", ip.is_unspecified), ("reserved", ip.is_reserved), ("private", ip.is_private)]
    for kind, hit in kinds:
        if hit:
            return f"{ip} is a {kind} address"
    if not ip.is_global:
        return f"{ip} is not a public address"
    return None


def check_addresses(host: str, addresses: list[str]) -> list[str]:
    """The addresses, when every one may be reached; else ValidationFailed (a host that resolves to one
    address inside the network is refused whole: which one a connection gets is not ours to choose)."""
    if not addresses:
        raise ValidationFailed.on("url", f"the host {host} does not resolve")
    for address in addresses:
        reason = refusal(address)
        if reason is not None:
            raise ValidationFailed.on("url", f"the host {host} resolves to an address deliveries may not go to "
                                             f"({reason}); they go to public addresses only")
    return addresses


# --- endpoints -----------------------------------------------------------------------------
def parse_events(raw: object) -> tuple[str, ...]:
    """A list of public event types, or ["*"]; duplicates dropped, the order kept."""
    if not isinstance(raw, list | tuple) or not raw or not all(isinstance(e, str) for e in raw):
        raise ValidationFailed.on("events", 'must be a non-empty list of event types, or ["*"]')
    unknown = [e for e in raw if e != ALL_EVENTS and not is_public(e)]
    if unknown:
        raise ValidationFailed.on("events", f"unknown event type {unknown[0]!r}; the types are "
                                            f"{', '.join(PUBLIC_EVENT_TYPES)}, or *")
    if ALL_EVENTS in raw:
        if len(set(raw)) > 1:
            raise ValidationFailed.on("events", '"*" stands alone: it subscribes to every type')
        return (ALL_EVENTS,)
    return tuple(dict.fromkeys(raw))


def parse_description(raw: object) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str) or len(raw) > MAX_DESCRIPTION or not raw.replace("\n", " ").isprintable():
        raise ValidationFailed.on("description", f"must be text of at most {MAX_DESCRIPTION} characters")
    return raw


@dataclass
class WebhookEndpoint:
    id: str
    url: str
    event_types: tuple[str, ...]  # what it subscribes to: public types, or ("*",)
    description: str
    status: EndpointStatus
    secret: str
    created_at: datetime
    updated_at: datetime
    dead_in_a_row: int = 0  # deliveries that ended dead since the last one delivered
    disabled_reason: str | None = None
    # New events, not in the outbox yet: the unit of work writes them when it commits, if this object
    # was added or updated in it (domain.ports.NewEvents).
    events: list[Event] = field(default_factory=list, repr=False, compare=False)

    @property
    def enabled(self) -> bool:
        return self.status == EndpointStatus.ENABLED

    def wants(self, event_type: str) -> bool:
        return self.enabled and is_public(event_type) and subscribed(self.event_types, event_type)

    def record(self, what: str, now: datetime) -> None:
        """An event of this endpoint (created, updated, secret_rotated, deleted): for admins only, never
        sent to endpoints (not a public type)."""
        self.events.append(Event(f"webhook_endpoint.{what}", self.public(), now, aggregate_id=self.id))

    def enable(self, now: datetime) -> None:
        """By an admin: deliveries go again, and the count of dead ones starts afresh."""
        self.status, self.disabled_reason, self.dead_in_a_row = EndpointStatus.ENABLED, None, 0
        self.updated_at = now

    def disable(self, now: datetime, reason: str = "disabled by an admin") -> None:
        self.status, self.disabled_reason = EndpointStatus.DISABLED, reason
        self.updated_at = now

    def rotate_secret(self, now: datetime) -> None:
        """A new secret at once: deliveries from now on are signed with it only."""
        self.secret = new_secret()
        self.updated_at = now

    def delivered(self) -> None:
        self.dead_in_a_row = 0

    def died(self, now: datetime) -> None:
        """One of its deliveries ended dead; the tenth in a row disables it, with its event."""
        self.dead_in_a_row += 1
        if self.enabled and self.dead_in_a_row >= DEAD_IN_A_ROW_TO_DISABLE:
            self.disable(now, f"the last {self.dead_in_a_row} deliveries all ended dead")
            self.record("disabled", now)

    def public(self) -> dict[str, Any]:
        """Without the secret: it is shown once, when made (see `with_secret`)."""
        return {"id": self.id, "url": self.url, "events": list(self.event_types), "description": self.description,
                "status": str(self.status), "disabledReason": self.disabled_reason,
                "createdAt": iso(self.created_at), "updatedAt": iso(self.updated_at)}

    def with_secret(self) -> dict[str, Any]:
        return {**self.public(), "secret": self.secret}


# --- deliveries ----------------------------------------------------------------------------
class Rng(Protocol):
    def uniform(self, a: float, b: float) -> float: ...


@dataclass(frozen=True)
class RetrySchedule:
    """The waits after each failed try; past the last, a delivery is dead."""

    waits: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE
    jitter: float = JITTER

    @classmethod
    def parse(cls, text: str) -> RetrySchedule:
        """Comma-separated seconds, such as "5,300,1800"; ValueError naming what is wrong."""
        try:
            waits = tuple(float(part) for part in text.split(","))
        except ValueError:
            raise ValueError(f"{text!r} is not a comma-separated list of seconds") from None
        if not waits or any(not 0 < w <= 30 * 86400 for w in waits):
            raise ValueError("give at least one wait, each more than 0 and at most 30 days (in seconds)")
        return cls(waits)

    def next_try(self, failed_tries: int, now: datetime, rng: Rng) -> datetime | None:
        """When to try again after `failed_tries` tries failed (1 for the first); None: no more tries."""
        if failed_tries > len(self.waits):
            return None
        wait = self.waits[failed_tries - 1]
        return now + timedelta(seconds=wait * (1 + rng.uniform(-self.jitter, self.jitter)))


@dataclass(frozen=True)
class SendResult:
    """What one POST came to: the status code of an answer, or why there was none."""

    status_code: int | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass
class WebhookDelivery:
    """One event owed to one endpoint. Tries count when they start (at the claim): a try whose process
    died may have reached the endpoint, and deliveries are at least once."""

    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    status: WebhookDeliveryStatus
    created_at: datetime
    updated_at: datetime
    next_attempt_at: datetime | None
    attempts: int = 0
    last_status_code: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    # New events (webhook_delivery.*, for admins' live views; never sent to endpoints).
    events: list[Event] = field(default_factory=list, repr=False, compare=False)

    def succeeded(self, status_code: int, now: datetime) -> None:
        self._leave_flight(now)
        self.status = WebhookDeliveryStatus.DELIVERED
        self.last_status_code, self.last_error = status_code, None
        self.delivered_at, self.next_attempt_at = now, None
        self._emit(now)

    def failed(self, result: SendResult, schedule: RetrySchedule, now: datetime, rng: Rng) -> None:
        """Failed, with the next try on the schedule; or dead when the schedule is spent."""
        self._leave_flight(now)
        self.last_status_code = result.status_code
        self.last_error = (result.error or f"HTTP {result.status_code}")[:MAX_ERROR]
        self.next_attempt_at = schedule.next_try(self.attempts, now, rng)
        self.status = WebhookDeliveryStatus.FAILED if self.next_attempt_at else WebhookDeliveryStatus.DEAD
        self._emit(now)

    def send_again(self, now: datetime) -> None:
        """On request: due now, whatever its status (a dead one too). Should this try fail too, a
        delivery past its schedule is dead again at once."""
        self.status = WebhookDeliveryStatus.PENDING
        self.next_attempt_at = now
        self.updated_at = now
        self._emit(now)

    @property
    def dead(self) -> bool:
        return self.status == WebhookDeliveryStatus.DEAD

    def _emit(self, now: datetime) -> None:
        """webhook_delivery.<its new status>: the delivery log's live updates."""
        self.events.append(Event(f"webhook_delivery.{self.status}", self.public(), now, aggregate_id=self.id))

    def _leave_flight(self, now: datetime) -> None:
        if self.status in (WebhookDeliveryStatus.DELIVERED, WebhookDeliveryStatus.DEAD):
            raise IllegalTransition(f"delivery {self.id} is {self.status}; only a retry sends it again")
        self.lease_owner = self.lease_expires_at = None
        self.updated_at = now

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "endpointId": self.endpoint_id, "eventId": self.event_id,
                "eventType": self.event_type, "status": str(self.status), "attempts": self.attempts,
                "lastStatusCode": self.last_status_code, "lastError": self.last_error,
                "nextAttemptAt": iso(self.next_attempt_at), "deliveredAt": iso(self.delivered_at),
                "createdAt": iso(self.created_at), "updatedAt": iso(self.updated_at)}


@dataclass(frozen=True)
class Claimed:
    """A delivery leased to one process, with what the POST needs."""

    delivery: WebhookDelivery
    url: str
    secret: str
    event: Event


def owed(event: Event, endpoints: list[WebhookEndpoint], new_id: Callable[[], str]) -> list[WebhookDelivery]:
    """The deliveries `event` makes: one for each of `endpoints` that is enabled and subscribed to its
    type (only public types go to endpoints), due at once."""
    if not is_public(event.type):
        return []
    return [WebhookDelivery(new_id(), e.id, event.id, event.type, WebhookDeliveryStatus.PENDING,
                            created_at=event.created_at, updated_at=event.created_at,
                            next_attempt_at=event.created_at)
            for e in endpoints if e.wants(event.type)]
