"""CNAB 400 remessa: header, one detail per title, trailer, in the bank's own layout."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from assistec.domain.banking.cnab.banks import CNAB400
from assistec.domain.banking.cnab.errors import CnabError
from assistec.domain.banking.cnab.layouts import Cnab400Bank
from assistec.domain.banking.cnab.model import Agreement, Instruction, RemessaItem

if TYPE_CHECKING:
    from assistec.domain.banking.cnab.remessa import RemessaFile

MOVEMENT_400 = {Instruction.REGISTER: 1, Instruction.WRITE_OFF: 2, Instruction.CHANGE_DUE_DATE: 6}
INSTRUCTION_400 = {v: k for k, v in MOVEMENT_400.items()}


def _profile(bank: Cnab400Bank) -> Any:
    if bank.remessa is None:
        raise CnabError("unsupported_layout", f"Remessa CNAB 400 do banco {bank.code} ainda não suportada.")
    return bank.remessa


def _doc_type(document: str) -> int:
    return 2 if len(document) == 14 else 1


def check_wallet_variation(required: bool, bank_name: str, agreement: Agreement) -> None:
    """The carteira variation the bank's file needs (3 digits at most), or ``CnabError``."""
    variation = agreement.wallet_variation
    if required and not (variation.isascii() and variation.isdigit() and len(variation) <= 3):
        raise CnabError(
            "wallet_variation_missing",
            f"O {bank_name} pede a variação da carteira (3 dígitos) no arquivo: informe-a no convênio.",
        )


def build400(
    bank: Cnab400Bank, agreement: Agreement, items: Sequence[RemessaItem], sequence: int, at: datetime
) -> list[str]:
    prof = _profile(bank)
    check_wallet_variation(prof.wallet_variation_required, bank.name, agreement)
    const = prof.constants
    company = {
        "bank_code": int(bank.code),
        "company_doc_type": _doc_type(agreement.company_document),
        "company_document": agreement.company_document,
        "agreement_code": agreement.agreement_code,
        "collection_account": agreement.account,
        "branch_2": agreement.branch,
        "branch_dv_2": agreement.branch_dv,
        "branch": agreement.branch,
        "branch_dv": agreement.branch_dv,
        "account": agreement.account,
        "account_dv": agreement.account_dv,
        "wallet": agreement.wallet,
        "wallet_variation": agreement.wallet_variation or None,
        "company_name": agreement.company_name.upper(),
    }

    def fill(record: Any, computed: dict[str, Any], constants: dict[str, Any]) -> str:
        values = {k: v for k, v in constants.items() if k in record.by_name}
        values.update({k: v for k, v in computed.items() if k in record.by_name})
        return record.encode(values)  # type: ignore[no-any-return]

    lines = [
        fill(
            prof.header,
            {**company, "file_date": at.date(), "sequence": sequence, "sequence_number": 1},
            const.get("header", {}),
        )
    ]
    for n, item in enumerate(items, 2):
        computed = {
            **company,
            "movement": MOVEMENT_400[item.instruction],
            "nosso_numero": item.nosso_numero,
            "document_number": item.document_number,
            "company_use": item.document_number,
            "due_date": item.due_date,
            "amount_cents": item.amount_cents,
            "issue_date": item.issue_date,
            "interest_cents": item.interest_per_day_cents,
            "interest_from": item.interest_from,
            "discount_until": item.discount_until,
            "discount_cents": item.discount_cents,
            "abatement_cents": item.abatement_cents,
            "payer_doc_type": _doc_type(item.payer_document),
            "payer_document": item.payer_document,
            "payer_name": item.payer_name.upper(),
            "payer_address": item.payer_address.upper(),
            "payer_district": item.payer_district.upper(),
            "payer_zip": item.payer_zip,
            "payer_city": item.payer_city.upper(),
            "payer_state": item.payer_state.upper(),
            "sequence_number": n,
        }
        lines.append(fill(prof.detail, computed, const.get("detail", {})))
    lines.append(
        fill(
            prof.trailer,
            {
                "sequence_number": len(items) + 2,
                "records": len(items) + 2,
                "total_cents": sum(i.amount_cents for i in items),
            },
            const.get("trailer", {}),
        ),
    )
    return lines


def read400(lines: list[bytes]) -> RemessaFile:
    from assistec.domain.banking.cnab.remessa import RemessaFile

    code = lines[0][76:79].decode("latin-1")
    bank = CNAB400.get(code)
    if bank is None:
        raise CnabError("unknown_bank", f"Banco {code} sem layout CNAB 400.")
    prof = _profile(bank)
    header = prof.header.decode(lines[0])
    items: list[RemessaItem] = []
    first: dict[str, Any] = {}
    detail_type = prof.detail.by_name["record_type"].default
    for line in lines[1:]:
        if line[0:1] != str(detail_type).encode():
            continue  # the trailer, and records we do not read (fines, PIX, messages)
        d = prof.detail.decode(line)
        first = first or d
        items.append(
            RemessaItem(
                nosso_numero=str(d["nosso_numero"]).strip(),
                document_number=str(d["document_number"]).strip(),
                due_date=d["due_date"],
                issue_date=d["issue_date"],
                amount_cents=d["amount_cents"],
                payer_name=d.get("payer_name", "").strip(),
                payer_document=str(d["payer_document"]).zfill(14 if d["payer_doc_type"] == 2 else 11),
                payer_address=d.get("payer_address", "").strip(),
                payer_district=d.get("payer_district", "").strip(),
                payer_zip=str(d["payer_zip"]).zfill(8),
                payer_city=d.get("payer_city", "").strip(),
                payer_state=d.get("payer_state", "").strip(),
                instruction=INSTRUCTION_400.get(d["movement"], Instruction.REGISTER),
                interest_per_day_cents=d.get("interest_cents") or 0,
                interest_from=d.get("interest_from"),
                discount_cents=d.get("discount_cents") or 0,
                discount_until=d.get("discount_until"),
                abatement_cents=d.get("abatement_cents") or 0,
            )
        )
    file_date: date = header.get("file_date") or date.min

    def text(d: dict[str, Any], name: str) -> str:
        value = d.get(name)
        return "" if value is None else str(value).strip()

    agreement = Agreement(
        bank_code=bank.code,
        company_document=(
            str(first["company_document"]).zfill(14 if first.get("company_doc_type") == 2 else 11)
            if first.get("company_document")
            else ""
        ),
        company_name=text(header, "company_name"),
        branch=text(header, "branch") or text(first, "branch"),
        account=text(header, "account") or text(first, "account"),
        account_dv=text(header, "account_dv") or text(first, "account_dv"),
        branch_dv=text(header, "branch_dv") or text(first, "branch_dv"),
        # The detail's (the title's agreement) over the header's (BB: the "convênio líder" of the file).
        agreement_code=text(first, "agreement_code") or text(header, "agreement_code"),
        wallet=text(first, "wallet"),
        wallet_variation=text(first, "wallet_variation"),
    )
    return RemessaFile(
        bank_code=bank.code,
        layout="cnab400",
        variant=bank.slug,
        agreement=agreement,
        sequence=header.get("sequence") or 0,
        generated_at=datetime.combine(file_date, time()),
        items=tuple(items),
    )
