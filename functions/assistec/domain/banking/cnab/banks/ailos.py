"""Ailos (ex-Cecred, 085): CNAB 240 as FEBRABAN's; the nosso número (account + sequence, 17 digits)
left-aligned in 38-57. The trailer's title totals come as zeros (not informed)."""

from __future__ import annotations

from assistec.domain.banking.cnab.layouts import Cnab240Bank

CNAB240 = Cnab240Bank(slug="ailos240", code="085", name="Ailos", layout_version=87, lot_layout_version=45)
