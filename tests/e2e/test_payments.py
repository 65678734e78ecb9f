"""A charge paid end to end on the local stack: the API charges through the offline Asaas
simulator, the simulator "pays" and posts the webhook to the deployed API (LocalStack API
Gateway), the inbox enqueues it on SQS, the consumer Lambda applies it, and the order is paid."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.shops import approved_order, new_shop

# One Asaas account per shop, as in life: a fresh simulator account for each run.
SIM_KEY = f"$aact_e2e_{uuid.uuid4().hex}"


# The reconciliation worker's invocation may wait behind the API's (the fuzzing group hammers the
# same local Lambda executor meanwhile): up to 300 s for the worker, so more than pytest's default.
@pytest.mark.timeout(600)
def test_charge_pay_the_order_is_paid_and_reconciliation_agrees(
    http: httpx.Client, stack: dict[str, Any], aws: Any
) -> None:
    shop = new_shop(http, "Loja Pagamentos E2E")
    headers = {"Authorization": f"Bearer {shop['access_token']}"}
    account = http.put(
        "/settings/payments", headers=headers, json={"api_key": SIM_KEY, "environment": "sandbox"}
    )
    assert account.status_code == 200, account.text
    assert account.json()["webhook_url"].startswith(f"{stack['api_url']}/webhooks/asaas/")

    order = approved_order(http, headers, customer="Cliente Pix", price_cents=12000)

    created = http.post(f"/orders/{order['id']}/charges", headers=headers, json={"billing_type": "PIX"})
    assert created.status_code == 201, created.text
    charge = created.json()
    assert charge["pix_payload"]
    assert charge["value_cents"] == 12000

    # The customer pays (the simulator's control call); Asaas posts PAYMENT_RECEIVED to our URL
    paid = httpx.post(
        f"{stack['asaas_simulator_url']}/_sim/payments/{charge['asaas_payment_id']}/pay", timeout=60
    )
    assert paid.status_code == 200, paid.text

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        current = http.get(f"/charges/{charge['id']}", headers=headers).json()
        if current["status"] == "paid":
            break
        time.sleep(0.5)
    assert current["status"] == "paid", current
    assert current["paid_cents"] == 12000
    assert http.get(f"/orders/{order['id']}", headers=headers).json()["paid_cents"] == 12000

    # The hourly reconciliation, invoked as its rule would: the fan-out enqueues the shops due (this
    # new one among them), the queue's worker reconciles each; this shop's charge agrees with Asaas
    import json

    import psycopg

    result = aws("lambda").invoke(FunctionName=stack["reconciler_function_name"], Payload=b"{}")
    assert "FunctionError" not in result, result["Payload"].read()
    assert json.loads(result["Payload"].read())["enqueued"] >= 1
    with psycopg.connect(stack["migrator_database_url"]) as conn:
        conn.execute("select set_config('app.tenant_id', %s, false)", (shop["tenant_id"],))
        deadline = time.monotonic() + 300
        reconciled = None
        while time.monotonic() < deadline:
            reconciled = conn.execute("select last_reconciled_at from payment_accounts").fetchone()
            conn.commit()
            if reconciled and reconciled[0] is not None:
                break
            time.sleep(1)
        assert reconciled is not None
        assert reconciled[0] is not None, _reconcile_diagnostics(aws, stack)
        mismatches = conn.execute("select count(*) from reconciliation_mismatches").fetchone()
    assert mismatches == (0,)


def _reconcile_diagnostics(aws: Any, stack: dict[str, Any]) -> str:
    """What the queue and the worker's log say, for a run where the worker never reached the shop."""
    lines = ["the reconciliation worker never reached the shop"]
    try:
        attributes = aws("sqs").get_queue_attributes(
            QueueUrl=stack["reconcile_queue_url"], AttributeNames=["All"]
        )["Attributes"]
        visible = attributes.get("ApproximateNumberOfMessages")
        in_flight = attributes.get("ApproximateNumberOfMessagesNotVisible")
        lines.append(f"queue: visible={visible} in flight={in_flight}")
        group = f"/aws/lambda/{stack['reconcile_worker_function_name']}"
        events = aws("logs").filter_log_events(logGroupName=group, limit=50).get("events", [])
        lines.extend(e["message"].rstrip()[:400] for e in events[-30:])
    except Exception as exc:  # diagnostics only: never hide the assertion
        lines.append(f"(diagnostics failed: {exc!r})")
    return "\n".join(lines)
