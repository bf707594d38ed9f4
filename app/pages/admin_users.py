"""User Management (admin): list, create with a role, edit, reset a password, delete."""

from __future__ import annotations

import asyncio

from nicegui import run, ui

from app.bootstrap import Container
from app.pages.guard import page, still_signed_in
from app.pages.widgets import attempt, confirm, empty_state
from domain.model.users import MAX_NAME_LENGTH, MIN_PASSWORD_LENGTH, ROLES, User

TITLE = "User Management"


class UserList:
    """Every account, each editable in its row; the signed-in admin's own row keeps its role and cannot go."""

    def __init__(self, container: Container, admin: User) -> None:
        self.container = container
        self.admin = admin
        self.users: list[User] = []
        self._reading = asyncio.Lock()  # reads in turn, so an older one cannot overwrite a newer one's result

    async def reload(self) -> None:
        async with self._reading:
            users = await run.io_bound(self.container.users.list)
            if users is None:  # run.io_bound's None: the app is stopping
                return
            self.users = users
        self.draw.refresh()

    def create_form(self) -> None:
        with ui.expansion("Create a user", icon="person_add").classes("w-full border rounded").mark("create-user") \
                as self.create_box:
            with ui.row().classes("w-full gap-2 items-start flex-wrap"):
                email = ui.input("Email").props("outlined type=email").classes("w-64").mark("new-email")
                email.props["hint"] = "name@example.com"
                name = ui.input("Name").props("outlined").classes("w-48").mark("new-name")
                name.props["hint"] = f"Up to {MAX_NAME_LENGTH} characters"
                password = ui.input("Password", password=True).props("outlined").classes("w-48").mark("new-password")
                password.props["hint"] = f"At least {MIN_PASSWORD_LENGTH} characters"
                role = ui.select(list(ROLES), value="customer", label="Role").props("outlined").classes("w-36") \
                    .mark("new-role")
            error = ui.label("").classes("text-negative text-sm")
            fields = {"email": email, "name": name, "password": password, "role": role}

            async def create() -> None:
                if await still_signed_in(self.container, admin_only=True) is None:
                    return
                ok, user = await attempt(lambda: run.io_bound(
                    self.container.users.create, email=email.value or "", password=password.value or "",
                    name=name.value or "", role=role.value), fields, error)
                if not ok or user is None:  # None: run.io_bound's, the app is stopping
                    return
                email.value = name.value = password.value = ""
                ui.notify(f"Created {user.email}", type="positive")
                await self.reload()

            ui.button("Create user", icon="add", on_click=create).mark("create-user-button")

    def open_create_form(self) -> None:
        self.create_box.open()

    @ui.refreshable_method
    def draw(self) -> None:
        if not self.users:
            empty_state("group", "No users yet.", "Create a user", self.open_create_form)
            return
        with ui.column().classes("w-full gap-2").mark("users-list"):
            for u in self.users:
                self._row(u)

    def _row(self, u: User) -> None:
        container, users = self.container, self.container.users
        is_self = u.id == self.admin.id
        with ui.card().classes("w-full").mark(f"user-{u.email}"), \
                ui.row().classes("w-full items-center gap-2 flex-wrap"):
            name = ui.input("Name", value=u.name).props("outlined dense").classes("w-48").mark(f"name-{u.email}")
            ui.label(u.email).classes("w-64 font-mono text-sm")
            role = ui.select(list(ROLES), value=u.role, label="Role").props("outlined dense").classes("w-32")
            active = ui.switch("Active", value=u.active)
            if is_self:
                role.disable()
                active.disable()
            new_password = ui.input("New password", password=True).props("outlined dense").classes("w-40")
            error = ui.label("").classes("text-negative text-sm")

            async def save() -> None:
                admin = await still_signed_in(container, admin_only=True)
                if admin is None:
                    return
                # Only what was changed in this row: a row drawn before another admin's change leaves it be.
                changes = {key: value for key, value, shown in [("name", name.value, u.name),
                                                                ("role", role.value, u.role),
                                                                ("active", active.value, u.active)] if value != shown}
                ok, _ = await attempt(lambda: run.io_bound(
                    users.update, admin, u.id, **changes, password=new_password.value or None),
                    {"name": name, "password": new_password}, error)
                if ok:
                    ui.notify(f"Saved {u.email}", type="positive")
                    await self.reload()

            async def delete() -> None:
                if not await confirm(f"Delete {u.email}? This cannot be undone."):
                    return
                admin = await still_signed_in(container, admin_only=True)
                if admin is None:
                    return
                ok, _ = await attempt(lambda: run.io_bound(users.delete, admin, u.id), {}, error)
                if ok:
                    ui.notify(f"Deleted {u.email}")
                    await self.reload()

            ui.button("Save", icon="save", on_click=save).props("flat dense").mark("save-user", f"save-{u.email}")
            delete_button = ui.button("Delete", icon="delete", on_click=delete).props("flat dense color=negative") \
                .mark(f"delete-{u.email}")
            if is_self:
                delete_button.disable()
                ui.label("This is you: you cannot delete yourself or remove your own admin role.") \
                    .classes("text-xs text-grey-7").mark("self-note")


def register(container: Container) -> None:
    @page(container, "/admin/users", TITLE, "manage_accounts", admin_only=True)
    async def users_page(admin: User) -> None:
        users = UserList(container, admin)
        await users.reload()
        users.create_form()
        users.draw()
