"""The Evolution client against the offline simulator's transport (localstack/evolution_sim): every
call's request shape (v2 bodies, the ``apikey`` header, timeouts), auth, errors; sends and instance
creation never repeated after an ambiguous failure, reads and state-setting calls retried, the time
budget, and no secret or message text in errors."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from evolution_sim import EvolutionSimulator

from assistec import __version__
from assistec.integrations.evolution import DEFAULT_EVENTS, EvolutionClient, EvolutionError

BASE = "http://evolution.test"
GLOBAL_KEY = "global-key-for-tests-0001"
TOKEN = "INSTANCE-TOKEN-0001"
SHOP = "tenant-42"
HOOK = "https://api.test/v1/webhooks/evolution/shop.key"
SECRET = {"x-assistec-secret": "webhook-secret-0001"}


class Recording(httpx.BaseTransport):
    """Passes requests to ``inner`` and keeps them (method, path, headers, JSON body, timeouts)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return self.inner.handle_request(request)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    def body(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)


class Flaky(httpx.BaseTransport):
    """Raises the given errors first (``None``: pass that one through), then passes everything to
    ``inner``."""

    def __init__(self, inner: httpx.BaseTransport, *errors: Exception | None) -> None:
        self.inner = inner
        self.errors = list(errors)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.errors:
            error = self.errors.pop(0)
            if error is not None:
                raise error
        return self.inner.handle_request(request)


@pytest.fixture
def sim() -> EvolutionSimulator:
    return EvolutionSimulator(GLOBAL_KEY, deliver=lambda url, headers, body: 200, sleep=lambda s: None)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def recorded(sim: EvolutionSimulator) -> Recording:
    return Recording(sim.transport())


@pytest.fixture
def client(recorded: Recording, sleeps: list[float]) -> Iterator[EvolutionClient]:
    evolution = EvolutionClient(BASE, GLOBAL_KEY, transport=recorded, sleep=sleeps.append)
    yield evolution
    evolution.close()


def _create(client: EvolutionClient) -> dict[str, Any]:
    return client.create_instance(SHOP, token=TOKEN, webhook_url=HOOK, webhook_headers=SECRET)


@pytest.fixture
def paired(client: EvolutionClient, sim: EvolutionSimulator) -> EvolutionSimulator:
    _create(client)
    sim.connect_by_name(SHOP, number="5511999990000")
    return sim


def _calls(sim: EvolutionSimulator, route: str) -> int:
    return sum(1 for _, path in sim.calls if path.startswith(route))


# --- request shapes ------------------------------------------------------------------------------
def test_create_instance_sends_the_v2_body_with_the_global_key(
    client: EvolutionClient, recorded: Recording
) -> None:
    # When the shop's instance is created
    answer = _create(client)
    # Then the request is v2's: the global key, the nested webhook with our secret header
    request = recorded.last
    assert (request.method, request.url.path) == ("POST", "/instance/create")
    assert request.headers["apikey"] == GLOBAL_KEY
    assert request.headers["user-agent"] == f"assistec/{__version__}"
    assert recorded.body() == {
        "instanceName": SHOP,
        "integration": "WHATSAPP-BAILEYS",
        "token": TOKEN,
        "qrcode": True,
        "rejectCall": False,
        "groupsIgnore": True,
        "alwaysOnline": False,
        "readMessages": False,
        "readStatus": False,
        "syncFullHistory": False,
        "webhook": {
            "url": HOOK,
            "byEvents": False,
            "base64": False,
            "headers": SECRET,
            "events": list(DEFAULT_EVENTS),
        },
    }
    # And the answer carries our token as the instance's hash and the first QR to show
    assert answer["hash"] == TOKEN
    assert answer["instance"]["status"] == "created"
    assert answer["qrcode"]["base64"].startswith("data:image/png;base64,")
    assert answer["qrcode"]["code"]


def test_every_call_uses_the_timeouts_2s_to_connect_8s_to_answer(
    client: EvolutionClient, recorded: Recording
) -> None:
    _create(client)
    client.connection_state(SHOP)
    for request in recorded.requests:
        timeout = request.extensions["timeout"]
        assert timeout["connect"] == 2.0
        assert timeout["read"] <= 8.0
        assert timeout["read"] > 7.0  # the whole read timeout while the budget allows it


def test_connect_shows_a_qr_then_the_state_follows_the_phone(
    client: EvolutionClient, sim: EvolutionSimulator, recorded: Recording
) -> None:
    # Given an instance created without pairing
    client.create_instance(SHOP, token=TOKEN, webhook_url=HOOK, webhook_headers=SECRET, qrcode=False)
    assert client.connection_state(SHOP) == "close"
    # When the owner asks to connect, with the number for a pairing code
    qr = client.connect(SHOP, number="5511999990000")
    # Then a QR and a pairing code come back and the instance is connecting
    assert (recorded.last.method, recorded.last.url.path) == ("GET", f"/instance/connect/{SHOP}")
    assert recorded.last.url.params["number"] == "5511999990000"
    assert qr["base64"].startswith("data:image/png;base64,")
    assert qr["pairingCode"]
    assert qr["count"] == 1
    assert client.connection_state(SHOP) == "connecting"
    # And once the phone scans it the instance is open
    sim.connect_by_name(SHOP)
    assert client.connection_state(SHOP) == "open"
    assert (recorded.last.method, recorded.last.url.path) == ("GET", f"/instance/connectionState/{SHOP}")


def test_send_text_sends_number_and_text_only(
    client: EvolutionClient, paired: EvolutionSimulator, recorded: Recording
) -> None:
    # When a text is sent
    answer = client.send_text(SHOP, "5511987654321", "Sua OS #123 está pronta")
    # Then v2's body went out, as it is, and Evolution recorded exactly that
    assert (recorded.last.method, recorded.last.url.path) == ("POST", f"/message/sendText/{SHOP}")
    assert recorded.body() == {"number": "5511987654321", "text": "Sua OS #123 está pronta"}
    assert [s["body"] for s in paired.sent] == [recorded.body()]
    # And the answer is the queued message, whose id the receipts and the echo will carry
    assert answer["key"]["fromMe"] is True
    assert answer["key"]["remoteJid"] == "5511987654321@s.whatsapp.net"
    assert answer["status"] == "PENDING"
    assert answer["message"] == {"extendedTextMessage": {"text": "Sua OS #123 está pronta"}}


def test_send_document_sends_a_document_media_body(
    client: EvolutionClient, paired: EvolutionSimulator, recorded: Recording
) -> None:
    answer = client.send_document(
        SHOP, "5511987654321", "https://files.test/orcamento-123.pdf", "orcamento-123.pdf", "Seu orçamento"
    )
    assert (recorded.last.method, recorded.last.url.path) == ("POST", f"/message/sendMedia/{SHOP}")
    assert recorded.body() == {
        "number": "5511987654321",
        "mediatype": "document",
        "mimetype": "application/pdf",
        "media": "https://files.test/orcamento-123.pdf",
        "fileName": "orcamento-123.pdf",
        "caption": "Seu orçamento",
    }
    assert paired.sent[-1]["route"] == "sendMedia"
    assert answer["message"]["documentMessage"]["fileName"] == "orcamento-123.pdf"


def test_mark_as_read_sends_the_message_key(
    client: EvolutionClient, paired: EvolutionSimulator, recorded: Recording
) -> None:
    answer = client.mark_as_read(SHOP, "5511987654321@s.whatsapp.net", "3A1B2C")
    assert (recorded.last.method, recorded.last.url.path) == ("POST", f"/chat/markMessageAsRead/{SHOP}")
    expected = [{"remoteJid": "5511987654321@s.whatsapp.net", "fromMe": False, "id": "3A1B2C"}]
    assert recorded.body() == {"readMessages": expected}
    assert paired.read == [{"instance": SHOP, "readMessages": expected}]
    assert answer == {"message": "Read messages", "read": "success"}


def test_set_webhook_sends_the_nested_v2_body_and_find_reads_it_back(
    client: EvolutionClient, paired: EvolutionSimulator, recorded: Recording
) -> None:
    # When the webhook moves to a new URL with a new secret
    headers = {"x-assistec-secret": "rotated-secret-0002"}
    client.set_webhook(SHOP, "https://api.test/v1/webhooks/evolution/new.key", headers, ["MESSAGES_UPSERT"])
    # Then the body is v2's nested one (not the flat v1 body the public docs still show)
    assert recorded.body() == {
        "webhook": {
            "enabled": True,
            "url": "https://api.test/v1/webhooks/evolution/new.key",
            "headers": headers,
            "byEvents": False,
            "base64": False,
            "events": ["MESSAGES_UPSERT"],
        }
    }
    # And Evolution has it
    found = client.find_webhook(SHOP)
    assert found is not None
    assert (found["url"], found["headers"], found["events"], found["enabled"]) == (
        "https://api.test/v1/webhooks/evolution/new.key",
        headers,
        ["MESSAGES_UPSERT"],
        True,
    )


def test_logout_then_delete(client: EvolutionClient, paired: EvolutionSimulator, recorded: Recording) -> None:
    # Given an open instance: Evolution refuses to delete it
    with pytest.raises(EvolutionError) as refused:
        client.delete_instance(SHOP)
    assert (refused.value.status, refused.value.code) == (400, "bad_request")
    assert "disconnected" in refused.value.message
    # When the number is logged out, then deleted
    client.logout(SHOP)
    assert (recorded.last.method, recorded.last.url.path) == ("DELETE", f"/instance/logout/{SHOP}")
    assert client.connection_state(SHOP) == "close"
    client.delete_instance(SHOP)
    assert (recorded.last.method, recorded.last.url.path) == ("DELETE", f"/instance/delete/{SHOP}")
    # Then the instance is gone
    with pytest.raises(EvolutionError) as gone:
        client.connection_state(SHOP)
    assert (gone.value.status, gone.value.code) == (404, "not_found")


def test_restart_of_a_closed_instance_is_refused_even_though_evolution_answers_200(
    client: EvolutionClient, sim: EvolutionSimulator
) -> None:
    # Given a closed instance (Evolution answers its restart with 200 {"error": true, ...})
    client.create_instance(SHOP, token=TOKEN, webhook_url=HOOK, webhook_headers=SECRET, qrcode=False)
    with pytest.raises(EvolutionError) as caught:
        client.restart(SHOP)
    assert caught.value.code == "refused"
    assert "not connected" in caught.value.message
    # And an open one restarts
    sim.connect_by_name(SHOP)
    assert client.restart(SHOP)["instance"]["state"] == "open"


# --- auth ----------------------------------------------------------------------------------------
def test_a_wrong_key_is_refused_and_not_retried(
    client: EvolutionClient, sim: EvolutionSimulator, sleeps: list[float]
) -> None:
    _create(client)
    wrong = EvolutionClient(BASE, "not-the-key", transport=sim.transport(), sleep=sleeps.append)
    calls_before = len(sim.calls)
    with pytest.raises(EvolutionError) as caught:
        wrong.connection_state(SHOP)
    assert (caught.value.status, caught.value.code) == (401, "unauthorized")
    assert not caught.value.ambiguous
    assert len(sim.calls) == calls_before + 1
    assert sleeps == []


def test_an_instance_token_opens_its_own_instance_only(
    client: EvolutionClient, sim: EvolutionSimulator
) -> None:
    # Given two shops' instances
    _create(client)
    client.create_instance("tenant-7", token="OTHER-TOKEN-0007", webhook_url=HOOK, webhook_headers=SECRET)
    with_token = EvolutionClient(BASE, TOKEN, transport=sim.transport(), sleep=lambda s: None)
    # Then the shop's token reads its own instance
    assert with_token.connection_state(SHOP) == "connecting"
    # And neither another shop's instance nor the creation of one
    with pytest.raises(EvolutionError) as other:
        with_token.connection_state("tenant-7")
    assert other.value.status == 401
    with pytest.raises(EvolutionError) as create:
        with_token.create_instance("tenant-8", token="T8", webhook_url=HOOK, webhook_headers=SECRET)
    assert create.value.status == 401


def test_a_taken_name_is_refused(client: EvolutionClient) -> None:
    _create(client)
    with pytest.raises(EvolutionError) as caught:
        _create(client)
    assert (caught.value.status, caught.value.code) == (403, "forbidden")


# --- sends are never repeated after an ambiguous failure ----------------------------------------
def test_a_send_answered_5xx_is_not_retried_and_is_ambiguous(
    client: EvolutionClient, paired: EvolutionSimulator, sleeps: list[float]
) -> None:
    # Given Evolution answers the send with a 500
    paired.fail_next = [500]
    # When a text is sent
    with pytest.raises(EvolutionError) as caught:
        client.send_text(SHOP, "5511987654321", "Pagamento recebido")
    # Then the failure is raised as ambiguous and the send went out once, never again
    assert (caught.value.status, caught.value.ambiguous, caught.value.code) == (500, True, "server")
    assert _calls(paired, "/message/sendText") == 1
    assert sleeps == []


def test_a_send_whose_answer_was_lost_is_not_retried_and_is_ambiguous(
    client: EvolutionClient, paired: EvolutionSimulator, sleeps: list[float]
) -> None:
    # Given WhatsApp took the message but the answer never came back (a read timeout)
    paired.lose_answers = [f"POST /message/sendText/{SHOP}"]
    # When a text is sent
    with pytest.raises(EvolutionError) as caught:
        client.send_text(SHOP, "5511987654321", "Pagamento recebido")
    # Then the caller learns it may have gone, and it was not sent a second time
    assert (caught.value.status, caught.value.ambiguous, caught.value.code) == (0, True, "network")
    assert len(paired.sent) == 1
    assert _calls(paired, "/message/sendText") == 1
    assert sleeps == []


def test_a_document_send_answered_502_is_not_retried(
    client: EvolutionClient, paired: EvolutionSimulator
) -> None:
    paired.fail_next = [502]
    with pytest.raises(EvolutionError) as caught:
        client.send_document(SHOP, "5511987654321", "https://files.test/a.pdf", "a.pdf")
    assert caught.value.ambiguous
    assert _calls(paired, "/message/sendMedia") == 1


def test_a_send_is_retried_when_the_connection_was_never_made(
    paired: EvolutionSimulator, sleeps: list[float]
) -> None:
    # Given the first try cannot connect (nothing reached Evolution)
    transport = Flaky(paired.transport(), httpx.ConnectError("refused"))
    client = EvolutionClient(BASE, GLOBAL_KEY, transport=transport, sleep=sleeps.append)
    # When a text is sent
    client.send_text(SHOP, "5511987654321", "Orçamento pronto")
    # Then it was simply sent again, and went out once
    assert len(paired.sent) == 1
    assert len(sleeps) == 1


def test_an_instance_creation_answered_5xx_is_not_retried(
    client: EvolutionClient, sim: EvolutionSimulator
) -> None:
    # Given the creation fails with a 502 (Evolution may or may not have made it)
    sim.fail_next = [502]
    with pytest.raises(EvolutionError) as caught:
        _create(client)
    # Then it is raised as ambiguous, sent once; the connection state tells whether it exists
    assert (caught.value.status, caught.value.ambiguous) == (502, True)
    assert _calls(sim, "/instance/create") == 1
    with pytest.raises(EvolutionError) as missing:
        client.connection_state(SHOP)
    assert missing.value.code == "not_found"


def test_a_number_without_whatsapp_is_told_apart_without_echoing_it(
    client: EvolutionClient, paired: EvolutionSimulator
) -> None:
    paired.not_on_whatsapp = {"5511900000000"}
    with pytest.raises(EvolutionError) as caught:
        client.send_text(SHOP, "5511900000000", "Olá")
    assert (caught.value.status, caught.value.code, caught.value.ambiguous) == (400, "not_on_whatsapp", False)
    assert "5511900000000" not in str(caught.value)
    assert paired.sent == []


def test_a_send_to_a_closed_instance_is_refused(client: EvolutionClient, paired: EvolutionSimulator) -> None:
    paired.close_by_name(SHOP)
    with pytest.raises(EvolutionError) as caught:
        client.send_text(SHOP, "5511987654321", "Olá")
    assert (caught.value.status, caught.value.ambiguous) == (400, False)
    assert paired.sent == []


# --- reads and state-setting calls are retried ---------------------------------------------------
def test_reads_are_retried_on_5xx_with_growing_waits(
    client: EvolutionClient, paired: EvolutionSimulator, sleeps: list[float]
) -> None:
    paired.fail_next = [503, 502]
    assert client.connection_state(SHOP) == "open"
    assert _calls(paired, "/instance/connectionState") == 3
    assert len(sleeps) == 2
    assert sleeps[0] < sleeps[1] <= 1.0


def test_reads_give_up_after_their_attempts_with_the_last_failure(
    client: EvolutionClient, paired: EvolutionSimulator, sleeps: list[float]
) -> None:
    paired.fail_next = [503, 503, 500]
    with pytest.raises(EvolutionError) as caught:
        client.find_webhook(SHOP)
    assert (caught.value.status, caught.value.retryable, caught.value.ambiguous) == (500, True, False)
    assert _calls(paired, "/webhook/find") == 3


def test_a_read_is_retried_after_a_timeout(paired: EvolutionSimulator, sleeps: list[float]) -> None:
    transport = Flaky(paired.transport(), httpx.ReadTimeout("slow"))
    client = EvolutionClient(BASE, GLOBAL_KEY, transport=transport, sleep=sleeps.append)
    assert client.connect(SHOP)["instance"]["state"] == "open"
    assert len(sleeps) == 1


@pytest.mark.parametrize(
    ("call", "route"),
    [
        (lambda c: c.set_webhook(SHOP, HOOK, SECRET), "/webhook/set"),
        (lambda c: c.mark_as_read(SHOP, "5511987654321@s.whatsapp.net", "3A1B"), "/chat/markMessageAsRead"),
        (lambda c: c.restart(SHOP), "/instance/restart"),
    ],
)
def test_calls_that_only_set_state_are_retried_after_a_5xx(
    client: EvolutionClient,
    paired: EvolutionSimulator,
    call: Callable[[EvolutionClient], dict[str, Any]],
    route: str,
) -> None:
    paired.fail_next = [502]
    call(client)
    assert _calls(paired, route) == 2


def test_mark_as_read_is_repeated_after_a_lost_answer(
    client: EvolutionClient, paired: EvolutionSimulator
) -> None:
    # A read receipt twice is harmless: it is sent again rather than reported as unknown
    paired.lose_answers = [f"POST /chat/markMessageAsRead/{SHOP}"]
    client.mark_as_read(SHOP, "5511987654321@s.whatsapp.net", "3A1B")
    assert len(paired.read) == 2


def test_backoff_that_would_cross_the_deadline_gives_up(paired: EvolutionSimulator) -> None:
    # Given a clock that sleeping moves, and half a second of budget
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    client = EvolutionClient(
        BASE, GLOBAL_KEY, transport=paired.transport(), sleep=sleep, clock=lambda: now[0], budget_s=0.5
    )
    paired.fail_next = [503, 503, 503]
    # When a read keeps failing
    with pytest.raises(EvolutionError) as caught:
        client.connection_state(SHOP)
    # Then it stops before its third try: the next wait would not fit the budget
    assert caught.value.status == 503
    assert _calls(paired, "/instance/connectionState") == 2
    assert now[0] < 0.5


def test_calls_inside_one_deadline_share_it(paired: EvolutionSimulator) -> None:
    now = [0.0]
    client = EvolutionClient(BASE, GLOBAL_KEY, transport=paired.transport(), clock=lambda: now[0])
    with client.deadline(1.0):
        assert client.connection_state(SHOP) == "open"
        now[0] = 1.0  # the budget is spent
        with pytest.raises(EvolutionError) as caught:
            client.connection_state(SHOP)
    assert caught.value.code == "deadline"


# --- what errors carry ---------------------------------------------------------------------------
def test_errors_never_carry_the_key_or_the_message_text() -> None:
    # Given an Evolution that echoes the request in its error (some error paths do)
    text = "Olá Maria, seu iPhone 11 ficou pronto: R$ 450,00"

    def echo(request: httpx.Request) -> httpx.Response:
        echoed = [request.content.decode(), f"apikey {request.headers['apikey']}"]
        return httpx.Response(
            400, json={"status": 400, "error": "Bad Request", "response": {"message": echoed}}
        )

    client = EvolutionClient(BASE, GLOBAL_KEY, transport=httpx.MockTransport(echo))
    # When a send fails
    with pytest.raises(EvolutionError) as caught:
        client.send_text(SHOP, "5511987654321", text)
    # Then neither the text (even JSON-escaped) nor the key is in what the error says
    described = f"{caught.value} {caught.value!r}"
    assert "Maria" not in described
    assert "Ol\\u00e1" not in described
    assert GLOBAL_KEY not in described
    assert caught.value.status == 400


def test_a_network_error_says_what_failed_and_nothing_else() -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError(f"dropped while sending {request.content.decode()}", request=request)

    client = EvolutionClient(BASE, GLOBAL_KEY, transport=httpx.MockTransport(fail))
    with pytest.raises(EvolutionError) as caught:
        client.send_text(SHOP, "5511987654321", "segredo do cliente")
    assert caught.value.message == "RemoteProtocolError"
    assert "segredo" not in str(caught.value)


def test_importing_the_client_and_the_rules_loads_neither_httpx_nor_phonenumbers() -> None:
    # httpx (~45 ms) and phonenumbers (~20 ms) are paid by the first call that needs them, not by
    # every cold start of a function that imports these modules
    functions = Path(__file__).resolve().parents[2] / "functions"
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import assistec.integrations.evolution, assistec.domain.whatsapp;"
        "print(sorted(m for m in ('httpx', 'phonenumbers') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(functions)], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
