"""The mail capability in both stages: the SES configuration set whose events come back (SNS → the
mail events queue → its function), what every sender may do, and the one difference between the
local stage and prod (SMTP servers on loopback addresses)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from assistec_infra import constants
from tests.infra.templates import _function, _functions, _template


def _stage(stage: str, local_stack: Any, prod_stack: Any) -> Any:
    return _template(local_stack if stage == "local" else prod_stack)


def _statements(template: Any, handler: str) -> list[dict[str, Any]]:
    role = _function(template, handler)["Role"]["Fn::GetAtt"][0]
    return [
        s
        for p in template.find_resources("AWS::IAM::Policy").values()
        if {"Ref": role} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict[str, Any]) -> set[str]:
    actions = statement["Action"]
    return {actions} if isinstance(actions, str) else set(actions)


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_ses_events_come_back_through_a_queue_to_the_mail_events_function(
    stage: str, local_stack: Any, prod_stack: Any
) -> None:
    template = _stage(stage, local_stack, prod_stack)
    name = f"assistec-{stage}-mail"
    # The stage's configuration set publishes the events that move a message's record
    [(set_id, configuration_set)] = template.find_resources("AWS::SES::ConfigurationSet").items()
    assert configuration_set["Properties"]["Name"] == name
    [destination] = template.find_resources("AWS::SES::ConfigurationSetEventDestination").values()
    props = destination["Properties"]
    assert props["ConfigurationSetName"] == {"Ref": set_id}
    events = set(props["EventDestination"]["MatchingEventTypes"])
    assert {"bounce", "complaint", "delivery", "send", "reject"} <= events
    topic_id = props["EventDestination"]["SnsDestination"]["TopicARN"]["Ref"]
    topic = template.find_resources("AWS::SNS::Topic")[topic_id]["Properties"]
    assert "KmsMasterKeyId" in topic  # encrypted, with a key SES may use
    # SNS hands each event to a queue with a DLQ, raw (SES's JSON as the body)
    [subscription] = [
        s["Properties"]
        for s in template.find_resources("AWS::SNS::Subscription").values()
        if s["Properties"]["TopicArn"] == {"Ref": topic_id}
    ]
    assert subscription["Protocol"] == "sqs"
    assert subscription["RawMessageDelivery"] is True
    queue_id = subscription["Endpoint"]["Fn::GetAtt"][0]
    queue = template.find_resources("AWS::SQS::Queue")[queue_id]["Properties"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 5
    # The function reads it with partial batch failures, and reaches the database but not the bus
    function = _function(template, constants.MAIL_EVENTS_HANDLER)
    mappings = [
        m["Properties"]
        for m in template.find_resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    ]
    assert [m["FunctionResponseTypes"] for m in mappings] == [["ReportBatchItemFailures"]]
    variables = function["Environment"]["Variables"]
    assert "DB_SECRET_ID" in variables
    assert "EVENT_BUS_NAME" not in variables
    actions = set().union(*(_actions(s) for s in _statements(template, constants.MAIL_EVENTS_HANDLER)))
    assert "events:PutEvents" not in actions
    assert not {"ses:SendRawEmail", "kms:Decrypt"} & actions
    # Ops hear of complaints, bounces, unreadable events and a stuck DLQ
    for metric in (
        constants.MAIL_COMPLAINTS_METRIC,
        constants.MAIL_BOUNCES_METRIC,
        constants.MAIL_EVENTS_UNREADABLE_METRIC,
    ):
        template.has_resource_properties("AWS::CloudWatch::Alarm", {"MetricName": metric})
    outputs = template.to_json()["Outputs"]
    assert outputs["MailConfigurationSet"]["Value"] == name
    assert outputs["MailEventsTopicArn"]["Value"] == {"Ref": topic_id}


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_every_sender_uses_the_configuration_set_and_may_read_smtp_passwords_only(
    stage: str, local_stack: Any, prod_stack: Any
) -> None:
    template = _stage(stage, local_stack, prod_stack)
    senders = [
        f["Properties"]
        for f in _functions(template).values()
        if "MAIL_SENDER" in f["Properties"].get("Environment", {}).get("Variables", {})
    ]
    assert len(senders) == 11
    # The reports to ops and the owners' "data export ready" send the platform's mail only: SES through
    # the configuration set, no shop's SMTP server (no key, no grant)
    platform_only = [
        f for f in senders if f["Handler"] in (constants.OPS_REPORTS_HANDLER, constants.DATA_EXPORTS_HANDLER)
    ]
    assert len(platform_only) == 2
    for platform in platform_only:
        assert platform["Environment"]["Variables"]["MAIL_CONFIGURATION_SET"] == f"assistec-{stage}-mail"
        assert not {"MAIL_KEY_ID", "SMTP_ALLOW_PRIVATE"} & set(platform["Environment"]["Variables"])
        assert not any(
            a.startswith("kms:") for s in _statements(template, platform["Handler"]) for a in _actions(s)
        )
    for function in (f for f in senders if f not in platform_only):
        variables = function["Environment"]["Variables"]
        handler = function["Handler"]
        # Sent through the configuration set, whose ARN the SES grant names
        assert variables["MAIL_CONFIGURATION_SET"] == f"assistec-{stage}-mail", handler
        assert variables["MAIL_SUPPORT_ADDRESS"].startswith("suporte@"), handler
        [ses] = [s for s in _statements(template, handler) if "ses:SendRawEmail" in _actions(s)]
        assert any(f"configuration-set/assistec-{stage}-mail" in json.dumps(r) for r in ses["Resource"])
        assert ses["Condition"]["StringEquals"]["ses:FromAddress"] == variables["MAIL_SENDER"]
        # A shop's SMTP password: decrypted by purpose (encrypted by the API only, where staff save it)
        assert "MAIL_KEY_ID" in variables, handler
        smtp = [
            s
            for s in _statements(template, handler)
            if s.get("Condition", {}).get("StringEquals")
            == {"kms:EncryptionContext:purpose": "smtp-password"}
        ]
        expected = {"kms:Decrypt", "kms:Encrypt"} if handler == constants.API_HANDLER else {"kms:Decrypt"}
        assert [_actions(s) for s in smtp] == [expected], handler
        # Prod never lets a shop point its SMTP server at a private or loopback address; the local
        # stage does (its servers, the tests', listen on 127.0.0.1)
        assert ("SMTP_ALLOW_PRIVATE" in variables) == (stage == "local"), handler


def test_the_settings_refuse_private_smtp_servers_in_prod(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from assistec.settings import CalendarSettings

    monkeypatch.setenv("DATABASE_URL", "postgresql://x@127.0.0.1/x")
    monkeypatch.setenv("EVENT_BUS_NAME", "bus")
    monkeypatch.setenv("PAYMENTS_KEY_ID", "key")
    monkeypatch.setenv("SMTP_ALLOW_PRIVATE", "true")
    monkeypatch.setenv("STAGE", "local")
    assert CalendarSettings().smtp_allow_private is True  # type: ignore[call-arg]
    monkeypatch.setenv("STAGE", "prod")
    with pytest.raises(ValidationError, match="SMTP_ALLOW_PRIVATE"):
        CalendarSettings()  # type: ignore[call-arg]
