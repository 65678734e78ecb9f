"""What the billing use cases share: the platform's Asaas account, the calendar they run on (Brazil's),
and the reference that ties a shop to its Asaas records."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING
from uuid import UUID
from zoneinfo import ZoneInfo

from assistec.errors import AppError
from assistec.integrations.asaas import AsaasClient
from assistec.integrations.platform import (
    PlatformAccount,
    PlatformAccountMissingError,
    PlatformAccountRefusedError,
)
from assistec.observability import logger

if TYPE_CHECKING:
    from assistec.services.unit_of_work import UnitsOfWork

PLATFORM_TZ = ZoneInfo("America/Sao_Paulo")
DEFAULT_PLAN = "essencial"


def today_in_brazil() -> date:
    """The platform's calendar day (due dates, grace periods and notices count in it)."""
    return datetime.now(PLATFORM_TZ).date()


def calendar(today: Callable[[], date] | None) -> Callable[[], date]:
    """``today``, or Brazil's day looked up at call time (tests move the calendar by replacing
    ``today_in_brazil`` in this module)."""
    return today or (lambda: today_in_brazil())


def external_reference(tenant_id: UUID) -> str:
    """The shop's mark on its Asaas customer and subscription (found by it before one is created)."""
    return f"assistec-shop:{tenant_id}"


class BillingUnavailableError(AppError):
    status = 502
    code = "billing_provider_error"
    message = "O Asaas não respondeu. Nada foi alterado; tente novamente em instantes."


class PlatformAsaas:
    """The platform's Asaas account (it charges the shops): its settings read on each use, one
    client kept per API key (a rotated key gets a new client; the old one is closed).

    With ``refuse_sandbox`` (the prod stage) a sandbox account counts as not configured: nothing is
    provisioned or charged on it (``PlatformAccountRefusedError``) and its webhook token is refused,
    as a shop's sandbox key is refused when it connects its account."""

    def __init__(
        self,
        account: Callable[[], PlatformAccount],
        asaas: Callable[[str, str], AsaasClient],
        *,
        refuse_sandbox: bool = False,
    ) -> None:
        self._account = account
        self._asaas = asaas
        self._refuse_sandbox = refuse_sandbox
        self._client: tuple[str, AsaasClient] | None = None

    def _refused(self, account: PlatformAccount) -> bool:
        return self._refuse_sandbox and (account.environment != "production" or "_hmlg_" in account.api_key)

    def account(self) -> PlatformAccount:
        """The account as configured now (possibly without a key: then nothing is provisioned); a
        refused sandbox account answers as one with no key and no webhook token."""
        account = self._account()
        if self._refused(account):
            logger.error("the platform Asaas account is a sandbox account: refused in prod")
            return PlatformAccount(api_key="", webhook_token="", environment=account.environment)
        return account

    def client(self) -> AsaasClient:
        """A client on the account's key; ``PlatformAccountMissingError`` when none is configured,
        ``PlatformAccountRefusedError`` (a subclass) when prod is given a sandbox account."""
        account = self._account()
        if self._refused(account):
            logger.error("the platform Asaas account is a sandbox account: refused in prod")
            raise PlatformAccountRefusedError(
                "the platform Asaas account is a sandbox account; prod takes only a production one"
            )
        if not account.api_key:
            raise PlatformAccountMissingError("the platform Asaas account has no API key configured")
        if self._client is None or self._client[0] != account.api_key:
            if self._client is not None:
                self._client[1].close()
            self._client = (account.api_key, self._asaas(account.environment, account.api_key))
        return self._client[1]


class PlatformUseCases:
    """Base of the use cases that work with the platform's Asaas account on Brazil's calendar
    (``today`` replaces the calendar in tests)."""

    def __init__(
        self, work: UnitsOfWork, platform: PlatformAsaas, *, today: Callable[[], date] | None = None
    ) -> None:
        self._work = work
        self._platform = platform
        self._today = calendar(today)
