"""Cards on their way to a provider whose tokens are made by a call: held in this process's memory only.

Stripe makes a card into a PaymentMethod with an API call, and every call waits for a token of the
provider's bucket. Rather than make the customer's request wait behind the queue, the request leaves
the card here, keyed by the payment id, and the drain of this same process makes the PaymentMethod as
its first call for the payment (docs/providers.md). The card is never written anywhere: not to the
database, not to a log (CardInput's repr hides it). It leaves the vault when the provider has made
its token, when the payment ends, or after `ttl`. If the process dies first, the card is gone, and
the payment fails with `card_unavailable` unless a charge stands somewhere (which a lookup finds).
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from domain.clock import Clock
from domain.model.cards import CardInput


class CardVault:
    def __init__(self, clock: Clock, ttl: timedelta = timedelta(minutes=30)) -> None:
        self.clock = clock
        self.ttl = ttl
        self._cards: dict[str, tuple[CardInput, datetime]] = {}
        self._lock = threading.Lock()

    def put(self, payment_id: str, card: CardInput) -> None:
        with self._lock:
            self._cards[payment_id] = (card, self.clock.now() + self.ttl)

    def get(self, payment_id: str) -> CardInput | None:
        with self._lock:
            entry = self._cards.get(payment_id)
            if entry is None:
                return None
            if entry[1] <= self.clock.now():
                del self._cards[payment_id]
                return None
            return entry[0]

    def drop(self, payment_id: str) -> None:
        with self._lock:
            self._cards.pop(payment_id, None)

    def held(self) -> list[str]:
        """The payment ids whose cards are here (and not expired)."""
        now = self.clock.now()
        with self._lock:
            for pid in [pid for pid, (_, until) in self._cards.items() if until <= now]:
                del self._cards[pid]
            return list(self._cards)
