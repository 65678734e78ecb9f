"""Interleaved 2 of 5 (ITF), the symbology of the boleto barcode, as bar and space widths.

Each digit is five elements, two of them wide; digits go in pairs, the first drawn in the bars and the
second in the spaces between them. Start: narrow bar, narrow space, narrow bar, narrow space; stop:
wide bar, narrow space, narrow bar. The 44-digit boleto barcode (an even count, as ITF needs) is
4 + 22 x 18 + 5 = 405 narrow modules at a 3:1 ratio; FEBRABAN's 103 mm long symbol gives a narrow
element of about 0.254 mm.

``encode`` gives the widths (pure data, tested by decoding them back); drawing them on a PDF page is
the documents service's job.
"""

from __future__ import annotations

from assistec.domain.banking.boleto import BoletoError

# n = narrow, w = wide, for digits 0-9
PATTERNS: tuple[str, ...] = (
    "nnwwn",
    "wnnnw",
    "nwnnw",
    "wwnnn",
    "nnwnw",
    "wnwnn",
    "nwwnn",
    "nnnww",
    "wnnwn",
    "nwnwn",
)
_DIGIT_OF = {pattern: digit for digit, pattern in enumerate(PATTERNS)}
START = "nnnn"
STOP = "wnn"
DEFAULT_WIDE = 3


def encode(digits: str, *, wide: int = DEFAULT_WIDE) -> list[int]:
    """Element widths in narrow modules, alternating bar, space, bar, ... starting (and ending) with a
    bar. ``digits`` must be an even number of ASCII digits."""
    if not digits or len(digits) % 2 or not digits.isascii() or not digits.isdigit():
        raise BoletoError("itf_invalid_digits", "O código ITF precisa de uma quantidade par de dígitos.")
    if wide < 2:
        raise ValueError("the wide element must be at least twice the narrow one")
    elements = START
    for i in range(0, len(digits), 2):
        bars, spaces = PATTERNS[int(digits[i])], PATTERNS[int(digits[i + 1])]
        elements += "".join(b + s for b, s in zip(bars, spaces, strict=True))
    elements += STOP
    return [wide if e == "w" else 1 for e in elements]


def decode(widths: list[int] | list[float]) -> str:
    """The digits a sequence of element widths encodes (bar first), as a scanner would read them:
    each width is narrow or wide by a threshold halfway between the narrowest and the widest."""
    if len(widths) < len(START) + len(STOP) + 10 or (len(widths) - len(START) - len(STOP)) % 10:
        raise BoletoError("itf_unreadable", "Código ITF ilegível: quantidade de barras inesperada.")
    threshold = (min(widths) + max(widths)) / 2
    elements = "".join("w" if w > threshold else "n" for w in widths)
    if not elements.startswith(START) or not elements.endswith(STOP):
        raise BoletoError("itf_unreadable", "Código ITF ilegível: início ou fim inválido.")
    body = elements[len(START) : -len(STOP)]
    digits = []
    for i in range(0, len(body), 10):
        chunk = body[i : i + 10]
        for pattern in (chunk[0::2], chunk[1::2]):
            digit = _DIGIT_OF.get(pattern)
            if digit is None:
                raise BoletoError("itf_unreadable", "Código ITF ilegível: padrão de barras inválido.")
            digits.append(str(digit))
    return "".join(digits)
