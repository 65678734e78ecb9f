"""Bank statements (OFX and the main banks' CSV exports) read into ``StatementLine``s: pure, no I/O.

Why our own OFX reader and not a library from PyPI. We tried the candidates on files shaped like
Brazilian banks' (November 2026):

- ofxtools 1.1.1 (maintained: released 2026-06, CI on Python 3.10-3.13) is a strict, spec-validating
  parser. It reads comma decimals, space-padded ``TRNAMT``, ``[-03:EST]`` labels, cp1252 text and a
  leading blank line, but refuses whole files for defects Brazilian banks ship every day: ``DTSERVER``
  all zeros, a ``TRNTYPE`` outside the spec's list (PagSeguro's ``IN``/``OUT``), a missing
  ``LEDGERBAL``, a header that says UTF-8 over cp1252 bytes, a file without the ``OFXHEADER`` block.
  Wrapping it would mean repairing the file first and still losing it to the next defect.
- ofxparse 0.21 (last release 2021) fails on the first accented byte unless the header's charset is
  exactly right, and is no longer released.

So the reader below is ~150 lines of tolerant SGML/XML reading that keeps only what reconciliation
needs, and reports every defect it tolerated (``Statement.defects``, stable codes). ofxtools stays
in the dev group as a differential oracle: on spec-conforming files both must agree (tests).

CSV exports whose public layout we could document (public parsers and bank-export samples, 2025-26):
Banco do Brasil, Itaú, Bradesco, Caixa, Nubank and Inter (``CSV_LAYOUTS``). Santander is left out:
no public source showed its export's columns consistently enough to parse it without guessing.

Money is integer centavos (credit +, debit -). Dates are the calendar date the bank wrote: Brazilian
banks label local times with any zone (``[-03:EST]``, ``[0:GMT]`` at local midnight), so converting
through the label would move credits to the previous day.

A file we cannot read right is refused whole (``StatementRejected``: stable ``code``, pt-BR
``message``, ``details`` with the line), never read half-wrong.
"""

from __future__ import annotations

import csv
import hashlib
import html
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

MAX_STATEMENT_BYTES = 10 * 1024 * 1024


class LineKind(StrEnum):
    CREDIT = "credit"
    DEBIT = "debit"
    FEE = "fee"  # a bank charge (tarifa): reconciliation may account it to a settlement


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One movement on the account. ``line_id`` is stable across uploads of the same movement (the
    bank's FITID when it is unique in the file, else a hash of the movement and its occurrence)."""

    line_id: str
    posted_on: date
    amount_cents: int
    description: str
    kind: LineKind
    fit_id: str | None = None
    document: str | None = None  # the bank's document/check number (CHECKNUM, REFNUM, Docto., Nr_Doc)


@dataclass(frozen=True, slots=True)
class Statement:
    source: str  # "ofx" or a CSV layout key ("csv:itau", ...)
    bank_code: str | None  # FEBRABAN/COMPE code when the file says it ("341")
    account: str | None
    start: date | None
    end: date | None
    lines: tuple[StatementLine, ...]
    defects: tuple[str, ...] = ()  # tolerated defects, stable codes (see DEFECTS)


DEFECTS = {
    "missing_header": "Arquivo OFX sem o cabeçalho OFXHEADER.",
    "leading_blank_lines": "Linhas em branco antes do cabeçalho.",
    "encoding_mislabelled": "O cabeçalho declara uma codificação que não é a do texto.",
    "dtserver_invalid": "DTSERVER zerado ou inválido.",
    "odd_timezone_label": "Fuso horário com rótulo incoerente (ex.: [-03:EST]); vale a data escrita.",
    "comma_decimal": "Valores com vírgula decimal.",
    "padded_amount": "Valores com espaços à esquerda.",
    "balance_lines_skipped": "Linhas de saldo ignoradas (não são movimentos).",
    "zero_amount_skipped": "Lançamentos de valor zero ignorados.",
    "duplicate_fitid": "FITID repetido no arquivo; as linhas receberam identificadores próprios.",
}

REFUSALS = {
    "empty_file": "O arquivo está vazio.",
    "file_too_large": "O arquivo é grande demais para um extrato (máximo de 10 MB).",
    "spreadsheet_or_pdf": "Envie o extrato em OFX ou CSV: arquivos PDF e planilhas do Excel não são lidos.",
    "unknown_format": "O arquivo não é um extrato OFX nem um CSV de banco conhecido (Banco do Brasil, "
    "Itaú, Bradesco, Caixa, Nubank ou Inter). Exporte o extrato em OFX pelo internet banking.",
    "ofx_malformed": "O arquivo OFX está malformado e não pôde ser lido.",
    "ofx_no_statement": "O arquivo OFX não contém um extrato de conta.",
    "several_accounts": "O arquivo OFX traz extratos de mais de uma conta; envie um arquivo por conta.",
    "not_brl": "O extrato não está em reais (BRL).",
    "bad_date": "Data inválida no extrato.",
    "bad_amount": "Valor inválido no extrato.",
}


class StatementRejected(Exception):
    """The file cannot be trusted: ``code`` is stable (never branch on ``message``, which is pt-BR);
    ``details`` says where (``line`` is 1-based in the file, or the transaction's FITID)."""

    def __init__(self, code: str, *, detail: str | None = None, **details: Any) -> None:
        self.code = code
        base = REFUSALS.get(code, "O extrato foi recusado.")
        self.message = f"{base} {detail}" if detail else base
        self.details = details
        super().__init__(f"{code}: {self.message}")


# --- amounts, dates, text -------------------------------------------------------------------------

DecimalMark = Literal[",", ".", "ofx", "auto"]
_AMOUNT = re.compile(r"^([+-]?)(\d[\d.,]*|[.,]\d+)([+-]?)$")


def parse_amount(text: str, decimal: DecimalMark = "auto") -> int:
    """Centavos from a bank's amount text: ``1.234,56`` (pt-BR), ``1234.56``, ``-12,8``, ``R$ 9,90``,
    ``1.234,56 D``/``C``, ``(9,90)``, with any padding. ``decimal`` says which separator marks the
    cents: ``,`` (pt-BR, ``.`` groups thousands), ``.``, ``ofx`` (a single separator of either kind is
    the decimal one, as the OFX spec allows) or ``auto`` (the last separator is decimal when both
    appear; a single ``.`` followed by exactly three digits groups thousands). ValueError when the
    text is not an amount or has fractions of a centavo."""
    s = "".join(text.replace("\xa0", " ").split()).upper().removeprefix("R$")
    sign = 1
    if s.startswith("(") and s.endswith(")"):
        s, sign = s[1:-1], -1
    if s[-1:] in ("C", "D"):
        sign = sign * (-1 if s[-1] == "D" else 1)
        s = s[:-1]
    match = _AMOUNT.match(s)
    if not match or (match.group(1) and match.group(3)):
        raise ValueError(f"not an amount: {text!r}")
    if "-" in (match.group(1), match.group(3)):
        sign = -sign
    body = match.group(2)
    point = _decimal_point(body, decimal)
    integer, fraction = (body[:point], body[point + 1 :]) if point != -1 else (body, "")
    groups = re.split(r"[.,]", integer)
    grouped = 1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])
    if len(groups) > 1 and not (grouped and len(set(re.findall(r"[.,]", integer))) == 1):
        raise ValueError(f"misplaced thousands separator: {text!r}")
    integer = "".join(groups)
    if not (integer or fraction) or not (integer + fraction).isdigit():
        raise ValueError(f"not an amount: {text!r}")
    if len(fraction) > 2:
        if fraction[2:].strip("0"):
            raise ValueError(f"fractions of a centavo: {text!r}")
        fraction = fraction[:2]
    return sign * (int(integer or "0") * 100 + int(fraction.ljust(2, "0")))


def _decimal_point(body: str, decimal: DecimalMark) -> int:
    """Where the decimal separator is in ``body`` (-1: none, the whole text is reais)."""
    if decimal in (",", "."):
        other = "." if decimal == "," else ","
        point = body.rfind(decimal)
        if body.count(decimal) > 1 or (point != -1 and other in body[point:]):
            raise ValueError(f"not an amount in this format: {body!r}")
        return point
    separators = set(re.findall(r"[.,]", body))
    if not separators:
        return -1
    last = max(body.rfind(","), body.rfind("."))
    if len(separators) == 1 and body.count(body[last]) > 1:
        return -1  # several separators of one kind only group thousands (1.234.567)
    if decimal == "auto" and len(separators) == 1 and body[last] == "." and len(body) - last - 1 == 3:
        return -1  # pt-BR thousands: 1.234
    return last


def _fold(text: str) -> str:
    """Lower case without accents and with single spaces: what we compare headers and labels by."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.lower().replace('"', " ").split())


_BALANCE = re.compile(
    r"^(saldo( anterior| do dia| total| dia| ant\b| final| em conta| disponivel|$)|s a l d o|"
    r"saldo total disponivel dia)"
)
_FEE = re.compile(r"\b(tarifa|tar|taxa|cesta|mensalidade|custas|manutencao)\b")


def _is_balance(description: str) -> bool:
    return bool(_BALANCE.match(_fold(description)))


def _kind(amount_cents: int, description: str, trntype: str = "") -> LineKind:
    if amount_cents > 0:
        return LineKind.CREDIT
    if trntype in ("FEE", "SRVCHG") or _FEE.search(_fold(description)):
        return LineKind.FEE
    return LineKind.DEBIT


def line_kind(amount_cents: int, description: str, trntype: str = "") -> LineKind:
    """What a movement is, from its sign and the bank's text (a stored line has no TRNTYPE): a
    credit, a tariff debit, or another debit."""
    return _kind(amount_cents, description, trntype)


def _decode(data: bytes, declared: str | None) -> tuple[str, bool]:
    """The text, and whether the declared encoding was wrong. Brazilian files declare UTF-8 or
    USASCII over cp1252 bytes often enough that the declaration is only a first guess."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    tried = [c for c in (declared, "utf-8", "cp1252", "latin-1") if c]
    for codec in tried:
        try:
            return data.decode(codec), declared is not None and codec != tried[0]
        except (UnicodeDecodeError, LookupError):
            continue
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def _line_ids(rows: Sequence[tuple[date, int, str, str | None, str | None]]) -> list[str]:
    """FITID when unique in the file, else a hash of the movement and its occurrence among equal ones
    (the same statement uploaded twice, or two overlapping periods, give the same ids)."""
    fit_counts = Counter(fit for _, _, _, fit, _ in rows if fit)
    seen: Counter[tuple[date, int, str, str | None]] = Counter()
    ids = []
    for posted_on, amount, description, fit, document in rows:
        if fit and fit_counts[fit] == 1:
            ids.append(fit)
            continue
        key = (posted_on, amount, description, document)
        seen[key] += 1
        text = f"{posted_on.isoformat()}|{amount}|{description}|{document or ''}|{fit or ''}|{seen[key]}"
        digest = hashlib.sha256(text.encode()).hexdigest()
        ids.append(f"h:{digest[:24]}")
    return ids


def _build_lines(
    raw: Iterable[tuple[date, int, str, str | None, str | None, str]],
) -> tuple[list[StatementLine], bool]:
    rows = list(raw)
    keys = [(d, a, desc, fit, doc) for d, a, desc, fit, doc, _ in rows]
    ids = _line_ids(keys)
    duplicate_fit = any(fit and not i.startswith(fit) for (_, _, _, fit, _), i in zip(keys, ids, strict=True))
    lines = [
        StatementLine(
            line_id=line_id,
            posted_on=posted_on,
            amount_cents=amount,
            description=description,
            kind=_kind(amount, description, trntype),
            fit_id=fit,
            document=document,
        )
        for (posted_on, amount, description, fit, document, trntype), line_id in zip(rows, ids, strict=True)
    ]
    return lines, duplicate_fit


# --- OFX ------------------------------------------------------------------------------------------

_PROCESSING = re.compile(r"<\?.*?\?>|<!--.*?-->", re.S)
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9._]*)\s*>([^<]*)")
_AGGREGATES = frozenset(
    (
        "OFX",
        "SIGNONMSGSRSV1",
        "SONRS",
        "STATUS",
        "FI",
        "BANKMSGSRSV1",
        "STMTTRNRS",
        "STMTRS",
        "BANKACCTFROM",
        "BANKACCTTO",
        "BANKTRANLIST",
        "STMTTRN",
        "LEDGERBAL",
        "AVAILBAL",
        "BALLIST",
        "BAL",
        "CREDITCARDMSGSRSV1",
        "CCSTMTTRNRS",
        "CCSTMTRS",
        "CCACCTFROM",
        "CCACCTTO",
        "PAYEE",
        "CURRENCY",
        "ORIGCURRENCY",
    )
)
_LEAVES = frozenset(
    (
        "CODE",
        "SEVERITY",
        "MESSAGE",
        "DTSERVER",
        "LANGUAGE",
        "ORG",
        "FID",
        "TRNUID",
        "CURDEF",
        "BANKID",
        "BRANCHID",
        "ACCTID",
        "ACCTTYPE",
        "DTSTART",
        "DTEND",
        "TRNTYPE",
        "DTPOSTED",
        "DTUSER",
        "DTAVAIL",
        "TRNAMT",
        "FITID",
        "CORRECTFITID",
        "CHECKNUM",
        "REFNUM",
        "SIC",
        "PAYEEID",
        "NAME",
        "MEMO",
        "BALAMT",
        "DTASOF",
        "INTU.BID",
    )
)
_OFX_DATE = re.compile(r"^\s*(\d{4})(\d{2})(\d{2})(\d{0,6})(?:\.\d+)?\s*(?:\[([^\]]*)\])?\s*$")
_ZONES = {"GMT": 0, "UTC": 0, "Z": 0, "BRT": -3, "BRST": -2, "AMT": -4, "FNT": -2, "ACT": -5}


@dataclass
class _Node:
    name: str
    children: list[_Node] = field(default_factory=list)
    leaves: list[tuple[str, str]] = field(default_factory=list)

    def get(self, name: str) -> str | None:
        return next((v for n, v in self.leaves if n == name), None)

    def find(self, name: str) -> _Node | None:
        return next(self.iter(name), None)

    def iter(self, name: str) -> Iterator[_Node]:
        for child in self.children:
            if child.name == name:
                yield child
            yield from child.iter(name)


def _ofx_tree(body: str) -> _Node:
    body = _PROCESSING.sub("", body)
    closed = {m.group(1) for m in re.finditer(r"</([A-Za-z][A-Za-z0-9._]*)\s*>", body)}
    root = _Node("#root")
    stack = [root]
    for match in _TAG.finditer(body):
        closing, name, text = match.group(1) == "/", match.group(2).upper(), match.group(3)
        if closing:
            for depth in range(len(stack) - 1, 0, -1):
                if stack[depth].name == name:
                    del stack[depth:]
                    break
            continue  # a leaf's optional end tag (</TRNAMT>) closes nothing
        value = " ".join(html.unescape(text).split())
        aggregate = name in _AGGREGATES or (name not in _LEAVES and name in closed)
        if value or not aggregate:
            stack[-1].leaves.append((name, value))
        else:
            node = _Node(name)
            stack[-1].children.append(node)
            stack.append(node)
    return root


def _ofx_date(text: str | None) -> tuple[date | None, bool]:
    """The written calendar date (None when absent or invalid) and whether the zone label is odd."""
    match = _OFX_DATE.match(text or "")
    if not match:
        return None, False
    try:
        day = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None, False
    zone = match.group(5)
    odd = False
    if zone is not None:
        offset, _, label = zone.partition(":")
        try:
            hours = float(offset)
        except ValueError:
            odd = True
        else:
            known = _ZONES.get(label.strip().upper()) if label else None
            odd = (label != "" and known is None) or (known is not None and known != hours)
    return day, odd


def _ofx_header(text: str) -> tuple[dict[str, str], str]:
    """The SGML header's KEY:VALUE pairs (or the XML declarations' attributes) and the body."""
    start = text.find("<")
    head = text[:start] if start != -1 else text
    pairs = {}
    for line in head.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            pairs[key.strip().upper()] = value.strip()
    for attr in re.finditer(r'(\w+)\s*=\s*"([^"]*)"', "".join(re.findall(r"<\?.*?\?>", text[:2048], re.S))):
        pairs.setdefault(attr.group(1).upper(), attr.group(2))
    return pairs, text[start:] if start != -1 else ""


def _declared_codec(header: dict[str, str]) -> str | None:
    charset = header.get("CHARSET", "").upper()
    encoding = header.get("ENCODING", "").upper()
    if charset in ("1252", "WINDOWS-1252", "CP1252"):
        return "cp1252"
    if charset in ("ISO-8859-1", "8859-1", "LATIN1", "ISO8859-1"):
        return "latin-1"
    if encoding in ("UTF-8", "UTF8"):
        return "utf-8"
    if encoding == "USASCII":
        return "ascii"
    return None


def looks_like_ofx(data: bytes) -> bool:
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").upper()
    return head.startswith(b"OFXHEADER") or b"<OFX>" in head or (head.startswith(b"<?XML") and b"OFX" in head)


def parse_ofx(data: bytes) -> Statement:
    """An OFX 1.x (SGML) or 2.x (XML) bank or card statement."""
    _check_size(data)
    defects: set[str] = set()
    stripped = data.removeprefix(b"\xef\xbb\xbf")
    if stripped[:1] in (b"\r", b"\n", b" ", b"\t"):
        defects.add("leading_blank_lines")
    stripped = stripped.lstrip()
    header, _ = _ofx_header(stripped[:4096].decode("latin-1"))
    text, mislabelled = _decode(stripped, _declared_codec(header))
    if mislabelled:
        defects.add("encoding_mislabelled")
    header, body = _ofx_header(text)
    if "OFXHEADER" not in header:
        defects.add("missing_header")
    if "<OFX" not in body[:8192].upper():
        raise StatementRejected("ofx_malformed", detail="Falta o elemento <OFX>.")
    root = _ofx_tree(body)
    if re.search(r"<TRNAMT>[ \t]+[-+\d.,]", body, re.I):
        defects.add("padded_amount")
    server_date = next((n.get("DTSERVER") for n in root.iter("SONRS")), None)
    if server_date is not None and _ofx_date(server_date)[0] is None:
        defects.add("dtserver_invalid")
    statements = list(root.iter("STMTRS")) + list(root.iter("CCSTMTRS"))
    if not statements:
        raise StatementRejected("ofx_no_statement")
    accounts = set()
    for stmt in statements:
        acct = stmt.find("BANKACCTFROM") or stmt.find("CCACCTFROM")
        accounts.add(((acct.get("BANKID") if acct else None), (acct.get("ACCTID") if acct else None)))
        currency = (stmt.get("CURDEF") or "BRL").upper()
        if currency != "BRL":
            raise StatementRejected("not_brl", currency=currency)
    if len(accounts) > 1:
        raise StatementRejected("several_accounts")
    bank_code, account = accounts.pop()
    raw = []
    starts: list[date] = []
    ends: list[date] = []
    for stmt in statements:
        tranlist = stmt.find("BANKTRANLIST")
        if tranlist is None:
            continue
        for key, bucket in (("DTSTART", starts), ("DTEND", ends)):
            day, odd = _ofx_date(tranlist.get(key))
            if day:
                bucket.append(day)
            if odd:
                defects.add("odd_timezone_label")
        for trn in tranlist.iter("STMTTRN"):
            fit_id = trn.get("FITID") or None
            posted_on, odd = _ofx_date(trn.get("DTPOSTED"))
            if odd:
                defects.add("odd_timezone_label")
            if posted_on is None:
                raise StatementRejected(
                    "bad_date", detail=f"Transação {fit_id or '?'}: {trn.get('DTPOSTED')!r}.", fit_id=fit_id
                )
            amount_text = trn.get("TRNAMT")
            try:
                amount = parse_amount(amount_text or "", "ofx")
            except ValueError:
                raise StatementRejected(
                    "bad_amount", detail=f"Transação {fit_id or '?'}: {amount_text!r}.", fit_id=fit_id
                ) from None
            if "," in (amount_text or ""):
                defects.add("comma_decimal")
            parts = [p for p in (trn.get("NAME"), trn.get("MEMO")) if p]
            description = " - ".join(dict.fromkeys(parts))
            if _is_balance(description):
                defects.add("balance_lines_skipped")
                continue
            if amount == 0:
                defects.add("zero_amount_skipped")
                continue
            document = trn.get("CHECKNUM") or trn.get("REFNUM") or None
            raw.append((posted_on, amount, description, fit_id, document, (trn.get("TRNTYPE") or "").upper()))
    lines, duplicate_fit = _build_lines(raw)
    if duplicate_fit:
        defects.add("duplicate_fitid")
    dates = [line.posted_on for line in lines]
    return Statement(
        source="ofx",
        bank_code=bank_code.lstrip("0").zfill(3) if bank_code and bank_code.isdigit() else bank_code,
        account=account,
        start=min(starts, default=min(dates, default=None)),
        end=max(ends, default=max(dates, default=None)),
        lines=tuple(lines),
        defects=tuple(sorted(defects)),
    )


# --- CSV ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CsvLayout:
    """One bank's CSV export, as data. Header cells are compared folded (lower case, no accents)."""

    key: str
    bank_code: str
    name: str
    delimiter: str
    header: tuple[str, ...]
    date_column: str
    date_formats: tuple[str, ...]
    description_columns: tuple[str, ...]
    decimal: DecimalMark
    amount_column: str | None = None
    credit_column: str | None = None
    debit_column: str | None = None
    sign_column: str | None = None  # "C"/"D" beside an unsigned amount
    fit_id_column: str | None = None
    document_column: str | None = None
    continuation_rows: bool = False  # a row without a date continues the previous row's description
    footer_markers: tuple[str, ...] = ()  # a date cell starting with one of these ends the table
    source_note: str = ""


CSV_LAYOUTS: tuple[CsvLayout, ...] = (
    CsvLayout(
        key="bb",
        bank_code="001",
        name="Banco do Brasil",
        delimiter=",",
        header=(
            "data",
            "dependencia origem",
            "historico",
            "data do balancete",
            "numero do documento",
            "valor",
        ),
        date_column="data",
        date_formats=("%d/%m/%Y",),
        description_columns=("historico",),
        amount_column="valor",
        decimal="auto",
        document_column="numero do documento",
        source_note="Extrato conta corrente, 'Salvar em CSV': quoted cells, latin-1, signed amounts, "
        "'Saldo Anterior' and 'S A L D O' rows.",
    ),
    CsvLayout(
        key="itau",
        bank_code="341",
        name="Itaú",
        delimiter=";",
        header=("data", "lancamento", "ag./origem", "valor (r$)", "saldos (r$)"),
        date_column="data",
        date_formats=("%d/%m/%Y",),
        description_columns=("lancamento",),
        amount_column="valor (r$)",
        decimal=",",
        source_note="Extrato conta corrente exported as CSV: a preamble of account lines, latin-1, "
        "pt-BR signed amounts, 'SALDO ANTERIOR' and 'SALDO TOTAL DISPONÍVEL DIA' rows.",
    ),
    CsvLayout(
        key="bradesco",
        bank_code="237",
        name="Bradesco",
        delimiter=";",
        header=("data", "historico", "docto.", "credito (r$)", "debito (r$)", "saldo (r$)"),
        date_column="data",
        date_formats=("%d/%m/%y", "%d/%m/%Y"),
        description_columns=("historico",),
        credit_column="credito (r$)",
        debit_column="debito (r$)",
        decimal=",",
        document_column="docto.",
        continuation_rows=True,
        footer_markers=("total", "ultimos lancamentos", "saldos invest"),
        source_note="'Extrato de: Ag: ... | Conta: ... | Entre ... e ...' preamble, dd/mm/yy dates, "
        "credit and debit columns, continuation rows starting with ';', a 'Total' footer, latin-1.",
    ),
    CsvLayout(
        key="caixa",
        bank_code="104",
        name="Caixa",
        delimiter=";",
        header=("conta", "data_mov", "nr_doc", "historico", "valor", "deb_cred"),
        date_column="data_mov",
        date_formats=("%Y%m%d",),
        description_columns=("historico",),
        amount_column="valor",
        sign_column="deb_cred",
        decimal="auto",
        document_column="nr_doc",
        source_note="'Conta;Data_Mov;Nr_Doc;Historico;Valor;Deb_Cred', yyyymmdd dates, unsigned amounts "
        "with C/D, 'SALDO DIA'/'SALDO ANT' rows.",
    ),
    CsvLayout(
        key="nubank",
        bank_code="260",
        name="Nubank",
        delimiter=",",
        header=("data", "valor", "identificador", "descricao"),
        date_column="data",
        date_formats=("%d/%m/%Y",),
        description_columns=("descricao",),
        amount_column="valor",
        decimal=".",
        fit_id_column="identificador",
        source_note="Conta (not the card's bill): 'Data,Valor,Identificador,Descrição', UTF-8, signed "
        "amounts with a decimal point, a UUID per movement.",
    ),
    CsvLayout(
        key="inter",
        bank_code="077",
        name="Inter",
        delimiter=";",
        header=("data lancamento", "historico", "descricao", "valor", "saldo"),
        date_column="data lancamento",
        date_formats=("%d/%m/%Y",),
        description_columns=("historico", "descricao"),
        amount_column="valor",
        decimal=",",
        source_note="'Extrato Conta Corrente' preamble (account, period, balance), then "
        "'Data Lançamento;Histórico;Descrição;Valor;Saldo', pt-BR signed amounts.",
    ),
)


def _find_header(lines: Sequence[str]) -> tuple[CsvLayout, int] | None:
    for index, text in enumerate(lines[:40]):
        for layout in CSV_LAYOUTS:
            if layout.delimiter not in text:
                continue
            cells = [_fold(c) for c in next(csv.reader([text], delimiter=layout.delimiter), [])]
            while cells and not cells[-1]:
                cells.pop()
            if tuple(cells) == layout.header:
                return layout, index
    return None


def _parse_date(text: str, formats: Sequence[str]) -> date | None:
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date, no time
        except ValueError:
            continue
    return None


def parse_csv(data: bytes) -> Statement:
    """A CSV export of one of ``CSV_LAYOUTS``, recognised by its header row (after any preamble)."""
    _check_size(data)
    text, _ = _decode(data, None)
    lines = text.splitlines()
    found = _find_header(lines)
    if found is None:
        raise StatementRejected("unknown_format")
    layout, header_index = found
    col = {name: i for i, name in enumerate(layout.header)}
    defects: set[str] = set()
    pending: list[list[Any]] = []  # [date, amount, description parts, fit, document, line number]
    reader = csv.reader(lines[header_index + 1 :], delimiter=layout.delimiter)
    for offset, cells in enumerate(reader):
        number = header_index + 2 + offset
        cells = [c.strip() for c in cells] + [""] * (len(layout.header) - len(cells))
        if not any(cells):
            continue
        date_text = cells[col[layout.date_column]]
        description = " ".join(
            " ".join(cells[col[c]].split()) for c in layout.description_columns if cells[col[c]]
        )
        if layout.footer_markers and _fold(date_text).startswith(layout.footer_markers):
            break
        if not date_text:
            if layout.continuation_rows and pending and description and not _has_amount(cells, layout, col):
                pending[-1][2].append(description)
                continue
            if not _has_amount(cells, layout, col):
                continue  # an informational row
            raise StatementRejected("bad_date", detail=f"Linha {number}: sem data.", line=number)
        posted_on = _parse_date(date_text, layout.date_formats)
        if posted_on is None:
            if not _has_amount(cells, layout, col):
                continue
            raise StatementRejected("bad_date", detail=f"Linha {number}: {date_text!r}.", line=number)
        if _is_balance(description):
            defects.add("balance_lines_skipped")
            continue
        amount = _csv_amount(cells, layout, col, number)
        if amount == 0:
            defects.add("zero_amount_skipped")
            continue
        fit = cells[col[layout.fit_id_column]] or None if layout.fit_id_column else None
        document = cells[col[layout.document_column]] or None if layout.document_column else None
        pending.append([posted_on, amount, [description], fit, document, number])
    built, duplicate_fit = _build_lines(
        (d, a, " ".join(" ".join(parts).split()), fit, doc, "") for d, a, parts, fit, doc, _ in pending
    )
    if duplicate_fit:
        defects.add("duplicate_fitid")
    dates = [line.posted_on for line in built]
    return Statement(
        source=f"csv:{layout.key}",
        bank_code=layout.bank_code,
        account=None,
        start=min(dates, default=None),
        end=max(dates, default=None),
        lines=tuple(built),
        defects=tuple(sorted(defects)),
    )


def _has_amount(cells: Sequence[str], layout: CsvLayout, col: dict[str, int]) -> bool:
    names = (layout.amount_column, layout.credit_column, layout.debit_column)
    return any(cells[col[n]] for n in names if n)


def _csv_amount(cells: Sequence[str], layout: CsvLayout, col: dict[str, int], number: int) -> int:
    def amount(name: str) -> int:
        text = cells[col[name]]
        try:
            return parse_amount(text, layout.decimal)
        except ValueError:
            raise StatementRejected("bad_amount", detail=f"Linha {number}: {text!r}.", line=number) from None

    if layout.amount_column:
        value = amount(layout.amount_column)
        if layout.sign_column:
            flag = cells[col[layout.sign_column]].upper()
            if flag not in ("C", "D"):
                raise StatementRejected(
                    "bad_amount", detail=f"Linha {number}: indicador {flag!r} (esperado C ou D).", line=number
                )
            value = abs(value) if flag == "C" else -abs(value)
        return value
    assert layout.credit_column
    assert layout.debit_column
    credit, debit = cells[col[layout.credit_column]], cells[col[layout.debit_column]]
    if bool(credit) == bool(debit):
        raise StatementRejected(
            "bad_amount", detail=f"Linha {number}: informe crédito ou débito, não ambos.", line=number
        )
    return abs(amount(layout.credit_column)) if credit else -abs(amount(layout.debit_column))


# --- entry point ----------------------------------------------------------------------------------


def _check_size(data: bytes) -> None:
    if not data.strip():
        raise StatementRejected("empty_file")
    if len(data) > MAX_STATEMENT_BYTES:
        raise StatementRejected("file_too_large")


_BINARY = (b"%PDF", b"PK\x03\x04", b"\xd0\xcf\x11\xe0")  # PDF, xlsx (zip), xls (OLE)


def parse_statement(data: bytes) -> Statement:
    """Any statement we read: OFX (1.x or 2.x) or a known bank's CSV export; ``StatementRejected``
    with a clear reason for anything else."""
    _check_size(data)
    if data.lstrip()[:4] in _BINARY or data[:4] in _BINARY:
        raise StatementRejected("spreadsheet_or_pdf")
    if looks_like_ofx(data):
        return parse_ofx(data)
    return parse_csv(data)
