"""The staff's real-time channel end to end in-process: the REST API issues tickets, the local
WebSocket gateway (the stand-in of API Gateway) runs the real $connect/$disconnect/$default handler,
domain events from the API's outbox reach the push handler, which posts through boto3's
``apigatewaymanagementapi`` to the gateway's management API; all against the test's PostgreSQL."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.conftest import PgDatabase
from tests.integration.conftest import Client, FakeBus, Shop, signup
from tests.integration.realtime_helpers import RealtimeStack, configure_realtime, realtime_stack
from tests.integration.shop_helpers import open_order

__all__ = ["realtime_stack"]  # the fixture, imported for this module's tests


def _ticket(client: Client, token: str) -> dict[str, Any]:
    status, body, _ = client.call("POST", "/realtime/ticket", token)
    assert status == 201, body
    return dict(body)


@contextmanager
def _connected(stack: RealtimeStack, client: Client, token: str) -> Iterator[ClientConnection]:
    with connect(f"{stack.url}?ticket={_ticket(client, token)['ticket']}", open_timeout=20) as ws:
        yield ws


def _recv(ws: ClientConnection, timeout: float = 10) -> dict[str, Any]:
    return dict(json.loads(ws.recv(timeout=timeout)))


def _silent(ws: ClientConnection, wait: float = 0.4) -> bool:
    try:
        ws.recv(timeout=wait)
    except TimeoutError:
        return True
    return False


def _refused(stack: RealtimeStack, query: str) -> int:
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{stack.url}{query}", open_timeout=20)
    return refused.value.response.status_code


def _rows(database: PgDatabase, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(database.superuser_url) as conn:
        return conn.execute(sql, params).fetchall()


def _add_user(client: Client, shop: Shop, role: str, name: str) -> tuple[str, str]:
    """A user of ``role``; (id, access token)."""
    email = f"{role}-{uuid.uuid4().hex[:8]}@exemplo.com.br"
    status, user, _ = client.call(
        "POST",
        "/users",
        shop.access_token,
        body={"email": email, "name": name, "role": role, "password": "senha-do-time"},
    )
    assert status == 201, user
    status, tokens, _ = client.call("POST", "/auth/login", body={"email": email, "password": "senha-do-time"})
    assert status == 200, tokens
    return user["id"], tokens["access_token"]


def _push_published(stack: RealtimeStack, bus: FakeBus, detail_type: str) -> list[dict[str, Any]]:
    """Hand every event the API published of ``detail_type`` to the push function, as EventBridge's
    rule does; its answers."""
    return [stack.push(detail_type, detail) for detail in bus.details(detail_type)]


# --- the ticket ---------------------------------------------------------------------------------------


def test_the_ticket_names_the_websocket_the_stage_serves(
    monkeypatch: pytest.MonkeyPatch, api_root: Any, client: Client
) -> None:
    # Given a stage whose settings name its WebSocket (prod: the API's wss:// stage URL; the local
    # stage: the gateway stand-in's ws:// URL, from the stage config)
    from assistec.settings import ApiSettings

    monkeypatch.setenv("REALTIME_URL", "ws://127.0.0.1:4595/v1")
    monkeypatch.setattr(api_root, "settings", ApiSettings())  # type: ignore[call-arg]  # from the environment
    shop = signup(client)
    # When a signed-in user asks for a ticket
    body = _ticket(client, shop.access_token)
    # Then the answer says where to open the socket with it
    assert body["url"] == "ws://127.0.0.1:4595/v1"
    assert body["ticket"].startswith(f"{shop.tenant_id}.")


def test_a_signed_in_user_gets_a_one_minute_ticket_stored_only_as_a_digest(
    client: Client, database: PgDatabase
) -> None:
    # Given a shop's owner
    shop = signup(client)
    # When they ask for a ticket
    body = _ticket(client, shop.access_token)
    # Then it is "<shop>.<secret>", good for 60 seconds; the deployment did not name a WebSocket URL
    shop_id, secret = body["ticket"].split(".")
    assert shop_id == shop.tenant_id
    assert len(secret) >= 40
    assert body["url"] is None
    rows = _rows(
        database,
        "select user_id::text, role, token_sha256, extract(epoch from expires_at - created_at), used_at "
        "from realtime_tickets where tenant_id = %s",
        shop.tenant_id,
    )
    assert len(rows) == 1
    user_id, role, digest, ttl, used_at = rows[0]
    assert (user_id, role, ttl, used_at) == (shop.owner_id, "owner", 60, None)
    import hashlib

    # And the table holds the secret's SHA-256, never the secret
    assert bytes(digest) == hashlib.sha256(secret.encode()).digest()
    assert secret.encode() not in bytes(digest)


def test_no_ticket_without_a_token(client: Client) -> None:
    status, body, _ = client.call("POST", "/realtime/ticket")
    assert status == 401, body


# --- $connect -----------------------------------------------------------------------------------------


def test_a_ticket_opens_one_connection_and_is_refused_the_second_time(
    realtime_stack: RealtimeStack, client: Client, database: PgDatabase
) -> None:
    shop = signup(client)
    ticket = _ticket(client, shop.access_token)["ticket"]
    # When the WebSocket is opened with the ticket
    with connect(f"{realtime_stack.url}?ticket={ticket}", open_timeout=20) as ws:
        ws.send(json.dumps({"action": "ping", "request_id": "r1"}))
        assert _recv(ws)["type"] == "pong"
        # Then the connection is stored for the shop's owner, with its expiry (2 hours)
        rows = _rows(
            database,
            "select tenant_id::text, user_id::text, role, extract(epoch from expires_at - connected_at) "
            "from realtime_connections where tenant_id = %s",
            shop.tenant_id,
        )
        assert [r[:3] for r in rows] == [(shop.tenant_id, shop.owner_id, "owner")]
        assert 7190 <= rows[0][3] <= 7200
        # And the same ticket opens nothing a second time
        assert _refused(realtime_stack, f"?ticket={ticket}") == 403
    # And closing the connection forgets it ($disconnect, which the gateway runs after the close: the
    # client's close can return before the server's side of it has started that call, so settle()
    # alone may find nothing to wait for yet)
    deadline = time.monotonic() + 30
    while True:
        realtime_stack.gateway.settle()
        left = _rows(database, "select 1 from realtime_connections where tenant_id = %s", shop.tenant_id)
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert left == []


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?ticket=",
        "?ticket=abc",
        "?ticket=3f0e6b1c-9d2a-4e57-8b6c-1a2b3c4d5e6f",
        f"?ticket=nao-e-uuid.{'A' * 43}",
    ],
    ids=["none", "empty", "garbage", "no-secret", "bad-shop"],
)
def test_a_missing_or_malformed_ticket_is_401(realtime_stack: RealtimeStack, query: str) -> None:
    assert _refused(realtime_stack, query) == 401


def test_an_unknown_an_expired_or_another_shops_ticket_is_403_and_stores_nothing(
    realtime_stack: RealtimeStack, client: Client, database: PgDatabase
) -> None:
    a, b = signup(client, name="Loja A Celulares"), signup(client, name="Loja B Informática")
    # An unknown secret
    assert _refused(realtime_stack, f"?ticket={a.tenant_id}.{'A' * 43}") == 403
    # A's secret presented as B's: the ticket is bound to its shop
    secret = _ticket(client, a.access_token)["ticket"].split(".")[1]
    assert _refused(realtime_stack, f"?ticket={b.tenant_id}.{secret}") == 403
    # An expired one (it was issued 61 seconds ago)
    expired = _ticket(client, b.access_token)["ticket"]
    with psycopg.connect(database.superuser_url) as conn:
        conn.execute(
            "update realtime_tickets set created_at = created_at - interval '61 seconds', "
            "expires_at = expires_at - interval '61 seconds' where tenant_id = %s",
            (b.tenant_id,),
        )
    assert _refused(realtime_stack, f"?ticket={expired}") == 403
    # Nothing was stored for either shop; A's ticket is still good for A
    assert (
        _rows(
            database,
            "select 1 from realtime_connections where tenant_id in (%s, %s)",
            a.tenant_id,
            b.tenant_id,
        )
        == []
    )
    with connect(f"{realtime_stack.url}?ticket={a.tenant_id}.{secret}", open_timeout=20):
        pass


def test_a_deactivated_users_ticket_opens_nothing(
    realtime_stack: RealtimeStack, client: Client, database: PgDatabase
) -> None:
    shop = signup(client)
    user_id, token = _add_user(client, shop, "attendant", "Atendente Ana")
    ticket = _ticket(client, token)["ticket"]
    status, user, _ = client.call("GET", f"/users/{user_id}", shop.access_token)
    status, body, _ = client.call(
        "PATCH", f"/users/{user_id}", shop.access_token, body={"version": user["version"], "active": False}
    )
    assert status == 200, body
    assert _refused(realtime_stack, f"?ticket={ticket}") == 403
    assert _rows(
        database, "select used_at is not null from realtime_tickets where user_id = %s", user_id
    ) == [(True,)]


def test_two_handshakes_racing_with_one_ticket_open_one_connection(
    monkeypatch: pytest.MonkeyPatch, client: Client, database: PgDatabase
) -> None:
    from assistec.services.realtime import Refused
    from assistec.settings import RealtimeSettings
    from assistec.wiring.realtime import RealtimeRoot

    shop = signup(client)
    ticket = _ticket(client, shop.access_token)["ticket"]
    configure_realtime(monkeypatch, database, None)
    # Given two Lambda environments (two database connections) handed the same ticket at once
    roots = [RealtimeRoot(RealtimeSettings()) for _ in range(2)]  # type: ignore[call-arg]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def handshake(i: int) -> None:
        barrier.wait()
        try:
            roots[i].realtime.connect(ticket, f"conn-{i}")
            outcomes.append("open")
        except Refused as refused:
            outcomes.append(str(refused.status))

    threads = [threading.Thread(target=handshake, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for root in roots:
        root.close()
    # Then exactly one opened
    assert sorted(outcomes) == ["403", "open"]
    assert (
        len(_rows(database, "select 1 from realtime_connections where tenant_id = %s", shop.tenant_id)) == 1
    )


# --- pushes -------------------------------------------------------------------------------------------


def test_a_shops_events_reach_its_staff_and_never_another_shops(
    realtime_stack: RealtimeStack, client: Client, bus: FakeBus
) -> None:
    a, b = signup(client, name="Loja A Celulares"), signup(client, name="Loja B Informática")
    with (
        _connected(realtime_stack, client, a.access_token) as ws_a,
        _connected(realtime_stack, client, b.access_token) as ws_b,
    ):
        # When shop A opens an order (the API publishes OrderCreated; EventBridge hands it to the push)
        order = open_order(client, a)
        answers = _push_published(realtime_stack, bus, "OrderCreated")
        # Then A's staff get it, with the order's number
        message = _recv(ws_a)
        assert message["type"] == "order.created"
        assert message["data"]["order_id"] == order["id"]
        assert message["data"]["number"] == order["number"]
        assert "tenant_id" not in message["data"]
        assert answers == [{"pushed": True, "sent": 1, "gone": 0}]
        # And B's connection gets nothing
        assert _silent(ws_b)
        # When the order moves, A gets the change and B still nothing
        status, moved, _ = client.call(
            "POST",
            f"/orders/{order['id']}/transitions",
            a.access_token,
            body={"to": "diagnosing", "version": order["version"]},
        )
        assert status == 200, moved
        _push_published(realtime_stack, bus, "OrderStatusChanged")
        changed = _recv(ws_a)
        assert (changed["type"], changed["data"]["status"], changed["data"]["previous_status"]) == (
            "order.status_changed",
            "diagnosing",
            "received",
        )
        assert _silent(ws_b)


def test_a_technician_gets_their_own_orders_and_no_money(
    realtime_stack: RealtimeStack, client: Client, bus: FakeBus
) -> None:
    shop = signup(client)
    tech_1, tech_1_token = _add_user(client, shop, "technician", "Técnico Um")
    _, tech_2_token = _add_user(client, shop, "technician", "Técnico Dois")
    _, attendant_token = _add_user(client, shop, "attendant", "Atendente Ana")
    with (
        _connected(realtime_stack, client, shop.access_token) as owner,
        _connected(realtime_stack, client, tech_1_token) as tech_one,
        _connected(realtime_stack, client, tech_2_token) as tech_two,
        _connected(realtime_stack, client, attendant_token) as attendant,
    ):
        # When an order is opened for technician 1
        order = open_order(client, shop, technician_id=tech_1)
        _push_published(realtime_stack, bus, "OrderCreated")
        # Then the owner, the counter and technician 1 see it; technician 2 does not
        for ws in (owner, tech_one, attendant):
            assert _recv(ws)["data"]["order_id"] == order["id"]
        assert _silent(tech_two)
        # When a payment is received on that order (a money event)
        answer = realtime_stack.push(
            "ChargeStatusChanged",
            {
                "tenant_id": shop.tenant_id,
                "event_id": str(uuid.uuid4()),
                "charge_id": str(uuid.uuid4()),
                "order_id": order["id"],
                "status": "paid",
                "previous_status": "pending",
                "value_cents": 35000,
                "order_paid_cents": 35000,
            },
        )
        # Then only the owner (owner/admin) gets it: not the counter, not even the order's technician
        paid = _recv(owner)
        assert (paid["type"], paid["data"]["value_cents"]) == ("payment.received", 35000)
        assert answer == {"pushed": True, "sent": 1, "gone": 0}
        for ws in (tech_one, tech_two, attendant):
            assert _silent(ws, 0.2)
        # And a WhatsApp conversation waiting for staff goes to the counter, not the bench
        realtime_stack.push(
            "ConversationWaitingForStaff", {"tenant_id": shop.tenant_id, "conversation_id": str(uuid.uuid4())}
        )
        assert _recv(owner)["type"] == "whatsapp.waiting"
        assert _recv(attendant)["type"] == "whatsapp.waiting"
        assert _silent(tech_one, 0.2)
        assert _silent(tech_two, 0.2)


def test_a_gone_connection_is_dropped_on_the_first_failed_post(
    realtime_stack: RealtimeStack, client: Client, database: PgDatabase
) -> None:
    shop = signup(client)
    with _connected(realtime_stack, client, shop.access_token) as live:
        # Given a stored connection the gateway no longer has (its $disconnect was lost)
        with psycopg.connect(database.superuser_url) as conn:
            conn.execute(
                "insert into realtime_connections (connection_id, tenant_id, user_id, role, expires_at) "
                "values ('gone-connection=', %s, %s, 'owner', now() + interval '1 hour')",
                (shop.tenant_id, shop.owner_id),
            )
        # When an event is pushed to the shop
        answer = realtime_stack.push(
            "AppointmentChanged",
            {
                "tenant_id": shop.tenant_id,
                "appointment_id": str(uuid.uuid4()),
                "change": "booked",
                "type": "drop_off",
            },
        )
        # Then the live connection got it, and the gone one (410) was deleted at once
        assert _recv(live)["type"] == "appointment.booked"
        assert answer == {"pushed": True, "sent": 1, "gone": 1}
        assert (
            _rows(database, "select 1 from realtime_connections where connection_id = 'gone-connection='")
            == []
        )


def test_the_sweep_deletes_expired_connections_and_old_tickets_of_every_shop(
    monkeypatch: pytest.MonkeyPatch, client: Client, database: PgDatabase
) -> None:
    from assistec.handlers import realtime
    from tests.conftest import LambdaContext

    a, b = signup(client, name="Loja A Celulares"), signup(client, name="Loja B Informática")
    _ticket(client, a.access_token)
    with psycopg.connect(database.superuser_url) as conn:
        for shop, name, age in (
            (a, "a-old", "3 hours"),
            (b, "b-old", "2 hours 1 minute"),
            (b, "b-new", "1 minute"),
        ):
            conn.execute(
                "insert into realtime_connections "
                "(connection_id, tenant_id, user_id, role, connected_at, expires_at) values "
                "(%s, %s, %s, 'owner', now() - %s::interval, now() - %s::interval + interval '2 hours')",
                (name, shop.tenant_id, shop.owner_id, age, age),
            )
        conn.execute(
            "update realtime_tickets set created_at = created_at - interval '5 minutes', "
            "expires_at = expires_at - interval '5 minutes' where tenant_id = %s",
            (a.tenant_id,),
        )
    configure_realtime(monkeypatch, database, None)
    # When EventBridge's schedule runs the real-time function
    scheduled = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}, "resources": []}
    deleted = realtime.handler(scheduled, LambdaContext(function_name="assistec-test-Realtime"))
    assert deleted["realtime_connections"] >= 2
    assert deleted["realtime_tickets"] >= 1
    left = {
        r[0]
        for r in _rows(
            database,
            "select connection_id from realtime_connections "
            "where connection_id in ('a-old', 'b-old', 'b-new')",
        )
    }
    assert left == {"b-new"}
    assert _rows(database, "select 1 from realtime_tickets where tenant_id = %s", a.tenant_id) == []


# --- the staff chat -----------------------------------------------------------------------------------


def test_the_chat_reaches_the_shops_staff_is_kept_and_stays_in_the_shop(
    realtime_stack: RealtimeStack, client: Client
) -> None:
    a, b = signup(client, name="Loja A Celulares"), signup(client, name="Loja B Informática")
    _, attendant_token = _add_user(client, a, "attendant", "Atendente Ana")
    with (
        _connected(realtime_stack, client, a.access_token) as owner,
        _connected(realtime_stack, client, attendant_token) as attendant,
        _connected(realtime_stack, client, b.access_token) as other_shop,
    ):
        # When the attendant writes in the chat
        attendant.send(
            json.dumps({"action": "chat.send", "text": "  Cliente da OS 12 chegou  ", "request_id": "m1"})
        )
        # Then they get it stored (their answer), the owner gets it pushed, the other shop nothing
        sent = _recv(attendant)
        assert (sent["type"], sent["request_id"], sent["message"]["text"]) == (
            "chat.sent",
            "m1",
            "Cliente da OS 12 chegou",
        )
        assert sent["message"]["author_name"] == "Atendente Ana"
        pushed = _recv(owner)
        assert pushed == {"type": "chat.message", "message": sent["message"]}
        assert _silent(other_shop)
        # And the history (what a reconnecting panel asks for) has it; the other shop's is empty
        owner.send(json.dumps({"action": "chat.history", "limit": 10}))
        history = _recv(owner)
        assert history["type"] == "chat.history"
        assert history["messages"] == [sent["message"]]
        other_shop.send(json.dumps({"action": "chat.history"}))
        assert _recv(other_shop)["messages"] == []


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("não é json", "invalid_json"),
        ("[1, 2]", "invalid_message"),
        ('{"text": "sem ação"}', "invalid_message"),
        ('{"action": "dance"}', "unknown_action"),
        ('{"action": "chat.send"}', "chat_text_required"),
        ('{"action": "chat.send", "text": "   "}', "chat_text_required"),
        (json.dumps({"action": "chat.send", "text": "x" * 2001}), "chat_text_too_long"),
        ('{"action": "chat.send", "text": 12}', "chat_text_required"),
        ('{"action": "chat.history", "limit": 0}', "invalid_limit"),
        ('{"action": "chat.history", "limit": "10"}', "invalid_limit"),
        ('{"action": "ping", "request_id": 5}', "invalid_request_id"),
    ],
)
def test_a_bad_message_gets_a_clear_error_and_stores_nothing(
    realtime_stack: RealtimeStack, client: Client, database: PgDatabase, message: str, code: str
) -> None:
    shop = signup(client)
    with _connected(realtime_stack, client, shop.access_token) as ws:
        ws.send(message)
        answer = _recv(ws)
        assert (answer["type"], answer["code"]) == ("error", code)
        assert answer["message"]
        assert answer["message"][0].isupper()
        assert ws.state.name == "OPEN"
    assert _rows(database, "select 1 from staff_chat_messages where tenant_id = %s", shop.tenant_id) == []
