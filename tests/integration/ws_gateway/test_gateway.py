"""The local WebSocket gateway driven as API Gateway's clients drive it: a real WebSocket client
(``websockets``) on one side, boto3's ``apigatewaymanagementapi`` on the other, and the events the
functions receive checked against real API Gateway events (tests/fixtures/apigw_websocket)."""

from __future__ import annotations

import contextlib
import json
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.integration.ws_gateway.conftest import StartGateway, management_client
from tests.integration.ws_gateway.fake_lambda import FakeLambda

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "apigw_websocket"
CONNECTION_ID = re.compile(r"^[A-Za-z0-9_-]{15}=$")  # API Gateway's: 11 bytes, URL-safe base64


def fixture(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return event


def shape(value: Any) -> Any:
    """Keys and value types, recursively: what two events must share to be of one shape."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def header_shape(event: dict[str, Any]) -> dict[str, Any]:
    """The event's shape with its header names left out (they are the client's)."""
    out: dict[str, Any] = shape(event)
    for key in ("headers", "multiValueHeaders"):
        if key in event:
            out[key] = sorted({json.dumps(shape(v)) for v in event[key].values()})
    return out


def ok(_event: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": 200}


def open_client(url: str, **kwargs: Any) -> ClientConnection:
    client: ClientConnection = connect(url, open_timeout=15, **kwargs)
    return client


def recv(ws: ClientConnection) -> str | bytes:
    return ws.recv(timeout=15)


def wait_closed(ws: ClientConnection) -> ConnectionClosed:
    """The close the gateway ends the connection with (whatever it sent before is skipped)."""
    try:
        while True:
            ws.recv(timeout=30)
    except ConnectionClosed as closed:
        return closed


# $connect


def test_connect_event_has_api_gateways_shape(make_gateway: StartGateway, fake_lambda: FakeLambda) -> None:
    # Given an API whose $connect route is a function
    fake_lambda.handlers["connect"] = ok
    gateway = make_gateway({"$connect": "connect"})

    # When a client without a User-Agent connects (as the recorded one did)
    with open_client(gateway.ws_url(), user_agent_header=None):
        event = fake_lambda.next_event("connect")

    # Then the function got an event of API Gateway's CONNECT shape
    assert header_shape(event) == header_shape(fixture("connect"))
    context = event["requestContext"]
    assert (context["routeKey"], context["eventType"], context["messageDirection"]) == (
        "$connect",
        "CONNECT",
        "IN",
    )
    assert (context["apiId"], context["stage"]) == ("testapi", "v1")
    assert CONNECTION_ID.match(context["connectionId"])
    assert context["requestId"] == context["extendedRequestId"]
    assert re.match(r"^\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000$", context["requestTime"])
    assert context["identity"] == {"sourceIp": "127.0.0.1"}
    headers = event["headers"]
    assert headers["Host"] == context["domainName"] == f"127.0.0.1:{gateway.port}"
    assert headers["X-Forwarded-For"] == "127.0.0.1"
    assert headers["Sec-WebSocket-Version"] == "13"
    assert not {"connection", "upgrade"} & {name.lower() for name in headers}
    assert event["multiValueHeaders"]["Host"] == [headers["Host"]]


def test_connect_passes_query_string_and_user_agent(
    make_gateway: StartGateway, fake_lambda: FakeLambda
) -> None:
    # Given an API whose $connect route checks a ticket in the query string
    fake_lambda.handlers["connect"] = ok
    gateway = make_gateway({"$connect": "connect"})

    # When a browser-like client connects with a ticket and a repeated parameter
    with open_client(f"{gateway.ws_url()}?ticket=abc123&tag=a&tag=b", user_agent_header="Mozilla/5.0 test"):
        event = fake_lambda.next_event("connect")

    # Then the query string comes in both of API Gateway's views, and the identity names the browser
    assert event["queryStringParameters"] == {"ticket": "abc123", "tag": "b"}
    assert event["multiValueQueryStringParameters"] == {"ticket": ["abc123"], "tag": ["a", "b"]}
    assert event["requestContext"]["identity"] == {"sourceIp": "127.0.0.1", "userAgent": "Mozilla/5.0 test"}
    assert event["headers"]["User-Agent"] == "Mozilla/5.0 test"


def _raise(_event: dict[str, Any]) -> Any:
    raise RuntimeError("ticket store unreachable")


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        (lambda e: {"statusCode": 403, "body": "ticket expired"}, 403),
        (lambda e: {"statusCode": 401}, 401),
        (_raise, 502),  # the function failed
        (lambda e: None, 502),  # not a proxy response
        (lambda e: {"statusCode": "200"}, 502),
    ],
    ids=["403", "401", "function-error", "no-answer", "string-status"],
)
def test_connect_refused_as_api_gateway_refuses(
    make_gateway: StartGateway, fake_lambda: FakeLambda, answer: Any, status: int
) -> None:
    # Given a $connect function that refuses the connection or fails
    fake_lambda.handlers["connect"] = answer
    fake_lambda.handlers["disconnect"] = ok
    gateway = make_gateway({"$connect": "connect", "$disconnect": "disconnect"})

    # When a client tries to connect
    with pytest.raises(InvalidStatus) as refused:
        open_client(gateway.ws_url())

    # Then the handshake fails with API Gateway's status, the connection never existed ($disconnect
    # does not run for it) and the management API calls it gone
    assert refused.value.response.status_code == status
    connection_id = fake_lambda.next_event("connect")["requestContext"]["connectionId"]
    with pytest.raises(ClientError) as gone:
        management_client(gateway.management_url()).get_connection(ConnectionId=connection_id)
    assert gone.value.response["Error"]["Code"] == "GoneException"
    gateway.settle()
    assert fake_lambda.pending("disconnect") == 0


def test_connect_to_a_missing_function_is_500(make_gateway: StartGateway) -> None:
    # Given a $connect route whose function does not exist
    gateway = make_gateway({"$connect": "no-such-function"})

    # When a client connects, then API Gateway's integration failure is the answer
    with pytest.raises(InvalidStatus) as refused:
        open_client(gateway.ws_url())
    assert refused.value.response.status_code == 500


def test_unknown_stage_is_forbidden(make_gateway: StartGateway, fake_lambda: FakeLambda) -> None:
    fake_lambda.handlers["connect"] = ok
    gateway = make_gateway({"$connect": "connect"})

    with pytest.raises(InvalidStatus) as refused:
        open_client(f"ws://127.0.0.1:{gateway.port}/prod")

    assert refused.value.response.status_code == 403
    assert fake_lambda.pending("connect") == 0


def test_connect_chooses_the_subprotocol(make_gateway: StartGateway, fake_lambda: FakeLambda) -> None:
    # Given a $connect function that answers with the subprotocol it supports (AWS's documented example)
    def choose(event: dict[str, Any]) -> dict[str, Any]:
        offered = [p.strip() for p in event["headers"].get("Sec-WebSocket-Protocol", "").split(",")]
        if "myprotocol" in offered:
            return {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": "myprotocol"}}
        return {"statusCode": 400}

    fake_lambda.handlers["connect"] = choose
    gateway = make_gateway({"$connect": "connect"})

    # When clients offer subprotocols, then the one $connect chose is the connection's, and a client
    # offering none it supports is refused with its 400
    with open_client(gateway.ws_url(), subprotocols=["chat1", "myprotocol"]) as ws:
        assert ws.subprotocol == "myprotocol"
    with pytest.raises(InvalidStatus) as refused:
        open_client(gateway.ws_url(), subprotocols=["chat1"])
    assert refused.value.response.status_code == 400


def test_posting_during_connect_is_gone(make_gateway: StartGateway, fake_lambda: FakeLambda) -> None:
    # Given a $connect function that posts to its own connection (AWS: 410 until $connect returns)
    outcome: dict[str, str] = {}
    endpoint: list[str] = []

    def post_early(event: dict[str, Any]) -> dict[str, Any]:
        try:
            management_client(endpoint[0]).post_to_connection(
                ConnectionId=event["requestContext"]["connectionId"], Data=b"too early"
            )
            outcome["post"] = "sent"
        except ClientError as exc:
            outcome["post"] = exc.response["Error"]["Code"]
        return {"statusCode": 200}

    fake_lambda.handlers["connect"] = post_early
    gateway = make_gateway({"$connect": "connect"})
    endpoint.append(gateway.management_url())

    # When a client connects
    with open_client(gateway.ws_url()) as ws:
        # Then the early post was GoneException, and once open the connection takes posts
        assert outcome == {"post": "GoneException"}
        connection_id = fake_lambda.next_event("connect")["requestContext"]["connectionId"]
        management_client(gateway.management_url()).post_to_connection(
            ConnectionId=connection_id, Data=b"now"
        )
        assert recv(ws) == "now"


# Messages


def test_messages_are_routed_by_the_selection_expression(
    make_gateway: StartGateway, fake_lambda: FakeLambda
) -> None:
    # Given an API with a "chat" route and $default, both with route responses
    fake_lambda.handlers["chat"] = lambda e: {"statusCode": 200, "body": "chat got " + e["body"]}
    fake_lambda.handlers["default"] = lambda e: {"statusCode": 200, "body": "default got " + e["body"]}
    gateway = make_gateway({"chat": ("chat", True), "$default": ("default", True)})

    with open_client(gateway.ws_url(), user_agent_header=None) as ws:
        # When the body's action names the route, it gets the message, with API Gateway's MESSAGE event
        body = json.dumps({"action": "chat", "message": "Hello from client"})
        ws.send(body)
        assert recv(ws) == f"chat got {body}"
        event = fake_lambda.next_event("chat")
        assert shape(event) == shape(fixture("message"))
        context = event["requestContext"]
        assert (context["routeKey"], context["eventType"]) == ("chat", "MESSAGE")
        assert CONNECTION_ID.match(context["messageId"])
        assert event["body"] == body
        assert event["isBase64Encoded"] is False

        # And whatever names no route, or is not JSON, goes to $default
        for other in (
            '{"action": "nope"}',
            "plain text",
            '{"action": 5}',
            '{"action": "$connect"}',
            "[1, 2]",
        ):
            ws.send(other)
            assert recv(ws) == f"default got {other}"
            assert fake_lambda.next_event("default")["requestContext"]["routeKey"] == "$default"


def test_nested_selection_expression(make_gateway: StartGateway, fake_lambda: FakeLambda) -> None:
    fake_lambda.handlers["typing"] = lambda e: {"body": "typing"}
    gateway = make_gateway(
        apis=[
            {
                "stage": "v1",
                "route_selection_expression": "${request.body.message.type}",
                "routes": {"typing": {"function": "typing", "two_way": True}},
            }
        ]
    )
    with open_client(gateway.ws_url()) as ws:
        ws.send('{"message": {"type": "typing"}}')
        assert recv(ws) == "typing"


def test_no_route_is_forbidden_and_the_connection_stays(
    make_gateway: StartGateway, fake_lambda: FakeLambda
) -> None:
    # Given an API with a "chat" route and no $default
    fake_lambda.handlers["chat"] = lambda e: {"statusCode": 200, "body": "ok"}
    gateway = make_gateway({"chat": ("chat", True)})

    with open_client(gateway.ws_url()) as ws:
        # When a message names no route
        ws.send('{"action": "other"}')

        # Then the client gets API Gateway's Forbidden message and stays connected
        answer = recv(ws)
        assert isinstance(answer, str)
        ids = r'"connectionId":"[A-Za-z0-9_-]{15}=", "requestId":"[A-Za-z0-9_-]{15}="'
        assert re.match(r'^\{"message": "Forbidden", ' + ids + r"\}$", answer)
        ws.send('{"action": "chat"}')
        assert recv(ws) == "ok"


def test_failing_route_sends_internal_server_error(
    make_gateway: StartGateway, fake_lambda: FakeLambda
) -> None:
    # Given a $default route whose function fails, and a connection
    fake_lambda.handlers["connect"] = ok
    fake_lambda.handlers["default"] = _raise
    gateway = make_gateway({"$connect": "connect", "$default": "default"})

    with open_client(gateway.ws_url()) as ws:
        connection_id = fake_lambda.next_event("connect")["requestContext"]["connectionId"]

        # When a message fails in the function
        ws.send("hello")

        # Then the client gets API Gateway's error naming its connection and the request, and the
        # connection stays open
        answer = json.loads(recv(ws))
        assert answer["message"] == "Internal server error"
        assert answer["connectionId"] == connection_id
        assert answer["requestId"] == fake_lambda.next_event("default")["requestContext"]["requestId"]
        management_client(gateway.management_url()).post_to_connection(
            ConnectionId=connection_id, Data=b"still here"
        )
        assert recv(ws) == "still here"


def test_only_two_way_routes_answer(make_gateway: StartGateway, fake_lambda: FakeLambda) -> None:
    # Given a $default route without a route response whose function returns a body
    fake_lambda.handlers["connect"] = ok
    fake_lambda.handlers["default"] = lambda e: {"statusCode": 200, "body": "should not be sent"}
    gateway = make_gateway({"$connect": "connect", "$default": "default"})

    with open_client(gateway.ws_url()) as ws:
        connection_id = fake_lambda.next_event("connect")["requestContext"]["connectionId"]

        # When a message has been handled completely
        ws.send("hello")
        fake_lambda.next_event("default")
        gateway.settle()

        # Then nothing came back for it: the next thing the client receives is a post
        management_client(gateway.management_url()).post_to_connection(
            ConnectionId=connection_id, Data=b"marker"
        )
        assert recv(ws) == "marker"


# The management API


def test_management_api_pushes_describes_and_refuses_too_large(
    make_gateway: StartGateway, fake_lambda: FakeLambda
) -> None:
    fake_lambda.handlers["connect"] = ok
    gateway = make_gateway({"$connect": "connect"})
    api = management_client(gateway.management_url())

    with open_client(gateway.ws_url(), user_agent_header="assistec-panel/1.0") as ws:
        connection_id = fake_lambda.next_event("connect")["requestContext"]["connectionId"]

        # A post arrives as a text message, a large one whole (sent in ≤ 32 KB frames)
        api.post_to_connection(
            ConnectionId=connection_id, Data=json.dumps({"type": "order.updated"}).encode()
        )
        assert json.loads(recv(ws)) == {"type": "order.updated"}
        large = "é" * 60_000  # 120,000 bytes of UTF-8
        api.post_to_connection(ConnectionId=connection_id, Data=large.encode())
        assert recv(ws) == large

        # Past 128 KB: PayloadTooLargeException, and nothing is sent
        with pytest.raises(ClientError) as too_large:
            api.post_to_connection(ConnectionId=connection_id, Data=b"x" * (128 * 1024 + 1))
        assert too_large.value.response["Error"]["Code"] == "PayloadTooLargeException"
        assert too_large.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413

        # GetConnection: when it connected, who, when it was last active
        described = api.get_connection(ConnectionId=connection_id)
        assert described["Identity"] == {"SourceIp": "127.0.0.1", "UserAgent": "assistec-panel/1.0"}
        assert described["LastActiveAt"] >= described["ConnectedAt"]


def test_gone_after_the_client_closed(make_gateway: StartGateway, fake_lambda: FakeLambda) -> None:
    # Given a connection whose client closes it without a status code (as the recorded one did)
    fake_lambda.handlers["connect"] = ok
    fake_lambda.handlers["disconnect"] = ok
    gateway = make_gateway({"$connect": "connect", "$disconnect": "disconnect"})
    with open_client(gateway.ws_url(), user_agent_header=None) as ws:
        connection_id = fake_lambda.next_event("connect")["requestContext"]["connectionId"]
        ws.close(code=None)  # type: ignore[arg-type]  # a close frame without a status code

    # Then $disconnect runs with API Gateway's DISCONNECT event for that close
    event = fake_lambda.next_event("disconnect")
    assert header_shape(event) == header_shape(fixture("disconnect"))
    assert event["headers"]["Host"] == event["requestContext"]["domainName"]
    context = event["requestContext"]
    assert context["connectionId"] == connection_id
    assert (context["routeKey"], context["eventType"]) == ("$disconnect", "DISCONNECT")
    assert (context["disconnectStatusCode"], context["disconnectReason"]) == (
        1005,
        "Client-side close frame status not set",
    )

    # And the management API answers GoneException (410) for it
    api = management_client(gateway.management_url())
    calls: list[Callable[[], Any]] = [
        lambda: api.post_to_connection(ConnectionId=connection_id, Data=b"late"),
        lambda: api.get_connection(ConnectionId=connection_id),
        lambda: api.delete_connection(ConnectionId=connection_id),
    ]
    for call in calls:
        with pytest.raises(api.exceptions.GoneException) as gone:
            call()
        assert gone.value.response["ResponseMetadata"]["HTTPStatusCode"] == 410


def test_client_close_code_reaches_disconnect(make_gateway: StartGateway, fake_lambda: FakeLambda) -> None:
    fake_lambda.handlers["disconnect"] = ok
    gateway = make_gateway({"$disconnect": "disconnect"})

    with open_client(gateway.ws_url()) as ws:
        ws.close(code=4001, reason="logged out")

    context = fake_lambda.next_event("disconnect")["requestContext"]
    assert (context["disconnectStatusCode"], context["disconnectReason"]) == (4001, "logged out")


def test_delete_connection_closes_it_and_runs_disconnect(
    make_gateway: StartGateway, fake_lambda: FakeLambda
) -> None:
    # Given an open connection
    fake_lambda.handlers["connect"] = ok
    fake_lambda.handlers["disconnect"] = ok
    gateway = make_gateway({"$connect": "connect", "$disconnect": "disconnect"})
    api = management_client(gateway.management_url())
    with open_client(gateway.ws_url()) as ws:
        connection_id = fake_lambda.next_event("connect")["requestContext"]["connectionId"]

        # When the backend deletes it
        answer = api.delete_connection(ConnectionId=connection_id)

        # Then the call answers 204, the client is closed, $disconnect runs, and the id is gone
        assert answer["ResponseMetadata"]["HTTPStatusCode"] == 204
        assert wait_closed(ws).rcvd is not None
    context = fake_lambda.next_event("disconnect")["requestContext"]
    assert context["connectionId"] == connection_id
    assert context["disconnectStatusCode"] == 1000
    with pytest.raises(api.exceptions.GoneException):
        api.post_to_connection(ConnectionId=connection_id, Data=b"x")


def test_management_api_needs_a_signed_request_on_a_served_path(
    make_gateway: StartGateway, fake_lambda: FakeLambda
) -> None:
    fake_lambda.handlers["connect"] = ok
    gateway = make_gateway({"$connect": "connect"})
    with open_client(gateway.ws_url()):
        connection_id = fake_lambda.next_event("connect")["requestContext"]["connectionId"]

        # An unsigned request: 403 "Missing Authentication Token", as the IAM-authorised endpoint answers
        unsigned = urllib.request.Request(
            f"{gateway.management_url()}/@connections/{connection_id}", data=b"x", method="POST"
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(unsigned, timeout=10)
        assert refused.value.code == 403
        assert refused.value.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"

        # A signed request for a stage the API does not have: ForbiddenException
        wrong_stage = management_client(f"http://127.0.0.1:{gateway.management_port}/prod")
        with pytest.raises(ClientError) as forbidden:
            wrong_stage.post_to_connection(ConnectionId=connection_id, Data=b"x")
        assert forbidden.value.response["Error"]["Code"] == "ForbiddenException"


def test_each_connection_gets_only_its_own_posts(make_gateway: StartGateway, fake_lambda: FakeLambda) -> None:
    # Given 40 connections
    fake_lambda.handlers["connect"] = ok
    gateway = make_gateway({"$connect": "connect"})
    api = management_client(gateway.management_url())
    with contextlib.ExitStack() as stack:
        clients = [stack.enter_context(open_client(gateway.ws_url())) for _ in range(40)]
        ids = [fake_lambda.next_event("connect")["requestContext"]["connectionId"] for _ in clients]
        assert len(set(ids)) == 40

        # When each connection is posted its own id, from several threads at once
        def post(connection_ids: list[str]) -> None:
            for connection_id in connection_ids:
                api.post_to_connection(ConnectionId=connection_id, Data=connection_id.encode())

        threads = [threading.Thread(target=post, args=(ids[i::4],)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)

        # Then every client received exactly one message, and the set of them is the set of ids
        received = {recv(ws) for ws in clients}
        assert received == set(ids)
        assert gateway.call(lambda: len(gateway.gateway.connections)) == 40


def test_apis_sharing_a_stage_are_told_apart(make_gateway: StartGateway, fake_lambda: FakeLambda) -> None:
    # Given two APIs with the same stage name on one gateway
    fake_lambda.handlers["connect"] = ok
    route = {"$connect": {"function": "connect"}}
    gateway = make_gateway(
        apis=[
            {"api_id": "staff", "stage": "v1", "routes": route},
            {"api_id": "public", "stage": "v1", "routes": route},
        ]
    )
    assert gateway.ws_url("staff").endswith("/staff/v1")

    with open_client(gateway.ws_url("staff")) as ws:
        context = fake_lambda.next_event("connect")["requestContext"]
        assert context["apiId"] == "staff"

        # Then the other API's endpoint does not know the connection; its own does
        with pytest.raises(ClientError) as gone:
            management_client(gateway.management_url("public")).post_to_connection(
                ConnectionId=context["connectionId"], Data=b"x"
            )
        assert gone.value.response["Error"]["Code"] == "GoneException"
        management_client(gateway.management_url("staff")).post_to_connection(
            ConnectionId=context["connectionId"], Data=b"mine"
        )
        assert recv(ws) == "mine"


# Limits


def test_idle_connection_is_closed_going_away(make_gateway: StartGateway, fake_lambda: FakeLambda) -> None:
    # Given a short idle timeout
    fake_lambda.handlers["disconnect"] = ok
    gateway = make_gateway({"$disconnect": "disconnect"}, idle_timeout_s=0.5)

    # When a client sends nothing, then the gateway closes it 1001 "Going away" and $disconnect says so
    with open_client(gateway.ws_url()) as ws:
        closed = wait_closed(ws)
    assert closed.rcvd is not None
    assert (closed.rcvd.code, closed.rcvd.reason) == (1001, "Going away")
    context = fake_lambda.next_event("disconnect")["requestContext"]
    assert (context["disconnectStatusCode"], context["disconnectReason"]) == (1001, "Going away")


def test_messages_keep_a_connection_alive(make_gateway: StartGateway, fake_lambda: FakeLambda) -> None:
    # Given a 1.5 s idle timeout
    fake_lambda.handlers["default"] = lambda e: {"body": "pong"}
    gateway = make_gateway({"$default": ("default", True)}, idle_timeout_s=1.5)

    # When a client keeps sending a message every 0.3 s, for twice the idle timeout
    with open_client(gateway.ws_url()) as ws:
        for _ in range(10):
            ws.send("ping")
            assert recv(ws) == "pong"
            threading.Event().wait(0.3)
        # Then it is still open
        ws.send("ping")
        assert recv(ws) == "pong"


def test_connection_ends_at_its_maximum_duration(make_gateway: StartGateway, fake_lambda: FakeLambda) -> None:
    # Given connections that may last 1 s (and may idle for long)
    fake_lambda.handlers["default"] = lambda e: {"body": "pong"}
    gateway = make_gateway({"$default": ("default", True)}, max_connection_s=1, idle_timeout_s=60)

    # When a client keeps talking, then it is closed all the same, 1001 "Going away"
    with open_client(gateway.ws_url()) as ws:
        try:
            while True:
                ws.send("ping")
                ws.recv(timeout=30)
        except ConnectionClosed as exc:
            closed = exc
    assert closed.rcvd is not None
    assert closed.rcvd.code == 1001


@pytest.mark.parametrize(
    ("message", "fits"),
    [
        (["a" * 25_000] * 5, True),  # 125,000 bytes in 25 KB frames
        ("a" * 32 * 1024, True),  # one frame of exactly 32 KB
        ("a" * (32 * 1024 + 1), False),  # one frame over 32 KB (what a browser sends for it)
        (["a" * 30_000] * 5, False),  # 150,000 bytes, every frame under 32 KB
    ],
    ids=["125k-in-frames", "32k-frame", "frame-over-32k", "message-over-128k"],
)
def test_frame_and_message_limits(
    make_gateway: StartGateway, fake_lambda: FakeLambda, message: str | list[str], fits: bool
) -> None:
    fake_lambda.handlers["default"] = lambda e: {"body": str(len(e["body"]))}
    fake_lambda.handlers["disconnect"] = ok
    gateway = make_gateway({"$default": ("default", True), "$disconnect": "disconnect"})

    with open_client(gateway.ws_url(), max_size=None) as ws:
        ws.send(message)
        if fits:
            total = len(message) if isinstance(message, str) else sum(map(len, message))
            assert recv(ws) == str(total)
            return
        closed = wait_closed(ws)
    # Too big: closed with 1009, the function never saw it, $disconnect reports 1009
    assert closed.rcvd is not None
    assert closed.rcvd.code == 1009
    assert fake_lambda.pending("default") == 0
    assert fake_lambda.next_event("disconnect")["requestContext"]["disconnectStatusCode"] == 1009


def test_binary_frames_are_refused(make_gateway: StartGateway, fake_lambda: FakeLambda) -> None:
    fake_lambda.handlers["default"] = ok
    fake_lambda.handlers["disconnect"] = ok
    gateway = make_gateway({"$default": "default", "$disconnect": "disconnect"})

    with open_client(gateway.ws_url()) as ws:
        ws.send(b"\x00\x01binary")
        closed = wait_closed(ws)

    assert closed.rcvd is not None
    assert closed.rcvd.code == 1003
    assert fake_lambda.pending("default") == 0
    assert fake_lambda.next_event("disconnect")["requestContext"]["disconnectStatusCode"] == 1003


def test_health_endpoint_names_the_apis(make_gateway: StartGateway) -> None:
    gateway = make_gateway({"$default": "default"})
    with urllib.request.urlopen(f"http://127.0.0.1:{gateway.port}/_ws_gateway/health", timeout=10) as answer:
        health = json.loads(answer.read())
    assert health == {
        "status": "running",
        "apis": [{"api_id": "testapi", "stage": "v1", "routes": ["$default"]}],
        "connections": 0,
    }
