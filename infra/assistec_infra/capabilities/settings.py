"""What the worker functions read from their environment, named in one place.

Each family of functions reads one pydantic-settings model (functions/assistec/settings.py); its
``Family`` here lists the fields of that model the stack sets (the CDK app never imports Lambda
code, so the names are spelled again). The capability that owns a value provides it once, with the
grant a function needs to use it; every worker whose family reads the setting gets the variable
and the grant, whether the worker or the value comes first. A value provided as None is unset in
this stage. Settings that come with one permission for some workers only (MAIL_SENDER with
``allow_mail``, PLATFORM_ASAAS_SECRET_ID with ``Billing.grant_platform``) are set by those grants.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, get_args

import jsii
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import IValidation

# Every setting the stack provides, with who provides it; the environment lists them in this order.
Setting = Literal[
    "db_secret_id",  # the platform: the database (the app role's secret)
    "db_sslmode",
    "db_sslrootcert",
    "db_host",
    "auth_secret_id",  # Auth
    "devices_bucket",  # DeviceStorage
    "unlock_code_key_id",
    "event_bus_name",  # DomainEvents
    "payments_key_id",  # DeviceStorage
    "payments_queue_url",  # Payments
    "payment_flow_arn",  # PaymentFlow
    "quote_flow_arn",  # QuoteFlow
    "asaas_base_url",  # the platform, from the stage: the Asaas simulator, locally
    "authorizer_emulation",  # the platform, from the stage: LocalStack runs no Lambda authorizer
    "usage_plan_name",  # RestApi: the shops' usage plan (per-shop throttling)
    "evolution_secret_id",  # Whatsapp: the deployment's Evolution server
    "whatsapp_queue_url",  # Whatsapp: Evolution's stored deliveries (the API sends)
    "whatsapp_send_queue_url",  # Whatsapp: the messages to send (the API and the consumer send)
    "google_secret_id",  # Scheduling: the deployment's Google OAuth client
    "backup_bucket",  # Backup: the per-shop bundles
    "backup_copy_bucket",  # Backup: their second copy
    "backup_key_id",  # Backup: the shop-secrets key (purpose backup-bundle)
    "exports_bucket",  # DataExports: the owners' data exports (the API signs their links)
    "realtime_url",  # Realtime: the staff's WebSocket (wss://), handed out with each ticket (the API)
    "realtime_management_url",  # Realtime: the stage's callback URL the push and chat post through
]
_ORDER: tuple[Setting, ...] = get_args(Setting)
Grant = Callable[[iam.IGrantable], object]


@dataclass(frozen=True)
class Family:
    """The settings one family of functions reads, in the order their grants are given (the order
    of the statements in the role's policy)."""

    settings: tuple[Setting, ...]

    @property
    def uses_database(self) -> bool:
        """Reaches the database: in the VPC, deployed after the schema."""
        return "db_secret_id" in self.settings


_DATABASE: tuple[Setting, ...] = ("db_secret_id", "db_sslmode", "db_sslrootcert", "db_host")
AUTHORIZER = Family(("auth_secret_id",))  # AuthorizerSettings
# RelaySettings. The bus comes first: publishing to it is the relay's job.
RELAY = Family(("event_bus_name", *_DATABASE, "payments_queue_url", "whatsapp_send_queue_url"))
# ConsumerSettings: the payments consumer, the reconciliation, the payment flow's steps, the dunning run.
CONSUMER = Family((*_DATABASE, "event_bus_name", "payments_key_id", "asaas_base_url"))
_BACKUP: tuple[Setting, ...] = ("backup_bucket", "backup_copy_bucket", "backup_key_id")
# ApiSettings: every setting but the backup's and the connections' endpoint (the API posts to none).
API = Family(tuple(s for s in _ORDER if s not in (*_BACKUP, "realtime_management_url")))
# WhatsappSettings: the consumer (the bot) queues replies and never calls Evolution; the sender calls
# Evolution, queues nothing and emits no event (no bus).
WHATSAPP_CONSUMER = Family((*_DATABASE, "event_bus_name", "whatsapp_send_queue_url"))
WHATSAPP_SENDER = Family((*_DATABASE, "evolution_secret_id"))
# ConsumerSettings again, for the flows' steps: their messages go out on WhatsApp too; the quote
# flow's hands an approved quote to the payment flow.
PAYMENT_FLOW_STEPS = Family((*CONSUMER.settings, "whatsapp_send_queue_url"))
QUOTE_FLOW_STEPS = Family((*CONSUMER.settings, "whatsapp_send_queue_url", "payment_flow_arn"))
# CalendarSettings: the calendar worker and the scheduled pass call Google for the shops (the
# OAuth client's secret; their tokens under the payments key, by its google-token grant); the
# reminders never call Google, they queue WhatsApp messages. PAYMENTS_KEY_ID is a required field of
# the model: the variable alone grants nothing (the key's grants are given by purpose).
CALENDAR = Family((*_DATABASE, "event_bus_name", "payments_key_id", "google_secret_id"))
REMINDERS = Family((*_DATABASE, "event_bus_name", "payments_key_id", "whatsapp_send_queue_url"))
# MailEventsSettings: SES's events into the shops' records; it publishes nothing (no bus).
MAIL_EVENTS = Family(_DATABASE)
# The retention job: the database only (its definer function purges across shops).
RETENTION = Family(_DATABASE)
# BackupSettings: the nightly flow's steps (the shops, each shop's export, the finish) and the weekly
# restore test. Every one reads the same model, so every one gets the variables; the permissions
# behind them are given per function by Backup (only the export writes the buckets and makes data
# keys; the variables alone grant nothing).
BACKUP = Family((*_DATABASE, *_BACKUP))
# DataExportSettings: the data exports worker reads the shop (the database) and writes the zips (the
# bucket's name here; its write grant, on the exports prefix only, comes from DataExports).
DATA_EXPORTS = Family((*_DATABASE, "exports_bucket"))
# BankFilesSettings: the bank files worker reads the uploads in the devices bucket (its read grant, on
# bank-files/* only, comes from BankFiles), and hands the "pagamento recebido" WhatsApp messages of the
# boletos a retorno settles to the send queue.
BANK_FILES = Family((*_DATABASE, "devices_bucket", "whatsapp_send_queue_url"))
# OpsSettings: the ops console's function. ConsumerSettings (provisioning a shop, a reopened shop's
# new subscription: the platform account comes with ``Billing.grant_platform``), the signing key's
# secret, which it rotates (read here; its write grant is given by the stack), and the backups' (one
# shop's bundles on demand: the permissions behind them come with ``Backup.grant_console``).
OPS = Family((*CONSUMER.settings, "auth_secret_id", *_BACKUP))
# RealtimeSettings: the real-time function posts to connections (the stage's callback URL; its
# ManageConnections grant comes from Realtime).
REALTIME = Family((*_DATABASE, "realtime_management_url"))
# The reports to ops: the database (definer functions); the dashboard's name, its CloudWatch reads
# and the mail come with their own grants (OpsReports, allow_mail).
OPS_REPORTS = Family(_DATABASE)


class WorkerSettings:
    """The settings' values (and grants), and the workers that read them."""

    def __init__(self) -> None:
        self._values: dict[Setting, str | None] = {}
        self._grants: dict[Setting, Grant] = {}
        self._readers: list[tuple[lambda_.Function, Family]] = []

    def provide(self, setting: Setting, value: str | None, *, grant: Grant | None = None) -> None:
        if setting in self._values:
            raise ValueError(f"the setting {setting} is provided twice")
        self._values[setting] = value
        if value is not None and grant is not None:
            self._grants[setting] = grant
        for function, family in self._readers:
            if setting in family.settings:
                self._give(function, (setting,))

    def read(self, function: lambda_.Function, family: Family) -> None:
        """The function reads its family's settings: each variable and grant, now or when provided."""
        self._readers.append((function, family))
        self._give(function, family.settings)

    def _give(self, function: lambda_.Function, settings: tuple[Setting, ...]) -> None:
        # The variables in Setting's order for every function; the grants in the family's.
        for setting in sorted(settings, key=_ORDER.index):
            if (value := self._values.get(setting)) is not None:
                function.add_environment(setting.upper(), value)
        for setting in settings:
            if (grant := self._grants.get(setting)) is not None:
                grant(function)

    def missing(self) -> list[str]:
        """Settings some worker reads that no capability provided (not even as unset)."""
        read = {setting for _, family in self._readers for setting in family.settings}
        return sorted(read - set(self._values))


@jsii.implements(IValidation)
class EverySettingProvided:
    """Fails synth when a worker reads a setting nobody provides (a silently missing variable)."""

    def __init__(self, settings: WorkerSettings) -> None:
        self._settings = settings

    def validate(self) -> list[str]:
        return [f"no capability provides the setting {name}" for name in self._settings.missing()]
