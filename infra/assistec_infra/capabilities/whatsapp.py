"""WhatsApp through the Evolution API: the deployment's Evolution server (a secret ops fill in), the
queue between Evolution's webhook inbox and its consumer (the bot), the send queue and its sender,
and the alarms (a shop's number dropped, a DLQ holding messages).

The webhook route stores each delivery in the database and sends a message to the inbound queue
(held a few seconds so a burst of messages is answered once); the consumer applies it and queues
the bot's replies; the sender sends each once through the shop's number, paced per number.
"""

from __future__ import annotations

import json

from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from assistec_infra import constants
from assistec_infra.capabilities.functions import FunctionSpec
from assistec_infra.capabilities.monitoring import AppAlarm
from assistec_infra.capabilities.platform import WorkerPlatform
from assistec_infra.capabilities.queues import WorkQueue
from assistec_infra.capabilities.settings import WHATSAPP_CONSUMER, WHATSAPP_SENDER
from assistec_infra.nag import acknowledge

# Worst cases per record (handlers/whatsapp_worker.py says the same numbers; tests/infra checks):
# a delivery is one transaction, no network; a send waits for its number's slot (at most 20 s)
# and calls Evolution once (10 s budget).
CONSUMER_BATCH_SIZE = 10
DELIVERY_WORST_CASE_S = 10
SENDER_BATCH_SIZE = 5
SEND_WORST_CASE_S = 35
CONSUMER_FUNCTION = FunctionSpec(
    handler=constants.WHATSAPP_CONSUMER_HANDLER,
    label="WhatsApp consumer",
    description="assistec WhatsApp: applies Evolution's stored deliveries; the bot queues its replies",
    timeout_s=CONSUMER_BATCH_SIZE * DELIVERY_WORST_CASE_S,
)
SENDER_FUNCTION = FunctionSpec(
    handler=constants.WHATSAPP_SENDER_HANDLER,
    label="WhatsApp sender",
    description="assistec WhatsApp: sends queued messages through each shop's number, paced per number",
    timeout_s=SENDER_BATCH_SIZE * SEND_WORST_CASE_S,
)
DISCONNECTED_ALARM = AppAlarm(
    "WhatsappDisconnectedAlarm",
    constants.WHATSAPP_DISCONNECTED_METRIC,
    "Sum",
    Duration.minutes(5),
    threshold=1,
    description="WhatsApp: a shop's number dropped (its owner was e-mailed; many at once: Evolution down?)",
)


# A status message waits this long (the queue's delivery delay): a transition undone within it is
# not told (services/whatsapp/status.py reads the order's status when it arrives).
STATUS_DELAY_S = 60


class Whatsapp(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        platform: WorkerPlatform,
        bus: events.IEventBus,
        media_bucket: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        config = platform.config
        # One Evolution server per deployment: ops put its URL and global API key in (README).
        self.secret = secretsmanager.Secret(
            self,
            "EvolutionServer",
            description="assistec: the deployment's Evolution API server (url, api_key)",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps({"url": ""}),
                generate_string_key="api_key",
                exclude_punctuation=True,
                password_length=40,
            ),
            removal_policy=config.removal_policy,
        )
        acknowledge(
            self.secret,
            "AwsSolutions-SMG4",
            "The Evolution server's global key is set on that server; rotating it is a manual step there.",
        )
        inbound = WorkQueue(
            self, "Inbound", platform=platform, consumer=CONSUMER_FUNCTION, retention=Duration.days(4)
        )
        send = WorkQueue(
            self,
            "Send",
            platform=platform,
            consumer=SENDER_FUNCTION,
            retention=Duration.days(1),  # a reply a day late is worse than none: staff see it failed
        )
        # Orders' status changes, each held a minute, for the consumer's status messages
        status = WorkQueue(
            self,
            "Status",
            platform=platform,
            consumer=CONSUMER_FUNCTION,
            retention=Duration.days(1),
            delivery_delay=Duration.seconds(STATUS_DELAY_S),
        )
        self.queue, self.dlq = inbound.queue, inbound.dlq
        self.send_queue, self.send_dlq = send.queue, send.dlq
        self.status_queue, self.status_dlq = status.queue, status.dlq
        events.Rule(
            self,
            "StatusToQueue",
            description="An order moved: its customer's WhatsApp status message (after a minute)",
            event_bus=bus,
            event_pattern=events.EventPattern(
                source=[constants.EVENT_SOURCE], detail_type=[constants.ORDER_STATUS_CHANGED]
            ),
            targets=[targets.SqsQueue(self.status_queue)],
        )
        platform.settings.provide("evolution_secret_id", self.secret.secret_arn, grant=self.secret.grant_read)
        platform.settings.provide(
            "whatsapp_queue_url", self.queue.queue_url, grant=self.queue.grant_send_messages
        )
        platform.settings.provide(
            "whatsapp_send_queue_url", self.send_queue.queue_url, grant=self.send_queue.grant_send_messages
        )
        self.consumer = inbound.worker("Consumer", WHATSAPP_CONSUMER, batch_size=CONSUMER_BATCH_SIZE)
        self.consumer.add_event_source(status.trigger(batch_size=CONSUMER_BATCH_SIZE))
        self.sender = send.worker("Sender", WHATSAPP_SENDER, batch_size=SENDER_BATCH_SIZE)
        # Customers' files (when the shop keeps them): the sender writes them under whatsapp/, and
        # only there; the API signs the staff's downloads (its grant on the bucket).
        self.sender.add_environment("DEVICES_BUCKET", media_bucket.bucket_name)
        self.sender.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject"], resources=[media_bucket.arn_for_objects("whatsapp/*")]
            )
        )
        bucket = media_bucket.node.default_child
        assert isinstance(bucket, s3.CfnBucket)
        acknowledge(
            self.sender,
            f"AwsSolutions-IAM5[Resource::<{Stack.of(self).get_logical_id(bucket)}.Arn>/whatsapp/*]",
            "A customer's file goes to whatsapp/<shop>/<message>; one function serves every shop, so the "
            "role names the prefix (write only), and the key is built from the message's own row.",
        )
        platform.monitoring.app_alarm(self.consumer, DISCONNECTED_ALARM)
        for work, alarm_id, what in (
            (inbound, "InboundDlqAlarm", "an Evolution delivery failed five times (not applied)"),
            (send, "SendDlqAlarm", "a WhatsApp message failed to send five times"),
            (status, "StatusDlqAlarm", "an order's status message failed five times (not told)"),
        ):
            work.alarm_on_dead_letters(alarm_id, f"WhatsApp: {what}")

    def link_base(self, function: lambda_.Function, rest_api_id: str, stage_name: str) -> None:
        """The API's public base URL for the links the bot writes (locally `make up` sets
        LocalStack's, as for the API function)."""
        function.add_environment(
            "PUBLIC_BASE_URL", f"https://{rest_api_id}.execute-api.{Aws.REGION}.{Aws.URL_SUFFIX}/{stage_name}"
        )
