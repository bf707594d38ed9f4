"""A token speaks for its user only while the user exists, is active and keeps the password it had."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import login

ME = "/api/auth/me"


def user_id(client: TestClient, headers: dict[str, str]) -> str:
    return client.get(ME, headers=headers).json()["id"]


def test_a_password_reset_revokes_every_token_issued_before_it(client, admin_headers, new_customer):
    old = new_customer("reset@example.com")
    also_old = login(client, "reset@example.com", "s3cret-pass")
    uid = user_id(client, old)

    reset = client.put(f"/api/users/{uid}", headers=admin_headers, json={"password": "a-new-passw0rd"})

    assert reset.status_code == 200
    assert client.get(ME, headers=old).status_code == 401
    assert client.get(ME, headers=also_old).status_code == 401
    assert client.get("/api/payments", headers=old).status_code == 401
    fresh = login(client, "reset@example.com", "a-new-passw0rd")
    assert client.get(ME, headers=fresh).status_code == 200


def test_changing_only_the_name_keeps_the_tokens(client, admin_headers, new_customer):
    headers = new_customer("rename@example.com")
    uid = user_id(client, headers)

    client.put(f"/api/users/{uid}", headers=admin_headers, json={"name": "Renamed"})

    assert client.get(ME, headers=headers).json()["name"] == "Renamed"


def test_a_token_of_a_deactivated_or_deleted_user_is_refused(client, admin_headers, new_customer):
    inactive, deleted = new_customer("inactive@example.com"), new_customer("deleted@example.com")

    client.put(f"/api/users/{user_id(client, inactive)}", headers=admin_headers, json={"active": False})
    client.delete(f"/api/users/{user_id(client, deleted)}", headers=admin_headers)

    assert client.get(ME, headers=inactive).status_code == 401
    assert client.get(ME, headers=deleted).status_code == 401


def test_a_demoted_admins_token_carries_customer_rights_only(client, admin_headers):
    created = client.post("/api/users", headers=admin_headers, json={
        "email": "second-admin@example.com", "password": "s3cret-pass", "name": "Second", "role": "admin"})
    second = login(client, "second-admin@example.com", "s3cret-pass")
    assert client.get("/api/users", headers=second).status_code == 200

    client.put(f"/api/users/{created.json()['id']}", headers=admin_headers, json={"role": "customer"})

    assert client.get("/api/users", headers=second).status_code == 403
    assert client.get(ME, headers=second).json()["role"] == "customer"
