"""The shop's own boletos: issued under its bank agreements for an order or as a free charge, printed
as PDF, sent to the customer, and the customer told when the bank says they were paid.

Guarantees:
- issuing is one unit of work: the agreement's next nosso número is taken with ``UPDATE ...
  RETURNING`` (its row lock serializes concurrent issues: no two boletos share a number, and a refused
  or rolled-back issue gives its number back), the barcode and linha digitável are computed by the
  domain (each bank's campo livre and check digits, the due-date factor with the 2025 rollover), the
  boleto is inserted ``issued``, audited, and ``BoletoIssued`` goes to the outbox. Anything refused
  (an unknown or inactive agreement, an order cancelled or with nothing open, a due date in the past
  of the shop's calendar, terms out of range, a number the bank's layout cannot hold) writes nothing;
- an order's boleto asks, unless told otherwise, for the order's open balance: its approved quote's
  total less what it has received and what its open boletos already ask for. The order's row is
  locked while it is computed, so two concurrent issues for one order never both take the balance;
- sending goes on WhatsApp when the shop's number is open and the customer can get it there (the
  message written in the unit of work, handed to the send queue after the commit), else by e-mail
  with the PDF attached; only an open boleto (issued or registered) is sent;
- the PDF is rendered outside any transaction, stored under the shop's documents prefix by its
  content, and handed out as a short-lived link (as the order documents are);
- ``tell_paid`` queues the "pagamento recebido" message in the settlement's own unit of work (the bank
  file intake's): a boleto is settled once, so its customer is told once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from assistec.db import boletos as boletos_db
from assistec.db import customers as customers_db
from assistec.db import orders as orders_db
from assistec.db import payments as pay_db
from assistec.db import shop_settings as settings_db
from assistec.db import tenants as tenants_db
from assistec.db import whatsapp as wa_db
from assistec.db.banking import AgreementRow, list_agreements
from assistec.db.boletos import OPEN_STATUSES, BoletoRow
from assistec.domain import documents as ids
from assistec.domain import shop_documents as doc_rules
from assistec.domain.banking import boleto_terms as terms_rules
from assistec.domain.banking.boleto import BoletoError, format_linha
from assistec.domain.banking.boleto_banks import (
    BANKS,
    BoletoRequest,
    issue_boleto,
    nosso_numero_and_campo_livre,
    printed_bank_code,
)
from assistec.domain.orders import Status as OrderStatus
from assistec.domain.permissions import Permission
from assistec.domain.quotes import brl
from assistec.errors import AppError, ConflictError, ValidationFailedError, found
from assistec.observability import logger
from assistec.services.banking.agreements import BankAgreements, bank_rules
from assistec.services.documents.boleto_pdf import BoletoDocument, BoletoParty, render_boleto_pdf
from assistec.services.documents.service import DocumentLink, StorageUnavailableError
from assistec.services.whatsapp import outgoing

if TYPE_CHECKING:
    from assistec.db.rows import CustomerRow, DocumentSettingsRow, OrderRow, TenantRow
    from assistec.db.sql import Conn
    from assistec.domain.tokens import Identity
    from assistec.integrations.queue import WhatsappQueue
    from assistec.integrations.storage import DocumentStore
    from assistec.services.email.service import Mail, Sent
    from assistec.services.unit_of_work import UnitOfWork, UnitsOfWork

NO_BOLETO = "Boleto não encontrado."
_NO_ORDER = "Ordem de serviço não encontrada."
_NO_CUSTOMER = "Cliente não encontrado."


class BoletoRefusedError(AppError):
    """The domain refused the boleto (``BoletoError``): 422 with the domain's stable code."""

    status = 422

    def __init__(self, error: BoletoError) -> None:
        super().__init__(
            error.message, details=[{"field": error.details.get("field", "body"), **error.details}]
        )
        self.code = error.code


class AgreementRequiredError(ValidationFailedError):
    code = "agreement_required"
    message = "A loja tem mais de um convênio ativo: informe em qual emitir o boleto (agreement_id)."


class NoActiveAgreementError(ConflictError):
    code = "no_active_agreement"
    message = "A loja não tem convênio bancário ativo. Cadastre um em Banco → Convênios."


class OrderCancelledError(ConflictError):
    code = "order_cancelled"
    message = "Esta OS está cancelada: não é possível emitir boleto para ela."


class NothingOpenError(ConflictError):
    code = "nothing_open"
    message = "Nada em aberto nesta OS: o orçamento aprovado já está pago ou coberto por boletos em aberto."


class AmountOverBalanceError(ValidationFailedError):
    code = "amount_over_balance"
    message = "O valor passa do saldo em aberto da OS ({balance})."


class AmountRequiredError(ValidationFailedError):
    code = "amount_required"
    message = "Esta OS não tem orçamento aprovado: informe o valor do boleto (amount_cents)."


class BoletoNotOpenError(ConflictError):
    code = "boleto_not_open"
    message = "Só um boleto em aberto (emitido ou registrado) pode ser enviado."


class CustomerUnreachableError(ValidationFailedError):
    code = "customer_unreachable"
    message = (
        "Não há como enviar ao cliente: a loja não tem WhatsApp conectado (ou o cliente pediu para não "
        "receber mensagens) e o cliente não tem e-mail cadastrado."
    )


@dataclass(frozen=True, slots=True)
class IssueRequest:
    """What an issue asks for; None: the default (the only active agreement, the order's balance, the
    agreement's interest, fine and discount)."""

    due_date: date
    agreement_id: UUID | None = None
    amount_cents: int | None = None
    interest_monthly_bp: int | None = None
    fine_bp: int | None = None
    discount_cents: int | None = None
    discount_until: date | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class BoletoView:
    """A boleto with what it prints: the nosso número as the bank shows it (with its check digit)."""

    row: BoletoRow
    nosso_numero_printed: str
    bank_code: str


@dataclass(frozen=True, slots=True)
class SendOutcome:
    channel: str  # "whatsapp" or "email"
    status: str  # "queued" (WhatsApp), or the e-mail's: "sent", "suppressed", "failed"
    to: str | None
    message_id: UUID | None
    reason: str | None = None


def _document_number(nosso_numero: int) -> str:
    """Seu número: the nosso número, as the remessa writes it (services/banking/remessas.py), so the
    Itaú carteiras that carry it in the barcode carry the number the bank registers (the order is
    named on the boleto's instructions: "Referente a: OS 42")."""
    return str(nosso_numero)


def printed_nosso_numero(agreement: AgreementRow, boleto: BoletoRow, order_number: int | None) -> str:
    """The nosso número as the bank prints it (with its check digit). Its agreement may have been
    edited since the boleto was issued into one the bank's rule refuses: the plain number then, so a
    read (or a settlement's message) never fails on it."""
    try:
        return _printed(agreement, boleto, order_number)
    except BoletoError:
        logger.warning(
            "nosso número not printable under its agreement now", extra={"boleto_id": str(boleto.id)}
        )
        return str(boleto.nosso_numero)


def _printed(agreement: AgreementRow, boleto: BoletoRow, order_number: int | None) -> str:
    nosso, _ = nosso_numero_and_campo_livre(
        bank_rules(agreement),
        BoletoRequest(
            sequence=boleto.nosso_numero,
            due_date=boleto.due_date,
            amount_cents=boleto.amount_cents,
            issue_date=boleto.issued_on,
            document_number=_document_number(boleto.nosso_numero),
        ),
    )
    return nosso.printed


def _order_number(conn: Conn, boleto: BoletoRow) -> int | None:
    if boleto.order_id is None:
        return None
    order = orders_db.get(conn, boleto.order_id)
    return order.number if order is not None else None


def _agreement_of(conn: Conn, boleto: BoletoRow) -> AgreementRow:
    from assistec.db.banking import get_agreement

    agreement = get_agreement(conn, boleto.agreement_id)
    assert agreement is not None  # a foreign key
    return agreement


def shop_number_open(uow: UnitOfWork) -> bool:
    """Whether the shop's WhatsApp number can send now (a retorno settling thousands of boletos of a
    shop without WhatsApp asks once, not once per boleto)."""
    instance = wa_db.get_instance(uow.conn)
    return instance is not None and instance.state == "open"


def tell_paid(uow: UnitOfWork, boleto_id: UUID, paid_cents: int) -> UUID | None:
    """Queue "Pagamento recebido" to the boleto's customer on WhatsApp, in the caller's unit of work
    (the settlement's); the message's id to hand to the send queue after the commit, or None when it
    cannot go (no number, no phone, opted out: logged)."""
    boleto = boletos_db.get(uow.conn, boleto_id)
    if boleto is None:
        return None
    number = _order_number(uow.conn, boleto)
    printed = printed_nosso_numero(_agreement_of(uow.conn, boleto), boleto, number)
    text = terms_rules.paid_text(paid_cents=paid_cents, reference=terms_rules.reference(number, printed))
    queued = outgoing.to_customer(uow, boleto.customer_id, text)
    if queued.message_id is None:
        logger.info("boleto paid: customer not told on WhatsApp", extra={"reason": queued.reason})
    return queued.message_id


def _address(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    street = ", ".join(str(value[k]) for k in ("street", "number", "complement") if value.get(k))
    city = " / ".join(str(value[k]) for k in ("city", "state") if value.get(k))
    parts = [p for p in (street, value.get("district"), city, value.get("zip_code")) if p]
    return " — ".join(str(p) for p in parts) or None


@dataclass(frozen=True, slots=True)
class _Printable:
    boleto: BoletoRow
    agreement: AgreementRow
    order_number: int | None
    tenant: TenantRow
    settings: DocumentSettingsRow
    customer: CustomerRow


class Boletos:
    """Issuing, reading, printing and sending the shop's boletos (see the module docstring). Reading
    and writing need ``BOLETOS_READ`` / ``BOLETOS_WRITE`` (owners, admins, attendants)."""

    def __init__(
        self,
        work: UnitsOfWork,
        store: Callable[[], DocumentStore],
        *,
        mail: Callable[[], Mail] | None = None,
        whatsapp: Callable[[], WhatsappQueue] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._work = work
        self._store = store
        self._mail = mail
        self._whatsapp = whatsapp
        self._now = clock

    # --- issuing ------------------------------------------------------------------------------------

    def issue_for_order(self, identity: Identity, order_id: UUID, request: IssueRequest) -> BoletoView:
        """A boleto for an order of the shop: 404 for another shop's order, 409 ``order_cancelled``,
        409 ``nothing_open`` when its balance is covered, 422 ``amount_required`` without an approved
        quote and without an amount, 422 ``amount_over_balance`` for more than the balance."""
        with self._work(identity, Permission.BOLETOS_WRITE) as uow:
            order = found(orders_db.get(uow.conn, order_id, lock=True), _NO_ORDER)
            if order.status == OrderStatus.CANCELLED:
                raise OrderCancelledError()
            total = pay_db.approved_total(uow.conn, order_id)
            if total is None:
                if request.amount_cents is None:
                    raise AmountRequiredError(details=[{"field": "amount_cents", "message": "obrigatório"}])
                amount = request.amount_cents
            else:
                balance = total - order.paid_cents - boletos_db.open_cents_of_order(uow.conn, order_id)
                if balance <= 0:
                    raise NothingOpenError(details={"approved_cents": total, "paid_cents": order.paid_cents})
                amount = balance if request.amount_cents is None else request.amount_cents
                if amount > balance:
                    raise AmountOverBalanceError(
                        AmountOverBalanceError.message.format(balance=brl(balance)),
                        details=[{"field": "amount_cents", "message": "acima do saldo", "balance": balance}],
                    )
            return self._issue(uow, request, amount=amount, customer_id=order.customer_id, order=order)

    def issue_free(self, identity: Identity, customer_id: UUID, request: IssueRequest) -> BoletoView:
        """A free charge (no order) to a customer of the shop: 404 for another shop's customer."""
        if request.amount_cents is None:
            raise AmountRequiredError(details=[{"field": "amount_cents", "message": "obrigatório"}])
        with self._work(identity, Permission.BOLETOS_WRITE) as uow:
            found(customers_db.get_customer(uow.conn, customer_id), _NO_CUSTOMER)
            return self._issue(uow, request, amount=request.amount_cents, customer_id=customer_id, order=None)

    def _issue(
        self,
        uow: UnitOfWork,
        request: IssueRequest,
        *,
        amount: int,
        customer_id: UUID,
        order: OrderRow | None,
    ) -> BoletoView:
        today = orders_db.local_today(uow.conn)
        agreement = self._agreement(uow, request.agreement_id)
        try:
            terms_rules.check_amount(amount)
            terms_rules.check_due_date(request.due_date, today)
            terms = terms_rules.issue_terms(
                terms_rules.AgreementDefaults(
                    interest_monthly_bp=agreement.interest_monthly_bp,
                    fine_bp=agreement.fine_bp,
                    discount_cents=agreement.discount_cents,
                    discount_days=agreement.discount_days,
                ),
                terms_rules.TermOverrides(
                    interest_monthly_bp=request.interest_monthly_bp,
                    fine_bp=request.fine_bp,
                    discount_cents=request.discount_cents,
                    discount_until=request.discount_until,
                ),
                amount_cents=amount,
                due_date=request.due_date,
                today=today,
            )
        except BoletoError as error:
            raise BoletoRefusedError(error) from None
        # The number is taken last, after every check: the refusals above leave the counter alone
        # (a refusal below rolls the whole unit back, the counter with it).
        sequence = BankAgreements.allocate_nosso_numero(uow, agreement.id)[0]
        try:
            issued = issue_boleto(
                bank_rules(agreement),
                BoletoRequest(
                    sequence=sequence,
                    due_date=request.due_date,
                    amount_cents=amount,
                    issue_date=today,
                    document_number=_document_number(sequence),
                ),
            )
        except BoletoError as error:
            raise BoletoRefusedError(error) from None
        row = boletos_db.insert(
            uow.conn,
            tenant_id=uow.tenant_id,
            fields={
                "agreement_id": agreement.id,
                "order_id": order.id if order is not None else None,
                "customer_id": customer_id,
                "nosso_numero": sequence,
                "amount_cents": amount,
                "issued_on": today,
                "due_date": request.due_date,
                "interest_monthly_bp": terms.interest_monthly_bp,
                "fine_bp": terms.fine_bp,
                "discount_cents": terms.discount_cents,
                "discount_until": terms.discount_until,
                "barcode": issued.barcode,
                "digitable_line": issued.linha_digitavel,
                "description": request.description or None,
            },
        )
        uow.audit(
            "issue",
            "boleto",
            row.id,
            changes={
                "agreement_id": str(agreement.id),
                "order_id": str(order.id) if order is not None else None,
                "customer_id": str(customer_id),
                "nosso_numero": sequence,
                "amount_cents": amount,
                "due_date": request.due_date.isoformat(),
                "interest_monthly_bp": terms.interest_monthly_bp,
                "fine_bp": terms.fine_bp,
                "discount_cents": terms.discount_cents,
                **({"description": request.description} if request.description else {}),
            },
        )
        uow.emit(
            "BoletoIssued",
            {
                "boleto_id": str(row.id),
                "agreement_id": str(agreement.id),
                "order_id": str(order.id) if order is not None else None,
                "customer_id": str(customer_id),
                "nosso_numero": sequence,
                "amount_cents": amount,
                "due_date": request.due_date.isoformat(),
            },
        )
        return BoletoView(row, issued.nosso_numero.printed, agreement.bank_code)

    @staticmethod
    def _agreement(uow: UnitOfWork, agreement_id: UUID | None) -> AgreementRow:
        """The agreement asked for (404 when not the shop's, 409 when inactive), or the shop's only
        active one (409 ``no_active_agreement`` without any, 422 ``agreement_required`` with several)."""
        from assistec.db.banking import get_agreement
        from assistec.services.banking.agreements import NO_AGREEMENT

        if agreement_id is not None:
            agreement = found(get_agreement(uow.conn, agreement_id), NO_AGREEMENT)
            if not agreement.active:
                raise ConflictError("Este convênio está desativado: ative-o para emitir boletos.")
            return agreement
        active = [a for a in list_agreements(uow.conn) if a.active]
        if not active:
            raise NoActiveAgreementError()
        if len(active) > 1:
            raise AgreementRequiredError(
                details=[{"field": "agreement_id", "message": "obrigatório com mais de um convênio ativo"}]
            )
        return active[0]

    # --- reading ------------------------------------------------------------------------------------

    def get(self, identity: Identity, boleto_id: UUID) -> BoletoView:
        """One boleto of the shop; 404 for any other id."""
        with self._work(identity, Permission.BOLETOS_READ) as uow:
            row = found(boletos_db.get(uow.conn, boleto_id), NO_BOLETO)
            return self._view(uow.conn, row, {})

    def search(
        self,
        identity: Identity,
        *,
        limit: int,
        before: tuple[datetime, UUID] | None = None,
        status: str | None = None,
        order_id: UUID | None = None,
        customer_id: UUID | None = None,
    ) -> list[BoletoView]:
        """The shop's boletos, newest first, filtered by status, order or customer."""
        with self._work(identity, Permission.BOLETOS_READ) as uow:
            rows = boletos_db.page(
                uow.conn,
                limit=limit,
                before=before,
                status=status,
                order_id=order_id,
                customer_id=customer_id,
            )
            cache: dict[UUID, AgreementRow] = {}
            return [self._view(uow.conn, row, cache) for row in rows]

    def of_order(self, identity: Identity, order_id: UUID) -> list[BoletoView]:
        """An order's boletos, oldest first; 404 for another shop's order."""
        with self._work(identity, Permission.BOLETOS_READ) as uow:
            found(orders_db.get(uow.conn, order_id), _NO_ORDER)
            cache: dict[UUID, AgreementRow] = {}
            return [self._view(uow.conn, row, cache) for row in boletos_db.of_order(uow.conn, order_id)]

    @staticmethod
    def _view(conn: Conn, row: BoletoRow, cache: dict[UUID, AgreementRow]) -> BoletoView:
        agreement = cache.get(row.agreement_id)
        if agreement is None:
            agreement = cache[row.agreement_id] = _agreement_of(conn, row)
        printed = printed_nosso_numero(agreement, row, _order_number(conn, row))
        return BoletoView(row, printed, agreement.bank_code)

    # --- the PDF -------------------------------------------------------------------------------------

    def pdf_link(self, identity: Identity, boleto_id: UUID) -> DocumentLink:
        """The boleto as a PDF (shop's name and logo, payer, linha digitável, ITF barcode): a download
        link valid ``LINK_EXPIRES_S``. Rendered and stored after the transaction; audited."""
        with self._work(identity, Permission.BOLETOS_READ) as uow:
            facts = self._printable(uow.conn, uow.tenant_id, boleto_id)
        pdf = self.render(facts)
        key = boleto_key(facts.tenant.id, boleto_id, pdf)
        name = boleto_filename(facts)
        try:
            self._store().put(key, pdf, content_type=doc_rules.PDF, filename=name)
            url = self._store().download_url(
                key, expires_s=doc_rules.LINK_EXPIRES_S, filename=name, content_type=doc_rules.PDF
            )
        except Exception as exc:
            logger.exception("boleto PDF could not be stored", extra={"boleto_id": str(boleto_id)})
            raise StorageUnavailableError() from exc
        with self._work(identity, Permission.BOLETOS_READ) as uow:
            uow.audit("document", "boleto", boleto_id, changes={"kind": "boleto", "key": key})
        expires_at = self._now() + timedelta(seconds=doc_rules.LINK_EXPIRES_S)
        return DocumentLink(url=url, filename=name, content_type=doc_rules.PDF, expires_at=expires_at)

    def _printable(self, conn: Conn, tenant_id: UUID, boleto_id: UUID) -> _Printable:
        boleto = found(boletos_db.get(conn, boleto_id), NO_BOLETO)
        tenant = tenants_db.get_tenant(conn, tenant_id)
        settings = settings_db.get_document_settings(conn)
        customer = customers_db.get_customer(conn, boleto.customer_id)
        assert tenant is not None
        assert settings is not None
        assert customer is not None
        return _Printable(
            boleto, _agreement_of(conn, boleto), _order_number(conn, boleto), tenant, settings, customer
        )

    def render(self, facts: _Printable) -> bytes:
        boleto, agreement = facts.boleto, facts.agreement
        assert boleto.barcode is not None
        branch = (
            f"{agreement.branch}-{agreement.branch_digit}" if agreement.branch_digit else agreement.branch
        )
        account = (
            f"{agreement.account}-{agreement.account_digit}" if agreement.account_digit else agreement.account
        )
        terms = terms_rules.IssueTerms(
            boleto.interest_monthly_bp, boleto.fine_bp, boleto.discount_cents, boleto.discount_until
        )
        reference = f"OS {facts.order_number}" if facts.order_number is not None else None
        document = BoletoDocument(
            bank_name=BANKS[agreement.bank_code].name,
            bank_code_printed=printed_bank_code(agreement.bank_code),
            barcode=boleto.barcode,
            due_date=boleto.due_date,
            amount_cents=boleto.amount_cents,
            beneficiary=BoletoParty(
                facts.tenant.name, ids.formatted(facts.tenant.cnpj), facts.settings.address or None
            ),
            agency_code=f"{branch} / {account}",
            nosso_numero=printed_nosso_numero(agreement, boleto, facts.order_number),
            document_number=_document_number(boleto.nosso_numero),
            document_date=boleto.issued_on,
            processing_date=boleto.issued_on,
            payer=BoletoParty(
                facts.customer.name,
                ids.formatted(facts.customer.document) if facts.customer.document else None,
                _address(facts.customer.address),
            ),
            wallet=agreement.wallet,
            instructions=terms_rules.instructions(terms, reference=reference, description=boleto.description),
            shop_logo=self._logo(facts.settings.logo_key),
        )
        return render_boleto_pdf(document)

    def _logo(self, key: str | None) -> bytes | None:
        """The shop's logo, or None (a logo S3 cannot give now prints no logo, not no boleto)."""
        if key is None:
            return None
        try:
            data = self._store().get(key, max_bytes=doc_rules.LOGO_MAX_BYTES)
        except Exception:
            logger.warning("the shop's logo could not be read; printing without it", exc_info=True)
            return None
        return data if data is not None and len(data) <= doc_rules.LOGO_MAX_BYTES else None

    # --- sending -------------------------------------------------------------------------------------

    def send(self, identity: Identity, boleto_id: UUID) -> SendOutcome:
        """Send an open boleto to its customer: on WhatsApp (the linha digitável to copy) when the
        shop's number is open and the customer can get it, else by e-mail with the PDF attached (the
        shop's mail module: its server and texts; the message recorded). 409 ``boleto_not_open`` for a
        settled, written-off or cancelled boleto; 422 ``customer_unreachable`` with neither channel."""
        queued = None
        with self._work(identity, Permission.BOLETOS_WRITE) as uow:
            facts = self._printable(uow.conn, uow.tenant_id, boleto_id)
            boleto = facts.boleto
            if boleto.status not in OPEN_STATUSES:
                raise BoletoNotOpenError(details={"status": boleto.status})
            assert boleto.digitable_line is not None
            printed = printed_nosso_numero(facts.agreement, boleto, facts.order_number)
            reference = terms_rules.reference(facts.order_number, printed)
            if self._whatsapp is not None:
                text = terms_rules.issued_text(
                    customer=facts.customer.name,
                    shop=facts.tenant.name,
                    reference=reference,
                    amount_cents=boleto.amount_cents,
                    due_date=boleto.due_date,
                    linha_digitavel=boleto.digitable_line,
                    description=boleto.description,
                )
                queued = outgoing.to_customer(uow, boleto.customer_id, text)
                if queued.message_id is not None:
                    uow.audit("send", "boleto", boleto_id, changes={"channel": "whatsapp"})
            if (queued is None or queued.message_id is None) and not facts.customer.email:
                raise CustomerUnreachableError(
                    details={"whatsapp": queued.reason if queued is not None else "no_number"}
                )
        if queued is not None and queued.message_id is not None:
            assert self._whatsapp is not None
            try:
                self._whatsapp().outbound(identity.tenant_id, queued.message_id)
            except Exception:  # it stays queued: the relay's sweep hands it to the queue again
                logger.exception("could not enqueue the boleto's WhatsApp message")
            return SendOutcome("whatsapp", "queued", None, queued.message_id)
        return self._email(identity, facts, reference)

    def _email(self, identity: Identity, facts: _Printable, reference: str) -> SendOutcome:
        from assistec.integrations.email import Attachment

        assert self._mail is not None, "this environment sends no mail"
        assert facts.customer.email is not None
        boleto = facts.boleto
        assert boleto.digitable_line is not None
        pdf = self.render(facts)
        sent: Sent = self._mail().send(
            facts.tenant.id,
            template="boleto",
            to=facts.customer.email,
            context={
                "customer_name": facts.customer.name,
                "reference": reference,
                "value_cents": boleto.amount_cents,
                "due_date": boleto.due_date,
                "boleto_line": format_linha(boleto.digitable_line),
                "description": boleto.description,
            },
            attachments=(Attachment(boleto_filename(facts), doc_rules.PDF, pdf),),
            order_id=boleto.order_id,
        )
        with self._work(identity, Permission.BOLETOS_WRITE) as uow:
            uow.audit("send", "boleto", boleto.id, changes={"channel": "email", "status": sent.status})
        return SendOutcome("email", sent.status, facts.customer.email, sent.record_id, sent.reason)


def boleto_key(tenant_id: UUID, boleto_id: UUID, pdf: bytes) -> str:
    """Where a boleto's PDF is kept: the shop's documents prefix, named by its content."""
    digest = hashlib.sha256(pdf).hexdigest()[:16]
    return f"documents/{tenant_id}/boletos/{boleto_id}-{digest}.pdf"


def boleto_filename(facts: _Printable) -> str:
    if facts.order_number is not None:
        return f"boleto-OS-{doc_rules.order_number(facts.order_number)}-{facts.boleto.nosso_numero}.pdf"
    return f"boleto-{facts.boleto.nosso_numero}.pdf"
