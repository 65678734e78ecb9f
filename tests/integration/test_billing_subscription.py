"""The shops' subscription to assistec (issue 5 §4), the owner's changes: plan changes,
cancellation (to the end of the period, or at once in arrears) and refunded invoices.

Through the API handler, the billing service and the offline Asaas simulator (the platform
account), against the real database."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import pytest

from tests.integration.billing_fixtures import Platform, _billing, _ok, _today
from tests.integration.conftest import Client, signup
from tests.integration.test_users_api import _add_user, _login


def test_changing_plan_moves_the_asaas_subscription_and_open_invoices(
    client: Client, platform: Platform
) -> None:
    shop = signup(client)
    platform.provision(shop)
    billing = _billing(client, shop)
    changed = _ok(
        client.call(
            "PUT",
            "/billing/plan",
            shop.access_token,
            body={"plan": "profissional", "version": billing["version"]},
        )
    )
    assert (changed["plan"]["code"], changed["plan"]["price_cents"]) == ("profissional", 14990)
    assert changed["invoices"][0]["value_cents"] == 14990
    assert platform.subscription_of(shop)["value"] == 149.90
    assert platform.payments_of(shop)[0]["value"] == 149.90
    # A stale version, an unknown plan, a technician: refused, nothing changed
    status, body, _ = client.call(
        "PUT", "/billing/plan", shop.access_token, body={"plan": "essencial", "version": billing["version"]}
    )
    assert (status, body["code"]) == (409, "conflict")
    assert body["details"]["current_version"] == changed["version"]
    status, body, _ = client.call(
        "PUT", "/billing/plan", shop.access_token, body={"plan": "ouro", "version": changed["version"]}
    )
    assert status == 422
    tech = _add_user(client, shop, "technician")
    token = _login(client, tech["email"])["access_token"]
    status, body, _ = client.call(
        "PUT", "/billing/plan", token, body={"plan": "essencial", "version": changed["version"]}
    )
    assert status == 403
    assert client.call("GET", "/billing", token)[0] == 403
    assert platform.subscription_of(shop)["value"] == 149.90


def test_a_past_due_shop_cannot_change_plan(client: Client, platform: Platform) -> None:
    shop = signup(client)
    platform.provision(shop)
    platform.overdue(platform.payments_of(shop)[0]["id"], days=2)
    billing = _billing(client, shop)
    status, body, _ = client.call(
        "PUT",
        "/billing/plan",
        shop.access_token,
        body={"plan": "profissional", "version": billing["version"]},
    )
    assert (status, body["code"]) == (409, "conflict")
    assert platform.subscription_of(shop)["value"] == 79.90


def test_cancelling_keeps_access_to_the_end_of_the_period_then_refuses(
    client: Client, platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistec.services.billing import common as billing_service

    shop = signup(client)
    platform.provision(shop)
    before = _billing(client, shop)
    # Only the owner cancels; a stale version changes nothing
    admin = _add_user(client, shop, "admin")
    admin_token = _login(client, admin["email"])["access_token"]
    status, body, _ = client.call("POST", "/billing/cancel", admin_token, body={"version": before["version"]})
    assert (status, body["code"]) == (403, "forbidden")
    status, body, _ = client.call(
        "POST", "/billing/cancel", shop.access_token, body={"version": before["version"] + 5}
    )
    assert status == 409
    assert platform.subscription_of(shop)["deleted"] is False

    cancelled = _ok(
        client.call("POST", "/billing/cancel", shop.access_token, body={"version": before["version"]})
    )
    assert cancelled["status"] == "trial"  # the trial runs to its end
    assert cancelled["cancel_on"] == before["trial_ends_on"]
    assert cancelled["next_due_date"] is None
    assert [i["status"] for i in cancelled["invoices"]] == ["cancelled"]  # never charged
    assert platform.subscription_of(shop)["deleted"] is True
    platform.queue.drain()  # Asaas's PAYMENT_DELETED: nothing more to do
    _ok(client.call("GET", "/customers", shop.access_token))
    again = client.call("POST", "/billing/cancel", shop.access_token, body={"version": cancelled["version"]})
    assert again[0] == 409
    plan = client.call(
        "PUT",
        "/billing/plan",
        shop.access_token,
        body={"plan": "profissional", "version": cancelled["version"]},
    )
    assert plan[0] == 409

    # The day the trial ends, the daily run closes the shop (its data stays)
    end = date.fromisoformat(cancelled["cancel_on"])
    monkeypatch.setattr(billing_service, "today_in_brazil", lambda: end)
    platform.worker.dunning.run(only=[UUID(shop.tenant_id)])
    status, body, _ = client.call("GET", "/customers", shop.access_token)
    assert (status, body["code"]) == (402, "subscription_cancelled")
    assert _billing(client, shop)["status"] == "cancelled"
    assert not platform.mailer.sent  # no dunning for a cancelled shop


def test_a_shop_in_arrears_that_cancels_is_closed_at_once(client: Client, platform: Platform) -> None:
    shop = signup(client)
    platform.provision(shop)
    platform.overdue(platform.payments_of(shop)[0]["id"], days=12)
    billing = _billing(client, shop)
    assert billing["status"] == "suspended"
    cancelled = _ok(
        client.call("POST", "/billing/cancel", shop.access_token, body={"version": billing["version"]})
    )
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancel_on"] == _today().isoformat()
    # The overdue invoice is still owed (Asaas keeps it); the subscription makes no new ones
    assert [i["status"] for i in cancelled["invoices"]] == ["overdue"]
    assert client.call("GET", "/customers", shop.access_token)[1]["code"] == "subscription_cancelled"


def test_a_refunded_invoice_is_not_owed_and_the_shop_stays_active(client: Client, platform: Platform) -> None:
    shop = signup(client)
    platform.provision(shop)
    invoice = platform.payments_of(shop)[0]
    platform.pay(invoice["id"])
    assert _billing(client, shop)["status"] == "active"
    asaas = platform.worker.asaas_client("sandbox", platform.api_key)
    asaas.refund_payment(invoice["id"])  # a goodwill refund
    assert platform.queue.drain() == ["no_change"]
    billing = _billing(client, shop)
    [refunded] = [i for i in billing["invoices"] if i["id"] == invoice["id"]]
    assert (refunded["status"], refunded["paid_on"]) == ("refunded", None)
    assert billing["status"] == "active"
