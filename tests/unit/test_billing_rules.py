"""The shops' billing status and the dunning schedule (domain/billing.py), and how the consumer tells
its three kinds of queue message apart."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest

from assistec.domain import billing as rules

TODAY = date(2026, 11, 27)


def inv(status: str, days_from_today: int, payment_id: str = "pay_1") -> rules.Invoice:
    return rules.Invoice(payment_id, TODAY + timedelta(days=days_from_today), status)


@pytest.mark.parametrize(
    ("current", "invoices", "expected"),
    [
        ("trial", [], "trial"),
        ("trial", [inv("pending", 14)], "trial"),
        ("trial", [inv("pending", 0)], "trial"),  # due today: not late yet
        ("trial", [inv("pending", -1)], "past_due"),  # Asaas has not flagged it yet: still late
        ("trial", [inv("overdue", -10)], "past_due"),  # the grace period's last day
        ("past_due", [inv("overdue", -11)], "suspended"),
        ("active", [inv("paid", -40, "a"), inv("overdue", -3, "b")], "past_due"),
        ("suspended", [inv("paid", -11)], "active"),
        ("suspended", [inv("paid", -41, "a"), inv("paid", -11, "b"), inv("pending", 19, "c")], "active"),
        ("past_due", [inv("refunded", -5)], "active"),  # refunded by the platform: not owed
        ("active", [inv("cancelled", -20), inv("paid", -50, "b")], "active"),
        ("cancelled", [inv("paid", -5)], "cancelled"),  # only people reopen a cancelled shop
        ("cancelled", [inv("overdue", -30)], "cancelled"),
    ],
)
def test_status_for(current: str, invoices: list[rules.Invoice], expected: str) -> None:
    assert rules.status_for(current, invoices, today=TODAY, grace_days=10) == expected


def test_the_oldest_late_invoice_counts() -> None:
    invoices = [inv("overdue", -3, "b"), inv("overdue", -12, "a"), inv("paid", -40, "c")]
    assert rules.oldest_overdue(invoices, TODAY) == TODAY - timedelta(days=12)
    assert rules.status_for("past_due", invoices, today=TODAY, grace_days=10) == "suspended"


def test_a_chargeback_makes_the_invoice_unpaid_again() -> None:
    assert rules.invoice_status({"status": "CHARGEBACK_REQUESTED"}) == "overdue"
    assert rules.invoice_status({"status": "RECEIVED"}) == "paid"
    assert rules.invoice_status({"status": "CONFIRMED"}) == "paid"
    assert rules.invoice_status({"status": "RECEIVED", "deleted": True}) == "cancelled"


@pytest.mark.parametrize(
    ("days_late", "sent", "expected"),
    [
        (0, set(), None),
        (1, set(), "first"),
        (2, {"first"}, None),
        (3, {"first"}, "second"),
        (5, set(), "second"),  # missed runs: only the latest step, never a burst
        (7, {"first", "second"}, "final"),
        (9, {"final"}, None),
        (10, {"final"}, None),
        (11, {"final"}, "suspended"),
        (30, {"suspended"}, None),
        (3, {"final"}, None),  # steps only go forward
    ],
)
def test_notice_due(days_late: int, sent: set[str], expected: str | None) -> None:
    assert rules.notice_due(days_late, sent, grace_days=10) == expected


def _notice(step: str, **context: Any) -> tuple[str, str]:
    from assistec.services.email.templates import SUBSCRIPTION_NOTICES, TEMPLATES, render

    name = SUBSCRIPTION_NOTICES[step]
    rendered = render(name, {k: v for k, v in context.items() if k in TEMPLATES[name].variables})
    return rendered.subject, rendered.text


def test_notice_texts_are_plain_pt_br_with_the_payment_link() -> None:
    common = {"shop_name": "Conserta Já", "value_cents": 7990, "trial_ended": False}
    for step in ("first", "second", "final", "suspended"):
        subject, body = _notice(
            step, **common, due_date=date(2026, 11, 20), invoice_url="https://sandbox.asaas.com/i/abc",
            suspend_in_days=4,
        )  # fmt: skip
        assert subject
        assert "R$ 79,90" in body
        assert "20/11/2026" in body
        assert "https://sandbox.asaas.com/i/abc" in body
        assert "<" not in body
    _subject, final = _notice("final", **common, due_date=TODAY, invoice_url=None, suspend_in_days=4)
    assert "suspenso em 4 dia(s)" in final
    subject, back = _notice("reactivated", shop_name="X", value_cents=100)
    assert "liberado" in subject
    assert "Pague pelo link" not in back


def test_the_consumer_routes_each_kind_of_message() -> None:
    from types import SimpleNamespace

    from assistec.handlers import payments_consumer

    calls: list[tuple[str, Any]] = []

    class PlatformWebhook:
        def apply(self, event_id: str) -> str:
            calls.append(("platform", event_id))
            return "ok"

    class Provisioning:
        def provision(self, tenant_id: Any) -> str:
            calls.append(("provision", str(tenant_id)))
            return "ok"

    class Inbox:
        def apply(self, tenant_id: Any, event_id: str) -> str:
            calls.append(("shop", (str(tenant_id), event_id)))
            return "ok"

    # the worker root's three services
    services: Any = SimpleNamespace(
        platform_webhook=PlatformWebhook(), provisioning=Provisioning(), inbox=Inbox()
    )
    tenant = "0b4f4f9e-5f0a-4a55-9d47-3f0f8c1e2a11"
    # EventBridge's envelope, as its SQS target delivers it
    eventbridge = {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "ShopSignedUp",
        "source": "assistec.orders",
        "account": "000000000000",
        "time": "2026-11-27T00:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {"plan": "essencial", "event_id": "e1", "tenant_id": tenant},
    }
    for message in (
        {"platform_event_id": "evt_1"},
        json.loads(json.dumps(eventbridge)),
        {"tenant_id": tenant, "event_id": "evt_2"},
    ):
        assert payments_consumer.dispatch(message, services) == "ok"
    assert calls == [("platform", "evt_1"), ("provision", tenant), ("shop", (tenant, "evt_2"))]
