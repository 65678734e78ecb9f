"""Payments: the queue between the Asaas webhook inbox and its consumer, the consumer, the alarm
on its dead-letter queue, and the hourly reconciliation with Asaas (a fan-out, a queue of shops and
its worker).

The webhook route stores each delivery in the database (the durable inbox) and sends a message
here; the consumer applies it with partial batch failures; five failed tries park it in the DLQ.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_kms as kms
from constructs import Construct

from assistec_infra import constants
from assistec_infra.capabilities.functions import FunctionSpec
from assistec_infra.capabilities.monitoring import AppAlarm
from assistec_infra.capabilities.platform import Schedule, WorkerPlatform
from assistec_infra.capabilities.queues import WorkQueue
from assistec_infra.capabilities.settings import CONSUMER
from assistec_infra.capabilities.storage import allow_asaas_key_decrypt

# The consumer's batch fits its timeout at its worst: each record has a time budget (the handler
# starts a record only while the time left covers its worst case, and hands the rest back to SQS),
# and a batch of webhook events at their worst (30 s each: up to three reads of Asaas under its 8 s
# deadline, and the database) fits whole. The handler (handlers/payments_consumer.py) says the same
# numbers; tests/infra checks they agree.
CONSUMER_BATCH_SIZE = 10
CONSUMER_RECORD_WORST_CASE_S = 30
CONSUMER_FUNCTION = FunctionSpec(
    handler=constants.PAYMENTS_CONSUMER_HANDLER,
    label="Payments consumer",
    description="assistec payments consumer: applies stored Asaas events (partial batch failures)",
    timeout_s=CONSUMER_BATCH_SIZE * CONSUMER_RECORD_WORST_CASE_S,
)
# Hourly: the fan-out, one message per shop due on the reconciliation queue (oldest first)...
RECONCILER_FUNCTION = FunctionSpec(
    handler=constants.RECONCILE_HANDLER,
    label="Reconciliation fan-out",
    description="assistec reconciliation: enqueues each shop due, hourly, longest unreconciled first",
    timeout_s=300,
)
# ...and the per-shop worker: one shop per invocation, its charges against Asaas, what differs
# repaired. A shop reads Asaas while more than one call's worst case is left (then writes what it
# read and is first in line next time), so a shop never outlives the function's 15 minutes.
RECONCILE_SHOP_BATCH_SIZE = 1
RECONCILE_SHOP_FUNCTION = FunctionSpec(
    handler=constants.RECONCILE_SHOP_HANDLER,
    label="Reconciliation worker",
    description="assistec reconciliation: one shop's charges against Asaas; repairs what differs",
    timeout_s=900,
)
# How many shops are reconciled at once (Asaas's rate limit is per shop's key, the database is shared).
RECONCILE_CONCURRENCY = 5
RECONCILE = Schedule("ReconcileSchedule", constants.RECONCILE_SCHEDULE, "Reconcile charges with Asaas")
MISMATCH_ALARM = AppAlarm(
    "MismatchAlarm",
    constants.RECONCILIATION_MISMATCHES_METRIC,
    "Sum",
    Duration.hours(1),
    threshold=1,
    evaluation_periods=3,
    description="Reconciliation: charges differed from Asaas three hours running (webhooks lost?)",
)


class Payments(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, platform: WorkerPlatform, secrets_key: kms.IKey
    ) -> None:
        super().__init__(scope, construct_id)
        asaas_events = WorkQueue(
            self, "Events", platform=platform, consumer=CONSUMER_FUNCTION, retention=Duration.days(4)
        )
        self.queue, self.dlq = asaas_events.queue, asaas_events.dlq
        platform.settings.provide(
            "payments_queue_url", self.queue.queue_url, grant=self.queue.grant_send_messages
        )
        self.consumer = asaas_events.worker(
            "Consumer",
            CONSUMER,
            batch_size=CONSUMER_BATCH_SIZE,
            max_batching_window=Duration.seconds(1),
        )
        allow_asaas_key_decrypt(self.consumer, secrets_key)
        asaas_events.alarm_on_dead_letters(
            "DlqAlarm", "Payments: an Asaas event failed five times and waits in the DLQ (not applied)"
        )

        # The reconciliation, fanned out: the hourly rule runs the fan-out (it reads which shops
        # are due and sends one message per shop; it never decrypts a shop's key), the queue's
        # worker reconciles each shop. A shop that keeps failing parks in the DLQ after five tries.
        # A shop not reconciled within the day is enqueued again by a later fan-out anyway.
        shops = WorkQueue(
            self,
            "ReconcileShops",
            platform=platform,
            consumer=RECONCILE_SHOP_FUNCTION,
            retention=Duration.days(1),
            dlq_id="ReconcileDlq",
        )
        self.reconcile_queue, self.reconcile_dlq = shops.queue, shops.dlq
        self.reconciler = platform.scheduled(
            self, "Reconciler", RECONCILER_FUNCTION, CONSUMER, schedule=RECONCILE, alarm=MISMATCH_ALARM
        )
        # Set with its one permission, for the fan-out only (the family's other workers never send).
        self.reconciler.add_environment("RECONCILE_QUEUE_URL", self.reconcile_queue.queue_url)
        self.reconcile_queue.grant_send_messages(self.reconciler)
        self.reconcile_worker = shops.worker(
            "ReconcileWorker",
            CONSUMER,
            batch_size=RECONCILE_SHOP_BATCH_SIZE,
            max_concurrency=RECONCILE_CONCURRENCY,
        )
        allow_asaas_key_decrypt(self.reconcile_worker, secrets_key)
        shops.alarm_on_dead_letters(
            "ReconcileDlqAlarm",
            "Reconciliation: a shop failed five times running (Asaas key revoked? Asaas down?)",
        )
