"""The boleto's ITF (interleaved 2 of 5) barcode: widths from domain/banking/itf.py, drawn on a PDF by
services/documents/itf_barcode.py, read back from the PDF's own drawing operators to the 44 digits."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistec.domain.banking import itf
from assistec.domain.banking.boleto import BoletoError, build_barcode
from assistec.services.documents.itf_barcode import DEFAULT_NARROW_MM, draw_itf

# kivanio/brcobranca spec/brcobranca/boleto/banco_brasil_spec.rb (convênio de 8 dígitos)
BARCODE = "00193376900000135000000001238798977770016818"

even_digits = st.integers(1, 30).flatmap(
    lambda n: st.text(alphabet="0123456789", min_size=2 * n, max_size=2 * n)
)


def test_each_digit_has_two_wide_elements() -> None:
    assert all(len(p) == 5 and p.count("w") == 2 for p in itf.PATTERNS)
    assert len(set(itf.PATTERNS)) == 10


def test_a_boleto_barcode_is_405_modules_long() -> None:
    widths = itf.encode(BARCODE)
    assert len(widths) == 4 + 44 * 5 + 3
    assert sum(widths) == 405
    assert widths[:4] == [1, 1, 1, 1]
    assert widths[-3:] == [3, 1, 1]
    assert itf.decode(widths) == BARCODE


@settings(deadline=None)  # no timed asserts: the machine is shared
@given(even_digits, st.integers(2, 4))
def test_encode_decode_round_trip(digits: str, wide: int) -> None:
    assert itf.decode(itf.encode(digits, wide=wide)) == digits


@settings(deadline=None)  # no timed asserts: the machine is shared
@given(even_digits, st.floats(0.8, 1.2), st.floats(2.6, 3.4))
def test_decode_tolerates_printing_spread(digits: str, narrow_scale: float, wide_scale: float) -> None:
    # Ink spread and scanner blur: narrow and wide elements that are not exactly 1 and 3
    widths = [narrow_scale if w == 1 else wide_scale for w in itf.encode(digits)]
    assert itf.decode(widths) == digits


@pytest.mark.parametrize("digits", ["", "123", "12a4", "\uff11\uff12"])
def test_odd_or_non_digit_input_is_refused(digits: str) -> None:
    with pytest.raises(BoletoError) as err:
        itf.encode(digits)
    assert err.value.code == "itf_invalid_digits"


def test_bars_that_are_not_itf_are_refused() -> None:
    widths = itf.encode(BARCODE)
    with pytest.raises(BoletoError) as err:
        itf.decode([3, *widths[1:]])  # a wide element in the start pattern
    assert err.value.code == "itf_unreadable"
    with pytest.raises(BoletoError):
        itf.decode(widths[:-1])


def _bars_from_pdf(pdf_bytes: bytes) -> list[tuple[float, float]]:
    """(x, width) of every filled rectangle in an uncompressed PDF's content stream."""
    rects = re.findall(rb"([\d.]+) [\d.]+ ([\d.]+) -?[\d.]+ re f", pdf_bytes)
    return sorted((float(x), float(w)) for x, w in rects)


def _widths_from_bars(bars: list[tuple[float, float]]) -> list[float]:
    widths: list[float] = []
    for i, (x, w) in enumerate(bars):
        if i:
            prev_x, prev_w = bars[i - 1]
            widths.append(x - (prev_x + prev_w))  # the space between two bars
        widths.append(w)
    return widths


def _render(digits: str) -> tuple[bytes, float]:
    from fpdf import FPDF

    pdf = FPDF(unit="mm", format="A4")
    pdf.set_compression(False)
    pdf.add_page()
    end = draw_itf(pdf, digits, 20.0, 250.0)
    return bytes(pdf.output()), end


def test_the_drawn_barcode_reads_back_to_the_44_digits() -> None:
    # Given a boleto barcode drawn on a PDF page, When the rectangles are read back from the PDF,
    # Then their widths and the gaps between them decode to the same 44 digits
    pdf_bytes, end = _render(BARCODE)
    assert end == pytest.approx(20.0 + 405 * DEFAULT_NARROW_MM)
    bars = _bars_from_pdf(pdf_bytes)
    assert len(bars) == (len(itf.encode(BARCODE)) + 1) // 2
    assert itf.decode(_widths_from_bars(bars)) == BARCODE
    total_mm = (bars[-1][0] + bars[-1][1] - bars[0][0]) / (72 / 25.4)  # PDF points -> mm
    assert total_mm == pytest.approx(102.87, abs=0.05)  # FEBRABAN's ~103 mm


@settings(max_examples=10, deadline=None)  # each renders a PDF
@given(st.text(alphabet="0123456789", min_size=25, max_size=25), st.integers(0, 10**10 - 1))
def test_any_drawn_boleto_reads_back(campo_livre: str, amount: int) -> None:
    barcode = build_barcode("341", date(2026, 5, 4), amount, campo_livre)
    assert itf.decode(_widths_from_bars(_bars_from_pdf(_render(barcode)[0]))) == barcode
