"""WS /api/ws?token=: the event stream (a customer gets their own events, an admin all)."""

from __future__ import annotations

import asyncio
import contextlib
import json

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from app.api.deps import user_from_token
from domain.events import Event

router = APIRouter(tags=["events"])

QUEUE_LIMIT = 1000


@router.websocket("/api/ws")
async def event_stream(websocket: WebSocket, token: str | None = None) -> None:
    c = websocket.app.state.container
    user = await run_in_threadpool(user_from_token, c, token)
    if user is None:
        await websocket.close(code=1008, reason="invalid or missing token")
        return
    await websocket.accept()
    queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_LIMIT)

    def deliver(event: Event) -> None:
        if event.type.startswith("user."):
            return
        if user.is_admin or event.customer_id == user.id:
            if queue.full():  # a client that does not read loses the oldest events, not the server
                queue.get_nowait()
            queue.put_nowait(event)

    unsubscribe = c.hub.subscribe(deliver)

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
                await websocket.send_text(json.dumps(getter.result().public()))
            else:
                getter.cancel()
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        unsubscribe()
        reader.cancel()
