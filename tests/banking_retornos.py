"""Retornos as a bank writes them, for the tests: built from a real fixture's records (its headers and
first detail as templates), the shop's agreement in the header where the layout names it, the
occurrences asked for (the nosso número exactly as the remessa wrote it), and trailers whose counts
and sums add up as the layout checks them. Used by the integration tests of the retorno's effects and
by the e2e test of the whole banking flow on the local stack."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from assistec.domain.banking.cnab.banks import CNAB240, CNAB400
from assistec.domain.banking.cnab.engine import Record, _encode

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "cnab"
CONFIRMED_ON = date(2030, 1, 3)
DUE = date(2030, 1, 10)


@dataclass(frozen=True)
class Line:
    """One title's occurrence for the retorno: its nosso número as the remessa wrote it."""

    nosso: str
    code: str
    title_cents: int
    paid_cents: int = 0
    on: date = CONFIRMED_ON
    due: date = DUE
    reasons: str = ""


def _put(line: str, record: Record, **values: Any) -> str:
    for name, value in values.items():
        f = record.by_name[name]
        line = line[: f.start - 1] + _encode(f, value, record.name) + line[f.end :]
    return line


def _records(path: str, width: int) -> list[str]:
    text = (FIXTURES / path).read_bytes().decode("latin-1").replace("\r\n", "\n")
    return [line.ljust(width)[:width] for line in text.split("\n") if line.strip()]


def retorno240(path: str, bank_code: str, agreement: dict[str, Any], lines: list[Line]) -> bytes:
    """A CNAB 240 retorno in the fixture's shape (its headers, its first T/U pair as the records'
    template), our agreement in the header where the layout names it, the lot and file trailers
    counting what it holds."""
    bank = CNAB240[bank_code]
    records = _records(path, 240)
    header, lot_header = records[0], records[1]
    t_template = next(r for r in records if r[7] == "3" and r[13] == "T")
    u_template = next(r for r in records if r[7] == "3" and r[13] == "U")
    lot_trailer = next(r for r in records if r[7] == "5")
    file_trailer = records[-1]
    if "agreement_code" in bank.file_header.by_name and bank_code == "001":
        code = (
            f"{agreement['agreement_code']:0>9}0014{agreement['wallet']}{agreement['wallet_variation']:0>3}"
        )
        header = _put(header, bank.file_header, agreement_code=code)
    elif "agreement_code" in bank.file_header.by_name and bank_code == "033":
        header = _put(header, bank.file_header, agreement_code=agreement["agreement_code"].zfill(9))
    out = [header, lot_header]
    number = 0
    for item in lines:
        number += 1
        t = _put(
            t_template, bank.seg_t, movement=item.code, nosso_numero=item.nosso, due_date=item.due,
            title_cents=item.title_cents, fee_cents=0, reasons=item.reasons,
        )  # fmt: skip
        out.append(t[:8] + f"{number:05d}" + t[13:])
        number += 1
        u = _put(
            u_template, bank.seg_u, movement=item.code, paid_cents=item.paid_cents,
            credited_cents=item.paid_cents, interest_cents=0, discount_cents=0, abatement_cents=0,
            occurred_on=item.on, credited_on=item.on if item.paid_cents else None,
        )  # fmt: skip
        out.append(u[:8] + f"{number:05d}" + u[13:])
    details = 2 * len(lines)
    trailer_values: dict[str, Any] = {"records": details + 2 if bank.lot_count == "all" else details}
    if bank.lot_totals_are_file:
        trailer_values |= {"simple_titles": len(lines), "simple_cents": sum(i.title_cents for i in lines)}
    else:
        trailer_values |= {"simple_titles": 0, "simple_cents": 0}
    out.append(_put(lot_trailer, bank.lot_trailer, **trailer_values))
    out.append(_put(file_trailer, bank.file_trailer, lots=1, records=len(out) + 1))
    return ("\r\n".join(out) + "\r\n").encode("latin-1")


def retorno400(path: str, bank_code: str, agreement: dict[str, Any], lines: list[Line]) -> bytes:
    """A CNAB 400 retorno in the fixture's shape (its header, its first detail as the template), our
    agreement in the header, the trailer's counts and sums as the layout checks them."""
    bank = CNAB400[bank_code]
    records = _records(path, 400)
    header, template, trailer = records[0], records[1], records[-1]
    detail = bank.details["1"]
    fields = bank.header.by_name
    if "agreement_code" in fields:
        header = _put(header, bank.header, agreement_code=agreement["agreement_code"])
    if "branch" in fields and "account" in fields:
        header = _put(header, bank.header, branch=agreement["branch"], account=agreement["account"])
    out = [header]
    for n, item in enumerate(lines, start=2):
        values: dict[str, Any] = {
            "sequence_number": n, "occurrence": item.code, "nosso_numero": item.nosso,
            "title_cents": item.title_cents, "paid_cents": item.paid_cents, "occurred_on": item.on,
            "due_date": item.due, "fee_cents": 0, "interest_cents": 0, "discount_cents": 0,
            "abatement_cents": 0, "credited_on": item.on if item.paid_cents else None,
        }  # fmt: skip
        if "reasons" in detail.by_name:
            values["reasons"] = item.reasons
        out.append(_put(template, detail, **{k: v for k, v in values.items() if k in detail.by_name}))
    totals: dict[str, Any] = {"sequence_number": len(lines) + 2}
    for check in bank.trailer_checks:
        subset = [i for i in lines if not check.codes or i.code in check.codes]
        totals[check.count_field] = len(subset)
        if check.amount_field is not None:
            column = "paid_cents" if check.value == "paid_cents" else "title_cents"
            totals[check.amount_field] = sum(getattr(i, column) for i in subset)
    out.append(_put(trailer, bank.trailer, **totals))
    return ("\r\n".join(out) + "\r\n").encode("latin-1")
