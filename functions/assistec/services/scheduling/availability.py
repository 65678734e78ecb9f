"""Open slots for one appointment type: the shop's hours, closed dates and holidays, the type's
capacity against the bookings already made, and the busy times of the shop's Google calendars.

The same answer serves staff (``GET /availability``) and the WhatsApp bot. Google is asked outside
any transaction, within a short budget; when it cannot answer (an outage, a connection to redo) the
slots are computed from assistec's own data and the answer says Google was not consulted: a Google
outage never stops the shop from booking.

Our own events in Google (the appointments mirrored there) show up as busy in free/busy too: those
intervals are taken out of Google's answer, since the bookings themselves already count against the
capacity (a drop-off with capacity 2 must not block its own slot's second seat)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from assistec.db import scheduling as db
from assistec.domain import scheduling as rules
from assistec.domain.permissions import Permission
from assistec.errors import ValidationFailedError
from assistec.observability import logger
from assistec.services.access import require
from assistec.services.audit import SystemActor
from assistec.services.scheduling.rules import ShopRules, load

if TYPE_CHECKING:
    from collections.abc import Callable

    from assistec.domain.tokens import Identity
    from assistec.services.scheduling.google import GoogleAccess
    from assistec.services.unit_of_work import UnitOfWork, UnitsOfWork

MAX_WINDOW_DAYS = 62
GOOGLE_BUDGET_S = 4.0


@dataclass(frozen=True, slots=True)
class Availability:
    type: str
    timezone: str
    slots: list[rules.Slot]
    google: str  # consulted, not_connected, reconnect, unavailable


class AvailabilityService:
    def __init__(
        self,
        work: UnitsOfWork,
        google: GoogleAccess | None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._work = work
        self._google = google
        self._clock = clock

    def for_staff(self, identity: Identity, *, type_: str, start: datetime, end: datetime) -> Availability:
        if end <= start:
            raise ValidationFailedError(details=[{"field": "to", "message": "deve ser depois de from"}])
        if end - start > timedelta(days=MAX_WINDOW_DAYS):
            raise ValidationFailedError(details=[{"field": "to", "message": "no máximo 62 dias"}])
        require(identity, Permission.APPOINTMENTS_READ)  # before anything is read or Google is asked
        return self.compute(identity.tenant_id, type_=type_, start=start, end=end)

    def compute(
        self, tenant_id: UUID, *, type_: str, start: datetime, end: datetime, exclude: UUID | None = None
    ) -> Availability:
        """Open slots of ``type_`` in [start, end) with Google's busy times read now (kept for the
        bot); when Google cannot answer, the busy times last kept."""
        google = self.refresh_busy(tenant_id, start, end)
        with self._work(SystemActor(tenant_id=tenant_id)) as uow:
            found = offer(uow, type_=type_, start=start, end=end, now=self._clock(), exclude=exclude)
        return Availability(type_, found.timezone, found.slots, google)

    def horizon_days(self, tenant_id: UUID) -> int:
        with self._work(SystemActor(tenant_id=tenant_id)) as uow:
            return load(uow).horizon_days

    def refresh_busy(self, tenant_id: UUID, start: datetime, end: datetime) -> str:
        """Read the shop's busy times from Google into ``google_busy``; how it went (consulted,
        not_connected, reconnect, unavailable)."""
        if self._google is None:
            return "not_connected"
        from assistec.integrations.google_calendar import GoogleError, GoogleReconnectNeeded

        try:
            with self._google.calendar(tenant_id, budget_s=GOOGLE_BUDGET_S) as found:
                if found is None:
                    return "not_connected"
                client, row = found
                ids = list(row.busy_calendar_ids) or [row.calendar_id]
                answer = client.free_busy(ids, start, end)
        except GoogleReconnectNeeded:
            return "reconnect"
        except (GoogleError, OSError):
            logger.warning("google free/busy unavailable; the busy times last kept are used")
            return "unavailable"
        busy = [interval for intervals in answer.values() for interval in intervals]
        with self._work(SystemActor(tenant_id=tenant_id)) as uow:
            db.replace_busy(uow.conn, tenant_id=tenant_id, start=start, end=end, busy=busy)
            db.update_connection(uow.conn, busy_synced_at=self._clock())
        return "consulted"


@dataclass(frozen=True, slots=True)
class Offer:
    timezone: str
    slots: list[rules.Slot]


def offer(
    uow: UnitOfWork, *, type_: str, start: datetime, end: datetime, now: datetime, exclude: UUID | None = None
) -> Offer:
    """Open slots computed inside the caller's transaction from what the database holds (the bot's
    way: no network inside its transaction): the shop's rules, the bookings, the busy times kept."""
    shop = load(uow)
    rule = shop.types[type_]
    held = db.held(
        uow.conn, type_=type_, start=start - timedelta(days=1), end=end + timedelta(days=1), exclude=exclude
    )
    ours = uow.conn.execute(
        "select starts_at, ends_at from appointments where status in ('booked', 'confirmed') "
        "and during && tstzrange(%s, %s)",
        (start - timedelta(days=1), end + timedelta(days=1)),
    ).fetchall()
    busy = _subtract(db.busy(uow.conn, start=start, end=end), [(r[0], r[1]) for r in ours])
    return Offer(shop.timezone, slots(shop, rule, start, end, now, held, busy))


def slots(
    shop: ShopRules,
    rule: rules.TypeRule,
    start: datetime,
    end: datetime,
    now: datetime,
    held: Sequence[tuple[datetime, datetime]],
    busy: Sequence[tuple[datetime, datetime]],
) -> list[rules.Slot]:
    """The pure computation over what was read (the window cut to notice and horizon)."""
    not_before = now + timedelta(minutes=shop.min_notice_min)
    horizon = now + timedelta(days=shop.horizon_days)
    window_end = min(end, horizon)
    window_start = max(start, not_before)
    if window_end <= window_start:
        return []
    return rules.open_slots(
        window=rules.Interval(window_start, window_end),
        tz=shop.timezone,
        hours=shop.hours,
        rule=rule,
        step_min=shop.step_min,
        booked=[rules.Interval(a, b) for a, b in held],
        busy=[rules.Interval(a, b) for a, b in busy if b > a],
        closed_dates=shop.closed_dates,
        observe_optional_holidays=shop.observe_optional_holidays,
        not_before=not_before,
    )


def _subtract(
    busy: Sequence[tuple[datetime, datetime]], ours: Sequence[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    """``busy`` without the parts covered by ``ours`` (half-open intervals)."""
    if not ours:
        return list(busy)
    cuts = sorted(ours)
    left: list[tuple[datetime, datetime]] = []
    for a, b in busy:
        pieces = [(a, b)]
        for c, d in cuts:
            if d <= a or c >= b:
                continue
            next_pieces: list[tuple[datetime, datetime]] = []
            for x, y in pieces:
                if d <= x or c >= y:
                    next_pieces.append((x, y))
                    continue
                if x < c:
                    next_pieces.append((x, c))
                if d < y:
                    next_pieces.append((d, y))
            pieces = next_pieces
        left.extend(pieces)
    return left
