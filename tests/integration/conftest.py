from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from assistec import __version__
from tests.conftest import LambdaContext, PgDatabase

Invoke = Callable[[dict[str, Any]], dict[str, Any]]


def configure_api(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    from assistec import runtime

    monkeypatch.delenv("DB_SECRET_ID", raising=False)
    monkeypatch.setenv("STAGE", "test")
    monkeypatch.setenv("APP_VERSION", __version__)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("DB_SSLMODE", "disable")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "AssistecTest")
    runtime.reset()


@pytest.fixture
def api(
    monkeypatch: pytest.MonkeyPatch, database: PgDatabase, lambda_context: LambdaContext
) -> Iterator[Invoke]:
    """The API Lambda handler, invoked in-process against the session's real database."""
    from assistec import runtime
    from assistec.handlers import api as api_handler

    configure_api(monkeypatch, database.app_url)

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        return api_handler.handler(event, lambda_context)

    yield invoke
    runtime.reset()
