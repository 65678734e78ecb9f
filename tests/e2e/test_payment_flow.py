"""The payment flow on LocalStack's Step Functions: charge → e-mail (LocalStack SES) → wait with a
task token → the simulator pays → webhook → SQS → consumer → the token resumes the flow → paid.
And the other branch: nobody pays, a reminder, then the charge expires."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx

from tests.e2e.shops import approved_order, mails_to, new_shop, wait_for

SIM_KEY = f"$aact_e2e_flow_{uuid.uuid4().hex}"


def _shop(http: httpx.Client) -> tuple[dict[str, str], dict[str, str]]:
    shop = new_shop(http, "Loja Fluxo E2E")
    headers = {"Authorization": f"Bearer {shop['access_token']}"}
    connected = http.put(
        "/settings/payments", headers=headers, json={"api_key": SIM_KEY, "environment": "sandbox"}
    )
    assert connected.status_code == 200, connected.text
    return shop, headers


def _execution(aws: Any, arn: str, timeout_s: float = 90) -> dict[str, Any]:
    sfn = aws("stepfunctions")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        execution = sfn.describe_execution(executionArn=arn)
        if execution["status"] != "RUNNING":
            return dict(execution)
        time.sleep(1)
    raise AssertionError(f"the flow is still running after {timeout_s:.0f} s")


def _charge(http: httpx.Client, headers: dict[str, str], order_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        items = http.get(f"/orders/{order_id}/charges", headers=headers).json()["items"]
        if items and items[0]["asaas_payment_id"]:
            return dict(items[0])
        time.sleep(0.5)
    raise AssertionError("the flow made no charge")


def test_flow_charges_mails_waits_and_ends_paid(http: httpx.Client, stack: dict[str, Any], aws: Any) -> None:
    _, headers = _shop(http)
    email = f"fluxo-{uuid.uuid4().hex[:8]}@exemplo.com.br"
    order = approved_order(http, headers, customer="Cliente Fluxo", price_cents=45000, email=email)
    started = http.post(
        f"/orders/{order['id']}/payment-flow", headers=headers, json={"billing_type": "PIX", "wait_hours": 1}
    )
    assert started.status_code == 202, started.text
    charge = _charge(http, headers, order["id"])
    # The customer got the e-mail with the PIX copia e cola
    (mail,) = wait_for(
        "the charge's e-mail in LocalStack's SES", lambda: mails_to(stack, email), timeout_s=30
    )
    assert mail["subject"].startswith("Pagamento da OS")
    assert charge["pix_payload"] in mail["text"]
    # The customer pays; the webhook's consumer hands the token back; the flow ends paid
    paid = httpx.post(
        f"{stack['asaas_simulator_url']}/_sim/payments/{charge['asaas_payment_id']}/pay", timeout=60
    )
    assert paid.status_code == 200, paid.text
    execution = _execution(aws, started.json()["execution_arn"])
    assert execution["status"] == "SUCCEEDED", execution
    assert json.loads(execution["output"])["outcome"] == {"outcome": "paid", "status": "paid"}


def test_flow_unpaid_sends_a_reminder_then_expires_the_charge(
    http: httpx.Client, stack: dict[str, Any], aws: Any
) -> None:
    shop, headers = _shop(http)
    email = f"lembrete-{uuid.uuid4().hex[:8]}@exemplo.com.br"
    order = approved_order(http, headers, customer="Cliente Fluxo", price_cents=45000, email=email)
    me = http.get("/me", headers=headers).json()
    # Started as the API would, with a 3-second wait so the suite does not wait hours
    flow = {
        "tenant_id": shop["tenant_id"],
        "user_id": me["user"]["id"],
        "role": "owner",
        "order_id": order["id"],
        "billing_type": "BOLETO",
        "value_cents": None,
        "wait_seconds": 3,
        "correlation_id": None,
    }
    arn = aws("stepfunctions").start_execution(
        stateMachineArn=stack["payment_flow_arn"], name=f"e2e-{uuid.uuid4().hex[:12]}", input=json.dumps(flow)
    )["executionArn"]
    execution = _execution(aws, arn)
    assert execution["status"] == "SUCCEEDED", execution
    output = json.loads(execution["output"])
    assert output["outcome"] == {"outcome": "expired", "status": "cancelled"}
    assert output["reminded"]["notified"] is True
    subjects = sorted(m["subject"] for m in mails_to(stack, email))
    assert len(subjects) == 2
    assert subjects[0].startswith("Lembrete:")
    charge = http.get(f"/orders/{order['id']}/charges", headers=headers).json()["items"][0]
    assert charge["status"] == "cancelled"
