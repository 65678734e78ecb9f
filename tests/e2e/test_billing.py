"""A shop's subscription on the local stack: signup → ShopSignedUp on EventBridge → the rule's SQS
target → the consumer Lambda creates the Asaas subscription (offline simulator, platform account);
the invoice falls past the grace period and the platform webhook (through LocalStack's API
Gateway) suspends the shop: the API answers 402; the daily dunning Lambda e-mails the owner (read
back from LocalStack's SES); paying brings the shop back."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.e2e.shops import mails_to, new_shop, wait_for


def test_signup_subscribes_a_late_invoice_suspends_and_paying_reactivates(
    http: httpx.Client, stack: dict[str, Any], aws: Any
) -> None:
    shop = new_shop(http, "Loja Assinatura E2E")
    headers = {"Authorization": f"Bearer {shop['access_token']}"}

    def billing() -> dict[str, Any]:
        response = http.get("/billing", headers=headers)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def provisioned_billing() -> dict[str, Any] | None:
        current = billing()
        return current if current["provisioned"] and current["invoices"] else None

    def active_billing() -> dict[str, Any] | None:
        # Active, and the next cycle's invoice in (its PAYMENT_CREATED may come a moment later)
        current = billing()
        return current if current["status"] == "active" and len(current["invoices"]) == 2 else None

    def reactivation_mail() -> bool | None:
        subjects = [m["subject"] for m in mails_to(stack, shop["email"])]
        return True if "Pagamento recebido: acesso ao assistec liberado" in subjects else None

    # Provisioned by the consumer from the signup event, with its first invoice
    provisioned = wait_for("the Asaas subscription", provisioned_billing, timeout_s=90)
    assert provisioned["status"] == "trial"
    [invoice] = provisioned["invoices"]
    assert (invoice["status"], invoice["value_cents"]) == ("pending", 7990)

    # Eleven days late (the simulator moves the due date back and posts PAYMENT_OVERDUE)
    late = httpx.post(
        f"{stack['asaas_simulator_url']}/_sim/payments/{invoice['id']}/overdue", json={"days": 11}, timeout=60
    )
    assert late.status_code == 200, late.text
    wait_for(
        "suspension by the webhook",
        lambda: True if billing()["status"] == "suspended" else None,
        timeout_s=90,
    )

    # The API refuses the shop's work (its environment remembers the status up to 30 s)
    def refused() -> dict[str, Any] | None:
        response = http.get("/customers", headers=headers)
        return dict(response.json()) if response.status_code == 402 else None

    body = wait_for("402 from the API", refused, timeout_s=90)
    assert body["code"] == "subscription_suspended"
    assert "falta de pagamento" in body["message"]

    # The daily run (as its rule invokes it): the suspension notice goes out by SES
    result = aws("lambda").invoke(FunctionName=stack["dunning_function_name"], Payload=b"{}")
    assert "FunctionError" not in result, result["Payload"].read()
    report = json.loads(result["Payload"].read())
    assert report["shops"] >= 1
    assert report["notices"] >= 1
    subjects = [m["subject"] for m in mails_to(stack, shop["email"])]
    assert "Acesso ao assistec suspenso" in subjects

    # Paid: the webhook brings the shop back, with its next invoice
    paid = httpx.post(f"{stack['asaas_simulator_url']}/_sim/payments/{invoice['id']}/pay", timeout=60)
    assert paid.status_code == 200, paid.text
    back = wait_for("reactivation", active_billing, timeout_s=90)
    assert back["next_due_date"] > invoice["due_date"]
    assert {i["status"] for i in back["invoices"]} == {"paid", "pending"}
    wait_for(
        "the API serving the shop again",
        lambda: True if http.get("/customers", headers=headers).status_code == 200 else None,
        timeout_s=90,
    )
    wait_for("the reactivation e-mail", reactivation_mail, timeout_s=90)
