"""Sign-in and tokens over HTTP: the login contract, JWT attacks, brute-force throttling."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi.testclient import TestClient

from app.bootstrap import Container
from app.security import TokenService
from domain.clock import FakeClock
from domain.model.users import User
from tests.conftest import TEST_SECRET

ME = "/api/auth/me"
LOGIN = "/api/auth/login"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def admin_id(container: Container) -> str:
    return admin(container).id


def admin(container: Container) -> User:
    with container.uow(read_only=True) as uow:
        return uow.users.get_by_email("admin@example.com")


def in_one_hour() -> datetime:
    return datetime.now(UTC) + timedelta(hours=1)


def assert_unauthorized(client: TestClient, token: str) -> None:
    response = client.get(ME, headers=bearer(token))
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "unauthorized"


# --- login --------------------------------------------------------------------------------
def test_a_login_returns_a_bearer_token_valid_for_an_hour_and_the_user_without_secrets(
        client: TestClient) -> None:
    response = client.post(LOGIN, json={"email": "customer@example.com", "password": "password123"})

    assert response.status_code == 200
    body = response.json()
    assert body["tokenType"] == "Bearer"
    assert body["expiresIn"] == 3600
    assert isinstance(body["token"], str) and body["token"].count(".") == 2
    user = body["user"]
    assert {"id", "email", "name", "role"} <= user.keys()
    assert user["email"] == "customer@example.com"
    assert user["role"] == "customer"
    assert user["id"].startswith("usr_")
    assert not any("password" in key.lower() or "hash" in key.lower() for key in user)
    assert "$argon2" not in response.text
    assert "password123" not in response.text


def test_the_token_from_a_login_identifies_the_user_on_me(client: TestClient) -> None:
    login = client.post(LOGIN, json={"email": "admin@example.com", "password": "admin123"}).json()

    response = client.get(ME, headers=bearer(login["token"]))

    assert response.status_code == 200
    assert response.json()["id"] == login["user"]["id"]
    assert response.json()["role"] == "admin"


def test_a_wrong_password_is_401_invalid_credentials(client: TestClient) -> None:
    response = client.post(LOGIN, json={"email": "customer@example.com", "password": "wrong-password"})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"
    assert "token" not in response.json()


def test_an_unknown_email_is_the_same_401_as_a_wrong_password(client: TestClient) -> None:
    unknown = client.post(LOGIN, json={"email": "nobody@example.com", "password": "password123"})
    wrong = client.post(LOGIN, json={"email": "customer@example.com", "password": "wrong-password"})

    assert unknown.status_code == 401
    assert unknown.json() == wrong.json()


def test_me_without_a_token_is_401_unauthorized(client: TestClient) -> None:
    response = client.get(ME)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_me_with_a_token_that_is_not_a_jwt_is_401(client: TestClient) -> None:
    assert_unauthorized(client, "not-a-jwt")


# --- JWT attacks --------------------------------------------------------------------------
def test_a_token_signed_with_alg_none_is_rejected(client: TestClient, container: Container) -> None:
    claims = {"sub": admin_id(container), "role": "admin", "exp": int(in_one_hour().timestamp())}
    by_hand = ".".join([b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode()),
                        b64url(json.dumps(claims).encode()), ""])
    by_library = jwt.encode(claims, key=None, algorithm="none")

    for token in (by_hand, by_library):
        assert_unauthorized(client, token)


def test_a_token_whose_payload_was_changed_to_admin_is_rejected(client: TestClient) -> None:
    login = client.post(LOGIN, json={"email": "customer@example.com", "password": "password123"})
    token = login.json()["token"]
    header, payload, signature = token.split(".")
    claims = json.loads(b64url_decode(payload))
    claims["role"] = "admin"
    tampered = ".".join([header, b64url(json.dumps(claims).encode()), signature])

    response = client.get("/api/users", headers=bearer(tampered))

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert_unauthorized(client, tampered)


def test_an_expired_token_is_rejected(client: TestClient, container: Container) -> None:
    two_hours_ago = FakeClock(datetime.now(UTC) - timedelta(hours=2))
    token = TokenService(TEST_SECRET, two_hours_ago, ttl_seconds=3600).issue(admin(container))

    assert_unauthorized(client, token)


def test_a_token_issued_by_the_same_service_now_is_accepted(client: TestClient, container: Container) -> None:
    token = TokenService(TEST_SECRET, FakeClock(datetime.now(UTC)), ttl_seconds=3600).issue(
        admin(container))

    response = client.get(ME, headers=bearer(token))

    assert response.status_code == 200


def test_a_token_signed_with_another_key_is_rejected(client: TestClient, container: Container) -> None:
    claims = {"sub": admin_id(container), "role": "admin", "exp": in_one_hour()}
    token = jwt.encode(claims, "another-secret-" + "y" * 40, algorithm="HS256")

    assert_unauthorized(client, token)


def test_a_token_without_exp_is_rejected_even_when_correctly_signed(client: TestClient,
                                                                  container: Container) -> None:
    token = jwt.encode({"sub": admin_id(container), "role": "admin"}, TEST_SECRET, algorithm="HS256")

    assert_unauthorized(client, token)


def test_a_token_without_sub_is_rejected_even_when_correctly_signed(client: TestClient) -> None:
    token = jwt.encode({"role": "admin", "exp": in_one_hour()}, TEST_SECRET, algorithm="HS256")

    assert_unauthorized(client, token)


def test_a_token_for_a_user_that_does_not_exist_is_rejected(client: TestClient) -> None:
    claims = {"sub": "usr_ghost", "role": "admin", "exp": in_one_hour()}
    token = jwt.encode(claims, TEST_SECRET, algorithm="HS256")

    assert_unauthorized(client, token)


# --- throttling ---------------------------------------------------------------------------
def test_ten_failed_logins_for_one_email_from_one_client_make_its_next_attempt_429_with_retry_after(
        client: TestClient) -> None:
    for _ in range(10):
        failed = client.post(LOGIN, json={"email": "customer@example.com", "password": "wrong-password"})
        assert failed.status_code == 401

    response = client.post(LOGIN, json={"email": "customer@example.com", "password": "password123"})

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert int(response.headers["Retry-After"]) >= 1


def test_failures_from_one_client_across_many_emails_are_throttled_per_client(client: TestClient,
                                                                             container: Container) -> None:
    for i in range(container.settings.login_max_client_failures):
        failed = client.post(LOGIN, json={"email": f"guess{i}@example.com", "password": "wrong-password"})
        assert failed.status_code == 401

    response = client.post(LOGIN, json={"email": "admin@example.com", "password": "admin123"})

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert int(response.headers["Retry-After"]) >= 1


def test_nine_failures_still_let_the_right_password_in(client: TestClient) -> None:
    for _ in range(9):
        client.post(LOGIN, json={"email": "customer@example.com", "password": "wrong-password"})

    response = client.post(LOGIN, json={"email": "customer@example.com", "password": "password123"})

    assert response.status_code == 200


# --- deactivated users --------------------------------------------------------------------
@pytest.fixture
def deactivated(client: TestClient, admin_headers: dict[str, str],
                customer_headers: dict[str, str]) -> dict[str, str]:
    """Deactivate the demo customer; return the token they held before."""
    user_id = client.get(ME, headers=customer_headers).json()["id"]
    response = client.put(f"/api/users/{user_id}", headers=admin_headers, json={"active": False})
    assert response.status_code == 200, response.text
    return customer_headers


def test_a_deactivated_user_cannot_log_in(client: TestClient, deactivated: dict[str, str]) -> None:
    response = client.post(LOGIN, json={"email": "customer@example.com", "password": "password123"})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"


def test_a_deactivated_users_existing_token_stops_working(client: TestClient,
                                                          deactivated: dict[str, str]) -> None:
    response = client.get(ME, headers=deactivated)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
