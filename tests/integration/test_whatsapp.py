"""WhatsApp through the Evolution API, against the database: the shop's number connected and its
state kept, Evolution's deliveries refused or stored once, the bot's answers from the shop's own
data, staff taking over, opt-out; through the API handler, the consumer and the sender, with the
offline Evolution simulator posting its webhooks as Evolution does (tests/fixtures/evolution for
the real captured payloads)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.conftest import PgDatabase
from tests.integration.conftest import Client, FakeBus, Shop, signup
from tests.integration.payment_helpers import _rows
from tests.integration.shop_helpers import _ok
from tests.integration.whatsapp_helpers import (
    WhatsappWorld,
    build_world,
    connect_number,
    envelope,
    post,
    webhook_secret,
)


@pytest.fixture
def world(api_root: Any, api: Any) -> WhatsappWorld:
    return build_world(api_root, api)


def _phone() -> str:
    return f"55119{uuid.uuid4().int % 10**8:08d}"


def _customer(client: Client, shop: Shop, phone: str, name: str = "Ana Souza") -> dict:
    national = phone[2:]
    return _ok(
        client.call(
            "POST",
            "/customers",
            shop.access_token,
            body={"name": name, "phone": f"({national[:2]}) {national[2:]}"},
        )
    )


def _order_for(client: Client, shop: Shop, customer_id: str) -> dict:
    device = _ok(
        client.call(
            "POST",
            f"/customers/{customer_id}/devices",
            shop.access_token,
            body={"type": "phone", "brand": "Apple", "model": "iPhone 11"},
        )
    )
    return _ok(
        client.call(
            "POST",
            "/orders",
            shop.access_token,
            body={"customer_id": customer_id, "device_id": device["id"], "reported_problem": "Tela quebrada"},
        )
    )


def _write(world: WhatsappWorld, name: str, phone: str, text: str, **kwargs: Any) -> list[str]:
    world.sim.inject_message(name, phone, text, **kwargs)
    return world.drain()


# --- the shop's number -----------------------------------------------------------------------------
def test_connecting_the_number_shows_the_qr_and_keeps_the_state(
    client: Client, world: WhatsappWorld, database: PgDatabase
) -> None:
    shop = signup(client)
    # Only owners and admins pair a phone: the QR is a key to the shop's WhatsApp
    status, body, _ = client.call(
        "POST", "/whatsapp/instance", shop.access_token, body={"number": "5511955554444"}
    )
    assert status == 200, body
    assert body["state"] == "connecting"
    assert body["qr_image"].startswith("data:image/png;base64,")
    assert body["pairing_code"]
    name = body["name"]
    # Evolution holds our webhook with the secret header; we keep only its hash and the token's
    instance = world.sim.instances[name]
    assert instance.webhook["url"] == body["webhook_url"]
    secret = webhook_secret(world, name)
    stored = _rows(
        database,
        "select token_ciphertext, webhook_secret_hash from whatsapp_instances where tenant_id = %s",
        shop.tenant_id,
    )
    assert secret.encode() not in bytes(stored[0][1])
    assert instance.token.encode() not in bytes(stored[0][0])
    # Connecting again while pairing creates nothing new: the same instance, a QR again
    again = _ok(client.call("POST", "/whatsapp/instance", shop.access_token, body={}))
    assert again["name"] == name
    assert len(world.sim.instances) == 1
    # The phone scans: connection.update reaches our URL and the state is kept
    world.sim.connect_by_name(name, number="5511955554444")
    assert "state_open" in world.drain()
    status, body, _ = client.call("GET", "/whatsapp/instance", shop.access_token)
    assert (status, body["state"], body["number"], body["qr_image"]) == (200, "open", "5511955554444", None)


def test_an_instance_the_server_lost_is_made_again(client: Client, world: WhatsappWorld) -> None:
    shop = signup(client)
    name = connect_number(client, shop, world)["name"]
    old_secret = webhook_secret(world, name)
    del world.sim.instances[name]  # the Evolution server was reset
    body = _ok(client.call("POST", "/whatsapp/instance", shop.access_token, body={}))
    assert body["state"] == "connecting"
    assert body["qr_image"]
    assert webhook_secret(world, name) != old_secret
    # The old secret is refused from now on
    message = envelope(name, "messages_upsert_incoming_text__capture_masked.json")
    assert post(client, body["webhook_url"], message, old_secret) == 401
    assert post(client, body["webhook_url"], message, webhook_secret(world, name)) == 200


def test_connection_updates_out_of_order_keep_the_newest_state(client: Client, world: WhatsappWorld) -> None:
    shop = signup(client)
    connected = connect_number(client, shop, world)
    url, name = connected["webhook_url"], connected["name"]
    secret = webhook_secret(world, name)

    def update(state: str, at: str) -> dict[str, Any]:
        return {
            "event": "connection.update",
            "instance": name,
            "data": {"instance": name, "state": state, "statusReason": 200},
            "date_time": at,
        }

    # The "connecting" of the pairing, retried by Evolution, lands after the newer "open"
    assert post(client, url, update("open", "2026-11-29T10:00:05.000Z"), secret) == 200
    assert post(client, url, update("connecting", "2026-11-29T10:00:01.000Z"), secret) == 200
    assert world.drain() == ["state_open", "ignored_older_state"]
    assert _ok(client.call("GET", "/whatsapp/instance", shop.access_token))["state"] == "open"


def test_a_dropped_number_tells_the_owner_and_counts_for_the_alarm(
    client: Client, world: WhatsappWorld
) -> None:
    shop = signup(client)
    name = connect_number(client, shop, world)["name"]
    world.sim.close_by_name(name, status_reason=401)
    assert world.drain() == ["disconnected"]
    mail = [m for m in world.mailer.shop_sent if m[0] == shop.email]
    assert len(mail) == 1
    assert "desconectado" in mail[0][2]
    assert _ok(client.call("GET", "/whatsapp/instance", shop.access_token))["state"] in (
        "close",
        "connecting",
    )


def test_disconnecting_removes_the_instance_and_an_unconfigured_server_is_a_clear_503(
    client: Client, world: WhatsappWorld, api_root: Any
) -> None:
    shop = signup(client)
    name = connect_number(client, shop, world)["name"]
    status, body, _ = client.call("DELETE", "/whatsapp/instance", shop.access_token)
    assert (status, body) == (200, {"deleted": True})
    assert name not in world.sim.instances
    assert client.call("GET", "/whatsapp/instance", shop.access_token)[0] == 404

    from assistec.services.whatsapp.server import EvolutionServer, client_factory

    api_root.evolution = client_factory(lambda: EvolutionServer("", ""))
    status, body, _ = client.call("POST", "/whatsapp/instance", shop.access_token, body={})
    assert (status, body["code"]) == (503, "whatsapp_not_configured")


def test_only_owners_and_admins_touch_the_number(client: Client, world: WhatsappWorld) -> None:
    shop = signup(client)
    email = f"balcao-{uuid.uuid4().hex[:8]}@exemplo.com.br"
    _ok(
        client.call(
            "POST",
            "/users",
            shop.access_token,
            body={"name": "Balcão", "email": email, "password": "senha-forte-123", "role": "attendant"},
        )
    )
    login = _ok(client.call("POST", "/auth/login", body={"email": email, "password": "senha-forte-123"}))
    for method in ("POST", "GET", "DELETE"):
        kwargs = {"body": {}} if method == "POST" else {}
        status, body, _ = client.call(method, "/whatsapp/instance", login["access_token"], **kwargs)
        assert status == 403, (method, body)
    assert world.sim.instances == {}


# --- the webhook -----------------------------------------------------------------------------------
def test_refused_deliveries_store_nothing(client: Client, world: WhatsappWorld, database: PgDatabase) -> None:
    shop = signup(client)
    connected = connect_number(client, shop, world)
    url, name = connected["webhook_url"], connected["name"]
    secret = webhook_secret(world, name)
    message = envelope(name, "messages_upsert_incoming_text__capture_masked.json")
    other = signup(client)
    other_name = connect_number(client, other, world, number="5511944443333")["name"]
    before = _rows(database, "select count(*) from whatsapp_inbox where tenant_id = %s", shop.tenant_id)
    for body, header, expected in [
        (message, "errado", 401),
        (message, None, 401),
        # Another shop's instance posted on this shop's URL (with this URL's secret)
        ({**message, "instance": other_name}, secret, 403),
        ("{nope", secret, 422),
        (json.dumps({"instance": name}), secret, 422),
    ]:
        assert post(client, url, body, header) == expected, (body, header)
    # This shop's secret on another shop's URL
    other_url = url.replace(f"/evolution/{shop.tenant_id}", f"/evolution/{other.tenant_id}")
    assert post(client, other_url, message, secret) == 401
    assert (
        _rows(database, "select count(*) from whatsapp_inbox where tenant_id = %s", shop.tenant_id) == before
    )
    assert world.queue.inbound_messages == []


def test_real_payloads_duplicates_and_redeliveries_change_nothing(
    client: Client, world: WhatsappWorld, database: PgDatabase
) -> None:
    shop = signup(client)
    connected = connect_number(client, shop, world)
    url, name = connected["webhook_url"], connected["name"]
    secret = webhook_secret(world, name)
    incoming = envelope("x", "messages_upsert_incoming_text__capture_masked.json")
    incoming["instance"] = name
    incoming["data"]["key"]["id"] = f"3EB0{uuid.uuid4().hex[:16].upper()}"
    # The captured body carries the instance token in apikey: never stored
    assert post(client, url, incoming, secret) == 200
    assert post(client, url, incoming, secret) == 200  # Evolution's retry: stored once
    outcomes = world.drain()
    assert (outcomes.count("answered"), outcomes.count("already_processed")) == (1, 1), outcomes
    payload = _rows(
        database,
        "select payload from whatsapp_inbox where tenant_id = %s and event = %s",
        shop.tenant_id,
        "messages.upsert",
    )
    assert all("apikey" not in json.loads(p[0]) for p in payload)
    # After it was applied, a redelivery is stored nowhere new and answered nowhere new
    sends = len(world.sim.sent)
    assert post(client, url, incoming, secret) == 200
    assert world.drain() == []
    assert len(world.sim.sent) == sends
    # Kept but ignored: an image (stored, the bot answers as for any message), a reaction, a group
    image = envelope(name, "messages_upsert_image__capture_masked_truncated.json")
    assert post(client, url, image, secret) == 200
    reaction = {
        "event": "messages.upsert",
        "instance": name,
        "data": {
            "key": {
                "remoteJid": "5511988887777@s.whatsapp.net",
                "fromMe": False,
                "id": "REACT" + uuid.uuid4().hex[:10],
            },
            "message": {"reactionMessage": {"text": "👍", "key": {"id": "x"}}},
            "messageType": "reactionMessage",
        },
    }
    group = json.loads(json.dumps(reaction))
    group["data"]["key"].update(remoteJid="120363000000000000@g.us", id="GROUP" + uuid.uuid4().hex[:10])
    group["data"]["message"] = {"conversation": "oi grupo"}
    unknown = json.loads(json.dumps(reaction))
    unknown["event"] = "contacts.upsert"
    for body in (reaction, group, unknown):
        assert post(client, url, body, secret) == 200
    outcomes = world.drain()
    assert {"ignored_reaction", "ignored_group", "ignored_event"} <= set(outcomes), outcomes
    kinds = _rows(
        database,
        "select kind from wa_messages where tenant_id = %s and direction = 'in' order by created_at",
        shop.tenant_id,
    )
    assert [k[0] for k in kinds] == ["text", "image"]
    # A delivery with U+0000 in its strings and an empty message id (real: PROVIDERS §1.4) is stored
    odd = envelope(name, "messages_upsert_incoming_text__capture_masked.json")
    odd["data"]["key"]["id"] = ""
    odd["data"]["message"]["conversation"] = "oi\u0000"
    assert post(client, url, odd, secret) == 200


def test_a_queue_down_at_ingress_answers_503_and_the_redelivery_enqueues(
    client: Client, world: WhatsappWorld
) -> None:
    shop = signup(client)
    connected = connect_number(client, shop, world)
    url, name = connected["webhook_url"], connected["name"]
    secret = webhook_secret(world, name)
    message = envelope(name, "messages_upsert_incoming_text__capture_masked.json")
    message["data"]["key"]["id"] = "Q" + uuid.uuid4().hex[:12]
    world.queue.down = True
    assert post(client, url, message, secret) == 503
    world.queue.down = False
    assert post(client, url, message, secret) == 200  # Evolution retries a 5xx
    assert world.drain().count("answered") == 1


# --- the bot ---------------------------------------------------------------------------------------
def test_the_price_of_a_repair_comes_from_the_shops_rule_and_never_invented(
    client: Client, world: WhatsappWorld, database: PgDatabase
) -> None:
    shop = signup(client, name="Conserta Já")
    name = connect_number(client, shop, world)["name"]
    for rule in (
        {
            "service": "Troca de tela",
            "device_type": "phone",
            "brand": "Apple",
            "model": "iPhone 11",
            "price_cents": 45000,
        },
        {
            "service": "Troca de tela",
            "device_type": "phone",
            "brand": "Apple",
            "model": "iPhone 11 Pro",
            "price_cents": 65000,
        },
    ):
        _ok(client.call("POST", "/price-rules", shop.access_token, body=rule))
    customer = _phone()
    # A burst: three messages answered once, read together
    world.sim.inject_message(name, customer, "oi")
    world.sim.inject_message(name, customer, "quanto custa trocar a tela")
    world.sim.inject_message(name, customer, "do iphone 11")
    outcomes = world.drain()
    assert (outcomes.count("stored_burst"), outcomes.count("answered")) == (2, 1), outcomes
    texts = world.texts_to(customer)
    assert len(texts) == 1, texts
    assert "R$ 450,00" in texts[0], texts
    assert "Troca de tela" in texts[0], texts
    # The bot's send is recorded with WhatsApp's id; its fromMe echo did not hand the chat to staff
    rows = _rows(
        database,
        "select c.state, m.status, m.evolution_id is not null from wa_messages m "
        "join wa_conversations c on c.id = m.conversation_id where m.tenant_id = %s and m.author = 'bot'",
        shop.tenant_id,
    )
    assert rows == [("bot", "sent", True)]
    # Not said: the bot asks, then answers from the rule for what was said
    second = _phone()
    _write(world, name, second, "quanto custa a troca de tela?")
    assert "aparelho" in world.texts_to(second)[-1].lower()
    _write(world, name, second, "é um iphone 11 pro")
    assert "R$ 650,00" in world.texts_to(second)[-1]
    # No rule for it: no price at all, a person takes over
    third = _phone()
    _write(world, name, third, "quanto custa trocar a bateria do galaxy s20")
    answer = world.texts_to(third)[-1]
    assert "R$" not in answer
    assert "atendente" in answer
    state = _rows(
        database,
        "select state from wa_conversations where tenant_id = %s and phone = %s",
        shop.tenant_id,
        third,
    )
    assert state == [("waiting_staff",)]


def test_a_customer_sees_only_their_own_orders(client: Client, world: WhatsappWorld) -> None:
    shop = signup(client)
    name = connect_number(client, shop, world)["name"]
    ana, bruno = _phone(), _phone()
    ana_id = _customer(client, shop, ana)["id"]
    bruno_id = _customer(client, shop, bruno, name="Bruno Lima")["id"]
    ana_order = _order_for(client, shop, ana_id)
    bruno_order = _order_for(client, shop, bruno_id)
    _write(world, name, ana, "qual o status da minha OS?")
    answer = world.texts_to(ana)[-1]
    assert f"OS {ana_order['number']}" in answer
    assert "/public/orders/" in answer
    assert f"OS {bruno_order['number']}" not in answer
    # Typing another customer's order number finds nothing
    _write(world, name, ana, f"e a OS {bruno_order['number']}?")
    answer = world.texts_to(ana)[-1]
    assert answer.startswith("Não encontrei")
    assert f"OS {bruno_order['number']}" not in answer
    assert bruno_order["tracking_token"] not in answer
    # An unknown number has no orders
    stranger = _phone()
    _write(world, name, stranger, "minha OS ficou pronta?")
    assert "Não encontrei" in world.texts_to(stranger)[-1]


def test_staff_on_the_phone_silence_the_bot_and_a_release_brings_it_back(
    client: Client, world: WhatsappWorld, database: PgDatabase
) -> None:
    shop = signup(client)
    connected = connect_number(client, shop, world)
    url, name = connected["webhook_url"], connected["name"]
    customer = _phone()
    _write(world, name, customer, "oi")
    assert len(world.texts_to(customer)) == 1  # the menu
    # Staff type on the shop's phone: a fromMe message, never answered, the human took over
    typed = envelope(name, "messages_upsert_outgoing_text_fromMe__capture_masked.json")
    typed["data"]["key"].update(remoteJid=f"{customer}@s.whatsapp.net", id="PHONE" + uuid.uuid4().hex[:10])
    assert post(client, url, typed, webhook_secret(world, name)) == 200
    assert world.drain() == ["stored_from_me"]
    _write(world, name, customer, "quanto custa?")
    assert len(world.texts_to(customer)) == 1  # silent: the conversation is with staff
    conversation = _rows(
        database, "select id, state, unread from wa_conversations where tenant_id = %s", shop.tenant_id
    )
    assert conversation[0][1] == "with_staff"
    assert conversation[0][2] == 2
    cid = str(conversation[0][0])
    # The staff queue lists it; reading clears the unread count
    listed = _ok(client.call("GET", "/conversations", shop.access_token, query={"state": "with_staff"}))
    assert [c["id"] for c in listed["items"]] == [cid]
    messages = _ok(client.call("GET", f"/conversations/{cid}/messages", shop.access_token))["items"]
    assert [m["author"] for m in messages] == ["customer", "bot", "phone", "customer"]
    # Staff answer from the panel: sent through the number, recorded with the user
    reply = _ok(
        client.call("POST", f"/conversations/{cid}/messages", shop.access_token, body={"text": "Já vejo!"})
    )
    assert reply["status"] == "queued"
    assert reply["user_id"] == shop.owner_id
    world.drain()
    assert world.texts_to(customer)[-1] == "Já vejo!"
    # Released to the bot: it answers again
    assert _ok(client.call("POST", f"/conversations/{cid}/release", shop.access_token))["state"] == "bot"
    _write(world, name, customer, "menu")
    assert len(world.texts_to(customer)) == 3


def test_opt_out_stops_automatic_messages_until_they_write_again(
    client: Client, world: WhatsappWorld, database: PgDatabase
) -> None:
    shop = signup(client)
    name = connect_number(client, shop, world)["name"]
    customer = _phone()
    _write(world, name, customer, "PARAR")
    assert "não vai mais receber" in world.texts_to(customer)[-1]
    row = _rows(
        database,
        "select c.opted_out_at is not null, m.body from wa_conversations c join wa_messages m "
        "on m.id = c.opt_out_message_id where c.tenant_id = %s",
        shop.tenant_id,
    )
    assert row == [(True, "PARAR")]  # kept as evidence
    _write(world, name, customer, "oi de novo")
    assert _rows(
        database, "select opted_out_at from wa_conversations where tenant_id = %s", shop.tenant_id
    ) == [(None,)]


def test_lid_addressed_messages_reach_the_same_conversation(
    client: Client, world: WhatsappWorld, database: PgDatabase
) -> None:
    shop = signup(client)
    name = connect_number(client, shop, world)["name"]
    phone = _phone()
    customer_id = _customer(client, shop, phone)["id"]
    lid = str(uuid.uuid4().int % 10**15)
    _write(world, name, phone, "oi", lid=lid, version="2.3.6", addressing="lid")
    _write(world, name, None, "menu", lid=lid)  # the phone not given at all this time
    rows = _rows(
        database, "select phone, lid, customer_id from wa_conversations where tenant_id = %s", shop.tenant_id
    )
    assert rows == [(phone, lid, uuid.UUID(customer_id))]


def test_the_bots_texts_are_the_shops(client: Client, world: WhatsappWorld) -> None:
    shop = signup(client)
    name = connect_number(client, shop, world)["name"]
    current = _ok(client.call("GET", "/settings/whatsapp", shop.access_token))
    assert current["version"] == 0
    assert "{{LOJA}}" in current["templates"]["menu"]
    status, body, _ = client.call(
        "PUT",
        "/settings/whatsapp",
        shop.access_token,
        body={"version": 0, "templates": {"menu": "Oi! {{NADA}}"}},
    )
    assert status == 422
    assert "menu" in body["details"]["templates"]
    saved = _ok(
        client.call(
            "PUT",
            "/settings/whatsapp",
            shop.access_token,
            body={"version": 0, "templates": {"menu": "Bem-vindo à {{LOJA}}! 1 preço, 5 atendente"}},
        )
    )
    assert saved["version"] == 1
    assert saved["overrides"] == {"menu": "Bem-vindo à {{LOJA}}! 1 preço, 5 atendente"}
    assert (
        client.call("PUT", "/settings/whatsapp", shop.access_token, body={"version": 0, "templates": {}})[0]
        == 409
    )
    customer = _phone()
    _write(world, name, customer, "oi")
    assert world.texts_to(customer)[-1].startswith("Bem-vindo à Conserta Já Assistência!")


def test_an_ambiguous_send_is_never_repeated(
    client: Client, world: WhatsappWorld, database: PgDatabase
) -> None:
    shop = signup(client)
    name = connect_number(client, shop, world)["name"]
    customer = _phone()
    world.sim.lose_answers.append("POST /message/sendText/*")  # WhatsApp took it, the answer died
    _write(world, name, customer, "oi")
    assert len(world.texts_to(customer)) == 1
    rows = _rows(
        database, "select status from wa_messages where tenant_id = %s and author = 'bot'", shop.tenant_id
    )
    # Its echo gave it WhatsApp's id; it is never sent again
    assert rows in ([("unknown",)], [("sent",)]), rows
    assert world.drain() == []


def test_out_of_hours_a_person_is_promised_for_when_the_shop_opens(
    client: Client, world: WhatsappWorld
) -> None:
    from datetime import UTC, datetime

    shop = signup(client)
    name = connect_number(client, shop, world)["name"]
    world.now = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)  # a Sunday evening in São Paulo: closed
    customer = _phone()
    _write(world, name, customer, "quero falar com um atendente")
    assert "fora do horário" in world.texts_to(customer)[-1]
    _write(world, name, customer, "alguém aí?")
    assert len(world.texts_to(customer)) == 1  # waiting for staff: the bot stays silent
    # What needs no person is answered at any hour
    other = _phone()
    _write(world, name, other, "oi")
    assert world.texts_to(other)[-1].startswith("Olá! Este é o atendimento automático")


# --- status messages ---------------------------------------------------------------------------------
def _moved(bus: FakeBus, order_id: str) -> list[dict[str, Any]]:
    """The order's OrderStatusChanged events as EventBridge carries them (detail with event and shop)."""
    return [d for d in bus.details("OrderStatusChanged") if d["order_id"] == order_id]


def test_an_order_that_moves_tells_its_customer_once(
    client: Client, world: WhatsappWorld, bus: FakeBus, database: PgDatabase
) -> None:
    shop = signup(client, name="Conserta Já")
    connect_number(client, shop, world)
    phone = _phone()
    customer_id = _customer(client, shop, phone, name="Ana Souza")["id"]
    order = _order_for(client, shop, customer_id)
    path = f"/orders/{order['id']}/transitions"
    # Diagnosing is not told by default; waiting for parts is
    _ok(client.call("POST", path, shop.access_token, body={"to": "diagnosing", "version": order["version"]}))
    [diagnosing] = _moved(bus, order["id"])
    assert world.status.tell(diagnosing) == "skipped_off"
    # The shop turns diagnosing on: a later event of it is told, with the shop's data
    settings = _ok(client.call("GET", "/settings/whatsapp", shop.access_token))
    assert settings["status_messages"] == ["received", "waiting_parts", "ready", "delivered"]
    _ok(
        client.call(
            "PUT",
            "/settings/whatsapp",
            shop.access_token,
            body={"version": settings["version"], "status_messages": ["diagnosing", "ready"]},
        )
    )
    redelivered = {**diagnosing}
    assert world.status.tell(redelivered) == "already_told"  # the same event: decided once
    again = {**diagnosing, "event_id": str(uuid.uuid4())}
    assert world.status.tell(again) == "queued"
    world.drain()
    [text] = world.texts_to(phone)
    assert text.startswith("Olá, Ana! Seu Apple iPhone 11 (OS ")
    assert f"OS {order['number']}" in text
    # Told once, whatever the queue redelivers
    assert world.status.tell(again) == "already_told"
    world.drain()
    assert len(world.texts_to(phone)) == 1
    # A transition undone within the minute (the queue holds each a minute) is not told
    stale = {**again, "event_id": str(uuid.uuid4()), "status": "ready"}
    assert world.status.tell(stale) == "skipped_undone"
    # The customer opted out: no automatic messages
    _write(world, connect_name(database, shop), phone, "PARAR")
    opted = {**again, "event_id": str(uuid.uuid4())}
    assert world.status.tell(opted) == "skipped_opted_out"
    outcomes = _rows(
        database,
        "select outcome from wa_status_notices where tenant_id = %s order by created_at",
        shop.tenant_id,
    )
    assert [o[0] for o in outcomes] == ["skipped_off", "queued", "skipped_undone", "skipped_opted_out"]


def connect_name(database: PgDatabase, shop: Shop) -> str:
    return str(
        _rows(database, "select name from whatsapp_instances where tenant_id = %s", shop.tenant_id)[0][0]
    )


# --- media ----------------------------------------------------------------------------------------
def test_customers_files_are_fetched_to_s3_when_the_shop_keeps_them(
    client: Client, world: WhatsappWorld, database: PgDatabase
) -> None:
    from assistec.services.whatsapp.media import MAX_BYTES

    shop = signup(client)
    name = connect_number(client, shop, world)["name"]
    customer = _phone()
    photo = b"\xff\xd8\xff\xe0" + b"foto da tela quebrada" * 50
    # Not kept by default: recorded with its facts, never fetched
    world.sim.inject_media(name, customer, "image", photo, mimetype="image/jpeg", caption="olha a tela")
    assert not any(o.startswith("media:") for o in world.drain())
    assert world.store.objects == {}
    settings = _ok(client.call("GET", "/settings/whatsapp", shop.access_token))
    _ok(
        client.call(
            "PUT",
            "/settings/whatsapp",
            shop.access_token,
            body={"version": settings["version"], "fetch_media": True},
        )
    )
    world.sim.inject_media(name, customer, "image", photo, mimetype="image/jpeg", caption="de novo")
    world.sim.inject_media(
        name, customer, "document", b"%PDF-1.4 nota", mimetype="application/pdf", file_name="nota.pdf"
    )
    outcomes = world.drain()
    assert outcomes.count("media:stored") == 2, outcomes
    stored = {content for content, _ in world.store.objects.values()}
    assert stored == {photo, b"%PDF-1.4 nota"}
    assert all(key.startswith(f"whatsapp/{shop.tenant_id}/") for key in world.store.objects)
    # Staff read them through a short-lived link; the caption is the message's text
    [conversation] = _ok(client.call("GET", "/conversations", shop.access_token))["items"]
    messages = _ok(client.call("GET", f"/conversations/{conversation['id']}/messages", shop.access_token))[
        "items"
    ]
    kept = [m for m in messages if m["media_url"]]
    assert [m["body"] for m in kept] == ["de novo", None]
    assert kept[0]["media"]["mimetype"] == "image/jpeg"
    # A file larger than the limit is recorded as such and never fetched
    world.sim.inject_media(name, customer, "video", b"0" * (MAX_BYTES + 1), mimetype="video/mp4")
    assert not any(o.startswith("media:") for o in world.drain())
    # One whose file WhatsApp no longer has: recorded, not retried forever
    world.sim.inject_media(name, customer, "audio", b"OggS audio", mimetype="audio/ogg")
    world.sim.media.clear()
    assert "media:gone" in world.drain()


def test_a_reply_whose_queue_message_was_lost_is_sent_by_the_relays_sweep(
    client: Client, world: WhatsappWorld, api_root: Any
) -> None:
    from assistec.services.whatsapp.sweep import requeue_replies

    shop = signup(client)
    name = connect_number(client, shop, world)["name"]
    customer = _phone()
    world.sim.inject_message(name, customer, "oi")
    # The consumer answers, but SQS refuses the reply's hand-off after the commit
    pending = list(world.queue.inbound_messages)
    world.queue.inbound_messages.clear()
    world.queue.down = True
    for tenant_id, instance, delivery_id, _ in pending:
        assert world.inbox.apply(tenant_id, instance, delivery_id) == "answered"
    world.queue.down = False
    assert world.queue.outbound_messages == []
    assert world.texts_to(customer) == []
    # The relay's sweep finds it (across shops, through its definer function) and hands it on
    assert requeue_replies(api_root.database, world.queue, older_than_s=0) >= 1
    mine = [m for m in world.queue.outbound_messages if str(m[0]) == shop.tenant_id]
    assert len(mine) == 1
    world.queue.outbound_messages[:] = mine  # other tests' leftovers are not this test's to send
    world.drain()
    assert len(world.texts_to(customer)) == 1
    # Sent: the next sweep does not find it again
    assert [m for m in world.queue.outbound_messages if str(m[0]) == shop.tenant_id] == []
    requeue_replies(api_root.database, world.queue, older_than_s=0)
    assert [m for m in world.queue.outbound_messages if str(m[0]) == shop.tenant_id] == []
