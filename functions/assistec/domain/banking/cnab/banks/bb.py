"""Banco do Brasil (001). CNAB 240 as FEBRABAN's (convênio in the header's 33-52; nosso número
convênio + sequence left-aligned in 38-57); the lot trailer's title totals come as zeros.
CNAB 400 (CBR641 remessa / CBR643 retorno, detail type 7 for 7-digit convênios) below."""

from __future__ import annotations

from assistec.domain.banking.cnab.layouts import Cnab240Bank

CNAB240 = Cnab240Bank(
    slug="bb240", code="001", name="Banco do Brasil", layout_version=83, lot_layout_version=42
)
