"""Appointment slots and Brazil's holidays, pure: examples for each rule (opening hours, lunch breaks,
holidays and pontos facultativos, overnight hours, capacity, buffers, busy times, clock changes), and
property tests against independent brute-force references (minute by minute)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistec.domain.holidays import brazil_holidays, easter, is_holiday
from assistec.domain.scheduling import (
    APPOINTMENT_TYPES,
    DEFAULT_RULES,
    Interval,
    Slot,
    TypeRule,
    blocking,
    open_slots,
    overlaps,
    pick_offer,
    within_hours,
)

SP_NAME = "America/Sao_Paulo"
SP = ZoneInfo(SP_NAME)
DROP_OFF = DEFAULT_RULES["drop_off"]
VISIT = DEFAULT_RULES["visit"]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
# A shop with a lunch break on weekdays and a Saturday morning.
WEEK = {**{d: [["08:00", "12:00"], ["13:00", "18:00"]] for d in WEEKDAYS}, "sat": [["08:00", "12:00"]]}
PROPERTY = settings(max_examples=200, deadline=None)


def at(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=SP)


def days(first: date, last: date) -> Interval:
    """Whole local days ``first``..``last`` in São Paulo."""
    return Interval(
        at(first.year, first.month, first.day), at(last.year, last.month, last.day) + timedelta(1)
    )


def slots(window: Interval, **kwargs: Any) -> list[Slot]:
    args: dict[str, Any] = {
        "tz": SP_NAME,
        "hours": WEEK,
        "rule": DROP_OFF,
        "step_min": 15,
        "booked": (),
        "busy": (),
    }
    return open_slots(window=window, **(args | kwargs))


def wall(found: list[Slot]) -> list[str]:
    return [s.start.strftime("%Y-%m-%d %H:%M") for s in found]


def on(found: list[Slot], day: date) -> list[str]:
    return [s.start.strftime("%H:%M") for s in found if s.start.date() == day]


def grid(first: str, last: str, step: int = 15) -> list[str]:
    """HH:MM from ``first`` to ``last`` inclusive every ``step`` minutes (same day)."""
    h, m = map(int, first.split(":"))
    lh, lm = map(int, last.split(":"))
    return [f"{t // 60:02d}:{t % 60:02d}" for t in range(h * 60 + m, lh * 60 + lm + 1, step)]


# --- holidays -----------------------------------------------------------------------------------
KNOWN_EASTER = {
    1961: date(1961, 4, 2),
    2000: date(2000, 4, 23),
    2008: date(2008, 3, 23),
    2011: date(2011, 4, 24),
    2019: date(2019, 4, 21),
    2020: date(2020, 4, 12),
    2021: date(2021, 4, 4),
    2022: date(2022, 4, 17),
    2023: date(2023, 4, 9),
    2024: date(2024, 3, 31),
    2025: date(2025, 4, 20),
    2026: date(2026, 4, 5),
    2027: date(2027, 3, 28),
    2028: date(2028, 4, 16),
    2030: date(2030, 4, 21),
    2038: date(2038, 4, 25),  # the latest possible
    2285: date(2285, 3, 22),  # the earliest possible
}


def oudin_easter(year: int) -> date:
    """A second, independent computus (Oudin 1940, as in Tøndering's calendar FAQ)."""
    g = year % 19
    c = year // 100
    h = (c - c // 4 - (8 * c + 13) // 25 + 19 * g + 15) % 30
    i = h - (h // 28) * (1 - (29 // (h + 1)) * ((21 - g) // 11))
    j = (year + year // 4 + i + 2 - c + c // 4) % 7
    month = 3 + (i - j + 40) // 44
    return date(year, month, i - j + 28 - 31 * (month // 4))


@pytest.mark.parametrize(("year", "sunday"), KNOWN_EASTER.items())
def test_easter_on_known_years(year: int, sunday: date) -> None:
    assert easter(year) == sunday


@given(st.integers(1583, 9999))
def test_easter_agrees_with_a_second_algorithm(year: int) -> None:
    sunday = easter(year)
    assert sunday == oudin_easter(year)
    assert sunday.weekday() == 6
    assert date(year, 3, 22) <= sunday <= date(year, 4, 25)


def test_holidays_of_2026() -> None:
    assert brazil_holidays(2026) == {
        date(2026, 1, 1): "Confraternização Universal",
        date(2026, 2, 16): "Segunda-feira de Carnaval",
        date(2026, 2, 17): "Terça-feira de Carnaval",
        date(2026, 4, 3): "Sexta-feira Santa",
        date(2026, 4, 21): "Tiradentes",
        date(2026, 5, 1): "Dia do Trabalho",
        date(2026, 6, 4): "Corpus Christi",
        date(2026, 9, 7): "Independência do Brasil",
        date(2026, 10, 12): "Nossa Senhora Aparecida",
        date(2026, 11, 2): "Finados",
        date(2026, 11, 15): "Proclamação da República",
        date(2026, 11, 20): "Dia Nacional de Zumbi e da Consciência Negra",
        date(2026, 12, 25): "Natal",
    }


def test_optional_days_are_only_there_when_asked() -> None:
    mandatory = brazil_holidays(2026, optional=False)
    assert set(brazil_holidays(2026)) - set(mandatory) == {
        date(2026, 2, 16),
        date(2026, 2, 17),
        date(2026, 6, 4),
    }
    assert mandatory[date(2026, 4, 3)] == "Sexta-feira Santa"
    assert is_holiday(date(2026, 2, 17)) == "Terça-feira de Carnaval"
    assert is_holiday(date(2026, 2, 17), optional=False) is None
    assert is_holiday(date(2026, 2, 18)) is None  # Ash Wednesday: open
    assert is_holiday(date(2025, 3, 4)) == "Terça-feira de Carnaval"
    assert is_holiday(date(2025, 6, 19)) == "Corpus Christi"
    assert is_holiday(date(2024, 3, 29), optional=False) == "Sexta-feira Santa"


def test_consciencia_negra_is_national_from_2024() -> None:
    assert is_holiday(date(2023, 11, 20)) is None
    assert is_holiday(date(2024, 11, 20)) == "Dia Nacional de Zumbi e da Consciência Negra"
    assert len(brazil_holidays(2023, optional=False)) == 9
    assert len(brazil_holidays(2024, optional=False)) == 10


def test_the_returned_mapping_is_a_copy() -> None:
    brazil_holidays(2025).clear()
    assert is_holiday(date(2025, 12, 25)) == "Natal"


# --- examples -----------------------------------------------------------------------------------
def test_a_normal_week() -> None:
    found = slots(days(date(2025, 3, 10), date(2025, 3, 16)))  # Mon..Sun, no holiday
    weekday = grid("08:00", "11:45") + grid("13:00", "17:45")
    for offset in range(5):
        assert on(found, date(2025, 3, 10 + offset)) == weekday
    assert on(found, date(2025, 3, 15)) == grid("08:00", "11:45")
    assert on(found, date(2025, 3, 16)) == []
    assert len(found) == 5 * 36 + 16
    first = found[0]
    assert first.start == at(2025, 3, 10, 8)
    assert first.end == at(2025, 3, 10, 8, 15)
    assert first.free == 2
    assert first.start.tzinfo == SP
    assert first.end.tzinfo == SP


def test_the_lunch_break_splits_the_day_and_the_buffer_may_run_past_closing() -> None:
    monday = date(2025, 3, 10)
    found = slots(days(monday, monday), rule=VISIT)
    # 60 minutes must fit before closing; the 30-minute buffer of 11:00 runs into lunch.
    assert on(found, monday) == grid("08:00", "11:00") + grid("13:00", "17:00")


def test_a_closed_date_opens_nothing() -> None:
    found = slots(days(date(2025, 3, 10), date(2025, 3, 14)), closed_dates={date(2025, 3, 12)})
    assert on(found, date(2025, 3, 12)) == []
    assert on(found, date(2025, 3, 11))
    assert on(found, date(2025, 3, 13))


def test_carnival_closes_unless_the_shop_ignores_pontos_facultativos() -> None:
    window = days(date(2026, 2, 16), date(2026, 2, 18))
    observed = slots(window)
    assert on(observed, date(2026, 2, 16)) == on(observed, date(2026, 2, 17)) == []
    assert on(observed, date(2026, 2, 18)) == grid("08:00", "11:45") + grid("13:00", "17:45")
    ignored = slots(window, observe_optional_holidays=False)
    assert on(ignored, date(2026, 2, 17)) == grid("08:00", "11:45") + grid("13:00", "17:45")


def test_good_friday_is_closed_either_way() -> None:
    window = days(date(2026, 4, 2), date(2026, 4, 4))
    for optional in (True, False):
        found = slots(window, observe_optional_holidays=optional)
        assert on(found, date(2026, 4, 3)) == []
        assert on(found, date(2026, 4, 2))
        assert on(found, date(2026, 4, 4))


def test_consciencia_negra_closes_from_2024_on() -> None:
    assert on(slots(days(date(2023, 11, 20), date(2023, 11, 20))), date(2023, 11, 20))
    assert slots(days(date(2024, 11, 20), date(2024, 11, 20))) == []
    assert slots(days(date(2025, 11, 20), date(2025, 11, 20))) == []


def test_a_window_across_the_month_end() -> None:
    # Friday 2025-01-31 10:00 to Saturday 2025-02-01 10:00, given in UTC: slots come back in São Paulo.
    window = Interval(datetime(2025, 1, 31, 13, tzinfo=UTC), datetime(2025, 2, 1, 13, tzinfo=UTC))
    found = slots(window)
    assert on(found, date(2025, 1, 31)) == grid("10:00", "11:45") + grid("13:00", "17:45")
    assert on(found, date(2025, 2, 1)) == grid("08:00", "09:45")
    assert all(s.start.tzinfo == SP for s in found)


def test_overnight_hours_run_past_midnight_and_belong_to_the_day_they_start() -> None:
    night = {"thu": [["18:00", "02:00"]], "fri": [["18:00", "02:00"]]}
    found = slots(days(date(2025, 11, 13), date(2025, 11, 22)), hours=night, step_min=30)
    evening, small_hours = grid("18:00", "23:30", 30), grid("00:00", "01:30", 30)
    assert on(found, date(2025, 11, 13)) == evening  # Thursday
    assert on(found, date(2025, 11, 14)) == small_hours + evening  # Friday: Thursday's night, then its own
    # Saturday 15/11 is a holiday, but Friday's night started on the eve: kept.
    assert on(found, date(2025, 11, 15)) == small_hours
    # Thursday 20/11 is a holiday: its night is closed, past midnight included.
    assert on(found, date(2025, 11, 20)) == []
    assert on(found, date(2025, 11, 21)) == evening
    assert on(found, date(2025, 11, 22)) == small_hours
    assert found[-1].end == at(2025, 11, 22, 1, 45)


def test_midnight_and_24h_ends_are_the_same_and_malformed_intervals_are_ignored() -> None:
    window = days(date(2025, 3, 10), date(2025, 3, 11))
    a = slots(window, hours={"mon": [["22:00", "24:00"]]})
    b = slots(window, hours={"mon": [["22:00", "00:00"], ["8:00", "10:00"], ["25:00", "26:00"], ["09:00"]]})
    assert wall(a) == wall(b) == [f"2025-03-10 {t}" for t in grid("22:00", "23:45")]
    assert slots(window, hours={"mon": [["24:00", "02:00"]]}) == []


def test_an_interval_ending_where_it_starts_is_open_round_the_clock() -> None:
    found = slots(
        days(date(2025, 3, 10), date(2025, 3, 11)), hours={"mon": [["08:00", "08:00"]]}, step_min=60
    )
    assert wall(found) == [f"2025-03-10 {h:02d}:00" for h in range(8, 24)] + [
        f"2025-03-11 {h:02d}:00" for h in range(8)
    ]


def test_overlapping_intervals_give_each_start_once() -> None:
    monday = date(2025, 3, 10)
    found = slots(
        days(monday, monday), hours={"mon": [["08:00", "10:00"], ["09:00", "11:00"], ["09:10", "10:00"]]}
    )
    assert on(found, monday) == sorted(set(grid("08:00", "10:45") + grid("09:10", "09:40")))


def test_capacity_two_with_one_and_two_bookings() -> None:
    monday = date(2025, 3, 10)
    one = [blocking(at(2025, 3, 10, 10), DROP_OFF)]
    found = {s.start.strftime("%H:%M"): s.free for s in slots(days(monday, monday), booked=one)}
    assert found["10:00"] == 1
    assert found["09:45"] == 2
    assert found["10:15"] == 2
    two = one * 2
    found = {s.start.strftime("%H:%M"): s.free for s in slots(days(monday, monday), booked=two)}
    assert "10:00" not in found
    assert found["09:45"] == 2
    assert found["10:15"] == 2


def test_the_buffer_pushes_a_visit() -> None:
    monday = date(2025, 3, 10)
    held = blocking(at(2025, 3, 10, 10), VISIT)
    assert held == Interval(at(2025, 3, 10, 10), at(2025, 3, 10, 11, 30))
    found = slots(days(monday, monday), rule=VISIT, booked=[held])
    # A visit at 08:45 would hold until 10:15; one at 11:30 would end past the morning's closing.
    assert on(found, monday) == grid("08:00", "08:30") + grid("13:00", "17:00")


def test_busy_time_blocks_every_type() -> None:
    monday = date(2025, 3, 10)
    busy = [Interval(at(2025, 3, 10, 14), at(2025, 3, 10, 15))]
    drop_off = on(slots(days(monday, monday), busy=busy), monday)
    assert "13:45" in drop_off
    assert "15:00" in drop_off
    assert not set(grid("14:00", "14:45")) & set(drop_off)
    visit = on(slots(days(monday, monday), rule=VISIT, busy=busy), monday)
    assert visit == grid("08:00", "11:00") + grid("15:00", "17:00")  # 13:00 would hold until 14:30


def test_busy_time_touching_the_buffer_does_not_block() -> None:
    monday = date(2025, 3, 10)
    busy = [
        Interval(at(2025, 3, 10, 9, 30), at(2025, 3, 10, 10)),
        Interval(at(2025, 3, 10, 12), at(2025, 3, 10, 13)),
    ]
    # 08:00 holds until 09:30, 10:00 starts when the first busy time ends.
    assert on(slots(days(monday, monday), rule=VISIT, busy=busy), monday)[:3] == ["08:00", "10:00", "10:15"]


def test_not_before() -> None:
    monday = date(2025, 3, 10)
    found = slots(days(monday, monday), not_before=at(2025, 3, 10, 10, 7))
    assert found[0].start == at(2025, 3, 10, 10, 15)


def test_disabled_or_no_capacity_offers_nothing() -> None:
    window = days(date(2025, 3, 10), date(2025, 3, 10))
    assert slots(window, rule=TypeRule(15, 0, 2, enabled=False)) == []
    assert slots(window, rule=TypeRule(15, 0, 0)) == []


def test_bad_arguments() -> None:
    window = days(date(2025, 3, 10), date(2025, 3, 10))
    with pytest.raises(ValueError, match="step_min"):
        slots(window, step_min=0)
    with pytest.raises(ValueError, match="aware"):
        slots(window, not_before=datetime(2025, 3, 10, 9))  # noqa: DTZ001
    with pytest.raises(ValueError, match="aware"):
        Interval(datetime(2025, 3, 10, 9), at(2025, 3, 10, 10))  # noqa: DTZ001
    with pytest.raises(ValueError, match="after"):
        Interval(at(2025, 3, 10, 10), at(2025, 3, 10, 10))
    with pytest.raises(ValueError, match="aware"):
        blocking(datetime(2025, 3, 10, 9), DROP_OFF)  # noqa: DTZ001
    with pytest.raises(ValueError, match="aware"):
        within_hours(datetime(2025, 3, 10, 9), at(2025, 3, 10, 10), tz=SP_NAME, hours=WEEK)  # noqa: DTZ001
    with pytest.raises(ValueError, match="duration"):
        TypeRule(0, 0, 1)


def test_the_types() -> None:
    assert APPOINTMENT_TYPES == ("drop_off", "pickup", "visit")
    assert set(DEFAULT_RULES) == set(APPOINTMENT_TYPES)
    assert DEFAULT_RULES["pickup"] == TypeRule(15, 0, 2)
    assert TypeRule(60, 30, 1) == VISIT


def test_overlaps_is_half_open() -> None:
    a = Interval(at(2025, 3, 10, 9), at(2025, 3, 10, 10))
    assert not overlaps(a, Interval(at(2025, 3, 10, 10), at(2025, 3, 10, 11)))
    assert overlaps(a, Interval(at(2025, 3, 10, 9, 59), at(2025, 3, 10, 11)))
    assert overlaps(
        a, Interval(datetime(2025, 3, 10, 12, 30, tzinfo=UTC), datetime(2025, 3, 10, 13, tzinfo=UTC))
    )


def test_within_hours() -> None:
    def inside(start: datetime, end: datetime, hours: dict[str, list[list[str]]] = WEEK) -> bool:
        return within_hours(start, end, tz=SP_NAME, hours=hours)

    assert inside(at(2025, 3, 10, 8), at(2025, 3, 10, 12))
    assert not inside(at(2025, 3, 10, 11, 30), at(2025, 3, 10, 12, 30))  # into lunch
    assert not inside(at(2025, 3, 10, 7, 59), at(2025, 3, 10, 8, 30))
    assert not inside(at(2025, 3, 16, 9), at(2025, 3, 16, 10))  # Sunday
    touching = {"mon": [["08:00", "12:00"], ["12:00", "18:00"]]}
    assert inside(at(2025, 3, 10, 11, 30), at(2025, 3, 10, 12, 30), touching)
    night = {"fri": [["18:00", "02:00"]], "sat": [["00:00", "03:00"]]}
    assert inside(at(2025, 3, 14, 23), at(2025, 3, 15, 1), night)
    assert inside(at(2025, 3, 15, 1), at(2025, 3, 15, 2, 30), night)  # Friday's night joins Saturday's
    assert not inside(at(2025, 3, 15, 2, 30), at(2025, 3, 15, 3, 30), night)
    # Holidays are staff's call: hours only.
    assert inside(at(2026, 2, 17, 9), at(2026, 2, 17, 10))


def test_pick_offer_spreads_over_the_day() -> None:
    found = slots(days(date(2025, 3, 10), date(2025, 3, 16)))
    offer = pick_offer(found)
    assert wall(offer) == [
        "2025-03-10 08:00",
        "2025-03-10 11:00",
        "2025-03-11 08:00",
        "2025-03-11 11:00",
        "2025-03-12 08:00",
    ]
    assert wall(pick_offer(found, limit=3, per_day=1)) == [
        "2025-03-10 08:00",
        "2025-03-11 08:00",
        "2025-03-12 08:00",
    ]
    # Nothing 3 h later: the next earliest.
    short = slots(days(date(2025, 3, 10), date(2025, 3, 10)), hours={"mon": [["08:00", "09:00"]]})
    assert wall(pick_offer(short)) == ["2025-03-10 08:00", "2025-03-10 08:15"]
    assert pick_offer([]) == []
    with pytest.raises(ValueError, match="limit"):
        pick_offer(found, limit=0)


# --- clock changes (São Paulo had DST until 2019) ------------------------------------------------
def test_wall_times_a_clock_change_skips_are_not_offered() -> None:
    # 2018-11-04 (Sunday): 00:00 became 01:00.
    sunday = date(2018, 11, 4)
    found = slots(days(sunday, sunday), hours={"sun": [["00:00", "03:00"]]}, step_min=30)
    assert on(found, sunday) == ["01:00", "01:30", "02:00", "02:30"]
    assert [s.start.utcoffset() for s in found] == [timedelta(hours=-2)] * 4
    assert found[0].start.astimezone(UTC) == datetime(2018, 11, 4, 3, tzinfo=UTC)
    assert within_hours(found[0].start, found[-1].end, tz=SP_NAME, hours={"sun": [["00:00", "03:00"]]})


def test_a_repeated_hour_is_offered_once_and_durations_are_real_time() -> None:
    # 2019-02-17 00:00 became 2019-02-16 23:00 again: Saturday 22:00-24:00 lasted three hours.
    saturday = date(2019, 2, 16)
    found = slots(
        days(saturday, saturday), hours={"sat": [["22:00", "24:00"]]}, step_min=30, rule=TypeRule(30, 0, 1)
    )
    assert on(found, saturday) == ["22:00", "22:30", "23:00", "23:30"]
    utc = [s.start.astimezone(UTC).strftime("%H:%M") for s in found]
    assert utc == ["00:00", "00:30", "01:00", "01:30"]
    assert all(s.end.astimezone(UTC) - s.start.astimezone(UTC) == timedelta(minutes=30) for s in found)
    # The last one (first 23:30, -02) ends at the second 23:00 (-03).
    assert found[-1].end.utcoffset() == timedelta(hours=-3)
    held = blocking(found[-1].start, TypeRule(30, 30, 1))
    assert held.end.astimezone(UTC) == datetime(2019, 2, 17, 2, 30, tzinfo=UTC)


# --- properties ---------------------------------------------------------------------------------
DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ZONES = (SP_NAME, "America/Manaus", "America/Noronha")  # fixed offsets in 2023-2027
ANCHORS = (
    date(2023, 11, 19),  # 20/11 before it was national
    date(2024, 1, 30),
    date(2024, 2, 11),  # Carnaval 2024: Feb 12-13
    date(2024, 2, 28),  # leap day
    date(2024, 11, 19),
    date(2024, 12, 30),
    date(2025, 2, 27),
    date(2025, 3, 2),  # Carnaval 2025: Mar 3-4
    date(2025, 4, 17),  # Good Friday 2025: Apr 18
    date(2025, 6, 18),  # Corpus Christi 2025: Jun 19
    date(2025, 8, 30),
    date(2025, 11, 14),
    date(2026, 1, 30),
    date(2026, 2, 14),  # Carnaval 2026: Feb 16-17
    date(2026, 4, 29),
    date(2026, 6, 3),
    date(2027, 2, 6),  # Carnaval 2027: Feb 8-9
    date(2025, 3, 11),  # ordinary weeks
    date(2025, 7, 15),
    date(2026, 8, 31),
)
TABLE_EASTER = {
    2023: date(2023, 4, 9),
    2024: date(2024, 3, 31),
    2025: date(2025, 4, 20),
    2026: date(2026, 4, 5),
}
TABLE_EASTER[2027] = date(2027, 3, 28)
FIXED = ((1, 1), (4, 21), (5, 1), (9, 7), (10, 12), (11, 2), (11, 15), (12, 25))


def reference_holiday(day: date, optional: bool) -> bool:
    """Holidays from a table of Easter dates, independent of the module's computus."""
    if (day.month, day.day) in FIXED or ((day.month, day.day) == (11, 20) and day.year >= 2024):
        return True
    offset = (day - TABLE_EASTER[day.year]).days
    return offset == -2 or (optional and offset in (-48, -47, 60))


def hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def reference_minutes(text: str) -> int | None:
    ok = len(text) == 5 and text[2] == ":" and text[:2].isdigit() and text[3:].isdigit()
    minute = int(text[:2]) * 60 + int(text[3:]) if ok and int(text[3:]) < 60 else None
    return minute if minute is not None and minute <= 1440 else None


def reference_openings(hours: dict[str, list[list[str]]], day: date) -> list[tuple[int, int]]:
    """(open, close) minutes from ``day``'s midnight; close past 1440 for overnight intervals."""
    out = []
    for interval in hours.get(DAY_KEYS[day.weekday()], []):
        if len(interval) != 2:
            continue
        start, end = reference_minutes(interval[0]), reference_minutes(interval[1])
        if start is None or end is None or start == 1440:
            continue
        out.append((start, end if end > start else end + 1440))
    return out


MALFORMED = (["25:00", "10:00"], ["8:00", "10:00"], ["09:00"], ["24:00", "02:00"], ["10:00", "10:60"])
# Strategies built once: building them inside each draw costs more than the tests themselves.
ONE_IN_TEN = st.sampled_from([True] + [False] * 9)
MOSTLY = st.sampled_from([True, True, True, False])
# Reduced modulo a range after a multiplicative hash (Hypothesis favours small integers; the hash spreads
# them over the range). Shrinks towards 0, the low end.
SPREAD = st.integers(0, 1 << 16).map(lambda x: x * 2_654_435_761)
SEVERAL = st.integers(0, 10)
DURATIONS = st.sampled_from([5, 15, 30, 45, 60, 90])
BUFFERS = st.sampled_from([0, 0, 10, 30])
CAPACITIES = st.integers(1, 3)
STEPS = st.sampled_from([5, 10, 15, 15, 15, 30, 30, 45, 60])
ROUND_LENGTHS = st.sampled_from([15, 30, 45, 60, 90, 120])
CLOSED = st.lists(st.integers(-1, 4), max_size=2)


def pick(draw: st.DrawFn, low: int, high: int, *, quarter: bool = True) -> int:
    """A minute in [low, high], mostly on a quarter hour (so that slots, bookings and busy times touch)."""
    lo, hi = -(-low // 15), high // 15
    if quarter and lo <= hi and draw(MOSTLY):
        return (lo + draw(SPREAD) % (hi - lo + 1)) * 15
    return low + draw(SPREAD) % (high - low + 1)


def draw_interval_text(draw: st.DrawFn) -> list[str]:
    """Mostly a well-formed opening interval (quarter hours or any minute, up to 12 h long or ending
    anywhere, some across midnight or ending at 24:00), now and then a malformed one."""
    if draw(ONE_IN_TEN):
        return list(MALFORMED[draw(SPREAD) % len(MALFORMED)])
    start = pick(draw, 0, 1439)
    end = (start + pick(draw, 30, 720)) % 1440 if draw(MOSTLY) else pick(draw, 0, 1440)
    return [hhmm(start), "24:00" if end == 0 and draw(MOSTLY) else hhmm(end)]


@st.composite
def hours_st(draw: st.DrawFn) -> dict[str, list[list[str]]]:
    """Most days open, with one or two intervals."""
    return {
        day: [draw_interval_text(draw) for _ in range(1 + draw(MOSTLY))] for day in DAY_KEYS if draw(MOSTLY)
    }


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """A shop and a question: random hours, a window of up to three days near a month end or a holiday,
    bookings and busy times around it. Every instant is a whole minute; most lie on quarter hours."""
    tz = ZONES[draw(SPREAD) % len(ZONES)]
    anchor = ANCHORS[draw(SPREAD) % len(ANCHORS)] + timedelta(days=draw(SPREAD) % 3 - 1)
    midnight = datetime(anchor.year, anchor.month, anchor.day, tzinfo=ZoneInfo(tz))

    def moment(minute: int) -> datetime:
        return midnight + timedelta(minutes=minute)

    first = pick(draw, 0, 1439)
    last = first + (pick(draw, 240, 3 * 1440) if draw(MOSTLY) else pick(draw, 1, 240))
    window = Interval(moment(first), moment(last))
    if draw(MOSTLY):
        window = Interval(window.start.astimezone(UTC), window.end.astimezone(UTC))
    rule = TypeRule(draw(DURATIONS), draw(BUFFERS), draw(CAPACITIES), enabled=not draw(ONE_IN_TEN))

    def intervals(most: int) -> list[Interval]:
        spans = []
        for _ in range(draw(SEVERAL) % (most + 1)):
            start = pick(draw, first - 180, last + 180)
            spans.append(
                Interval(
                    moment(start),
                    moment(start + (draw(ROUND_LENGTHS) if draw(MOSTLY) else pick(draw, 1, 150))),
                )
            )
        return spans

    return {
        "window": window,
        "tz": tz,
        "hours": draw(hours_st()),
        "rule": rule,
        "step_min": draw(STEPS),
        "booked": intervals(10),
        "busy": intervals(5),
        "closed_dates": {anchor + timedelta(days=d) for d in draw(CLOSED)},
        "observe_optional_holidays": draw(st.booleans()),
        "not_before": moment(pick(draw, first - 60, (first + last) // 2)) if draw(st.booleans()) else None,
    }


def minutes(moment: datetime) -> int:
    """Whole minutes since the epoch (every instant the scenarios make is on a whole minute)."""
    return int(moment.timestamp()) // 60


def reference_slots(case: dict[str, Any]) -> dict[int, int]:
    """Start minute → free, by brute force: every minute of the window tried against the rules, busy
    and booked times marked minute by minute (the zones here keep one offset in 2023-2027)."""
    window, rule = case["window"], case["rule"]
    if not rule.enabled:
        return {}
    zone = ZoneInfo(case["tz"])
    offset = int(window.start.astimezone(zone).utcoffset().total_seconds()) // 60
    hours, step, closed = case["hours"], case["step_min"], case["closed_dates"]
    hold = rule.duration_min + rule.buffer_min
    first, last = minutes(window.start), minutes(window.end) - rule.duration_min
    if case["not_before"] is not None:
        first = max(first, -(-int(case["not_before"].timestamp()) // 60))
    lo, hi = first - 400, last + hold + 400
    busy_at = [False] * (hi - lo)
    count_at = [0] * (hi - lo)
    for interval in case["busy"]:
        for u in range(max(minutes(interval.start), lo), min(minutes(interval.end), hi)):
            busy_at[u - lo] = True
    for interval in case["booked"]:
        for u in range(max(minutes(interval.start), lo), min(minutes(interval.end), hi)):
            count_at[u - lo] += 1
    optional = bool(case["observe_optional_holidays"])
    open_days: dict[int, list[tuple[int, int]]] = {}  # local day number → its opening intervals
    for day_number in range((first + offset) // 1440 - 1, (last + offset) // 1440 + 1):
        day = date(1970, 1, 1) + timedelta(days=day_number)
        if day not in closed and not reference_holiday(day, optional):
            open_days[day_number] = reference_openings(hours, day)
    found = {}
    for t in range(first, last + 1):
        local = t + offset
        starts = False
        for day_number in (local // 1440, local // 1440 - 1):
            m = local - day_number * 1440
            starts = starts or any(
                s <= m and m + rule.duration_min <= e and (m - s) % step == 0
                for s, e in open_days.get(day_number, ())
            )
        if not starts or any(busy_at[t - lo : t - lo + hold]):
            continue
        peak = max(count_at[t - lo : t - lo + hold])
        if peak < rule.capacity:
            found[t] = rule.capacity - peak
    return found


@PROPERTY
@given(scenarios())
def test_slots_keep_every_rule(case: dict[str, Any]) -> None:
    found = open_slots(**case)
    window, rule, tz = case["window"], case["rule"], case["tz"]
    zone = ZoneInfo(tz)
    offset = window.start.astimezone(zone).utcoffset()
    instants = [s.start.timestamp() for s in found]
    assert instants == sorted(set(instants))
    for slot in found:
        assert slot.start.tzinfo == zone
        assert slot.end.tzinfo == zone
        assert slot.end - slot.start == timedelta(minutes=rule.duration_min)
        assert window.start <= slot.start
        assert slot.end <= window.end
        assert case["not_before"] is None or slot.start >= case["not_before"]
        held = blocking(slot.start, rule)
        assert not any(overlaps(held, b) for b in case["busy"])
        # Capacity: bookings covering the blocking interval's start or any booking start inside it.
        points = [held.start] + [b.start for b in case["booked"] if held.start < b.start < held.end]
        peak = max(sum(b.start <= p < b.end for b in case["booked"]) for p in points)
        assert peak < rule.capacity
        assert slot.free == rule.capacity - peak
        # Opening hours by minute arithmetic: an interval of the start's day or the day before.
        local = slot.start.replace(tzinfo=None)
        assert slot.start.utcoffset() == offset
        fits = []
        for back in (0, 1):
            day = local.date() - timedelta(days=back)
            m = (local - datetime(day.year, day.month, day.day)) // timedelta(minutes=1)  # noqa: DTZ001
            for s, e in reference_openings(case["hours"], day):
                if s <= m and m + rule.duration_min <= e and (m - s) % case["step_min"] == 0:
                    fits.append(day)
        assert fits, slot
        assert any(
            day not in case["closed_dates"]
            and not reference_holiday(day, bool(case["observe_optional_holidays"]))
            for day in fits
        )
        assert within_hours(slot.start, slot.end, tz=tz, hours=case["hours"])


@PROPERTY
@given(scenarios())
def test_slots_match_a_brute_force_reference(case: dict[str, Any]) -> None:
    found = open_slots(**case)
    assert {minutes(s.start): s.free for s in found} == reference_slots(case)


quarter_hours = st.lists(st.tuples(st.integers(0, 4), st.integers(0, 95)), unique=True, max_size=40)


@PROPERTY
@given(quarter_hours, st.integers(1, 6), st.integers(1, 3))
def test_offers_are_a_few_early_slots_spread_over_days(
    starts: list[tuple[int, int]], limit: int, per_day: int
) -> None:
    found = [
        Slot(
            at(2026, 3, 2 + d, q // 4, q % 4 * 15),
            at(2026, 3, 2 + d, q // 4, q % 4 * 15) + timedelta(minutes=15),
            1,
        )
        for d, q in starts
    ]
    offer = pick_offer(found, limit=limit, per_day=per_day)  # in any order
    found.sort(key=lambda s: s.start)
    per_found = _per_day(found)
    assert len(offer) == min(limit, sum(min(per_day, n) for n in per_found.values()))
    assert [s.start for s in offer] == sorted({s.start for s in offer})
    assert set(offer) <= set(found)
    counts = _per_day(offer)
    assert all(n <= per_day for n in counts.values())
    # Days in order: every day before the last offered one gave all it could.
    for day, n in per_found.items():
        if counts and day < max(counts):
            assert counts.get(day, 0) == min(per_day, n)
    if found:
        assert offer[0] == found[0]
    # Two a day: the day's first slot, then the earliest 3 h after it, else its second slot.
    for day in counts:
        picked = [s for s in offer if s.start.date() == day]
        if per_day == 2 and len(picked) == 2:
            same_day = [s for s in found if s.start.date() == day]
            later = [s for s in same_day if s.start >= picked[0].start + timedelta(hours=3)]
            assert picked[0] == same_day[0]
            assert picked[1] == (later[0] if later else same_day[1])


def _per_day(found: list[Slot]) -> dict[date, int]:
    counts: dict[date, int] = {}
    for slot in found:
        counts[slot.start.date()] = counts.get(slot.start.date(), 0) + 1
    return counts
