"""The owner's copy of the shop's data (LGPD, portability): the rules of asking for it, keeping it and
handing it out. Pure: the service (services/data_exports.py) applies them.

- one export of a shop under way at a time, and at most ``DAILY_LIMIT`` asked in any 24 hours (each
  reads the whole shop); failed ones do not count, so the owner can always ask again after a failure;
- the file is kept ``FILE_DAYS`` days after it is stored, handed out through links valid
  ``LINK_EXPIRES_S`` seconds (never in an e-mail);
- a worker that dies leaves its export 'running': past ``RUNNING_LEASE_S`` (longer than the worker
  can live) it is taken again by the queue's redelivery, or recorded failed when the shop's exports
  are next read; an export not started within ``PENDING_TIMEOUT_S`` is taken as lost the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from math import ceil
from typing import Literal
from uuid import UUID
from zoneinfo import ZoneInfo

Status = Literal["pending", "running", "ready", "failed"]
ACTIVE: tuple[Status, ...] = ("pending", "running")

# The domain event the worker's queue receives (EventBridge rule on the shop's bus).
REQUESTED_EVENT = "DataExportRequested"

DAILY_LIMIT = 3
WINDOW = timedelta(hours=24)
FILE_DAYS = 7
LINK_EXPIRES_S = 300
# The worker lives at most 15 minutes (its Lambda timeout; tests/infra checks this is longer).
RUNNING_LEASE_S = 20 * 60
PENDING_TIMEOUT_S = 6 * 3600

KEY_PREFIX = "exports/"
CONTENT_TYPE = "application/zip"
SHOP_TIME = ZoneInfo("America/Sao_Paulo")

# What the owner reads on an export that did not finish (pt-BR, stored on the row).
FAILED_MESSAGE = (
    "Não foi possível gerar a exportação dos dados. Peça uma nova exportação; se o erro continuar, "
    "fale com o suporte do assistec."
)
INTERRUPTED_MESSAGE = (
    "A exportação foi interrompida antes de terminar. Peça uma nova exportação; se o erro continuar, "
    "fale com o suporte do assistec."
)


def export_key(tenant_id: UUID, export_id: UUID) -> str:
    """Where an export's zip is stored: under the shop's own prefix."""
    return f"{KEY_PREFIX}{tenant_id}/{export_id}.zip"


def filename(requested_at: datetime) -> str:
    """The name the owner's browser saves the zip under: the day it was asked, in São Paulo."""
    return f"assistec-dados-da-loja-{requested_at.astimezone(SHOP_TIME):%Y-%m-%d}.zip"


def expires_at(stored_at: datetime) -> datetime:
    """Until when the file is handed out, from the moment its upload began (S3's lifecycle counts
    from the object's creation, which is not earlier, and keeps it a day longer)."""
    return stored_at + timedelta(days=FILE_DAYS)


def expired(expires: datetime | None, now: datetime) -> bool:
    return expires is not None and now >= expires


def counted(requested: Sequence[tuple[datetime, str]], now: datetime) -> list[datetime]:
    """The requests that count towards the daily limit: those of the last 24 hours that did not fail,
    oldest first."""
    return sorted(at for at, status in requested if status != "failed" and now - at < WINDOW)


def retry_after_s(counted_requests: Sequence[datetime], now: datetime) -> int | None:
    """None while the shop may ask again; else the seconds until the oldest counted request leaves
    the 24-hour window (at least 1)."""
    if len(counted_requests) < DAILY_LIMIT:
        return None
    oldest = sorted(counted_requests)[len(counted_requests) - DAILY_LIMIT]
    return max(1, ceil((oldest + WINDOW - now).total_seconds()))


def stale(status: str, requested_at: datetime, started_at: datetime | None, now: datetime) -> bool:
    """An export under way that no worker can still be working on (see the module's docstring)."""
    if status == "running":
        return started_at is None or (now - started_at).total_seconds() > RUNNING_LEASE_S
    if status == "pending":
        return (now - requested_at).total_seconds() > PENDING_TIMEOUT_S
    return False
