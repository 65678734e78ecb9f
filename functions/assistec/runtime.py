"""Per-environment singletons: settings, the database and the services, built on first use.

Nothing is built at import time, so importing a handler stays cheap and tests can set the
environment before the first call.
"""

from __future__ import annotations

from functools import cache

from assistec.db.connection import Database
from assistec.integrations import platform
from assistec.integrations.asaas import AsaasClient
from assistec.integrations.events import EventBridgeBus, EventBus, OutboxRelay
from assistec.integrations.kms import Cipher, KmsCipher
from assistec.integrations.platform import PlatformAccount
from assistec.integrations.queue import EventQueue, SqsEventQueue
from assistec.integrations.signing_key import SigningKeyProvider
from assistec.integrations.storage import PhotoStorage, S3PhotoStorage
from assistec.services.audit import AuditService
from assistec.services.auth import AuthService
from assistec.services.billing import BillingService
from assistec.services.customers import CustomersService
from assistec.services.devices import DevicesService
from assistec.services.orders import OrdersService
from assistec.services.payment_flow import FlowStarter, StepFunctionsStarter
from assistec.services.payments import PaymentsService, WebhookInbox
from assistec.services.pricing import PricingService
from assistec.services.quotes import QuotesService
from assistec.services.reports import ReportsService
from assistec.services.shop_settings import ShopSettingsService
from assistec.services.stock import StockService
from assistec.services.users import UsersService
from assistec.settings import ApiSettings, api_settings, authorizer_settings


def settings() -> ApiSettings:
    return api_settings()


@cache
def database() -> Database:
    return Database(api_settings())


@cache
def signing_key() -> SigningKeyProvider:
    return SigningKeyProvider(api_settings())


@cache
def auth_service() -> AuthService:
    return AuthService(database(), signing_key(), relay=outbox_relay())


@cache
def users_service() -> UsersService:
    return UsersService(database())


@cache
def shop_settings_service() -> ShopSettingsService:
    return ShopSettingsService(database())


@cache
def audit_service() -> AuditService:
    return AuditService(database())


@cache
def customers_service() -> CustomersService:
    return CustomersService(database())


@cache
def cipher() -> Cipher:
    return KmsCipher(api_settings().unlock_code_key_id)


@cache
def photo_storage() -> PhotoStorage:
    return S3PhotoStorage(api_settings().devices_bucket)


@cache
def devices_service() -> DevicesService:
    return DevicesService(database(), cipher(), photo_storage())


@cache
def event_bus() -> EventBus:
    return EventBridgeBus(api_settings().event_bus_name)


@cache
def outbox_relay() -> OutboxRelay:
    return OutboxRelay(database(), event_bus())


@cache
def orders_service() -> OrdersService:
    return OrdersService(database(), outbox_relay())


@cache
def stock_service() -> StockService:
    return StockService(database())


@cache
def quotes_service() -> QuotesService:
    return QuotesService(database(), outbox_relay())


@cache
def pricing_service() -> PricingService:
    return PricingService(database())


@cache
def reports_service() -> ReportsService:
    return ReportsService(database())


@cache
def payments_cipher() -> Cipher:
    return KmsCipher(api_settings().payments_key_id)


def asaas_client(environment: str, api_key: str) -> AsaasClient:
    return AsaasClient.for_account(environment, api_key, base_url=api_settings().asaas_base_url)


@cache
def payments_queue() -> EventQueue:
    return SqsEventQueue(api_settings().payments_queue_url)


@cache
def payments_service() -> PaymentsService:
    # asaas_client is looked up at call time, so tests can point it at the simulator.
    return PaymentsService(
        database(), payments_cipher(), outbox_relay(), lambda env, key: asaas_client(env, key)
    )


@cache
def webhook_inbox() -> WebhookInbox:
    return WebhookInbox(database(), payments_queue(), outbox_relay(), payments_service)


def platform_account() -> PlatformAccount:
    """The platform's Asaas account (the shops' subscriptions)."""
    return platform.platform_account(api_settings().platform_asaas_secret_id)


@cache
def billing_service() -> BillingService:
    # Looked up at call time, so tests can point them at the simulator.
    return BillingService(
        database(),
        lambda: platform_account(),
        lambda env, key: asaas_client(env, key),
        relay=outbox_relay(),
        queue=payments_queue(),
    )


@cache
def flow_starter() -> FlowStarter:
    return StepFunctionsStarter(api_settings().payment_flow_arn)


# The cached factories, as defined here (tests may replace the module's names with fakes).
_FACTORIES = (
    database,
    signing_key,
    auth_service,
    users_service,
    shop_settings_service,
    audit_service,
    customers_service,
    cipher,
    photo_storage,
    devices_service,
    event_bus,
    outbox_relay,
    orders_service,
    stock_service,
    quotes_service,
    pricing_service,
    reports_service,
    payments_cipher,
    payments_queue,
    payments_service,
    webhook_inbox,
    billing_service,
    flow_starter,
)


def reset() -> None:
    """Forget the singletons (tests that change the environment between cases)."""
    if database.cache_info().currsize:
        database().close()
    for factory in _FACTORIES:
        factory.cache_clear()
    api_settings.cache_clear()
    authorizer_settings.cache_clear()
