"""The owners' data exports (LGPD) in both stages: the bus's ``DataExportRequested`` reaches the worker
through its queue (DLQ, alarm), one export at a time and two at most at once; the exports' bucket
(private, encrypted, TLS only, not versioned, each zip expired by the lifecycle a day after the 7 the
API hands it out); who may do what there (the worker puts under ``exports/``, the API gets there to
sign links, nobody else touches it, nobody deletes); the worker's settings, mail and alarms."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Template

from assistec.domain import data_exports as rules
from assistec.handlers import data_exports as handler
from assistec.settings import DataExportSettings
from assistec_infra import constants
from assistec_infra.capabilities import data_exports
from tests.infra.templates import _function, _functions, _template

# Set by the functions' factory for every function, outside the settings models
_RUNTIME_VARIABLES = {"STAGE", "APP_VERSION", "POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE"}
_RUNTIME_VARIABLES |= {"POWERTOOLS_LOG_LEVEL", "POWERTOOLS_TRACER_CAPTURE_RESPONSE"}


def _stage(stage: str, local_stack: Any, prod_stack: Any) -> Template:
    return _template(local_stack if stage == "local" else prod_stack)


def _function_id(template: Template, handler_name: str) -> str:
    [name] = [n for n, f in _functions(template).items() if f["Properties"]["Handler"] == handler_name]
    return str(name)


def _role(template: Template, handler_name: str) -> dict[str, str]:
    return {"Ref": _function(template, handler_name)["Role"]["Fn::GetAtt"][0]}


def _statements(template: Template) -> list[tuple[dict[str, Any], list[Any]]]:
    """Every identity-policy statement of the stack, with the roles it is attached to."""
    return [
        (statement, policy["Properties"]["Roles"])
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def _bucket(template: Template) -> tuple[str, dict[str, Any]]:
    name = template.to_json()["Outputs"]["DataExportsBucketName"]["Value"]["Ref"]
    return name, template.find_resources("AWS::S3::Bucket")[name]["Properties"]


def test_the_code_and_the_stack_agree_on_the_numbers() -> None:
    # The worker dies at its timeout; the code's lease on a running export must outlast it
    assert data_exports.WORKER_FUNCTION.timeout_s < rules.RUNNING_LEASE_S
    # The handler starts an export only with time left: a fresh invocation always has it
    assert data_exports.WORKER_FUNCTION.timeout_s > handler.EXPORT_MIN_S
    # The API hands a zip out for as many days as the stack's constant says; the bucket keeps it longer
    assert constants.DATA_EXPORTS_DAYS == rules.FILE_DAYS
    assert constants.DATA_EXPORTS_EXPIRE_DAYS > rules.FILE_DAYS
    # The keys the code writes are under the prefix the grants and the lifecycle name
    assert constants.DATA_EXPORTS_PREFIX == rules.KEY_PREFIX
    # The event the code emits is the one the rule matches
    assert constants.DATA_EXPORT_REQUESTED == rules.REQUESTED_EVENT


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_export_requests_reach_the_worker_through_its_queue(
    stage: str, local_stack: Any, prod_stack: Any
) -> None:
    template = _stage(stage, local_stack, prod_stack)
    worker_id = _function_id(template, constants.DATA_EXPORTS_HANDLER)
    [mapping] = [
        m["Properties"]
        for m in template.find_resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": worker_id}
    ]
    queue_id = mapping["EventSourceArn"]["Fn::GetAtt"][0]
    queue = template.find_resources("AWS::SQS::Queue")[queue_id]["Properties"]
    bus_id = next(iter(template.find_resources("AWS::Events::EventBus")))
    # Then the bus's DataExportRequested goes to the worker's queue, and nowhere else
    [rule] = [
        r["Properties"]
        for r in template.find_resources("AWS::Events::Rule").values()
        if r["Properties"].get("EventPattern", {}).get("detail-type") == [constants.DATA_EXPORT_REQUESTED]
    ]
    assert rule["EventPattern"]["source"] == [constants.EVENT_SOURCE]
    assert rule["EventBusName"] == {"Ref": bus_id}
    assert [t["Arn"] for t in rule["Targets"]] == [{"Fn::GetAtt": [queue_id, "Arn"]}]
    # And EventBridge may send to it
    policies = [
        p["Properties"]
        for p in template.find_resources("AWS::SQS::QueuePolicy").values()
        if {"Ref": queue_id} in p["Properties"]["Queues"]
    ]
    assert any(
        s.get("Principal") == {"Service": "events.amazonaws.com"} and "sqs:SendMessage" in _actions(s)
        for p in policies
        for s in p["PolicyDocument"]["Statement"]
    )
    # And the worker takes one export per invocation, two at most at once, with partial batch failures,
    # the whole of Lambda's 15 minutes and room for a large shop
    worker = _function(template, constants.DATA_EXPORTS_HANDLER)
    assert mapping["BatchSize"] == 1
    assert mapping["ScalingConfig"]["MaximumConcurrency"] == data_exports.WORKER_CONCURRENCY == 2
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert worker["Timeout"] == 900
    assert worker["MemorySize"] == 1024
    # And the queue hides a message in flight for six timeouts; five failed tries park it in the DLQ,
    # whose messages alarm
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
    assert dlq_alarm["AlarmActions"]
    # And the worker reaches the database (in the VPC in prod)
    assert ("VpcConfig" in worker) == (stage == "prod")


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_the_bucket_is_private_encrypted_and_expires_each_zip(
    stage: str, local_stack: Any, prod_stack: Any
) -> None:
    template = _stage(stage, local_stack, prod_stack)
    name, bucket = _bucket(template)
    # Then it is encrypted, closed to the public, TLS only
    [rule] = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    [policy] = [
        p["Properties"]
        for p in template.find_resources("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": name}
    ]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in policy["PolicyDocument"]["Statement"]
    )
    # And not versioned, not locked: an expired zip is gone, no old version of it stays behind
    assert bucket.get("VersioningConfiguration", {}).get("Status") != "Enabled"
    assert "ObjectLockEnabled" not in bucket
    # And every zip under exports/ expires 8 days after it was stored (the API's 7, and a day for the
    # last link); an upload left half done is cleaned up after a day
    [lifecycle] = bucket["LifecycleConfiguration"]["Rules"]
    assert lifecycle["Status"] == "Enabled"
    assert lifecycle["Prefix"] == "exports/"
    assert lifecycle["ExpirationInDays"] == 8
    assert lifecycle["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    # And it is not one of the backups' buckets (versioned and locked, reached by no person)
    outputs = template.to_json()["Outputs"]
    assert name not in {outputs[o]["Value"]["Ref"] for o in ("BackupBucketName", "BackupCopyBucketName")}


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_only_the_worker_writes_the_zips_and_only_the_api_signs_links_to_them(
    stage: str, local_stack: Any, prod_stack: Any
) -> None:
    template = _stage(stage, local_stack, prod_stack)
    name, _ = _bucket(template)
    on_bucket = [(s, r) for s, r in _statements(template) if f'"{name}"' in json.dumps(s["Resource"])]
    prefix = {"Fn::Join": ["", [{"Fn::GetAtt": [name, "Arn"]}, "/exports/*"]]}
    # Then the worker may put objects under exports/, and nothing else there
    worker = [(s, r) for s, r in on_bucket if r == [_role(template, constants.DATA_EXPORTS_HANDLER)]]
    assert [(_actions(s), s["Resource"]) for s, _ in worker] == [({"s3:PutObject"}, prefix)]
    # And the API may get objects under exports/ (a presigned GET acts with its rights), nothing else
    api = [(s, r) for s, r in on_bucket if r == [_role(template, constants.API_HANDLER)]]
    assert [(_actions(s), s["Resource"]) for s, _ in api] == [({"s3:GetObject"}, prefix)]
    # And no other role reaches the bucket, and nobody deletes or lists
    assert len(on_bucket) == len(worker) + len(api)
    assert not [
        s for s, _ in on_bucket if any(a.startswith(("s3:Delete", "s3:List", "s3:*")) for a in _actions(s))
    ]
    # And the API's function is told the bucket; no other function but the worker is
    told = {
        f["Properties"]["Handler"]
        for f in _functions(template).values()
        if "EXPORTS_BUCKET" in f["Properties"].get("Environment", {}).get("Variables", {})
    }
    assert told == {constants.API_HANDLER, constants.DATA_EXPORTS_HANDLER}
    for handler_name in told:
        variables = _function(template, handler_name)["Environment"]["Variables"]
        assert variables["EXPORTS_BUCKET"] == {"Ref": name}


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_the_worker_reads_its_settings_and_mails_as_the_platform(
    stage: str, local_stack: Any, prod_stack: Any
) -> None:
    template = _stage(stage, local_stack, prod_stack)
    worker = _function(template, constants.DATA_EXPORTS_HANDLER)
    variables = worker["Environment"]["Variables"]
    database = {"DB_SECRET_ID", "DB_SSLMODE"} | ({"DB_SSLROOTCERT", "DB_HOST"} if stage == "prod" else set())
    mail = {"MAIL_SENDER", "MAIL_CONFIGURATION_SET", "MAIL_SUPPORT_ADDRESS"}
    # Then it gets DataExportSettings' variables, and nothing else beyond the runtime's
    assert set(variables) - _RUNTIME_VARIABLES == database | mail | {"EXPORTS_BUCKET"}
    assert {v.lower() for v in set(variables) - _RUNTIME_VARIABLES} <= set(DataExportSettings.model_fields)
    # And it publishes no events, holds no key, sends through SES as the stage's sender only
    statements = [s for s, r in _statements(template) if _role(template, constants.DATA_EXPORTS_HANDLER) in r]
    actions = set().union(*(_actions(s) for s in statements))
    assert "events:PutEvents" not in actions
    assert not {a for a in actions if a.startswith("kms:")}
    [ses] = [s for s in statements if "ses:SendRawEmail" in _actions(s)]
    assert ses["Condition"]["StringEquals"]["ses:FromAddress"] == variables["MAIL_SENDER"]


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_ops_hear_of_failed_exports_and_the_worker_is_watched(
    stage: str, local_stack: Any, prod_stack: Any
) -> None:
    template = _stage(stage, local_stack, prod_stack)
    topic = template.to_json()["Outputs"]["AlarmTopicArn"]["Value"]
    alarms = [a["Properties"] for a in template.find_resources("AWS::CloudWatch::Alarm").values()]
    # Then a failed export alarms at once (each one is an owner who got no copy)
    [failures] = [a for a in alarms if a.get("MetricName") == constants.DATA_EXPORT_FAILURES_METRIC]
    assert failures["Namespace"] == constants.METRICS_NAMESPACE
    assert (failures["Statistic"], failures["Threshold"]) == ("Sum", 1)
    assert failures["AlarmActions"] == [topic]
    assert failures["OKActions"] == [topic]
    # And the worker is watched for errors and throttles, as every other function
    worker_id = _function_id(template, constants.DATA_EXPORTS_HANDLER)
    watched = {
        a["MetricName"]
        for a in alarms
        if a.get("Namespace") == "AWS/Lambda" and a["Dimensions"][0]["Value"] == {"Ref": worker_id}
    }
    assert watched == {"Errors", "Throttles"}
