"""The quote flow's steps (Step Functions runs them in the e2e suite) against the database, with the
offline Evolution simulator and fakes of Step Functions' start and task-token APIs: the quote goes
out on WhatsApp, the customer answers "1" (or on the link), the order moves, the waiting flow gets
the decision, the customer is told and the payment flow starts; reminders, expiry, a newer version,
an answer the bot cannot read."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import PgDatabase
from tests.integration.conftest import Client, signup
from tests.integration.payment_helpers import _rows
from tests.integration.shop_helpers import _ok, quoted_order
from tests.integration.whatsapp_helpers import API_BASE, WhatsappWorld, build_world, connect_number

LINES = [{"kind": "labour", "description": "Troca de tela", "price_cents": 30000}]


class Flows:
    """Step Functions as the services see it: executions started (name, input) and tokens handed back."""

    def __init__(self) -> None:
        self.started: list[tuple[str, dict[str, Any]]] = []
        self.resumed: list[tuple[str, dict[str, Any]]] = []

    def start(self, name: str, flow: dict[str, Any]) -> str:
        self.started.append((name, flow))
        return f"arn:aws:states:local:000000000000:execution:flow:{name}"

    def resume(self, token: str, output: dict[str, Any]) -> None:
        self.resumed.append((token, output))


@pytest.fixture
def setup(api_root: Any, api: Any) -> tuple[WhatsappWorld, Flows, Flows, Any]:
    from assistec.services.quote_flow import QuoteFlow, QuoteFlowStarter
    from assistec.services.whatsapp.bot import WhatsappBot

    world = build_world(api_root, api)
    quote_flows, payment_flows = Flows(), Flows()
    api_root.quote_flow = QuoteFlowStarter(api_root.work, lambda: quote_flows)
    api_root.resumer = quote_flows  # the API hands link and counter decisions back
    world.inbox._bot = WhatsappBot(lambda: API_BASE, clock=lambda: world.now, resume=quote_flows.resume)
    api_root.mailer = world.mailer  # the SES transport under the shop's mail module
    steps = QuoteFlow(api_root.work, api_root.mail, quote_flows, lambda: world.queue, lambda: payment_flows)
    return world, quote_flows, payment_flows, steps


def _send(client: Client, shop: Any, quote: dict, body: dict[str, Any]) -> dict:
    status, answer, _ = client.call("POST", f"/quotes/{quote['id']}/send", shop.access_token, body=body)
    assert status == 202, answer
    return dict(answer)


def _phone(client: Client, shop: Any, order: dict) -> str:
    customer = _ok(client.call("GET", f"/customers/{order['customer_id']}", shop.access_token))
    return str(customer["phone"]).removeprefix("+")


def test_a_quote_sent_on_whatsapp_and_approved_with_a_reply(
    client: Client, setup: Any, database: PgDatabase
) -> None:
    world, flows, payments, steps = setup
    shop = signup(client, name="Conserta Já")
    name = connect_number(client, shop, world)["name"]
    order, quote = quoted_order(client, shop, LINES)
    phone = _phone(client, shop, order)
    status, body, _ = client.call(
        "POST", f"/quotes/{quote['id']}/send", shop.access_token, body={"payment": "PIX"}
    )
    assert status == 202, body
    [(execution, flow)] = flows.started
    assert body["execution_arn"].endswith(execution)
    assert (flow["first_wait_seconds"], flow["second_wait_seconds"]) == (24 * 3600, 48 * 3600)
    # Sent again while its flow waits: refused
    assert client.call("POST", f"/quotes/{quote['id']}/send", shop.access_token, body={})[0] == 409
    # The flow's first step: the quote's message, with its link, on the customer's WhatsApp
    assert steps.send(flow) == {"channel": "whatsapp", "reason": "queued"}
    world.drain()
    [sent] = world.texts_to(phone)
    assert f"/public/quotes/{quote['public_token']}" in sent
    steps.await_decision(flow, "token-1")
    # The customer answers "1": approved as on the link, the reply kept as the evidence
    world.sim.inject_message(name, phone, "1")
    assert "quote_decided" in world.drain()
    assert flows.resumed == [("token-1", {"decision": "approve"})]
    assert _ok(client.call("GET", f"/orders/{order['id']}", shop.access_token))["status"] == "approved"
    evidence = _rows(
        database,
        "select q.decided_via, m.body from quotes q join quote_flows f on f.quote_id = q.id "
        "join wa_messages m on m.id = f.decision_message_id where q.id = %s",
        quote["id"],
    )
    assert evidence == [("whatsapp", "1")]
    # The flow goes on: the customer is told, and the payment flow starts for the order
    outcome = steps.decided({**flow, "decision": {"decision": "approve"}})
    assert outcome["status"] == "approved"
    assert outcome["told"] == "queued"
    world.drain()
    assert world.texts_to(phone)[-1].startswith("Orçamento aprovado!")
    [(_, payment)] = payments.started
    assert (payment["order_id"], payment["billing_type"]) == (order["id"], "PIX")


def test_a_link_decision_a_newer_version_and_the_counter_hand_the_flow_back(
    client: Client, setup: Any
) -> None:
    world, flows, _, steps = setup
    shop = signup(client)
    connect_number(client, shop, world)
    order, quote = quoted_order(client, shop, LINES)
    _send(client, shop, quote, {})
    [(_, flow)] = flows.started
    steps.await_decision(flow, "token-old")
    # A newer version supersedes it: its flow ends
    newer = _ok(
        client.call(
            "POST",
            f"/orders/{order['id']}/quotes",
            shop.access_token,
            body={"lines": LINES, "deadline_days": 2},
        )
    )
    assert flows.resumed == [("token-old", {"decision": "superseded"})]
    _send(client, shop, newer, {})
    flow = flows.started[-1][1]
    steps.await_decision(flow, "token-new")
    # The customer rejects on the link: the flow hears it
    from tests.integration.shop_helpers import page

    status, _, _ = page(
        client,
        "POST",
        f"/public/quotes/{newer['public_token']}/decision",
        form={"decision": "reject", "name": "Ana"},
    )
    assert status in (200, 303)
    assert flows.resumed[-1] == ("token-new", {"decision": "reject"})
    assert steps.decided({**flow, "decision": {"decision": "reject"}})["status"] == "rejected"


def test_no_answer_reminds_then_expires_and_an_unclear_answer_goes_to_a_person(
    client: Client, setup: Any, database: PgDatabase
) -> None:
    world, flows, _, steps = setup
    shop = signup(client)
    name = connect_number(client, shop, world)["name"]
    order, quote = quoted_order(client, shop, LINES)
    phone = _phone(client, shop, order)
    _send(client, shop, quote, {"reminder_hours": 2})
    flow = flows.started[-1][1]
    steps.send(flow)
    steps.await_decision(flow, "token-a")
    # "talvez amanhã": neither yes nor no, a person takes it
    world.sim.inject_message(name, phone, "talvez amanhã")
    world.drain()
    assert "atendente" in world.texts_to(phone)[-1]
    assert flows.resumed == []
    # The first wait times out: a reminder with the link
    assert steps.send(flow, reminder=True)["channel"] == "whatsapp"
    world.drain()
    assert world.texts_to(phone)[-1].startswith("Lembrete: o orçamento da OS")
    # The second: expired, the order rejected, the customer told
    assert steps.expired(flow) == {"outcome": "expired", "told": "queued"}
    world.drain()
    assert "venceu sem resposta" in world.texts_to(phone)[-1]
    assert _ok(client.call("GET", f"/orders/{order['id']}", shop.access_token))["status"] == "rejected"
    assert _rows(database, "select decided_via from quotes where id = %s", quote["id"]) == [("expired",)]
    # A customer without WhatsApp gets the quote by e-mail
    world.sim.close_by_name(name)
    world.drain()
    order2, quote2 = quoted_order(client, shop, LINES)
    customer = _ok(client.call("GET", f"/customers/{order2['customer_id']}", shop.access_token))
    _ok(
        client.call(
            "PATCH",
            f"/customers/{customer['id']}",
            shop.access_token,
            body={"email": "bia@exemplo.com.br", "version": customer["version"]},
        )
    )
    _send(client, shop, quote2, {})
    assert steps.send(flows.started[-1][1])["channel"] == "email"
    assert world.mailer.sent[-1][0] == "bia@exemplo.com.br"


def test_a_shop_that_wants_it_sends_every_new_quote_by_itself(
    client: Client, setup: Any, api_root: Any
) -> None:
    world, flows, _, _ = setup
    shop = signup(client)
    connect_number(client, shop, world)
    settings = _ok(client.call("GET", "/settings/whatsapp", shop.access_token))
    assert (
        settings["auto_send_quotes"],
        settings["quote_reminder_hours"],
        settings["quote_expire_hours"],
    ) == (
        False,
        24,
        72,
    )
    quoted_order(client, shop, LINES)
    assert flows.started == []  # by hand until the shop says otherwise
    # The expiry must come after the reminder
    status, body, _ = client.call(
        "PUT",
        "/settings/whatsapp",
        shop.access_token,
        body={"version": 0, "quote_reminder_hours": 48, "quote_expire_hours": 24},
    )
    assert status == 422, body
    saved = _ok(
        client.call(
            "PUT",
            "/settings/whatsapp",
            shop.access_token,
            body={
                "version": 0,
                "auto_send_quotes": True,
                "quote_reminder_hours": 12,
                "quote_expire_hours": 36,
            },
        )
    )
    assert saved["auto_send_quotes"] is True
    # A first save sent again (version 0 over the saved row): stale, 409, never a 500 (the fuzzer's
    # find: the insert's defaults tripped the table's check before its conflict was seen)
    status, body, _ = client.call(
        "PUT", "/settings/whatsapp", shop.access_token, body={"version": 0, "quote_expire_hours": 2}
    )
    assert (status, body["code"], body["details"]["current_version"]) == (409, "conflict", 1)
    _, quote = quoted_order(client, shop, LINES)
    [(_, flow)] = flows.started
    assert flow["quote_id"] == quote["id"]
    assert (flow["first_wait_seconds"], flow["second_wait_seconds"]) == (12 * 3600, 24 * 3600)
