"""What a list paged newest first with cursors shares: where it is, and the steps between pages."""

from __future__ import annotations

from app.bootstrap import Container
from app.pages.guard import still_signed_in
from domain.model.users import User


class CursorPaging:
    """Mixed into a list page that has `container`, `user`, `cursors` (the cursor of each page up to this one,
    `[None]` on the first) and an async `reload()` reading the page of `cursors[-1]`."""

    container: Container
    user: User
    cursors: list[str | None]

    async def reload(self) -> None:
        raise NotImplementedError

    @property
    def on_first_page(self) -> bool:
        return len(self.cursors) == 1

    async def signed_in(self) -> bool:
        """Check the session again before a read the person asks for; follow the user as they are now."""
        user = await still_signed_in(self.container)
        if user is not None:
            self.user = user
        return user is not None

    async def newer(self) -> None:
        if await self.signed_in() and not self.on_first_page:  # a second click may come before the redraw
            self.cursors.pop()
            await self.reload()

    async def older(self, cursor: str) -> None:
        if await self.signed_in():
            self.cursors.append(cursor)
            await self.reload()
