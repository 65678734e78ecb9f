"""Building a remessa (company -> bank) and reading one back.

``build_remessa`` writes the titles of one agreement into the bank's layout (CNAB 240: file header,
one lot of P/Q/R segments per title, trailers; CNAB 400: header, one detail per title, trailer),
CRLF line endings, the trailers' counts as the layouts define them. ``read_remessa`` reads such a
file back into the same values (the round trip the property tests check, and what the conformance
tests compare against other libraries' golden files).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from assistec.domain.banking.cnab.banks import CNAB240, CNAB400
from assistec.domain.banking.cnab.engine import Record
from assistec.domain.banking.cnab.errors import CnabError
from assistec.domain.banking.cnab.layouts import Cnab240Bank, Remessa240
from assistec.domain.banking.cnab.model import Agreement, Instruction, RemessaItem
from assistec.domain.banking.cnab.remessa400 import check_wallet_variation
from assistec.domain.banking.cnab.retorno import fit_lines, split_lines

MOVEMENT_240 = {Instruction.REGISTER: 1, Instruction.WRITE_OFF: 2, Instruction.CHANGE_DUE_DATE: 6}
INSTRUCTION_240 = {v: k for k, v in MOVEMENT_240.items()}


@dataclass(frozen=True, slots=True)
class RemessaFile:
    bank_code: str
    layout: str
    variant: str
    agreement: Agreement
    sequence: int
    generated_at: datetime  # naive, as written; 00:00 when the layout has no time (Santander, CNAB 400)
    items: tuple[RemessaItem, ...]


@dataclass(frozen=True, slots=True)
class Records240:
    """The records a bank's CNAB 240 remessa is written with."""

    file_header: Record
    lot_header: Record
    seg_p: Record
    seg_q: Record
    seg_r: Record
    lot_trailer: Record
    file_trailer: Record


def records240(bank: Cnab240Bank) -> tuple[Records240, Remessa240]:
    prof = bank.remessa
    if prof is None:
        raise CnabError("unsupported_layout", f"Remessa CNAB 240 do banco {bank.code} ainda não suportada.")
    return (
        Records240(
            file_header=prof.file_header or bank.file_header,
            lot_header=prof.lot_header or bank.lot_header,
            seg_p=prof.seg_p or bank.seg_p,
            seg_q=prof.seg_q or bank.seg_q,
            seg_r=prof.seg_r or bank.seg_r,
            lot_trailer=prof.lot_trailer or bank.lot_trailer,
            file_trailer=prof.file_trailer or bank.file_trailer,
        ),
        prof,
    )


def _fill(record: Record, computed: Mapping[str, Any], constants: Mapping[str, Any]) -> dict[str, Any]:
    """The record's values: constants first, the computed values over them; only the fields this
    record has (a bank's variant may not have them all)."""
    values = {k: v for k, v in constants.items() if k in record.by_name}
    values.update({k: v for k, v in computed.items() if k in record.by_name})
    return values


def _doc_type(document: str) -> int:
    return 2 if len(document) == 14 else 1


def _digits(value: str, what: str) -> str:
    if not value.isdigit():
        raise CnabError("invalid_value", f"{what} deve conter só dígitos ({value!r}).")
    return value


def _check_item(item: RemessaItem) -> None:
    if item.amount_cents <= 0:
        raise CnabError("invalid_value", f"Valor do título {item.nosso_numero} deve ser positivo.")
    for name in ("interest_per_day_cents", "fine_cents", "discount_cents", "abatement_cents"):
        if getattr(item, name) < 0:
            raise CnabError("invalid_value", f"{name} do título {item.nosso_numero} não pode ser negativo.")
    _digits(item.payer_document, "CPF/CNPJ do pagador")
    _digits(item.payer_zip, "CEP do pagador")
    if len(item.payer_zip) != 8:
        raise CnabError("invalid_value", f"CEP do pagador deve ter 8 dígitos ({item.payer_zip!r}).")
    if not item.nosso_numero.strip():
        raise CnabError("invalid_value", "Título sem nosso número.")


def build_remessa(
    agreement: Agreement,
    items: Sequence[RemessaItem],
    sequence: int,
    generated_at: datetime,
    *,
    layout: str = "cnab240",
) -> bytes:
    """The remessa file (bytes, latin-1, CRLF) for ``items`` of ``agreement``, file number
    ``sequence``. Raises :class:`CnabError` when a value does not fit the layout."""
    if not items:
        raise CnabError("empty_remessa", "Nenhum título para a remessa.")
    if sequence <= 0:
        raise CnabError("invalid_value", "O número sequencial do arquivo deve ser positivo.")
    _digits(agreement.company_document, "CNPJ/CPF do beneficiário")
    for item in items:
        _check_item(item)
    if layout == "cnab240":
        bank = CNAB240.get(agreement.bank_code)
        if bank is None:
            raise CnabError("unknown_bank", f"Banco {agreement.bank_code} sem layout CNAB 240.")
        lines = _build240(bank, agreement, items, sequence, generated_at)
    elif layout == "cnab400":
        from assistec.domain.banking.cnab.remessa400 import build400

        bank400 = CNAB400.get(agreement.bank_code)
        if bank400 is None:
            raise CnabError("unknown_bank", f"Banco {agreement.bank_code} sem layout CNAB 400.")
        lines = build400(bank400, agreement, items, sequence, generated_at)
    else:
        raise CnabError("unknown_layout", f"Layout {layout!r} desconhecido.")
    return ("\r\n".join(lines) + "\r\n").encode("latin-1")


def _build240(
    bank: Cnab240Bank, agreement: Agreement, items: Sequence[RemessaItem], sequence: int, at: datetime
) -> list[str]:
    rec, prof = records240(bank)
    check_wallet_variation(prof.wallet_variation_required, bank.name, agreement)
    const = prof.constants
    code = int(bank.code)
    # The headers' convênio columns where the bank splits them (Banco do Brasil: convênio, carteira
    # and its variation); a bank without those columns takes none of it.
    convenio = {
        "agreement_wallet": agreement.wallet or None,
        "wallet_variation": agreement.wallet_variation or None,
    }
    company = {
        "bank_code": code,
        "company_doc_type": _doc_type(agreement.company_document),
        "company_document": agreement.company_document,
        "agreement_code": agreement.agreement_code,
        "agreement_code_2": agreement.agreement_code,
        "branch": agreement.branch,
        "branch_dv": agreement.branch_dv,
        "account": agreement.account,
        "account_dv": agreement.account_dv,
        "collection_account": agreement.account,
        "collection_account_dv": agreement.account_dv,
        "company_name": agreement.company_name.upper(),
    }
    lines = [
        rec.file_header.encode(
            _fill(
                rec.file_header,
                {
                    **company,
                    **convenio,
                    "lot": 0,
                    "record_type": 0,
                    "file_kind": 1,
                    "file_date": at.date(),
                    "file_time": int(at.strftime("%H%M%S")),
                    "sequence": sequence,
                    "layout_version": bank.layout_version,
                },
                const.get("file_header", {}),
            )
        ),
        rec.lot_header.encode(
            _fill(
                rec.lot_header,
                {
                    **company,
                    **convenio,
                    "lot": 1,
                    "record_type": 1,
                    "operation": "R",
                    "service": 1,
                    "lot_layout_version": bank.lot_layout_version,
                    "sequence": sequence,
                    "recorded_on": at.date(),
                },
                const.get("lot_header", {}),
            )
        ),
    ]
    n = 0
    segments = {"P": rec.seg_p, "Q": rec.seg_q, "R": rec.seg_r}
    for item in items:
        movement = MOVEMENT_240[item.instruction]
        values: dict[str, dict[str, Any]] = {
            "P": {
                "nosso_numero": item.nosso_numero,
                "document_number": item.document_number,
                "due_date": item.due_date,
                "amount_cents": item.amount_cents,
                "issue_date": item.issue_date,
                "interest_code": prof.interest_code if item.interest_per_day_cents else prof.no_interest_code,
                "interest_from": item.interest_from,
                "interest_cents": item.interest_per_day_cents,
                "discount_code": 1 if item.discount_cents else prof.no_discount_code,
                "discount_until": item.discount_until,
                "discount_cents": item.discount_cents,
                "abatement_cents": item.abatement_cents,
                "company_use": item.document_number if prof.company_use == "document_number" else "",
            },
            "Q": {
                "payer_doc_type": _doc_type(item.payer_document),
                "payer_document": item.payer_document,
                "payer_name": item.payer_name.upper(),
                "payer_address": item.payer_address.upper(),
                "payer_district": item.payer_district.upper(),
                "payer_zip": item.payer_zip,
                "payer_city": item.payer_city.upper(),
                "payer_state": item.payer_state.upper(),
            },
            "R": {
                "fine_code": 1 if item.fine_cents else prof.no_fine_code,
                "fine_from": item.fine_from,
                "fine_cents": item.fine_cents,
            },
        }
        for seg in prof.segments:
            n += 1
            record = segments[seg]
            computed = {
                **company,
                "lot": 1,
                "record_type": 3,
                "record_number": n,
                "segment": seg,
                "movement": movement,
                **values[seg],
            }
            lines.append(record.encode(_fill(record, computed, const.get(f"segment_{seg.lower()}", {}))))
    trailer: dict[str, Any] = {"bank_code": code, "lot": 1, "record_type": 5, "records": n + 2}
    if prof.lot_totals:
        trailer["simple_titles"] = len(items)
        trailer["simple_cents"] = sum(i.amount_cents for i in items)
    lines.append(rec.lot_trailer.encode(_fill(rec.lot_trailer, trailer, const.get("lot_trailer", {}))))
    lines.append(
        rec.file_trailer.encode(
            _fill(
                rec.file_trailer,
                {"bank_code": code, "lot": 9999, "record_type": 9, "lots": 1, "records": n + 4},
                const.get("file_trailer", {}),
            )
        )
    )
    return lines


def _text(value: Any) -> str:
    if value is None:
        return ""
    return str(value).strip()


def _num(value: Any, width: int = 0) -> str:
    if value is None:
        return ""
    return str(value).zfill(width) if isinstance(value, int) else str(value).strip()


def read_remessa(data: bytes) -> RemessaFile:
    """Read a remessa back (ours, or another library's in a layout we write)."""
    lines, defects, numbers = split_lines(data)
    first = lines[0]
    if first[:9].upper() == b"01REMESSA":
        from assistec.domain.banking.cnab.remessa400 import read400

        return read400(fit_lines(lines, numbers, 400, defects))
    if not (first[:3].isdigit() and first[3:8] == b"00000"):
        raise CnabError("not_cnab", "O arquivo não é uma remessa CNAB 240 nem CNAB 400.")
    lines = fit_lines(lines, numbers, 240, defects)
    bank = CNAB240.get(first[:3].decode("latin-1"))
    if bank is None:
        raise CnabError("unknown_bank", f"Banco {first[:3].decode('latin-1')} sem layout CNAB 240.")
    rec, _prof = records240(bank)
    header = rec.file_header.decode(lines[0])
    if header.get("file_kind") not in (1, None):
        raise CnabError("not_remessa", "O header não indica um arquivo de remessa (código 1).")
    items: list[RemessaItem] = []
    current: dict[str, dict[str, Any]] = {}
    branch = account = account_dv = branch_dv = ""

    def flush() -> None:
        if not current:
            return
        p, q, r = current.get("P"), current.get("Q", {}), current.get("R", {})
        if p is None:
            raise CnabError("segment_pair", "Segmento Q/R sem o segmento P do título.")
        items.append(
            RemessaItem(
                nosso_numero=_text(p["nosso_numero"]),
                document_number=_text(p["document_number"]),
                due_date=p["due_date"],
                issue_date=p["issue_date"],
                amount_cents=p["amount_cents"],
                payer_name=_text(q.get("payer_name")),
                payer_document=_num(q.get("payer_document"), 14 if q.get("payer_doc_type") == 2 else 11),
                payer_address=_text(q.get("payer_address")),
                payer_district=_text(q.get("payer_district")),
                payer_zip=_num(q.get("payer_zip"), 8),
                payer_city=_text(q.get("payer_city")),
                payer_state=_text(q.get("payer_state")),
                instruction=INSTRUCTION_240.get(p["movement"], Instruction.REGISTER),
                interest_per_day_cents=p.get("interest_cents") or 0,
                interest_from=p.get("interest_from"),
                fine_cents=r.get("fine_cents") or 0,
                fine_from=r.get("fine_from"),
                discount_cents=p.get("discount_cents") or 0,
                discount_until=p.get("discount_until"),
                abatement_cents=p.get("abatement_cents") or 0,
            )
        )
        current.clear()

    segments = {ord("P"): rec.seg_p, ord("Q"): rec.seg_q, ord("R"): rec.seg_r}
    for line in lines[1:]:
        if line[7] != 51:  # not a detail
            continue
        seg = line[13]
        record = segments.get(seg)
        if record is None:
            continue  # S (messages) and others: not part of a title's values here
        if seg == 80:
            flush()
            p = record.decode(line)
            branch, account = _num(p.get("branch")), _num(p.get("account"))
            branch_dv, account_dv = _text(p.get("branch_dv")), _text(p.get("account_dv"))
        current[chr(seg)] = record.decode(line)
    flush()
    at_date: date = header.get("file_date") or date.min
    raw_time = header.get("file_time") or 0
    generated_at = datetime.combine(at_date, time(raw_time // 10000, raw_time // 100 % 100, raw_time % 100))
    doc = header.get("company_document") or 0
    agreement = Agreement(
        bank_code=bank.code,
        company_document=str(doc).zfill(14 if header.get("company_doc_type") == 2 else 11),
        company_name=_text(header.get("company_name")),
        branch=_num(header.get("branch")) or branch,
        account=_num(header.get("account")) or account,
        account_dv=_text(header.get("account_dv")) or account_dv,
        branch_dv=_text(header.get("branch_dv")) or branch_dv,
        agreement_code=_text(header.get("agreement_code")),
        wallet=_num(header.get("agreement_wallet"), 2),
        wallet_variation=_num(header.get("wallet_variation"), 3),
    )
    return RemessaFile(
        bank_code=bank.code,
        layout="cnab240",
        variant=bank.slug,
        agreement=agreement,
        sequence=header.get("sequence") or 0,
        generated_at=generated_at,
        items=tuple(items),
    )
