"""The quote flow as a Step Functions (Standard) state machine (functions: services/quote_flow.py).

send the quote (WhatsApp, else e-mail) → wait for the decision (task token kept in the database; the
link, the counter or a WhatsApp reply hands it back) → decided (the customer told; approved: the
payment flow when asked). The wait's timeout (from the input, per quote) sends a reminder and waits
again; the second timeout expires the quote (the order moves, the customer is told). A newer version
of the quote hands the token back as "superseded", which ends the flow. Every step retries transient
failures and any other failure ends in FlowFailed (an alarm).
"""

from __future__ import annotations

from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from assistec_infra import constants
from assistec_infra.capabilities import flows
from assistec_infra.capabilities.functions import FunctionSpec
from assistec_infra.capabilities.mail import allow_mail
from assistec_infra.capabilities.platform import WorkerPlatform
from assistec_infra.capabilities.settings import QUOTE_FLOW_STEPS

STEPS_FUNCTION = FunctionSpec(
    handler=constants.QUOTE_FLOW_HANDLER,
    label="Quote flow",
    description="assistec quote flow steps (send, remind, await, decided, expired)",
    timeout_s=60,
)


class QuoteFlow(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, platform: WorkerPlatform) -> None:
        super().__init__(scope, construct_id)
        config = platform.config
        self.function = platform.worker(self, "Steps", STEPS_FUNCTION, QUOTE_FLOW_STEPS)
        allow_mail(self.function, config)
        failed = sfn.Fail(
            self, "FlowFailed", error="QuoteFlowFailed", cause="a step failed after its retries"
        )
        send = flows.step(self, self.function, "send", "$.sent", failed)
        remind = flows.step(self, self.function, "remind", "$.reminded", failed)
        decided = flows.step(self, self.function, "decided", "$.outcome", failed)
        expired = flows.step(self, self.function, "expired", "$.outcome", failed)
        first_wait = flows.wait(
            self,
            self.function,
            "WaitForDecision",
            seconds_path="$.first_wait_seconds",
            result_path="$.decision",
        )
        second_wait = flows.wait(
            self,
            self.function,
            "WaitAfterReminder",
            seconds_path="$.second_wait_seconds",
            result_path="$.decision",
        )
        superseded = sfn.Succeed(self, "FlowSuperseded")
        for waiting, on_timeout in ((first_wait, remind), (second_wait, expired)):
            waiting.add_catch(on_timeout, errors=["States.Timeout"], result_path="$.timeout")
            waiting.add_catch(failed, errors=["States.ALL"], result_path="$.error")
            waiting.next(
                sfn.Choice(self, f"{waiting.node.id}Outcome")
                .when(sfn.Condition.string_equals("$.decision.decision", "superseded"), superseded)
                .otherwise(decided)
            )
        decided.next(sfn.Succeed(self, "FlowDecided"))
        expired.next(sfn.Succeed(self, "FlowExpired"))
        remind.next(second_wait)
        self.state_machine = flows.state_machine(
            self,
            platform,
            name="quote-flow",
            definition=send.next(first_wait),
            function=self.function,
            failed_description="Quote flow: an execution failed (a quote was not sent, reminded or closed)",
        )
        platform.settings.provide(
            "quote_flow_arn",
            self.state_machine.state_machine_arn,
            grant=self.state_machine.grant_start_execution,
        )

    def grant_resume(self, function: lambda_.IFunction) -> None:
        """Who hands a decision back: the API (link, counter, a newer version) and the WhatsApp
        consumer (a reply)."""
        self.state_machine.grant_task_response(function)
