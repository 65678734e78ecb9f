"""The shop's documents as files: an order's intake receipt, quote and delivery receipt rendered to PDF,
kept in S3 and handed out as short-lived links, to staff and to the customer on the public links; and
what the shop prints on them (address, terms, logo)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from assistec.db import customers as customers_db
from assistec.db import devices as devices_db
from assistec.db import orders as orders_db
from assistec.db import quotes as quotes_db
from assistec.db import shop_settings as settings_db
from assistec.db import sql
from assistec.db import tenants as tenants_db
from assistec.db.rows import DocumentSettingsRow, OrderRow, QuoteRow
from assistec.domain import public_links
from assistec.domain import shop_documents as rules
from assistec.domain.permissions import Permission
from assistec.domain.shop_documents import DocumentKind
from assistec.domain.tokens import Identity
from assistec.errors import (
    ConflictError,
    NotFoundError,
    ServiceUnavailableError,
    ValidationFailedError,
    found,
)
from assistec.integrations.storage import DocumentStore
from assistec.observability import logger
from assistec.services.documents.assemble import Facts, document
from assistec.services.documents.model import Paper
from assistec.services.documents.render import readable_logo, render_pdf
from assistec.services.quotes import link_visitor, readable_order, readable_quote
from assistec.services.unit_of_work import UnitsOfWork

if TYPE_CHECKING:
    from assistec.services.email.service import Mail, Sent

_ORDER_NOT_FOUND = "Ordem de serviço não encontrada."
_SETTINGS_NOT_FOUND = "Configurações não encontradas."


class QuoteNotFoundError(NotFoundError):
    code = "quote_not_found"
    message = "Esta OS ainda não tem orçamento."


class OrderNotDeliveredError(ConflictError):
    code = "order_not_delivered"
    message = "O comprovante de entrega só existe depois que o aparelho é entregue ao cliente."


class CustomerWithoutEmailError(ValidationFailedError):
    code = "customer_without_email"
    message = "O cliente desta OS não tem e-mail cadastrado."


class LogoKeyError(ValidationFailedError):
    code = "logo_key_invalid"
    message = "Chave de logo inválida: use a chave recebida ao iniciar o envio (POST /settings/logo)."


class LogoMissingError(ValidationFailedError):
    code = "logo_missing"
    message = (
        "O arquivo do logo não foi encontrado. Envie o arquivo com o formulário recebido e tente de novo."
    )


class LogoInvalidError(ValidationFailedError):
    code = "logo_invalid"
    message = (
        "O arquivo enviado não é uma imagem PNG ou JPEG válida "
        f"(até {rules.LOGO_MAX_BYTES // 1024} KB e {rules.LOGO_MAX_SIDE} pixels de lado)."
    )


class StorageUnavailableError(ServiceUnavailableError):
    code = "storage_unavailable"
    message = "Não foi possível acessar os arquivos agora. Tente novamente em instantes."


@dataclass(frozen=True, slots=True)
class DocumentLink:
    """A rendered document: where to download it (until ``expires_at``) and the file's name."""

    url: str
    filename: str
    content_type: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class DocumentSettingsView:
    row: DocumentSettingsRow
    logo_url: str | None


class DocumentsService:
    """Staff get an order's documents with ``ORDERS_READ``; the customer gets the quote of a quote link
    and the intake or delivery receipt of a tracking link (404 and 410 as the link's page). Every
    document is read in one short transaction, rendered and stored after it (no transaction is held
    while the PDF is drawn or S3 answers), and audited ("document" on the order) once it is stored.

    The shop's printed texts change at the settings' version (409 when stale); its logo is uploaded
    straight to S3 under the shop's own prefix and accepted only once it exists and decodes."""

    def __init__(
        self,
        work: UnitsOfWork,
        store: DocumentStore,
        *,
        link_read_days: int = public_links.DEFAULT_READ_DAYS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        mail: Callable[[], Mail] | None = None,
    ) -> None:
        self._work = work
        self._mail = mail
        self._store = store
        self._read_days = link_read_days
        self._now = clock

    # --- the documents --------------------------------------------------------------------------
    def order_document(
        self, identity: Identity, order_id: UUID, kind: DocumentKind, paper: Paper, *, link_base: str = ""
    ) -> DocumentLink:
        """The order's ``kind`` on ``paper``: 404 for another shop's order, 404 ``quote_not_found`` for
        a quote of an order never quoted (the newest quote otherwise), 409 ``order_not_delivered`` for
        a delivery receipt before delivery. Nothing is stored when it is refused."""
        with self._work(identity, Permission.ORDERS_READ) as uow:
            order = found(orders_db.get(uow.conn, order_id), _ORDER_NOT_FOUND)
            facts = _facts(uow.conn, uow.tenant_id, order, kind)
        link, key = self._publish(facts, paper, link_base)
        with self._work(identity, Permission.ORDERS_READ) as uow:
            uow.audit("document", "order", order_id, changes={"kind": kind, "paper": paper, "key": key})
        return link

    def email_document(
        self, identity: Identity, order_id: UUID, kind: DocumentKind, paper: Paper, *, link_base: str = ""
    ) -> tuple[Sent, str]:
        """E-mail the order's ``kind`` to its customer, the PDF attached (the shop's mail module: its
        own server and texts, the message recorded); 422 ``customer_without_email`` when the customer
        has no address. The outcome (sent, or suppressed/failed with the reason) and the address."""
        assert self._mail is not None, "this environment sends no mail"
        with self._work(identity, Permission.ORDERS_WRITE) as uow:
            order = found(orders_db.get(uow.conn, order_id), _ORDER_NOT_FOUND)
            facts = _facts(uow.conn, uow.tenant_id, order, kind)
        if not facts.customer.email:
            raise CustomerWithoutEmailError()
        from assistec.integrations.email import Attachment

        pdf = render_pdf(
            document(facts, logo=self._logo(facts.settings.logo_key), link_base=link_base, now=self._now()),
            paper,
        )
        name = rules.filename(order.number, kind, paper)
        sent = self._mail().send(
            facts.tenant.id,
            template="order_document",
            to=facts.customer.email,
            context={
                "customer_name": facts.customer.name,
                "order_number": order.number,
                "document": rules.TITLES[kind],
                "device": f"{facts.device.brand} {facts.device.model}".strip() or None,
                "link": f"{link_base}/public/orders/{order.tracking_token}" if link_base else None,
            },
            attachments=(Attachment(name, rules.PDF, pdf),),
            order_id=order.id,
        )
        with self._work(identity, Permission.ORDERS_WRITE) as uow:
            uow.audit("email_document", "order", order_id, changes={"kind": kind, "status": sent.status})
        return sent, facts.customer.email

    def public_quote_document(self, token: str, paper: Paper, *, link_base: str = "") -> DocumentLink:
        """The quote of a quote link, while the link's page can be read (404 unknown, 410 expired)."""
        with self._work(link_visitor(token)) as uow:
            quote = readable_quote(uow.conn, token, read_days=self._read_days)
            order = found(orders_db.get(uow.conn, quote.order_id), _ORDER_NOT_FOUND)
            facts = _facts(uow.conn, uow.tenant_id, order, "quote", quote=quote)
        return self._public(token, facts, paper, link_base)

    def public_order_document(
        self, token: str, kind: DocumentKind, paper: Paper, *, link_base: str = ""
    ) -> DocumentLink:
        """The intake or delivery receipt of a tracking link, while its page can be read (404 unknown,
        410 expired); 409 ``order_not_delivered`` for a delivery receipt before delivery."""
        with self._work(link_visitor(token)) as uow:
            order = readable_order(uow.conn, token, read_days=self._read_days).order
            facts = _facts(uow.conn, uow.tenant_id, order, kind)
        return self._public(token, facts, paper, link_base)

    def _public(self, token: str, facts: Facts, paper: Paper, link_base: str) -> DocumentLink:
        link, key = self._publish(facts, paper, link_base)
        with self._work(link_visitor(token)) as uow:
            uow.audit(
                "document",
                "order",
                facts.order.id,
                changes={"kind": facts.kind, "paper": paper, "key": key, "via": "link"},
            )
        return link

    def _publish(self, facts: Facts, paper: Paper, link_base: str) -> tuple[DocumentLink, str]:
        """Render (outside any transaction), store under the content's hash, sign a link."""
        now = self._now()
        logo = self._logo(facts.settings.logo_key)
        pdf = render_pdf(document(facts, logo=logo, link_base=link_base, now=now), paper)
        key = rules.document_key(facts.tenant.id, facts.order.id, facts.kind, paper, pdf)
        name = rules.filename(facts.order.number, facts.kind, paper)
        try:
            self._store.put(key, pdf, content_type=rules.PDF, filename=name)
            url = self._store.download_url(
                key, expires_s=rules.LINK_EXPIRES_S, filename=name, content_type=rules.PDF
            )
        except Exception as exc:
            logger.exception("document could not be stored", extra={"order_id": str(facts.order.id)})
            raise StorageUnavailableError() from exc
        expires_at = now + timedelta(seconds=rules.LINK_EXPIRES_S)
        return DocumentLink(url=url, filename=name, content_type=rules.PDF, expires_at=expires_at), key

    def _logo(self, key: str | None) -> bytes | None:
        """The shop's logo, or None: a logo S3 cannot give now prints no logo rather than no document."""
        if key is None:
            return None
        try:
            data = self._store.get(key, max_bytes=rules.LOGO_MAX_BYTES)
        except Exception:
            logger.warning("the shop's logo could not be read; printing without it", exc_info=True)
            return None
        if data is None or len(data) > rules.LOGO_MAX_BYTES:
            return None
        return data

    # --- what the shop prints -------------------------------------------------------------------
    def settings(self, identity: Identity) -> DocumentSettingsView:
        """The shop's address, terms and logo (a short-lived link to it)."""
        with self._work(identity, Permission.SETTINGS_READ) as uow:
            row = found(settings_db.get_document_settings(uow.conn), _SETTINGS_NOT_FOUND)
        return self._view(row)

    def update_settings(
        self,
        identity: Identity,
        *,
        version: int,
        address: str | None,
        intake_terms: str | None,
        warranty_terms: str | None,
    ) -> DocumentSettingsView:
        """Replace the printed texts at ``version`` (409 with ``current_version`` when someone else
        changed the settings first); the audit keeps the fields that changed."""
        with self._work(identity, Permission.SETTINGS_WRITE) as uow:
            current, row = uow.update_versioned(
                lambda: settings_db.get_document_settings(uow.conn),
                lambda: settings_db.update_document_settings(
                    uow.conn,
                    expected_version=version,
                    address=address,
                    intake_terms=intake_terms,
                    warranty_terms=warranty_terms,
                ),
                version_of=lambda r: r.version,
                not_found=_SETTINGS_NOT_FOUND,
                stale="As configurações foram alteradas por outra pessoa. Recarregue e tente novamente.",
            )
            changed: dict[str, Any] = {
                field: {"from": getattr(current, field), "to": getattr(row, field)}
                for field in ("address", "intake_terms", "warranty_terms")
                if getattr(current, field) != getattr(row, field)
            }
            uow.audit("update", "settings", uow.tenant_id, changes=changed)
        return self._view(row)

    def logo_upload(self, identity: Identity, content_type: str) -> tuple[str, dict[str, Any]]:
        """A new key under the shop's logo prefix and the form the browser posts the file with (PNG or
        JPEG, at most LOGO_MAX_BYTES); the logo changes only when the upload is confirmed."""
        with self._work(identity, Permission.SETTINGS_WRITE) as uow:  # the session and role, checked
            key = rules.new_logo_key(uow.tenant_id, content_type)
        try:
            form = self._store.upload_form(
                key, content_type, max_bytes=rules.LOGO_MAX_BYTES, expires_s=rules.LOGO_UPLOAD_EXPIRES_S
            )
        except Exception as exc:
            logger.exception("logo upload form could not be signed")
            raise StorageUnavailableError() from exc
        return key, form

    def set_logo(self, identity: Identity, key: str) -> DocumentSettingsView:
        """Make the uploaded ``key`` the shop's logo: 422 ``logo_key_invalid`` for a key not of the
        shop's logo prefix, ``logo_missing`` when nothing was uploaded there, ``logo_invalid`` when
        the file is not a PNG or JPEG that decodes (within the size limits)."""
        with self._work(identity, Permission.SETTINGS_WRITE) as uow:
            tenant_id = uow.tenant_id
            found(settings_db.get_document_settings(uow.conn), _SETTINGS_NOT_FOUND)
        if not rules.is_own_logo_key(tenant_id, key):
            raise LogoKeyError(details=[{"field": "key", "message": "fora das chaves de logo desta loja"}])
        try:
            size = self._store.size(key)
            data = self._store.get(key, max_bytes=rules.LOGO_MAX_BYTES) if size is not None else None
        except Exception as exc:
            logger.exception("the uploaded logo could not be read")
            raise StorageUnavailableError() from exc
        if size is None or data is None:
            raise LogoMissingError(details=[{"field": "key", "message": "arquivo não encontrado"}])
        if size > rules.LOGO_MAX_BYTES or len(data) > rules.LOGO_MAX_BYTES or not readable_logo(data):
            raise LogoInvalidError(details=[{"field": "key", "message": "imagem inválida"}])
        return self._change_logo(identity, key)

    def remove_logo(self, identity: Identity) -> DocumentSettingsView:
        """The documents print no logo from now on."""
        return self._change_logo(identity, None)

    def _change_logo(self, identity: Identity, key: str | None) -> DocumentSettingsView:
        with self._work(identity, Permission.SETTINGS_WRITE) as uow:
            current = found(settings_db.get_document_settings(uow.conn, lock=True), _SETTINGS_NOT_FOUND)
            row = found(settings_db.set_logo_key(uow.conn, key), _SETTINGS_NOT_FOUND)
            if current.logo_key != key:
                changes = {"logo_key": {"from": current.logo_key, "to": key}}
                uow.audit("update", "settings", uow.tenant_id, changes=changes)
        return self._view(row)

    def _view(self, row: DocumentSettingsRow) -> DocumentSettingsView:
        url = None
        if row.logo_key:
            try:
                url = self._store.download_url(row.logo_key, expires_s=rules.LOGO_URL_EXPIRES_S)
            except Exception:
                logger.warning("the logo's link could not be signed", exc_info=True)
        return DocumentSettingsView(row=row, logo_url=url)


def _facts(
    conn: sql.Conn, tenant_id: UUID, order: OrderRow, kind: DocumentKind, *, quote: QuoteRow | None = None
) -> Facts:
    """Everything the document ``kind`` of ``order`` prints, from one transaction of the shop."""
    if kind == "quote" and quote is None:
        quotes = quotes_db.quotes_of(conn, order.id)  # newest first
        if not quotes:
            raise QuoteNotFoundError()
        quote = quotes[0]
    elif kind == "delivery":
        if order.delivered_at is None:
            raise OrderNotDeliveredError(details={"status": order.status})
        quote = next((q for q in quotes_db.quotes_of(conn, order.id) if q.status == "approved"), None)
    tenant = tenants_db.get_tenant(conn, tenant_id)
    settings = settings_db.get_document_settings(conn)
    customer = customers_db.get_customer(conn, order.customer_id)
    device = devices_db.get_device(conn, order.device_id)
    assert tenant is not None
    assert settings is not None
    assert customer is not None
    assert device is not None
    return Facts(
        kind=kind,
        tenant=tenant,
        settings=settings,
        order=order,
        customer=customer,
        device=device,
        quote=quote,
    )
