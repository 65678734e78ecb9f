"""The mail module on the deployed local stack: a customer's e-mail leaves through LocalStack's SES with
the stage's configuration set; SES's own events (LocalStack publishes Send and Delivery to the set's SNS
topic) come back through the mail events queue and function and move the record to 'delivered'; a
bounce in SES's real shape, published to the same topic as SES would, suppresses the address."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.shops import approved_order, mails_to, new_shop, wait_for

SIM_KEY = f"$aact_e2e_mail_{uuid.uuid4().hex}"
BOUNCE = Path(__file__).resolve().parents[1] / "fixtures" / "ses" / "bounce_permanent.json"


def test_a_customer_mail_is_delivered_then_its_bounce_suppresses_the_address(
    http: httpx.Client, stack: dict[str, Any], aws: Any
) -> None:
    shop = new_shop(http, "Loja E-mail E2E")
    headers = {"Authorization": f"Bearer {shop['access_token']}"}
    connected = http.put(
        "/settings/payments", headers=headers, json={"api_key": SIM_KEY, "environment": "sandbox"}
    )
    assert connected.status_code == 200, connected.text
    email = f"cliente-{uuid.uuid4().hex[:8]}@exemplo.com.br"
    order = approved_order(http, headers, customer="Cliente E-mail", price_cents=12000, email=email)

    # When the payment flow e-mails the customer the charge
    started = http.post(
        f"/orders/{order['id']}/payment-flow", headers=headers, json={"billing_type": "PIX", "wait_hours": 1}
    )
    assert started.status_code == 202, started.text
    try:
        [mail] = wait_for(
            "the charge's e-mail in LocalStack's SES", lambda: mails_to(stack, email), timeout_s=60
        )
        assert mail["subject"].startswith("Pagamento da OS")

        # Then staff see it, and SES's delivery event moves it to delivered
        def delivered() -> list[dict[str, Any]]:
            items = http.get("/email/messages", headers=headers, params={"to": email}).json()["items"]
            return [m for m in items if m["status"] == "delivered"]

        [row] = wait_for("the delivery event applied", delivered, timeout_s=60)
        assert row["template"] == "payment_link"
        assert row["order_id"] == order["id"]

        # When SES reports a permanent bounce of it (SES's shape, on the configuration set's topic)
        event = json.loads(json.loads(BOUNCE.read_text())["Sns"]["Message"])
        event["mail"]["messageId"] = mail["id"]
        event["mail"]["destination"] = [email]
        event["mail"]["tags"] = {
            "tenant": [shop["tenant_id"]],
            "template": ["payment_link"],
            "record": [row["id"]],
        }
        event["bounce"]["bouncedRecipients"][0]["emailAddress"] = email
        aws("sns").publish(TopicArn=stack["mail_events_topic_arn"], Message=json.dumps(event))

        # Then the address is suppressed for the shop, with the server's reason
        def suppressed() -> list[dict[str, Any]]:
            items = http.get("/email/suppressions", headers=headers).json()["items"]
            return [s for s in items if s["address"] == email]

        [entry] = wait_for("the bounce applied", suppressed, timeout_s=60)
        assert entry["reason"] == "bounce"
        assert "550" in entry["detail"]
        statuses = {
            m["status"]
            for m in http.get("/email/messages", headers=headers, params={"to": email}).json()["items"]
        }
        assert statuses == {"bounced"}
    finally:
        aws("stepfunctions").stop_execution(executionArn=started.json()["execution_arn"])
