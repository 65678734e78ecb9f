"""The shops' subscription to assistec: the platform Asaas account's secret, signup's hand-off to
the payments queue, and the daily dunning run with its alarm.

- ``ShopSignedUp`` (published from signup's outbox) goes to the payments queue by a rule on the
  domain bus; the consumer creates the shop's Asaas customer and subscription.
- The platform account's webhook (/webhooks/asaas-platform) is stored by the API and applied by the
  same consumer.
- Every day at 08:00 in Brasília the dunning function re-reads late invoices from Asaas, moves
  each shop's status (past due, suspended, active again) and e-mails the owners.
"""

from __future__ import annotations

import json

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from assistec_infra import constants
from assistec_infra.capabilities.functions import FunctionSpec
from assistec_infra.capabilities.mail import allow_mail
from assistec_infra.capabilities.monitoring import AppAlarm
from assistec_infra.capabilities.platform import Schedule, WorkerPlatform
from assistec_infra.capabilities.settings import CONSUMER
from assistec_infra.nag import acknowledge

DUNNING_FUNCTION = FunctionSpec(
    handler=constants.DUNNING_HANDLER,
    label="Dunning",
    description="assistec dunning: the shops' subscriptions, daily (notices, suspension, return)",
    timeout_s=900,
)
DUNNING = Schedule(
    "DunningSchedule", constants.DUNNING_SCHEDULE, "Dunning of the shops' subscriptions", retry_attempts=2
)
SHOP_ERRORS_ALARM = AppAlarm(
    "ShopErrorsAlarm",
    constants.DUNNING_ERRORS_METRIC,
    "Sum",
    Duration.days(1),
    threshold=1,
    description="Dunning: some shops could not be checked today (Asaas, SES or the database)",
)
# Published by the payments consumer (a new shop Asaas refused) and by the daily run (each shop it
# still refuses): such a shop has no subscription and goes from trial to past due and suspended.
PROVISIONING_REFUSED_ALARM = AppAlarm(
    "ProvisioningRefusedAlarm",
    constants.PROVISIONING_REFUSED_METRIC,
    "Sum",
    Duration.days(1),
    threshold=1,
    description="Billing: Asaas refused to create a shop's subscription (its CNPJ, e-mail or phone); "
    "see tenant_subscriptions.provision_error and fix the shop's data",
)


class Billing(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        platform: WorkerPlatform,
        bus: events.IEventBus,
        queue: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        config = platform.config
        # The API key is put in by ops (README); the webhook token is generated here and given
        # to Asaas when the platform webhook is registered.
        self.secret = secretsmanager.Secret(
            self,
            "PlatformAsaas",
            description="assistec: the platform's Asaas account (api_key, webhook_token, environment)",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps(
                    {"api_key": "", "environment": "production" if config.stage == "prod" else "sandbox"}
                ),
                generate_string_key="webhook_token",
                exclude_punctuation=True,
                password_length=40,
            ),
            removal_policy=config.removal_policy,
        )
        acknowledge(
            self.secret,
            "AwsSolutions-SMG4",
            "An Asaas API key is issued in Asaas's dashboard; rotating it is a manual step there.",
        )

        # Signup -> payments queue: the consumer provisions the shop's subscription.
        events.Rule(
            self,
            "SignupToQueue",
            description="A new shop: create its Asaas subscription (payments consumer)",
            event_bus=bus,
            event_pattern=events.EventPattern(
                source=[constants.EVENT_SOURCE], detail_type=[constants.SHOP_SIGNED_UP]
            ),
            targets=[targets.SqsQueue(queue)],
        )

        self.dunning = platform.scheduled(
            self, "Dunning", DUNNING_FUNCTION, CONSUMER, schedule=DUNNING, alarm=SHOP_ERRORS_ALARM
        )
        self.grant_platform(self.dunning)
        allow_mail(self.dunning, config)
        platform.monitoring.app_alarm(self.dunning, PROVISIONING_REFUSED_ALARM)

    def grant_platform(self, function: lambda_.Function) -> None:
        """The platform account's secret, for a function that needs it (API: webhook token)."""
        self.secret.grant_read(function)
        function.add_environment("PLATFORM_ASAAS_SECRET_ID", self.secret.secret_arn)
