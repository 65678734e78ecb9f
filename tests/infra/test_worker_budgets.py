"""The queue workers' time budgets in the template (issue 10 §4): each function's timeout fits the
worst case of a whole batch, each queue's visibility timeout is at least six times its function's
timeout (Lambda's guidance for SQS), and the numbers the handlers budget with are the ones the
stack sizes with. The reconciliation is fanned out: an hourly fan-out function, a queue of shops
with its DLQ and alarm, and a per-shop worker that alone decrypts the shops' Asaas keys."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Template

from assistec_infra import constants
from assistec_infra.capabilities import payments, scheduling


def _template(stack: Any) -> Template:
    return Template.from_stack(stack[0])


def _function(template: Template, handler: str) -> tuple[str, dict[str, Any]]:
    found = [
        (fid, f["Properties"])
        for fid, f in template.find_resources("AWS::Lambda::Function").items()
        if f["Properties"].get("Handler") == handler
    ]
    assert len(found) == 1, handler
    return found[0]


def _queue_of(template: Template, function_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The event source mapping feeding the function, and the queue it reads."""
    mappings = [
        m["Properties"]
        for m in template.find_resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": function_id}
    ]
    assert len(mappings) == 1
    queue_id = mappings[0]["EventSourceArn"]["Fn::GetAtt"][0]
    return mappings[0], template.find_resources("AWS::SQS::Queue")[queue_id]["Properties"]


@pytest.mark.parametrize("stage", ["local", "prod"])
@pytest.mark.parametrize(
    ("handler", "record_worst_case_s"),
    [
        (constants.PAYMENTS_CONSUMER_HANDLER, payments.CONSUMER_RECORD_WORST_CASE_S),
        # a token refresh and one Google call, each under the client's budget (issue 12)
        (constants.CALENDAR_WORKER_HANDLER, scheduling.PUSH_WORST_CASE_S),
        # one shop per invocation: it stops reading Asaas in time to write, whatever its size
        (constants.RECONCILE_SHOP_HANDLER, None),
    ],
)
def test_a_queue_workers_timeout_fits_its_batch_and_the_visibility_timeout_fits_six_of_them(
    stage: str, handler: str, record_worst_case_s: int | None, local_stack: Any, prod_stack: Any
) -> None:
    # Given the stage's template
    template = _template(local_stack if stage == "local" else prod_stack)

    # When the worker, its event source and its queue are read
    function_id, function = _function(template, handler)
    mapping, queue = _queue_of(template, function_id)

    # Then a whole batch fits the function's timeout, and the queue hides a message in flight for
    # at least six of the function's timeouts
    timeout = function["Timeout"]
    if record_worst_case_s is not None:
        assert timeout >= mapping["BatchSize"] * record_worst_case_s
    else:
        assert mapping["BatchSize"] == 1
    assert queue["VisibilityTimeout"] >= 6 * timeout
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 5
    assert timeout <= 900  # Lambda's ceiling


def test_the_handlers_budget_with_the_numbers_the_stack_sizes_with() -> None:
    # Given the consumer's per-record worst cases (the handler starts a record only if it fits)
    from assistec.handlers import payments_consumer
    from assistec.integrations import asaas

    # Then a webhook event's worst case is the one the stack sizes the batch with, and every kind
    # of record fits the function's timeout on its own
    assert payments_consumer.EVENT_WORST_CASE_S == payments.CONSUMER_RECORD_WORST_CASE_S
    worst = max(
        payments_consumer.EVENT_WORST_CASE_S,
        payments_consumer.PLATFORM_EVENT_WORST_CASE_S,
        payments_consumer.PROVISIONING_WORST_CASE_S,
    )
    assert worst < payments.CONSUMER_FUNCTION.timeout_s
    # And a webhook event's worst case covers its three tries of Asaas's per-operation deadline
    assert payments_consumer.EVENT_WORST_CASE_S >= 3 * asaas.BUDGET_S


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_the_reconciliation_fans_out_through_a_queue_of_shops(
    stage: str, local_stack: Any, prod_stack: Any
) -> None:
    # Given the stage's template
    template = _template(local_stack if stage == "local" else prod_stack)

    # When the hourly rule's target and the shops' queue are read
    fan_out_id, fan_out = _function(template, constants.RECONCILE_HANDLER)
    worker_id, _ = _function(template, constants.RECONCILE_SHOP_HANDLER)
    rules = [
        r["Properties"]
        for r in template.find_resources("AWS::Events::Rule").values()
        if r["Properties"].get("ScheduleExpression") == "rate(1 hour)"
    ]
    mapping, _ = _queue_of(template, worker_id)

    # Then the rule runs the fan-out, which knows the shops' queue and may send to it
    assert len(rules) == 1
    assert rules[0]["Targets"][0]["Arn"] == {"Fn::GetAtt": [fan_out_id, "Arn"]}
    queue_id = mapping["EventSourceArn"]["Fn::GetAtt"][0]
    assert fan_out["Environment"]["Variables"]["RECONCILE_QUEUE_URL"] == {"Ref": queue_id}
    statements = [
        (s, p["Properties"]["Roles"])
        for p in template.find_resources("AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    senders = [roles for s, roles in statements if "sqs:SendMessage" in _actions(s) and _on(s, queue_id)]
    assert senders == [[{"Ref": fan_out["Role"]["Fn::GetAtt"][0]}]]
    # And the worker reads at most a few shops at once (Asaas and the database are shared)
    assert mapping["ScalingConfig"]["MaximumConcurrency"] == payments.RECONCILE_CONCURRENCY
    # And only the worker decrypts the shops' Asaas keys: the fan-out never does
    fan_out_role = fan_out["Role"]["Fn::GetAtt"][0]
    assert not [
        s for s, roles in statements if "kms:Decrypt" in _actions(s) and {"Ref": fan_out_role} in roles
    ]
    # And ops hear about a shop that failed five times
    dlq_alarms = [
        a["Properties"]
        for a in template.find_resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
    ]
    assert len(dlq_alarms) >= 2


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


def _on(statement: dict[str, Any], queue_id: str) -> bool:
    resource = statement["Resource"]
    resources = resource if isinstance(resource, list) else [resource]
    return {"Fn::GetAtt": [queue_id, "Arn"]} in resources
