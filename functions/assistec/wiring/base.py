"""What every function family that touches the database shares: the connection, the unit of work,
and the outbox relay that publishes the units' events after commit; and what the two families that
take payments share: the Asaas pieces."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from assistec.db.connection import Database
    from assistec.integrations.asaas import AsaasClient
    from assistec.integrations.email import Mailer, SmtpConfig
    from assistec.integrations.events import EventBus
    from assistec.integrations.kms import Cipher
    from assistec.integrations.platform import PlatformAccount
    from assistec.services.billing.common import PlatformAsaas
    from assistec.services.email.service import Mail
    from assistec.services.outbox import OutboxRelay
    from assistec.services.payments.charges import PaymentsService
    from assistec.services.unit_of_work import UnitsOfWork
    from assistec.settings import DatabaseSettings, MailSettings


class DatabaseRoot:
    """Database, event bus, outbox relay and units of work for one environment."""

    def __init__(self, settings: DatabaseSettings, *, event_bus_name: str | None) -> None:
        self.db_settings = settings
        self._event_bus_name = event_bus_name

    @cached_property
    def database(self) -> Database:
        from assistec.db.connection import Database
        from assistec.integrations.secrets import secret_string

        return Database(self.db_settings, secret_string)

    @cached_property
    def event_bus(self) -> EventBus:
        from assistec.integrations.events import EventBridgeBus

        if not self._event_bus_name:
            raise RuntimeError("EVENT_BUS_NAME is not set: this function publishes no events")
        return EventBridgeBus(self._event_bus_name)

    @cached_property
    def outbox(self) -> OutboxRelay:
        from assistec.services.outbox import OutboxRelay

        return OutboxRelay(self.database, self.event_bus)

    @cached_property
    def work(self) -> UnitsOfWork:
        from assistec.services.unit_of_work import UnitsOfWork

        # Without a bus (a function that publishes nothing) events stay in the outbox for the relay.
        return UnitsOfWork(self.database, self.outbox if self._event_bus_name else None)

    def close(self) -> None:
        """Close the connection, if one was opened (tests, between environments)."""
        if "database" in self.__dict__:
            self.database.close()


class Mailing[S: MailSettings]:
    """The mail module, mixed into the roots of the families that send e-mail (before
    ``DatabaseRoot``): ``mailer`` is the platform's SES sender (tests put their fake there), ``mail``
    the module every service sends through."""

    settings: S
    work: UnitsOfWork

    @cached_property
    def mailer(self) -> Mailer:
        from assistec.integrations.email import SesMailer

        return SesMailer(self.settings.mail_sender, self.settings.mail_configuration_set)

    @cached_property
    def smtp_cipher(self) -> Cipher:
        from assistec.integrations.kms import SMTP_PASSWORD, KmsCipher

        if not self.settings.mail_key_id:
            raise RuntimeError("MAIL_KEY_ID is not set: this function cannot use a shop's SMTP server")
        return KmsCipher(self.settings.mail_key_id, SMTP_PASSWORD)

    def smtp_mailer(self, config: SmtpConfig) -> Mailer:
        from assistec.integrations.email import SmtpMailer

        return SmtpMailer(config, allow_private=self.settings.smtp_allow_private)

    @cached_property
    def mail(self) -> Mail:
        from assistec.services.email.service import Mail

        # Looked up per message, so a test may swap the transports after the module was built.
        return Mail(
            self.work,
            lambda: self.mailer,
            smtp_cipher=lambda: self.smtp_cipher,
            smtp=lambda config: self.smtp_mailer(config),
            support_address=self.settings.mail_support_address,
        )


class AsaasSettings(Protocol):
    """What the Asaas pieces read from a family's settings (``ApiSettings``, ``ConsumerSettings``)."""

    @property
    def payments_key_id(self) -> str: ...
    @property
    def asaas_base_url(self) -> str | None: ...
    @property
    def platform_asaas_secret_id(self) -> str | None: ...
    @property
    def stage(self) -> str: ...


class AsaasRoot(DatabaseRoot):
    """A database root that also takes payments through Asaas: the payments key, Asaas clients, the
    platform account and the payments service, alike in the API and the payment workers."""

    def __init__(self, settings: DatabaseSettings, *, event_bus_name: str, asaas: AsaasSettings) -> None:
        super().__init__(settings, event_bus_name=event_bus_name)
        self._asaas = asaas

    @cached_property
    def payments_cipher(self) -> Cipher:
        """KMS under the payments key (each shop's Asaas API key)."""
        from assistec.integrations.kms import ASAAS_API_KEY, KmsCipher

        return KmsCipher(self._asaas.payments_key_id, ASAAS_API_KEY)

    def asaas_client(self, environment: str, api_key: str) -> AsaasClient:
        """A client for one Asaas account (the shop's own, or the platform's)."""
        from assistec.integrations.asaas import AsaasClient

        return AsaasClient.for_account(environment, api_key, base_url=self._asaas.asaas_base_url)

    def platform_account(self) -> PlatformAccount:
        """The platform's Asaas account (the shops' subscriptions), read on each use."""
        from assistec.integrations.platform import platform_account

        return platform_account(self._asaas.platform_asaas_secret_id)

    @cached_property
    def payments(self) -> PaymentsService:
        from assistec.services.payments.charges import PaymentsService

        # The Asaas factory is looked up per call, so a test may point it at the simulator.
        return PaymentsService(self.work, self.payments_cipher, lambda env, key: self.asaas_client(env, key))

    @cached_property
    def platform_asaas(self) -> PlatformAsaas:
        """The platform's Asaas account (the shops' subscriptions); its factories looked up per call."""
        from assistec.services.billing.common import PlatformAsaas

        return PlatformAsaas(
            lambda: self.platform_account(),
            lambda env, key: self.asaas_client(env, key),
            refuse_sandbox=self._asaas.stage == "prod",
        )


class Installed[R: DatabaseRoot]:
    """The one root of an execution environment: built on first use; tests install their own."""

    def __init__(self, build: Callable[[], R]) -> None:
        self._build = build
        self._root: R | None = None

    def get(self) -> R:
        if self._root is None:
            self._root = self._build()
        return self._root

    def install(self, new: R | None) -> None:
        """Use ``new`` from now on; ``None`` forgets the current root (the next use rebuilds it)."""
        if self._root is not None and self._root is not new:
            self._root.close()
        self._root = new
