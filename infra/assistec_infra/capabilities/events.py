"""Domain events: the shop's event bus, and the relay that empties the outbox onto it.

The API writes events into the database outbox inside its transactions and flushes them right
after commit; the relay runs every minute for whatever that fast path missed.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from constructs import Construct

from assistec_infra import constants
from assistec_infra.capabilities.functions import FunctionSpec
from assistec_infra.capabilities.monitoring import AppAlarm
from assistec_infra.capabilities.platform import Schedule, WorkerPlatform
from assistec_infra.capabilities.settings import RELAY

RELAY_FUNCTION = FunctionSpec(
    handler=constants.OUTBOX_RELAY_HANDLER,
    label="Outbox relay",
    description="assistec outbox relay: publishes pending domain events to EventBridge",
    timeout_s=60,
)
RELAY_SCHEDULE = Schedule(
    "RelaySchedule",
    constants.OUTBOX_RELAY_SCHEDULE,
    "Publish domain events the API's post-commit flush missed",
)
BACKLOG_ALARM = AppAlarm(
    "BacklogAlarm",
    constants.OUTBOX_BACKLOG_METRIC,
    "Maximum",
    Duration.minutes(5),
    threshold=600,
    description="Outbox relay: a domain event has waited 10 minutes or more (bus refusing?)",
)


class DomainEvents(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, platform: WorkerPlatform) -> None:
        super().__init__(scope, construct_id)
        config = platform.config
        self.bus = events.EventBus(self, "Bus", event_bus_name=config.resource_name())
        # Ninety days of every event, replayable into the bus (a consumer's bug fixed, a new consumer).
        self.bus.archive(
            "Archive",
            archive_name=config.resource_name("events"),
            event_pattern=events.EventPattern(source=events.Match.prefix(constants.APP_NAME)),
            retention=Duration.days(90),
        )
        platform.settings.provide(
            "event_bus_name", self.bus.event_bus_name, grant=self.bus.grant_put_events_to
        )
        self.relay = platform.scheduled(
            self, "OutboxRelay", RELAY_FUNCTION, RELAY, schedule=RELAY_SCHEDULE, alarm=BACKLOG_ALARM
        )
