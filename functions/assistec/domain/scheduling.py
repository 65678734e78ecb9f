"""Appointment slots, pure: which start times a shop can still offer for a type of appointment (drop-off,
pickup, technician visit), given its opening hours, holidays, its calendar's busy times and the bookings
already made. No I/O: the service reads the shop's settings, Google free/busy and the bookings, calls
``open_slots``, and lets ``pick_offer`` choose what the WhatsApp bot proposes.

A booking holds its resource for ``blocking(start, rule)`` = [start, start + duration + buffer): the
buffer (travel, cleanup) keeps the resource busy after the appointment. The database stores exactly
that range per booking (an exclusion constraint over tstzrange per type and seat 1..capacity), and the
computation here counts the same ranges. Every interval is half-open: [a, b) and [b, c) do not overlap.
Capacity is counted as overlap (fewer than ``capacity`` bookings at every instant), not per seat: when
bookings of unequal offsets sit on different seats, a start offered here can find every seat taken
somewhere in its range, so the booking still has to try the seats and may report the slot as gone.

Time arithmetic runs on absolute instants (integer microseconds since the epoch), so a clock change is
counted as the hours that really pass; opening hours are local wall times, converted with zoneinfo. A
wall time skipped by a clock change is never offered; a repeated one is offered once (its first
occurrence).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType
from typing import Literal
from zoneinfo import ZoneInfo

from assistec.domain.holidays import is_holiday

APPOINTMENT_TYPES = ("drop_off", "pickup", "visit")
AppointmentType = Literal["drop_off", "pickup", "visit"]

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"([01][0-9]|2[0-4]):([0-5][0-9])")
_DAY_MIN = 24 * 60
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)  # noqa: DTZ001 - the origin of local wall times, which are naive
_US = timedelta(microseconds=1)
_MIN_US = 60_000_000
_ONE_DAY = timedelta(days=1)
# pick_offer: a day's next offer starts at least this long after the previous one (morning, afternoon).
_SPREAD = timedelta(hours=3)


@dataclass(frozen=True, slots=True)
class TypeRule:
    """How one appointment type books: its length, the buffer after it during which the same resource
    is still busy, and how many can run at once (seats). ``enabled=False`` (or ``capacity < 1``) stops
    the type being offered."""

    duration_min: int
    buffer_min: int
    capacity: int
    enabled: bool = True

    def __post_init__(self) -> None:
        if self.duration_min < 1:
            raise ValueError("duration_min must be at least 1")
        if self.buffer_min < 0:
            raise ValueError("buffer_min must not be negative")


DEFAULT_RULES: Mapping[str, TypeRule] = MappingProxyType(
    {
        "drop_off": TypeRule(duration_min=15, buffer_min=0, capacity=2),
        "pickup": TypeRule(duration_min=15, buffer_min=0, capacity=2),
        "visit": TypeRule(duration_min=60, buffer_min=30, capacity=1),
    }
)


@dataclass(frozen=True, slots=True)
class Interval:
    """[start, end): aware datetimes, ``end`` after ``start`` (``ValueError`` otherwise)."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        _require_aware(self.start, "start")
        _require_aware(self.end, "end")
        if _us(self.end) <= _us(self.start):
            raise ValueError("end must be after start")


@dataclass(frozen=True, slots=True)
class Slot:
    """A start that can still be booked: ``end`` = start + duration (the buffer not included), ``free``
    = how many more bookings of the type it can take (at least 1). In the shop's time zone."""

    start: datetime
    end: datetime
    free: int


def _require_aware(moment: datetime, name: str) -> None:
    if moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def _us(moment: datetime) -> int:
    """An aware datetime as whole microseconds since the epoch: exact, and cheap to compare."""
    since = moment - _EPOCH  # (timedelta // timedelta is slower than its fields)
    return (since.days * 86_400 + since.seconds) * 1_000_000 + since.microseconds


def _plus_minutes(moment: datetime, minutes: int) -> datetime:
    """``moment`` + ``minutes`` of real time, in ``moment``'s time zone (``datetime + timedelta`` on a
    zoneinfo datetime adds wall time, which is off by the change across a clock change)."""
    return (moment.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(moment.tzinfo)


def overlaps(a: Interval, b: Interval) -> bool:
    """Whether two half-open intervals share an instant ([a, b) and [b, c) do not). Compared as instants:
    Python compares datetimes sharing a tzinfo by wall time, which misorders a repeated hour."""
    return _us(a.start) < _us(b.end) and _us(b.start) < _us(a.end)


def blocking(start: datetime, rule: TypeRule) -> Interval:
    """What a booking starting at ``start`` holds: [start, start + duration + buffer), the range the
    database stores for it."""
    _require_aware(start, "start")
    return Interval(start, _plus_minutes(start, rule.duration_min + rule.buffer_min))


# --- opening hours ------------------------------------------------------------------------------
def _minutes(hhmm: object) -> int | None:
    match = _HHMM.fullmatch(hhmm) if isinstance(hhmm, str) else None
    value = int(match.group(1)) * 60 + int(match.group(2)) if match else None
    return value if value is not None and value <= _DAY_MIN else None


def _week(hours: Mapping[str, Sequence[Sequence[str]]]) -> tuple[tuple[tuple[int, int], ...], ...]:
    """Per weekday (Monday first), the well-formed opening intervals as (open, close) minutes from that
    day's local midnight. A close at or before the open crosses midnight (close + 24 h); "24:00" is an
    end only. Malformed intervals are dropped, as ``wa_router.is_open`` does."""
    week = []
    for day in _DAYS:
        spans = []
        for interval in hours.get(day) or ():
            if len(interval) != 2:
                continue
            start, end = _minutes(interval[0]), _minutes(interval[1])
            if start is None or end is None or start >= _DAY_MIN:
                continue
            spans.append((start, end if end > start else end + _DAY_MIN))
        week.append(tuple(spans))
    return tuple(week)


def _wall(day: date, minute: int) -> datetime:
    """The naive local wall time ``minute`` minutes after ``day``'s midnight (may be a later day)."""
    return datetime(day.year, day.month, day.day) + timedelta(minutes=minute)  # noqa: DTZ001 - wall time


def _wall_us(wall: datetime, zone: ZoneInfo) -> int:
    """The instant of a naive wall time in ``zone`` (fold 0: the first of a repeated time; a skipped
    time maps past the clock change, as PEP 495 has it)."""
    offset = zone.utcoffset(wall) or timedelta(0)
    return (wall - _NAIVE_EPOCH - offset) // _US


def _exists(wall: datetime, zone: ZoneInfo) -> bool:
    """False for a wall time a clock change skips (its fold-0 offset is smaller than its fold-1 one)."""
    before = zone.utcoffset(wall) or timedelta(0)
    after = zone.utcoffset(wall.replace(fold=1)) or timedelta(0)
    return before >= after


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += _ONE_DAY


def _openings(
    week: tuple[tuple[tuple[int, int], ...], ...], first: date, last: date
) -> Iterator[tuple[date, int, int]]:
    """(day, open, close) of every opening interval that starts on a local day in [first, last]."""
    for day in _days(first, last):
        for start, end in week[day.weekday()]:
            yield day, start, end


def _union(spans: Sequence[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """Disjoint sorted [start, end) spans covering the same instants (touching ones joined): starts and
    ends, both ascending, ready for bisect."""
    starts: list[int] = []
    ends: list[int] = []
    for start, end in sorted(spans):
        if ends and start <= ends[-1]:
            ends[-1] = max(ends[-1], end)
        else:
            starts.append(start)
            ends.append(end)
    return starts, ends


def within_hours(
    start: datetime, end: datetime, *, tz: str, hours: Mapping[str, Sequence[Sequence[str]]]
) -> bool:
    """Whether [start, end) lies inside the shop's opening hours (e.g. a time staff chose by hand): inside
    the union of the opening intervals, overnight ones included (an interval belongs to the day it
    starts on), touching intervals joined. Holidays and closed dates are not considered: staff may book
    on them on purpose. ``ValueError`` for naive datetimes or ``end`` not after ``start``."""
    window = Interval(start, end)
    zone = ZoneInfo(tz)
    first = window.start.astimezone(zone).date() - _ONE_DAY
    last = window.end.astimezone(zone).date()
    spans = [
        (_wall_us(_wall(day, open_min), zone), _wall_us(_wall(day, close_min), zone))
        for day, open_min, close_min in _openings(_week(hours), first, last)
    ]
    starts, ends = _union(spans)
    i = bisect_right(starts, _us(window.start)) - 1
    return i >= 0 and _us(window.end) <= ends[i]


# --- slots --------------------------------------------------------------------------------------
def _grid(
    day: date, open_min: int, close_min: int, step_min: int, duration_us: int, zone: ZoneInfo
) -> tuple[Sequence[int], bool]:
    """The candidate starts of one opening interval (instants, ascending): every ``step_min`` minutes of
    wall time from its opening, skipping wall times that do not exist, while the appointment (not its
    buffer) ends by closing; and whether the interval is steady (no clock change within it, so wall-time
    arithmetic inside it is exact)."""
    open_wall, close_wall = _wall(day, open_min), _wall(day, close_min)
    close = _wall_us(close_wall, zone)
    offsets = {zone.utcoffset(wall.replace(fold=fold)) for wall in (open_wall, close_wall) for fold in (0, 1)}
    if len(offsets) == 1:
        # The same offset at both ends, neither in a gap or a fold: no clock change in between (no zone
        # in tzdata has two changes less than two days apart that cancel out). Integer steps suffice.
        return range(_wall_us(open_wall, zone), close - duration_us + 1, step_min * _MIN_US), True
    opening = _wall_us(open_wall, zone)  # an opening time a clock change skips maps past the change
    starts = []
    step = timedelta(minutes=step_min)
    wall = open_wall
    while wall < close_wall:
        if _exists(wall, zone):
            start = _wall_us(wall, zone)
            if start + duration_us > close:
                break
            if start >= opening:
                starts.append(start)
        wall += step
    return starts, False


def _local(instant: int, zone: ZoneInfo) -> datetime:
    """An instant (microseconds since the epoch) as an aware datetime in ``zone``."""
    seconds, micro = divmod(instant, 1_000_000)
    local = datetime.fromtimestamp(seconds, zone)
    return local.replace(microsecond=micro) if micro else local


class _Coverage:
    """How many booked intervals cover each instant, as a step function: ``counts[i]`` holds on
    [times[i], times[i + 1]), zero before the first time and from the last one on."""

    __slots__ = ("counts", "times")

    def __init__(self, booked: Sequence[Interval]) -> None:
        delta: dict[int, int] = {}
        for interval in booked:
            start, end = _us(interval.start), _us(interval.end)
            delta[start] = delta.get(start, 0) + 1
            delta[end] = delta.get(end, 0) - 1
        self.times = sorted(delta)
        self.counts: list[int] = []
        level = 0
        for time in self.times:
            level += delta[time]
            self.counts.append(level)

    def peak(self, start: int, end: int) -> int:
        """The most booked intervals covering one instant of [start, end)."""
        last = bisect_left(self.times, end) - 1  # the last step beginning before ``end``
        if last < 0:
            return 0
        first = max(bisect_right(self.times, start) - 1, 0)  # the step holding ``start``
        return max(self.counts[first : last + 1])


def open_slots(
    *,
    window: Interval,
    tz: str,
    hours: Mapping[str, Sequence[Sequence[str]]],
    rule: TypeRule,
    step_min: int,
    booked: Sequence[Interval],
    busy: Sequence[Interval],
    closed_dates: Collection[date] = (),
    observe_optional_holidays: bool = True,
    not_before: datetime | None = None,
) -> list[Slot]:
    """The starts in ``window`` a booking of ``rule``'s type can still take, ascending, each once.

    Candidates: every ``step_min`` minutes of local wall time from each opening interval's start
    (``hours``: "mon".."sun" → [["HH:MM", "HH:MM"], ...] in ``tz``, as ``wa_router.is_open`` reads it;
    an end at or before the start runs into the next day), the appointment ending by closing (its
    buffer may run past it). Days in ``closed_dates`` and holidays (``brazil_holidays``; Carnaval and
    Corpus Christi too when ``observe_optional_holidays``) open none of their intervals; an overnight
    interval belongs to the day it starts on.

    A candidate qualifies when it starts at or after ``window.start`` (and ``not_before``), ends by
    ``window.end``, its blocking interval overlaps no ``busy`` interval (the shop's calendar: it blocks
    every type), and fewer than ``rule.capacity`` of ``booked`` (the blocking intervals of the type's
    existing bookings) overlap at any instant of it; ``free`` is capacity minus that peak.

    ``ValueError`` for a naive ``not_before`` or ``step_min`` < 1.
    """
    if step_min < 1:
        raise ValueError("step_min must be at least 1")
    if not_before is not None:
        _require_aware(not_before, "not_before")
    if not rule.enabled or rule.capacity < 1:
        return []
    zone = ZoneInfo(tz)
    duration_us = rule.duration_min * _MIN_US
    hold_us = (rule.duration_min + rule.buffer_min) * _MIN_US
    earliest = _us(window.start) if not_before is None else max(_us(window.start), _us(not_before))
    latest = _us(window.end) - duration_us
    if latest < earliest:
        return []

    closed = frozenset(closed_dates)
    first = window.start.astimezone(zone).date() - _ONE_DAY  # last evening's overnight interval
    last = window.end.astimezone(zone).date()
    # instant → where it lies in a steady opening interval (its local opening, steps from it), to be
    # rebuilt by wall-time addition (exact there, and cheaper than a conversion); None elsewhere.
    starts: dict[int, tuple[datetime, int] | None] = {}
    for day, open_min, close_min in _openings(_week(hours), first, last):
        if day in closed or is_holiday(day, optional=observe_optional_holidays):
            continue
        grid, steady = _grid(day, open_min, close_min, step_min, duration_us, zone)
        opening: datetime | None = None
        for index, start in enumerate(grid):
            if start > latest:
                break
            if start < earliest:
                continue
            if steady:
                opening = opening or _local(grid[0], zone)
                starts[start] = (opening, index)
            else:
                starts.setdefault(start, None)  # overlapping opening intervals may share a start

    busy_starts, busy_ends = _union([(_us(i.start), _us(i.end)) for i in busy])
    coverage = _Coverage(booked)
    capacity = rule.capacity
    duration = timedelta(minutes=rule.duration_min)
    steps: list[timedelta] = []  # steps[i] = i * step
    slots = []
    for start in sorted(starts):
        end = start + hold_us
        i = bisect_right(busy_ends, start)  # the first busy interval ending after ``start``
        if i < len(busy_starts) and busy_starts[i] < end:
            continue
        free = capacity - coverage.peak(start, end)
        if free < 1:
            continue
        place = starts[start]
        if place is None:
            slots.append(Slot(_local(start, zone), _local(start + duration_us, zone), free))
            continue
        opening, index = place
        while len(steps) <= index:
            steps.append(timedelta(minutes=step_min * len(steps)))
        local = opening + steps[index]
        slots.append(Slot(local, local + duration, free))
    return slots


def pick_offer(slots: Sequence[Slot], *, limit: int = 5, per_day: int = 2) -> list[Slot]:
    """The few starts the WhatsApp bot proposes: the earliest days first, at most ``per_day`` a day
    (each slot's local date, so pass ``open_slots``'s output, which is in the shop's time zone), spread
    over the day: the day's earliest slot, then the earliest starting at least 3 h after the previous
    pick (a morning and an afternoon option), or else the earliest not yet picked. At most ``limit``,
    ascending. ``ValueError`` for ``limit`` or ``per_day`` < 1."""
    if limit < 1 or per_day < 1:
        raise ValueError("limit and per_day must be at least 1")
    spread = _SPREAD // _US
    by_day: dict[date, list[tuple[int, Slot]]] = {}
    for instant, slot in sorted(((_us(s.start), s) for s in slots), key=lambda pair: pair[0]):
        by_day.setdefault(slot.start.date(), []).append((instant, slot))
    offer: list[tuple[int, Slot]] = []
    for day in sorted(by_day):
        left = by_day[day]
        picks = [left.pop(0)]
        while left and len(picks) < per_day and len(offer) + len(picks) < limit:
            later = bisect_left([instant for instant, _ in left], picks[-1][0] + spread)
            picks.append(left.pop(later if later < len(left) else 0))
        offer.extend(picks)
        if len(offer) >= limit:
            break
    return [slot for _, slot in sorted(offer[:limit], key=lambda pair: pair[0])]
