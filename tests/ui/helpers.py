"""Steps shared by the UI tests."""

from __future__ import annotations

from nicegui.testing import User


async def sign_in(user: User, email: str = "customer@example.com", password: str = "password123") -> None:
    await user.open("/login")
    user.find(marker="email").type(email)
    user.find(marker="password").type(password)
    user.find(marker="sign-in").click()
    await user.should_see(marker="user-name", retries=50)
