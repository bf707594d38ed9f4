"""WS /api/ws?token=: the event stream (a customer gets their own events, an admin all).

The socket is checked again while it is open: every RECHECK_SECONDS, and at once when a `user.*`
event about its user goes by. It is closed with 4401 when its token expires or stops speaking for
the user (deleted, deactivated, password changed) or when an admin's socket loses the admin role.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from app.api.deps import cached_user, token_user
from app.bootstrap import Container
from app.security import TokenClaims
from domain.model.events import Event
from domain.model.users import User

router = APIRouter(tags=["events"])

QUEUE_LIMIT = 1000
REPLAY_LIMIT = 5000
RECHECK_SECONDS = 1.0
REVOKED = 4401  # the application's "unauthorized" close code


def still_allowed(claims: TokenClaims, was: User, now: User | None, at: float) -> bool:
    """Whether a socket opened as `was` may go on as `now`, the user as stored at Unix time `at`."""
    if at >= claims.expires_at or not claims.admits(now):
        return False
    assert now is not None
    return not (was.is_admin and not now.is_admin)


def visible(event: Event, user: User) -> bool:
    if event.type == "webhook_endpoint.disabled":  # a public event type, for admins only
        return user.is_admin
    if not event.type.startswith(("payment.", "order.")):
        return False
    return user.is_admin or event.customer_id == user.id


def missed_events(c: Container, user: User, after: str) -> list[Event]:
    """Events after the one with id `after` that this user may see (for a client that reconnects)."""
    with c.uow(read_only=True) as uow:
        seq = uow.outbox.seq_of(after)
        if seq is None:
            return []
        events: list[Event] = []
        while len(events) < REPLAY_LIMIT:
            batch = uow.outbox.after(seq, 500)
            if not batch:
                break
            events += [e for e in batch if visible(e, user)]
            seq = batch[-1].seq or seq
    return events[:REPLAY_LIMIT]


@router.websocket("/api/ws")
async def event_stream(websocket: WebSocket, token: str | None = None, after: str | None = None) -> None:
    """Stream events as JSON text frames. `after=<event id>` first replays what a reconnecting client missed."""
    c = websocket.app.state.container
    found = await token_user(c, token)
    if found is None:
        await websocket.close(code=1008, reason="invalid or missing token")
        return
    claims, user = found
    opened_as = user
    await websocket.accept()
    queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_LIMIT)
    sent: set[str] = set()
    recheck = asyncio.Event()

    def deliver(event: Event) -> None:
        if event.type.startswith("user.") and event.aggregate_id == user.id:
            # Queued in order: nothing after this event is sent before the user is checked again.
            if queue.full():
                recheck.set()
            else:
                queue.put_nowait(event)
            return
        if visible(event, user):
            if queue.full():  # a client that does not read loses the oldest events, not the server
                queue.get_nowait()
            queue.put_nowait(event)

    unsubscribe = c.hub.subscribe(deliver)  # first, so nothing falls between the replay and the live stream
    if after:
        for event in await run_in_threadpool(missed_events, c, user, after):
            sent.add(event.id)
            await websocket.send_text(json.dumps(event.public()))

    async def drain_client() -> None:
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await websocket.receive_text()

    async def allowed() -> bool:
        nonlocal user
        # The user cache forgets a user on any user.* event (it subscribed to the hub before us), so
        # a cached entry is never older than the change that revokes this socket.
        current = await cached_user(c, user.id)
        if not still_allowed(claims, opened_as, current, time.time()):
            return False
        assert current is not None, "still_allowed admits no missing user"
        user = current
        return True

    reader = asyncio.create_task(drain_client())
    next_check = time.monotonic() + RECHECK_SECONDS
    try:
        while not reader.done():
            if recheck.is_set() or time.monotonic() >= next_check:
                recheck.clear()
                next_check = time.monotonic() + RECHECK_SECONDS
                if not await allowed():
                    await websocket.close(code=REVOKED, reason="the token no longer grants access")
                    break
            getter = asyncio.create_task(queue.get())
            timeout = max(0.0, next_check - time.monotonic())
            done, _ = await asyncio.wait({getter, reader}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                getter.cancel()
                continue
            event = getter.result()
            if event.type.startswith("user."):
                recheck.set()
            elif event.id not in sent and visible(event, user):
                await websocket.send_text(json.dumps(event.public()))
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        unsubscribe()
        reader.cancel()
