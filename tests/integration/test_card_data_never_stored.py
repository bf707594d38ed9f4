"""A full card number and CVC go no further than the request: not into the database, not into a log.

Each test runs with the mock provider and with the Stripe connector against localstripe. With Stripe
the card is made into a PaymentMethod in the drain (a provider call, through the bucket), so until then
it is held in the process's memory only; it must not reach a table or a log line on that way either."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import MetaData, String, Text, select

from app.bootstrap import Container
from app.config import Settings
from app.logs import formatter
from tests.conftest import TEST_SECRET, make_settings
from tests.integration.localstripe import TEST_KEY

PAN = "4242424242424242"
CVC = "987"  # unusual, so a search for it means something
CARD = {"number": PAN, "expMonth": 12, "expYear": 2030, "cvc": CVC}
CARD_COLUMNS = ("card_brand", "card_last4", "card_tokens")


@pytest.fixture(params=["mock", "stripe"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """The gateway on the mock, or on the Stripe connector against localstripe (skipped without it)."""
    if request.param == "mock":
        return make_settings(tmp_path)
    return make_settings(tmp_path, providers="stripe", stripe_api_key=TEST_KEY,
                         stripe_api_base=request.getfixturevalue("localstripe_url"))


@pytest.fixture
def paid(client: TestClient, container: Container, customer_headers: dict[str, str],
         caplog: pytest.LogCaptureFixture) -> dict:
    """Pay with the card through the API and run the payment to completion, capturing every log record."""
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
    # The JSON lines as the server writes them (formatted when logged, within the request's context).
    json_log = io.StringIO()
    json_handler = logging.StreamHandler(json_log)
    json_handler.setFormatter(formatter("json"))
    logging.getLogger().addHandler(json_handler)
    try:
        return _pay(client, container, customer_headers) | {"json_log": json_log.getvalue()}
    finally:
        logging.getLogger().removeHandler(json_handler)


def _pay(client: TestClient, container: Container, customer_headers: dict[str, str]) -> dict:
    response = client.post("/api/payments", headers=customer_headers,
                           json={"amount": 4200, "currency": "USD", "description": "card test", "card": CARD,
                                 "idempotencyKey": "card-test"})
    assert response.status_code == 202, response.text
    replay = client.post("/api/payments", headers=customer_headers,
                         json={"amount": 4200, "currency": "USD", "description": "card test", "card": CARD,
                               "idempotencyKey": "card-test"})
    assert replay.status_code == 200
    with container.uow(read_only=True) as uow:
        queued = uow.payments.get(response.json()["id"])
    assert queued is not None
    client.portal.call(container.processor.drain)
    payment = client.get(f"/api/payments/{response.json()['id']}", headers=customer_headers).json()
    assert payment["status"] == "completed"
    attempts = client.get(f"/api/payments/{payment['id']}/attempts", headers=customer_headers).json()["data"]
    return {"payment": payment, "responses": [response.text, replay.text], "tokens_before_drain": queued.card_tokens,
            "attempts": [(a["kind"], a["provider"], a["outcome"]) for a in attempts]}


def text_values(container: Container) -> list[tuple[str, str, str]]:
    """(table, column, value) of every text column of every table, read back through SQL."""
    metadata = MetaData()
    found = []
    with container.db.engine.connect() as conn:
        metadata.reflect(conn)
        for table in metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, (String, Text))]
            if not columns:
                continue
            for row in conn.execute(select(*columns)):
                found.extend((table.name, c.name, v)
                             for c, v in zip(columns, row, strict=True) if v is not None)
    return found


def database_files(container: Container) -> list[Path]:
    db_file = Path(container.db.engine.url.database)
    return [p for p in (db_file, db_file.with_name(db_file.name + "-wal")) if p.exists()]


def test_the_database_files_never_hold_the_card_number(paid: dict, container: Container) -> None:
    files = database_files(container)

    contents = {path.name: path.read_bytes() for path in files}

    assert "paygate.db" in contents
    for name, data in contents.items():
        assert PAN.encode() not in data, name
        assert PAN[:6].encode() + b"******" not in data, name


def test_no_text_column_of_any_table_holds_the_card_number_or_cvc(paid: dict, container: Container) -> None:
    values = text_values(container)

    assert any(table == "payments" and col == "card_last4" and v == "4242" for table, col, v in values)
    for table, column, value in values:
        assert PAN not in value, (table, column)
        assert '"cvc"' not in value.lower() and '"number"' not in value, (table, column)
        if column in CARD_COLUMNS:
            assert CVC not in value, (table, column)


def test_the_events_of_the_payment_carry_only_brand_and_last4(paid: dict, client: TestClient,
                                                              customer_headers: dict[str, str]) -> None:
    payment_id = paid["payment"]["id"]

    events = client.get(f"/api/payments/{payment_id}/events", headers=customer_headers)

    assert [e["data"]["card"] for e in events.json()["data"]] == [{"brand": "visa", "last4": "4242"}] * 3
    assert PAN not in events.text and "cvc" not in events.text.lower()


def test_the_responses_never_hold_the_card_number_or_cvc(paid: dict) -> None:
    texts = paid["responses"]

    for text in texts:
        assert PAN not in text
        assert "cvc" not in text.lower()


def test_no_json_log_line_holds_card_data_a_token_or_a_secret(paid: dict, container: Container,
                                                              customer_headers: dict[str, str]) -> None:
    lines = paid["json_log"].splitlines()
    card_tokens = [v for table, column, v in text_values(container) if column == "card_tokens"]
    tokens = [token for value in card_tokens for token in json.loads(value).values()]
    jwt = customer_headers["Authorization"].removeprefix("Bearer ")
    secrets = [TEST_SECRET, container.storage_secret, jwt, jwt.split(".")[2], *tokens]

    parsed = [json.loads(line) for line in lines]

    assert tokens, "the payment has no provider token to look for"
    assert any(line.get("payment_id") == paid["payment"]["id"] and line["message"] == "payment completed"
               for line in parsed), "the JSON log has no line of the payment"
    for line, data in zip(lines, parsed, strict=True):
        assert PAN not in line and PAN[-4:] + CVC not in line
        assert "cvc" not in line.lower() and f'"{CVC}"' not in line
        if data["logger"].startswith("sqlalchemy."):
            # SQL echo: off in the server (SQLAlchemy keeps its loggers at WARNING); the fixture turns it
            # on so that even the statements' parameters are searched for the card number (above).
            continue
        for secret in secrets:
            assert secret not in line, data["logger"]


def test_no_log_record_holds_the_card_number_or_cvc(paid: dict, caplog: pytest.LogCaptureFixture) -> None:
    records = caplog.get_records("setup")  # the payment ran in the `paid` fixture

    assert records, "the capture saw no log record at all"
    for record in records:
        text = record.getMessage() + (caplog.handler.format(record) if record.exc_info else "")
        assert PAN not in text, record.name
        assert "cvc" not in text.lower(), record.name
        assert f"'{CVC}'" not in text and f'"{CVC}"' not in text, record.name


@pytest.mark.parametrize("settings", ["stripe"], indirect=True)  # the mock tokenizes at submission, without a call
def test_with_stripe_the_card_became_a_payment_method_in_the_drain_and_only_its_id_is_stored(
        paid: dict, container: Container) -> None:
    tokens = [json.loads(v) for table, column, v in text_values(container) if column == "card_tokens"]

    assert paid["tokens_before_drain"] == {}  # queued with the card in memory only
    assert paid["attempts"] == [("tokenize", "stripe", "approved"), ("charge", "stripe", "approved")]
    assert paid["payment"]["transactionId"].startswith("pi_")
    assert len(tokens) == 1 and list(tokens[0]) == ["stripe"] and tokens[0]["stripe"].startswith("pm_")
