"""Idempotency keys: one creation per (caller, key); the same request again gets the first result.

A key is stored with a fingerprint of the request and the resource it created, in the same
transaction as the resource. The unique (caller, key) pair decides races: the loser finds the
winner's record and replays it, or learns that the key was used for something else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from domain.model.errors import DuplicateKey, IdempotencyKeyInUse, IdempotencyKeyReused, NotFound
from domain.ports import UnitOfWork, UnitOfWorkFactory

T = TypeVar("T")


def find_replay(uow: UnitOfWorkFactory, scope: str, key: str, fingerprint: str, resource_type: str,
                load: Callable[[UnitOfWork, str], T | None]) -> T | None:
    """The resource an earlier identical request created with this key, or None for a new key."""
    with uow(read_only=True) as tx:
        record = tx.idempotency.get(scope, key)
        if record is None:
            return None
        if record.fingerprint != fingerprint or record.resource_type != resource_type:
            raise IdempotencyKeyReused("this idempotency key was used with a different request")
        resource = load(tx, record.resource_id)
    if resource is None:  # pragma: no cover - the record and its resource are written together
        raise NotFound(f"{resource_type} not found")
    return resource


def create_once(create: Callable[[], T], replay: Callable[[], T | None] | None) -> tuple[T, bool]:
    """Run `create`; when its key turns out to be taken, return (`replay()`, True) instead.

    `replay` is None for a request without a key. A taken key whose record is not visible yet
    belongs to a request still in flight: IdempotencyKeyInUse (409).
    """
    try:
        return create(), False
    except DuplicateKey:
        found = replay() if replay is not None else None
        if found is None:
            raise IdempotencyKeyInUse("this idempotency key is being used by another request") from None
        return found, True
