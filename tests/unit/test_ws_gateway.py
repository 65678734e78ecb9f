"""The local WebSocket gateway's pure parts: API Gateway's event shapes (against real events,
tests/fixtures/apigw_websocket), its ids and times, route selection, and the configuration."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from ws_gateway import events
from ws_gateway.config import GatewayConfig
from ws_gateway.gateway import client_error
from ws_gateway.routing import select_route

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "apigw_websocket"
CONN = events.Connection(
    connection_id="BFHPhfCWIAMCKlQ=",
    api_id="asasasas",
    stage="prod",
    domain_name="asasasas.execute-api.us-east-1.amazonaws.com",
    connected_at_ms=1731324924553,
    source_ip="166.90.225.1",
    user_agent=None,
)


def fixture(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return event


def shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def test_connect_event_matches_the_recorded_one() -> None:
    # Given the handshake the recorded client made (same headers, plus the hop-by-hop ones API
    # Gateway drops)
    recorded = fixture("connect")
    handshake = [
        (name, value)
        for name, value in recorded["headers"].items()
        if not name.startswith(("X-Amzn-", "X-Forwarded-"))
    ]
    handshake += [("Connection", "Upgrade"), ("Upgrade", "websocket")]

    # When the gateway builds its event
    event = events.connect_event(
        CONN, handshake, [], port=443, now_ms=1731324924561, request_id="BFHPhFe3IAMF95g="
    )

    # Then it is the recorded event but for the trace id and the protocol (ws:// locally)
    assert shape(event) == shape(recorded)
    assert event["requestContext"] == recorded["requestContext"]
    for view in ("headers", "multiValueHeaders"):
        mine = {k: v for k, v in event[view].items() if k not in ("X-Amzn-Trace-Id", "X-Forwarded-Proto")}
        theirs = {
            k: v for k, v in recorded[view].items() if k not in ("X-Amzn-Trace-Id", "X-Forwarded-Proto")
        }
        assert mine == theirs
    assert re.match(r"^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$", event["headers"]["X-Amzn-Trace-Id"])
    assert event["isBase64Encoded"] is False


def test_connect_event_query_string_in_both_views() -> None:
    event = events.connect_event(
        CONN, [], [("ticket", "t1"), ("x", "1"), ("x", "2")], port=443, now_ms=1, request_id="r"
    )
    assert event["queryStringParameters"] == {"ticket": "t1", "x": "2"}
    assert event["multiValueQueryStringParameters"] == {"ticket": ["t1"], "x": ["1", "2"]}


def test_message_event_matches_the_recorded_one() -> None:
    recorded = fixture("message")
    conn = events.Connection(
        connection_id="BFaT_fALIAMCKug=",
        api_id="asasasas",
        stage="prod",
        domain_name="asasasas.execute-api.us-east-1.amazonaws.com",
        connected_at_ms=1731332735513,
        source_ip="166.90.225.1",
        user_agent=None,
    )

    event = events.message_event(
        conn,
        "chat",
        recorded["body"],
        now_ms=1731332746514,
        request_id="BFaVtH2HoAMFZEQ=",
        message_id="BFaVtfGSIAMCKug=",
    )

    assert event == recorded


def test_disconnect_event_matches_the_recorded_one() -> None:
    recorded = fixture("disconnect")
    conn = events.Connection(
        connection_id="BFaT_fALIAMCKug=",
        api_id="asasasas",
        stage="prod",
        domain_name="asasasas.execute-api.us-east-1.amazonaws.com",
        connected_at_ms=1731332735513,
        source_ip="166.90.225.1",
        user_agent=None,
    )

    event = events.disconnect_event(
        conn,
        events.NO_STATUS_CODE,
        events.NO_STATUS_REASON,
        now_ms=1731333109875,
        request_id="BFbOeE87IAMF31w=",
    )

    assert event == recorded


def test_identity_names_the_user_agent_when_the_client_sent_one() -> None:
    conn = events.Connection("c", "a", "s", "d", 1, "127.0.0.1", "Mozilla/5.0")
    event = events.message_event(conn, "$default", "x", now_ms=2, request_id="r", message_id="m")
    assert event["requestContext"]["identity"] == {"sourceIp": "127.0.0.1", "userAgent": "Mozilla/5.0"}


def test_ids_have_api_gateways_format() -> None:
    ids = {events.new_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.match(r"^[A-Za-z0-9_-]{15}=$", i) for i in ids)


def test_request_time_is_clf() -> None:
    assert events.request_time(1731324924561) == "11/Nov/2024:11:35:24 +0000"


def test_client_error_is_api_gateways_text() -> None:
    # What the client reads, byte for byte (API Gateway's spacing)
    assert client_error("Internal server error", "Qyi07eCbtjMCJKw=", "Qyi3UG41tjMFlUg=") == (
        '{"message": "Internal server error", "connectionId":"Qyi07eCbtjMCJKw=", '
        '"requestId":"Qyi3UG41tjMFlUg="}'
    )


# Route selection

ACTION = ("action",)


@pytest.mark.parametrize(
    ("body", "routes", "expected"),
    [
        ('{"action": "chat"}', {"chat", "$default"}, "chat"),
        ('{"action": "chat"}', {"chat"}, "chat"),
        ('{"action": "other"}', {"chat", "$default"}, "$default"),
        ('{"action": "other"}', {"chat"}, None),
        ("not json", {"chat", "$default"}, "$default"),
        ("not json", {"chat"}, None),
        ('["chat"]', {"chat", "$default"}, "$default"),
        ('{"action": 1}', {"1", "$default"}, "$default"),
        ('{"action": "$disconnect"}', {"$disconnect", "$default"}, "$default"),
        ('{"action": "$default"}', {"$default"}, "$default"),
        ('{"action": {"name": "chat"}}', {"chat", "$default"}, "$default"),
    ],
)
def test_select_route(body: str, routes: set[str], expected: str | None) -> None:
    assert select_route(ACTION, body, routes) == expected


def test_select_route_follows_a_nested_path() -> None:
    assert select_route(("message", "type"), '{"message": {"type": "typing"}}', {"typing"}) == "typing"
    assert select_route(("message", "type"), '{"message": "typing"}', {"typing", "$default"}) == "$default"


@given(
    value=st.text(max_size=20),
    routes=st.sets(
        st.sampled_from(["chat", "typing", "$connect", "$disconnect", "ação", ""]) | st.text(max_size=5)
    ),
    has_default=st.booleans(),
)
def test_select_route_property(value: str, routes: set[str], has_default: bool) -> None:
    # The value picks its route when one has that key (never $connect/$disconnect), else $default
    # when there is one, else nothing
    keys = routes | {"$default"} if has_default else routes - {"$default"}
    chosen = select_route(ACTION, json.dumps({"action": value, "data": "x"}), keys)
    if value in keys and value not in ("$connect", "$disconnect"):
        assert chosen == value
    else:
        assert chosen == ("$default" if has_default else None)


# Configuration


def _config(**api: Any) -> dict[str, Any]:
    return {"apis": [{"stage": "v1", "routes": {"$default": {"function": "f"}}, **api}]}


@pytest.mark.parametrize(
    ("api", "error"),
    [
        ({"route_selection_expression": "$request.header.x"}, "only $request.body"),
        ({"route_selection_expression": "action"}, "only $request.body"),
        ({"routes": {"$reconnect": {"function": "f"}}}, "unknown reserved route keys"),
        ({"routes": {"$default": {"function": ""}}}, "at least 1 character"),
        ({"routes": {"$default": {"function": "f", "twoway": True}}}, "Extra inputs"),
        ({"stage": "v1/x"}, "URL path segment"),
    ],
)
def test_bad_configuration_is_refused_clearly(api: dict[str, Any], error: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(error)):
        GatewayConfig.model_validate(_config(**api))


def test_duplicate_api_ids_are_refused() -> None:
    api = {"api_id": "a", "stage": "v1", "routes": {}}
    with pytest.raises(ValidationError, match="api_id must be unique"):
        GatewayConfig.model_validate({"apis": [api, {**api, "stage": "v2"}]})


def test_defaults_are_api_gateways_limits() -> None:
    config = GatewayConfig.model_validate(_config())
    assert (config.idle_timeout_s, config.max_connection_s, config.integration_timeout_s) == (600, 7200, 29)
    assert config.apis[0].selection_path == ("action",)
    assert config.apis[0].routes["$default"].two_way is False


def test_find_api_by_stage_or_by_id_and_stage() -> None:
    config = GatewayConfig.model_validate(
        {
            "apis": [
                {"api_id": "staff", "stage": "v1", "routes": {}},
                {"api_id": "public", "stage": "v1", "routes": {}},
                {"api_id": "ops", "stage": "ops", "routes": {}},
            ]
        }
    )
    assert config.find_api(["v1"]) is None  # two APIs have it: the id must say which
    assert config.find_api(["public", "v1"]) is config.apis[1]
    assert config.find_api(["ops"]) is config.apis[2]
    assert config.find_api(["ops", "v1"]) is None
    assert config.find_api([]) is None
