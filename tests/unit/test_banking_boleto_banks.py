"""Each bank's nosso número and campo livre (domain/banking/boleto_banks.py) against published,
known-good examples. Every expected value below is copied from the source named in its comment; the
inputs are that source's inputs. Only values that agree with the bank's rule as independently
implemented elsewhere are used (see the Itaú note for one that does not)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistec.domain.banking import boleto as b
from assistec.domain.banking import boleto_banks as banks

BRCOBRANCA = "kivanio/brcobranca spec/brcobranca/boleto"


def issue(
    bank: str,
    sequence: int,
    due: date | None,
    amount_cents: int,
    *,
    issue_date: date = date(2008, 2, 1),
    document_number: str = "",
    options: dict[str, str] | None = None,
    **agreement: Any,
) -> banks.IssuedBoleto:
    return banks.issue_boleto(
        banks.Agreement(bank_code=bank, options=options or {}, **agreement),
        banks.BoletoRequest(sequence, due, amount_cents, issue_date, document_number),
    )


# (case id, issue() arguments, expected campo livre, expected barcode or None, expected linha or None)
PUBLISHED: list[tuple[str, dict[str, Any], str, str | None, str | None]] = [
    # --- Banco do Brasil: {BRCOBRANCA}/banco_brasil_spec.rb
    (
        "bb-convenio-8",
        dict(
            bank="001",
            sequence=777700168,
            due=date(2008, 2, 1),
            amount_cents=13500,
            agreement_code="12387989",
            wallet="18",
        ),
        "0000001238798977770016818",
        "00193376900000135000000001238798977770016818",
        "00190.00009 01238.798977 77700.168188 3 37690000013500",
    ),
    (
        "bb-convenio-7",
        dict(
            bank="001",
            sequence=7777700168,
            due=date(2008, 2, 3),
            amount_cents=72356,
            agreement_code="1238798",
            wallet="18",
        ),
        "0000001238798777770016818",
        "00195377100000723560000001238798777770016818",
        "00190.00009 01238.798779 77700.168188 5 37710000072356",
    ),
    (
        "bb-convenio-6",
        dict(
            bank="001",
            sequence=1234,
            due=date(2008, 2, 1),
            amount_cents=13500,
            agreement_code="123879",
            wallet="18",
            agency="4042",
            account="61900",
        ),
        "1238790123440420006190018",
        "00192376900000135001238790123440420006190018",
        "00191.23876 90123.440423 00061.900189 2 37690000013500",
    ),
    (
        "bb-convenio-6-nosso-numero-17",
        dict(
            bank="001",
            sequence=1234567899,
            due=date(2008, 2, 1),
            amount_cents=13500,
            agreement_code="123879",
            wallet="16",
            options={"nosso_numero_17": "1"},
        ),
        "1238790000000123456789921",
        "00199376900000135001238790000000123456789921",
        "00191.23876 90000.000126 34567.899215 9 37690000013500",
    ),
    (
        "bb-convenio-4",
        dict(
            bank="001",
            sequence=123456,
            due=date(2008, 2, 1),
            amount_cents=13500,
            agreement_code="1238",
            wallet="18",
            agency="4042",
            account="61900",
        ),
        "1238012345640420006190018",
        "00191376900000135001238012345640420006190018",
        "00191.23801 12345.640424 00061.900189 1 37690000013500",
    ),
    # --- Itaú: {BRCOBRANCA}/itau_spec.rb
    (
        "itau-175",
        dict(
            bank="341",
            sequence=12345678,
            due=date(2009, 8, 14),
            amount_cents=0,
            agency="0810",
            account="53678",
            wallet="175",
        ),
        "1751234567840810536789000",
        "34191432900000000001751234567840810536789000",
        "34191.75124 34567.840813 05367.890000 1 43290000000000",
    ),
    (
        "itau-175-b",
        dict(
            bank="341",
            sequence=258281,
            due=date(2008, 2, 2),
            amount_cents=13500,
            agency="0810",
            account="53678",
            wallet="175",
        ),
        "1750025828170810536789000",
        "34191377000000135001750025828170810536789000",
        "34191.75009 25828.170818 05367.890000 1 37700000013500",
    ),
    (
        "itau-109",
        dict(
            bank="341",
            sequence=10152,
            due=date(2029, 5, 20),
            amount_cents=675787,
            agency="1248",
            account="02124",
            wallet="109",
        ),
        "1090001015271248021246000",
        "34194254800006757871090001015271248021246000",
        "34191.09008 01015.271248 80212.460002 4 25480000675787",
    ),
    (
        "itau-196-seu-numero",
        dict(
            bank="341",
            sequence=258281,
            due=date(2004, 9, 5),
            amount_cents=13500,
            agency="0810",
            account="53678",
            wallet="196",
            agreement_code="12345",
            document_number="1234567",
        ),
        "1960025828112345671234550",
        "34191252500000135001960025828112345671234550",
        "34191.96005 25828.112349 56712.345505 1 25250000013500",
    ),
    (
        "itau-196-short-client-code",
        dict(
            bank="341",
            sequence=258281,
            due=date(2004, 9, 5),
            amount_cents=13500,
            agency="0810",
            account="53678",
            wallet="196",
            agreement_code="1234",
            document_number="123456",
        ),
        "1960025828101234560123440",
        "34192252500000135001960025828101234560123440",
        "34191.96005 25828.101235 45601.234409 2 25250000013500",
    ),
    # Not used: itau_spec.rb's carteira 168 example computes the DAC over agência+conta+carteira+nosso
    # número; Itaú's manual (Anexo 4), as eduardokum/laravel-boleto src/Boleto/Banco/Itau.php and other
    # implementations apply it, takes carteira+nosso número only for 126/131/146/150/168.
    # --- Bradesco: {BRCOBRANCA}/bradesco_spec.rb
    (
        "bradesco-06",
        dict(
            bank="237",
            sequence=75896452,
            due=date(2009, 4, 30),
            amount_cents=295295,
            agency="1172",
            account="0403005",
            wallet="06",
        ),
        "1172060007589645204030050",
        "23795422300002952951172060007589645204030050",
        "23791.17209 60007.589645 52040.300502 5 42230000295295",
    ),
    (
        "bradesco-03",
        dict(
            bank="237",
            sequence=777700168,
            due=date(2008, 2, 2),
            amount_cents=13500,
            agency="4042",
            account="61900",
            wallet="03",
        ),
        "4042030077770016800619000",
        "23791377000000135004042030077770016800619000",
        "23794.04201 30077.770011 68006.190000 1 37700000013500",
    ),
    # --- Caixa SIGCB: {BRCOBRANCA}/caixa_spec.rb (campo livre only; carteira 1 = RG)
    (
        "caixa-sigcb-brcobranca",
        dict(
            bank="104",
            sequence=1,
            due=date(2026, 1, 1),
            amount_cents=1000,
            agreement_code="245274",
            wallet="RG",
        ),
        "2452740000100040000000017",
        None,
        None,
    ),
    # Caixa SIGCB: a pyboleto-derived tests/test_banco_caixa.py (SIGCB variant, carteira '1',
    # codigo_beneficiario '123456'; found by code search, index id 4747158282, repository not named)
    (
        "caixa-sigcb-pyboleto",
        dict(
            bank="104",
            sequence=8019525086,
            due=date(2012, 7, 8),
            amount_cents=295295,
            agreement_code="123456",
            wallet="RG",
        ),
        "1234560000100840195250864",
        "10493538800002952951234560000100840195250864",
        "10491.23456 60000.100846 01952.508644 3 53880000295295",
    ),
    # --- Santander: {BRCOBRANCA}/santander_spec.rb
    (
        "santander-2011",
        dict(
            bank="033",
            sequence=90000267,
            due=date(2011, 10, 9),
            amount_cents=2500,
            agreement_code="1899775",
            wallet="102",
        ),
        "9189977500009000026700102",
        "03398511500000025009189977500009000026700102",
        "03399.18997 77500.009004 00267.001022 8 51150000002500",
    ),
    (
        "santander-2012",
        dict(
            bank="033",
            sequence=90002720,
            due=date(2012, 9, 8),
            amount_cents=5400,
            agreement_code="1899775",
            wallet="102",
        ),
        "9189977500009000272070102",
        "03399545000000054009189977500009000272070102",
        "03399.18997 77500.009004 02720.701024 9 54500000005400",
    ),
    # --- Sicoob: {BRCOBRANCA}/sicoob_spec.rb @ 62649aeb83 ("modalidade 01" and "modalidade 05")
    (
        "sicoob-01",
        dict(
            bank="756",
            sequence=2,
            due=date(2016, 2, 18),
            amount_cents=5000,
            agency="4327",
            agreement_code="229385",
            wallet="1",
        ),
        "1432701022938500000024001",
        None,
        "75691.43279 01022.938508 00000.240010 2 67080000005000",
    ),
    (
        "sicoob-05",
        dict(
            bank="756",
            sequence=110,
            due=date(2017, 4, 15),
            amount_cents=23500,
            agency="4134",
            agreement_code="148180",
            wallet="1",
            options={"modality": "05"},
        ),
        "1413405014818000001104001",
        None,
        "75691.41349 05014.818008 00011.040011 4 71300000023500",
    ),
    # --- Sicredi: {BRCOBRANCA}/sicredi_spec.rb (carteira 03: tipo de cobrança 3)
    (
        "sicredi",
        dict(
            bank="748",
            sequence=13871,
            due=date(2012, 1, 24),
            amount_cents=295295,
            issue_date=date(2012, 1, 19),
            agency="1234",
            account="12345",
            options={"post": "18", "byte": "2", "charge_type": "3"},
        ),
        "3112213871512341812345100",
        None,
        "74893.11220 13871.512342 18123.451009 1 52220000295295",
    ),
    # --- Ailos: {BRCOBRANCA}/ailos_spec.rb
    (
        "ailos",
        dict(
            bank="085",
            sequence=1,
            due=date(2015, 5, 25),
            amount_cents=100,
            agreement_code="000000",
            account="1111111",
            wallet="01",
        ),
        "0000001111111900000000101",
        "08593643900000001000000001111111900000000101",
        "08590.00002 01111.111900 00000.001016 3 64390000000100",
    ),
    (
        "ailos-b",
        dict(
            bank="085",
            sequence=1,
            due=date(2015, 5, 25),
            amount_cents=100,
            agreement_code="234",
            account="356156",
            wallet="01",
        ),
        "0002340356156900000000101",
        "08593643900000001000002340356156900000000101",
        "08590.00234 40356.156907 00000.001016 3 64390000000100",
    ),
    # --- BTG Pactual: a brcobranca-lineage btg_pactual_spec.rb (index id 7984983839): due 2025-02-23 (the
    # day after the rollover's 1000), positions asserted one by one: 208 | 9 | DV 8 | 1001 | 0000012345 |
    # 0050 | 01 | 00000000123 | 0445757 | 0
    (
        "btg-after-the-rollover",
        dict(
            bank="208",
            sequence=123,
            due=date(2025, 2, 23),
            amount_cents=12345,
            agency="0050",
            account="445757",
            wallet="1",
        ),
        "0050010000000012304457570",
        "20898100100000123450050010000000012304457570",
        None,
    ),
    # --- Banco Inter, legacy Intermedium layout: coyosoftware/brcobranca spec/brcobranca/boleto/inter_spec.rb
    (
        "inter-legacy",
        dict(
            bank="077",
            sequence=15234,
            due=date(2017, 11, 21),
            amount_cents=100,
            account="919898",
            wallet="12",
        ),
        "1000121000152340000919898",
        "07793735000000001001000121000152340000919898",
        "07791.00015 21000.152344 00009.198987 3 73500000000100",
    ),
]


@pytest.mark.parametrize(
    ("kwargs", "campo_livre", "barcode", "linha"),
    [pytest.param(k, c, bc, ln, id=case) for case, k, c, bc, ln in PUBLISHED],
)
def test_published_examples(
    kwargs: dict[str, Any], campo_livre: str, barcode: str | None, linha: str | None
) -> None:
    kwargs = dict(kwargs)
    issued = issue(
        kwargs.pop("bank"), kwargs.pop("sequence"), kwargs.pop("due"), kwargs.pop("amount_cents"), **kwargs
    )
    assert issued.campo_livre == campo_livre
    if barcode is not None:
        assert issued.barcode == barcode
    if linha is not None:
        assert issued.linha_digitavel_formatted == linha
    # whatever the source printed, the numbers read back to each other
    assert b.linha_to_barcode(issued.linha_digitavel) == issued.barcode


# --- nosso número check digits ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("digits", "dv"),
    # {BRCOBRANCA}/banco_brasil_spec.rb "Montar nosso_numero_boleto": 12387989000004042-4 etc.
    [("12387989000004042", "4"), ("12387989000061900", "7"), ("12387989000000719", "2")],
)
def test_banco_do_brasil_nosso_numero_dv(digits: str, dv: str) -> None:
    assert banks.bb_check_digit(digits) == dv


@pytest.mark.parametrize(
    ("sequence", "wallet", "printed"),
    # {BRCOBRANCA}/itau_spec.rb "Montar nosso_numero_boleto" (agência 0607, conta 15255)
    [(12345678, "175", "175/12345678-4"), (12345678, "143", "143/12345678-2")],
)
def test_itau_printed_nosso_numero(sequence: int, wallet: str, printed: str) -> None:
    kwargs: dict[str, Any] = {"agency": "0607", "account": "15255", "wallet": wallet}
    if wallet == "143":  # carries seu número and the client code in the barcode, not in this DAC
        kwargs |= {"agreement_code": "12387", "document_number": "1"}
    assert issue("341", sequence, date(2026, 1, 5), 100, **kwargs).nosso_numero.printed == printed


@pytest.mark.parametrize(
    ("agency", "account", "dac"),
    # {BRCOBRANCA}/itau_spec.rb "Montar agencia_conta_corrente_dv"
    [("0607", "15255", 0), ("1547", "85547", 6), ("1547", "10207", 7), ("0811", "53678", 8)],
)
def test_itau_account_dac(agency: str, account: str, dac: int) -> None:
    assert banks.itau_account_dac(agency, account) == dac


@pytest.mark.parametrize(
    ("wallet", "number", "dv"),
    # {BRCOBRANCA}/bradesco_spec.rb "Montar nosso_numero_boleto"
    [
        ("06", "00000000525", "P"),
        ("09", "00000000001", "1"),
        ("19", "00000000002", "8"),
        ("19", "00000000006", "0"),
        ("19", "00000000001", "P"),
    ],
)
def test_bradesco_nosso_numero_dv(wallet: str, number: str, dv: str) -> None:
    assert banks.bradesco_check_digit(wallet, number) == dv


def test_caixa_nosso_numero() -> None:
    # {BRCOBRANCA}/caixa_spec.rb: nosso_numero_boleto '14000000000000001-4', convenio_dv '0'
    issued = issue("104", 1, date(2026, 1, 5), 1000, agreement_code="245274", wallet="RG")
    assert issued.nosso_numero.printed == "14000000000000001-4"
    assert issued.campo_livre[6] == "0"


@pytest.mark.parametrize(
    ("number", "dv"),
    # {BRCOBRANCA}/santander_spec.rb "Montar nosso_numero_dv"
    [("566612457800", 2), ("90002720", 7), ("1961005", 0)],
)
def test_santander_nosso_numero_dv(number: str, dv: int) -> None:
    assert banks.santander_check_digit(number.zfill(12)) == dv


@pytest.mark.parametrize(
    ("sequence", "dv"),
    # {BRCOBRANCA}/sicoob_spec.rb @ 62649aeb83 "Montar nosso numero dv" (agência 4327, convênio 229385)
    list(zip(range(1, 14), [7, 4, 1, 9, 6, 3, 0, 8, 5, 3, 0, 8, 5], strict=True)),
)
def test_sicoob_nosso_numero_dv(sequence: int, dv: int) -> None:
    assert banks.sicoob_check_digit("4327", "229385", f"{sequence:07d}") == dv


def test_sicredi_nosso_numero() -> None:
    # {BRCOBRANCA}/sicredi_spec.rb "Montar nosso_numero_boleto": '12/213871-5'
    issued = issue(
        "748",
        13871,
        date(2012, 1, 24),
        100,
        issue_date=date(2012, 1, 18),
        agency="1234",
        account="12345",
        options={"post": "18", "byte": "2"},
    )
    assert issued.nosso_numero.printed == "12/213871-5"


@pytest.mark.parametrize(
    ("account", "nosso_numero"),
    # {BRCOBRANCA}/ailos_spec.rb "Montar nosso_numero_boleto" and agencia_conta_boleto's account DVs
    [("0357157", "03571572000000001"), ("1111111", "11111119000000001"), ("0001448", "00014486000000001")],
)
def test_ailos_nosso_numero(account: str, nosso_numero: str) -> None:
    issued = issue("085", 1, date(2026, 1, 5), 100, agreement_code="1", account=account, wallet="01")
    assert issued.nosso_numero.printed == nosso_numero


def test_inter_legacy_nosso_numero_dv() -> None:
    # coyosoftware/brcobranca inter_spec.rb: carteira 19, número 6 -> '19/0000006-1'
    issued = issue("077", 6, date(2026, 1, 5), 100, account="1", wallet="19")
    assert issued.nosso_numero.printed == "19/0000006-1"


@pytest.mark.parametrize(
    ("bank", "printed"),
    [
        # kivanio/brcobranca lib/brcobranca/boleto/base.rb banco_dv: modulo11_9to2_10_como_x of the code
        ("001", "001-9"),
        ("033", "033-7"),
        ("077", "077-9"),
        ("237", "237-2"),
        ("341", "341-7"),
        ("748", "748-X"),
        ("756", "756-0"),
        ("104", "104-0"),  # {BRCOBRANCA}/caixa_spec.rb: banco_dv '0'
        ("085", "085-1"),  # kivanio/brcobranca lib/brcobranca/boleto/ailos.rb: banco_dv "1"
        ("208", "208-1"),  # a brcobranca-lineage lib/brcobranca/boleto/btg_pactual.rb: banco_dv '1'
    ],
)
def test_printed_bank_code(bank: str, printed: str) -> None:
    assert banks.printed_bank_code(bank) == printed


# --- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bank", "sequence", "agreement", "code"),
    [
        ("999", 1, {}, "boleto_unsupported_bank"),
        ("001", 1, {"agreement_code": "12345", "wallet": "18"}, "boleto_invalid_agreement"),
        (
            "001",
            100000,
            {"agreement_code": "123879", "wallet": "18", "agency": "4042", "account": "1"},
            "boleto_sequence_out_of_range",
        ),
        (
            "001",
            1,
            {"agreement_code": "123879", "wallet": "17", "options": {"nosso_numero_17": "1"}},
            "boleto_invalid_agreement",
        ),
        ("341", 0, {"agency": "0810", "account": "53678", "wallet": "175"}, "boleto_sequence_out_of_range"),
        ("341", 1, {"agency": "81", "account": "53678", "wallet": "175"}, "boleto_invalid_agreement"),
        ("237", 10**11, {"agency": "1172", "account": "1", "wallet": "06"}, "boleto_sequence_out_of_range"),
        ("104", 1, {"agreement_code": "245274", "wallet": "XX"}, "boleto_invalid_agreement"),
        (
            "748",
            1,
            {"agency": "1234", "account": "12345", "options": {"post": "18", "byte": "1"}},
            "boleto_invalid_agreement",
        ),
        ("748", 1, {"agency": "1234", "account": "12345"}, "boleto_invalid_agreement"),  # no posto
        ("756", 1, {"agency": "4327", "agreement_code": "12345678"}, "boleto_invalid_agreement"),
    ],
)
def test_bad_agreements_are_refused(bank: str, sequence: int, agreement: dict[str, Any], code: str) -> None:
    with pytest.raises(b.BoletoError) as err:
        issue(bank, sequence, date(2026, 1, 5), 100, **agreement)
    assert err.value.code == code


# --- properties ---------------------------------------------------------------------------------

AGREEMENTS: dict[str, tuple[dict[str, Any], int]] = {
    # bank: (agreement, the largest sequence it takes)
    "001": ({"agreement_code": "1238798", "wallet": "17"}, 10**10 - 1),
    "033": ({"agreement_code": "1899775", "wallet": "101"}, 10**12 - 1),
    "077": ({"account": "919898", "wallet": "12"}, 10**7 - 1),
    "085": ({"agreement_code": "1", "account": "1111111", "wallet": "01"}, 10**9 - 1),
    "104": ({"agreement_code": "245274", "wallet": "RG"}, 10**15 - 1),
    "208": ({"agency": "0050", "account": "445757", "wallet": "1"}, 10**11 - 1),
    "237": ({"agency": "1172", "account": "0403005", "wallet": "09"}, 10**11 - 1),
    "341": ({"agency": "0810", "account": "53678", "wallet": "109"}, 10**8 - 1),
    "748": ({"agency": "1234", "account": "12345", "options": {"post": "18"}}, 10**5 - 1),
    "756": ({"agency": "4327", "agreement_code": "229385"}, 10**7 - 1),
}


def test_every_registered_bank_has_a_property_case() -> None:
    assert set(AGREEMENTS) == set(banks.BANKS)


@st.composite
def bank_boletos(draw: st.DrawFn) -> tuple[str, int, date, int]:
    bank = draw(st.sampled_from(sorted(AGREEMENTS)))
    sequence = draw(st.integers(min_value=1, max_value=AGREEMENTS[bank][1]))
    due = draw(st.dates(min_value=date(2020, 1, 1), max_value=date(2060, 12, 31)))
    amount = draw(st.integers(min_value=0, max_value=b.MAX_AMOUNT_CENTS))
    return bank, sequence, due, amount


@settings(deadline=None)  # no timed asserts: the machine is shared
@given(bank_boletos())
def test_every_bank_issues_numbers_that_read_back(case: tuple[str, int, date, int]) -> None:
    bank, sequence, due, amount = case
    agreement = AGREEMENTS[bank][0]
    issued = issue(bank, sequence, due, amount, issue_date=due, **agreement)
    fields = b.parse_linha(issued.linha_digitavel, reference=due)
    assert (fields.bank_code, fields.due_date, fields.amount_cents, fields.campo_livre) == (
        bank,
        due,
        amount,
        issued.campo_livre,
    )
    # the sequence is in the nosso número the CNAB files carry
    assert issued.nosso_numero.digits.endswith(str(sequence))


@settings(deadline=None)  # no timed asserts: the machine is shared
@given(st.integers(min_value=1, max_value=10**5 - 1), st.integers(min_value=1, max_value=10**5 - 1))
def test_different_sequences_give_different_barcodes(first: int, second: int) -> None:
    # Two boletos of one agreement with the same due date and amount never share a barcode
    for bank, (agreement, _) in AGREEMENTS.items():
        one = issue(bank, first, date(2026, 1, 5), 100, issue_date=date(2026, 1, 1), **agreement)
        two = issue(bank, second, date(2026, 1, 5), 100, issue_date=date(2026, 1, 1), **agreement)
        assert (one.barcode == two.barcode) == (first == second)
