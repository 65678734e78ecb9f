"""The API function's composition root: everything the REST routes use, built once per environment.

The handler passes it to ``api.app.serve``, which makes it the request's ``api.identity.services()``
for the routers. Providers' clients (Asaas, KMS, S3, Step Functions) and each service are
built on first use, so a cold start pays only for what its first request touches.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from assistec.wiring.base import AsaasRoot, Installed, Mailing

if TYPE_CHECKING:
    from uuid import UUID

    from assistec.domain.tokens import Identity
    from assistec.integrations.flows import FlowResumer, FlowStarter
    from assistec.integrations.kms import Cipher
    from assistec.integrations.queue import EventQueue, WhatsappQueue
    from assistec.integrations.signing_key import SigningKeyProvider
    from assistec.integrations.storage import DocumentStore, ExportStore, PhotoStorage
    from assistec.integrations.usage_keys import UsageKeys
    from assistec.services.audit import AuditService
    from assistec.services.auth import AuthService
    from assistec.services.banking.agreements import BankAgreements
    from assistec.services.banking.boletos import Boletos
    from assistec.services.banking.intake import BankFileIntake
    from assistec.services.banking.reconciliation import BankReconciliation
    from assistec.services.banking.remessas import Remessas
    from assistec.services.billing.platform_webhook import PlatformWebhook
    from assistec.services.billing.subscription import Subscription
    from assistec.services.customers import CustomersService
    from assistec.services.data_exports import DataExports
    from assistec.services.devices import DevicesService
    from assistec.services.documents.service import DocumentsService
    from assistec.services.email.admin import MailAdmin
    from assistec.services.health import HealthService
    from assistec.services.orders import OrdersService
    from assistec.services.payment_flow import PaymentFlowStarter
    from assistec.services.payments.inbox import WebhookInbox
    from assistec.services.pricing import PricingService
    from assistec.services.quote_flow import QuoteFlowStarter
    from assistec.services.quotes import QuotesService
    from assistec.services.realtime import RealtimeTickets
    from assistec.services.reports import ReportsService
    from assistec.services.scheduling.appointments import AppointmentsService
    from assistec.services.scheduling.availability import AvailabilityService
    from assistec.services.scheduling.google import GoogleAccess, GoogleConnections
    from assistec.services.scheduling.rules import SchedulingSettingsService
    from assistec.services.shop_settings import ShopSettingsService
    from assistec.services.signup import SignupService
    from assistec.services.stock import StockService
    from assistec.services.users import UsersService
    from assistec.services.whatsapp.conversations import Conversations
    from assistec.services.whatsapp.inbox import WhatsappInbox
    from assistec.services.whatsapp.instance import WhatsappInstances
    from assistec.services.whatsapp.server import ClientFactory
    from assistec.services.whatsapp.settings import WhatsappSettingsService
    from assistec.settings import ApiSettings


class ApiRoot(Mailing["ApiSettings"], AsaasRoot):
    """Settings, integrations and services of the REST API."""

    def __init__(self, settings: ApiSettings) -> None:
        super().__init__(settings, event_bus_name=settings.event_bus_name, asaas=settings)
        self.settings = settings

    # --- integrations ---------------------------------------------------------------------------
    @cached_property
    def signing_key(self) -> SigningKeyProvider:
        from assistec.integrations.signing_key import SigningKeyProvider

        return SigningKeyProvider(self.settings)

    @cached_property
    def cipher(self) -> Cipher:
        """KMS under the devices' key (unlock codes)."""
        from assistec.integrations.kms import UNLOCK_CODE, KmsCipher

        return KmsCipher(self.settings.unlock_code_key_id, UNLOCK_CODE)

    @cached_property
    def photo_storage(self) -> PhotoStorage:
        from assistec.integrations.storage import S3PhotoStorage

        return S3PhotoStorage(self.settings.devices_bucket)

    @cached_property
    def document_store(self) -> DocumentStore:
        """The shop's rendered documents and logo, in the devices bucket."""
        from assistec.integrations.storage import S3DocumentStore

        return S3DocumentStore(self.settings.devices_bucket)

    @cached_property
    def export_store(self) -> ExportStore:
        """The owners' data exports (the exports bucket): the API only signs their links."""
        from assistec.integrations.storage import S3ExportStore

        return S3ExportStore(self.settings.exports_bucket)

    @cached_property
    def payments_queue(self) -> EventQueue:
        from assistec.integrations.queue import SqsEventQueue

        return SqsEventQueue(self.settings.payments_queue_url)

    @cached_property
    def flow_starter(self) -> FlowStarter:
        from assistec.integrations.flows import StepFunctionsStarter

        return StepFunctionsStarter(self.settings.payment_flow_arn)

    # --- services -------------------------------------------------------------------------------
    @cached_property
    def health(self) -> HealthService:
        from assistec.integrations.queue import dead_letter_depths
        from assistec.services.health import HealthService

        urls = self.settings.health_dlq_urls
        return HealthService(
            self.database,
            version=self.settings.app_version,
            stage=self.settings.stage,
            dead_letter_counts=lambda: dead_letter_depths(urls),
        )

    @cached_property
    def auth(self) -> AuthService:
        from assistec.services.auth import AuthService

        return AuthService(self.work, self.signing_key, usage_keys=self.usage_keys)

    @cached_property
    def usage_keys(self) -> UsageKeys:
        """The shops' keys in API Gateway's usage plan (per-shop throttling); none configured: none."""
        from assistec.integrations.usage_keys import ApiGatewayUsageKeys, NoUsageKeys

        if self.settings.usage_plan_name is None:
            return NoUsageKeys()
        return ApiGatewayUsageKeys(self.settings.usage_plan_name)

    @cached_property
    def signup(self) -> SignupService:
        from assistec.services.signup import SignupService

        return SignupService(
            self.work, self.auth, lambda: self.mail, max_per_source=self.settings.signup_limit
        )

    @cached_property
    def users(self) -> UsersService:
        from assistec.services.users import UsersService

        return UsersService(self.work)

    @cached_property
    def shop_settings(self) -> ShopSettingsService:
        from assistec.services.shop_settings import ShopSettingsService

        return ShopSettingsService(self.work)

    @cached_property
    def audit(self) -> AuditService:
        from assistec.services.audit import AuditService

        return AuditService(self.work)

    @cached_property
    def customers(self) -> CustomersService:
        from assistec.services.customers import CustomersService

        return CustomersService(self.work)

    @cached_property
    def devices(self) -> DevicesService:
        from assistec.services.devices import DevicesService

        return DevicesService(self.work, self.cipher, self.photo_storage)

    @cached_property
    def documents(self) -> DocumentsService:
        from assistec.services.documents.service import DocumentsService

        return DocumentsService(
            self.work,
            self.document_store,
            link_read_days=self.settings.public_link_read_days,
            mail=lambda: self.mail,
        )

    @cached_property
    def data_exports(self) -> DataExports:
        from assistec.services.data_exports import DataExports

        # The store is looked up per link, so a test may swap it after the service was built.
        return DataExports(self.work, lambda: self.export_store)

    @cached_property
    def bank_agreements(self) -> BankAgreements:
        from assistec.services.banking.agreements import BankAgreements

        return BankAgreements(self.work)

    @cached_property
    def bank_files(self) -> BankFileIntake:
        from assistec.services.banking.intake import BankFileIntake
        from assistec.wiring.banking import bank_file_parser

        # The store is looked up per file, so a test may swap it after the service was built.
        return BankFileIntake(
            self.work,
            lambda: self.document_store,
            bank_file_parser(),
            after_parsed=self.bank_reconciliation.after_intake,
            whatsapp=lambda: self.whatsapp_queue,
        )

    @cached_property
    def bank_reconciliation(self) -> BankReconciliation:
        from assistec.services.banking.reconciliation import BankReconciliation

        # The store is looked up per report, so a test may swap it after the service was built.
        return BankReconciliation(self.work, lambda: self.document_store)

    @cached_property
    def boletos(self) -> Boletos:
        from assistec.services.banking.boletos import Boletos

        return Boletos(
            self.work,
            lambda: self.document_store,
            mail=lambda: self.mail,
            whatsapp=lambda: self.whatsapp_queue,
        )

    @cached_property
    def remessas(self) -> Remessas:
        from assistec.services.banking.remessas import Remessas

        # The store is looked up per file, so a test may swap it after the service was built.
        return Remessas(self.work, lambda: self.document_store)

    @cached_property
    def realtime_tickets(self) -> RealtimeTickets:
        from assistec.services.realtime import RealtimeTickets

        return RealtimeTickets(self.work)

    @cached_property
    def orders(self) -> OrdersService:
        from assistec.services.orders import OrdersService

        return OrdersService(self.work)

    @cached_property
    def stock(self) -> StockService:
        from assistec.services.stock import StockService

        return StockService(self.work)

    @cached_property
    def quotes(self) -> QuotesService:
        from assistec.services.quotes import QuotesService

        return QuotesService(
            self.work,
            link_read_days=self.settings.public_link_read_days,
            resume=lambda token, output: self.resumer.resume(token, output),
            auto_send=self._send_if_auto,
        )

    def _send_if_auto(self, identity: Identity, quote_id: UUID) -> None:
        self.quote_flow.start_if_auto(identity, quote_id)

    @cached_property
    def resumer(self) -> FlowResumer:
        """Hands a waiting quote flow the decision taken on the link or at the counter."""
        from assistec.integrations.flows import StepFunctionsResumer

        return StepFunctionsResumer()

    @cached_property
    def quote_flow(self) -> QuoteFlowStarter:
        from assistec.integrations.flows import StepFunctionsStarter
        from assistec.services.quote_flow import QuoteFlowStarter

        starter = StepFunctionsStarter(self.settings.quote_flow_arn)
        return QuoteFlowStarter(self.work, lambda: starter)

    @cached_property
    def pricing(self) -> PricingService:
        from assistec.services.pricing import PricingService

        return PricingService(self.work)

    @cached_property
    def reports(self) -> ReportsService:
        from assistec.services.reports import ReportsService

        return ReportsService(self.work)

    @cached_property
    def webhook_inbox(self) -> WebhookInbox:
        from assistec.services.payments.inbox import WebhookInbox

        return WebhookInbox(self.work, self.payments_queue, lambda: self.payments)

    @cached_property
    def subscription(self) -> Subscription:
        from assistec.services.billing.subscription import Subscription

        return Subscription(self.work, self.platform_asaas)

    @cached_property
    def platform_webhook(self) -> PlatformWebhook:
        """Stores and queues the platform account's deliveries (the API sends no e-mail)."""
        from assistec.services.billing.platform_webhook import PlatformWebhook
        from assistec.services.billing.standing import Notices

        return PlatformWebhook(self.work, self.platform_asaas, Notices(None), queue=self.payments_queue)

    @cached_property
    def payment_flow(self) -> PaymentFlowStarter:
        from assistec.services.payment_flow import PaymentFlowStarter

        return PaymentFlowStarter(self.work, lambda: self.flow_starter)

    # --- WhatsApp ------------------------------------------------------------------------------
    @cached_property
    def whatsapp_queue(self) -> WhatsappQueue:
        from assistec.integrations.queue import SqsWhatsappQueue

        return SqsWhatsappQueue(self.settings.whatsapp_queue_url, self.settings.whatsapp_send_queue_url)

    @cached_property
    def evolution(self) -> ClientFactory:
        """Clients for the deployment's Evolution server (the secret read through its cache)."""
        from assistec.services.whatsapp.server import client_factory, server_from_secret

        return client_factory(lambda: server_from_secret(self.settings.evolution_secret_id))

    @cached_property
    def evolution_token_cipher(self) -> Cipher:
        """KMS under the shop-secrets key, for the instances' tokens only."""
        from assistec.integrations.kms import EVOLUTION_TOKEN, KmsCipher

        return KmsCipher(self.settings.payments_key_id, EVOLUTION_TOKEN)

    @cached_property
    def whatsapp_instances(self) -> WhatsappInstances:
        from assistec.services.whatsapp.instance import WhatsappInstances

        return WhatsappInstances(self.work, self.evolution_token_cipher, lambda: self.evolution())

    @cached_property
    def whatsapp_inbox(self) -> WhatsappInbox:
        """Ingress only: stores and enqueues (the consumer answers)."""
        from assistec.services.whatsapp.inbox import WhatsappInbox

        return WhatsappInbox(self.work, lambda: self.whatsapp_queue)

    @cached_property
    def conversations(self) -> Conversations:
        from assistec.services.whatsapp.conversations import Conversations

        return Conversations(self.work, lambda: self.whatsapp_queue)

    @cached_property
    def whatsapp_settings(self) -> WhatsappSettingsService:
        from assistec.services.whatsapp.settings import WhatsappSettingsService

        return WhatsappSettingsService(self.work)

    # --- scheduling ----------------------------------------------------------------------------
    @cached_property
    def google_access(self) -> GoogleAccess:
        """Google for the shops: their tokens under the shop-secrets key (purpose google-token)."""
        from assistec.integrations.google_calendar import http_client
        from assistec.integrations.kms import GOOGLE_TOKEN, KmsCipher
        from assistec.services.scheduling.google import GoogleAccess, config_from_secret

        cipher = KmsCipher(self.settings.payments_key_id, GOOGLE_TOKEN)
        http = http_client()
        return GoogleAccess(
            self.work,
            lambda: cipher,
            lambda: config_from_secret(self.settings.google_secret_id),
            lambda: http,
            lambda: self.mail,
        )

    @cached_property
    def mail_admin(self) -> MailAdmin:
        from assistec.services.email.admin import MailAdmin

        return MailAdmin(
            self.work,
            lambda: self.mail,
            lambda: self.smtp_cipher,
            allow_private_smtp=self.settings.smtp_allow_private,
        )

    @cached_property
    def google_connections(self) -> GoogleConnections:
        from assistec.services.scheduling.google import GoogleConnections

        return GoogleConnections(
            self.google_access, self.signing_key, verifying_keys=self.signing_key.verifying
        )

    @cached_property
    def scheduling_settings(self) -> SchedulingSettingsService:
        from assistec.services.scheduling.rules import SchedulingSettingsService

        return SchedulingSettingsService(self.work)

    @cached_property
    def availability(self) -> AvailabilityService:
        from assistec.services.scheduling.availability import AvailabilityService

        return AvailabilityService(self.work, self.google_access)

    @cached_property
    def appointments(self) -> AppointmentsService:
        from assistec.services.orders import OrdersService
        from assistec.services.scheduling.appointments import AppointmentsService

        return AppointmentsService(self.work, open_order=OrdersService._intake_for)


def _from_environment() -> ApiRoot:
    from assistec.settings import ApiSettings

    return ApiRoot(ApiSettings())  # type: ignore[call-arg]  # values come from the environment


_root = Installed(_from_environment)
root = _root.get  # the environment's root
install = _root.install  # tests: use another root (None: rebuild on next use)
