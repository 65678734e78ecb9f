"""Reading a retorno (bank -> company): CNAB 240 (segments T/U) and CNAB 400, per bank.

Never silently wrong: what the parser repairs it reports as a :class:`Defect` (stripped trailing
spaces, a UTF-8 BOM, CRLF/LF mixed, a 241-character line, no final newline); what it cannot trust
it refuses with a :class:`CnabError` (a stable code and a pt-BR message): not a CNAB file, a
remessa, an unknown bank, another kind of file (payments, statements), a line too long to be this
layout, a field that is not what its layout says, and counts or sums that disagree with the
trailers.

Line-length policy: a line shorter than the layout is right-padded with blanks (git and editors strip
trailing spaces; the padded columns are blank fields). A line longer than the layout is accepted
only when the excess is a single blank (a stray space, as in laravel-boleto's BB file); anything
longer (BTG's 308-column header) means the producer did not write this layout's records, so no
column of that line can be trusted to be where the layout says, and the file is refused.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from assistec.domain.banking.cnab.banks import CNAB240, CNAB400
from assistec.domain.banking.cnab.errors import CnabError
from assistec.domain.banking.cnab.layouts import Cnab240Bank, Cnab400Bank
from assistec.domain.banking.cnab.model import (
    Agreement,
    AgreementId,
    Defect,
    Occurrence,
    OccurrenceKind,
    Retorno,
    TrailerTotals,
)

BOM = b"\xef\xbb\xbf"
MAX_EXTRA_BLANKS = 1


def split_lines(data: bytes) -> tuple[list[bytes], list[Defect], list[int]]:
    """The file's records (``\\r`` and the final newline removed), the defects of its framing, and
    each record's 1-based line number in the file (blank lines are skipped, and reported)."""
    if not isinstance(data, bytes | bytearray):
        raise TypeError("data must be bytes")
    data = bytes(data)
    defects: list[Defect] = []
    if data.startswith(BOM):
        data = data[len(BOM) :]
        defects.append(Defect("bom", "O arquivo começa com uma marca BOM UTF-8 (removida)."))
    # Few passes over the bytes (they are the cost on a large file): two counts decide the framing.
    cr = data.count(b"\r")
    lf = data.count(b"\n")
    crlf = data.count(b"\r\n") if cr else 0
    if crlf and crlf != lf:
        defects.append(
            Defect("mixed_line_endings", f"Quebras de linha misturadas: {crlf} CRLF e {lf - crlf} LF.")
        )
    if not data.endswith(b"\n"):
        defects.append(Defect("no_final_newline", "O último registro não termina com quebra de linha."))
    if (cr == 0 and lf) or (cr == crlf == lf):
        # One line ending throughout (the usual file): split in C, no per-line work.
        lines = data.split(b"\r\n" if cr else b"\n")
        if lines[-1] == b"":
            lines.pop()
        if lines and b"" not in lines and lines[0].strip():
            return lines, defects, list(range(1, len(lines) + 1))
        raw = lines
    else:
        raw = data.split(b"\n")
        if raw and raw[-1].strip(b"\r") == b"":
            raw.pop()
    out: list[bytes] = []
    numbers: list[int] = []
    blank: list[int] = []
    for i, line in enumerate(raw, 1):
        if line.endswith(b"\r"):
            line = line[:-1]
        if b"\r" in line:
            raise CnabError("bad_line_break", "Quebra de linha (CR) isolada no meio de um registro.", line=i)
        if not line.strip():
            blank.append(i)
            continue
        out.append(line)
        numbers.append(i)
    if blank:
        defects.append(Defect("blank_lines", f"{len(blank)} linha(s) em branco ignorada(s).", tuple(blank)))
    if not out:
        raise CnabError("empty_file", "O arquivo está vazio.")
    return out, defects, numbers


def fit_lines(lines: list[bytes], numbers: list[int], width: int, defects: list[Defect]) -> list[bytes]:
    """Every line at exactly ``width`` columns (see the module's line-length policy)."""
    if set(map(len, lines)) == {width}:
        return lines
    short: list[int] = []
    long: list[int] = []
    out = list(lines)
    for i, line in enumerate(lines):
        n = len(line)
        if n == width:
            continue
        if n < width:
            out[i] = line.ljust(width)
            short.append(numbers[i])
            continue
        excess = line[width:]
        if excess.strip() or n - width > MAX_EXTRA_BLANKS:
            raise CnabError(
                "line_too_long",
                f"Registro com {n} posições num layout de {width}: as posições dos campos não são "
                "confiáveis; peça ao banco o arquivo original.",
                line=numbers[i],
                details={"length": n, "width": width},
            )
        out[i] = line[:width]
        long.append(numbers[i])
    if short:
        defects.append(
            Defect(
                "short_lines",
                f"{len(short)} registro(s) com menos de {width} posições (espaços finais removidos), "
                "completados.",
                tuple(short),
            )
        )
    if long:
        defects.append(
            Defect(
                "long_lines",
                f"{len(long)} registro(s) com espaço sobrando após a posição {width}.",
                tuple(long),
            )
        )
    return out


def detect(first: bytes) -> str:
    """``cnab240``, ``cnab400`` or a refusal, from the file's first record."""
    head = first[:20].upper()
    if head.startswith(b"01REMESSA") or head.startswith(b"0REMESSA"):
        raise CnabError("not_retorno", "É um arquivo de remessa, não de retorno.")
    if head.startswith(b"02RETORNO"):
        return "cnab400"
    if first[:3].isdigit() and first[3:8] == b"00000":
        return "cnab240"
    raise CnabError("not_cnab", "O arquivo não é um retorno CNAB 240 nem CNAB 400.")


def parse_retorno(data: bytes) -> Retorno:
    """Read a bank's retorno file (raw bytes as uploaded)."""
    lines, defects, numbers = split_lines(data)
    layout = detect(lines[0])
    with _collector_paused():
        if layout == "cnab240":
            return _parse240(lines, numbers, defects)
        return _parse400(lines, numbers, defects)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a file is read.

    A parse allocates one tuple per field list and one per occurrence (hundreds of thousands on a
    large file), and every few thousand of them the collector walks the young objects and now and
    then the whole heap: measured on a 220,000-line CNAB 400, more than half of the reading time.
    What the parser builds holds no reference cycles (tuples of ints, strings, dates), so there is
    nothing for it to find; reference counting frees everything as usual. Restored on the way out,
    error or not, and only if it was on (a caller that disabled it keeps it disabled). Another
    thread allocating meanwhile keeps its memory until the collector runs again: the same as any
    pause of it, never a leak.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _kind(table: Any, code: str) -> tuple[OccurrenceKind, str]:
    found = table.get(code)
    if found is None:
        return OccurrenceKind.OTHER, f"Código {code} não documentado para este banco"
    return found  # type: ignore[no-any-return]


def _agreement(header: dict[str, Any]) -> AgreementId:
    def text(name: str, width: int = 0) -> str:
        value = header.get(name)
        if value is None:
            return ""
        if isinstance(value, int):
            return str(value).zfill(width)
        return str(value).strip()

    return AgreementId(
        company_document=text("company_document").lstrip("0").zfill(14)
        if header.get("company_document")
        else "",
        company_name=text("company_name"),
        agreement_code=text("agreement_code"),
        branch=text("branch"),
        branch_dv=text("branch_dv"),
        account=text("account"),
        account_dv=text("account_dv"),
    )


# -- CNAB 240 -------------------------------------------------------------------------------------

_T_NAMES = ("movement", "nosso_numero", "document_number", "due_date", "title_cents", "fee_cents", "reasons")
_U_NAMES = (
    "movement",
    "interest_cents",
    "discount_cents",
    "abatement_cents",
    "paid_cents",
    "credited_cents",
    "occurred_on",
    "credited_on",
)
_READERS: dict[str, tuple[Callable[[bytes], tuple[Any, ...]], Callable[[bytes], tuple[Any, ...]]]] = {}


def _readers(
    bank: Cnab240Bank,
) -> tuple[Callable[[bytes], tuple[Any, ...]], Callable[[bytes], tuple[Any, ...]]]:
    pair = _READERS.get(bank.slug)
    if pair is None:
        pair = (bank.seg_t.reader(*_T_NAMES), bank.seg_u.reader(*_U_NAMES))
        _READERS[bank.slug] = pair
    return pair


def _parse240(lines: list[bytes], numbers: list[int], defects: list[Defect]) -> Retorno:
    lines = fit_lines(lines, numbers, 240, defects)
    code = lines[0][:3].decode("latin-1")
    bank = CNAB240.get(code)
    if bank is None:
        raise CnabError("unknown_bank", f"Banco {code} sem layout CNAB 240 de cobrança neste sistema.")
    header, bad = bank.file_header.decode_lenient(lines[0])
    operation = lines[1][8:9] if len(lines) > 1 and lines[1][7:8] == b"1" else b""
    if header["file_kind"] == 1 or operation == b"R":
        raise CnabError("not_retorno", "É um arquivo de remessa, não de retorno.", line=numbers[0])
    if header["file_kind"] != 2 or bad:
        # The header's descriptive fields are not where the layout puts them (brcobranca's Sicoob and
        # Ailos samples lost 17 columns in the middle of the header): what does not read is left out
        # and reported; the file is still a retorno only if its lot says so (operation T).
        if operation != b"T":
            raise CnabError(
                "not_retorno", "O header não indica um arquivo de retorno (código 2).", line=numbers[0]
            )
        unreadable = sorted({*bad, "file_kind", "file_date", "file_time", "sequence"} & set(header))
        for name in unreadable:
            header[name] = None
        defects.append(
            Defect(
                "header_misaligned",
                "Header do arquivo fora do layout: campos ilegíveis ignorados ("
                + ", ".join(unreadable)
                + ").",
                (numbers[0],),
            )
        )
    read_t, read_u = _readers(bank)
    table = bank.occurrences
    nn = bank.nosso_numero
    prefix = lines[0][:3]
    occurrences: list[Occurrence] = []
    append = occurrences.append
    make = partial(tuple.__new__, Occurrence)  # a C call per occurrence (NamedTuple._make is Python)
    lots = 0
    in_lot = False
    lot_lines = lot_details = lot_titles = lot_cents = 0
    pending: tuple[Any, ...] | None = None
    pending_line = 0
    ignored: list[int] = []
    trailer: dict[str, Any] | None = None
    total_titles = total_cents = 0
    checked: set[str] = set()
    last = len(lines) - 1
    k = OccurrenceKind.OTHER
    for i in range(1, len(lines)):
        line = lines[i]
        rt = line[7]
        try:
            if not line.startswith(prefix):
                raise CnabError("mixed_banks", "Registro de outro banco no mesmo arquivo.")
            if rt == 51:  # "3": a detail
                if not in_lot:
                    raise CnabError("bad_structure", "Detalhe fora de um lote.")
                lot_lines += 1
                lot_details += 1
                seg = line[13]
                if seg == 84:  # "T"
                    if pending is not None:
                        raise CnabError(
                            "segment_pair", "Segmento T sem o segmento U que o completa.", line=pending_line
                        )
                    pending = read_t(line)
                    pending_line = numbers[i]
                    lot_titles += 1
                    lot_cents += pending[4]
                elif seg == 85:  # "U"
                    if pending is None:
                        raise CnabError("segment_pair", "Segmento U sem o segmento T que o precede.")
                    t = pending
                    u = read_u(line)
                    if u[0] != t[0]:
                        raise CnabError(
                            "segment_pair", "Segmentos T e U com códigos de movimento diferentes."
                        )
                    found = table.get(t[0])
                    if found is None:
                        kind, description = k, f"Código {t[0]} não documentado para este banco"
                    else:
                        kind, description = found
                    append(
                        make((
                            pending_line, nn(t[1]), t[2], kind, t[0], description, t[3], t[4], u[4], t[5],
                            u[1], u[2], u[3], u[5], u[6], u[7], t[6].strip(),
                        ))
                    )  # fmt: skip
                    pending = None
                else:
                    ignored.append(numbers[i])
                continue
            if pending is not None:
                raise CnabError(
                    "segment_pair", "Segmento T sem o segmento U que o completa.", line=pending_line
                )
            if rt == 49:  # "1"
                if in_lot:
                    raise CnabError("bad_structure", "Header de lote antes do trailer do lote anterior.")
                operation, service = line[8:9], line[9:11]
                if service != b"01" or operation != b"T":
                    raise CnabError(
                        "not_cobranca",
                        f"O lote não é de cobrança (serviço {service.decode('latin-1')!r}, operação "
                        f"{operation.decode('latin-1')!r}): pagamentos (SISPAG) e extratos não são retornos "
                        "de boletos.",
                    )
                in_lot = True
                lots += 1
                lot_lines, lot_details, lot_titles, lot_cents = 1, 0, 0, 0
            elif rt == 53:  # "5"
                if not in_lot:
                    raise CnabError("bad_structure", "Trailer de lote sem header de lote.")
                lot_lines += 1
                lt = bank.lot_trailer.decode(line)
                expected = lot_lines if bank.lot_count == "all" else lot_details
                if lt["records"] != expected:
                    raise CnabError(
                        "trailer_mismatch",
                        f"O trailer do lote declara {lt['records']} registros; o lote tem {expected}.",
                        details={"declared": lt["records"], "found": expected},
                    )
                checked.add("lot_records")
                declared = (lt["simple_titles"], lt["simple_cents"])
                if bank.lot_totals_are_file and declared != (0, 0):
                    if declared != (lot_titles, lot_cents):
                        raise CnabError(
                            "trailer_mismatch",
                            f"O trailer do lote declara {declared[0]} títulos somando {declared[1]} "
                            "centavos; "
                            f"o lote tem {lot_titles} somando {lot_cents}.",
                            details={"declared": declared, "found": (lot_titles, lot_cents)},
                        )
                    checked.add("lot_titles")
                    checked.add("lot_amount")
                total_titles += declared[0]
                total_cents += declared[1]
                in_lot = False
            elif rt == 57:  # "9"
                if in_lot:
                    raise CnabError("bad_structure", "Trailer de arquivo com um lote aberto.")
                if i != last:
                    raise CnabError("bad_structure", "Registros depois do trailer do arquivo.")
                trailer = bank.file_trailer.decode(line)
                if trailer["lots"] != lots or trailer["records"] != len(lines):
                    raise CnabError(
                        "trailer_mismatch",
                        f"O trailer do arquivo declara {trailer['lots']} lote(s) e {trailer['records']} "
                        "registros; "
                        f"o arquivo tem {lots} e {len(lines)}.",
                        details={
                            "declared": (trailer["lots"], trailer["records"]),
                            "found": (lots, len(lines)),
                        },
                    )
                checked.add("file_lots")
                checked.add("file_records")
            elif rt == 48:  # "0"
                raise CnabError("bad_structure", "Um segundo header de arquivo.")
            else:
                raise CnabError("bad_structure", f"Tipo de registro {chr(rt)!r} desconhecido.")
        except CnabError as exc:
            if exc.line:
                raise
            raise CnabError(exc.code, exc.message, line=numbers[i], details=exc.details) from None
    if pending is not None:
        raise CnabError("segment_pair", "Segmento T sem o segmento U que o completa.", line=pending_line)
    if trailer is None:
        raise CnabError("truncated", "O arquivo termina sem o trailer (arquivo incompleto).")
    if ignored:
        defects.append(
            Defect("other_segments", f"{len(ignored)} segmento(s) além de T/U ignorado(s).", tuple(ignored))
        )
    return Retorno(
        bank_code=bank.code,
        bank_name=bank.name,
        layout="cnab240",
        variant=bank.slug,
        agreement=_agreement(header),
        sequence=header.get("sequence"),
        file_date=header.get("file_date"),
        occurrences=tuple(occurrences),
        defects=tuple(defects),
        totals=TrailerTotals(
            records=trailer["records"],
            titles=total_titles,
            amount_cents=total_cents,
            checked=tuple(sorted(checked)),
        ),
    )


# -- CNAB 400 -------------------------------------------------------------------------------------

_D_NAMES = (
    "sequence_number",
    "occurrence",
    "nosso_numero",
    "document_number",
    "occurred_on",
    "due_date",
    "title_cents",
    "fee_cents",
    "interest_cents",
    "discount_cents",
    "abatement_cents",
    "paid_cents",
    "credited_on",
    "reasons",
    "credited_cents",
)
# What a layout without the column reads as: no value (0) for amounts, no date, no text; and no
# net-credited amount (None) where the layout has none (most CNAB 400).
_D_DEFAULTS: dict[str, Any] = {
    "fee_cents": 0,
    "interest_cents": 0,
    "discount_cents": 0,
    "abatement_cents": 0,
    "paid_cents": 0,
    "credited_on": None,
    "due_date": None,
    "occurred_on": None,
    "reasons": "",
    "document_number": "",
    "credited_cents": None,
}
_READERS400: dict[tuple[str, str], Callable[[bytes], tuple[Any, ...]]] = {}


def _reader400(bank: Cnab400Bank, rt: str) -> Callable[[bytes], tuple[Any, ...]]:
    reader = _READERS400.get((bank.slug, rt))
    if reader is not None:
        return reader
    reader = bank.details[rt].reader(*_D_NAMES, defaults=_D_DEFAULTS)
    _READERS400[(bank.slug, rt)] = reader
    return reader


def _parse400(lines: list[bytes], numbers: list[int], defects: list[Defect]) -> Retorno:
    lines = fit_lines(lines, numbers, 400, defects)
    code = lines[0][76:79].decode("latin-1")
    bank = CNAB400.get(code)
    if bank is None or not bank.details:
        raise CnabError("unknown_bank", f"Banco {code} sem layout de retorno CNAB 400 neste sistema.")
    header, bad = bank.header.decode_lenient(lines[0])
    if bad:
        for name in bad:
            header[name] = None
        defects.append(
            Defect(
                "header_misaligned",
                "Header do arquivo fora do layout: campos ilegíveis ignorados (" + ", ".join(bad) + ").",
                (numbers[0],),
            )
        )
    table = bank.occurrences
    nn = bank.nosso_numero
    occurrences: list[Occurrence] = []
    append = occurrences.append
    make = partial(tuple.__new__, Occurrence)
    trailer: dict[str, Any] | None = None
    last = len(lines) - 1
    extra: list[int] = []
    readers = {ord(k): _reader400(bank, k) for k in bank.details}
    # Itaú's settlements carry the net credited amount where others carry the amount paid.
    net = bank.paid_is_net
    settled = OccurrenceKind.SETTLED
    extra_types = {ord(k) for k in bank.extra_records}
    for i in range(1, len(lines)):
        line = lines[i]
        rt = line[0]
        read = readers.get(rt)
        try:
            if read is not None:
                d = read(line)
                if d[0] != i + 1:
                    raise CnabError(
                        "sequence_mismatch",
                        f"Número sequencial {d[0]} no {i + 1}º registro do arquivo "
                        "(registros fora de ordem ou faltando).",
                    )
                found = table.get(d[1])
                kind, description = found if found is not None else _kind(table, d[1])
                if net and kind is settled:
                    # The column holds what was credited: the payer paid it plus the fee.
                    append(
                        make((
                            numbers[i], nn(d[2]), d[3].strip(), kind, d[1], description, d[5], d[6],
                            d[11] + d[7], d[7], d[8], d[9], d[10], d[11], d[4], d[12], d[13].strip(),
                        ))
                    )  # fmt: skip
                    continue
                append(
                    make((
                        numbers[i], nn(d[2]), d[3].strip(), kind, d[1], description, d[5], d[6], d[11], d[7],
                        d[8], d[9], d[10], d[14], d[4], d[12], d[13].strip(),
                    ))
                )  # fmt: skip
            elif rt in extra_types:
                extra.append(numbers[i])
            elif rt == 57:  # "9"
                if i != last:
                    raise CnabError("bad_structure", "Registros depois do trailer do arquivo.")
                trailer = bank.trailer.decode(line)
                if trailer["sequence_number"] != i + 1:
                    raise CnabError(
                        "sequence_mismatch",
                        f"Número sequencial {trailer['sequence_number']} no trailer ({i + 1}).",
                    )
            else:
                raise CnabError("bad_structure", f"Tipo de registro {chr(rt)!r} desconhecido neste layout.")
        except CnabError as exc:
            if exc.line:
                raise
            raise CnabError(exc.code, exc.message, line=numbers[i], details=exc.details) from None
    if trailer is None:
        raise CnabError("truncated", "O arquivo termina sem o trailer (arquivo incompleto).")
    if extra:
        defects.append(
            Defect(
                "other_records",
                f"{len(extra)} registro(s) complementares (ex.: PIX) não lidos.",
                tuple(extra),
            )
        )
    checked = ["sequence_numbers"]
    titles: int | None = None
    amount: int | None = None
    for check in bank.trailer_checks:
        subset = [o for o in occurrences if not check.codes or o.code in check.codes]
        declared_count = trailer[check.count_field]
        found_count = len(subset)
        if declared_count != found_count:
            raise CnabError(
                "trailer_mismatch",
                f"O trailer declara {declared_count} registro(s) ({check.count_field}); "
                f"o arquivo tem {found_count}.",
                line=numbers[last],
                details={"field": check.count_field, "declared": declared_count, "found": found_count},
            )
        checked.append(check.count_field)
        if check.amount_field is not None:
            declared_cents = trailer[check.amount_field]
            found_cents = sum(getattr(o, check.value) for o in subset)
            if declared_cents != found_cents:
                raise CnabError(
                    "trailer_mismatch",
                    f"O trailer declara {declared_cents} centavos ({check.amount_field}); os registros somam "
                    f"{found_cents}.",
                    line=numbers[last],
                    details={"field": check.amount_field, "declared": declared_cents, "found": found_cents},
                )
            checked.append(check.amount_field)
        if titles is None and not check.codes:
            titles = declared_count
            amount = trailer[check.amount_field] if check.amount_field else None
    return Retorno(
        bank_code=bank.code,
        bank_name=bank.name,
        layout="cnab400",
        variant=bank.slug,
        agreement=_agreement(header),
        sequence=header.get("sequence"),
        file_date=header.get("file_date"),
        occurrences=tuple(occurrences),
        defects=tuple(defects),
        totals=TrailerTotals(records=len(lines), titles=titles, amount_cents=amount, checked=tuple(checked)),
    )


def _digits_key(value: str) -> str:
    """A code as a comparable key: digits only, without the zero padding the layouts add."""
    return "".join(c for c in value if c.isalnum()).lstrip("0")


def check_agreement(retorno: Retorno, agreement: Agreement) -> None:
    """Refuse a retorno that is not of ``agreement`` (another bank, another convênio, or another
    branch/account when the file states no convênio). Zero padding and separators do not count."""
    if retorno.bank_code != agreement.bank_code:
        raise CnabError(
            "other_agreement",
            f"O arquivo é do banco {retorno.bank_code}; "
            f"o convênio escolhido é do banco {agreement.bank_code}.",
        )
    stated = retorno.agreement
    if stated.agreement_code and agreement.agreement_code:
        if _digits_key(stated.agreement_code) != _digits_key(agreement.agreement_code):
            raise CnabError(
                "other_agreement",
                f"O arquivo é do convênio {stated.agreement_code}, "
                f"não do convênio {agreement.agreement_code}.",
            )
        return
    if stated.account and (
        _digits_key(stated.account) != _digits_key(agreement.account)
        or (stated.branch and _digits_key(stated.branch) != _digits_key(agreement.branch))
    ):
        raise CnabError(
            "other_agreement",
            f"O arquivo é da agência/conta {stated.branch}/{stated.account}, não de "
            f"{agreement.branch}/{agreement.account}.",
        )
    if not stated.account and not stated.agreement_code:
        raise CnabError("other_agreement", "O arquivo não identifica o convênio: não é possível conferi-lo.")
