"""BTG Pactual (208): CNAB 240 as FEBRABAN's."""

from __future__ import annotations

from assistec.domain.banking.cnab.layouts import Cnab240Bank

CNAB240 = Cnab240Bank(
    slug="btg240", code="208", name="BTG Pactual", layout_version=103, lot_layout_version=20
)
