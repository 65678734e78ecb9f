"""Scheduling with Google Calendar (issue 12): the deployment's Google OAuth client (a secret ops fill
in), the calendar queue between the domain bus and its worker, the five-minute calendar pass and
reminders, and the alarms (the DLQ holding messages, and the failures each function counts).

An appointment's change (``AppointmentChanged``, published by the outbox) reaches the calendar queue
by a rule on the bus; the worker mirrors it into the shop's Google Calendar (partial batch
failures). Every five minutes the pass queues again the mirrors still pending and reads each
connected shop's calendar back; the reminders run sends the reminders due, on WhatsApp (the send
queue) or by e-mail. The shops' Google tokens are encrypted under the shop-secrets key with the
purpose ``google-token``: whoever calls Google decrypts them and saves a refreshed one back.
"""

from __future__ import annotations

from aws_cdk import Duration, SecretValue
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from assistec_infra import constants
from assistec_infra.capabilities.functions import FunctionSpec
from assistec_infra.capabilities.mail import allow_mail
from assistec_infra.capabilities.monitoring import AppAlarm
from assistec_infra.capabilities.platform import Schedule, WorkerPlatform
from assistec_infra.capabilities.queues import WorkQueue
from assistec_infra.capabilities.settings import CALENDAR, REMINDERS
from assistec_infra.capabilities.storage import _purpose
from assistec_infra.nag import acknowledge

# Worst case per record (handlers/calendar.py says the same number; tests/infra checks): a token
# refresh and one insert/patch/delete, each under the client's 10 s budget, plus the database.
WORKER_BATCH_SIZE = 10
PUSH_WORST_CASE_S = 25
WORKER_FUNCTION = FunctionSpec(
    handler=constants.CALENDAR_WORKER_HANDLER,
    label="Calendar worker",
    description="assistec calendar: mirrors changed appointments into the shops' Google Calendars",
    timeout_s=WORKER_BATCH_SIZE * PUSH_WORST_CASE_S,
)
# The pass reads a bounded number of shops per run (least recently synced first); it has the
# schedule's whole period, and a run cut short leaves the rest to the next one.
SCHEDULED_FUNCTION = FunctionSpec(
    handler=constants.CALENDAR_SCHEDULED_HANDLER,
    label="Calendar pass",
    description="assistec calendar: retries pending mirrors, reads the shops' Google Calendars back",
    timeout_s=300,
)
REMINDERS_FUNCTION = FunctionSpec(
    handler=constants.REMINDERS_HANDLER,
    label="Appointment reminders",
    description="assistec reminders: the appointment reminders due, on WhatsApp or by e-mail",
    timeout_s=300,
)
# The next run does the same work: a failed run is not retried by EventBridge.
CALENDAR_PASS = Schedule(
    "CalendarPassSchedule",
    constants.CALENDAR_SCHEDULE,
    "Retry pending Google Calendar mirrors; read the shops' calendars back",
)
REMINDERS_RUN = Schedule(
    "RemindersSchedule", constants.REMINDERS_SCHEDULE, "Send the appointment reminders due"
)
# A shop whose consent was revoked counts once (its owners are e-mailed); many, for a quarter of an
# hour: Google down, or the deployment's OAuth client broken.
SYNC_FAILURES_ALARM = AppAlarm(
    "SyncFailuresAlarm",
    constants.CALENDAR_SYNC_FAILURES_METRIC,
    "Sum",
    Duration.minutes(5),
    threshold=5,
    evaluation_periods=3,
    description="Calendar: appointments failed to reach Google for 15 minutes (Google down? OAuth client?)",
)
PASS_FAILURES_ALARM = AppAlarm(
    "PassFailuresAlarm",
    constants.CALENDAR_PASS_FAILURES_METRIC,
    "Sum",
    Duration.minutes(5),
    threshold=1,
    evaluation_periods=3,
    description="Calendar: shops' Google Calendars could not be read back three passes running",
)
REMINDER_FAILURES_ALARM = AppAlarm(
    "ReminderFailuresAlarm",
    constants.REMINDER_FAILURES_METRIC,
    "Sum",
    Duration.minutes(5),
    threshold=1,
    description="Reminders: appointment reminders failed (the database, the send queue or SES)",
)


def allow_google_tokens(function: lambda_.Function, key: kms.IKey) -> None:
    """Encrypt and decrypt the shops' Google tokens with the shop-secrets key, and nothing else it
    encrypts: whoever calls Google for a shop reads its tokens and saves a refreshed one back."""
    function.add_to_role_policy(
        _purpose(["kms:Encrypt", "kms:Decrypt"], key, constants.KMS_GOOGLE_TOKEN_CONTEXT)
    )


class Scheduling(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        platform: WorkerPlatform,
        bus: events.IEventBus,
        secrets_key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        config = platform.config
        # One OAuth client per deployment, made in Google Cloud's console: ops put its client_id
        # and client_secret in (README). Created as "{}", which the code reads as "Google is not
        # configured here"; the value carries nothing secret.
        self.secret = secretsmanager.Secret(
            self,
            "GoogleOAuthClient",
            description="assistec: the deployment's Google OAuth client (client_id, client_secret)",
            secret_string_value=SecretValue.unsafe_plain_text("{}"),
            removal_policy=config.removal_policy,
        )
        acknowledge(
            self.secret,
            "AwsSolutions-SMG4",
            "An OAuth client secret is issued in Google Cloud's console; rotating it is a manual step there.",
        )
        calendar = WorkQueue(
            self, "Calendar", platform=platform, consumer=WORKER_FUNCTION, retention=Duration.days(4)
        )
        self.queue, self.dlq = calendar.queue, calendar.dlq
        events.Rule(
            self,
            "AppointmentsToQueue",
            description="An appointment changed: mirror it into the shop's Google Calendar",
            event_bus=bus,
            event_pattern=events.EventPattern(
                source=[constants.EVENT_SOURCE], detail_type=[constants.APPOINTMENT_CHANGED]
            ),
            targets=[targets.SqsQueue(self.queue)],
        )
        platform.settings.provide("google_secret_id", self.secret.secret_arn, grant=self.secret.grant_read)

        self.worker = calendar.worker("Worker", CALENDAR, batch_size=WORKER_BATCH_SIZE)
        self.scheduled = platform.scheduled(
            self, "Pass", SCHEDULED_FUNCTION, CALENDAR, schedule=CALENDAR_PASS, alarm=PASS_FAILURES_ALARM
        )
        # Set with its one permission, for the pass only (it queues the mirrors to retry; the
        # worker never sends to its own queue).
        self.scheduled.add_environment("CALENDAR_QUEUE_URL", self.queue.queue_url)
        self.queue.grant_send_messages(self.scheduled)
        self.reminders = platform.scheduled(
            self,
            "Reminders",
            REMINDERS_FUNCTION,
            REMINDERS,
            schedule=REMINDERS_RUN,
            alarm=REMINDER_FAILURES_ALARM,
        )
        # Both calendar functions call Google (tokens read, a refreshed one saved back) and e-mail
        # the owners when a shop's consent is revoked; the reminders e-mail customers with no
        # WhatsApp. The reminders never call Google: no grant on the tokens.
        for function in (self.worker, self.scheduled):
            allow_google_tokens(function, secrets_key)
        for function in (self.worker, self.scheduled, self.reminders):
            allow_mail(function, config)
        platform.monitoring.app_alarm(self.worker, SYNC_FAILURES_ALARM)
        calendar.alarm_on_dead_letters(
            "DlqAlarm", "Calendar: an appointment failed to reach Google five times (the pass retries it)"
        )
