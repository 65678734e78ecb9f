"""The shops' bank files (issue 15 §4) in both stages: an object landing under ``bank-files/`` in the
devices bucket tells the bank files queue (DLQ, alarm) through the bucket's own notification, the
worker takes one file per invocation with time for its worst case, and who may do what in the
bucket's ``bank-files/`` (the API puts, to sign forms and store inline files; the worker reads)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Template

from assistec.handlers import bank_files as handler
from assistec.services.banking import intake
from assistec_infra import constants
from assistec_infra.capabilities import bank_files
from tests.infra.templates import _function, _functions, _nested, _template


def _stage(stage: str, local_stack: Any, prod_stack: Any) -> Template:
    """The template holding the capability: the local stack, or prod's nested stack of its own."""
    if stage == "local":
        return _template(local_stack)
    [nested] = [
        t
        for t in _nested(prod_stack).values()
        if any(f["Properties"].get("Handler") == constants.BANK_FILES_HANDLER for f in _functions(t).values())
    ]
    return nested


def _function_id(template: Template, handler_name: str) -> str:
    [name] = [n for n, f in _functions(template).items() if f["Properties"]["Handler"] == handler_name]
    return str(name)


def _statements_of(template: Template, handler_name: str) -> list[dict[str, Any]]:
    role = {"Ref": _function(template, handler_name)["Role"]["Fn::GetAtt"][0]}
    return [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if role in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def _on_bank_files(statement: dict[str, Any]) -> bool:
    return constants.BANK_FILES_PREFIX + "*" in str(statement["Resource"])


def test_the_code_and_the_stack_agree_on_the_numbers() -> None:
    # The keys the API signs are under the prefix the notification and the grants name
    assert constants.BANK_FILES_PREFIX == intake.KEY_PREFIX
    # A file's worst case fits the worker's timeout, which fits Lambda's ceiling
    assert handler.FILE_MAX_S < bank_files.WORKER_FUNCTION.timeout_s <= 900


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_an_upload_reaches_the_worker_through_the_buckets_notification_and_its_queue(
    stage: str, local_stack: Any, prod_stack: Any
) -> None:
    template = _stage(stage, local_stack, prod_stack)
    worker_id = _function_id(template, constants.BANK_FILES_HANDLER)
    [mapping] = [
        m["Properties"]
        for m in template.find_resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": worker_id}
    ]
    queue_id = mapping["EventSourceArn"]["Fn::GetAtt"][0]
    queue = template.find_resources("AWS::SQS::Queue")[queue_id]["Properties"]
    # Then the devices bucket (the one the worker reads) sends its events to EventBridge
    parent = _template(local_stack if stage == "local" else prod_stack)
    [(bucket_id, notification)] = [
        (name, b["Properties"]["NotificationConfiguration"])
        for name, b in parent.find_resources("AWS::S3::Bucket").items()
        if "NotificationConfiguration" in b["Properties"]
    ]
    assert notification == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    worker_bucket = _function(template, constants.BANK_FILES_HANDLER)["Environment"]["Variables"][
        "DEVICES_BUCKET"
    ]
    # (prod: a parameter of the nested stack, named after the bucket's path, less its hash)
    assert worker_bucket == {"Ref": bucket_id} or bucket_id[:-8] in json.dumps(worker_bucket)
    # And a rule takes the objects created under bank-files/ of that bucket, only those, to the queue
    [rule] = [
        r["Properties"]
        for r in template.find_resources("AWS::Events::Rule").values()
        if r["Properties"].get("EventPattern", {}).get("source") == ["aws.s3"]
    ]
    assert "EventBusName" not in rule  # the account's default bus, where S3 sends
    assert rule["EventPattern"]["detail-type"] == ["Object Created"]
    assert rule["EventPattern"]["detail"] == {
        "bucket": {"name": [worker_bucket]},
        "object": {"key": [{"prefix": constants.BANK_FILES_PREFIX}]},
    }
    assert [t["Arn"] for t in rule["Targets"]] == [{"Fn::GetAtt": [queue_id, "Arn"]}]
    # And EventBridge may send to the queue
    statements = [
        st
        for p in template.find_resources("AWS::SQS::QueuePolicy").values()
        if {"Ref": queue_id} in p["Properties"]["Queues"]
        for st in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert any(
        st.get("Principal") == {"Service": "events.amazonaws.com"} and "sqs:SendMessage" in _actions(st)
        for st in statements
    )
    # And the worker takes one file per invocation, with partial batch failures, and time for its worst case
    worker = _function(template, constants.BANK_FILES_HANDLER)
    assert mapping["BatchSize"] == 1
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert worker["Timeout"] > handler.FILE_MAX_S
    # And a message is hidden for six timeouts; five failed tries park it in the DLQ, which alarms
    assert queue["VisibilityTimeout"] >= 6 * worker["Timeout"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 5
    dlq_id = queue["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    [dlq_alarm] = [
        a["Properties"]
        for a in template.find_resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
        and {"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq_id, "QueueName"]}}
        in a["Properties"].get("Dimensions", [])
    ]
    assert dlq_alarm["Threshold"] == 1
    # And the worker reaches the database (in the VPC in prod)
    assert ("VpcConfig" in worker) == (stage == "prod")


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_the_worker_reads_bank_files_only_and_the_api_puts_them(
    stage: str, local_stack: Any, prod_stack: Any
) -> None:
    template = _stage(stage, local_stack, prod_stack)
    # The worker: s3:GetObject on bank-files/* and nothing else of S3
    worker_s3 = [s for s in _statements_of(template, constants.BANK_FILES_HANDLER) if any(
        a.startswith("s3:") for a in _actions(s)
    )]  # fmt: skip
    assert len(worker_s3) == 1
    assert _actions(worker_s3[0]) == {"s3:GetObject"}
    assert _on_bank_files(worker_s3[0])
    # The API: s3:PutObject on bank-files/* (a presigned POST acts with the signer's rights)
    parent = _template(local_stack if stage == "local" else prod_stack)
    api = [s for s in _statements_of(parent, constants.API_HANDLER) if _on_bank_files(s)]
    assert [_actions(s) for s in api] == [{"s3:PutObject"}]


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_a_day_of_poor_automatic_matching_alarms(stage: str, local_stack: Any, prod_stack: Any) -> None:
    from assistec.services.banking.reconciliation import METRIC_RATE

    template = _stage(stage, local_stack, prod_stack)
    alarms = [a["Properties"] for a in template.find_resources("AWS::CloudWatch::Alarm").values()]
    # Given the metric the matcher publishes (the same name on both sides)
    assert METRIC_RATE == constants.RECONCILIATION_RATE_METRIC
    [rate] = [a for a in alarms if a.get("MetricName") == constants.RECONCILIATION_RATE_METRIC]
    # Then a day whose runs average under 90% automatic alarms, and a day without runs does not
    assert rate["Namespace"] == constants.METRICS_NAMESPACE
    assert rate["Dimensions"] == [{"Name": "service", "Value": constants.SERVICE_NAME}]
    assert (rate["Statistic"], rate["Period"], rate["EvaluationPeriods"]) == ("Average", 86_400, 1)
    assert (rate["Threshold"], rate["ComparisonOperator"]) == (90, "LessThanThreshold")
    assert rate["TreatMissingData"] == "notBreaching"
    # And it tells the alarm topic when it fires and when it clears
    assert rate["AlarmActions"] == rate["OKActions"]
    assert len(rate["AlarmActions"]) == 1
