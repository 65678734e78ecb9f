"""Payments: the queue between the Asaas webhook inbox and its consumer, the consumer, and the
alarm on its dead-letter queue.

The webhook route stores each delivery in the database (the durable inbox) and sends a message
here; the consumer applies it with partial batch failures; five failed tries park it in the DLQ.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from assistec_infra import constants
from assistec_infra.capabilities.functions import PythonFunctions
from assistec_infra.capabilities.monitoring import Monitoring
from assistec_infra.nag import acknowledge
from assistec_infra.stage_config import StageConfig

CONSUMER_TIMEOUT_S = 60


class Payments(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        functions: PythonFunctions,
        monitoring: Monitoring,
        environment: dict[str, str],
        secrets_key: kms.IKey,
        vpc: ec2.IVpc | None,
        security_groups: list[ec2.ISecurityGroup] | None,
    ) -> None:
        super().__init__(scope, construct_id)
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
            visibility_timeout=Duration.seconds(CONSUMER_TIMEOUT_S * 6),
            retention_period=Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dlq, max_receive_count=5),
            removal_policy=config.removal_policy,
        )
        self.consumer = functions.function(
            self,
            "Consumer",
            handler=constants.PAYMENTS_CONSUMER_HANDLER,
            description="assistec payments consumer: applies stored Asaas events (partial batch failures)",
            environment=environment,
            timeout_s=CONSUMER_TIMEOUT_S,
            vpc=vpc,
            security_groups=security_groups,
        )
        self.consumer.add_event_source(
            sources.SqsEventSource(
                self.queue,
                batch_size=10,
                max_batching_window=Duration.seconds(1),
                report_batch_item_failures=True,
            )
        )
        self.consumer.add_to_role_policy(
            iam.PolicyStatement(actions=["kms:Decrypt"], resources=[secrets_key.key_arn])
        )
        acknowledge(self.dlq, "AwsSolutions-SQS3", "This is the dead-letter queue; the events queue has it.")
        monitoring.watch_function(self.consumer, "Payments consumer")
        monitoring.alarm(
            self.dlq,
            "DlqAlarm",
            self.dlq.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(5), statistic="Maximum"
            ),
            threshold=1,
            description="Payments: an Asaas event failed five times and waits in the DLQ (not applied)",
        )

        # Hourly: compare local charges with Asaas, repair what a lost webhook left behind.
        self.reconciler = functions.function(
            self,
            "Reconciler",
            handler=constants.RECONCILE_HANDLER,
            description="assistec reconciliation: charges against Asaas, hourly; repairs what differs",
            environment=environment,
            timeout_s=300,
            vpc=vpc,
            security_groups=security_groups,
        )
        self.reconciler.add_to_role_policy(
            iam.PolicyStatement(actions=["kms:Decrypt"], resources=[secrets_key.key_arn])
        )
        events.Rule(
            self,
            "ReconcileSchedule",
            description="Reconcile charges with Asaas",
            schedule=events.Schedule.rate(Duration.hours(1)),
            targets=[targets.LambdaFunction(self.reconciler, retry_attempts=0)],
        )
        monitoring.watch_function(self.reconciler, "Reconciliation")
        monitoring.alarm(
            self.reconciler,
            "MismatchAlarm",
            monitoring.app_metric("ReconciliationMismatches", period=Duration.hours(1), statistic="Sum"),
            threshold=1,
            evaluation_periods=3,
            description="Reconciliation: charges differed from Asaas three hours running (webhooks lost?)",
        )

    def grant_send(self, function: lambda_.IFunction) -> None:
        self.queue.grant_send_messages(function)
