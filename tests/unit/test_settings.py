from __future__ import annotations

import pytest
from pydantic import ValidationError

from assistec.settings import ApiSettings


def test_needs_exactly_one_database_source() -> None:
    # Neither source: a deploy that forgot the database must fail at cold start, loudly
    with pytest.raises(ValidationError, match="exactly one"):
        ApiSettings(stage="prod", app_version="1")
    # Both: ambiguous, also refused
    with pytest.raises(ValidationError, match="exactly one"):
        ApiSettings(stage="prod", app_version="1", database_url="postgresql://x", db_secret_id="s")
    ok = ApiSettings(stage="prod", app_version="1", db_secret_id="assistec/prod/db")
    assert ok.db_sslmode == "require"


def test_stage_is_required_and_checked() -> None:
    with pytest.raises(ValidationError):
        ApiSettings(stage="staging", app_version="1", db_secret_id="s")  # type: ignore[arg-type]


def test_reads_the_lambda_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAGE", "prod")
    monkeypatch.setenv("APP_VERSION", "9.9.9")
    monkeypatch.setenv("DB_SECRET_ID", "arn:aws:secretsmanager:sa-east-1:1:secret:db")
    monkeypatch.setenv("DB_HOST", "proxy.example")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    cfg = ApiSettings()  # type: ignore[call-arg]
    assert (cfg.stage, cfg.app_version, cfg.db_host) == ("prod", "9.9.9", "proxy.example")
