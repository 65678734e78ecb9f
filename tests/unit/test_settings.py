from __future__ import annotations

import pytest
from pydantic import ValidationError

from assistec.settings import ApiSettings, AuthorizerSettings

KEY = {
    "auth_secret_id": "assistec/prod/auth",
    "devices_bucket": "photos",
    "unlock_code_key_id": "alias/unlock",
    "event_bus_name": "assistec-prod",
    "payments_key_id": "alias/secrets",
    "payments_queue_url": "https://sqs.sa-east-1.amazonaws.com/1/payments",
}


def test_needs_exactly_one_database_source() -> None:
    # Neither source: a deploy that forgot the database must fail at cold start, loudly
    with pytest.raises(ValidationError, match="exactly one of DATABASE_URL"):
        ApiSettings(stage="prod", app_version="1", **KEY)
    # Both: ambiguous, also refused
    with pytest.raises(ValidationError, match="exactly one of DATABASE_URL"):
        ApiSettings(stage="prod", app_version="1", database_url="postgresql://x", db_secret_id="s", **KEY)
    ok = ApiSettings(stage="prod", app_version="1", db_secret_id="assistec/prod/db", **KEY)
    assert ok.db_sslmode == "require"


def test_needs_exactly_one_signing_key_source_and_a_long_key() -> None:
    with pytest.raises(ValidationError, match="exactly one of AUTH_SECRET_ID"):
        AuthorizerSettings()
    with pytest.raises(ValidationError, match="exactly one of AUTH_SECRET_ID"):
        AuthorizerSettings(auth_secret_id="a", auth_signing_key="k" * 40)
    with pytest.raises(ValidationError, match="at least 32"):
        AuthorizerSettings(auth_signing_key="short")
    assert AuthorizerSettings(auth_secret_id="a").auth_secret_id == "a"


def test_storage_and_key_are_required() -> None:
    with pytest.raises(ValidationError, match="devices_bucket"):
        ApiSettings(
            stage="prod", app_version="1", db_secret_id="s", auth_secret_id="a", unlock_code_key_id="k"
        )


def test_stage_is_required_and_checked() -> None:
    with pytest.raises(ValidationError):
        ApiSettings(stage="staging", app_version="1", db_secret_id="s", **KEY)  # type: ignore[arg-type]


def test_reads_the_lambda_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAGE", "prod")
    monkeypatch.setenv("APP_VERSION", "9.9.9")
    monkeypatch.setenv("DB_SECRET_ID", "arn:aws:secretsmanager:sa-east-1:1:secret:db")
    monkeypatch.setenv("DB_HOST", "proxy.example")
    monkeypatch.setenv("AUTH_SECRET_ID", "assistec/prod/auth")
    monkeypatch.setenv("DEVICES_BUCKET", "assistec-prod-photos")
    monkeypatch.setenv("UNLOCK_CODE_KEY_ID", "arn:aws:kms:sa-east-1:1:key/x")
    monkeypatch.setenv("EVENT_BUS_NAME", "assistec-prod")
    monkeypatch.setenv("PAYMENTS_KEY_ID", "arn:aws:kms:sa-east-1:1:key/x")
    monkeypatch.setenv("PAYMENTS_QUEUE_URL", "https://sqs.sa-east-1.amazonaws.com/1/payments")
    for name in ("DATABASE_URL", "AUTH_SIGNING_KEY"):
        monkeypatch.delenv(name, raising=False)
    cfg = ApiSettings()  # type: ignore[call-arg]
    assert (cfg.stage, cfg.app_version, cfg.db_host, cfg.auth_secret_id) == (
        "prod",
        "9.9.9",
        "proxy.example",
        "assistec/prod/auth",
    )


def test_the_ops_reports_need_their_dashboard_and_take_an_optional_recipient(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from assistec.settings import OpsReportSettings

    # As the stack sets it: the database, the stage, the dashboard's name; no OPS_REPORT_EMAIL
    monkeypatch.setenv("STAGE", "local")
    monkeypatch.setenv("DB_SECRET_ID", "arn:aws:secretsmanager:us-east-1:0:secret:db")
    with pytest.raises(ValidationError, match="dashboard_name"):
        OpsReportSettings()  # type: ignore[call-arg]
    monkeypatch.setenv("DASHBOARD_NAME", "assistec-local")
    settings = OpsReportSettings()  # type: ignore[call-arg]
    assert (settings.dashboard_name, settings.ops_report_email) == ("assistec-local", None)
    # With the stage's alarm e-mail, the reports go there; something that is no address is refused
    monkeypatch.setenv("OPS_REPORT_EMAIL", "ops@assistec.com.br")
    assert OpsReportSettings().ops_report_email == "ops@assistec.com.br"  # type: ignore[call-arg]
    monkeypatch.setenv("OPS_REPORT_EMAIL", "ops at assistec")
    with pytest.raises(ValidationError, match="ops_report_email"):
        OpsReportSettings()  # type: ignore[call-arg]
