"""Retention: a daily job purges what the retention policies (migration 0028, README "Retention") say
is kept no longer, in bounded batches through one SECURITY DEFINER function; ops hear when it keeps
falling behind. Log groups keep their own retention (functions.py)."""

from __future__ import annotations

from aws_cdk import Duration
from constructs import Construct

from assistec_infra import constants
from assistec_infra.capabilities.functions import FunctionSpec
from assistec_infra.capabilities.monitoring import AppAlarm
from assistec_infra.capabilities.platform import Schedule, WorkerPlatform
from assistec_infra.capabilities.settings import RETENTION

RETENTION_FUNCTION = FunctionSpec(
    handler=constants.RETENTION_HANDLER,
    label="Retention",
    description="assistec retention: purges what the retention policies no longer keep",
    timeout_s=300,
)
RETENTION_RUN = Schedule(
    "RetentionSchedule", constants.RETENTION_SCHEDULE, "Purge what the retention policies no longer keep"
)
# One run cut short is fine (the next goes on); three days running, the purge is falling behind.
BEHIND_ALARM = AppAlarm(
    "BehindAlarm",
    constants.RETENTION_BEHIND_METRIC,
    "Sum",
    Duration.days(1),
    threshold=1,
    evaluation_periods=3,
    description="Retention: the daily purge ran out of time three days running (tables growing faster?)",
)


class Retention(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, platform: WorkerPlatform) -> None:
        super().__init__(scope, construct_id)
        self.function = platform.scheduled(
            self, "Job", RETENTION_FUNCTION, RETENTION, schedule=RETENTION_RUN, alarm=BEHIND_ALARM
        )
