"""Scheduling's resources (issue 12): the Google OAuth client's secret, the calendar queue fed by the
domain bus's ``AppointmentChanged`` with its DLQ and worker, the five-minute calendar pass and
reminders, the alarms, and exactly what each function may do (the Google tokens' KMS purpose for
whoever calls Google, and nobody else)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from assistec.handlers import calendar
from assistec.integrations import kms
from assistec.settings import CalendarSettings
from assistec_infra import constants
from assistec_infra.capabilities import scheduling
from tests.infra.templates import _app_handlers, _function, _template

GOOGLE = {"kms:EncryptionContext:purpose": "google-token"}
CALENDAR_HANDLERS = (constants.CALENDAR_WORKER_HANDLER, constants.CALENDAR_SCHEDULED_HANDLER)
# Set by the functions' factory for every function, outside the settings models
_RUNTIME_VARIABLES = {"APP_VERSION", "POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE"}
_RUNTIME_VARIABLES |= {"POWERTOOLS_LOG_LEVEL", "POWERTOOLS_TRACER_CAPTURE_RESPONSE"}


def _stage(stage: str, local_stack: Any, prod_stack: Any) -> Any:
    return _template(local_stack if stage == "local" else prod_stack)


def _id(template: Any, handler: str) -> str:
    [name] = [
        name
        for name, f in template.find_resources("AWS::Lambda::Function").items()
        if f["Properties"].get("Handler") == handler
    ]
    return str(name)


def _env(template: Any, handler: str) -> dict[str, Any]:
    variables: dict[str, Any] = _function(template, handler)["Environment"]["Variables"]
    return variables


def _statements(template: Any, handler: str) -> list[dict[str, Any]]:
    role = _function(template, handler)["Role"]["Fn::GetAtt"][0]
    return [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def _resources(statement: dict[str, Any]) -> list[Any]:
    resource = statement["Resource"]
    return resource if isinstance(resource, list) else [resource]


def _google_grants(template: Any, handler: str) -> list[set[str]]:
    """The actions of each statement of the handler's role conditioned on the google-token purpose."""
    return [
        _actions(s)
        for s in _statements(template, handler)
        if s.get("Condition", {}).get("StringEquals") == GOOGLE
    ]


def _secret_id(template: Any) -> str:
    [name] = [
        name
        for name, s in template.find_resources("AWS::SecretsManager::Secret").items()
        if "Google" in s["Properties"].get("Description", "")
    ]
    return str(name)


def _calendar_queue(template: Any) -> tuple[str, dict[str, Any]]:
    """The queue the calendar worker reads, and its event source mapping."""
    worker = _id(template, constants.CALENDAR_WORKER_HANDLER)
    [mapping] = [
        m["Properties"]
        for m in template.find_resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": worker}
    ]
    return str(mapping["EventSourceArn"]["Fn::GetAtt"][0]), mapping


def test_the_handlers_worst_case_is_the_infras() -> None:
    assert calendar.PUSH_WORST_CASE_S == scheduling.PUSH_WORST_CASE_S
    assert scheduling.WORKER_FUNCTION.timeout_s >= scheduling.WORKER_BATCH_SIZE * scheduling.PUSH_WORST_CASE_S
    assert constants.KMS_GOOGLE_TOKEN_CONTEXT == kms.GOOGLE_TOKEN
    assert {f"kms:EncryptionContext:{kms.GOOGLE_TOKEN[0]}": kms.GOOGLE_TOKEN[1]} == GOOGLE


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_appointment_changes_reach_the_calendar_worker_through_its_queue(
    stage: str, local_stack: Any, prod_stack: Any
) -> None:
    # Given the stage's template
    template = _stage(stage, local_stack, prod_stack)
    queue_id, mapping = _calendar_queue(template)
    queues = template.find_resources("AWS::SQS::Queue")
    bus_id = next(iter(template.find_resources("AWS::Events::EventBus")))

    # Then the bus's AppointmentChanged goes to the worker's queue, and nowhere else
    rules = [
        r["Properties"]
        for r in template.find_resources("AWS::Events::Rule").values()
        if r["Properties"].get("EventPattern", {}).get("detail-type") == [constants.APPOINTMENT_CHANGED]
    ]
    assert len(rules) == 1
    assert rules[0]["EventPattern"]["source"] == [constants.EVENT_SOURCE]
    assert rules[0]["EventBusName"] == {"Ref": bus_id}
    assert [t["Arn"] for t in rules[0]["Targets"]] == [{"Fn::GetAtt": [queue_id, "Arn"]}]
    # And EventBridge may send to that queue (its queue policy)
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
    # And the worker takes batches with partial failures; a whole batch at its worst fits the
    # function's timeout, and the queue hides a message for six of those timeouts
    worker = _function(template, constants.CALENDAR_WORKER_HANDLER)
    queue = queues[queue_id]["Properties"]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == scheduling.WORKER_BATCH_SIZE
    assert worker["Timeout"] >= mapping["BatchSize"] * calendar.PUSH_WORST_CASE_S
    assert queue["VisibilityTimeout"] >= 6 * worker["Timeout"]
    assert worker["Timeout"] <= 900
    # And five failed tries park a message in the DLQ, whose messages raise an alarm
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 5
    dlq_id = queue["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    dlq_alarms = [
        a["Properties"]
        for a in template.find_resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
        and {"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq_id, "QueueName"]}}
        in a["Properties"].get("Dimensions", [])
    ]
    assert len(dlq_alarms) == 1
    assert dlq_alarms[0]["Threshold"] == 1
    assert dlq_alarms[0]["AlarmActions"]
    # And the worker reaches the database (in the VPC in prod, after the schema)
    if stage == "prod":
        assert "VpcConfig" in worker


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_the_calendar_pass_and_the_reminders_run_every_five_minutes(
    stage: str, local_stack: Any, prod_stack: Any
) -> None:
    template = _stage(stage, local_stack, prod_stack)
    rules = [
        r["Properties"]
        for r in template.find_resources("AWS::Events::Rule").values()
        if r["Properties"].get("ScheduleExpression") == "rate(5 minutes)"
    ]
    targets = sorted(json.dumps(t["Arn"]) for r in rules for t in r["Targets"])
    assert len(rules) == 2
    assert targets == sorted(
        json.dumps({"Fn::GetAtt": [_id(template, handler), "Arn"]})
        for handler in (constants.CALENDAR_SCHEDULED_HANDLER, constants.REMINDERS_HANDLER)
    )
    # EventBridge may invoke each of them
    permitted = [
        p["Properties"]["FunctionName"]
        for p in template.find_resources("AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "events.amazonaws.com"
    ]
    for handler in (constants.CALENDAR_SCHEDULED_HANDLER, constants.REMINDERS_HANDLER):
        assert {"Fn::GetAtt": [_id(template, handler), "Arn"]} in permitted


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_ops_hear_of_failed_syncs_passes_and_reminders(stage: str, local_stack: Any, prod_stack: Any) -> None:
    template = _stage(stage, local_stack, prod_stack)
    alarms = {
        a["Properties"].get("MetricName"): a["Properties"]
        for a in template.find_resources("AWS::CloudWatch::Alarm").values()
    }
    for metric in ("CalendarSyncFailures", "CalendarPassFailures", "ReminderFailures"):
        alarm = alarms[metric]
        assert alarm["Namespace"] == constants.METRICS_NAMESPACE
        assert alarm["Dimensions"] == [{"Name": "service", "Value": constants.SERVICE_NAME}]
        assert alarm["Statistic"] == "Sum"
        assert alarm["AlarmActions"]
    # And each function is watched for errors and throttles, as every other
    watched = [
        a["Properties"]["AlarmDescription"]
        for a in template.find_resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") in ("Errors", "Throttles")
    ]
    for label in ("Calendar worker:", "Calendar pass:", "Appointment reminders:"):
        assert sum(d.startswith(label) for d in watched) == 2, label


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_only_who_calls_google_may_use_the_shops_google_tokens(
    stage: str, local_stack: Any, prod_stack: Any
) -> None:
    template = _stage(stage, local_stack, prod_stack)
    # The API (the consent, availability), the worker and the pass: encrypt and decrypt, by purpose
    for handler in (constants.API_HANDLER, *CALENDAR_HANDLERS):
        assert _google_grants(template, handler) == [{"kms:Encrypt", "kms:Decrypt"}], handler
    # The reminders never call Google, nor do WhatsApp's functions or any other
    for handler in _app_handlers(template) - {constants.API_HANDLER, *CALENDAR_HANDLERS}:
        assert _google_grants(template, handler) == [], handler
    assert _google_grants(template, constants.REMINDERS_HANDLER) == []
    assert _google_grants(template, constants.WHATSAPP_CONSUMER_HANDLER) == []
    assert _google_grants(template, constants.WHATSAPP_SENDER_HANDLER) == []
    # And the calendar functions' only grants on the shop-secrets key are the google-token ones, and
    # decrypting the shop's SMTP password (they send its mail)
    smtp = {"kms:EncryptionContext:purpose": "smtp-password"}
    for handler in (*CALENDAR_HANDLERS, constants.REMINDERS_HANDLER):
        on_key = [s for s in _statements(template, handler) if _actions(s) & {"kms:Decrypt", "kms:Encrypt"}]
        for statement in on_key:
            condition = statement.get("Condition", {}).get("StringEquals")
            assert condition == GOOGLE or (condition == smtp and _actions(statement) == {"kms:Decrypt"}), (
                handler
            )


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_the_google_secret_is_read_by_who_calls_google_only(
    stage: str, local_stack: Any, prod_stack: Any
) -> None:
    template = _stage(stage, local_stack, prod_stack)
    secret_id = _secret_id(template)
    # Created empty ("{}": Google not configured here) for ops to fill; locally `make up` does
    secret = template.find_resources("AWS::SecretsManager::Secret")[secret_id]["Properties"]
    assert json.loads(secret["SecretString"]) == {}
    readers = {
        handler
        for handler in _app_handlers(template)
        if any(
            "secretsmanager:GetSecretValue" in _actions(s) and {"Ref": secret_id} in _resources(s)
            for s in _statements(template, handler)
        )
    }
    assert readers == {constants.API_HANDLER, *CALENDAR_HANDLERS}
    for handler in readers:
        assert _env(template, handler)["GOOGLE_SECRET_ID"] == {"Ref": secret_id}


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_each_calendar_function_has_its_settings_and_their_permissions(
    stage: str, local_stack: Any, prod_stack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    template = _stage(stage, local_stack, prod_stack)
    queue_id, _ = _calendar_queue(template)
    worker = _env(template, constants.CALENDAR_WORKER_HANDLER)
    scheduled = _env(template, constants.CALENDAR_SCHEDULED_HANDLER)
    reminders = _env(template, constants.REMINDERS_HANDLER)
    common = {"STAGE", "DB_SECRET_ID", "EVENT_BUS_NAME", "PAYMENTS_KEY_ID", "MAIL_SENDER"}
    for env in (worker, scheduled, reminders):
        assert common <= set(env)
        assert env["STAGE"] == stage
    # The worker and the pass call Google; the pass alone queues (the mirrors it retries)
    assert "GOOGLE_SECRET_ID" in worker
    assert "GOOGLE_SECRET_ID" in scheduled
    assert scheduled["CALENDAR_QUEUE_URL"] == {"Ref": queue_id}
    assert "CALENDAR_QUEUE_URL" not in worker
    assert not {"WHATSAPP_SEND_QUEUE_URL", "PUBLIC_BASE_URL"} & (set(worker) | set(scheduled))
    # The reminders queue WhatsApp messages with links, or e-mail; they never call Google
    assert {"WHATSAPP_SEND_QUEUE_URL", "PUBLIC_BASE_URL"} <= set(reminders)
    assert not {"GOOGLE_SECRET_ID", "CALENDAR_QUEUE_URL"} & set(reminders)

    # Each reads CalendarSettings: every variable the stack sets is a field of the model, and the
    # model validates from them (CloudFormation's references stand in as sample values)
    fields = {name.upper() for name in CalendarSettings.model_fields}
    for env in (worker, scheduled, reminders):
        assert set(env) - _RUNTIME_VARIABLES <= fields, set(env) - _RUNTIME_VARIABLES - fields
        for name in fields:
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            sample = value if isinstance(value, str) else "https://resolved.example.com/v1"
            monkeypatch.setenv(name, sample)
        CalendarSettings()  # type: ignore[call-arg]  # values come from the environment

    # Sending: the pass to the calendar queue (and nobody else), the reminders to the send queue
    senders = {
        handler
        for handler in (*CALENDAR_HANDLERS, constants.REMINDERS_HANDLER, constants.API_HANDLER)
        if any(
            "sqs:SendMessage" in _actions(s) and {"Fn::GetAtt": [queue_id, "Arn"]} in _resources(s)
            for s in _statements(template, handler)
        )
    }
    assert senders == {constants.CALENDAR_SCHEDULED_HANDLER}
    send_queue_id = reminders["WHATSAPP_SEND_QUEUE_URL"]["Ref"]
    assert any(
        "sqs:SendMessage" in _actions(s) and {"Fn::GetAtt": [send_queue_id, "Arn"]} in _resources(s)
        for s in _statements(template, constants.REMINDERS_HANDLER)
    )
    # Every calendar function e-mails (the owners when a consent is revoked, customers without
    # WhatsApp) as the stage's sender only
    for handler in (*CALENDAR_HANDLERS, constants.REMINDERS_HANDLER):
        mails = [s for s in _statements(template, handler) if "ses:SendRawEmail" in _actions(s)]
        assert len(mails) == 1
        assert "ses:FromAddress" in mails[0]["Condition"]["StringEquals"]


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_the_stack_outputs_what_make_up_and_ops_use(stage: str, local_stack: Any, prod_stack: Any) -> None:
    template = _stage(stage, local_stack, prod_stack)
    outputs = template.to_json()["Outputs"]
    queue_id, _ = _calendar_queue(template)
    assert outputs["GoogleSecretArn"]["Value"] == {"Ref": _secret_id(template)}
    assert outputs["CalendarQueueUrl"]["Value"] == {"Ref": queue_id}
    for name, handler in (
        ("CalendarWorkerFunctionName", constants.CALENDAR_WORKER_HANDLER),
        ("CalendarScheduledFunctionName", constants.CALENDAR_SCHEDULED_HANDLER),
        ("RemindersFunctionName", constants.REMINDERS_HANDLER),
    ):
        assert outputs[name]["Value"] == {"Ref": _id(template, handler)}
