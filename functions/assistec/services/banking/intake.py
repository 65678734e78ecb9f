"""The shop's bank files in: retornos and statements, uploaded straight to S3 through a presigned form
(or sent inline through the API when small), recorded once per content, parsed through the wired
``Parser`` (services/banking/parsing.py).

Guarantees:
- a file is recorded once per (shop, SHA-256): the same content again — re-uploaded, re-sent inline,
  or an S3 event delivered twice — changes nothing and answers the first record;
- each retorno occurrence and statement line is recorded once per its idempotency key, across files
  (a retorno the bank sends again, a statement overlapping an earlier one);
- an occurrence's nosso número is read with the agreement's own rules (domain
  ``nosso_numero.sequence_from_retorno``: the bank's check digit, its convênio prefix...), the same
  that wrote it into the remessa; one that matches none of the agreement's boletos (or whose check
  digit is wrong) goes to the list a person works through (status ``unmatched``);
- a settlement recorded now for an open boleto settles it and adds to its order's received amount
  (as an Asaas payment does: recomputed from charges and settled boletos, audited, one
  ``BoletoSettled`` event), in the file's unit of work, once: a repeat under another code or in
  another file, even concurrent, finds the boleto settled and is left ``pending`` for a person;
- the other occurrences take effect in the same unit of work, once, audited, each with its event:
  entry confirmed registers an issued boleto (``BoletoRegistered``); written off closes an open one
  (``BoletoWrittenOff``; its pending instructions void); a due-date change the bank states moves an
  open boleto's due date with its barcode and linha digitável recomputed (``BoletoDueDateChanged``; a
  pending change to that date is void). A rejection changes nothing: the line stays ``pending`` with
  the bank's reason codes for a person; so does any occurrence for a boleto already closed
  (settled, written off, cancelled) — nothing is reopened or overwritten;
- the settled boleto's customer is told ("Pagamento recebido", services/banking/boletos.tell_paid):
  the WhatsApp message is written in that same unit of work, so it exists once iff the settlement
  does, and is handed to the send queue after the commit (where no queue is wired, or the hand-off
  fails, the relay's sweep of queued replies sends it);
- content no parser is wired for is stored with status ``pending_parser`` (nothing guessed); a refusal
  (``ParseRefused``) or a parser's error is stored with its code and a pt-BR reason;
- the object's key says whose it is (``bank-files/<shop>/<kind>/<user>/<upload>/<name>``): the API
  signs keys of the caller's shop only, and the form's policy pins the key, so the S3 event's key is
  trusted for the shop. No transaction is open while S3 is read or written.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from assistec.db import banking as banking_db
from assistec.db import payments as pay_db
from assistec.db.banking import AgreementRow, BankFileLineRow, BankFileRow
from assistec.domain.banking import boleto_banks
from assistec.domain.banking.boleto import BoletoError
from assistec.domain.banking.nosso_numero import sequence_from_retorno
from assistec.domain.permissions import Permission
from assistec.errors import PayloadTooLargeError, ValidationFailedError, found
from assistec.observability import logger
from assistec.services.audit import SystemActor
from assistec.services.banking.agreements import bank_rules
from assistec.services.banking.limits import INLINE_MAX_BYTES
from assistec.services.banking.parsing import (
    NO_PARSER,
    FileKind,
    Occurrence,
    ParsedFile,
    Parser,
    ParseRefused,
)

if TYPE_CHECKING:
    from assistec.domain.tokens import Identity
    from assistec.integrations.queue import WhatsappQueue
    from assistec.integrations.storage import DocumentStore
    from assistec.services.audit import Actor
    from assistec.services.unit_of_work import UnitOfWork, UnitsOfWork

KEY_PREFIX = "bank-files/"
CONTENT_TYPE = "application/octet-stream"
# A bank's retorno of a busy day is a few MB (CNAB 400: 400 bytes a line); statements are smaller.
UPLOAD_MAX_BYTES = 20 * 1024 * 1024
UPLOAD_EXPIRES_S = 15 * 60
LIST_LIMIT = 100

_NO_FILE = "Arquivo bancário não encontrado."
_EMPTY = "O arquivo está vazio."
_PARSER_ERROR = (
    "Não foi possível ler este arquivo por um erro nosso; ele ficou guardado e será lido de novo. "
    "Se o erro continuar, fale com o suporte do assistec."
)
_UNKNOWN_AGREEMENT = (
    "unknown_agreement",
    "Este retorno é do {agreement} do banco {bank}, que não está cadastrado na loja.",
)
_AMBIGUOUS_AGREEMENT = (
    "ambiguous_agreement",
    "Há mais de um convênio do banco {bank} na loja com o {agreement}: não se sabe de qual é este retorno.",
)
_KEY = re.compile(
    rf"^{KEY_PREFIX}(?P<tenant>[0-9a-f-]{{36}})/(?P<kind>retorno|statement)/(?P<user>[0-9a-f-]{{36}})/"
    r"(?P<upload>[0-9a-f-]{36})/(?P<name>[A-Za-z0-9._-]{1,100})$"
)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(name: str | None) -> str:
    """The file's name as it goes into the key: letters, digits, ``._-``; at most 100 characters."""
    cleaned = _UNSAFE.sub("_", (name or "").strip()).strip("._") or "arquivo"
    return cleaned[-100:]


def object_key(tenant_id: UUID, kind: FileKind, user_id: UUID, upload_id: UUID, filename: str) -> str:
    return f"{KEY_PREFIX}{tenant_id}/{kind}/{user_id}/{upload_id}/{safe_filename(filename)}"


@dataclass(frozen=True, slots=True)
class ObjectRef:
    """Whose a bank file's object is, read from its key."""

    tenant_id: UUID
    kind: FileKind
    user_id: UUID
    upload_id: UUID
    filename: str


def parse_key(key: str) -> ObjectRef | None:
    """The object's shop, kind, uploader, upload id and name; None for a key we never sign."""
    match = _KEY.match(key)
    if match is None:
        return None
    try:
        return ObjectRef(
            tenant_id=UUID(match["tenant"]),
            kind="retorno" if match["kind"] == "retorno" else "statement",
            user_id=UUID(match["user"]),
            upload_id=UUID(match["upload"]),
            filename=match["name"],
        )
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class UploadForm:
    upload_id: UUID
    key: str
    url: str
    fields: dict[str, str]
    max_bytes: int
    expires_in: int


@dataclass(frozen=True, slots=True)
class Intake:
    """A file's record, and whether this content had been recorded before (nothing changed now)."""

    file: BankFileRow
    duplicate: bool


ProcessOutcome = Literal["recorded", "duplicate", "missing", "ignored"]


@dataclass(frozen=True, slots=True)
class Reprocessed:
    """What a pass over the pending files did: how many it parsed, refused or failed, how many the
    parser still had nothing for, and how many had lost their S3 object."""

    parsed: int = 0
    refused: int = 0
    failed: int = 0
    pending_parser: int = 0
    missing: int = 0


AfterParsed = Callable[["Identity | Actor", date, date], object]


def parsed_dates(parsed: ParsedFile) -> tuple[date, date] | None:
    """The days a parsed file's money moved: its statement lines' postings, its settlements' credit
    dates (the period the reconciliation's matcher then runs over); None when it has none."""
    days = [line.posted_on for line in parsed.statement_lines]
    days += [
        day
        for o in parsed.occurrences
        if o.kind == "settled" and (day := o.credited_on or o.occurred_on) is not None
    ]
    return (min(days), max(days)) if days else None


def _digits_key(value: str | None) -> str:
    return "".join(c for c in (value or "") if c.isalnum()).lstrip("0")


def _agreements_of(candidates: list[AgreementRow], parsed: ParsedFile) -> list[AgreementRow]:
    """The shop's agreements (of the file's bank) the retorno is of: by its convênio when it states
    one, else by its branch and account; zero padding does not count. A file that states neither is
    of none (refused: nothing is guessed)."""
    if parsed.agreement_code:
        wanted = _digits_key(parsed.agreement_code)
        return [a for a in candidates if _digits_key(a.agreement_code) == wanted]
    if parsed.account:
        return [
            a
            for a in candidates
            if _digits_key(a.account) == _digits_key(parsed.account)
            and (not parsed.branch or _digits_key(a.branch) == _digits_key(parsed.branch))
        ]
    return []


def occurrence_sequence(agreement: AgreementRow, occurrence: Occurrence) -> int | None:
    """The boleto sequence an occurrence names: the parser's when it knows it, else the bank's column
    read with the agreement's rules (None: no boleto of this agreement has that number)."""
    if occurrence.nosso_numero is not None:
        return occurrence.nosso_numero
    if not occurrence.nosso_numero_text:
        return None
    return sequence_from_retorno(bank_rules(agreement), agreement.layout, occurrence.nosso_numero_text)


class BankFileIntake:
    """Receives the shop's retorno and statement files (see the module docstring)."""

    def __init__(
        self,
        work: UnitsOfWork,
        store: Callable[[], DocumentStore],
        parser: Parser = NO_PARSER,
        *,
        after_parsed: AfterParsed | None = None,
        whatsapp: Callable[[], WhatsappQueue] | None = None,
    ) -> None:
        self._work = work
        self._store = store
        self._parser = parser
        # Called after a parsed file's transaction commits, with its dates (the reconciliation's
        # matcher, wired in); it must not raise (the file is recorded either way).
        self._after_parsed = after_parsed
        self._whatsapp = whatsapp

    def _tell(self, tenant_id: UUID, messages: list[UUID]) -> None:
        """Hand the settled boletos' messages to the send queue (after the commit). Never fails the
        file: a message not handed over stays queued, and the relay's sweep sends it."""
        if not messages or self._whatsapp is None:
            return
        try:
            queue = self._whatsapp()
            for message_id in messages:
                queue.outbound(tenant_id, message_id)
        except Exception:
            logger.exception("could not enqueue the payment messages (they stay queued)")

    def _parsed(self, actor: Identity | Actor, row: BankFileRow, parsed: ParsedFile | None) -> None:
        period = parsed_dates(parsed) if parsed is not None and row.status == "parsed" else None
        if period is not None and self._after_parsed is not None:
            self._after_parsed(actor, *period)

    # --- the API ----------------------------------------------------------------------------------------

    def upload_form(self, identity: Identity, kind: FileKind, filename: str | None) -> UploadForm:
        """A presigned POST form for one file (``UPLOAD_MAX_BYTES`` at most, valid ``UPLOAD_EXPIRES_S``):
        the S3 event then has it processed (``process_object``); it appears in the list once read."""
        with self._work(identity, Permission.BANKING_MANAGE):
            pass  # the permission, and the shop (a suspended shop is refused in the API's gate)
        upload_id = uuid.uuid4()
        assert identity.user_id is not None
        key = object_key(identity.tenant_id, kind, identity.user_id, upload_id, filename or kind)
        form = self._store().upload_form(
            key, CONTENT_TYPE, max_bytes=UPLOAD_MAX_BYTES, expires_s=UPLOAD_EXPIRES_S
        )
        return UploadForm(
            upload_id=upload_id,
            key=key,
            url=str(form["url"]),
            fields={str(k): str(v) for k, v in form["fields"].items()},
            max_bytes=UPLOAD_MAX_BYTES,
            expires_in=UPLOAD_EXPIRES_S,
        )

    def receive_inline(self, identity: Identity, kind: FileKind, data: bytes, filename: str | None) -> Intake:
        """A small file sent in the request (``INLINE_MAX_BYTES``): stored in S3 like an upload, then
        recorded and parsed at once. The same content again answers the first record, unchanged."""
        if not data:
            raise ValidationFailedError(_EMPTY, details=[{"field": "content", "message": "vazio"}])
        if len(data) > INLINE_MAX_BYTES:
            raise PayloadTooLargeError(details={"max_bytes": INLINE_MAX_BYTES})
        digest = hashlib.sha256(data).digest()
        with self._work(identity, Permission.BANKING_MANAGE) as uow:
            known = banking_db.file_by_sha256(uow.conn, digest)
        if known is not None:
            return Intake(known, duplicate=True)
        upload_id = uuid.uuid4()
        assert identity.user_id is not None
        key = object_key(identity.tenant_id, kind, identity.user_id, upload_id, filename or kind)
        self._store().put(key, data, content_type=CONTENT_TYPE, filename=safe_filename(filename or kind))
        return self._record(
            identity,
            file_id=upload_id,
            kind=kind,
            source="inline",
            key=key,
            filename=filename,
            data=data,
            digest=digest,
            uploaded_by=identity.user_id,
        )

    def recent(self, identity: Identity, kind: FileKind | None = None) -> list[BankFileRow]:
        """The shop's latest files (``LIST_LIMIT``), newest first."""
        with self._work(identity, Permission.BANKING_MANAGE) as uow:
            return banking_db.list_files(uow.conn, limit=LIST_LIMIT, kind=kind)

    def get(self, identity: Identity, file_id: UUID) -> tuple[BankFileRow, list[BankFileLineRow]]:
        """One file of the shop with its retorno occurrences; 404 for any other id."""
        with self._work(identity, Permission.BANKING_MANAGE) as uow:
            row = found(banking_db.get_file(uow.conn, file_id), _NO_FILE)
            return row, banking_db.file_lines(uow.conn, file_id)

    def unmatched(self, identity: Identity) -> list[BankFileLineRow]:
        """The retorno occurrences no boleto of the shop matched (``LIST_LIMIT``, oldest first): the
        list a person works through."""
        with self._work(identity, Permission.BANKING_MANAGE) as uow:
            return banking_db.unmatched_lines(uow.conn, limit=LIST_LIMIT)

    # --- the S3 event -----------------------------------------------------------------------------------

    def process_object(self, key: str) -> ProcessOutcome:
        """Record the uploaded object under ``key`` (the S3 event's): ``ignored`` for a key the API
        never signs (logged), ``missing`` when the object is gone, ``duplicate`` when its content is
        recorded already, else ``recorded``. Safe to run twice for one object."""
        ref = parse_key(key)
        if ref is None:
            logger.warning("bank file key not ours: ignored", extra={"key": key[:200]})
            return "ignored"
        logger.append_keys(tenant_id=str(ref.tenant_id), upload_id=str(ref.upload_id))
        data = self._store().get(key, max_bytes=UPLOAD_MAX_BYTES)
        if data is None:
            logger.warning("bank file object missing")
            return "missing"
        if len(data) > UPLOAD_MAX_BYTES:  # the form's policy forbids it; a refusal, never a partial read
            logger.error("bank file object over the upload limit", extra={"bytes": len(data)})
            return "ignored"
        intake = self._record(
            SystemActor(ref.tenant_id),
            file_id=ref.upload_id,
            kind=ref.kind,
            source="upload",
            key=key,
            filename=ref.filename,
            data=data,
            digest=hashlib.sha256(data).digest(),
            uploaded_by=ref.user_id,
        )
        return "duplicate" if intake.duplicate else "recorded"

    # --- files stored before a parser could read them ---------------------------------------------------

    def reprocess_pending(self, actor: Identity | Actor, *, limit: int = LIST_LIMIT) -> Reprocessed:
        """Read again the shop's ``pending_parser`` files (oldest first, ``limit`` at most) with the
        wired parser, and record what it makes of them as a new upload would: parsed with their lines
        (once per key: lines already recorded from another file count as duplicates), or refused /
        failed with the reason. A file the parser still has nothing for stays pending; an object gone
        from S3 is left pending and counted ``missing``. Safe to run twice or concurrently: each file
        is re-checked under a row lock, and one already read is skipped. No transaction is open while
        S3 is read or the file parsed."""
        with self._work(actor) as uow:
            pending = banking_db.pending_files(uow.conn, limit=limit)
        done: dict[str, int] = {"parsed": 0, "refused": 0, "failed": 0, "pending_parser": 0, "missing": 0}
        for candidate in pending:
            data = self._store().get(candidate.s3_key, max_bytes=UPLOAD_MAX_BYTES)
            if data is None:
                logger.warning("pending bank file object missing", extra={"file_id": str(candidate.id)})
                done["missing"] += 1
                continue
            kind: FileKind = "retorno" if candidate.kind == "retorno" else "statement"
            parsed, outcome = self._parse(kind, data)
            if outcome["status"] == "pending_parser":
                done["pending_parser"] += 1
                continue
            told: list[UUID] = []
            with self._work(actor) as uow:
                row = banking_db.lock_pending_file(uow.conn, candidate.id)
                if row is None:  # read by a concurrent pass meanwhile
                    continue
                row = banking_db.finish_file(uow.conn, row.id, values=outcome)
                if parsed is not None:
                    row = self._lines(uow, row, kind, parsed, told)
                uow.audit(
                    "parse",
                    "bank_file",
                    row.id,
                    changes={
                        "status": row.status,
                        **({"error_code": row.error_code} if row.error_code else {}),
                        **(
                            {"defects": list(parsed.defects)} if parsed is not None and parsed.defects else {}
                        ),
                    },
                )
            self._tell(actor.tenant_id, told)
            self._parsed(actor, row, parsed)
            done[row.status] = done.get(row.status, 0) + 1
        return Reprocessed(**done)

    # --- both ---------------------------------------------------------------------------------------------

    def _parse(self, kind: FileKind, data: bytes) -> tuple[ParsedFile | None, dict[str, Any]]:
        """The parser's reading and the file's status columns (no transaction open: pure work)."""
        if not data:
            return None, {"status": "refused", "error_code": "empty_file", "error_message": _EMPTY}
        try:
            parsed = self._parser(kind, data)
        except ParseRefused as refused:
            return None, {
                "status": "refused",
                "error_code": refused.code,
                "error_message": refused.message[:1000],
            }
        except Exception:
            logger.exception("bank file parser failed")
            return None, {"status": "failed", "error_code": "parser_error", "error_message": _PARSER_ERROR}
        if parsed is None:
            return None, {"status": "pending_parser"}
        return parsed, {"status": "parsed", "format": parsed.format, "line_count": parsed.line_count}

    def _record(
        self,
        actor: Identity | Actor,
        *,
        file_id: UUID,
        kind: FileKind,
        source: str,
        key: str,
        filename: str | None,
        data: bytes,
        digest: bytes,
        uploaded_by: UUID | None,
    ) -> Intake:
        parsed, outcome = self._parse(kind, data)
        told: list[UUID] = []
        with self._work(actor) as uow:
            row = banking_db.insert_file(
                uow.conn,
                tenant_id=uow.tenant_id,
                values={
                    "id": file_id,
                    "kind": kind,
                    "source": source,
                    "s3_key": key,
                    "filename": filename[:255] if filename else None,
                    "size_bytes": len(data),
                    "sha256": digest,
                    "uploaded_by": uploaded_by,
                    **outcome,
                },
            )
            if row is None:  # recorded before, or by a concurrent delivery of the same content
                known = banking_db.file_by_sha256(uow.conn, digest)
                assert known is not None
                return Intake(known, duplicate=True)
            if parsed is not None:
                row = self._lines(uow, row, kind, parsed, told)
            uow.audit(
                "receive",
                "bank_file",
                row.id,
                changes={
                    "kind": kind,
                    "source": source,
                    "status": row.status,
                    "sha256": digest.hex(),
                    "size_bytes": len(data),
                    **({"error_code": row.error_code} if row.error_code else {}),
                    **({"defects": list(parsed.defects)} if parsed is not None and parsed.defects else {}),
                },
            )
        self._tell(actor.tenant_id, told)
        self._parsed(actor, row, parsed)
        return Intake(row, duplicate=False)

    @staticmethod
    def _apply(
        uow: UnitOfWork, agreement: AgreementRow, added: list[dict[str, Any]], told: list[UUID]
    ) -> None:
        """Apply the occurrences recorded now to their boletos, in file order, in the file's unit of
        work (see the module's guarantees). Exactly once: an occurrence already recorded never comes
        here again (its key); one that finds its boleto closed (the bank repeats a settlement under
        another code — Itaú's 06 then 10 —, or another file settled it first, even concurrently:
        each boleto is locked before it is read) changes nothing and stays ``pending`` for a person.
        A settled boleto's customer is told: the message queued here, its id appended to ``told`` for
        after the commit."""
        from assistec.services.banking.boletos import shop_number_open, tell_paid  # only when settling

        applied: list[str] = []
        number_open: bool | None = None  # asked once per file, at its first settlement
        for line in sorted(added, key=lambda row: row["line_number"]):
            if line["boleto_id"] is None:
                continue
            kind = line["kind"]
            if kind == "settled":
                done = BankFileIntake._settle(uow, line)
                if done:
                    if number_open is None:
                        number_open = shop_number_open(uow)
                    message_id = (
                        tell_paid(uow, line["boleto_id"], line["paid_cents"]) if number_open else None
                    )
                    if message_id is not None:
                        told.append(message_id)
            elif kind in ("entry_confirmed", "written_off", "due_date_changed"):
                boleto = banking_db.lock_boleto(uow.conn, line["boleto_id"])
                if boleto is None or boleto.status not in ("issued", "registered"):
                    continue
                if kind == "entry_confirmed":
                    done = BankFileIntake._register(uow, boleto, line)
                elif kind == "written_off":
                    done = BankFileIntake._write_off(uow, boleto, line)
                else:
                    done = BankFileIntake._move_due_date(uow, agreement, boleto, line)
            else:  # rejected (its reasons on the line), fees, the bank's other notices: a person's
                continue
            if done:
                applied.append(line["idempotency_key"])
        banking_db.mark_lines_applied(uow.conn, applied)

    @staticmethod
    def _settle(uow: UnitOfWork, line: dict[str, Any]) -> bool:
        """A settlement: an open boleto becomes settled with what was paid, on the day it was paid,
        and its order's received amount is recomputed as an Asaas payment's is
        (``refresh_order_paid``: charges and settled boletos), audited, one ``BoletoSettled``."""
        paid_on = line["occurred_on"] or line["credited_on"]
        if line["paid_cents"] <= 0 or not paid_on:
            return False
        settled = banking_db.settle_boleto(
            uow.conn,
            line["boleto_id"],
            paid_cents=line["paid_cents"],
            fees_cents=line["fee_cents"],
            paid_on=paid_on,
        )
        if settled is None:
            return False
        order_id, amount_cents = settled
        order_paid = pay_db.refresh_order_paid(uow.conn, order_id) if order_id is not None else None
        uow.audit(
            "settle",
            "boleto",
            line["boleto_id"],
            changes={
                "status": "settled",
                "paid_cents": line["paid_cents"],
                "paid_on": paid_on.isoformat(),
                "occurrence": line["idempotency_key"],
            },
        )
        uow.emit(
            "BoletoSettled",
            {
                "boleto_id": str(line["boleto_id"]),
                "order_id": str(order_id) if order_id is not None else None,
                "amount_cents": amount_cents,
                "paid_cents": line["paid_cents"],
                "paid_on": paid_on.isoformat(),
                "order_paid_cents": order_paid,
            },
        )
        return True

    @staticmethod
    def _register(uow: UnitOfWork, boleto: banking_db.OpenBoletoRow, line: dict[str, Any]) -> bool:
        """Entry confirmed: an issued boleto is registered at the bank (one already registered: the
        bank said it again, nothing to change)."""
        if boleto.status == "registered":
            return True
        assert banking_db.register_boleto(uow.conn, boleto.id)  # locked, issued
        uow.audit(
            "register",
            "boleto",
            boleto.id,
            changes={
                "status": {"from": "issued", "to": "registered"},
                "occurrence": line["idempotency_key"],
            },
        )
        uow.emit(
            "BoletoRegistered",
            {
                "boleto_id": str(boleto.id),
                "order_id": str(boleto.order_id) if boleto.order_id is not None else None,
                "nosso_numero": boleto.nosso_numero,
                "registered_on": line["occurred_on"].isoformat() if line["occurred_on"] else None,
            },
        )
        return True

    @staticmethod
    def _write_off(uow: UnitOfWork, boleto: banking_db.OpenBoletoRow, line: dict[str, Any]) -> bool:
        """Written off by the bank: the open boleto is closed unpaid, its pending instructions void."""
        assert banking_db.write_off_boleto(uow.conn, boleto.id)  # locked, open
        uow.audit(
            "write_off",
            "boleto",
            boleto.id,
            changes={
                "status": {"from": boleto.status, "to": "written_off"},
                "occurrence": line["idempotency_key"],
            },
        )
        uow.emit(
            "BoletoWrittenOff",
            {
                "boleto_id": str(boleto.id),
                "order_id": str(boleto.order_id) if boleto.order_id is not None else None,
                "amount_cents": boleto.amount_cents,
                "written_off_on": line["occurred_on"].isoformat() if line["occurred_on"] else None,
            },
        )
        return True

    @staticmethod
    def _move_due_date(
        uow: UnitOfWork, agreement: AgreementRow, boleto: banking_db.OpenBoletoRow, line: dict[str, Any]
    ) -> bool:
        """A due-date change the bank confirmed: the boleto's due date from the line (the bank states
        it), its barcode and linha digitável recomputed by the domain. Left for a person when the
        line states no date, a date before the boleto's issue, or one the barcode cannot carry."""
        due = line["due_date"]
        if due is None or due < boleto.issued_on:
            return False
        if due == boleto.due_date:
            return True
        try:
            issued = boleto_banks.issue_boleto(
                bank_rules(agreement),
                boleto_banks.BoletoRequest(
                    sequence=boleto.nosso_numero,
                    due_date=due,
                    amount_cents=boleto.amount_cents,
                    issue_date=boleto.issued_on,
                    document_number=str(boleto.nosso_numero),
                ),
            )
        except BoletoError:
            logger.warning("due-date change left for a person", extra={"boleto_id": str(boleto.id)})
            return False
        assert banking_db.change_due_date(
            uow.conn,
            boleto.id,
            due_date=due,
            barcode=issued.barcode,
            digitable_line=issued.linha_digitavel,
        )  # locked, open
        uow.audit(
            "change_due_date",
            "boleto",
            boleto.id,
            changes={
                "due_date": {"from": boleto.due_date.isoformat(), "to": due.isoformat()},
                "occurrence": line["idempotency_key"],
            },
        )
        uow.emit(
            "BoletoDueDateChanged",
            {
                "boleto_id": str(boleto.id),
                "order_id": str(boleto.order_id) if boleto.order_id is not None else None,
                "due_date": due.isoformat(),
                "digitable_line": issued.linha_digitavel,
            },
        )
        return True

    @staticmethod
    def _lines(
        uow: UnitOfWork, row: BankFileRow, kind: FileKind, parsed: ParsedFile, told: list[UUID]
    ) -> BankFileRow:
        """Record the parsed lines once per key, and the file's counts (or its refusal)."""
        if kind == "statement":
            added = banking_db.insert_statement_lines(
                uow.conn,
                tenant_id=uow.tenant_id,
                bank_file_id=row.id,
                rows=[
                    {
                        "line_number": line.line_number,
                        "idempotency_key": line.idempotency_key,
                        "posted_on": line.posted_on,
                        "amount_cents": line.amount_cents,
                        "description": line.description,
                        "reference": line.reference,
                    }
                    for line in parsed.statement_lines
                ],
            )
            return banking_db.finish_file(
                uow.conn,
                row.id,
                values={
                    "occurrence_count": len(added),
                    "duplicate_count": len(parsed.statement_lines) - len(added),
                },
            )
        agreements = _agreements_of(banking_db.agreements_of_bank(uow.conn, parsed.bank_code or ""), parsed)
        if len(agreements) != 1:
            code, message = _AMBIGUOUS_AGREEMENT if agreements else _UNKNOWN_AGREEMENT
            stated = (
                f"convênio {parsed.agreement_code}"
                if parsed.agreement_code
                else f"agência {parsed.branch or '?'}, conta {parsed.account}"
                if parsed.account
                else "convênio ? (o arquivo não o identifica)"
            )
            return banking_db.finish_file(
                uow.conn,
                row.id,
                values={
                    "status": "refused",
                    "error_code": code,
                    "error_message": message.format(agreement=stated, bank=parsed.bank_code or "?"),
                },
            )
        agreement = agreements[0]
        sequences = [occurrence_sequence(agreement, o) for o in parsed.occurrences]
        numbers = sorted({n for n in sequences if n is not None})
        boletos = banking_db.boletos_by_nosso_numero(uow.conn, agreement.id, numbers)
        rows = []
        for occurrence, sequence in zip(parsed.occurrences, sequences, strict=True):
            boleto_id = boletos.get(sequence) if sequence is not None else None
            named = sequence is not None or bool(occurrence.nosso_numero_text)
            rows.append(
                {
                    "line_number": occurrence.line_number,
                    "idempotency_key": occurrence.idempotency_key,
                    "kind": occurrence.kind,
                    "occurrence_code": occurrence.occurrence_code,
                    "nosso_numero": sequence,
                    "boleto_id": boleto_id,
                    "amount_cents": occurrence.amount_cents,
                    "paid_cents": occurrence.paid_cents,
                    "fee_cents": occurrence.fee_cents,
                    "interest_cents": occurrence.interest_cents,
                    "discount_cents": occurrence.discount_cents,
                    "occurred_on": occurrence.occurred_on,
                    "credited_on": occurrence.credited_on,
                    "status": "unmatched" if named and boleto_id is None else "pending",
                    "nosso_numero_text": (occurrence.nosso_numero_text or "")[:40] or None,
                    "due_date": occurrence.due_date,
                    "reasons": (occurrence.reasons or "")[:100] or None,
                }
            )
        added = banking_db.insert_occurrences(
            uow.conn, tenant_id=uow.tenant_id, bank_file_id=row.id, rows=rows
        )
        BankFileIntake._apply(uow, agreement, added, told)
        unmatched = sum(1 for line in added if line["status"] == "unmatched")
        settled = sum(line["paid_cents"] for line in added if line["kind"] == "settled")
        return banking_db.finish_file(
            uow.conn,
            row.id,
            values={
                "agreement_id": agreement.id,
                "occurrence_count": len(added),
                "duplicate_count": len(parsed.occurrences) - len(added),
                "unmatched_count": unmatched,
                "settled_cents": settled,
            },
        )
