"""E-mail: the stage's SES sender (config.mail_sender, verified in SES), the configuration set whose
delivery, bounce and complaint events come back (SNS → the mail events queue → its function, which
updates each message's record and suppresses bounced and complaining addresses per shop), and the
grants of every function that sends mail (``allow_mail``): send as the sender with the configuration
set, and decrypt the shops' SMTP passwords (purpose ``smtp-password`` on the shop-secrets key).

LocalStack's CloudFormation does not create SES configuration sets: the local stage's set and its
SNS destination are created through the SES API by ``make up`` (devctl), under the same name.
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from assistec_infra import constants
from assistec_infra.capabilities.functions import FunctionSpec
from assistec_infra.capabilities.monitoring import AppAlarm
from assistec_infra.capabilities.platform import WorkerPlatform
from assistec_infra.capabilities.queues import WorkQueue
from assistec_infra.capabilities.settings import MAIL_EVENTS
from assistec_infra.capabilities.storage import _purpose
from assistec_infra.stage_config import StageConfig

EVENTS_BATCH_SIZE = 10
EVENTS_FUNCTION = FunctionSpec(
    handler=constants.MAIL_EVENTS_HANDLER,
    label="Mail events",
    description="assistec mail: SES delivery, bounce and complaint events into the shops' records",
    timeout_s=EVENTS_BATCH_SIZE * 5 + 10,
)
# The SES events published to us (sends and deliveries move the record; bounces and complaints
# suppress the address; rejects and delays are shown to staff).
EVENT_TYPES = (
    ses.EmailSendingEvent.SEND,
    ses.EmailSendingEvent.DELIVERY,
    ses.EmailSendingEvent.BOUNCE,
    ses.EmailSendingEvent.COMPLAINT,
    ses.EmailSendingEvent.REJECT,
    ses.EmailSendingEvent.DELIVERY_DELAY,
)
# SES pauses an account whose complaint rate nears 0.5%: a few complaints in an hour is worth a look.
COMPLAINTS_ALARM = AppAlarm(
    "ComplaintsAlarm",
    constants.MAIL_COMPLAINTS_METRIC,
    "Sum",
    Duration.hours(1),
    threshold=5,
    description="Mail: customers marked our messages as spam 5 times in an hour (SES reputation at risk)",
)
BOUNCES_ALARM = AppAlarm(
    "BouncesAlarm",
    constants.MAIL_BOUNCES_METRIC,
    "Sum",
    Duration.hours(1),
    threshold=50,
    description="Mail: 50 permanent bounces in an hour (a shop importing bad addresses? SES reputation)",
)
UNREADABLE_ALARM = AppAlarm(
    "UnreadableEventsAlarm",
    constants.MAIL_EVENTS_UNREADABLE_METRIC,
    "Sum",
    Duration.minutes(15),
    threshold=1,
    description="Mail: SES sent an event the mail events function cannot read (did its format change?)",
)

_SENDERS_ATTR = "_assistec_mail_senders"


def configuration_set_name(config: StageConfig) -> str:
    return config.resource_name("mail")


def allow_mail(function: lambda_.Function, config: StageConfig, *, shop_mail: bool = True) -> None:
    """Let the function send as the stage's sender, through the stage's configuration set, and only
    as it; the stack's ``Mail`` then lets it decrypt the shops' SMTP passwords (``grant_senders``).
    A function that sends the platform's own mail only (``shop_mail=False``: the reports to ops) gets
    no part of the shops' SMTP servers."""
    stack = Stack.of(function)
    function.add_to_role_policy(
        iam.PolicyStatement(
            actions=["ses:SendRawEmail"],
            # The sender verified as an address or through its domain: either identity; and the
            # configuration set the message names.
            resources=[
                *(
                    f"arn:{stack.partition}:ses:{stack.region}:{stack.account}:identity/{identity}"
                    for identity in (config.mail_sender, config.mail_sender.split("@", 1)[1])
                ),
                f"arn:{stack.partition}:ses:{stack.region}:{stack.account}:configuration-set/"
                f"{configuration_set_name(config)}",
            ],
            conditions={"StringEquals": {"ses:FromAddress": config.mail_sender}},
        )
    )
    function.add_environment("MAIL_SENDER", config.mail_sender)
    function.add_environment("MAIL_CONFIGURATION_SET", configuration_set_name(config))
    function.add_environment("MAIL_SUPPORT_ADDRESS", config.support_email)
    if not shop_mail:
        return
    if config.stage == "local":
        # The local stage's SMTP servers (tests, a developer's) listen on 127.0.0.1. Never in prod:
        # the settings model refuses it there.
        function.add_environment("SMTP_ALLOW_PRIVATE", "true")
    senders: list[lambda_.Function] = getattr(stack, _SENDERS_ATTR, [])
    senders.append(function)
    setattr(stack, _SENDERS_ATTR, senders)


def mail_senders(stack: Stack) -> list[lambda_.Function]:
    """The functions ``allow_mail`` was given, in order."""
    return list(getattr(stack, _SENDERS_ATTR, []))


class Mail(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, platform: WorkerPlatform) -> None:
        super().__init__(scope, construct_id)
        config = platform.config
        # SES publishes to an encrypted topic only with a customer-managed key it may use.
        key = kms.Key(
            self,
            "EventsTopicKey",
            enable_key_rotation=True,
            removal_policy=config.removal_policy,
            description="Encrypts the assistec SES events topic",
        )
        key.grant(iam.ServicePrincipal("ses.amazonaws.com"), "kms:GenerateDataKey*", "kms:Decrypt")
        self.topic = sns.Topic(
            self, "EventsTopic", master_key=key, enforce_ssl=True, display_name="assistec SES events"
        )
        self.topic.grant_publish(iam.ServicePrincipal("ses.amazonaws.com"))
        self.configuration_set = ses.ConfigurationSet(
            self, "ConfigurationSet", configuration_set_name=configuration_set_name(config)
        )
        self.configuration_set.add_event_destination(
            "ToTopic",
            destination=ses.EventDestination.sns_topic(self.topic),
            events=list(EVENT_TYPES),
        )
        ses_events = WorkQueue(
            self, "Events", platform=platform, consumer=EVENTS_FUNCTION, retention=Duration.days(4)
        )
        self.queue, self.dlq = ses_events.queue, ses_events.dlq
        self.topic.add_subscription(subscriptions.SqsSubscription(self.queue, raw_message_delivery=True))
        self.events_function = ses_events.worker("EventsFunction", MAIL_EVENTS, batch_size=EVENTS_BATCH_SIZE)
        for alarm in (COMPLAINTS_ALARM, BOUNCES_ALARM, UNREADABLE_ALARM):
            platform.monitoring.app_alarm(self.events_function, alarm)
        ses_events.alarm_on_dead_letters(
            "DlqAlarm", "Mail: an SES event failed five times (the database?); its message's status is stale"
        )

    def grant_senders(
        self, senders: list[lambda_.Function], key: kms.IKey, *, encrypt: list[lambda_.Function]
    ) -> None:
        """Every sender decrypts the shops' SMTP passwords (MAIL_KEY_ID); those in ``encrypt`` (the
        API, where staff save them) encrypt them too. Nothing else of the key."""
        for function in senders:
            actions = ["kms:Encrypt", "kms:Decrypt"] if function in encrypt else ["kms:Decrypt"]
            function.add_to_role_policy(_purpose(actions, key, constants.KMS_SMTP_PASSWORD_CONTEXT))
            function.add_environment("MAIL_KEY_ID", key.key_arn)
