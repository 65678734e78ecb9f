"""Appointment availability (the Google Calendar issue): ``open_slots`` over a month for one shop, in
process, beside the bare grid measured in the same run.

The shop opens Monday to Saturday 08:00-18:00 (São Paulo), 15-minute steps, drop-offs (15 minutes,
two at a time); the month holds 200 bookings and 300 busy intervals from the shop's Google calendar.
The bare row is the same month with neither: the cost of walking the opening hours alone. The two
cases alternate run by run so that both see the same machine. The bot's path (``open_slots`` then
``pick_offer``) is the third row. Target: p99 <= 20 ms on a slow 2-core machine. Wall-clock figures,
with the process's CPU time beside them (on a busy machine, wall p99 measures the other processes).
Reported, never asserted (figures in .local/bench/availability.json); the assertions check the result
only.

BENCH_RUNS runs of each (300 by default; 1 in `make test`, a smoke run).
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from assistec.domain.scheduling import (
    DEFAULT_RULES,
    Interval,
    Slot,
    blocking,
    open_slots,
    overlaps,
    pick_offer,
)
from tests.bench.conftest import report

RUNS = int(os.environ.get("BENCH_RUNS") or 300)
TZ = "America/Sao_Paulo"
ZONE = ZoneInfo(TZ)
HOURS = {day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat")}
RULE = DEFAULT_RULES["drop_off"]
STEP_MIN = 15
FIRST = date(2026, 3, 1)  # March 2026: 31 days, 26 of them open, no national holiday
WINDOW = Interval(datetime(2026, 3, 1, tzinfo=ZONE), datetime(2026, 4, 1, tzinfo=ZONE))
BOOKINGS = 200
BUSY = 300
BARE = "bare grid (no bookings, no busy)"


def _month(seed: int = 11) -> tuple[list[Interval], list[Interval]]:
    """200 bookings on the grid inside opening hours (some starts taken twice: full) and 300 busy
    intervals of 15 minutes to 2 hours between 07:00 and 19:00, on any day of the month."""
    rng = random.Random(seed)
    open_days = [FIRST + timedelta(days=d) for d in range(31) if (FIRST + timedelta(days=d)).weekday() < 6]

    def at(day: date, minute: int) -> datetime:
        return datetime(day.year, day.month, day.day, tzinfo=ZONE) + timedelta(minutes=minute)

    booked = [
        blocking(at(rng.choice(open_days), 8 * 60 + STEP_MIN * rng.randrange(40)), RULE)
        for _ in range(BOOKINGS)
    ]
    busy = []
    for _ in range(BUSY):
        start = at(FIRST + timedelta(days=rng.randrange(31)), 7 * 60 + 15 * rng.randrange(48))
        busy.append(Interval(start, start + timedelta(minutes=15 * rng.randint(1, 8))))
    return booked, busy


def _slots(booked: list[Interval], busy: list[Interval]) -> list[Slot]:
    return open_slots(
        window=WINDOW, tz=TZ, hours=HOURS, rule=RULE, step_min=STEP_MIN, booked=booked, busy=busy
    )


def _ms(values: list[float], q: float) -> str:
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000:.2f}"


def test_a_month_of_availability() -> None:
    booked, busy = _month()
    cases: dict[str, Callable[[], Any]] = {
        f"{BOOKINGS} booked + {BUSY} busy": lambda: _slots(booked, busy),
        BARE: lambda: _slots([], []),
        "bot's path (+ pick_offer)": lambda: pick_offer(_slots(booked, busy)),
    }
    for run in cases.values():
        run()  # warm-up
    times: dict[str, list[float]] = {name: [] for name in cases}
    cpu: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(RUNS):
        for name, run in cases.items():
            c0, t0 = time.process_time(), time.perf_counter()
            run()
            times[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)

    loaded, bare = _slots(booked, busy), _slots([], [])
    sizes = dict(zip(cases, (len(loaded), len(bare), len(pick_offer(loaded))), strict=True))
    p50 = {name: sorted(samples)[len(samples) // 2] for name, samples in times.items()}
    rows = [
        {
            "case": name,
            "runs": RUNS,
            "slots": sizes[name],
            "p50_ms": _ms(samples, 0.5),
            "p99_ms": _ms(samples, 0.99),
            "max_ms": _ms(samples, 1.0),
            "x_bare_p50": f"{p50[name] / p50[BARE]:.2f}",
            "cpu_p50_ms": _ms(cpu[name], 0.5),
            "cpu_p99_ms": _ms(cpu[name], 0.99),
        }
        for name, samples in times.items()
    ]
    report("availability", rows)

    # The result, not the timing: 26 open days x 40 quarter hours; bookings and busy times remove some,
    # never add; nothing offered overlaps a busy interval; a half-full start has one seat left.
    assert len(bare) == 26 * 40
    assert 0 < len(loaded) < len(bare)
    assert {s.start for s in loaded} <= {s.start for s in bare}
    assert not any(overlaps(blocking(s.start, RULE), b) for s in loaded for b in busy)
    assert {s.free for s in loaded} == {1, 2}
    assert len(pick_offer(loaded)) == 5
