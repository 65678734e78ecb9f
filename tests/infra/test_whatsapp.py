"""WhatsApp's resources (issue 11): the Evolution server's secret, the two queues with their DLQs and
alarms, the consumer and the sender with exactly what each uses, and the budgets the handlers state."""

from __future__ import annotations

import json
from typing import Any

import pytest

from assistec.handlers import whatsapp_worker
from assistec_infra import constants
from assistec_infra.capabilities import whatsapp
from tests.infra.templates import _function, _template


def test_the_handlers_worst_cases_are_the_infras() -> None:
    assert whatsapp_worker.DELIVERY_WORST_CASE_S == whatsapp.DELIVERY_WORST_CASE_S
    assert whatsapp_worker.SEND_WORST_CASE_S == whatsapp.SEND_WORST_CASE_S
    assert (
        whatsapp.CONSUMER_FUNCTION.timeout_s >= whatsapp.CONSUMER_BATCH_SIZE * whatsapp.DELIVERY_WORST_CASE_S
    )
    assert whatsapp.SENDER_FUNCTION.timeout_s >= whatsapp.SENDER_BATCH_SIZE * whatsapp.SEND_WORST_CASE_S


def _function_id(template: Any, handler: str) -> str:
    [name] = [
        name
        for name, f in template.find_resources("AWS::Lambda::Function").items()
        if f["Properties"].get("Handler") == handler
    ]
    return str(name)


def _statements(template: Any, handler: str) -> list[dict[str, Any]]:
    role = _function(template, handler)["Role"]["Fn::GetAtt"][0]
    return [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    found: set[str] = set()
    for s in statements:
        found |= {s["Action"]} if isinstance(s["Action"], str) else set(s["Action"])
    return found


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_queues_workers_and_least_privilege(stage: str, local_stack: Any, prod_stack: Any) -> None:
    template = _template(local_stack if stage == "local" else prod_stack)
    # The Evolution server's secret: no URL until ops put theirs in (locally `make up` does)
    [secret] = [
        s
        for s in template.find_resources("AWS::SecretsManager::Secret").values()
        if "Evolution" in s["Properties"].get("Description", "")
    ]
    assert json.loads(secret["Properties"]["GenerateSecretString"]["SecretStringTemplate"]) == {"url": ""}
    consumer = _function(template, constants.WHATSAPP_CONSUMER_HANDLER)
    sender = _function(template, constants.WHATSAPP_SENDER_HANDLER)
    api = _function(template, constants.API_HANDLER)
    consumer_env = set(consumer["Environment"]["Variables"])
    sender_env = set(sender["Environment"]["Variables"])
    assert {"WHATSAPP_QUEUE_URL", "WHATSAPP_SEND_QUEUE_URL", "EVOLUTION_SECRET_ID"} <= set(
        api["Environment"]["Variables"]
    )
    # The relay's sweep hands lost replies to the send queue again
    relay = _function(template, constants.OUTBOX_RELAY_HANDLER)["Environment"]["Variables"]
    assert "WHATSAPP_SEND_QUEUE_URL" in relay
    # The consumer (the bot) queues replies and mails the owner; it never talks to Evolution
    assert {"WHATSAPP_SEND_QUEUE_URL", "PUBLIC_BASE_URL", "MAIL_SENDER", "EVENT_BUS_NAME"} <= consumer_env
    assert "EVOLUTION_SECRET_ID" not in consumer_env
    # The sender talks to Evolution; it queues nothing and publishes nothing
    assert "EVOLUTION_SECRET_ID" in sender_env
    assert not {"WHATSAPP_QUEUE_URL", "WHATSAPP_SEND_QUEUE_URL", "EVENT_BUS_NAME", "MAIL_SENDER"} & sender_env
    sender_actions = _actions(_statements(template, constants.WHATSAPP_SENDER_HANDLER))
    # The sender writes customers' files under whatsapp/ only, and reads nothing there
    assert "DEVICES_BUCKET" in sender_env
    puts = [
        s
        for s in _statements(template, constants.WHATSAPP_SENDER_HANDLER)
        if "s3:" in json.dumps(s["Action"])
    ]
    assert [p["Action"] for p in puts] == ["s3:PutObject"]
    assert "whatsapp/*" in json.dumps(puts[0]["Resource"])
    assert not {"sqs:SendMessage", "events:PutEvents", "ses:SendRawEmail", "kms:Decrypt"} & sender_actions
    consumer_actions = _actions(_statements(template, constants.WHATSAPP_CONSUMER_HANDLER))
    assert "secretsmanager:GetSecretValue" in consumer_actions  # the database's secret only
    assert not any(
        "Evolution" in json.dumps(s.get("Resource"))
        for s in _statements(template, constants.WHATSAPP_CONSUMER_HANDLER)
    )
    # Both queues with partial batch failures; a disconnected number and each DLQ raise an alarm
    for size in (whatsapp.CONSUMER_BATCH_SIZE, whatsapp.SENDER_BATCH_SIZE):
        mappings = [
            m["Properties"]
            for m in template.find_resources("AWS::Lambda::EventSourceMapping").values()
            if m["Properties"].get("BatchSize") == size
        ]
        assert mappings
        assert all(m["FunctionResponseTypes"] == ["ReportBatchItemFailures"] for m in mappings)
    alarms = [a["Properties"] for a in template.find_resources("AWS::CloudWatch::Alarm").values()]
    assert any(a.get("MetricName") == "WhatsappDisconnected" for a in alarms)
    assert sum("WhatsApp:" in a.get("AlarmDescription", "") for a in alarms) >= 4
    # Orders' status changes reach the consumer through a queue that holds each a minute
    delayed = [
        q["Properties"]
        for q in template.find_resources("AWS::SQS::Queue").values()
        if q["Properties"].get("DelaySeconds") == whatsapp.STATUS_DELAY_S
    ]
    assert len(delayed) == 1
    rules = [
        r["Properties"]
        for r in template.find_resources("AWS::Events::Rule").values()
        if r["Properties"].get("EventPattern", {}).get("detail-type") == [constants.ORDER_STATUS_CHANGED]
    ]
    assert len(rules) == 1
    consumer_mappings = [
        m["Properties"]
        for m in template.find_resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"]
        == {"Ref": _function_id(template, constants.WHATSAPP_CONSUMER_HANDLER)}
    ]
    assert len(consumer_mappings) == 2  # Evolution's deliveries and the status changes
