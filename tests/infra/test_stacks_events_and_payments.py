"""CloudFormation assertions on both stages, the asynchronous side: the domain events bus and its
relay, the payments queue and consumer, the payment flow's state machine, and the shops' billing
(platform secret, signup rule, daily dunning run)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match

from assistec_infra import constants
from tests.infra.templates import _function, _template


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_domain_events_bus_archive_and_scheduled_relay(stage: str, local_stack: Any, prod_stack: Any) -> None:
    template = _template(local_stack if stage == "local" else prod_stack)
    template.has_resource_properties("AWS::Events::EventBus", {"Name": f"assistec-{stage}"})
    template.has_resource_properties("AWS::Events::Archive", {"RetentionDays": 90})
    relay = _function(template, constants.OUTBOX_RELAY_HANDLER)
    api = _function(template, constants.API_HANDLER)
    bus_id = next(iter(template.find_resources("AWS::Events::EventBus")))
    for props in (relay, api):
        assert props["Environment"]["Variables"]["EVENT_BUS_NAME"] == {"Ref": bus_id}
        assert "DB_SECRET_ID" in props["Environment"]["Variables"]
    # The relay runs every minute, and both functions may put events on this bus only
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "rate(1 minute)",
            "Targets": [Match.object_like({"RetryPolicy": Match.any_value()})],
        },
    )
    policies = template.find_resources("AWS::IAM::Policy")
    put_events = [
        s
        for p in policies.values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "events:PutEvents"
    ]
    # The API, the relay, the payments consumer, the reconciliation's fan-out and worker, the flow,
    # the dunning run, WhatsApp's consumer (its sender emits nothing), the quote flow, and
    # scheduling's calendar worker, pass and reminders (their units of work flush their events), and
    # the ops console's function (a reopened or provisioned shop's ShopBillingStatusChanged)
    assert len(put_events) == 13
    assert all(s["Resource"] == {"Fn::GetAtt": [bus_id, "Arn"]} for s in put_events)
    # Ops hear about a stuck outbox
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"MetricName": "OutboxOldestPendingSeconds", "Threshold": 600}
    )


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_payments_queue_dlq_consumer_and_alarm(stage: str, local_stack: Any, prod_stack: Any) -> None:
    template = _template(local_stack if stage == "local" else prod_stack)
    queues = template.find_resources("AWS::SQS::Queue")
    main = [q for q in queues.values() if "RedrivePolicy" in q["Properties"]]
    # The payments events, the reconciliation's shops (tests/infra/test_worker_budgets.py), and
    # WhatsApp's deliveries, sends and status changes (tests/infra/test_whatsapp.py), and the
    # calendar's appointments (tests/infra/test_scheduling.py), and SES's events (tests/infra/test_mail.py),
    # and the owners' data export requests (tests/infra/test_data_exports.py), and the shops' uploaded
    # bank files (tests/infra/test_bank_files.py; in prod in a nested stack of its own)
    assert len(main) == (9 if stage == "local" else 8)
    assert all(q["Properties"]["RedrivePolicy"]["maxReceiveCount"] == 5 for q in main)
    assert all(q["Properties"].get("SqsManagedSseEnabled") for q in queues.values())
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {"BatchSize": 10, "FunctionResponseTypes": ["ReportBatchItemFailures"]},
    )
    consumer = _function(template, constants.PAYMENTS_CONSUMER_HANDLER)
    assert {"DB_SECRET_ID", "EVENT_BUS_NAME", "PAYMENTS_KEY_ID"} <= set(consumer["Environment"]["Variables"])
    api = _function(template, constants.API_HANDLER)["Environment"]["Variables"]
    assert {"PAYMENTS_KEY_ID", "PAYMENTS_QUEUE_URL"} <= set(api)
    assert ("ASAAS_BASE_URL" in api) == (stage == "local")  # the offline simulator, locally only
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {"MetricName": "ApproximateNumberOfMessagesVisible", "Threshold": 1, "Namespace": "AWS/SQS"},
    )
    # Reconciliation every hour; ops hear when mismatches persist three hours
    _function(template, constants.RECONCILE_HANDLER)
    template.has_resource_properties("AWS::Events::Rule", {"ScheduleExpression": "rate(1 hour)"})
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {"MetricName": "ReconciliationMismatches", "EvaluationPeriods": 3, "Threshold": 1},
    )


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_payment_flow_state_machine(stage: str, local_stack: Any, prod_stack: Any) -> None:
    template = _template(local_stack if stage == "local" else prod_stack)
    machines = template.find_resources("AWS::StepFunctions::StateMachine")
    # The payment flow, the quote flow (tests/infra/test_quote_flow.py) and the nightly backup
    # (tests/infra/test_backup.py)
    assert len(machines) == 3
    [props] = [m["Properties"] for name, m in machines.items() if name.startswith("PaymentFlow")]
    assert props["StateMachineType"] == "STANDARD"
    assert props["TracingConfiguration"] == {"Enabled": True}
    definition = json.dumps(props["DefinitionString"])
    # create → notify → wait (token, timeout from the input) → paid; timeout → remind → wait → expired
    for state in (
        "Create",
        "Notify",
        "WaitForPayment",
        "Remind",
        "WaitAfterReminder",
        "Paid",
        "Expired",
        "FlowFailed",
    ):
        assert f'\\"{state}\\"' in definition, state
    assert "waitForTaskToken" in definition
    assert "TimeoutSecondsPath" in definition
    assert "$.wait_seconds" in definition
    assert "States.Timeout" in definition
    assert "States.TaskFailed" in definition
    api = _function(template, constants.API_HANDLER)["Environment"]["Variables"]
    assert "PAYMENT_FLOW_ARN" in api
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"MetricName": "ExecutionsFailed", "Threshold": 1}
    )


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_billing_secret_signup_rule_daily_dunning_and_alarm(
    stage: str, local_stack: Any, prod_stack: Any
) -> None:
    template = _template(local_stack if stage == "local" else prod_stack)
    # The platform account's secret: a generated webhook token, no key (ops put it in)
    secrets = [
        s
        for s in template.find_resources("AWS::SecretsManager::Secret").values()
        if "Asaas" in s["Properties"].get("Description", "")
    ]
    assert len(secrets) == 1
    generated = secrets[0]["Properties"]["GenerateSecretString"]
    assert generated["GenerateStringKey"] == "webhook_token"
    assert json.loads(generated["SecretStringTemplate"]) == {
        "api_key": "",
        "environment": "production" if stage == "prod" else "sandbox",
    }
    # Who reads it: the API (webhook token), the consumer and the dunning run (the key)
    for handler in (constants.API_HANDLER, constants.PAYMENTS_CONSUMER_HANDLER, constants.DUNNING_HANDLER):
        assert "PLATFORM_ASAAS_SECRET_ID" in _function(template, handler)["Environment"]["Variables"], handler
    # Signup's event goes to the payments queue
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {"source": [constants.EVENT_SOURCE], "detail-type": ["ShopSignedUp"]},
            "Targets": [Match.object_like({"Arn": Match.any_value()})],
        },
    )
    # Daily at 08:00 in Brasília, and ops hear about shops the run could not check
    template.has_resource_properties("AWS::Events::Rule", {"ScheduleExpression": "cron(0 11 * * ? *)"})
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"MetricName": "DunningErrors", "Threshold": 1}
    )
    dunning = _function(template, constants.DUNNING_HANDLER)
    assert "MAIL_SENDER" in dunning["Environment"]["Variables"]
    mailers = [
        s
        for p in template.find_resources("AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "ses:SendRawEmail"
    ]
    # the flow, the consumer (reactivation), the dunning run, the API (signup's confirmation),
    # WhatsApp's consumer (the owner hears of a dropped number), the quote flow (e-mail fallback),
    # the calendar worker and pass (a revoked Google consent), the reminders (e-mail fallback), the
    # reports to ops and the data exports worker (the owner's export is ready)
    assert len(mailers) == 11
    # each through the stage's configuration set (its events come back: tests/infra/test_mail.py)
    assert all(any("configuration-set/" in json.dumps(r) for r in s["Resource"]) for s in mailers)
    assert all("ses:FromAddress" in s["Condition"]["StringEquals"] for s in mailers)


def test_the_event_source_matches_the_code() -> None:
    from assistec.services.outbox import SOURCE

    assert constants.EVENT_SOURCE == SOURCE
