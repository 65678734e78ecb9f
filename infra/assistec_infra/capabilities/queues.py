"""A work queue: an SQS queue, its dead-letter queue, the worker that consumes it, and the alarm on
what the dead-letter queue holds. Every capability with a queue of work (payments, mail, WhatsApp,
scheduling) builds it here, in the same shape:

- the queue and its DLQ: encrypted (SQS-managed), TLS-only, the DLQ keeping 14 days what failed
  ``MAX_RECEIVE_COUNT`` receives; the queue's visibility timeout ``VISIBILITY_FACTOR`` times its
  consumer's timeout, as Lambda's SQS integration asks;
- the consumer's event source: partial batch failures (a failed record goes back alone);
- the DLQ's alarm: one message waiting is one piece of work given up on.

``WorkQueue`` is not a construct: the queues, the alarm and the worker are made in the capability's
own scope, under the ids they always had (a queue's logical id changing replaces it, and its messages
are lost). Each step is its own call, so a capability keeps the order it builds things in (settings
that read the queue before its worker, other functions before the alarm), which the dashboard and
the roles' policies follow.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from assistec_infra.capabilities.functions import FunctionSpec
from assistec_infra.capabilities.platform import WorkerPlatform
from assistec_infra.capabilities.settings import Family
from assistec_infra.nag import acknowledge

# Lambda's SQS integration asks for a visibility timeout of at least six times the function's.
VISIBILITY_FACTOR = 6
# A message is tried this many times before it parks in the dead-letter queue.
MAX_RECEIVE_COUNT = 5
DLQ_RETENTION = Duration.days(14)


class WorkQueue:
    """A queue and its DLQ, made in ``scope`` as ``queue_id`` and ``dlq_id`` (default
    ``<queue_id>Dlq``); ``consumer`` is the spec of the function that consumes it: its timeout sets
    the visibility timeout, and ``worker`` makes that function."""

    def __init__(
        self,
        scope: Construct,
        queue_id: str,
        *,
        platform: WorkerPlatform,
        consumer: FunctionSpec,
        retention: Duration,
        dlq_id: str | None = None,
        delivery_delay: Duration | None = None,
    ) -> None:
        self._scope = scope
        self._platform = platform
        self._consumer = consumer
        removal_policy = platform.config.removal_policy
        self.dlq = sqs.Queue(
            scope,
            dlq_id or f"{queue_id}Dlq",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=DLQ_RETENTION,
            removal_policy=removal_policy,
        )
        self.queue = sqs.Queue(
            scope,
            queue_id,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(consumer.timeout_s * VISIBILITY_FACTOR),
            retention_period=retention,
            delivery_delay=delivery_delay,
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dlq, max_receive_count=MAX_RECEIVE_COUNT),
            removal_policy=removal_policy,
        )
        acknowledge(self.dlq, "AwsSolutions-SQS3", "This is a dead-letter queue; its queue has it.")

    def trigger(
        self,
        *,
        batch_size: int,
        max_batching_window: Duration | None = None,
        max_concurrency: int | None = None,
    ) -> sources.SqsEventSource:
        """The queue as a function's event source, with partial batch failures."""
        return sources.SqsEventSource(
            self.queue,
            batch_size=batch_size,
            max_batching_window=max_batching_window,
            report_batch_item_failures=True,
            max_concurrency=max_concurrency,
        )

    def worker(
        self,
        construct_id: str,
        family: Family,
        *,
        batch_size: int,
        max_batching_window: Duration | None = None,
        max_concurrency: int | None = None,
    ) -> lambda_.Function:
        """The consumer: the platform's worker of ``family`` in the queue's scope, fed by the queue."""
        return self._platform.worker(
            self._scope,
            construct_id,
            self._consumer,
            family,
            trigger=self.trigger(
                batch_size=batch_size,
                max_batching_window=max_batching_window,
                max_concurrency=max_concurrency,
            ),
        )

    def alarm_on_dead_letters(self, alarm_id: str, description: str) -> cloudwatch.Alarm:
        """An alarm (on the DLQ, as ``alarm_id``) when a message waits in the dead-letter queue."""
        return self._platform.monitoring.alarm(
            self.dlq,
            alarm_id,
            self.dlq.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(5), statistic="Maximum"
            ),
            threshold=1,
            description=description,
        )
