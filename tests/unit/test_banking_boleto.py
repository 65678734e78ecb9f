"""FEBRABAN boleto numbers (domain/banking/boleto.py): check digits, the due-date factor and its 2025
rollover, barcode <-> linha digitável, and the clear refusals. Examples from public sources are cited
where they are used; per-bank campo livre examples are in test_banking_boleto_banks.py."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from assistec.domain.banking import boleto as b

# kivanio/brcobranca spec/brcobranca/boleto/banco_brasil_spec.rb ("convenio de 8 digitos"):
# R$ 135,00 due 2008-02-01
BB_BARCODE = "00193376900000135000000001238798977770016818"
BB_LINHA = "00190.00009 01238.798977 77700.168188 3 37690000013500"

digits = st.text(alphabet="0123456789", min_size=1, max_size=60)
campos_livres = st.text(alphabet="0123456789", min_size=25, max_size=25)
bank_codes = st.text(alphabet="0123456789", min_size=3, max_size=3).filter(lambda code: code[0] != "8")
amounts = st.integers(min_value=0, max_value=b.MAX_AMOUNT_CENTS)
due_dates = st.dates(min_value=b.FIRST_DUE_DATE, max_value=date(2080, 12, 31))


@st.composite
def barcodes(draw: st.DrawFn) -> str:
    return b.build_barcode(draw(bank_codes), draw(st.none() | due_dates), draw(amounts), draw(campos_livres))


# --- check digits -------------------------------------------------------------------------------


def test_mod10_on_the_febraban_fields_of_a_published_linha() -> None:
    # Given the three fields of a published linha digitável (BB example above)
    # Then each field's last digit is the mod 10 of the others
    assert b.mod10("001900000") == 9
    assert b.mod10("0123879897") == 7
    assert b.mod10("7770016818") == 8


def test_barcode_check_digit_maps_0_10_and_11_to_1() -> None:
    # Given the 43 digits whose remainder is 0, 1 and 10 (the three that would give 11, 10 and 1)
    # When the general digit is computed, Then it is 1 for all three and never 0
    for remainder in (0, 1, 10):
        body = next(f"{n:043d}" for n in range(10**6) if b.mod11_remainder(f"{n:043d}") == remainder)
        assert b.barcode_check_digit(body) == 1
    assert b.barcode_check_digit(BB_BARCODE[:4] + BB_BARCODE[5:]) == int(BB_BARCODE[4]) == 3


@settings(deadline=None)  # no timed asserts: the machine is shared
@given(digits)
def test_mod10_detects_every_single_digit_substitution(number: str) -> None:
    # FEBRABAN's mod 10 doubles every other digit: a single changed digit always changes the DV
    for _, changed in _mutations(number, range(len(number))):
        assert b.mod10(changed) != b.mod10(number)


# --- due-date factor ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "factor"),
    [
        (date(2000, 7, 3), 1000),  # the first factor of four digits
        (date(2008, 2, 1), 3769),  # brcobranca banco_brasil_spec.rb: 2008-02-01 -> ...3769... in the barcode
        (date(2016, 12, 25), 7019),  # eduardokum/laravel-boleto tests/UtilTest.php testDatas: 7019
        (date(2025, 2, 21), 9999),  # FEBRABAN: the last day of the first cycle
        (date(2025, 2, 22), 1000),  # FEBRABAN: back to 1000
        (date(2025, 2, 23), 1001),  # a brcobranca-lineage btg_pactual_spec.rb: due 2025-02-23 -> 1001
        (date(2049, 10, 13), 9999),  # the rule again, 8,999 days on
        (date(2049, 10, 14), 1000),
        (None, 0),  # no due date
    ],
)
def test_due_date_factor(day: date | None, factor: int) -> None:
    assert b.due_date_factor(day) == factor


def test_a_due_date_before_the_four_digit_factors_is_refused() -> None:
    with pytest.raises(b.BoletoError) as err:
        b.due_date_factor(date(2000, 7, 2))
    assert err.value.code == "boleto_due_date_out_of_range"


@pytest.mark.parametrize(
    ("factor", "reference", "expected"),
    [
        (9999, date(2025, 2, 1), date(2025, 2, 21)),
        (1000, date(2025, 2, 1), date(2025, 2, 22)),  # read before the rollover: the new cycle
        (1000, date(2025, 3, 1), date(2025, 2, 22)),
        (9999, date(2025, 3, 1), date(2025, 2, 21)),  # read after it: an overdue boleto
        (1001, date(2026, 11, 30), date(2025, 2, 23)),
        (3769, date(2008, 1, 15), date(2008, 2, 1)),
    ],
)
def test_factor_to_date_across_the_rollover(factor: int, reference: date, expected: date) -> None:
    assert b.factor_to_date(factor, reference=reference) == expected


@pytest.mark.parametrize("factor", [1, 999, 10000, -1])
def test_a_factor_outside_1000_9999_is_refused(factor: int) -> None:
    with pytest.raises(b.BoletoError) as err:
        b.factor_to_date(factor, reference=date(2026, 1, 1))
    assert err.value.code == "boleto_invalid_due_factor"


@settings(deadline=None)  # no timed asserts: the machine is shared
@given(
    due=due_dates,
    offset=st.integers(min_value=-(b.FACTOR_CYCLE - b.DEFAULT_DAYS_BACK - 1), max_value=b.DEFAULT_DAYS_BACK),
)
@example(due=date(2025, 2, 21), offset=-30)
@example(due=date(2025, 2, 22), offset=30)
@example(due=date(2025, 2, 22), offset=-1)
def test_factor_round_trip_within_the_window(due: date, offset: int) -> None:
    # Given a due date and a reference up to DEFAULT_DAYS_BACK after it (or the rest of the cycle before)
    reference = due + timedelta(days=offset)
    assume(reference - timedelta(days=b.DEFAULT_DAYS_BACK) >= b.FIRST_DUE_DATE)
    # When the factor is read back near the reference, Then it names the same date
    assert b.factor_to_date(b.due_date_factor(due), reference=reference) == due


@settings(deadline=None)  # no timed asserts: the machine is shared
@given(
    st.integers(min_value=b.FACTOR_MIN, max_value=b.FACTOR_MAX), st.dates(date(2010, 1, 1), date(2080, 1, 1))
)
def test_factor_to_date_lands_in_the_window(factor: int, reference: date) -> None:
    got = b.factor_to_date(factor, reference=reference)
    assert got is not None
    assert b.due_date_factor(got) == factor
    assert reference - timedelta(days=b.DEFAULT_DAYS_BACK) <= got < reference + timedelta(days=6000)


# --- building and reading -----------------------------------------------------------------------


def test_build_a_published_barcode_and_its_linha() -> None:
    # Given BB's published example parts, When the barcode is built, Then both numbers match the source
    barcode = b.build_barcode("001", date(2008, 2, 1), 13500, "0000001238798977770016818")
    assert barcode == BB_BARCODE
    assert b.format_linha(b.barcode_to_linha(barcode)) == BB_LINHA


@pytest.mark.parametrize(
    "typed",
    [
        BB_LINHA,
        BB_LINHA.replace(".", "").replace(" ", ""),
        " 00190.00009  01238.798977\t77700.168188 3 37690000013500\n",
        "00190-00009 01238-798977 77700-168188 3 37690000013500",
    ],
)
def test_a_linha_typed_with_or_without_punctuation_reads_back_to_the_barcode(typed: str) -> None:
    assert b.linha_to_barcode(typed) == BB_BARCODE


def test_parse_barcode_takes_it_apart() -> None:
    fields = b.parse_linha(BB_LINHA, reference=date(2008, 1, 1))
    assert fields == b.BarcodeFields(
        barcode=BB_BARCODE,
        bank_code="001",
        currency="9",
        check_digit=3,
        due_factor=3769,
        due_date=date(2008, 2, 1),
        amount_cents=13500,
        campo_livre="0000001238798977770016818",
    )
    assert b.format_linha(fields.linha_digitavel) == BB_LINHA


def test_amount_field_limits() -> None:
    assert b.amount_field(0) == "0000000000"
    assert b.amount_field(b.MAX_AMOUNT_CENTS) == "9999999999"
    for bad, code in ((b.MAX_AMOUNT_CENTS + 1, "boleto_amount_too_large"), (-1, "boleto_invalid_amount")):
        with pytest.raises(b.BoletoError) as err:
            b.build_barcode("001", date(2026, 1, 1), bad, "0" * 25)
        assert err.value.code == code


@pytest.mark.parametrize(
    ("bank", "currency", "campo_livre"),
    [
        ("01", "9", "0" * 25),
        ("800", "9", "0" * 25),
        ("001", "R", "0" * 25),
        ("001", "9", "0" * 24),
        ("001", "9", "0" * 24 + "a"),
    ],
)
def test_malformed_parts_are_refused(bank: str, currency: str, campo_livre: str) -> None:
    with pytest.raises(b.BoletoError) as err:
        b.build_barcode(bank, date(2026, 1, 1), 100, campo_livre, currency=currency)
    assert err.value.code == "boleto_invalid_field"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (BB_LINHA[:-1], "boleto_invalid_length"),
        (BB_LINHA + "0", "boleto_invalid_length"),
        (BB_LINHA.replace("3 3769", "X 3769"), "boleto_invalid_characters"),
        (
            "00190.00009 01238.798977 77700.\uff11\uff16\uff18188 3 37690000013500",
            "boleto_invalid_characters",
        ),  # full-width
        ("00190.00008 01238.798977 77700.168188 3 37690000013500", "boleto_check_digit"),  # field 1
        ("00190.00009 01238.798976 77700.168188 3 37690000013500", "boleto_check_digit"),  # field 2
        ("00190.00009 01238.798977 77700.168187 3 37690000013500", "boleto_check_digit"),  # field 3
        ("00190.00009 01238.798977 77700.168188 4 37690000013500", "boleto_check_digit"),  # general
        ("836200000005 667800481000 180975657313 001589636081", "boleto_is_arrecadacao"),  # a utility bill
    ],
)
def test_a_bad_linha_is_refused_with_a_stable_code(text: str, code: str) -> None:
    with pytest.raises(b.BoletoError) as err:
        b.linha_to_barcode(text)
    assert err.value.code == code
    assert err.value.message  # pt-BR, for the person who typed it


def test_the_check_digit_error_says_which_field() -> None:
    with pytest.raises(b.BoletoError) as err:
        b.linha_to_barcode("00190.00009 01238.798976 77700.168188 3 37690000013500")
    assert err.value.details == {"field": 2}


def test_a_barcode_with_a_wrong_general_digit_is_refused() -> None:
    with pytest.raises(b.BoletoError) as err:
        b.validate_barcode(BB_BARCODE[:4] + "4" + BB_BARCODE[5:])
    assert (err.value.code, err.value.details) == ("boleto_check_digit", {"field": "general"})


# --- properties ---------------------------------------------------------------------------------


@settings(deadline=None)  # no timed asserts: the machine is shared
@given(barcodes())
def test_barcode_linha_round_trip(barcode: str) -> None:
    linha = b.barcode_to_linha(barcode)
    assert len(linha) == b.LINHA_LENGTH
    assert b.linha_to_barcode(linha) == barcode
    assert b.linha_to_barcode(b.format_linha(linha)) == barcode


@settings(deadline=None)  # no timed asserts: the machine is shared
@given(bank_codes, st.none() | due_dates, amounts, campos_livres)
def test_parse_gives_back_what_was_built(bank: str, due: date | None, amount: int, free: str) -> None:
    barcode = b.build_barcode(bank, due, amount, free)
    fields = b.parse_barcode(barcode, reference=due or date(2026, 1, 1))
    assert (fields.bank_code, fields.due_date, fields.amount_cents, fields.campo_livre) == (
        bank,
        due,
        amount,
        free,
    )


def _mutations(number: str, positions: range) -> list[tuple[int, str]]:
    return [
        (pos, number[:pos] + d + number[pos + 1 :])
        for pos in positions
        for d in "0123456789"
        if d != number[pos]
    ]


# The general digit's blind spot: remainders 0, 1 and 10 all give digit 1, so a change that moves the
# remainder between two of them keeps the digit. Every other single-digit change is caught.
_BLIND = frozenset({0, 1, 10})


def _general_digit_catches(original: str, changed: str) -> bool:
    r_old = b.mod11_remainder(original[:4] + original[5:])
    r_new = b.mod11_remainder(changed[:4] + changed[5:])
    return not (r_old in _BLIND and r_new in _BLIND)


@settings(max_examples=30, deadline=None)  # each example tries every one of ~400 single-digit changes
@given(barcodes())
def test_a_single_digit_change_in_the_barcode_is_caught_except_the_known_blind_spot(barcode: str) -> None:
    for pos, changed in _mutations(barcode, range(b.BARCODE_LENGTH)):
        if pos == 4 or changed[0] == "8" or _general_digit_catches(barcode, changed):
            with pytest.raises(b.BoletoError):
                b.validate_barcode(changed)
        else:
            assert b.validate_barcode(changed) == changed  # the FEBRABAN rule's blind spot, kept as is


def test_the_blind_spot_exists() -> None:
    # Guard: the exception above is real, not a test that cannot fail. A barcode whose remainder is 1
    # (digit 1) with a digit changed so that the remainder becomes 0 still validates.
    body = next(f"0019{n:039d}" for n in range(10**6) if b.mod11_remainder(f"0019{n:039d}") == 1)
    barcode = body[:4] + "1" + body[4:]
    changed = next(c for _, c in _mutations(barcode, range(5, 44)) if b.mod11_remainder(c[:4] + c[5:]) == 0)
    assert changed != barcode
    assert b.validate_barcode(changed) == changed


@settings(max_examples=30, deadline=None)  # each example tries every one of ~400 single-digit changes
@given(barcodes())
def test_a_single_digit_change_in_fields_1_to_3_of_the_linha_is_always_caught(barcode: str) -> None:
    linha = b.barcode_to_linha(barcode)
    for _, changed in _mutations(linha, range(32)):
        with pytest.raises(b.BoletoError) as err:
            b.linha_to_barcode(changed)
        # a leading 8 reads as an arrecadação code, refused before its digits are checked
        assert err.value.code == ("boleto_is_arrecadacao" if changed[0] == "8" else "boleto_check_digit")


@settings(max_examples=30, deadline=None)  # each example tries every one of ~400 single-digit changes
@given(barcodes())
def test_a_single_digit_change_in_fields_4_and_5_is_caught_like_the_barcode(barcode: str) -> None:
    linha = b.barcode_to_linha(barcode)
    for pos, changed in _mutations(linha, range(32, 47)):
        changed_barcode = (
            changed[0:4] + changed[32] + changed[33:47] + changed[4:9] + changed[10:20] + changed[21:31]
        )
        if pos == 32 or _general_digit_catches(barcode, changed_barcode):
            with pytest.raises(b.BoletoError):
                b.linha_to_barcode(changed)
        else:
            assert b.linha_to_barcode(changed) == changed_barcode
