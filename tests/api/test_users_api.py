"""User management over HTTP: admin-only CRUD, validation, self-protection, no password leaks."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient

USERS = "/api/users"
NEW_USER = {"email": "new.user@example.com", "password": "long-enough-1", "name": "New User",
            "role": "customer"}


def user_id_of(client: TestClient, headers: dict[str, str]) -> str:
    return client.get("/api/auth/me", headers=headers).json()["id"]


def assert_no_password_in(response: httpx.Response) -> None:
    assert "$argon2" not in response.text
    assert "password" not in response.text.lower()


# --- the admin's CRUD -----------------------------------------------------------------------
def test_an_admin_lists_every_user(client: TestClient, admin_headers: dict[str, str]) -> None:
    response = client.get(USERS, headers=admin_headers)

    assert response.status_code == 200
    emails = {u["email"] for u in response.json()["data"]}
    assert {"customer@example.com", "admin@example.com"} <= emails
    assert_no_password_in(response)


def test_an_admin_creates_a_user_who_can_then_log_in(client: TestClient,
                                                     admin_headers: dict[str, str]) -> None:
    response = client.post(USERS, headers=admin_headers, json=NEW_USER)

    assert response.status_code == 201
    created = response.json()
    assert created["id"].startswith("usr_")
    assert (created["email"], created["name"], created["role"]) == (NEW_USER["email"], "New User", "customer")
    assert_no_password_in(response)
    login = client.post("/api/auth/login", json={k: NEW_USER[k] for k in ("email", "password")})
    assert login.status_code == 200
    assert login.json()["user"]["id"] == created["id"]


def test_an_admin_gets_one_user(client: TestClient, admin_headers: dict[str, str]) -> None:
    created = client.post(USERS, headers=admin_headers, json=NEW_USER).json()

    response = client.get(f"{USERS}/{created['id']}", headers=admin_headers)

    assert response.status_code == 200
    assert response.json() == created
    assert_no_password_in(response)


def test_getting_an_unknown_user_is_404(client: TestClient, admin_headers: dict[str, str]) -> None:
    response = client.get(f"{USERS}/usr_missing", headers=admin_headers)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_an_admin_changes_name_role_and_password(client: TestClient, admin_headers: dict[str, str]) -> None:
    created = client.post(USERS, headers=admin_headers, json=NEW_USER).json()

    response = client.put(f"{USERS}/{created['id']}", headers=admin_headers,
                          json={"name": "Renamed", "role": "admin", "password": "another-pass-2"})

    assert response.status_code == 200
    assert (response.json()["name"], response.json()["role"]) == ("Renamed", "admin")
    assert_no_password_in(response)
    old = client.post("/api/auth/login", json={"email": NEW_USER["email"], "password": NEW_USER["password"]})
    new = client.post("/api/auth/login", json={"email": NEW_USER["email"], "password": "another-pass-2"})
    assert old.status_code == 401
    assert new.status_code == 200
    assert new.json()["user"]["role"] == "admin"


def test_an_admin_deletes_a_user(client: TestClient, admin_headers: dict[str, str]) -> None:
    created = client.post(USERS, headers=admin_headers, json=NEW_USER).json()

    response = client.delete(f"{USERS}/{created['id']}", headers=admin_headers)

    assert response.status_code == 204
    assert response.content == b""
    assert client.get(f"{USERS}/{created['id']}", headers=admin_headers).status_code == 404


# --- who may --------------------------------------------------------------------------------
def every_users_call(target: str) -> list[tuple[str, str, dict | None]]:
    return [("GET", USERS, None), ("POST", USERS, NEW_USER), ("GET", f"{USERS}/{target}", None),
            ("PUT", f"{USERS}/{target}", {"name": "Hijacked"}), ("DELETE", f"{USERS}/{target}", None)]


def test_a_customer_gets_403_forbidden_on_every_users_endpoint(
        client: TestClient, admin_headers: dict[str, str], customer_headers: dict[str, str]) -> None:
    target = user_id_of(client, admin_headers)

    responses = [client.request(method, url, headers=customer_headers, json=body)
                 for method, url, body in every_users_call(target)]

    for response in responses:
        assert response.status_code == 403, response.request.url
        assert response.json()["error"]["code"] == "forbidden"
    assert client.get(f"{USERS}/{target}", headers=admin_headers).json()["name"] != "Hijacked"


def test_no_token_gets_401_on_every_users_endpoint(client: TestClient, admin_headers: dict[str, str]) -> None:
    target = user_id_of(client, admin_headers)

    responses = [client.request(method, url, json=body) for method, url, body in every_users_call(target)]

    for response in responses:
        assert response.status_code == 401, response.request.url
        assert response.json()["error"]["code"] == "unauthorized"


# --- validation and conflicts ---------------------------------------------------------------
def test_a_duplicate_email_is_409_conflict(client: TestClient, admin_headers: dict[str, str]) -> None:
    response = client.post(USERS, headers=admin_headers, json={**NEW_USER, "email": "Customer@Example.com"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


def test_an_unknown_field_on_create_is_422_naming_the_field_and_creates_nobody(
        client: TestClient, admin_headers: dict[str, str]) -> None:
    response = client.post(USERS, headers=admin_headers, json={**NEW_USER, "superuser": True})

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert [d["field"] for d in error["details"]] == ["superuser"]
    emails = [u["email"] for u in client.get(USERS, headers=admin_headers).json()["data"]]
    assert NEW_USER["email"] not in emails


def test_an_unknown_field_on_update_is_422_naming_the_field_and_changes_nothing(
        client: TestClient, admin_headers: dict[str, str], customer_headers: dict[str, str]) -> None:
    target = user_id_of(client, customer_headers)

    response = client.put(f"{USERS}/{target}", headers=admin_headers,
                          json={"name": "Changed", "superuser": True})

    assert response.status_code == 422
    assert [d["field"] for d in response.json()["error"]["details"]] == ["superuser"]
    assert client.get(f"{USERS}/{target}", headers=admin_headers).json()["name"] != "Changed"


def test_an_unknown_role_is_422_naming_role(client: TestClient, admin_headers: dict[str, str]) -> None:
    response = client.post(USERS, headers=admin_headers, json={**NEW_USER, "role": "root"})

    assert response.status_code == 422
    assert "role" in [d["field"] for d in response.json()["error"]["details"]]


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_a_short_password_is_422_naming_password(client: TestClient, admin_headers: dict[str, str],
                                                customer_headers: dict[str, str], method: str) -> None:
    url = USERS if method == "POST" else f"{USERS}/{user_id_of(client, customer_headers)}"
    body = {**NEW_USER, "password": "short"} if method == "POST" else {"password": "short"}

    response = client.request(method, url, headers=admin_headers, json=body)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert [d["field"] for d in error["details"]] == ["password"]
    assert "short" not in response.text


def test_an_admin_cannot_delete_themself(client: TestClient, admin_headers: dict[str, str]) -> None:
    me = user_id_of(client, admin_headers)

    response = client.delete(f"{USERS}/{me}", headers=admin_headers)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert client.get(f"{USERS}/{me}", headers=admin_headers).status_code == 200


def test_an_admin_cannot_demote_themself(client: TestClient, admin_headers: dict[str, str]) -> None:
    me = user_id_of(client, admin_headers)

    response = client.put(f"{USERS}/{me}", headers=admin_headers, json={"role": "customer"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert client.get(f"{USERS}/{me}", headers=admin_headers).json()["role"] == "admin"


def test_an_admin_cannot_deactivate_themself(client: TestClient, admin_headers: dict[str, str]) -> None:
    me = user_id_of(client, admin_headers)

    response = client.put(f"{USERS}/{me}", headers=admin_headers, json={"active": False})

    assert response.status_code == 409
    assert client.get(f"{USERS}/{me}", headers=admin_headers).json()["active"] is True


def test_an_admin_may_demote_another_admin(client: TestClient, admin_headers: dict[str, str]) -> None:
    other = client.post(USERS, headers=admin_headers, json={**NEW_USER, "role": "admin"}).json()

    response = client.put(f"{USERS}/{other['id']}", headers=admin_headers, json={"role": "customer"})

    assert response.status_code == 200
    assert response.json()["role"] == "customer"


# --- no password, in any form ---------------------------------------------------------------
def test_no_users_endpoint_ever_returns_a_password_or_its_hash(client: TestClient,
                                                              admin_headers: dict[str, str]) -> None:
    created = client.post(USERS, headers=admin_headers, json=NEW_USER)
    user_id = created.json()["id"]

    responses = [
        created,
        client.get(USERS, headers=admin_headers),
        client.get(f"{USERS}/{user_id}", headers=admin_headers),
        client.put(f"{USERS}/{user_id}", headers=admin_headers, json={"password": "changed-pass-3"}),
        client.get("/api/auth/me", headers=admin_headers),
        client.post("/api/auth/login", json={"email": NEW_USER["email"], "password": "changed-pass-3"}),
        client.delete(f"{USERS}/{user_id}", headers=admin_headers),
    ]

    for response in responses:
        assert response.status_code < 300, response.text
        assert "$argon2" not in response.text
        assert "changed-pass-3" not in response.text
        assert NEW_USER["password"] not in response.text
        if response.content:
            payload = response.json()
            users = payload["data"] if "data" in payload else [payload.get("user", payload)]
            for user in users:
                assert not any("password" in key.lower() or "hash" in key.lower() for key in user)


def test_a_deactivated_users_token_is_refused_at_once(client, admin_headers, new_customer):
    headers = new_customer("soon-gone@example.com")
    assert client.get("/api/auth/me", headers=headers).status_code == 200  # now in the user cache
    user_id = client.get("/api/auth/me", headers=headers).json()["id"]

    r = client.put(f"/api/users/{user_id}", headers=admin_headers, json={"active": False})

    assert r.status_code == 200
    assert client.get("/api/auth/me", headers=headers).status_code == 401
