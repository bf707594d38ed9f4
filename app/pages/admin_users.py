"""User Management (admin): list, create with a role, edit, reset a password, delete."""

from __future__ import annotations

from nicegui import run, ui
from starlette.responses import RedirectResponse

from app.bootstrap import Container
from app.pages.frame import add_nav, frame
from app.pages.guard import require_admin
from app.pages.widgets import attempt, confirm
from domain.model.users import ROLES, User

TITLE = "User Management"


def register(container: Container) -> None:
    add_nav(TITLE, "/admin/users", "manage_accounts", admin=True)

    @ui.page("/admin/users")
    def users_page() -> RedirectResponse | None:
        admin = require_admin(container, TITLE)
        if not isinstance(admin, User):
            return admin
        with frame(TITLE, admin):
            create_form(admin)
            users_table(admin)
        return None

    def create_form(admin: User) -> None:
        with ui.expansion("Create a user", icon="person_add").classes("w-full border rounded").mark("create-user"):
            with ui.row().classes("w-full gap-2 items-start flex-wrap"):
                email = ui.input("Email").props("outlined type=email").classes("w-64").mark("new-email")
                name = ui.input("Name").props("outlined").classes("w-48").mark("new-name")
                password = ui.input("Password", password=True).props("outlined").classes("w-48").mark("new-password")
                role = ui.select(list(ROLES), value="customer", label="Role").props("outlined").classes("w-36") \
                    .mark("new-role")
            error = ui.label("").classes("text-negative text-sm")
            fields = {"email": email, "name": name, "password": password, "role": role}

            async def create() -> None:
                ok, user = await attempt(lambda: run.io_bound(
                    container.users.create, email=email.value or "", password=password.value or "",
                    name=name.value or "", role=role.value), fields, error)
                if not ok:
                    return
                email.value = name.value = password.value = ""
                ui.notify(f"Created {user.email}", type="positive")
                users_table.refresh()

            ui.button("Create user", icon="add", on_click=create).mark("create-user-button")

    @ui.refreshable
    def users_table(admin: User) -> None:
        users = container.users.list()
        if not users:
            ui.label("No users yet.").mark("empty-state")
            return
        with ui.column().classes("w-full gap-2").mark("users-list"):
            for u in users:
                user_row(admin, u)

    def user_row(admin: User, u: User) -> None:
        is_self = u.id == admin.id
        with ui.card().classes("w-full").mark(f"user-{u.email}"), \
                ui.row().classes("w-full items-center gap-2 flex-wrap"):
                name = ui.input("Name", value=u.name).props("outlined dense").classes("w-48")
                ui.label(u.email).classes("w-64 font-mono text-sm")
                role = ui.select(list(ROLES), value=u.role, label="Role").props("outlined dense").classes("w-32")
                active = ui.switch("Active", value=u.active)
                if is_self:
                    role.disable()
                    active.disable()
                new_password = ui.input("New password", password=True).props("outlined dense").classes("w-40")
                error = ui.label("").classes("text-negative text-sm")

                async def save() -> None:
                    ok, _ = await attempt(lambda: run.io_bound(
                        container.users.update, admin, u.id, name=name.value, role=role.value, active=active.value,
                        password=new_password.value or None), {"name": name, "password": new_password}, error)
                    if not ok:
                        return
                    ui.notify(f"Saved {u.email}", type="positive")
                    users_table.refresh()

                async def delete() -> None:
                    if not await confirm(f"Delete {u.email}? This cannot be undone."):
                        return
                    ok, _ = await attempt(lambda: run.io_bound(container.users.delete, admin, u.id), {}, error)
                    if not ok:
                        return
                    ui.notify(f"Deleted {u.email}")
                    users_table.refresh()

                ui.button("Save", icon="save", on_click=save).props("flat dense").mark("save-user")
                delete_button = ui.button("Delete", icon="delete", on_click=delete).props("flat dense color=negative") \
                    .mark(f"delete-{u.email}")
                if is_self:
                    delete_button.disable()
                    ui.label("This is you: you cannot delete yourself or remove your own admin role.") \
                        .classes("text-xs text-grey-7").mark("self-note")
