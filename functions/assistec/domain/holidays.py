"""Brazil's national holidays, computed for any year (no hand-kept list of dates to go stale).

Fixed-date holidays come from federal law; the movable ones follow Easter (Gregorian computus).
"Optional" days are pontos facultativos (Carnaval Monday and Tuesday, Corpus Christi): not holidays by
law, but most shops close on them, so scheduling observes them unless the shop says otherwise. State
and municipal holidays are not here: a shop lists those as closed dates. Names are pt-BR (shown to
users). Pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from functools import lru_cache
from types import MappingProxyType

# (month, day, name, first year it is national)
_FIXED: tuple[tuple[int, int, str, int], ...] = (
    (1, 1, "Confraternização Universal", 1),
    (4, 21, "Tiradentes", 1),
    (5, 1, "Dia do Trabalho", 1),
    (9, 7, "Independência do Brasil", 1),
    (10, 12, "Nossa Senhora Aparecida", 1),
    (11, 2, "Finados", 1),
    (11, 15, "Proclamação da República", 1),
    # Lei 14.759/2023: national from 2024 on (before, only in some states and cities).
    (11, 20, "Dia Nacional de Zumbi e da Consciência Negra", 2024),
    (12, 25, "Natal", 1),
)
# (days from Easter Sunday, name)
_MOVABLE: tuple[tuple[int, str], ...] = ((-2, "Sexta-feira Santa"),)
_OPTIONAL: tuple[tuple[int, str], ...] = (
    (-48, "Segunda-feira de Carnaval"),
    (-47, "Terça-feira de Carnaval"),
    (60, "Corpus Christi"),
)


def easter(year: int) -> date:
    """Easter Sunday of ``year`` in the Gregorian calendar (the anonymous Gregorian algorithm, as
    given by Meeus): integer arithmetic only, valid for every year ``date`` can hold."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return date(year, month, day + 1)


@lru_cache(maxsize=64)
def _year(year: int, optional: bool) -> Mapping[date, str]:
    """The year's holidays, computed once per (year, optional) and shared read-only."""
    days = {date(year, month, day): name for month, day, name, since in _FIXED if year >= since}
    sunday = easter(year)
    for offset, name in _MOVABLE + (_OPTIONAL if optional else ()):
        days[sunday + timedelta(days=offset)] = name
    return MappingProxyType(dict(sorted(days.items())))


def brazil_holidays(year: int, *, optional: bool = True) -> dict[date, str]:
    """Brazil's national holidays in ``year`` (date → pt-BR name, in date order), with the widely
    observed pontos facultativos (Carnaval, Corpus Christi) when ``optional``."""
    return dict(_year(year, optional))


def is_holiday(day: date, *, optional: bool = True) -> str | None:
    """The holiday's pt-BR name when ``day`` is a national holiday (or, with ``optional``, a widely
    observed ponto facultativo), else ``None``."""
    return _year(day.year, optional).get(day)
