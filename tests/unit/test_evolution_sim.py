"""The offline Evolution (localstack/evolution_sim) against Evolution's real deliveries
(tests/fixtures/evolution): envelope and event shapes, ``@lid`` addressing, the fromMe echo of our
sends, receipts, connection events, webhook headers and Evolution's retry schedule; and the HTTP
server on an ephemeral 127.0.0.1 port answering as the in-process transport does."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from evolution_sim import Delivery, EvolutionSimulator, SimulatorError, serve
from evolution_sim.payloads import create_jid
from evolution_sim.webhooks import deliver_with_retries, next_delay_s

from assistec.domain.whatsapp import message_kind, message_text, phone_variants, sender_of
from assistec.integrations.evolution import EvolutionClient, EvolutionError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "evolution"
KEY = "global-key-for-tests-0001"
TOKEN = "INSTANCE-TOKEN-0001"
SHOP = "tenant-42"
HOOK = "https://api.test/v1/webhooks/evolution/shop.key"
SECRET = {"x-assistec-secret": "webhook-secret-0001"}


def _fixture(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / name).read_text()))


FIXTURE_FILES = sorted(p.name for p in FIXTURES.glob("*.json"))
INCOMING = _fixture("messages_upsert_incoming_text__capture_masked.json")
OUTGOING = _fixture("messages_upsert_outgoing_text_fromMe__capture_masked.json")
V2_DOC = _fixture("messages_upsert_v2_with_status_instanceId__doc.json")
CLOSE = _fixture("connection_update_close__capture_masked.json")


def shape(value: Any) -> Any:
    """The structure of a JSON value: dicts keep their keys, leaves become their type's name."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value]
    return type(value).__name__


class Receiver:
    """Our webhook endpoint: answers the statuses queued in ``answers`` (then 200) and keeps what
    it received."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, str], dict[str, Any]]] = []
        self.answers: list[int | Exception] = []

    def __call__(self, url: str, headers: dict[str, str], body: bytes) -> int:
        self.received.append((url, headers, json.loads(body)))
        answer = self.answers.pop(0) if self.answers else 200
        if isinstance(answer, Exception):
            raise answer
        return answer

    def events(self, name: str) -> list[dict[str, Any]]:
        return [body for _, _, body in self.events_of(name)]

    def events_of(self, name: str) -> list[tuple[str, dict[str, str], dict[str, Any]]]:
        return [r for r in self.received if r[2]["event"] == name]


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def sim(receiver: Receiver, sleeps: list[float]) -> EvolutionSimulator:
    return EvolutionSimulator(KEY, deliver=receiver, sleep=sleeps.append, jitter=0.0)


@pytest.fixture
def client(sim: EvolutionSimulator) -> EvolutionClient:
    return EvolutionClient("http://evolution.test", KEY, transport=sim.transport(), sleep=lambda s: None)


@pytest.fixture
def paired(sim: EvolutionSimulator, client: EvolutionClient, receiver: Receiver) -> EvolutionSimulator:
    """The shop's instance, paired; what pairing posted is left out of ``receiver`` and ``deliveries``."""
    client.create_instance(
        SHOP,
        token=TOKEN,
        webhook_url=HOOK,
        webhook_headers=SECRET,
        events=["MESSAGES_UPSERT", "MESSAGES_UPDATE", "CONNECTION_UPDATE"],
    )
    sim.connect_by_name(SHOP, number="5511999990000", profile_name="Conserta Já")
    assert [body["data"]["state"] for _, _, body in receiver.events_of("connection.update")] == [
        "connecting",
        "open",
    ]
    receiver.received.clear()
    sim.deliveries.clear()
    return sim


# --- shapes against the real deliveries ----------------------------------------------------------
def test_the_fixtures_are_the_shared_captures_and_share_one_envelope() -> None:
    # Guard against comparing with nothing: the five captures, each with Evolution's envelope
    assert len(FIXTURE_FILES) == 5
    envelopes = {frozenset(_fixture(name)) for name in FIXTURE_FILES}
    assert envelopes == {
        frozenset({"event", "instance", "data", "destination", "date_time", "sender", "server_url", "apikey"})
    }


def test_every_delivery_has_the_envelope_of_the_real_ones(
    paired: EvolutionSimulator, receiver: Receiver
) -> None:
    # Given a customer message, one of our sends and a disconnection
    paired.inject_message(SHOP, "5511988887777", "hola - text")
    EvolutionClient("http://evolution.test", KEY, transport=paired.transport()).send_text(
        SHOP, "5511988887777", "Olá"
    )
    paired.close_by_name(SHOP)
    # Then every body posted has the fixtures' envelope, with the same types
    assert {body["event"] for _, _, body in receiver.received} == {"connection.update", "messages.upsert"}
    for _, _, body in receiver.received:
        assert set(body) == set(V2_DOC)
        envelope = {k: shape(v) for k, v in body.items() if k != "data"}
        assert envelope == {k: shape(v) for k, v in V2_DOC.items() if k != "data"}
        assert body["instance"] == SHOP
        assert body["destination"] == HOOK
        assert body["sender"] == "5511999990000@s.whatsapp.net"  # the shop's own number
        assert body["apikey"] == TOKEN  # the instance's token, exposed as by default


def test_an_incoming_text_has_the_shape_of_a_real_one(paired: EvolutionSimulator, receiver: Receiver) -> None:
    # When a customer writes
    paired.inject_message(SHOP, "5511988887777", "hola - text", push_name="Cliente Teste")
    data = receiver.events("messages.upsert")[-1]["data"]
    # Then data is 2.3's shape: the v2 capture's keys exactly (status, instanceId)...
    assert shape(data) == shape(V2_DOC["data"])
    # ...and the v2 capture of real traffic's, with 1.x's owner now instanceId and the status added
    captured = set(INCOMING["data"]) - {"owner"} | {"instanceId", "status"}
    assert set(data) == captured
    assert shape(data["key"]) == shape(INCOMING["data"]["key"])
    assert data["message"] == {"conversation": "hola - text"}
    assert (data["key"]["fromMe"], data["status"], data["messageType"]) == (
        False,
        "DELIVERY_ACK",
        "conversation",
    )
    # And the rules read it as they read the real capture
    for payload in (data, INCOMING["data"]):
        assert sender_of(payload).phone == "5511988887777"
        assert (message_text(payload), message_kind(payload)) == ("hola - text", "text")


def test_each_send_is_echoed_as_a_from_me_upsert_like_the_real_one(
    paired: EvolutionSimulator, receiver: Receiver, client: EvolutionClient
) -> None:
    # When we send a text
    answer = client.send_text(SHOP, "5511988887777", "menasje saliente solo texto")
    # Then Evolution posts it back as a fromMe messages.upsert, with the send's id
    echo = receiver.events("messages.upsert")[-1]["data"]
    assert echo["key"] == answer["key"]
    assert echo["key"]["fromMe"] is True
    assert set(echo["key"]) == set(OUTGOING["data"]["key"])
    assert echo["message"] == OUTGOING["data"]["message"] | {"conversation": "menasje saliente solo texto"}
    assert shape(echo) == shape(V2_DOC["data"])  # the v2 capture is itself a fromMe echo
    assert echo["pushName"] == "Conserta Já"
    assert sender_of(echo).from_me


def test_a_disconnection_has_the_shape_of_the_real_one(
    paired: EvolutionSimulator, receiver: Receiver
) -> None:
    paired.close_by_name(SHOP, status_reason=401)
    delivered = receiver.events("connection.update")[-1]
    assert delivered["data"] == {"instance": SHOP, "state": "close", "statusReason": 401}
    assert shape(delivered["data"]) == shape(CLOSE["data"])


def test_pairing_posts_the_open_state_with_the_shops_number(
    sim: EvolutionSimulator, client: EvolutionClient, receiver: Receiver
) -> None:
    client.create_instance(SHOP, token=TOKEN, webhook_url=HOOK, webhook_headers=SECRET)
    connecting = receiver.events("connection.update")[-1]
    assert connecting["data"]["state"] == "connecting"
    assert "sender" not in connecting  # not paired yet: Evolution has no wuid to put there
    assert receiver.events("qrcode.updated")[-1]["data"]["qrcode"]["base64"].startswith("data:image/png")
    sim.connect_by_name(SHOP, number="5511999990000")
    opened = receiver.events("connection.update")[-1]["data"]
    assert (opened["state"], opened["statusReason"], opened["wuid"]) == (
        "open",
        200,
        "5511999990000@s.whatsapp.net",
    )


# --- @lid ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("version", "addressing", "key"),
    [
        (
            "2.3.6",
            "lid",
            {
                "remoteJid": "154417159582282@lid",
                "remoteJidAlt": "5511987654321@s.whatsapp.net",
                "addressingMode": "lid",
            },
        ),
        (
            "2.3.6",
            "pn",
            {
                "remoteJid": "5511987654321@s.whatsapp.net",
                "remoteJidAlt": "154417159582282@lid",
                "addressingMode": "pn",
            },
        ),
        ("2.3.0", "lid", {"remoteJid": "154417159582282@lid", "senderPn": "5511987654321@s.whatsapp.net"}),
    ],
)
def test_a_message_addressed_by_lid_carries_the_phone_where_that_version_does(
    paired: EvolutionSimulator, receiver: Receiver, version: str, addressing: str, key: dict[str, Any]
) -> None:
    paired.inject_message(
        SHOP, "5511987654321", "oi", lid="154417159582282", version=version, addressing=addressing
    )
    data = receiver.events("messages.upsert")[-1]["data"]
    assert {k: v for k, v in data["key"].items() if k not in ("id", "fromMe")} == key
    sender = sender_of(data)
    assert (sender.phone, sender.lid) == ("5511987654321", "154417159582282")


def test_a_lid_without_a_phone(paired: EvolutionSimulator, receiver: Receiver) -> None:
    paired.inject_message(SHOP, None, "oi", lid="13718")
    data = receiver.events("messages.upsert")[-1]["data"]
    assert data["key"]["remoteJid"] == "13718@lid"
    assert "remoteJidAlt" not in data["key"]
    assert (sender_of(data).phone, sender_of(data).lid) == (None, "13718")


def test_nothing_reaches_a_closed_instance(paired: EvolutionSimulator, receiver: Receiver) -> None:
    paired.close_by_name(SHOP)
    with pytest.raises(SimulatorError):
        paired.inject_message(SHOP, "5511987654321", "oi")
    assert receiver.events("messages.upsert") == []


# --- sends, JIDs, receipts -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("number", "jid"),
    [
        ("5581997088404", "558197088404@s.whatsapp.net"),  # DDD >= 31, next digit >= 7: the 9 goes
        ("5511987654321", "5511987654321@s.whatsapp.net"),  # DDD < 31: kept
        ("5531965432100", "5531965432100@s.whatsapp.net"),  # next digit < 7: kept
        ("+55 (81) 99708-8404", "558197088404@s.whatsapp.net"),
        ("154417159582282@lid", "154417159582282@lid"),
    ],
)
def test_numbers_become_jids_as_evolution_spells_them(number: str, jid: str) -> None:
    assert create_jid(number) == jid


def test_a_send_to_an_old_account_is_echoed_with_the_jid_a_customer_match_needs(
    paired: EvolutionSimulator, receiver: Receiver, client: EvolutionClient
) -> None:
    # Given a customer stored with the ninth digit, in an area whose old accounts lose it
    client.send_text(SHOP, "5581997088404", "Seu aparelho está pronto")
    echo = receiver.events("messages.upsert")[-1]["data"]
    # Then the echo's JID lacks the 9, and the rules still match it to the customer
    assert echo["key"]["remoteJid"] == "558197088404@s.whatsapp.net"
    assert sender_of(echo).phone == "5581997088404"
    assert "558197088404" in phone_variants("5581997088404")


def test_receipts_of_a_send(paired: EvolutionSimulator, receiver: Receiver, client: EvolutionClient) -> None:
    sent = client.send_text(SHOP, "5511987654321", "Orçamento: R$ 450,00")
    for status in ("DELIVERY_ACK", "READ"):
        paired.receipt(SHOP, sent["key"]["id"], status)
    updates = [e["data"] for e in receiver.events("messages.update")]
    assert [u["status"] for u in updates] == ["DELIVERY_ACK", "READ"]
    for update in updates:
        assert set(update) == {"messageId", "keyId", "remoteJid", "fromMe", "status", "instanceId"}
        assert (update["keyId"], update["remoteJid"], update["fromMe"]) == (
            sent["key"]["id"],
            "5511987654321@s.whatsapp.net",
            True,
        )
    with pytest.raises(KeyError):
        paired.receipt(SHOP, "NOT-OURS")


def test_only_subscribed_events_of_an_enabled_webhook_are_posted(
    paired: EvolutionSimulator, receiver: Receiver, client: EvolutionClient
) -> None:
    # Given a webhook that wants connection events only
    client.set_webhook(SHOP, HOOK, SECRET, ["CONNECTION_UPDATE"])
    client.send_text(SHOP, "5511987654321", "Olá")
    paired.inject_message(SHOP, "5511987654321", "oi")
    assert receiver.received == []
    # And a disabled one gets nothing at all
    client.set_webhook(SHOP, HOOK, SECRET, ["CONNECTION_UPDATE"], enabled=False)
    paired.close_by_name(SHOP)
    assert receiver.received == []


# --- webhook headers and retries -----------------------------------------------------------------
def test_deliveries_carry_the_webhooks_headers(paired: EvolutionSimulator, receiver: Receiver) -> None:
    paired.inject_message(SHOP, "5511987654321", "oi")
    url, headers, _ = receiver.received[-1]
    assert url == HOOK
    assert headers["x-assistec-secret"] == "webhook-secret-0001"
    assert headers["Content-Type"] == "application/json"


def test_a_jwt_key_becomes_a_signed_bearer_token(
    paired: EvolutionSimulator, receiver: Receiver, client: EvolutionClient
) -> None:
    # Given the webhook configured with Evolution's jwt_key
    client.set_webhook(SHOP, HOOK, {"jwt_key": "shop-jwt-secret-0001-0123456789abcdef"})
    paired.inject_message(SHOP, "5511987654321", "oi")
    _, headers, _ = receiver.received[-1]
    # Then the key itself is not sent: an HS256 JWT signed with it is, valid 10 minutes
    assert "jwt_key" not in headers
    scheme, token = headers["Authorization"].split(" ")
    claims = jwt.decode(token, "shop-jwt-secret-0001-0123456789abcdef", algorithms=["HS256"])
    assert scheme == "Bearer"
    assert (claims["app"], claims["action"], claims["exp"] - claims["iat"]) == ("evolution", "webhook", 600)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "another-secret-0002-0123456789abcdef", algorithms=["HS256"])


def test_by_events_posts_to_the_event_path(paired: EvolutionSimulator, receiver: Receiver) -> None:
    # Given the webhook set with byEvents (the client never sets it; Evolution's managers can)
    webhook = paired.instances[SHOP].webhook
    assert webhook is not None
    webhook["webhookByEvents"] = True
    paired.inject_message(SHOP, "5511987654321", "oi")
    assert receiver.received[-1][0] == f"{HOOK}/messages-upsert"


def test_a_failing_endpoint_gets_ten_attempts_on_evolutions_schedule(
    paired: EvolutionSimulator, receiver: Receiver, sleeps: list[float]
) -> None:
    # Given our endpoint failing with 500 every time
    receiver.answers = [500] * 20
    # When a message arrives
    paired.inject_message(SHOP, "5511987654321", "oi")
    # Then Evolution tried 10 times, waiting 5 s, doubling, capped at 300 s, then gave up
    delivery = paired.deliveries[-1]
    assert delivery.attempts == [500] * 10
    assert delivery.waits == sleeps == [5, 10, 20, 40, 80, 160, 300, 300, 300]
    assert (delivery.delivered, delivery.gave_up) == (False, True)
    # And every attempt carried the same message
    assert len({body["data"]["key"]["id"] for _, _, body in receiver.received}) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_refusals_are_not_retried(
    paired: EvolutionSimulator, receiver: Receiver, sleeps: list[float], status: int
) -> None:
    receiver.answers = [status]
    paired.inject_message(SHOP, "5511987654321", "oi")
    assert paired.deliveries[-1].attempts == [status]
    assert paired.deliveries[-1].gave_up
    assert sleeps == []


def test_timeouts_and_5xx_are_retried_until_taken(
    paired: EvolutionSimulator, receiver: Receiver, sleeps: list[float]
) -> None:
    receiver.answers = [httpx.ReadTimeout("slow"), 503, 429, 200]
    paired.inject_message(SHOP, "5511987654321", "oi")
    delivery = paired.deliveries[-1]
    assert delivery.attempts == [0, 503, 429, 200]
    assert delivery.waits == [5, 10, 20]
    assert delivery.delivered


def test_jitter_moves_each_wait_by_at_most_a_fifth_and_never_under_5s() -> None:
    for failures in range(1, 10):
        base = min(5 * 2 ** (failures - 1), 300)
        low, high = next_delay_s(failures, rng=lambda: 0.0), next_delay_s(failures, rng=lambda: 1.0)
        assert (low, high) == pytest.approx((max(5.0, base * 0.8), base * 1.2))


def test_retries_stop_at_the_attempts_given() -> None:
    delivery = Delivery("https://api.test/wh", {}, {"event": "messages.upsert"})
    waits: list[float] = []
    deliver_with_retries(
        delivery, lambda url, headers, body: 502, sleep=waits.append, max_attempts=3, jitter=0
    )
    assert (delivery.attempts, waits) == ([502, 502, 502], [5, 10])


# --- the HTTP server ----------------------------------------------------------------------------
@pytest.fixture
def served(receiver: Receiver) -> Iterator[tuple[EvolutionSimulator, str]]:
    sim = EvolutionSimulator(KEY, deliver=receiver, sleep=lambda s: None, jitter=0.0)
    server = serve(sim, 0)
    assert server.server_address[0] == "127.0.0.1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sim, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _scenario(client: EvolutionClient, open_instance: Any, inject: Any) -> list[Any]:
    """The same calls, over whichever way the client reaches the simulator; their answers' shapes."""
    answers: list[Any] = []
    created = client.create_instance(SHOP, token=TOKEN, webhook_url=HOOK, webhook_headers=SECRET)
    answers.append(shape({k: v for k, v in created.items() if k != "qrcode"}))
    answers.append(sorted(created["qrcode"]))
    answers.append(client.connection_state(SHOP))
    open_instance()
    answers.append(client.connection_state(SHOP))
    answers.append(shape(client.send_text(SHOP, "5581997088404", "Olá, tudo certo?")))
    answers.append(shape(client.send_document(SHOP, "5511987654321", "https://f.test/a.pdf", "a.pdf")))
    answers.append(client.mark_as_read(SHOP, "5511987654321@s.whatsapp.net", "3A1B"))
    answers.append(shape(client.find_webhook(SHOP)))
    answers.append(shape(inject()))
    for call in (lambda: client.delete_instance(SHOP), lambda: client.connection_state("nope")):
        with pytest.raises(EvolutionError) as caught:
            call()
        answers.append((caught.value.status, caught.value.code, caught.value.message))
    answers.append(client.logout(SHOP))
    answers.append(client.delete_instance(SHOP))
    return answers


def test_the_http_server_answers_like_the_transport(
    served: tuple[EvolutionSimulator, str], sim: EvolutionSimulator, client: EvolutionClient
) -> None:
    served_sim, url = served
    over_http = EvolutionClient(url, KEY, sleep=lambda s: None)

    def open_served() -> None:
        httpx.post(f"{url}/_sim/instances/{SHOP}/open", json={"number": "5511999990000"}).raise_for_status()

    def inject_served() -> Any:
        answer = httpx.post(
            f"{url}/_sim/instances/{SHOP}/messages", json={"phone": "5511987654321", "text": "oi"}
        )
        return answer.raise_for_status().json()

    by_http = _scenario(over_http, open_served, inject_served)
    in_process = _scenario(
        client,
        lambda: sim.connect_by_name(SHOP, number="5511999990000"),
        lambda: sim.inject_message(SHOP, "5511987654321", "oi"),
    )
    assert by_http == in_process
    # And the server recorded the same sends, with the exact bodies
    assert [s["body"] for s in served_sim.sent] == [s["body"] for s in sim.sent]
    listed = httpx.get(f"{url}/_sim/sent", params={"instance": SHOP}).json()
    assert [s["body"]["number"] for s in listed] == ["5581997088404", "5511987654321"]


def test_the_http_server_refuses_a_wrong_key_and_drops_a_lost_answer(
    served: tuple[EvolutionSimulator, str],
) -> None:
    sim, url = served
    EvolutionClient(url, KEY).create_instance(SHOP, token=TOKEN, webhook_url=HOOK, webhook_headers=SECRET)
    refused = httpx.get(f"{url}/instance/connectionState/{SHOP}", headers={"apikey": "wrong"})
    assert refused.status_code == 401
    assert refused.json() == {"status": 401, "error": "Unauthorized", "response": {"message": "Unauthorized"}}
    # A lost answer over HTTP: the send is done, the connection dropped, the client unsure
    httpx.post(f"{url}/_sim/instances/{SHOP}/open", json={}).raise_for_status()
    behaviour = {"lose_answers": [f"POST /message/sendText/{SHOP}"]}
    httpx.post(f"{url}/_sim/behaviour", json=behaviour).raise_for_status()
    with pytest.raises(EvolutionError) as caught:
        EvolutionClient(url, KEY).send_text(SHOP, "5511987654321", "Olá")
    assert caught.value.ambiguous
    assert len(sim.sent) == 1


def test_python_m_evolution_sim_serves_on_a_free_local_port() -> None:
    localstack = Path(__file__).resolve().parents[2] / "localstack"
    process = subprocess.Popen(
        [sys.executable, "-m", "evolution_sim", "--port", "0", "--api-key", KEY],
        cwd=localstack,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = line.strip().rsplit(" ", 1)[-1]
        assert url.startswith("http://127.0.0.1:")
        missing = httpx.get(f"{url}/instance/connectionState/nope", headers={"apikey": KEY}, timeout=5)
        assert missing.status_code == 404
        assert missing.json()["response"]["message"] == ['The "nope" instance does not exist']
    finally:
        process.terminate()
        process.wait(timeout=5)
