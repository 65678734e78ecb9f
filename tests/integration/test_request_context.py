"""Identity on every log line, and the local stage's in-process authorizer emulation."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from assistec.settings import ApiSettings
from tests.conftest import LambdaContext, PgDatabase
from tests.integration.conftest import Client, configure_api, rest_event, signup


def _log_lines(captured: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in captured.splitlines() if line.startswith("{")]


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """What the Powertools logger writes, with its JSON formatter, during the test."""
    from assistec.observability import logger

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


def test_log_lines_carry_the_correlation_id_and_the_callers_shop(
    client: Client, log_output: io.StringIO
) -> None:
    shop = signup(client)
    # When a shop's user does something the service logs
    status, _, headers = client.call(
        "POST",
        "/users",
        shop.access_token,
        body={
            "email": "log@exemplo.com.br",
            "name": "Registro",
            "role": "attendant",
            "password": "senha-do-time",
        },
    )
    assert status == 201
    lines = _log_lines(log_output.getvalue())
    # Then the line carries the correlation id, the shop and the user
    request_lines = [line for line in lines if line.get("correlation_id") == headers["x-correlation-id"]]
    assert any(line["message"] == "user created" for line in request_lines), lines
    for line in request_lines:
        assert line["tenant_id"] == shop.tenant_id
        assert line["user_id"] == shop.owner_id


@pytest.fixture
def emulating_api(monkeypatch: pytest.MonkeyPatch, database: PgDatabase) -> Iterator[Any]:
    from assistec.handlers import api as api_handler
    from assistec.wiring import api as wiring

    configure_api(monkeypatch, database.app_url)
    monkeypatch.setenv("AUTHORIZER_EMULATION", "true")
    wiring.install(None)
    from tests.integration.billing_fixtures import FakeMailer

    wiring.root().mailer = FakeMailer()  # signup's confirmation mails
    yield lambda event: api_handler.handler(event, LambdaContext())
    wiring.install(None)


def test_emulation_checks_the_bearer_token_like_the_authorizer(client: Client, emulating_api: Any) -> None:
    shop = signup(client)
    # A good token: the API runs the check itself and the route sees the identity
    ok = emulating_api(rest_event("GET", "/me", headers={"Authorization": f"Bearer {shop.access_token}"}))
    assert ok["statusCode"] == 200
    assert json.loads(ok["body"])["user"]["id"] == shop.owner_id
    # A bad token on a protected route: 401 in the gateway's shape, before any route runs
    bad = emulating_api(rest_event("GET", "/me", headers={"Authorization": "Bearer x.y.z"}))
    assert (bad["statusCode"], json.loads(bad["body"])["code"]) == (401, "unauthorized")
    # No token: the route itself refuses (no identity)
    none = emulating_api(rest_event("GET", "/me"))
    assert none["statusCode"] == 401
    # A public route is not blocked by a stray bad token
    health = emulating_api(rest_event("GET", "/health", headers={"Authorization": "Bearer x.y.z"}))
    assert health["statusCode"] == 200


def test_emulation_is_refused_in_prod() -> None:
    with pytest.raises(ValueError, match="local stage only"):
        ApiSettings(
            stage="prod",
            app_version="1",
            db_secret_id="s",
            auth_secret_id="a",
            devices_bucket="assistec-photos",
            unlock_code_key_id="k",
            event_bus_name="bus",
            payments_key_id="k",
            payments_queue_url="q",
            authorizer_emulation=True,
        )
