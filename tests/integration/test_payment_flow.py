"""The payment flow's steps (Step Functions runs them in the e2e suite), against the database, the
simulator and fakes of SES and Step Functions' task-token API."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.integration.billing_fixtures import FakeMailer
from tests.integration.conftest import Client, FakeQueue, signup
from tests.integration.payment_helpers import approved_order, connect
from tests.integration.shop_helpers import _ok


class Mailbox(FakeMailer):
    """SES's transport: every message kept (sign-ups' too); the shops' messages also as dicts."""

    def __init__(self) -> None:
        super().__init__()
        self.shop_mails: list[dict[str, str]] = []

    def send(self, mail: Any) -> str:
        if "tenant" in dict(mail.tags):
            self.shop_mails.append({"to": mail.to, "subject": mail.subject, "body": mail.text})
        return super().send(mail)


class Tokens:
    def __init__(self) -> None:
        self.resumed: list[tuple[str, dict[str, Any]]] = []

    def resume(self, token: str, output: dict[str, Any]) -> None:
        self.resumed.append((token, output))


@pytest.fixture
def flow(asaas: Any, api_root: Any) -> tuple[Any, Mailbox, Tokens]:
    from assistec.services.payment_flow import PaymentFlow
    from assistec.services.payments.inbox import WebhookInbox

    mailbox, tokens = Mailbox(), Tokens()
    # The webhooks the simulator delivers are applied by an inbox that resumes flows with these tokens
    api_root.webhook_inbox = WebhookInbox(
        api_root.work, api_root.payments_queue, lambda: api_root.payments, resume=tokens.resume
    )
    api_root.mailer = mailbox  # the SES transport under the shop's mail module
    return PaymentFlow(api_root.work, api_root.payments, api_root.mail, tokens), mailbox, tokens


def _state(shop: Any, order: dict, **extra: Any) -> dict[str, Any]:
    return {
        "tenant_id": shop.tenant_id,
        "user_id": shop.owner_id,
        "role": "owner",
        "order_id": order["id"],
        "billing_type": "PIX",
        "value_cents": None,
        "wait_seconds": 3600,
        **extra,
    }


def _with_email(client: Client, shop: Any, order: dict) -> None:
    customer = _ok(client.call("GET", f"/customers/{order['customer_id']}", shop.access_token))
    _ok(
        client.call(
            "PATCH",
            f"/customers/{customer['id']}",
            shop.access_token,
            body={"version": customer["version"], "email": "ana@exemplo.com.br"},
        )
    )


def test_create_notify_wait_and_the_webhook_resumes_the_flow(
    client: Client, asaas: Any, queue: FakeQueue, flow: tuple[Any, Mailbox, Tokens]
) -> None:
    steps, mailbox, tokens = flow
    shop = signup(client, name="Fluxo Assistência")
    connect(client, shop)
    order = approved_order(client, shop, 18990)
    _with_email(client, shop, order)
    state = _state(shop, order)
    state["charge"] = steps.create(state)
    assert state["charge"]["status"] == "pending"
    assert steps.notify(state) == {"notified": True, "channel": "email", "to": "ana@exemplo.com.br"}
    (mail,) = mailbox.shop_mails
    assert mail["subject"] == f"Pagamento da OS {order['number']} — Fluxo Assistência"
    assert "Valor: R$ 189,90" in mail["body"]
    assert "Pix copia e cola:" in mail["body"]
    steps.await_payment(state, "token-123")
    assert tokens.resumed == []
    # The token never leaves the server
    charge = _ok(client.call("GET", f"/charges/{state['charge']['charge_id']}", shop.access_token))
    assert "flow_task_token" not in charge
    assert "token-123" not in str(charge)
    # The customer pays; the consumer applies the webhook and hands the token back, once
    asaas.pay_by_id(charge["asaas_payment_id"])
    queue.drain()
    assert tokens.resumed == [
        ("token-123", {"charge_id": charge["id"], "status": "paid", "paid_cents": 18990}),
    ]
    assert steps.finish(state, outcome="paid") == {"outcome": "paid", "status": "paid"}


def test_a_charge_paid_before_the_wait_resumes_at_once(
    client: Client, asaas: Any, queue: FakeQueue, flow: tuple[Any, Mailbox, Tokens]
) -> None:
    steps, _, tokens = flow
    shop = signup(client)
    connect(client, shop)
    order = approved_order(client, shop)
    state = _state(shop, order)
    state["charge"] = steps.create(state)
    charge = _ok(client.call("GET", f"/charges/{state['charge']['charge_id']}", shop.access_token))
    asaas.pay_by_id(charge["asaas_payment_id"])
    queue.drain()
    steps.await_payment(state, "late-token")
    assert [t for t, _ in tokens.resumed] == ["late-token"]


def test_reminder_then_expiry_cancels_the_charge(
    client: Client, asaas: Any, queue: FakeQueue, flow: tuple[Any, Mailbox, Tokens]
) -> None:
    steps, mailbox, _ = flow
    shop = signup(client)
    connect(client, shop)
    order = approved_order(client, shop)
    _with_email(client, shop, order)
    state = _state(shop, order, billing_type="BOLETO")
    state["charge"] = steps.create(state)
    steps.await_payment(state, "t1")
    assert steps.notify(state, reminder=True)["notified"] is True
    assert mailbox.shop_mails[-1]["subject"].startswith("Lembrete: pagamento da OS")
    assert "Linha digitável do boleto:" in mailbox.shop_mails[-1]["body"]
    assert steps.finish(state, outcome="expired") == {"outcome": "expired", "status": "cancelled"}
    charge = _ok(client.call("GET", f"/charges/{state['charge']['charge_id']}", shop.access_token))
    assert charge["status"] == "cancelled"
    assert asaas.payment(charge["asaas_payment_id"])["deleted"] is True
    # Nothing to remind once it is closed
    assert steps.notify(state, reminder=True)["notified"] is False


def test_no_email_no_message(client: Client, asaas: Any, flow: tuple[Any, Mailbox, Tokens]) -> None:
    steps, mailbox, _ = flow
    shop = signup(client)
    connect(client, shop)
    order = approved_order(client, shop)
    state = _state(shop, order)
    state["charge"] = steps.create(state)
    assert steps.notify(state) == {"notified": False, "reason": "customer has no e-mail"}
    assert mailbox.shop_mails == []


def test_the_api_starts_the_flow_for_its_own_orders_only(client: Client, asaas: Any, api_root: Any) -> None:
    started: list[tuple[str, dict]] = []

    class Starter:
        def start(self, name: str, state: dict) -> str:
            started.append((name, state))
            return f"arn:aws:states:sa-east-1:1:execution:flow:{name}"

    api_root.flow_starter = Starter()
    shop = signup(client)
    order = approved_order(client, shop)
    status, body, _ = client.call(
        "POST", f"/orders/{order['id']}/payment-flow", shop.access_token, body={"billing_type": "PIX"}
    )
    assert (status, body["code"]) == (409, "payment_account_missing")
    connect(client, shop)
    status, body, _ = client.call(
        "POST",
        f"/orders/{order['id']}/payment-flow",
        shop.access_token,
        body={"billing_type": "PIX", "wait_hours": 24},
    )
    assert status == 202, body
    assert body["execution_arn"].startswith("arn:aws:states:")
    ((_, state),) = started
    assert (state["order_id"], state["wait_seconds"], state["tenant_id"], state["role"]) == (
        order["id"],
        86400,
        shop.tenant_id,
        "owner",
    )
    other = signup(client)
    connect(client, other)
    status, _, _ = client.call(
        "POST", f"/orders/{order['id']}/payment-flow", other.access_token, body={"billing_type": "PIX"}
    )
    assert status == 404
    status, _, _ = client.call(
        "POST",
        f"/orders/{uuid.uuid4()}/payment-flow",
        shop.access_token,
        body={"billing_type": "PIX", "wait_hours": 0},
    )
    assert status == 422
    assert len(started) == 1


def test_the_charge_goes_out_on_whatsapp_when_the_customer_has_it(
    client: Client, asaas: Any, api_root: Any, api: Any, flow: tuple[Any, Mailbox, Tokens]
) -> None:
    from assistec.services.payment_flow import PaymentFlow
    from tests.integration.whatsapp_helpers import build_world, connect_number

    _, mailbox, tokens = flow
    world = build_world(api_root, api)
    steps = PaymentFlow(api_root.work, api_root.payments, api_root.mail, tokens, whatsapp=lambda: world.queue)
    shop = signup(client, name="Fluxo WhatsApp")
    connect(client, shop)
    connect_number(client, shop, world)
    order = approved_order(client, shop, 18990)
    _with_email(client, shop, order)
    state = _state(shop, order)
    state["charge"] = steps.create(state)
    # WhatsApp first (the e-mail only when it cannot go there)
    assert steps.notify(state) == {"notified": True, "channel": "whatsapp"}
    assert mailbox.shop_mails == []
    world.drain()
    customer = _ok(client.call("GET", f"/customers/{order['customer_id']}", shop.access_token))
    [text] = world.texts_to(str(customer["phone"]).removeprefix("+"))
    assert "Valor: R$ 189,90" in text
    assert "Pix copia e cola:" in text
    assert "desconsidere esta mensagem" in text
    # Paid: the customer hears it on WhatsApp
    steps.await_payment(state, "token-wa")
    charge = _ok(client.call("GET", f"/charges/{state['charge']['charge_id']}", shop.access_token))
    asaas.pay_by_id(charge["asaas_payment_id"])
    api_root.payments_queue.drain()
    assert steps.finish(state, outcome="paid")["status"] == "paid"
    world.drain()
    assert world.texts_to(str(customer["phone"]).removeprefix("+"))[-1].startswith(
        "Pagamento recebido: R$ 189,90"
    )
