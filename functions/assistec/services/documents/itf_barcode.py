"""Drawing a boleto's ITF barcode on an fpdf2 page (the widths come from domain/banking/itf.py).

FEBRABAN's boleto barcode is about 103 mm long and 13 mm tall, with a quiet zone either side: with a
3:1 ratio the 405 modules of a 44-digit barcode give a narrow element of 0.254 mm (DEFAULT_NARROW_MM).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistec.domain.banking import itf

if TYPE_CHECKING:
    from fpdf import FPDF

DEFAULT_NARROW_MM = 0.254
DEFAULT_HEIGHT_MM = 13.0


def draw_itf(
    pdf: FPDF,
    digits: str,
    x: float,
    y: float,
    *,
    narrow: float = DEFAULT_NARROW_MM,
    height: float = DEFAULT_HEIGHT_MM,
    wide: int = itf.DEFAULT_WIDE,
) -> float:
    """Draws ``digits`` as ITF bars from (x, y) in the page's units (mm by default), in black; returns
    the x where the barcode ends."""
    pdf.set_fill_color(0, 0, 0)
    position = x
    for index, modules in enumerate(itf.encode(digits, wide=wide)):
        width = modules * narrow
        if index % 2 == 0:  # bars at even positions, spaces between them
            pdf.rect(position, y, width, height, style="F")
        position += width
    return position
