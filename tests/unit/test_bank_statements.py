"""Bank statements read right or refused: the OFX quirks Brazilian banks ship, each bank's CSV export,
and a clear refusal for what we cannot trust. Fixtures in tests/fixtures/statements (our own files,
README there)."""

from __future__ import annotations

import io
import warnings
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ofxtools.Parser import OFXTree  # the strict, maintained parser: the oracle (dev group only)

from assistec.domain.banking.statements import (
    CSV_LAYOUTS,
    DEFECTS,
    REFUSALS,
    LineKind,
    StatementRejected,
    parse_amount,
    parse_csv,
    parse_ofx,
    parse_statement,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "statements"


def _read(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _amounts(name: str) -> list[tuple[date, int, LineKind]]:
    return [(line.posted_on, line.amount_cents, line.kind) for line in parse_statement(_read(name)).lines]


# The same four movements, in every bank's CSV: a batch cobrança credit, its tariff, a Pix, a payment
SAME_WEEK = [
    (date(2026, 11, 3), 123456, LineKind.CREDIT),
    (date(2026, 11, 3), -350, LineKind.FEE),
    (date(2026, 11, 4), 15000, LineKind.CREDIT),
    (date(2026, 11, 5), -98000, LineKind.DEBIT),
]


# --- amounts --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "decimal", "cents"),
    [
        ("1.234,56", ",", 123456),
        ("-1.234,56", ",", -123456),
        ("1.234,56-", ",", -123456),
        ("1.234,56 D", ",", -123456),
        ("1.234,56C", ",", 123456),
        ("(9,90)", ",", -990),
        ("R$ 9,90", ",", 990),
        ("R$\xa01.000.000,00", ",", 100000000),
        ("150", ",", 15000),
        ("          1234,56", "ofx", 123456),
        ("-12.80", "ofx", -1280),
        ("-200,00", "ofx", -20000),
        ("12,3400", "ofx", 1234),
        (".5", "ofx", 50),
        ("1234.56", "auto", 123456),
        ("1.234", "auto", 123400),  # pt-BR thousands
        ("1.060,00", "auto", 106000),
        ("5964.52", "auto", 596452),
        ("-37.79", ".", -3779),
    ],
)
def test_amounts_in_every_format_banks_write(text, decimal, cents):
    assert parse_amount(text, decimal) == cents


@pytest.mark.parametrize(
    ("text", "decimal"),
    [
        ("", ","),
        ("abc", ","),
        ("12.5", ","),  # a decimal point in a pt-BR column: never read as 125,00
        ("1.5.6", ","),
        ("1,234.56", ","),
        ("1.234,56", "."),
        ("12,345", "ofx"),  # fractions of a centavo
        ("1,2,3", ","),
        ("-1-", ","),
        ("150,0x", ","),
    ],
)
def test_amounts_that_are_not_amounts_are_refused(text, decimal):
    with pytest.raises(ValueError):  # noqa: PT011 - any ValueError: the caller maps it to bad_amount
        parse_amount(text, decimal)


@given(st.integers(min_value=-(10**11), max_value=10**11))
def test_pt_br_rendering_round_trips(cents):
    # Given any amount written the way Brazilian banks write it (1.234.567,89)
    reais, centavos = divmod(abs(cents), 100)
    text = ("-" if cents < 0 else "") + f"{reais:,}".replace(",", ".") + f",{centavos:02d}"
    # Then it reads back to the same centavos, in the pt-BR and in the auto mode
    assert parse_amount(text, ",") == cents
    assert parse_amount(text, "auto") == cents


# --- OFX quirks -----------------------------------------------------------------------------------


def test_itau_sgml_with_every_quirk_reads_right_and_reports_them():
    # Given an OFX 1.02 in cp1252 with a leading blank line, DTSERVER all zeros, [-03:EST] labels and
    # space-padded comma amounts
    statement = parse_ofx(_read("itau_102_quirks.ofx"))
    # Then every movement has its amount in centavos and the date the bank wrote
    assert [(line.posted_on, line.amount_cents, line.kind) for line in statement.lines] == SAME_WEEK
    # And the accents survive the cp1252 bytes
    assert statement.lines[0].description == "CRÉD COBRANÇA LIQUIDAÇÃO"
    assert statement.lines[2].description == "PIX RECEBIDO JOÃO ASSUNÇÃO"
    assert statement.lines[0].fit_id == "20261103001"
    assert statement.lines[0].line_id == "20261103001"
    assert statement.lines[0].document == "000001"
    assert (statement.bank_code, statement.account) == ("341", "0123456789")
    assert (statement.start, statement.end) == (date(2026, 11, 2), date(2026, 11, 6))
    # And what was tolerated is said
    assert set(statement.defects) == {
        "comma_decimal",
        "dtserver_invalid",
        "leading_blank_lines",
        "odd_timezone_label",
        "padded_amount",
    }


def test_midnight_with_a_bogus_zone_stays_on_its_day():
    # Given a credit at local midnight labelled [-03:EST] (EST is -5): converting through the label
    # would put it on another day
    statement = parse_ofx(_read("itau_102_quirks.ofx"))
    # Then the date is the one written
    assert statement.lines[0].posted_on == date(2026, 11, 3)


def test_a_header_that_lies_about_the_encoding():
    # Given a header saying UTF-8 over cp1252 bytes, closing tags on some leaves, no LEDGERBAL and
    # TRNTYPEs outside the spec's list (IN/OUT)
    statement = parse_ofx(_read("bradesco_102_mislabelled.ofx"))
    # Then the text is read as cp1252 and the defect is reported
    assert "encoding_mislabelled" in statement.defects
    assert statement.lines[0].description == "Transfe Pix Rem: Letícia Pires Conceição"
    assert [(line.amount_cents, line.kind) for line in statement.lines] == [
        (129600, LineKind.CREDIT),
        (245010, LineKind.CREDIT),
        (-740, LineKind.FEE),  # "Tarifa" with TRNTYPE OUT: a tariff all the same
    ]
    assert statement.lines[0].fit_id == "N20062:09/11/26:1296.0:1357553"


def test_no_header_lf_only_empty_memo_balance_line_and_repeated_fitid():
    # Given a file without the OFXHEADER block, with LF line ends, a "Saldo Anterior" movement, empty
    # MEMOs and the same FITID on two different movements
    statement = parse_ofx(_read("bb_102_no_header.ofx"))
    # Then the balance line is not a movement, the two equal credits stay two lines with their own
    # stable ids, and the nosso número in NAME is kept in the description
    assert [(line.posted_on, line.amount_cents) for line in statement.lines] == [
        (date(2026, 11, 12), 32000),
        (date(2026, 11, 12), 32000),
        (date(2026, 11, 13), 8990),
    ]
    first, second, third = statement.lines
    assert first.line_id != second.line_id
    assert first.line_id.startswith("h:")
    assert third.line_id == "20261113"
    assert third.description == "Cobrança Nosso Número 00012345678-9"
    assert set(statement.defects) >= {"missing_header", "balance_lines_skipped", "duplicate_fitid"}
    assert statement.bank_code == "001"
    # And reading it again gives the same ids (an upload twice is recognised)
    assert [line.line_id for line in parse_ofx(_read("bb_102_no_header.ofx")).lines] == [
        line.line_id for line in statement.lines
    ]


def test_ofx2_xml_with_entities():
    statement = parse_statement(_read("inter_211.ofx"))
    assert statement.source == "ofx"
    assert [(line.amount_cents, line.kind) for line in statement.lines] == [
        (187345, LineKind.CREDIT),
        (-4500, LineKind.DEBIT),
    ]
    assert statement.lines[0].description.endswith("ASAAS GESTÃO FINANCEIRA & PAGAMENTOS tra_9f8e7d6c5b4a")
    assert statement.lines[1].description == "Pix enviado - Distribuidora de Peças <Centro>"
    assert statement.defects == ()


def test_utf8_bom_and_crlf_do_not_matter():
    raw = _read("itau_102_quirks.ofx")
    variants = [b"\xef\xbb\xbf" + raw.lstrip(), raw.replace(b"\r\n", b"\n"), raw.replace(b"\r\n", b"\r\r\n")]
    for data in variants:
        assert [(line.posted_on, line.amount_cents) for line in parse_statement(data).lines] == [
            (d, a) for d, a, _ in SAME_WEEK
        ]


def test_ofx_refusals():
    good = _read("conforming_102.ofx")
    cases = {
        "bad_amount": good.replace(b"<TRNAMT>79.90", b"<TRNAMT>79,9O"),
        "bad_date": good.replace(b"<DTPOSTED>20261109000000", b"<DTPOSTED>20261131000000"),
        "not_brl": good.replace(b"<CURDEF>BRL", b"<CURDEF>USD"),
        "ofx_no_statement": good[: good.index(b"<BANKMSGSRSV1>")] + b"</OFX>\r\n",
    }
    for code, data in cases.items():
        with pytest.raises(StatementRejected) as refused:
            parse_statement(data)
        assert refused.value.code == code
        assert refused.value.message.startswith(REFUSALS[code])
    with pytest.raises(StatementRejected) as refused:
        parse_statement(good.replace(b"<TRNAMT>79.90", b"<TRNAMT>79,9O"))
    assert refused.value.details == {"fit_id": "CX0003"}
    assert "CX0003" in refused.value.message


def test_two_accounts_in_one_file_are_refused():
    good = _read("conforming_102.ofx").decode("cp1252")
    start = good.index("<STMTTRNRS>")
    end = good.index("</STMTTRNRS>") + len("</STMTTRNRS>")
    other = good[start:end].replace("<ACCTID>000123456", "<ACCTID>000999999")
    with pytest.raises(StatementRejected) as refused:
        parse_statement((good[:end] + other + good[end:]).encode("cp1252"))
    assert refused.value.code == "several_accounts"


def _ofxtools_lines(data: bytes) -> list[tuple[date, int, str]]:
    tree = OFXTree()
    tree.parse(io.BytesIO(data))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ofx = tree.convert()
    return [
        (trn.dtposted.date(), int(trn.trnamt * 100), trn.fitid)
        for stmt in ofx.statements
        for trn in stmt.banktranlist
    ]


@pytest.mark.parametrize("name", ["conforming_102.ofx", "inter_211.ofx"])
def test_spec_conforming_files_read_as_the_strict_parser_reads_them(name):
    # Given a file ofxtools (strict, maintained) accepts
    data = _read(name)
    oracle = _ofxtools_lines(data)
    # Then our reader finds the same movements (dates at -3h do not cross midnight in these files)
    ours = [(line.posted_on, line.amount_cents, line.fit_id) for line in parse_ofx(data).lines]
    assert ours == oracle
    assert len(ours) >= 2


def test_the_quirky_files_are_what_the_strict_parser_refuses():
    # The reason we read OFX ourselves: the strict parser refuses these whole, we read them
    for name in ("itau_102_quirks.ofx", "bradesco_102_mislabelled.ofx", "bb_102_no_header.ofx"):
        with pytest.raises(Exception):  # noqa: B017, PT011 - any of its errors
            _ofxtools_lines(_read(name))
        assert parse_ofx(_read(name)).lines


# --- CSV exports ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "source", "bank"),
    [
        ("bb.csv", "csv:bb", "001"),
        ("itau.csv", "csv:itau", "341"),
        ("bradesco.csv", "csv:bradesco", "237"),
        ("caixa.csv", "csv:caixa", "104"),
        ("nubank.csv", "csv:nubank", "260"),
        ("inter.csv", "csv:inter", "077"),
    ],
)
def test_each_banks_csv_export(name, source, bank):
    # Given the same week exported by each bank (own preamble, separator, number and date format,
    # balance rows)
    statement = parse_statement(_read(name))
    # Then the movements are the same four, balance rows left out
    assert statement.source == source
    assert statement.bank_code == bank
    assert [(line.posted_on, line.amount_cents, line.kind) for line in statement.lines] == SAME_WEEK
    assert (statement.start, statement.end) == (date(2026, 11, 3), date(2026, 11, 5))
    assert all(line.line_id for line in statement.lines)
    assert len({line.line_id for line in statement.lines}) == 4


def test_every_defect_reported_has_words_for_a_person():
    reported = set()
    for path in FIXTURES.iterdir():
        if path.suffix in (".ofx", ".csv") and "bad" not in path.name and "unknown" not in path.name:
            reported |= set(parse_statement(path.read_bytes()).defects)
    assert reported <= set(DEFECTS)
    assert len(reported) >= 9  # the fixtures show nearly every defect we tolerate


def test_every_layout_has_a_fixture():
    assert {layout.key for layout in CSV_LAYOUTS} == {"bb", "itau", "bradesco", "caixa", "nubank", "inter"}


def test_bradesco_continuation_rows_and_footer():
    statement = parse_csv(_read("bradesco.csv"))
    assert statement.lines[0].description == "Liquidação de Cobrança Cobrança 5 títulos"
    assert statement.lines[2].description == "Transfe Pix Rem: José Conceição 04/11"
    assert statement.lines[0].document == "0000019"
    # the "Últimos Lançamentos" section after the Total row is not read twice nor as movements
    assert len(statement.lines) == 4


def test_csv_keeps_accents_and_references():
    assert parse_csv(_read("bb.csv")).lines[2].description == "Pix - Recebido JOSÉ GONÇALVES"
    assert parse_csv(_read("itau.csv")).lines[2].description == "PIX TRANSF JOÃO ASSUN04/11"
    nubank = parse_csv(_read("nubank.csv")).lines
    assert nubank[0].fit_id == nubank[0].line_id == "6a1f0c1e-8f43-4a52-9c1b-0d7f3c2b1a01"
    assert parse_csv(_read("caixa.csv")).lines[0].document == "031125"
    assert parse_csv(_read("inter.csv")).lines[2].description == "Pix recebido João Assunção"


def test_csv_in_utf8_or_cp1252_reads_the_same():
    text = _read("itau.csv").decode("cp1252")
    assert parse_csv(text.encode("utf-8")).lines == parse_csv(text.encode("cp1252")).lines


@pytest.mark.parametrize(
    ("name", "code", "line"),
    [
        ("itau_bad_amount.csv", "bad_amount", 3),
        ("itau_bad_date.csv", "bad_date", 3),
        ("unknown_layout.csv", "unknown_format", None),
    ],
)
def test_malformed_or_unknown_csv_is_refused_with_the_line(name, code, line):
    with pytest.raises(StatementRejected) as refused:
        parse_statement(_read(name))
    assert refused.value.code == code
    assert refused.value.details.get("line") == line
    if line:
        assert f"Linha {line}" in refused.value.message


def test_csv_with_credit_and_debit_on_one_row_is_refused():
    data = _read("bradesco.csv").replace(b'"150,00";;', b'"150,00";"-1,00";')
    with pytest.raises(StatementRejected) as refused:
        parse_statement(data)
    assert refused.value.code == "bad_amount"
    assert refused.value.details == {"line": 8}  # the Pix row, counted in the file


def test_caixa_without_c_or_d_is_refused():
    data = _read("caixa.csv").replace(b'"150.00";"C"', b'"150.00";"X"')
    with pytest.raises(StatementRejected) as refused:
        parse_statement(data)
    assert refused.value.code == "bad_amount"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty_file"),
        (b"  \r\n ", "empty_file"),
        (b"%PDF-1.7\n...", "spreadsheet_or_pdf"),
        (b"PK\x03\x04xlsx", "spreadsheet_or_pdf"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1xls", "spreadsheet_or_pdf"),
        (b"hello;world\n1;2\n", "unknown_format"),
        (b"OFXHEADER:100\nDATA:OFXSGML\n\nnothing here", "ofx_malformed"),
        (b"a" * (10 * 1024 * 1024 + 1), "file_too_large"),
    ],
)
def test_files_that_are_not_statements(data, code):
    with pytest.raises(StatementRejected) as refused:
        parse_statement(data)
    assert refused.value.code == code
    assert refused.value.message  # pt-BR, for the person who uploaded it


# --- property: whatever quirks a bank adds, the movements read back ----------------------------------

_MEMO = st.text(
    alphabet=st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -/.:ÁÉÍÓÚÂÊÔÃÕÇáéíóúâêôãõç&"),
    min_size=1,
    max_size=40,
).filter(lambda t: t.strip() and not t.strip().upper().startswith(("SALDO", "S A L D O")))
_MOVEMENTS = st.lists(
    st.tuples(
        st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
        st.integers(min_value=-(10**9), max_value=10**9).filter(bool),
        _MEMO,
    ),
    min_size=1,
    max_size=12,
)


@given(
    _MOVEMENTS,
    st.sampled_from(["cp1252", "latin-1", "utf-8"]),
    st.booleans(),  # comma decimals
    st.integers(0, 12),  # padding before the amount
    st.sampled_from(["", "[-03:EST]", "[-3:BRT]", "[0:GMT]", "[-03]"]),
    st.booleans(),  # header says the truth about the encoding
    st.booleans(),  # leading blank line
    st.sampled_from(["\r\n", "\n"]),
)
def test_ofx_movements_read_back_whatever_the_quirks(
    movements, encoding, comma, padding, zone, honest_header, blank, newline
):
    # Given movements written as an OFX 1.02 with a random mix of the quirks banks ship
    charset = (
        {"cp1252": "1252", "latin-1": "ISO-8859-1", "utf-8": "NONE"}[encoding] if honest_header else "NONE"
    )
    declared = "UTF-8" if encoding == "utf-8" or not honest_header else "USASCII"
    head = [
        "OFXHEADER:100",
        "DATA:OFXSGML",
        "VERSION:102",
        f"ENCODING:{declared}",
        f"CHARSET:{charset}",
        "",
        "<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS>",
        "<DTSERVER>00000000000000<LANGUAGE>POR</SONRS></SIGNONMSGSRSV1>",
        "<BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STMTRS><CURDEF>BRL",
        "<BANKACCTFROM><BANKID>341<ACCTID>1<ACCTTYPE>CHECKING</BANKACCTFROM><BANKTRANLIST>",
    ]
    body = []
    for n, (day, cents, memo) in enumerate(movements):
        reais, centavos = divmod(abs(cents), 100)
        amount = ("-" if cents < 0 else "") + f"{reais}{',' if comma else '.'}{centavos:02d}"
        body += [
            "<STMTTRN>",
            f"<TRNTYPE>{'CREDIT' if cents > 0 else 'DEBIT'}",
            f"<DTPOSTED>{day:%Y%m%d}000000{zone}",
            f"<TRNAMT>{' ' * padding}{amount}",
            f"<FITID>{n:06d}",
            f"<MEMO>{memo.replace('&', '&amp;')}",
            "</STMTTRN>",
        ]
    text = newline.join(head + body + ["</BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>", ""])
    data = (newline if blank else "").encode() + text.encode(encoding)
    # When read
    statement = parse_statement(data)
    # Then every movement is there, with its date, centavos and text
    assert [(line.posted_on, line.amount_cents, line.description) for line in statement.lines] == [
        (day, cents, " ".join(memo.split())) for day, cents, memo in movements
    ]
    assert [line.line_id for line in statement.lines] == [f"{n:06d}" for n in range(len(movements))]


def _ptbr(cents: int) -> str:
    reais, centavos = divmod(abs(cents), 100)
    return ("-" if cents < 0 else "") + f"{reais:,}".replace(",", ".") + f",{centavos:02d}"


def _dot(cents: int) -> str:
    reais, centavos = divmod(abs(cents), 100)
    return ("-" if cents < 0 else "") + f"{reais}.{centavos:02d}"


def _render(layout: str, movements: list[tuple[date, int, str]]) -> bytes:
    """The movements as the bank's CSV export writes them (the shapes in tests/fixtures/statements)."""
    rows: list[str]
    if layout == "bb":
        rows = ['"Data","Dependencia Origem","Histórico","Data do Balancete","Número do documento","Valor",']
        rows += [f'"{d:%d/%m/%Y}","","{m}","","{n}","{_dot(c)}",' for n, (d, c, m) in enumerate(movements)]
        return "\r\n".join([*rows, ""]).encode("cp1252")
    if layout == "itau":
        rows = ["Extrato Conta Corrente", "", "data;lançamento;ag./origem;valor (R$);saldos (R$)"]
        rows += [f"{d:%d/%m/%Y};{m};;{_ptbr(c)};" for d, c, m in movements]
        return "\r\n".join([*rows, ""]).encode("cp1252")
    if layout == "bradesco":
        rows = ["Extrato de: Ag: 1 | Conta: 2-3 | Entre 01/01/2020 e 31/12/2030", _BRADESCO_HEADER]
        for n, (d, c, m) in enumerate(movements):
            amounts = f'"{_ptbr(c)}";' if c > 0 else f';"{_ptbr(c)}"'
            rows.append(f'{d:%d/%m/%y};{m};{n:07d};{amounts};"0,00";')
        rows.append('Total;;;"0,00";"0,00";;')
        return "\r\n".join([*rows, ""]).encode("cp1252")
    if layout == "caixa":
        rows = ['"Conta";"Data_Mov";"Nr_Doc";"Historico";"Valor";"Deb_Cred"']
        rows += [
            f'"0001";"{d:%Y%m%d}";"{n:06d}";"{m}";"{_dot(abs(c))}";"{"C" if c > 0 else "D"}"'
            for n, (d, c, m) in enumerate(movements)
        ]
        return "\r\n".join([*rows, ""]).encode("cp1252")
    if layout == "nubank":
        rows = ["Data,Valor,Identificador,Descrição"]
        rows += [f'{d:%d/%m/%Y},{_dot(c)},id-{n},"{m}"' for n, (d, c, m) in enumerate(movements)]
        return "\n".join([*rows, ""]).encode("utf-8-sig")
    assert layout == "inter"
    rows = ["Extrato Conta Corrente ", "Conta ;1", "", "Data Lançamento;Histórico;Descrição;Valor;Saldo"]
    rows += [f"{d:%d/%m/%Y};Pix;{m};{_ptbr(c)};0,00" for d, c, m in movements]
    return "\n".join([*rows, ""]).encode("utf-8")


_BRADESCO_HEADER = "Data;Histórico;Docto.;Crédito (R$);Débito (R$);Saldo (R$);"
_CSV_TEXT = st.text(
    alphabet=st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -/.ÁÉÇÃÕçãõé"), max_size=30
).map(lambda t: " ".join(f"PAG {t}".split()))


@pytest.mark.parametrize("layout", [layout.key for layout in CSV_LAYOUTS])
@given(
    st.lists(
        st.tuples(
            st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
            st.integers(min_value=-(10**10), max_value=10**10).filter(bool),
            _CSV_TEXT,
        ),
        min_size=1,
        max_size=10,
    )
)
def test_each_banks_csv_reads_back_what_it_wrote(layout, movements):
    statement = parse_csv(_render(layout, movements))
    assert statement.source == f"csv:{layout}"
    expected = [(d, c, m if layout != "inter" else f"Pix {m}") for d, c, m in movements]
    assert [(line.posted_on, line.amount_cents, line.description) for line in statement.lines] == expected
    assert len({line.line_id for line in statement.lines}) == len(movements)
