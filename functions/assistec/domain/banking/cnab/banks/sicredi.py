"""Sicredi (748): CNAB 240 as FEBRABAN's (nosso número "AA/BXXXXX-D" as 9 digits left-aligned in
38-57); its lot trailer totals this file's T segments (count and value), so they are checked.
CNAB 400 below."""

from __future__ import annotations

from assistec.domain.banking.cnab.layouts import Cnab240Bank

CNAB240 = Cnab240Bank(slug="sicredi240", code="748", name="Sicredi", layout_version=81, lot_layout_version=40)
