"""The payment flow as a Step Functions (Standard) state machine.

create charge → e-mail the customer → wait for the payment (task token kept on the charge; the
webhook consumer or the reconciliation hands it back) → paid. The wait's timeout (from the input,
so a shop sets it per flow) sends a reminder and waits again; the second timeout expires the
charge. Every step retries transient failures and any other failure ends in FlowFailed.
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from assistec_infra import constants
from assistec_infra.capabilities.functions import PythonFunctions
from assistec_infra.capabilities.mail import allow_mail
from assistec_infra.capabilities.monitoring import Monitoring
from assistec_infra.nag import acknowledge
from assistec_infra.stage_config import StageConfig


class PaymentFlow(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        functions: PythonFunctions,
        monitoring: Monitoring,
        environment: dict[str, str],
        secrets_key: kms.IKey,
        vpc: ec2.IVpc | None,
        security_groups: list[ec2.ISecurityGroup] | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = functions.function(
            self,
            "Steps",
            handler=constants.PAYMENT_FLOW_HANDLER,
            description="assistec payment flow steps (create, notify, await, paid, expired)",
            environment=environment,
            timeout_s=60,
            vpc=vpc,
            security_groups=security_groups,
        )
        self.function.add_to_role_policy(
            iam.PolicyStatement(actions=["kms:Decrypt"], resources=[secrets_key.key_arn])
        )
        allow_mail(self.function, config)
        stack = Stack.of(self)

        failed = sfn.Fail(
            self, "FlowFailed", error="PaymentFlowFailed", cause="a step failed after its retries"
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

        def wait(name: str) -> tasks.LambdaInvoke:
            return tasks.LambdaInvoke(
                self,
                name,
                lambda_function=self.function,
                integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
                payload=sfn.TaskInput.from_object(
                    {"step": "await", "flow": sfn.JsonPath.entire_payload, "token": sfn.JsonPath.task_token}
                ),
                task_timeout=sfn.Timeout.at("$.wait_seconds"),
                result_path="$.payment",
            )

        create, notify = step("create", "$.charge"), step("notify", "$.notified")
        remind, paid, expired = (
            step("remind", "$.reminded"),
            step("paid", "$.outcome"),
            step("expired", "$.outcome"),
        )
        first_wait, second_wait = wait("WaitForPayment"), wait("WaitAfterReminder")
        for waiting, on_timeout in ((first_wait, remind), (second_wait, expired)):
            waiting.add_retry(
                errors=["States.TaskFailed"], interval=Duration.seconds(2), max_attempts=3, backoff_rate=2
            )
            waiting.add_catch(on_timeout, errors=["States.Timeout"], result_path="$.timeout")
            waiting.add_catch(failed, errors=["States.ALL"], result_path="$.error")
            waiting.next(paid)
        paid.next(sfn.Succeed(self, "FlowPaid"))
        expired.next(sfn.Succeed(self, "FlowExpired"))
        remind.next(second_wait)
        definition = create.next(notify).next(first_wait)

        log_group = logs.LogGroup(
            self,
            "Logs",
            retention=constants.LOG_RETENTION[config.stage],
            removal_policy=config.removal_policy,
        )
        name = f"{constants.APP_NAME}-{config.stage}-payment-flow"
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
        # The steps hand a token back themselves when the charge was paid before the wait began; the
        # ARN is spelled out (not referenced) because the machine already references the function.
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"],
                resources=[
                    f"arn:{stack.partition}:states:{stack.region}:{stack.account}:stateMachine:{name}"
                ],
            )
        )
        monitoring.watch_function(self.function, "Payment flow")
        monitoring.alarm(
            self.state_machine,
            "FailedAlarm",
            self.state_machine.metric_failed(period=Duration.minutes(5), statistic="Sum"),
            threshold=1,
            description="Payment flow: an execution failed (a charge was not created, notified or closed)",
        )

    def grant_start(self, function: lambda_.IFunction) -> None:
        self.state_machine.grant_start_execution(function)

    def grant_resume(self, function: lambda_.IFunction) -> None:
        self.state_machine.grant_task_response(function)
