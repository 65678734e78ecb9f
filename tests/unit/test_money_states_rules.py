"""Money states (issue 10 §3), the pure rules: a refund in progress is neither open nor reopened, and a
trial that ends without a subscription owes like an unpaid first invoice."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistec.domain import billing as billing_rules
from assistec.domain import payments as payment_rules


@pytest.mark.parametrize("status", ["REFUND_REQUESTED", "REFUND_IN_PROGRESS"])
def test_a_refund_in_progress_is_its_own_state_never_pending(status: str) -> None:
    # Given a paid payment whose refund Asaas is working on; When it is read; Then it is being refunded
    assert payment_rules.state_of({"status": status}) == "refunding"
    assert payment_rules.LABELS_PT["refunding"] == "Estorno em andamento"
    # ...and a platform invoice in that state is still paid (the shop is not past due for it)
    assert billing_rules.invoice_status({"status": status}) == "paid"


def test_only_refunded_is_refunded() -> None:
    assert payment_rules.state_of({"status": "REFUNDED"}) == "refunded"
    assert payment_rules.state_of({"status": "RECEIVED"}) == "paid"


TODAY = date(2026, 11, 29)


@given(st.integers(min_value=-30, max_value=60))
def test_a_trial_without_a_subscription_owes_from_its_last_day(days_since_end: int) -> None:
    # Given a shop never subscribed at Asaas whose trial ends ``days_since_end`` days before today
    ends = TODAY - timedelta(days=days_since_end)
    owed = billing_rules.trial_ended(ends, provisioned=False, cancelled=False, today=TODAY)
    status = billing_rules.status_for("trial", [owed] if owed else [], today=TODAY, grace_days=10)
    # Then it is a trial while the trial runs, past due the day after, suspended past the grace days
    if days_since_end <= 0:
        assert (owed, status) == (None, "trial")
    elif days_since_end <= 10:
        assert status == "past_due"
    else:
        assert status == "suspended"
    # ...and never once subscribed or cancelled (real invoices, or nothing, decide then)
    assert billing_rules.trial_ended(ends, provisioned=True, cancelled=False, today=TODAY) is None
    assert billing_rules.trial_ended(ends, provisioned=False, cancelled=True, today=TODAY) is None


@pytest.mark.parametrize("step", ["first", "second", "final", "suspended"])
def test_the_trial_ended_emails_say_why_and_never_link_an_invoice(step: str) -> None:
    from assistec.services.email.templates import SUBSCRIPTION_NOTICES, TEMPLATES, render

    name = SUBSCRIPTION_NOTICES[step]
    context = {
        "shop_name": "Conserta Já",
        "value_cents": 7990,
        "due_date": TODAY,
        "invoice_url": None,
        "trial_ended": True,
        "suspend_in_days": 8,
    }
    rendered = render(name, {k: v for k, v in context.items() if k in TEMPLATES[name].variables})
    subject, body = rendered.subject, rendered.text
    assert "Conserta Já" in body
    assert "CNPJ" in body
    assert "Pague pelo link" not in body
    assert subject
