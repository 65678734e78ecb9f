"""The quote flow's state machine (issue 11 §5): send → wait for the decision (task token, timeout
from the input) → decided, or reminder → wait → expired; a superseded quote ends it; who may start
it and hand it a decision."""

from __future__ import annotations

import json
from typing import Any

import pytest

from assistec_infra import constants
from tests.infra.templates import _function, _template


def _role_actions(template: Any, handler: str) -> set[str]:
    role = _function(template, handler)["Role"]["Fn::GetAtt"][0]
    actions: set[str] = set()
    for policy in template.find_resources("AWS::IAM::Policy").values():
        if {"Ref": role} in policy["Properties"]["Roles"]:
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                found = statement["Action"]
                actions |= {found} if isinstance(found, str) else set(found)
    return actions


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_quote_flow_state_machine(stage: str, local_stack: Any, prod_stack: Any) -> None:
    template = _template(local_stack if stage == "local" else prod_stack)
    [props] = [
        m["Properties"]
        for name, m in template.find_resources("AWS::StepFunctions::StateMachine").items()
        if name.startswith("QuoteFlow")
    ]
    assert props["StateMachineType"] == "STANDARD"
    definition = json.dumps(props["DefinitionString"])
    for state in (
        "Send",
        "WaitForDecision",
        "Remind",
        "WaitAfterReminder",
        "Decided",
        "Expired",
        "FlowSuperseded",
        "FlowFailed",
    ):
        assert f'\\"{state}\\"' in definition, state
    assert "waitForTaskToken" in definition
    assert "$.first_wait_seconds" in definition
    assert "$.second_wait_seconds" in definition
    assert "superseded" in definition
    # Every task retries and is caught
    assert definition.count("States.TaskFailed") >= 6
    # The API starts it and hands decisions back; the WhatsApp consumer hands replies back
    api = _function(template, constants.API_HANDLER)["Environment"]["Variables"]
    assert "QUOTE_FLOW_ARN" in api
    assert {"states:StartExecution", "states:SendTaskSuccess"} <= _role_actions(
        template, constants.API_HANDLER
    )
    assert "states:SendTaskSuccess" in _role_actions(template, constants.WHATSAPP_CONSUMER_HANDLER)
    # Its steps: messages on WhatsApp (the send queue) or e-mail, and the payment flow's start
    steps = _function(template, constants.QUOTE_FLOW_HANDLER)["Environment"]["Variables"]
    assert {"WHATSAPP_SEND_QUEUE_URL", "PAYMENT_FLOW_ARN", "MAIL_SENDER"} <= set(steps)
    assert {"sqs:SendMessage", "states:StartExecution", "ses:SendRawEmail"} <= _role_actions(
        template, constants.QUOTE_FLOW_HANDLER
    )
    payment_steps = _function(template, constants.PAYMENT_FLOW_HANDLER)["Environment"]["Variables"]
    assert "WHATSAPP_SEND_QUEUE_URL" in payment_steps
