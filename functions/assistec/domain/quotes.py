"""Quote arithmetic and text: pt-BR money, discounts, and the shop's message template."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

PLACEHOLDERS = {
    "VALOR": "the total, e.g. R$ 1.234,56",
    "CLIENTE": "the customer's name",
    "APARELHO": "brand and model of the device",
    "PRAZO": "working days to finish after approval, e.g. 3 dias úteis",
    "VALIDADE": "the last day the quote may be approved (dd/mm/aaaa)",
    "LOJA": "the shop's name",
    "OS": "the order number",
    "ITENS": "one line per item with its price",
    "LINK": "the public link to approve or reject",
}
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Z]+)\s*\}\}")

DEFAULT_TEMPLATE = (
    "Olá, {{CLIENTE}}! Segue o orçamento da OS {{OS}} ({{APARELHO}}) da {{LOJA}}:\n"
    "{{ITENS}}\n"
    "Total: {{VALOR}}. Prazo: {{PRAZO}} após a aprovação. Válido até {{VALIDADE}}.\n"
    "Para aprovar ou recusar: {{LINK}}"
)


def brl(cents: int) -> str:
    """pt-BR money: R$ 1.234,56 (negative amounts with a leading minus)."""
    sign = "-" if cents < 0 else ""
    reais, centavos = divmod(abs(cents), 100)
    return f"{sign}R$ {reais:,}".replace(",", ".") + f",{centavos:02d}"


def working_days(days: int) -> str:
    """pt-BR: 0 → "no mesmo dia", 1 → "1 dia útil", n → "n dias úteis"."""
    if days == 0:
        return "no mesmo dia"
    return "1 dia útil" if days == 1 else f"{days} dias úteis"


def discount_cents(subtotal_cents: int, percent: Decimal) -> int:
    """The discount on a subtotal, rounded half up to the centavo, never more than the subtotal."""
    value = (Decimal(subtotal_cents) * percent / Decimal(100)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return min(subtotal_cents, int(value))


def unknown_placeholders(template: str) -> list[str]:
    return sorted({name for name in _PLACEHOLDER.findall(template) if name not in PLACEHOLDERS})


def render(template: str, values: dict[str, str]) -> str:
    """Fill ``{{NAME}}`` placeholders; a placeholder without a value is left as written."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


@dataclass(frozen=True, slots=True)
class Line:
    kind: str  # part | service | labour
    description: str
    quantity: int
    unit_price_cents: int
    part_id: str | None = None

    @property
    def total_cents(self) -> int:
        return self.quantity * self.unit_price_cents

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "description": self.description,
            "quantity": self.quantity,
            "unit_price_cents": self.unit_price_cents,
            "total_cents": self.total_cents,
            "part_id": self.part_id,
        }


def items_text(lines: list[Line]) -> str:
    return "\n".join(
        f"- {line.description}"
        + (f" ({line.quantity}x)" if line.quantity > 1 else "")
        + f": {brl(line.total_cents)}"
        for line in lines
    )
