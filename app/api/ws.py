"""WS /api/ws?token=: the event stream (a customer gets their own events, an admin all)."""

from __future__ import annotations

import asyncio
import contextlib
import json

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from app.api.deps import user_from_token
from app.bootstrap import Container
from domain.events import Event
from domain.users import User

router = APIRouter(tags=["events"])

QUEUE_LIMIT = 1000
REPLAY_LIMIT = 5000


def visible(event: Event, user: User) -> bool:
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
    user = await run_in_threadpool(user_from_token, c, token)
    if user is None:
        await websocket.close(code=1008, reason="invalid or missing token")
        return
    await websocket.accept()
    queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_LIMIT)
    sent: set[str] = set()

    def deliver(event: Event) -> None:
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

    reader = asyncio.create_task(drain_client())
    try:
        while not reader.done():
            getter = asyncio.create_task(queue.get())
            done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
            if getter in done:
                event = getter.result()
                if event.id not in sent:
                    await websocket.send_text(json.dumps(event.public()))
            else:
                getter.cancel()
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        unsubscribe()
        reader.cancel()
