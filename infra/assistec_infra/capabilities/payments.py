"""Payments: the queue between the Asaas webhook inbox and its consumer, the consumer, the alarm
on its dead-letter queue, and the hourly reconciliation with Asaas.

The webhook route stores each delivery in the database (the durable inbox) and sends a message
here; the consumer applies it with partial batch failures; five failed tries park it in the DLQ.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from assistec_infra import constants
from assistec_infra.capabilities.functions import FunctionSpec
from assistec_infra.capabilities.monitoring import AppAlarm
from assistec_infra.capabilities.platform import Schedule, WorkerPlatform
from assistec_infra.capabilities.settings import CONSUMER
from assistec_infra.capabilities.storage import allow_decrypt
from assistec_infra.nag import acknowledge

CONSUMER_FUNCTION = FunctionSpec(
    handler=constants.PAYMENTS_CONSUMER_HANDLER,
    label="Payments consumer",
    description="assistec payments consumer: applies stored Asaas events (partial batch failures)",
    timeout_s=60,
)
# Hourly: compare local charges with Asaas, repair what a lost webhook left behind.
RECONCILER_FUNCTION = FunctionSpec(
    handler=constants.RECONCILE_HANDLER,
    label="Reconciliation",
    description="assistec reconciliation: charges against Asaas, hourly; repairs what differs",
    timeout_s=300,
)
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
        config = platform.config
        self.dlq = sqs.Queue(
            self,
            "EventsDlq",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=config.removal_policy,
        )
        self.queue = sqs.Queue(
            self,
            "Events",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            # Six times the consumer's timeout, as Lambda's SQS integration asks.
            visibility_timeout=Duration.seconds(CONSUMER_FUNCTION.timeout_s * 6),
            retention_period=Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dlq, max_receive_count=5),
            removal_policy=config.removal_policy,
        )
        platform.settings.provide(
            "payments_queue_url", self.queue.queue_url, grant=self.queue.grant_send_messages
        )
        self.consumer = platform.worker(
            self,
            "Consumer",
            CONSUMER_FUNCTION,
            CONSUMER,
            trigger=sources.SqsEventSource(
                self.queue,
                batch_size=10,
                max_batching_window=Duration.seconds(1),
                report_batch_item_failures=True,
            ),
        )
        allow_decrypt(self.consumer, secrets_key)
        acknowledge(self.dlq, "AwsSolutions-SQS3", "This is the dead-letter queue; the events queue has it.")
        platform.monitoring.alarm(
            self.dlq,
            "DlqAlarm",
            self.dlq.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(5), statistic="Maximum"
            ),
            threshold=1,
            description="Payments: an Asaas event failed five times and waits in the DLQ (not applied)",
        )

        self.reconciler = platform.scheduled(
            self, "Reconciler", RECONCILER_FUNCTION, CONSUMER, schedule=RECONCILE, alarm=MISMATCH_ALARM
        )
        allow_decrypt(self.reconciler, secrets_key)
