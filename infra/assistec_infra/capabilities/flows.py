"""What the Step Functions flows (payment, quote, backup) share: the steps function's tasks (each
retried and caught), the waits on a task token, and the machine itself (Standard, traced, logged, its
nag acknowledgements, an alarm on failed executions; for the flows with a steps function, its right to
hand its own token back).

Every construct is made in the capability's scope with the ids the flows always had, so their logical
ids (and the deployed resources) stay the same."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from assistec_infra import constants
from assistec_infra.capabilities.platform import WorkerPlatform
from assistec_infra.nag import acknowledge


def retried(task: tasks.LambdaInvoke) -> tasks.LambdaInvoke:
    task.add_retry(errors=["States.TaskFailed"], interval=Duration.seconds(2), max_attempts=3, backoff_rate=2)
    return task


def step(
    scope: Construct, function: lambda_.IFunction, name: str, result_path: str, failed: sfn.IChainable
) -> tasks.LambdaInvoke:
    """A step of the flow: ``{"step": name, "flow": <the state>}``, its answer at ``result_path``."""
    task = retried(
        tasks.LambdaInvoke(
            scope,
            name.capitalize(),
            lambda_function=function,
            payload=sfn.TaskInput.from_object({"step": name, "flow": sfn.JsonPath.entire_payload}),
            payload_response_only=True,
            result_path=result_path,
        )
    )
    task.add_catch(failed, errors=["States.ALL"], result_path="$.error")
    return task


def wait(
    scope: Construct, function: lambda_.IFunction, name: str, *, seconds_path: str, result_path: str
) -> tasks.LambdaInvoke:
    """The ``await`` step with a task token (kept server-side by the step), timing out after the
    input's ``seconds_path``; whoever hands the token back puts its output at ``result_path``."""
    return retried(
        tasks.LambdaInvoke(
            scope,
            name,
            lambda_function=function,
            integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
            payload=sfn.TaskInput.from_object(
                {"step": "await", "flow": sfn.JsonPath.entire_payload, "token": sfn.JsonPath.task_token}
            ),
            task_timeout=sfn.Timeout.at(seconds_path),
            result_path=result_path,
        )
    )


def standard_machine(
    scope: Construct,
    platform: WorkerPlatform,
    *,
    name: str,
    definition: sfn.IChainable,
    functions: list[lambda_.Function],
    timeout: Duration,
    failed_description: str,
) -> sfn.StateMachine:
    """A Standard machine (``config.resource_name(name)``) invoking ``functions``: traced, logged
    (no execution data), its nag acknowledgements, an alarm on failed executions."""
    config = platform.config
    stack = Stack.of(scope)
    log_group = logs.LogGroup(
        scope, "Logs", retention=constants.LOG_RETENTION[config.stage], removal_policy=config.removal_policy
    )
    machine = sfn.StateMachine(
        scope,
        "StateMachine",
        state_machine_name=config.resource_name(name),
        definition_body=sfn.DefinitionBody.from_chainable(definition),
        state_machine_type=sfn.StateMachineType.STANDARD,
        timeout=timeout,
        tracing_enabled=True,
        logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
    )
    acknowledge(
        machine,
        "AwsSolutions-IAM5[Resource::*]",
        "X-Ray tracing and log delivery actions (xray:Put*, logs:*Delivery*) accept no resource scope.",
    )
    for function in functions:
        acknowledge(
            machine,
            f"AwsSolutions-IAM5[Resource::<{stack.get_logical_id(function.node.default_child)}.Arn>:*]",  # type: ignore[arg-type]
            "The machine invokes its task function's versions and aliases (CDK's grant); that function only.",
        )
    platform.monitoring.alarm(
        machine,
        "FailedAlarm",
        machine.metric_failed(period=Duration.minutes(5), statistic="Sum"),
        threshold=1,
        description=failed_description,
    )
    return machine


def state_machine(
    scope: Construct,
    platform: WorkerPlatform,
    *,
    name: str,
    definition: sfn.IChainable,
    function: lambda_.Function,
    failed_description: str,
) -> sfn.StateMachine:
    """The flow's Standard machine (``config.resource_name(name)``) and what every flow has around it:
    one steps function, which may hand its own task tokens back."""
    stack = Stack.of(scope)
    machine = standard_machine(
        scope,
        platform,
        name=name,
        definition=definition,
        functions=[function],
        timeout=Duration.days(70),
        failed_description=failed_description,
    )
    # The steps hand a token back themselves when what they wait for happened before the wait began;
    # the ARN is spelled out (not referenced) because the machine already references the function.
    function.add_to_role_policy(
        iam.PolicyStatement(
            actions=["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"],
            resources=[
                f"arn:{stack.partition}:states:{stack.region}:{stack.account}:stateMachine:"
                f"{platform.config.resource_name(name)}"
            ],
        )
    )
    return machine
