"""User management with fakes: validation, self-protection of admins, no hash leaks, outbox events."""

import pytest

from domain.clock import FakeClock
from domain.model.errors import Conflict, NotFound, ValidationFailed
from domain.services.users import UserService
from tests.fakes import FakeHasher, FakeUnitOfWorkFactory, make_user


@pytest.fixture
def uow() -> FakeUnitOfWorkFactory:
    return FakeUnitOfWorkFactory()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def service(uow, clock) -> UserService:
    return UserService(uow, FakeHasher(), clock)


@pytest.fixture
def admin(uow):
    return uow.put_user(make_user(role="admin", email="admin@example.com", user_id="usr_admin"))


def test_creating_a_user_stores_it_with_a_hashed_password_and_a_normalized_email(service, uow):
    user = service.create(email="  Alice@Example.COM ", password="s3cret-pass", name=" Alice ")

    stored = uow.state.users[user.id]
    assert stored.email == "alice@example.com"
    assert stored.name == "Alice"
    assert stored.role == "customer"
    assert stored.password_hash == "hashed:s3cret-pass"
    assert stored.active is True
    assert user.id.startswith("usr_")


def test_creating_a_user_writes_a_user_created_event_in_the_same_commit(service, uow):
    user = service.create(email="a@example.com", password="s3cret-pass", name="A")

    assert uow.commits == 1
    assert [(e.type, e.aggregate_id) for e in uow.events()] == [("user.created", user.id)]
    assert uow.events()[0].data == user.public()


def test_a_second_user_with_the_same_email_in_another_case_is_a_conflict(service, uow):
    service.create(email="a@example.com", password="s3cret-pass", name="A")

    with pytest.raises(Conflict):
        service.create(email="A@EXAMPLE.com", password="other-pass", name="B")

    assert len(uow.state.users) == 1
    assert uow.event_types() == ["user.created"]


@pytest.mark.parametrize("password", ["", "1234567"])
def test_a_password_shorter_than_eight_characters_is_refused(service, uow, password):
    with pytest.raises(ValidationFailed) as raised:
        service.create(email="a@example.com", password=password, name="A")

    assert [d.field for d in raised.value.details] == ["password"]
    assert uow.state.users == {}


def test_a_password_of_exactly_eight_characters_is_accepted(service, uow):
    user = service.create(email="a@example.com", password="12345678", name="A")

    assert uow.state.users[user.id].password_hash == "hashed:12345678"


@pytest.mark.parametrize("role", ["superuser", "", "Admin"])
def test_an_unknown_role_is_refused_naming_the_field(service, uow, role):
    with pytest.raises(ValidationFailed) as raised:
        service.create(email="a@example.com", password="s3cret-pass", name="A", role=role)

    assert [d.field for d in raised.value.details] == ["role"]
    assert uow.state.users == {}


@pytest.mark.parametrize(("field", "values"), [
    ("email", {"email": "not-an-email"}),
    ("name", {"name": "   "}),
    ("name", {"name": "x" * 101}),
])
def test_invalid_email_or_name_is_refused_naming_the_field(service, field, values):
    raw = {"email": "a@example.com", "password": "s3cret-pass", "name": "A", **values}

    with pytest.raises(ValidationFailed) as raised:
        service.create(**raw)

    assert [d.field for d in raised.value.details] == [field]


def test_the_public_view_of_a_user_never_contains_the_password_or_its_hash(service):
    user = service.create(email="a@example.com", password="s3cret-pass", name="A")

    shown = repr(user.public())

    assert "s3cret-pass" not in shown
    assert "hashed:" not in shown
    assert set(user.public()) == {"id", "email", "name", "role", "active", "createdAt", "updatedAt"}


def test_an_admin_updates_another_user_and_an_event_is_written(service, uow, admin, clock):
    user = service.create(email="a@example.com", password="s3cret-pass", name="A")
    clock.advance(60)

    updated = service.update(admin, user.id, name="Alice", role="admin", password="new-password",
                             active=False)

    stored = uow.state.users[user.id]
    assert (stored.name, stored.role, stored.active) == ("Alice", "admin", False)
    assert stored.password_hash == "hashed:new-password"
    assert stored.updated_at == clock.now() and stored.created_at < stored.updated_at
    assert updated == stored
    assert uow.event_types() == ["user.created", "user.updated"]
    assert uow.events()[-1].data == stored.public()


def test_an_update_changes_only_the_fields_given(service, uow, admin):
    user = service.create(email="a@example.com", password="s3cret-pass", name="A")

    service.update(admin, user.id, name="Renamed")

    stored = uow.state.users[user.id]
    assert (stored.name, stored.role, stored.active, stored.password_hash) == (
        "Renamed", "customer", True, "hashed:s3cret-pass")


def test_an_update_with_a_short_password_is_refused_and_changes_nothing(service, uow, admin):
    user = service.create(email="a@example.com", password="s3cret-pass", name="A")

    with pytest.raises(ValidationFailed):
        service.update(admin, user.id, name="Renamed", password="short")

    assert uow.state.users[user.id].name == "A"
    assert uow.event_types() == ["user.created"]


def test_an_admin_cannot_demote_themself(service, uow, admin):
    with pytest.raises(Conflict):
        service.update(admin, admin.id, role="customer")

    assert uow.state.users[admin.id].role == "admin"
    assert uow.events() == []


def test_an_admin_cannot_deactivate_themself(service, uow, admin):
    with pytest.raises(Conflict):
        service.update(admin, admin.id, active=False)

    assert uow.state.users[admin.id].active is True


def test_an_admin_may_rename_themself_and_keep_the_admin_role(service, uow, admin):
    service.update(admin, admin.id, name="Boss", role="admin")

    assert uow.state.users[admin.id].name == "Boss"
    assert uow.state.users[admin.id].role == "admin"


def test_an_admin_may_demote_another_admin(service, uow, admin):
    other = uow.put_user(make_user(role="admin", email="other@example.com", user_id="usr_other"))

    service.update(admin, other.id, role="customer")

    assert uow.state.users[other.id].role == "customer"


def test_an_admin_cannot_delete_themself(service, uow, admin):
    with pytest.raises(Conflict):
        service.delete(admin, admin.id)

    assert admin.id in uow.state.users
    assert uow.events() == []


def test_deleting_a_user_removes_it_and_writes_an_event_in_the_same_commit(service, uow, admin):
    user = service.create(email="a@example.com", password="s3cret-pass", name="A")
    commits_before = uow.commits

    service.delete(admin, user.id)

    assert user.id not in uow.state.users
    assert uow.commits == commits_before + 1
    assert uow.events()[-1].type == "user.deleted"
    assert uow.events()[-1].aggregate_id == user.id


def test_updating_or_deleting_an_unknown_user_is_not_found(service, admin):
    with pytest.raises(NotFound):
        service.update(admin, "usr_missing", name="X")
    with pytest.raises(NotFound):
        service.delete(admin, "usr_missing")
    with pytest.raises(NotFound):
        service.get("usr_missing")


def test_users_are_listed_oldest_first(service, clock):
    first = service.create(email="a@example.com", password="s3cret-pass", name="A")
    clock.advance(1)
    second = service.create(email="b@example.com", password="s3cret-pass", name="B")

    assert [u.id for u in service.list()] == [first.id, second.id]


def test_every_field_at_fault_is_named_at_once_and_nothing_is_created(service, uow):
    with pytest.raises(ValidationFailed) as raised:
        service.create(email="not-an-email", password="short", name="  ", role="owner")

    assert [d.field for d in raised.value.details] == ["email", "password", "name", "role"]
    assert uow.state.users == {}
