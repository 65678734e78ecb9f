"""The worker platform: what every function of the stack stands on.

A worker is a function (own role, own logs, the shared code and dependency layer) with its
family's settings and their grants, in the VPC when it reaches the database, deployed after the
schema, and watched for errors and throttles. A scheduled worker adds its EventBridge rule and
the alarm on the metric it publishes.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from assistec_infra.capabilities.database import Database
from assistec_infra.capabilities.functions import FunctionSpec, PythonFunctions
from assistec_infra.capabilities.layer import DependencyLayer
from assistec_infra.capabilities.monitoring import AppAlarm, Monitoring
from assistec_infra.capabilities.settings import EverySettingProvided, Family, WorkerSettings
from assistec_infra.stage_config import StageConfig


@dataclass(frozen=True)
class Schedule:
    """When EventBridge runs a scheduled worker: the rule's construct id and description, the
    schedule, and how often a failed run is retried."""

    rule_id: str
    expression: events.Schedule
    description: str
    retry_attempts: int = 0


class WorkerPlatform:
    """The functions' factory, monitoring, network and settings, shared by every capability."""

    def __init__(
        self,
        scope: Construct,
        *,
        config: StageConfig,
        monitoring: Monitoring,
        database: Database,
        vpc: ec2.IVpc | None,
    ) -> None:
        self.config = config
        self.monitoring = monitoring
        layer = DependencyLayer(scope, "Dependencies", config=config).layer
        self._functions = PythonFunctions(scope, "Functions", config=config, layer=layer)
        self._vpc = vpc
        client_group = database.client_security_group
        self._security_groups = [client_group] if client_group else None
        self._deploy_after: list[Construct] = []
        self._database_workers: list[lambda_.Function] = []
        self.settings = WorkerSettings()
        self.settings.provide("db_secret_id", database.secret.secret_arn, grant=database.secret.grant_read)
        self.settings.provide("db_sslmode", database.sslmode)
        self.settings.provide("db_sslrootcert", database.sslrootcert)
        self.settings.provide("db_host", database.proxy_endpoint)
        self.settings.provide("asaas_base_url", config.asaas_base_url)
        self.settings.provide("authorizer_emulation", None if config.native_authorizer else "true")
        Stack.of(scope).node.add_validation(EverySettingProvided(self.settings))

    def deploy_after(self, dependency: Construct) -> None:
        """Every worker on the database waits for this (the schema: new code goes live only after
        its migrations are in)."""
        self._deploy_after.append(dependency)
        for worker in self._database_workers:
            worker.node.add_dependency(dependency)

    def function(
        self,
        scope: Construct,
        construct_id: str,
        spec: FunctionSpec,
        *,
        in_vpc: bool,
        environment: dict[str, str] | None = None,
    ) -> lambda_.Function:
        """A function watched for errors and throttles; in the VPC (the database's client group) if asked."""
        function = self._functions.function(
            scope,
            construct_id,
            spec,
            environment=environment or {},
            vpc=self._vpc if in_vpc else None,
            security_groups=self._security_groups if in_vpc else None,
        )
        self.monitoring.watch_function(function, spec.label)
        return function

    def worker(
        self,
        scope: Construct,
        construct_id: str,
        spec: FunctionSpec,
        family: Family,
        *,
        trigger: lambda_.IEventSource | None = None,
    ) -> lambda_.Function:
        """A function of a settings family; its trigger (if any) comes before the settings' grants."""
        function = self.function(scope, construct_id, spec, in_vpc=family.uses_database)
        if trigger is not None:
            function.add_event_source(trigger)
        self.settings.read(function, family)
        if family.uses_database:
            self._database_workers.append(function)
            for dependency in self._deploy_after:
                function.node.add_dependency(dependency)
        return function

    def scheduled(
        self,
        scope: Construct,
        construct_id: str,
        spec: FunctionSpec,
        family: Family,
        *,
        schedule: Schedule,
        alarm: AppAlarm,
    ) -> lambda_.Function:
        """A worker EventBridge runs on a schedule, with an alarm on the metric it reports."""
        function = self.worker(scope, construct_id, spec, family)
        events.Rule(
            scope,
            schedule.rule_id,
            description=schedule.description,
            schedule=schedule.expression,
            targets=[targets.LambdaFunction(function, retry_attempts=schedule.retry_attempts)],
        )
        self.monitoring.app_alarm(function, alarm)
        return function
