"""The quote flow as a Step Functions (Standard) state machine (functions: services/quote_flow.py).

send the quote (WhatsApp, else e-mail) → wait for the decision (task token kept in the database; the
link, the counter or a WhatsApp reply hands it back) → decided (the customer told; approved: the
payment flow when asked). The wait's timeout (from the input, per quote) sends a reminder and waits
again; the second timeout expires the quote (the order moves, the customer is told). A newer version
of the quote hands the token back as "superseded", which ends the flow. Every step retries transient
failures and any other failure ends in FlowFailed (an alarm).
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from assistec_infra import constants
from assistec_infra.capabilities.functions import FunctionSpec
from assistec_infra.capabilities.mail import allow_mail
from assistec_infra.capabilities.platform import WorkerPlatform
from assistec_infra.capabilities.settings import QUOTE_FLOW_STEPS
from assistec_infra.nag import acknowledge

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
        stack = Stack.of(self)

        failed = sfn.Fail(
            self, "FlowFailed", error="QuoteFlowFailed", cause="a step failed after its retries"
        )

        def step(name: str, result_path: str) -> tasks.LambdaInvoke:
            task = tasks.LambdaInvoke(
                self,
                name.capitalize(),
                lambda_function=self.function,
                payload=sfn.TaskInput.from_object({"step": name, "flow": sfn.JsonPath.entire_payload}),
                payload_response_only=True,
                result_path=result_path,
            )
            task.add_retry(
                errors=["States.TaskFailed"], interval=Duration.seconds(2), max_attempts=3, backoff_rate=2
            )
            task.add_catch(failed, errors=["States.ALL"], result_path="$.error")
            return task

        def wait(name: str, seconds: str) -> tasks.LambdaInvoke:
            return tasks.LambdaInvoke(
                self,
                name,
                lambda_function=self.function,
                integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
                payload=sfn.TaskInput.from_object(
                    {"step": "await", "flow": sfn.JsonPath.entire_payload, "token": sfn.JsonPath.task_token}
                ),
                task_timeout=sfn.Timeout.at(seconds),
                result_path="$.decision",
            )

        send, remind = step("send", "$.sent"), step("remind", "$.reminded")
        decided, expired = step("decided", "$.outcome"), step("expired", "$.outcome")
        first_wait = wait("WaitForDecision", "$.first_wait_seconds")
        second_wait = wait("WaitAfterReminder", "$.second_wait_seconds")
        superseded = sfn.Succeed(self, "FlowSuperseded")
        for waiting, on_timeout in ((first_wait, remind), (second_wait, expired)):
            waiting.add_retry(
                errors=["States.TaskFailed"], interval=Duration.seconds(2), max_attempts=3, backoff_rate=2
            )
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
        definition = send.next(first_wait)

        log_group = logs.LogGroup(
            self,
            "Logs",
            retention=constants.LOG_RETENTION[config.stage],
            removal_policy=config.removal_policy,
        )
        name = config.resource_name("quote-flow")
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=name,
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            state_machine_type=sfn.StateMachineType.STANDARD,
            timeout=Duration.days(70),
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
        )
        acknowledge(
            self.state_machine,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray tracing and log delivery actions (xray:Put*, logs:*Delivery*) accept no resource scope.",
        )
        acknowledge(
            self.state_machine,
            f"AwsSolutions-IAM5[Resource::<{stack.get_logical_id(self.function.node.default_child)}.Arn>:*]",  # type: ignore[arg-type]
            "The machine invokes the steps function's versions and aliases (CDK's grant); one function only.",
        )
        # A quote decided before the wait began: the step hands the token back itself (the ARN spelled
        # out: the machine already references the function).
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"],
                resources=[
                    f"arn:{stack.partition}:states:{stack.region}:{stack.account}:stateMachine:{name}"
                ],
            )
        )
        platform.monitoring.alarm(
            self.state_machine,
            "FailedAlarm",
            self.state_machine.metric_failed(period=Duration.minutes(5), statistic="Sum"),
            threshold=1,
            description="Quote flow: an execution failed (a quote was not sent, reminded or closed)",
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
