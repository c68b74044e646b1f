"""Production refuses the development secrets; bad settings fail at start with a reason."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from core.settings import DEV_PLACEHOLDER, Settings
from devstack.run import MALLOC_ENV, ROOT, StackConfig, child_env

GOOD = "x" * 24 + "-production-secret-abc"
OTHER = "y" * 24 + "-production-secret-xyz"


def _settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


def test_development_runs_on_placeholders() -> None:
    assert _settings().jwt_secret.get_secret_value() == DEV_PLACEHOLDER


@pytest.mark.parametrize("missing", ["jwt_secret", "otp_secret"])
def test_production_refuses_placeholder_secrets(missing: str) -> None:
    values = {"environment": "production", "jwt_secret": GOOD, "otp_secret": OTHER}
    del values[missing]
    with pytest.raises(ValidationError, match=missing.upper()):
        _settings(**values)


def test_production_refuses_short_or_shared_secrets() -> None:
    with pytest.raises(ValidationError, match="at least 32"):
        _settings(environment="production", jwt_secret="short", otp_secret=OTHER)
    with pytest.raises(ValidationError, match="must differ"):
        _settings(environment="production", jwt_secret=GOOD, otp_secret=GOOD)


def test_production_accepts_real_secrets() -> None:
    settings = _settings(
        environment="production",
        jwt_secret=GOOD,
        otp_secret=OTHER,
        payments_provider="stripe",
        stripe_secret_key="sk_live_x",
        stripe_webhook_secret="whsec_x",
        support_phone="+918012345678",
    )
    assert settings.environment == "production"


def test_production_refuses_the_sandbox_payments() -> None:
    with pytest.raises(ValidationError, match="takes no real money"):
        _settings(environment="production", jwt_secret=GOOD, otp_secret=OTHER)


@pytest.mark.parametrize(
    ("provider", "missing"),
    [
        ("stripe", "STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET"),
        ("razorpay", "RAZORPAY_KEY_ID, RAZORPAY_KEY_SECRET, RAZORPAY_WEBHOOK_SECRET"),
    ],
)
def test_a_payment_provider_needs_its_keys(provider: str, missing: str) -> None:
    with pytest.raises(ValidationError, match=missing):
        _settings(payments_provider=provider)


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", "temporal.internal:7233")
    monkeypatch.setenv("ACCESS_TOKEN_TTL_SECONDS", "600")
    settings = _settings()
    assert settings.temporal_address == "temporal.internal:7233"
    assert settings.access_token_ttl_seconds == 600


def test_links_point_at_the_port_the_api_listens_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.setenv("API_PORT", "8100")
    assert _settings().public_base_url == "http://127.0.0.1:8100"
    monkeypatch.setenv("API_HOST", "0.0.0.0")  # a wildcard bind is reached on loopback
    assert _settings().public_base_url == "http://127.0.0.1:8100"
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://homeplans.example.com")
    assert _settings().public_base_url == "https://homeplans.example.com"


def test_make_run_tells_the_api_its_port(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PUBLIC_BASE_URL", "API_HOST", "API_PORT"):
        monkeypatch.delenv(name, raising=False)
    env = child_env(StackConfig.from_env({"API_PORT": "8100"}))
    for name in ("API_HOST", "API_PORT"):  # what the API and the worker get
        monkeypatch.setenv(name, env[name])
    assert _settings().public_base_url == "http://127.0.0.1:8100"


def test_make_run_and_the_image_run_python_with_the_same_malloc_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without them a password hash's 19 MiB stays in every thread arena that ever hashed."""
    for name in MALLOC_ENV:
        monkeypatch.delenv(name, raising=False)
    env = child_env(StackConfig.from_env({}))
    assert {name: env[name] for name in MALLOC_ENV} == MALLOC_ENV
    dockerfile = (ROOT / "Dockerfile").read_text()
    runtime = dockerfile[dockerfile.index("AS runtime") :]
    for name, value in MALLOC_ENV.items():
        assert f"{name}={value}" in runtime, name


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("access_token_ttl_seconds", 3600),  # access tokens live at most 15 minutes
        ("argon2_memory_kib", 4096),  # below OWASP's argon2id minimum
        ("argon2_time_cost", 1),
    ],
)
def test_unsafe_values_are_refused(name: str, value: int) -> None:
    with pytest.raises(ValidationError, match=name):
        _settings(**{name: value})


@pytest.mark.parametrize("environment", ["test", "production"])
def test_short_subscription_days_are_refused_outside_development(environment: str) -> None:
    values: dict[str, Any] = {"environment": environment, "subscription_day_seconds": 10}
    if environment == "production":
        values |= {"jwt_secret": GOOD, "otp_secret": OTHER, "payments_provider": "stripe"}
        values |= {"stripe_secret_key": "sk", "stripe_webhook_secret": "wh"}
        values |= {"support_phone": "+918012345678"}
    with pytest.raises(ValidationError, match="SUBSCRIPTION_DAY_SECONDS"):
        _settings(**values)


def test_development_may_shorten_a_subscription_day() -> None:
    assert (
        _settings(environment="development", subscription_day_seconds=5).subscription_day_seconds
        == 5
    )
    assert _settings(environment="test").subscription_day_seconds == 86_400
