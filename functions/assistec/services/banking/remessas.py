"""The remessa files (issue 15 §3): an agreement's boletos waiting to be registered and its pending
instructions, written into the bank's layout (domain ``build_remessa``), stored in S3 and handed out
through short-lived links; and the instructions (write-off, due-date change) a person asks for a
boleto the bank already has.

Guarantees:
- one generation per agreement at a time: the agreement's row is locked first (``SELECT ... FOR
  UPDATE``), so concurrent generations wait and then find nothing left to send; the file's sequence
  is the agreement's counter, taken in the same transaction (no gap, no repeat);
- a boleto is registered in one remessa only: the waiting boletos are locked and marked with their
  remessa in the transaction that records the file, and the database's unique index
  ``remessa_items_registered_once`` backs it; it appears in another file only through an explicit
  instruction;
- the file is written to S3 (encrypted, under a key holding the remessa's id) before the transaction
  commits: when S3 fails, nothing is recorded, the sequence is not taken (an object left behind by a
  failed commit is never referenced and harmless);
- a boleto stays ``issued`` once sent: the bank's retorno (entry confirmed) is what says it is
  registered there;
- a boleto no remessa has sent is never instructed: a write-off cancels it (nothing goes to the bank);
  a due-date change is refused (cancel it and issue another).

The file's name follows the 8.3 convention the banks' transfer software expects (Bradesco's, taken
by the others): ``CB`` + day and month of generation + the sequence's last two digits, ``.REM``. The
object's key keeps the remessa's id, so two files of the same name never collide.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

from assistec.db import banking as banking_db
from assistec.db import remessas as remessas_db
from assistec.db import tenants as tenants_db
from assistec.db.banking import AgreementRow
from assistec.db.remessas import InstructionRow, RemessaItemRow, RemessaRow, TitleRow
from assistec.domain.banking import nosso_numero
from assistec.domain.banking.boleto import BoletoError
from assistec.domain.banking.cnab import Agreement, CnabError, Instruction, RemessaItem, build_remessa
from assistec.domain.banking.cnab.banks import CNAB240
from assistec.domain.banking.cnab.remessa import records240
from assistec.domain.permissions import Permission
from assistec.errors import (
    ConflictError,
    ServiceUnavailableError,
    ValidationFailedError,
    found,
)
from assistec.observability import logger
from assistec.services.banking.agreements import NO_AGREEMENT, BankAgreements, bank_rules

if TYPE_CHECKING:
    from assistec.domain.tokens import Identity
    from assistec.integrations.storage import DocumentStore
    from assistec.services.unit_of_work import UnitOfWork, UnitsOfWork

KEY_PREFIX = "remessas/"
CONTENT_TYPE = "application/octet-stream"
LINK_EXPIRES_S = 5 * 60
SHOP_TIME = ZoneInfo("America/Sao_Paulo")

NO_REMESSA = "Remessa não encontrada."
NO_BOLETO = "Boleto não encontrado."


class NothingToSendError(ConflictError):
    code = "remessa_nothing_to_send"
    message = (
        "Não há boletos nem instruções esperando remessa neste convênio: emita boletos ou peça uma "
        "instrução antes de gerar a remessa."
    )


class RemessaUnsupportedError(ValidationFailedError):
    code = "remessa_unsupported"
    message = "Este banco ou layout ainda não tem remessa no assistec."


class RemessaInvalidError(ValidationFailedError):
    code = "remessa_invalid"
    message = "Um valor não cabe no layout do banco; a remessa não foi gerada."


class PayerIncompleteError(ValidationFailedError):
    code = "remessa_payer_incomplete"
    message = (
        "O banco exige CPF/CNPJ e endereço completo (com CEP) do pagador para registrar o boleto. "
        "Complete o cadastro dos clientes indicados e gere a remessa de novo."
    )


class ShopDocumentMissingError(ValidationFailedError):
    code = "remessa_shop_document_missing"
    message = "A loja não tem CNPJ cadastrado: o banco o exige no arquivo de remessa."


class RemessaStorageUnavailableError(ServiceUnavailableError):
    code = "storage_unavailable"
    message = (
        "Não foi possível guardar ou acessar o arquivo agora. Nada foi gerado; tente de novo em instantes."
    )


class BoletoClosedError(ConflictError):
    code = "boleto_closed"
    message = "Este boleto não está mais em aberto (pago, baixado ou cancelado): não cabe instrução."


class BoletoNotSentError(ConflictError):
    code = "boleto_not_sent"
    message = (
        "Este boleto ainda não foi enviado ao banco: não há vencimento a alterar lá. Cancele-o e emita "
        "outro com o novo vencimento."
    )


class WriteOffRequestedError(ConflictError):
    code = "boleto_write_off_requested"
    message = "A baixa deste boleto já foi pedida ao banco."


InstructionKind = Literal["write_off", "change_due_date"]


@dataclass(frozen=True, slots=True)
class RemessaLink:
    """A remessa with its file's name and a download link valid ``expires_in`` seconds."""

    remessa: RemessaRow
    filename: str
    url: str
    expires_in: int


@dataclass(frozen=True, slots=True)
class InstructionOutcome:
    """What an instruction did: ``pending`` (waits for the next remessa, ``instruction`` its record)
    or ``cancelled`` (the boleto was never sent: cancelled here, nothing goes to the bank)."""

    boleto_id: UUID
    outcome: Literal["pending", "cancelled"]
    instruction: InstructionRow | None


def filename_of(key: str) -> str:
    return key.rsplit("/", 1)[-1]


def remessa_filename(generated_on: date, sequence: int) -> str:
    """``CBddmmNN.REM``: the day and month of generation and the sequence's last two digits."""
    return f"CB{generated_on:%d%m}{sequence % 100:02d}.REM"


def object_key(tenant_id: UUID, agreement_id: UUID, remessa_id: UUID, filename: str) -> str:
    return f"{KEY_PREFIX}{tenant_id}/{agreement_id}/{remessa_id}/{filename}"


# --- pure: the remessa's values from the rows ------------------------------------------------------------


def nosso_numero_width(bank_code: str, layout: str) -> int:
    """The width of the layout's nosso número column; ``RemessaUnsupportedError`` when the project
    writes no remessa in that bank's layout."""
    width = nosso_numero.remessa_width(bank_code, layout)
    if width is not None:
        return width
    raise RemessaUnsupportedError(
        f"O assistec ainda não gera remessa {layout.upper().replace('CNAB', 'CNAB ')} do banco "
        f"{bank_code}: registre os boletos deste convênio pelo site do banco.",
        details={"bank_code": bank_code, "layout": layout},
    )


def remessa_nosso_numero(agreement: AgreementRow, sequence: int, issued_on: date, width: int) -> str:
    """The boleto's nosso número as the remessa's column carries it (domain
    ``nosso_numero.written``: the bank's number with its check digit where the column has room for
    it, as the banks' golden remessas in tests/fixtures/cnab write it; the retorno is read back by
    ``nosso_numero.sequence_from_retorno``)."""
    try:
        return nosso_numero.written(
            bank_rules(agreement), agreement.layout, sequence, issued_on=issued_on, width=width
        )
    except BoletoError as error:
        raise RemessaUnsupportedError(
            f"Convênio sem os dados que o banco pede no nosso número: {error.message}",
            details={"code": error.code, **error.details},
        ) from None
    except nosso_numero.NossoNumeroTooLongError as error:
        raise RemessaInvalidError(
            f"O nosso número {error.value} não cabe nas {width} posições do layout.",
            details={"nosso_numero": sequence},
        ) from None


def _digits(value: str | None) -> str:
    return "".join(c for c in (value or "") if c.isdigit())


def _payer(title: TitleRow) -> dict[str, str] | None:
    """The payer's columns, or None when the bank would refuse them (no CPF/CNPJ, no full address)."""
    document = _digits(title.customer_document)
    address = title.customer_address if isinstance(title.customer_address, dict) else {}
    zip_code = _digits(address.get("zip_code"))
    street = str(address.get("street") or "").strip()
    city = str(address.get("city") or "").strip()
    state = str(address.get("state") or "").strip()
    if len(document) not in (11, 14) or len(zip_code) != 8 or not street or not city or len(state) != 2:
        return None
    line = ", ".join(p for p in (street, str(address.get("number") or "").strip()) if p)
    complement = str(address.get("complement") or "").strip()
    return {
        "payer_name": title.customer_name,
        "payer_document": document,
        "payer_address": f"{line} {complement}".strip(),
        "payer_district": str(address.get("district") or "").strip(),
        "payer_zip": zip_code,
        "payer_city": city,
        "payer_state": state,
    }


def _round_div(numerator: int, denominator: int) -> int:
    return (numerator + denominator // 2) // denominator


def remessa_item(title: TitleRow, nosso_numero: str, payer: dict[str, str]) -> RemessaItem:
    """A boleto's remessa line: interest per day from the monthly rate (30 days), the fine from its
    rate, both from the day after the due date; a due-date change carries the new date."""
    due = (
        title.new_due_date
        if title.instruction == "change_due_date" and title.new_due_date
        else title.due_date
    )
    interest = _round_div(title.amount_cents * title.interest_monthly_bp, 10_000 * 30)
    fine = _round_div(title.amount_cents * title.fine_bp, 10_000)
    return RemessaItem(
        nosso_numero=nosso_numero,
        document_number=str(title.nosso_numero),
        due_date=due,
        issue_date=title.issued_on,
        amount_cents=title.amount_cents,
        instruction=Instruction(title.instruction),
        interest_per_day_cents=interest,
        interest_from=due + timedelta(days=1) if interest else None,
        fine_cents=fine,
        fine_from=due + timedelta(days=1) if fine else None,
        discount_cents=title.discount_cents,
        discount_until=title.discount_until if title.discount_cents else None,
        **payer,  # type: ignore[arg-type]
    )


def cnab_agreement(agreement: AgreementRow, company_document: str, company_name: str) -> Agreement:
    return Agreement(
        bank_code=agreement.bank_code,
        company_document=company_document,
        company_name=company_name,
        branch=agreement.branch,
        branch_dv=agreement.branch_digit or "",
        account=agreement.account,
        account_dv=agreement.account_digit or "",
        agreement_code=agreement.agreement_code,
        wallet=agreement.wallet,
        wallet_variation=agreement.wallet_variation or "",
    )


def line_numbers(layout: str, bank_code: str, instructions: list[str]) -> list[int]:
    """The 1-based line of each title's first record: CNAB 400 one detail per title after the header;
    CNAB 240 after the file and lot headers, as many segments per title as the bank's remessa has."""
    if layout == "cnab400":
        return [n + 2 for n in range(len(instructions))]
    _, prof = records240(CNAB240[bank_code])
    per_title = len(prof.segments)
    return [3 + n * per_title for n in range(len(instructions))]


# --- the use cases ---------------------------------------------------------------------------------


class Remessas:
    """Generates and hands out the agreements' remessa files, and takes the boletos' instructions
    (``Permission.BANKING_MANAGE``: owners and admins)."""

    def __init__(
        self,
        work: UnitsOfWork,
        store: Callable[[], DocumentStore],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._work = work
        self._store = store
        self._clock = clock

    def generate(self, identity: Identity, agreement_id: UUID) -> RemessaLink:
        """The agreement's next remessa: its waiting boletos (registration) and pending instructions,
        in one file, stored, recorded (see the module's guarantees). 409 ``remessa_nothing_to_send``
        when nothing waits; 422 when the bank's layout cannot be written or a payer lacks what the bank
        requires; 503 when S3 fails (nothing recorded)."""
        now = self._clock().astimezone(SHOP_TIME)
        with self._work(identity, Permission.BANKING_MANAGE) as uow:
            agreement = found(banking_db.get_agreement(uow.conn, agreement_id, lock=True), NO_AGREEMENT)
            if not agreement.active:
                raise ConflictError(
                    "Este convênio está desativado: ative-o para emitir boletos ou gerar remessas."
                )
            width = nosso_numero_width(agreement.bank_code, agreement.layout)
            titles = remessas_db.waiting_boletos(uow.conn, agreement_id)
            pending = remessas_db.pending_instructions(uow.conn, agreement_id)
            closed = [t.instruction_id for t in pending if t.status not in ("issued", "registered")]
            pending = [t for t in pending if t.status in ("issued", "registered")]
            titles += pending
            if titles:
                row, filename = self._write(uow, identity, agreement, width, titles, pending, now)
            remessas_db.mark_instructions(uow.conn, [i for i in closed if i is not None], status="void")
        if not titles:  # (the instructions of closed boletos are voided: committed above)
            raise NothingToSendError()
        return RemessaLink(row, filename, self._link(row, filename), LINK_EXPIRES_S)

    def _write(
        self,
        uow: UnitOfWork,
        identity: Identity,
        agreement: AgreementRow,
        width: int,
        titles: list[TitleRow],
        pending: list[TitleRow],
        now: datetime,
    ) -> tuple[RemessaRow, str]:
        """Build, store and record the remessa of ``titles`` (in the caller's transaction, the
        agreement locked): its row and file name."""
        agreement_id = agreement.id
        shop = tenants_db.get_tenant(uow.conn, uow.tenant_id)
        company_document = _digits(shop.cnpj if shop else "")
        if len(company_document) not in (11, 14):
            raise ShopDocumentMissingError()
        payers = {t.boleto_id: _payer(t) for t in titles}
        incomplete = sorted({str(b) for b, p in payers.items() if p is None})
        if incomplete:
            raise PayerIncompleteError(details={"boleto_ids": incomplete})
        items = [
            remessa_item(
                t,
                remessa_nosso_numero(agreement, t.nosso_numero, t.issued_on, width),
                payers[t.boleto_id] or {},
            )
            for t in titles
        ]
        sequence = BankAgreements.allocate_remessa_sequence(uow, agreement_id)
        try:
            data = build_remessa(
                cnab_agreement(agreement, company_document, shop.name if shop else ""),
                items,
                sequence,
                now,
                layout=agreement.layout,
            )
        except CnabError as error:
            cls = RemessaUnsupportedError if error.code in ("unsupported_layout", "unknown_bank") else None
            raise (cls or RemessaInvalidError)(
                error.message,
                details={"code": error.code, **({"line": error.line} if error.line else {})},
            ) from None
        remessa_id = uuid.uuid4()
        filename = remessa_filename(now.date(), sequence)
        key = object_key(uow.tenant_id, agreement_id, remessa_id, filename)
        try:
            self._store().put(key, data, content_type=CONTENT_TYPE, filename=filename)
        except Exception as exc:
            logger.exception("remessa file could not be stored", extra={"agreement_id": str(agreement_id)})
            raise RemessaStorageUnavailableError() from exc
        registered = [t for t in titles if t.instruction == "register"]
        row = remessas_db.insert_remessa(
            uow.conn,
            tenant_id=uow.tenant_id,
            values={
                "id": remessa_id,
                "agreement_id": agreement_id,
                "sequence": sequence,
                "s3_key": key,
                "sha256": hashlib.sha256(data).digest(),
                "item_count": len(items),
                "total_cents": sum(t.amount_cents for t in registered),
                "created_by": identity.user_id,
            },
        )
        lines = line_numbers(agreement.layout, agreement.bank_code, [t.instruction for t in titles])
        remessas_db.insert_items(
            uow.conn,
            tenant_id=uow.tenant_id,
            remessa_id=remessa_id,
            rows=[(t.boleto_id, t.instruction, n) for t, n in zip(titles, lines, strict=True)],
        )
        marked = remessas_db.mark_registered(uow.conn, remessa_id, [t.boleto_id for t in registered])
        assert marked == len(registered), (marked, len(registered))  # they were locked waiting
        remessas_db.mark_instructions(
            uow.conn,
            [t.instruction_id for t in pending if t.instruction_id],
            status="sent",
            remessa_id=remessa_id,
        )
        uow.audit(
            "generate",
            "remessa",
            remessa_id,
            changes={
                "agreement_id": str(agreement_id),
                "sequence": sequence,
                "registered": len(registered),
                "instructions": len(pending),
                "total_cents": row.total_cents,
                "sha256": row.sha256.hex(),
            },
        )
        return row, filename

    def of_agreement(
        self, identity: Identity, agreement_id: UUID, *, limit: int, before_sequence: int | None = None
    ) -> list[RemessaRow]:
        """The agreement's remessas, newest first (``limit`` of them, after ``before_sequence``)."""
        with self._work(identity, Permission.BANKING_MANAGE) as uow:
            found(banking_db.get_agreement(uow.conn, agreement_id), NO_AGREEMENT)
            return remessas_db.list_remessas(
                uow.conn, agreement_id, limit=limit, before_sequence=before_sequence
            )

    def get(self, identity: Identity, remessa_id: UUID) -> tuple[RemessaLink, list[RemessaItemRow]]:
        """One remessa with its items and a fresh download link (audited)."""
        with self._work(identity, Permission.BANKING_MANAGE) as uow:
            row = found(remessas_db.get_remessa(uow.conn, remessa_id), NO_REMESSA)
            items = remessas_db.remessa_items(uow.conn, remessa_id)
        filename = filename_of(row.s3_key)
        url = self._link(row, filename)
        with self._work(identity) as uow:
            uow.audit("download", "remessa", row.id, changes={"key": row.s3_key})
        return RemessaLink(row, filename, url, LINK_EXPIRES_S), items

    def _link(self, row: RemessaRow, filename: str) -> str:
        try:
            return self._store().download_url(
                row.s3_key, expires_s=LINK_EXPIRES_S, filename=filename, content_type=CONTENT_TYPE
            )
        except Exception as exc:
            logger.exception("remessa link could not be signed", extra={"remessa_id": str(row.id)})
            raise RemessaStorageUnavailableError(
                "Não foi possível gerar o link do arquivo agora. Tente de novo em instantes."
            ) from exc

    # --- instructions ---------------------------------------------------------------------------------------

    def instruct(
        self, identity: Identity, boleto_id: UUID, instruction: InstructionKind, due_date: date | None = None
    ) -> InstructionOutcome:
        """Ask the bank to write a boleto off, or to move its due date, in the agreement's next remessa.
        A boleto never sent is cancelled instead of written off (nothing goes to the bank) and refuses
        a due-date change (409 ``boleto_not_sent``); a closed one refuses both (409 ``boleto_closed``).
        A write-off voids a pending due-date change; a second due-date change replaces the first while
        it waits."""
        today = self._clock().astimezone(SHOP_TIME).date()
        if instruction == "change_due_date":
            if due_date is None:
                raise ValidationFailedError(
                    "Informe o novo vencimento.", details=[{"field": "due_date", "message": "obrigatório"}]
                )
            if due_date < today:
                raise ValidationFailedError(
                    "O novo vencimento não pode ser uma data passada.",
                    details=[{"field": "due_date", "message": "antes de hoje"}],
                )
        elif due_date is not None:
            raise ValidationFailedError(
                "A baixa não leva vencimento.", details=[{"field": "due_date", "message": "só na alteração"}]
            )
        with self._work(identity, Permission.BANKING_MANAGE) as uow:
            boleto = found(remessas_db.get_boleto(uow.conn, boleto_id, lock=True), NO_BOLETO)
            if boleto.status not in ("issued", "registered"):
                raise BoletoClosedError(details={"status": boleto.status})
            if boleto.remessa_id is None:
                if instruction == "change_due_date":
                    raise BoletoNotSentError()
                cancelled = remessas_db.cancel_boleto(uow.conn, boleto_id)
                assert cancelled  # locked: issued and unsent
                uow.audit(
                    "cancel", "boleto", boleto_id, changes={"status": {"from": "issued", "to": "cancelled"}}
                )
                return InstructionOutcome(boleto_id, "cancelled", None)
            history = remessas_db.instructions_of(uow.conn, boleto_id)
            if any(i.instruction == "write_off" and i.status in ("pending", "sent") for i in history):
                raise WriteOffRequestedError()
            if instruction == "change_due_date" and due_date is not None and due_date < boleto.issued_on:
                raise ValidationFailedError(
                    "O novo vencimento não pode ser antes da emissão do boleto.",
                    details=[{"field": "due_date", "message": "antes da emissão"}],
                )
            if instruction == "write_off":
                remessas_db.void_pending(uow.conn, boleto_id, "change_due_date")
            row = remessas_db.upsert_pending(
                uow.conn,
                tenant_id=uow.tenant_id,
                agreement_id=boleto.agreement_id,
                boleto_id=boleto_id,
                instruction=instruction,
                due_date=due_date,
                requested_by=identity.user_id,
            )
            uow.audit(
                "instruct",
                "boleto",
                boleto_id,
                changes={
                    "instruction": instruction,
                    **({"due_date": due_date.isoformat()} if due_date else {}),
                    "instruction_id": str(row.id),
                },
            )
        return InstructionOutcome(boleto_id, "pending", row)
