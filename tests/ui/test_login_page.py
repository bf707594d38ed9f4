"""Sign-in and the page frame, through NiceGUI's simulated user."""

from nicegui.testing import User

from tests.ui.helpers import sign_in


async def test_a_signed_out_visitor_is_sent_to_the_login_page(user: User):
    await user.open("/")

    await user.should_see(marker="sign-in")


async def test_a_wrong_password_shows_a_clear_message_and_stays_signed_out(user: User):
    await user.open("/login")

    user.find(marker="email").type("customer@example.com")
    user.find(marker="password").type("not-the-password")
    user.find(marker="sign-in").click()

    await user.should_see("Wrong email or password", retries=50)
    await user.should_not_see(marker="user-name")


async def test_a_customer_signs_in_and_sees_their_name_and_role_but_no_admin_entries(user: User):
    await sign_in(user)

    await user.should_see("Demo Customer")
    await user.should_see("customer")
    await user.should_see(marker="nav-home")
    await user.should_not_see(marker="nav-admin-users")


async def test_an_admin_sees_the_admin_navigation(user: User):
    await sign_in(user, "admin@example.com", "admin123")

    await user.should_see(marker="nav-admin-users")


async def test_signing_out_returns_to_the_login_page(user: User):
    await sign_in(user)

    user.find(marker="sign-out").click()

    await user.should_see(marker="sign-in")
    await user.open("/")
    await user.should_see(marker="sign-in")
