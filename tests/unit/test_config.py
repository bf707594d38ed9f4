"""Settings: the environment, generated secrets, and what production refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import ConfigError, Settings, load_or_create_secret, load_settings

LONG = "s" * 40


def production(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"env": "production", "data_dir": tmp_path, "jwt_secret": LONG,
                                 "storage_secret": LONG, "demo_data": False}
    values.update(overrides)
    return load_settings(**values)


def test_the_defaults_serve_the_embedded_mode(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    for name in ("PAYGATE_PORT", "PORT", "PAYGATE_DATABASE_URL", "DATABASE_URL", "PAYGATE_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here

    settings = Settings()

    assert settings.port == 3001
    assert settings.resolved_database_url == f"sqlite:///{(tmp_path / 'data' / 'paygate.db').resolve()}"
    assert settings.demo_data is True


def test_port_and_database_url_come_from_either_name(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PORT", "8080")
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db:5432/pay")

    settings = Settings()

    assert settings.port == 8080
    assert settings.resolved_database_url == "postgresql+psycopg://u:p@db:5432/pay"
    monkeypatch.setenv("PAYGATE_PORT", "9090")
    assert Settings().port == 9090


def test_a_dotenv_file_is_honoured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.delenv("PAYGATE_MOCK_FAILURE_RATE", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("PAYGATE_MOCK_FAILURE_RATE=0.25\n")

    assert Settings().mock_failure_rate == 0.25


def test_secrets_are_generated_once_and_kept_in_the_data_folder(tmp_path: Path):
    settings = Settings(data_dir=tmp_path, jwt_secret=None)

    first = load_or_create_secret(settings, "jwt_secret")
    second = load_or_create_secret(settings, "jwt_secret")

    assert first == second and len(first) >= 32
    assert (tmp_path / ".jwt_secret").stat().st_mode & 0o077 == 0  # readable by the owner only


def test_production_starts_with_long_secrets_and_no_demo_data(tmp_path: Path):
    assert production(tmp_path).production


@pytest.mark.parametrize(("overrides", "message"), [
    ({"jwt_secret": None}, "PAYGATE_JWT_SECRET must be set"),
    ({"storage_secret": None}, "PAYGATE_STORAGE_SECRET must be set"),
    ({"jwt_secret": "short"}, "shorter than 32 bytes"),
    ({"storage_secret": "changeme"}, "placeholder"),
    ({"demo_data": True}, "PAYGATE_DEMO_DATA must be 0"),
])
def test_production_refuses_missing_short_or_placeholder_secrets_and_demo_data(tmp_path: Path, overrides, message):
    with pytest.raises(ConfigError, match=message):
        production(tmp_path, **overrides)


def test_development_accepts_generated_secrets(tmp_path: Path):
    assert not load_settings(data_dir=tmp_path, jwt_secret=None, storage_secret=None).production


@pytest.mark.parametrize(("providers", "message"), [
    ("acme", "unknown provider 'acme'; the providers are mock, stripe"),
    ("mock,acme", "unknown provider 'acme'"),
    ("mock,mock", "a provider is listed twice"),
    (" , ", "name at least one provider"),
])
def test_an_unknown_provider_list_is_refused_naming_the_setting_and_the_known_ones(tmp_path: Path, providers: str,
                                                                                  message: str):
    with pytest.raises(ConfigError, match=f"PAYGATE_PROVIDERS: Value error, {message}"):
        load_settings(data_dir=tmp_path, providers=providers)


def test_providers_are_read_in_routing_order_whatever_the_case_and_spaces(tmp_path: Path):
    settings = load_settings(data_dir=tmp_path, providers=" Stripe , mock", stripe_api_key="sk_test_x")
    assert settings.provider_names == ["stripe", "mock"]
    assert load_settings(data_dir=tmp_path).provider_names == ["mock"]


def test_stripe_without_a_key_stops_the_start_with_one_clear_message(tmp_path: Path):
    with pytest.raises(ConfigError, match="PAYGATE_PROVIDERS lists stripe, so PAYGATE_STRIPE_API_KEY must be set"):
        load_settings(data_dir=tmp_path, providers="mock,stripe")


@pytest.mark.parametrize(("overrides", "setting"), [
    ({"env": "staging"}, "PAYGATE_ENV"),
    ({"rate_limit_strategy": "redis"}, "PAYGATE_RATE_LIMIT_STRATEGY"),
    ({"rate_limit_per_second": 0}, "PAYGATE_RATE_LIMIT_PER_SECOND"),
    ({"port": 70000}, "PAYGATE_PORT"),
    ({"mock_failure_rate": 1.5}, "PAYGATE_MOCK_FAILURE_RATE"),
    ({"trusted_proxies": "10.0.0.1,not-an-ip"}, "PAYGATE_TRUSTED_PROXIES"),
])
def test_a_setting_of_the_wrong_kind_or_range_is_refused_by_name(tmp_path: Path, overrides, setting):
    with pytest.raises(ConfigError, match=setting):
        load_settings(data_dir=tmp_path, **overrides)


def test_a_bad_value_from_the_environment_is_named_as_it_was_set(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("PAYGATE_PORT", "abc")

    with pytest.raises(ConfigError, match=r"^PAYGATE_PORT: "):
        load_settings(data_dir=tmp_path)


def test_prod_is_a_name_for_production(tmp_path: Path):
    with pytest.raises(ConfigError, match="PAYGATE_DEMO_DATA"):
        load_settings(data_dir=tmp_path, env="PROD", demo_data=True)
