"""The payment flow as a Step Functions (Standard) state machine.

create charge → e-mail the customer → wait for the payment (task token kept on the charge; the
webhook consumer or the reconciliation hands it back) → paid. The wait's timeout (from the input,
so a shop sets it per flow) sends a reminder and waits again; the second timeout expires the
charge. Every step retries transient failures and any other failure ends in FlowFailed.
"""

from __future__ import annotations

from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from assistec_infra import constants
from assistec_infra.capabilities import flows
from assistec_infra.capabilities.functions import FunctionSpec
from assistec_infra.capabilities.mail import allow_mail
from assistec_infra.capabilities.platform import WorkerPlatform
from assistec_infra.capabilities.settings import PAYMENT_FLOW_STEPS
from assistec_infra.capabilities.storage import allow_asaas_key_decrypt

STEPS_FUNCTION = FunctionSpec(
    handler=constants.PAYMENT_FLOW_HANDLER,
    label="Payment flow",
    description="assistec payment flow steps (create, notify, await, paid, expired)",
    timeout_s=60,
)


class PaymentFlow(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, platform: WorkerPlatform, secrets_key: kms.IKey
    ) -> None:
        super().__init__(scope, construct_id)
        config = platform.config
        self.function = platform.worker(self, "Steps", STEPS_FUNCTION, PAYMENT_FLOW_STEPS)
        allow_asaas_key_decrypt(self.function, secrets_key)
        allow_mail(self.function, config)
        failed = sfn.Fail(
            self, "FlowFailed", error="PaymentFlowFailed", cause="a step failed after its retries"
        )
        create = flows.step(self, self.function, "create", "$.charge", failed)
        notify = flows.step(self, self.function, "notify", "$.notified", failed)
        remind = flows.step(self, self.function, "remind", "$.reminded", failed)
        paid = flows.step(self, self.function, "paid", "$.outcome", failed)
        expired = flows.step(self, self.function, "expired", "$.outcome", failed)
        first_wait, second_wait = (
            flows.wait(self, self.function, name, seconds_path="$.wait_seconds", result_path="$.payment")
            for name in ("WaitForPayment", "WaitAfterReminder")
        )
        for waiting, on_timeout in ((first_wait, remind), (second_wait, expired)):
            waiting.add_catch(on_timeout, errors=["States.Timeout"], result_path="$.timeout")
            waiting.add_catch(failed, errors=["States.ALL"], result_path="$.error")
            waiting.next(paid)
        paid.next(sfn.Succeed(self, "FlowPaid"))
        expired.next(sfn.Succeed(self, "FlowExpired"))
        remind.next(second_wait)
        self.state_machine = flows.state_machine(
            self,
            platform,
            name="payment-flow",
            definition=create.next(notify).next(first_wait),
            function=self.function,
            failed_description=(
                "Payment flow: an execution failed (a charge was not created, notified or closed)"
            ),
        )
        platform.settings.provide(
            "payment_flow_arn",
            self.state_machine.state_machine_arn,
            grant=self.state_machine.grant_start_execution,
        )

    def grant_resume(self, function: lambda_.IFunction) -> None:
        self.state_machine.grant_task_response(function)
