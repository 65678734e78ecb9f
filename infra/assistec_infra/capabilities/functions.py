"""A factory for our Python Lambdas: one role each, JSON logs with explicit retention, the layer."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from assistec_infra import constants
from assistec_infra.bundling import function_bundling
from assistec_infra.nag import acknowledge
from assistec_infra.stage_config import StageConfig


@dataclass(frozen=True)
class FunctionSpec:
    """One function: its handler, what it is (``label`` names it in its alarms) and its size."""

    handler: str
    label: str
    description: str
    memory_mb: int = 512
    timeout_s: int = 15


class PythonFunctions(Construct):
    """Holds the shared code asset (one zip for all functions) and builds functions from it."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: StageConfig, layer: lambda_.ILayerVersion
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._layer = layer
        self._codes: dict[str, lambda_.Code] = {}

    def _code(self, scope: Construct) -> lambda_.Code:
        """The shared code asset of the function's stack (an asset belongs to one stack: a nested
        stack's functions get their own, of the same folder and so the same hash)."""
        stack = Stack.of(scope)
        key = stack.node.path
        if key not in self._codes:
            self._codes[key] = lambda_.Code.from_asset(
                str(constants.FUNCTIONS_DIR),
                bundling=function_bundling(),
                exclude=["**/__pycache__", "**/*.pyc"],
            )
        return self._codes[key]

    def function(
        self,
        scope: Construct,
        construct_id: str,
        spec: FunctionSpec,
        *,
        environment: dict[str, str],
        vpc: ec2.IVpc | None = None,
        security_groups: list[ec2.ISecurityGroup] | None = None,
    ) -> lambda_.Function:
        log_group = logs.LogGroup(
            scope,
            f"{construct_id}Logs",
            retention=constants.LOG_RETENTION[self._config.stage],
            removal_policy=self._config.removal_policy,
        )
        # One role per function, written out rather than AWSLambdaBasicExecutionRole (which grants
        # logs on every group of the account): this function writes to its own group only.
        role = iam.Role(
            scope,
            f"{construct_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"assistec {construct_id}",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                # A log group's Arn attribute already ends in ":*", covering its streams.
                resources=[log_group.log_group_arn],
            )
        )
        if vpc is not None:
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=[
                        "ec2:CreateNetworkInterface",
                        "ec2:DescribeNetworkInterfaces",
                        "ec2:DeleteNetworkInterface",
                        "ec2:AssignPrivateIpAddresses",
                        "ec2:UnassignPrivateIpAddresses",
                    ],
                    resources=["*"],
                )
            )
            acknowledge(
                role,
                "AwsSolutions-IAM5[Resource::*]",
                "Lambda's VPC ENI actions (ec2:*NetworkInterface*) do not support resource-level "
                "permissions; AWS documents Resource '*' for them.",
            )
        function = lambda_.Function(
            scope,
            construct_id,
            description=spec.description,
            runtime=constants.PYTHON_RUNTIME,
            architecture=constants.ARCHITECTURE,
            handler=spec.handler,
            code=self._code(scope),
            layers=[self._layer],
            role=role,
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_s),
            log_group=log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            # Active tracing costs an X-Ray SDK import (~0.5 s) per cold start; correlation ids in the
            # JSON logs cover tracing a request for now.
            tracing=lambda_.Tracing.DISABLED,
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS) if vpc else None,
            security_groups=security_groups,
            environment={
                "STAGE": self._config.stage,
                "APP_VERSION": constants.app_version(),
                "POWERTOOLS_SERVICE_NAME": constants.SERVICE_NAME,
                "POWERTOOLS_METRICS_NAMESPACE": constants.METRICS_NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": "INFO",
                "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
                **environment,
            },
        )
        acknowledge(
            function,
            "AwsSolutions-L1",
            "The project pins Python 3.13 for code, tests and runtime alike (pyproject requires-python); "
            "runtime upgrades are deliberate, project-wide changes.",
        )
        return function
