"""Configuration, validated once per cold start.

One pydantic-settings model per function family; nothing else in the package reads os.environ.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class DatabaseSettings(BaseSettings):
    """Where the database is.

    In AWS the credentials live in Secrets Manager (``DB_SECRET_ID``, the RDS-generated JSON shape)
    and ``DB_HOST`` points at the RDS Proxy. Tests and local tools may give a full ``DATABASE_URL``
    instead. Exactly one of the two must be set: a silent default would hide a broken deploy.
    """

    model_config = SettingsConfigDict(extra="ignore", frozen=True, defer_build=True)

    database_url: SecretStr | None = None
    db_secret_id: str | None = None
    db_host: str | None = None
    db_sslmode: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] = "require"
    # The CA bundle that verifies the server (verify-ca / verify-full); unset: the RDS bundle shipped
    # with the code (db/certs/rds-ca-bundle.pem).
    db_sslrootcert: str | None = None
    db_connect_timeout_s: int = Field(default=5, ge=1, le=60)

    @model_validator(mode="after")
    def _exactly_one_source(self) -> Self:
        if (self.database_url is None) == (self.db_secret_id is None):
            raise ValueError("configure exactly one of DATABASE_URL or DB_SECRET_ID")
        return self


class AuthKeySettings(BaseSettings):
    """Where the token-signing key is: Secrets Manager in AWS (``AUTH_SECRET_ID``), or the key
    itself for tests (``AUTH_SIGNING_KEY``). Exactly one."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True, defer_build=True)

    auth_secret_id: str | None = None
    auth_signing_key: SecretStr | None = None

    @model_validator(mode="after")
    def _exactly_one_key_source(self) -> Self:
        if (self.auth_secret_id is None) == (self.auth_signing_key is None):
            raise ValueError("configure exactly one of AUTH_SECRET_ID or AUTH_SIGNING_KEY")
        if self.auth_signing_key is not None and len(self.auth_signing_key.get_secret_value()) < 32:
            raise ValueError("AUTH_SIGNING_KEY must have at least 32 characters")
        return self


LOCAL_SIGNUP_LIMIT = 1000


class MailSettings(BaseSettings):
    """What every family that sends e-mail needs (``services.email.Mail``)."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True, defer_build=True)

    # The platform's sender (SES-verified; the stack sets it with the SES grant).
    mail_sender: str = "nao-responda@assistec.com.br"
    # Where a shop's answer to the platform's own mail goes (the sender is a no-reply address).
    mail_support_address: str | None = None
    # The SES configuration set whose delivery, bounce and complaint events come back to us.
    mail_configuration_set: str | None = None
    # The key the shops' SMTP passwords are encrypted under (purpose smtp-password): the shop-secrets
    # (payments) key. Unset: a shop's own server cannot be used (its messages are recorded as failed).
    mail_key_id: str | None = None
    # A shop's SMTP server may be on a private or loopback address: the local stage and the tests
    # (their SMTP server listens on 127.0.0.1). Never in prod.
    smtp_allow_private: bool = False

    @model_validator(mode="after")
    def _no_private_smtp_in_prod(self) -> Self:
        if self.smtp_allow_private and getattr(self, "stage", None) == "prod":
            raise ValueError("SMTP_ALLOW_PRIVATE is for the local stage and the tests only")
        return self


class ApiSettings(DatabaseSettings, AuthKeySettings, MailSettings):
    """The REST API function."""

    stage: Literal["local", "prod", "test"]
    app_version: str = Field(min_length=1)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=6 * 1024 * 1024)
    devices_bucket: str = Field(min_length=3)
    unlock_code_key_id: str = Field(min_length=1)
    event_bus_name: str = Field(min_length=1)
    payments_key_id: str = Field(min_length=1)
    payments_queue_url: str = Field(min_length=1)
    # The Asaas API's base URL when not the public one for the account's environment (the offline
    # simulator, locally).
    asaas_base_url: str | None = None
    # The payment flow (Step Functions); POST /orders/{id}/payment-flow starts it.
    payment_flow_arn: str | None = None
    # The quote flow (Step Functions); POST /quotes/{id}/send starts it.
    quote_flow_arn: str | None = None
    # The platform's Asaas account (the shops' subscriptions): key and webhook token, as JSON.
    platform_asaas_secret_id: str | None = None
    # WhatsApp: the deployment's Evolution server ({"url", "api_key"} in Secrets Manager) and the two
    # queues (Evolution's stored deliveries; the messages to send).
    evolution_secret_id: str | None = None
    whatsapp_queue_url: str | None = None
    whatsapp_send_queue_url: str | None = None
    # Google Calendar: the deployment's OAuth client ({"client_id", "client_secret"} in Secrets
    # Manager; the shops' tokens are encrypted under the payments (shop-secrets) key).
    google_secret_id: str | None = None
    # The stage's dead-letter queues ({name: url}, JSON) whose depth /health reports.
    health_dlq_urls: dict[str, str] = Field(default_factory=dict)
    # Base of the links the API writes into messages; derived from each request when unset.
    public_base_url: str | None = Field(default=None, pattern=r"^https?://[^\s]+[^/]$")
    # LocalStack's community API Gateway does not run Lambda authorizers: in the local stage the API
    # runs the same check on the Authorization header itself. Never in prod.
    authorizer_emulation: bool = False
    # Days a decided or expired quote's public link (and a cancelled order's tracking link) can
    # still be read; a delivered order's tracking link is readable through its warranty.
    public_link_read_days: int = Field(default=30, ge=1, le=366)
    # API Gateway's usage plan of the shops (per-shop throttling): signup puts each shop's key in it.
    usage_plan_name: str | None = None
    # The owners' data exports (LGPD): the bucket whose exports/<shop>/ objects the API signs links to
    # (the worker writes them). Unset: no link can be signed (503).
    exports_bucket: str | None = Field(default=None, min_length=3)
    # Signups per source address per hour (429 beyond). LocalStack hands the API every caller as one
    # address: the local stage allows at least LOCAL_SIGNUP_LIMIT (``signup_limit``).
    signup_limit_per_hour: int = Field(default=10, ge=1, le=100_000)
    # The staff's WebSocket (wss://{api}.execute-api.{region}.amazonaws.com/{stage}): handed out with each
    # real-time ticket; in the local stage the gateway stand-in's (ws://127.0.0.1:4595/v1, the stage
    # config's). Unset: no url (the panel then uses its /config.json's wsUrl).
    realtime_url: str | None = Field(default=None, pattern=r"^wss?://[^\s]+[^/]$")

    @property
    def signup_limit(self) -> int:
        if self.stage == "local":
            return max(self.signup_limit_per_hour, LOCAL_SIGNUP_LIMIT)
        return self.signup_limit_per_hour

    @model_validator(mode="after")
    def _no_emulation_in_prod(self) -> Self:
        if self.authorizer_emulation and self.stage == "prod":
            raise ValueError("AUTHORIZER_EMULATION is for the local stage only")
        return self


class AuthorizerSettings(AuthKeySettings):
    """The API Gateway Lambda authorizer: it only needs the key."""


class MigrateSettings(DatabaseSettings):
    """The deploy-time schema function: the migrator's connection, and (in AWS) the secrets of the
    roles it creates. Both role secrets or neither: locally `make up` manages the roles."""

    app_secret_id: str | None = None
    ops_secret_id: str | None = None

    @model_validator(mode="after")
    def _both_role_secrets_or_none(self) -> Self:
        if (self.app_secret_id is None) != (self.ops_secret_id is None):
            raise ValueError("configure both APP_SECRET_ID and OPS_SECRET_ID, or neither")
        return self


class RelaySettings(DatabaseSettings):
    """The outbox relay: the database and the bus; and the payments queue, for the inbox sweep."""

    event_bus_name: str = Field(min_length=1)
    payments_queue_url: str | None = None
    # WhatsApp's send queue: replies whose queue message was lost are enqueued again.
    whatsapp_send_queue_url: str | None = None


class ScratchSettings(DatabaseSettings):
    """The scratch connection of a restore into scratch tables: the ops role (it may create tables in
    schema backup_restore, migration 0031; and it issues the in-place restore's permits, migration
    0034), straight to the database (its secret carries the host). One of the two, for the functions
    that restore; the others need neither."""

    scratch_db_secret_id: str | None = None
    scratch_database_url: SecretStr | None = None

    @model_validator(mode="after")
    def _one_scratch_source(self) -> Self:
        if self.scratch_db_secret_id is not None and self.scratch_database_url is not None:
            raise ValueError("configure at most one of SCRATCH_DB_SECRET_ID or SCRATCH_DATABASE_URL")
        return self

    def scratch_settings(self) -> DatabaseSettings:
        """The scratch connection's settings (the same TLS settings as the app role's)."""
        if self.scratch_db_secret_id is None and self.scratch_database_url is None:
            raise ValueError("SCRATCH_DB_SECRET_ID (or SCRATCH_DATABASE_URL) is not set: no scratch restore")
        return DatabaseSettings(
            database_url=self.scratch_database_url,
            db_secret_id=self.scratch_db_secret_id,
            db_host=None,
            db_sslmode=self.db_sslmode,
            db_sslrootcert=self.db_sslrootcert,
            db_connect_timeout_s=self.db_connect_timeout_s,
        )


class ConsumerSettings(DatabaseSettings, MailSettings):
    """The payments consumer: applies stored Asaas events, asking Asaas when money moves."""

    # Every function has STAGE: prod refuses a sandbox platform account, as the API does.
    stage: Literal["local", "prod", "test"]
    event_bus_name: str = Field(min_length=1)
    payments_key_id: str = Field(min_length=1)
    asaas_base_url: str | None = None
    # The platform's Asaas account (the shops' subscriptions; the dunning run uses these settings too).
    platform_asaas_secret_id: str | None = None
    # The reconciliation queue (one message per shop): set for the reconciliation's fan-out only.
    reconcile_queue_url: str | None = None
    # The flows' messages on WhatsApp (the payment and quote flows' steps) and the quote flow's
    # hand-off to the payment flow.
    whatsapp_send_queue_url: str | None = None
    payment_flow_arn: str | None = None


class OpsSettings(ConsumerSettings, ScratchSettings):
    """The ops function (the operator's console runs its commands there): the payments workers'
    settings, for provisioning a shop and a reopened shop's new subscription; the token-signing key's
    secret, which it rotates (its grant: read and write); and the backups' (the bundles' buckets, the
    key of their data keys, the ops role's scratch connection), for one shop's bundles on demand.
    Without the backups' settings (a stage without backups) the backup commands are refused."""

    auth_secret_id: str | None = None
    backup_bucket: str | None = Field(default=None, min_length=3)
    backup_copy_bucket: str | None = None
    backup_key_id: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _backups_whole(self) -> Self:
        if (self.backup_bucket is None) != (self.backup_key_id is None):
            raise ValueError("configure both BACKUP_BUCKET and BACKUP_KEY_ID, or neither")
        return self


class WhatsappSettings(DatabaseSettings, MailSettings):
    """WhatsApp's workers: the consumer of Evolution's deliveries (the bot) and the sender."""

    stage: Literal["local", "prod", "test"]
    # The consumer publishes the bot's events; the sender emits none (its role has no bus).
    event_bus_name: str | None = None
    evolution_secret_id: str | None = None
    whatsapp_queue_url: str | None = None
    whatsapp_send_queue_url: str | None = None
    # The links the bot writes (the order's tracking page): the API's public base URL.
    public_base_url: str | None = Field(default=None, pattern=r"^https?://[^\s]+[^/]$")
    # Where customers' files go (the sender fetches them; the devices bucket, whatsapp/ prefix).
    devices_bucket: str | None = None
    # Sends per number: one every this many milliseconds (WhatsApp bans bursts from Baileys numbers).
    send_interval_ms: int = Field(default=1200, ge=100, le=60_000)


class CalendarSettings(DatabaseSettings, MailSettings):
    """Scheduling's workers: the Google Calendar mirror (queue and schedule) and the reminders."""

    stage: Literal["local", "prod", "test"]
    event_bus_name: str = Field(min_length=1)
    # The shops' Google tokens are encrypted under this key (purpose google-token).
    payments_key_id: str = Field(min_length=1)
    google_secret_id: str | None = None
    # The calendar queue (AppointmentChanged and the sweep's retries).
    calendar_queue_url: str | None = None
    # Reminders on WhatsApp go through the shop's send queue; e-mail is the fallback.
    whatsapp_send_queue_url: str | None = None
    public_base_url: str | None = Field(default=None, pattern=r"^https?://[^\s]+[^/]$")


class MailEventsSettings(DatabaseSettings):
    """The mail events function: SES's delivery, bounce and complaint events into the shops' records."""

    # It publishes no events (its role has no bus): none set.
    event_bus_name: str | None = None


class BackupSettings(ScratchSettings):
    """The backup flow's functions (shops, export, finish, restore test): the app role's database
    (``DB_SECRET_ID``/``DB_HOST``, through the proxy), the backup buckets and the key of the bundles'
    data keys (the shop-secrets key; purpose backup-bundle); the restore test's scratch connection."""

    stage: Literal["local", "prod", "test"]
    backup_bucket: str = Field(min_length=3)
    # A second bucket holding a copy of every bundle (another region or account); unset: none.
    backup_copy_bucket: str | None = None
    backup_key_id: str = Field(min_length=1)
    # Set: the finish step publishes BackupRunFinished (its summary) to this bus.
    event_bus_name: str | None = None


class DataExportSettings(DatabaseSettings, MailSettings):
    """The data exports worker: the app role's database (it reads the shop in one snapshot, as the
    backup export does), the exports bucket it writes the zips to, and the mail (the owners are told
    an export is ready; the platform's own mail, never through a shop's SMTP server)."""

    stage: Literal["local", "prod", "test"]
    exports_bucket: str = Field(min_length=3)
    # It publishes no events (its role has no bus).
    event_bus_name: str | None = None


class OpsReportSettings(DatabaseSettings, MailSettings):
    """The reports to ops: the database (definer functions), the stage's dashboard (its metrics) and
    where the reports go."""

    stage: Literal["local", "prod", "test"]
    # The stage's CloudWatch dashboard (assistec-<stage>), whose metrics the reports read.
    dashboard_name: str = Field(min_length=1)
    # Who gets the reports (the stage's alarm e-mail). Unset: the reports are logged, not mailed.
    ops_report_email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class BankFilesSettings(DatabaseSettings):
    """The bank files worker (the S3 event of an uploaded retorno or statement): the database, and
    the devices bucket the files are uploaded to (``bank-files/<shop>/...``)."""

    stage: Literal["local", "prod", "test"]
    devices_bucket: str = Field(min_length=3)
    # It publishes no events yet (the settlements it will apply emit through the outbox).
    event_bus_name: str | None = None
    # The WhatsApp messages to send: a settled boleto's customer is told. Unset, they wait queued for the
    # relay's sweep of stale replies.
    whatsapp_send_queue_url: str | None = None


class RealtimeSettings(DatabaseSettings):
    """The staff's real-time channel (the WebSocket's $connect/$disconnect/$default function, the
    push function and the sweep): the database, and the management API's endpoint the connections
    are posted through (the stage's callback URL; locally the gateway stand-in's, set by devctl)."""

    stage: Literal["local", "prod", "test"]
    # Unset: nothing can be posted (the sweep needs none; the others fail loudly).
    realtime_management_url: str | None = Field(default=None, pattern=r"^https?://[^\s]+[^/]$")
    # Connections posted to at once by one function (the shop's staff: tens, not thousands).
    realtime_post_concurrency: int = Field(default=16, ge=1, le=64)


@lru_cache(maxsize=1)
def migrate_settings() -> MigrateSettings:
    return MigrateSettings()


@lru_cache(maxsize=1)
def authorizer_settings() -> AuthorizerSettings:
    return AuthorizerSettings()
