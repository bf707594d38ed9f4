"""User management (admin only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from app.api.deps import AdminUser, ContainerDep
from app.api.errors import responses
from app.api.schemas import UserCreate, UserList, UserPublic, UserUpdate

router = APIRouter(prefix="/api/users", tags=["users"], responses=responses(401, 403))
UserId = Annotated[str, Path(alias="userId")]


@router.get("", response_model=UserList)
def list_users(_admin: AdminUser, c: ContainerDep) -> dict[str, Any]:
    """All users, oldest first."""
    return {"data": [u.public() for u in c.users.list()]}


@router.post("", status_code=201, response_model=UserPublic, responses=responses(400, 409, 422))
def create_user(body: UserCreate, _admin: AdminUser, c: ContainerDep) -> dict[str, Any]:
    """Create a user with a role; a taken email is 409."""
    return c.users.create(email=body.email, password=body.password, name=body.name, role=body.role).public()


@router.get("/{userId}", response_model=UserPublic, responses=responses(404))
def get_user(user_id: UserId, _admin: AdminUser, c: ContainerDep) -> dict[str, Any]:
    """One user."""
    return c.users.get(user_id).public()


@router.put("/{userId}", response_model=UserPublic, responses=responses(400, 404, 409, 422))
def update_user(user_id: UserId, body: UserUpdate, admin: AdminUser, c: ContainerDep) -> dict[str, Any]:
    """Change name, role, password or active; an admin cannot demote or deactivate themself (409)."""
    return c.users.update(admin, user_id, name=body.name, role=body.role, password=body.password,
                          active=body.active).public()


@router.delete("/{userId}", status_code=204, responses=responses(404, 409))
def delete_user(user_id: UserId, admin: AdminUser, c: ContainerDep) -> Response:
    """Delete a user; an admin cannot delete themself (409)."""
    c.users.delete(admin, user_id)
    return Response(status_code=204)
