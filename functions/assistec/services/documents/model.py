"""What the shop's printed documents show: the intake receipt, the quote and the delivery receipt.

Money is integer centavos; dates and times are aware datetimes already in the shop's time zone (the
caller converts). The documents check their own sums, so an inconsistent total is never printed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from assistec.domain.shop_documents import LEGAL_WARRANTY_DAYS

Paper = Literal["a4", "thermal80"]


def _check_cents(**amounts: int) -> None:
    for name, value in amounts.items():
        if type(value) is not int or value < 0:
            raise ValueError(f"{name} must be a non-negative integer amount of centavos, got {value!r}")


def _check_aware(**moments: datetime) -> None:
    for name, value in moments.items():
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware (in the shop's time zone)")


@dataclass(frozen=True, slots=True)
class ShopHeader:
    name: str
    document: str | None = None  # CNPJ/CPF, already formatted
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    logo: bytes | None = None  # PNG or JPEG
    terms: str | None = None  # the shop's own intake terms


@dataclass(frozen=True, slots=True)
class Party:
    name: str
    phone: str | None = None
    document: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    kind: str
    brand: str | None = None
    model: str | None = None
    serial: str | None = None  # IMEI or serial number
    condition: str | None = None
    accessories: tuple[str, ...] = ()
    password_given: bool = False


@dataclass(frozen=True, slots=True)
class Line:
    description: str
    quantity: int
    unit_cents: int

    def __post_init__(self) -> None:
        if type(self.quantity) is not int or self.quantity < 1:
            raise ValueError(f"quantity must be a positive integer, got {self.quantity!r}")
        _check_cents(unit_cents=self.unit_cents)

    @property
    def total_cents(self) -> int:
        return self.quantity * self.unit_cents


@dataclass(frozen=True, slots=True)
class IntakeDocument:
    """Ordem de serviço — comprovante de entrada."""

    shop: ShopHeader
    customer: Party
    device: DeviceInfo
    order_number: str
    opened_at: datetime
    problem: str
    notes: str | None = None
    tracking_url: str | None = None

    def __post_init__(self) -> None:
        _check_aware(opened_at=self.opened_at)


@dataclass(frozen=True, slots=True)
class QuoteDocument:
    """Orçamento: lines, subtotal, discount and total (total == subtotal - discount)."""

    shop: ShopHeader
    customer: Party
    device: DeviceInfo
    order_number: str
    quote_number: int
    issued_at: datetime
    valid_until: date | None
    lines: tuple[Line, ...]
    discount_cents: int
    total_cents: int
    notes: str | None = None
    approval_url: str | None = None

    def __post_init__(self) -> None:
        _check_aware(issued_at=self.issued_at)
        _check_cents(discount_cents=self.discount_cents, total_cents=self.total_cents)
        if self.total_cents != self.subtotal_cents - self.discount_cents:
            raise ValueError(
                f"total_cents {self.total_cents} is not the lines' {self.subtotal_cents}"
                f" minus the discount {self.discount_cents}"
            )

    @property
    def subtotal_cents(self) -> int:
        return sum(line.total_cents for line in self.lines)


@dataclass(frozen=True, slots=True)
class DeliveryDocument:
    """Comprovante de entrega, with the warranty term (at least the legal 90 days from delivery).

    A total below the services' sum is a discount the receipt shows as such; a total above it, or a
    payment above the total, cannot be explained on paper and is refused.
    """

    shop: ShopHeader
    customer: Party
    device: DeviceInfo
    order_number: str
    delivered_at: datetime
    services: tuple[Line, ...]
    total_cents: int
    paid_cents: int
    warranty_days: int = LEGAL_WARRANTY_DAYS
    warranty_terms: str | None = None

    def __post_init__(self) -> None:
        _check_aware(delivered_at=self.delivered_at)
        _check_cents(total_cents=self.total_cents, paid_cents=self.paid_cents)
        if self.total_cents > self.subtotal_cents:
            raise ValueError(f"total_cents {self.total_cents} exceeds the services' {self.subtotal_cents}")
        if self.paid_cents > self.total_cents:
            raise ValueError(f"paid_cents {self.paid_cents} exceeds total_cents {self.total_cents}")
        if type(self.warranty_days) is not int or self.warranty_days < LEGAL_WARRANTY_DAYS:
            raise ValueError(f"warranty_days must be at least the legal {LEGAL_WARRANTY_DAYS}")

    @property
    def subtotal_cents(self) -> int:
        return sum(line.total_cents for line in self.services)

    @property
    def warranty_until(self) -> date:
        return self.delivered_at.date() + timedelta(days=self.warranty_days)
