"""The daily retention job: what the policies (migration 0028) say is kept no longer is purged, a
bounded batch per table per run, through the one definer function ``purge_expired``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistec.db.connection import Database

BATCH = 5000  # rows per table per round; a run goes round until a round purges nothing or time is up


@dataclass(frozen=True, slots=True)
class Purged:
    per_table: dict[str, int]
    rounds: int
    complete: bool  # False: time ran out with rows left (the next run goes on)

    @property
    def total(self) -> int:
        return sum(self.per_table.values())


def purge(
    database: Database, *, now: datetime, time_left_s: Callable[[], float], batch: int = BATCH
) -> Purged:
    """Purge in short transactions (one round each) until nothing is left or ~30 s remain."""
    totals: dict[str, int] = {}
    rounds = 0
    while True:
        with database.transaction() as conn:
            rows = conn.execute("select what, purged from purge_expired(%s, %s)", (now, batch)).fetchall()
        rounds += 1
        for what, purged in rows:
            totals[str(what)] = totals.get(str(what), 0) + int(purged)
        if all(int(purged) < batch for _, purged in rows):
            return Purged(totals, rounds, complete=True)
        if time_left_s() < 30:
            return Purged(totals, rounds, complete=False)
