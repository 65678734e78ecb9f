"""Tokens of the public links a shop sends its customers (order tracking, quote decision).

A token is ``<tenant id>.<random>``: unguessable (256 random bits) and self-routing, the tenant
prefix tells the server which shop's transaction to open before looking the token up.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo


def new_token(tenant_id: UUID) -> str:
    """A fresh public-link token of the shop ``tenant_id``."""
    return f"{tenant_id}.{secrets.token_urlsafe(32)}"


def token_tenant(token: str) -> UUID | None:
    """The shop a public-link token belongs to; None when the token is malformed (cut short)."""
    tenant, _, rest = token.partition(".")
    if len(rest) < 20:
        return None
    try:
        return UUID(tenant)
    except ValueError:
        return None


# --- how long a link can be read (issue 10 §5) ---------------------------------------------------
DEFAULT_READ_DAYS = 30  # ApiSettings.public_link_read_days


def quote_readable_until(
    *, status: str, decided_at: datetime | None, expires_at: datetime, read_days: int
) -> datetime | None:
    """Until when a quote's link can still be read; None while it waits for a decision.

    A decided quote (approved or rejected) stays readable ``read_days`` after its decision; a
    pending one whose link expired, ``read_days`` after that expiry. A superseded quote's page
    sends the customer to the newest link; it is not limited here."""
    if status in ("approved", "rejected"):
        return None if decided_at is None else decided_at + timedelta(days=read_days)
    if status == "pending":
        return expires_at + timedelta(days=read_days)
    return None


def tracking_readable_until(
    *,
    status: str,
    delivered_at: datetime | None,
    warranty_until: date | None,
    closed_at: datetime | None,
    timezone: str,
    read_days: int,
) -> datetime | None:
    """Until when an order's tracking link can still be read; None while the order is open.

    A delivered order: through the last day of its warranty, in the shop's calendar (without a
    warranty, ``read_days`` after delivery). A cancelled one: ``read_days`` after it closed."""
    if status == "delivered":
        if warranty_until is not None:
            return datetime.combine(warranty_until + timedelta(days=1), time(0), tzinfo=ZoneInfo(timezone))
        return None if delivered_at is None else delivered_at + timedelta(days=read_days)
    if status == "cancelled":
        return None if closed_at is None else closed_at + timedelta(days=read_days)
    return None
