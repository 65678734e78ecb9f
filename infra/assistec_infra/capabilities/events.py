"""Domain events: the shop's event bus, and the relay that empties the outbox onto it.

The API writes events into the database outbox inside its transactions and flushes them right
after commit; the relay runs every minute for whatever that fast path missed.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from assistec_infra import constants
from assistec_infra.capabilities.functions import PythonFunctions
from assistec_infra.capabilities.monitoring import Monitoring
from assistec_infra.stage_config import StageConfig


class DomainEvents(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        functions: PythonFunctions,
        monitoring: Monitoring,
        environment: dict[str, str],
        vpc: ec2.IVpc | None,
        security_groups: list[ec2.ISecurityGroup] | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bus = events.EventBus(self, "Bus", event_bus_name=f"{constants.APP_NAME}-{config.stage}")
        # Ninety days of every event, replayable into the bus (a consumer's bug fixed, a new consumer).
        self.bus.archive(
            "Archive",
            archive_name=f"{constants.APP_NAME}-{config.stage}-events",
            event_pattern=events.EventPattern(source=events.Match.prefix(constants.APP_NAME)),
            retention=Duration.days(90),
        )
        self.relay = functions.function(
            self,
            "OutboxRelay",
            handler=constants.OUTBOX_RELAY_HANDLER,
            description="assistec outbox relay: publishes pending domain events to EventBridge",
            environment={**environment, "EVENT_BUS_NAME": self.bus.event_bus_name},
            timeout_s=60,
            vpc=vpc,
            security_groups=security_groups,
        )
        self.bus.grant_put_events_to(self.relay)
        events.Rule(
            self,
            "RelaySchedule",
            description="Publish domain events the API's post-commit flush missed",
            schedule=events.Schedule.rate(Duration.minutes(1)),
            targets=[targets.LambdaFunction(self.relay, retry_attempts=0)],
        )
        monitoring.watch_function(self.relay, "Outbox relay")
        monitoring.alarm(
            self.relay,
            "BacklogAlarm",
            monitoring.app_metric(
                "OutboxOldestPendingSeconds", period=Duration.minutes(5), statistic="Maximum"
            ),
            threshold=600,
            description="Outbox relay: a domain event has waited 10 minutes or more (bus refusing?)",
        )

    def grant_publish(self, function: lambda_.IFunction) -> None:
        self.bus.grant_put_events_to(function)
