"""Health of the running deployment: the version, whether the database answers, how old the newest
per-shop backups are, and whether any dead-letter queue holds messages."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from assistec.db import migrate
from assistec.db.connection import Database, DatabaseUnavailableError
from assistec.observability import logger

# Past this, the newest backup of some shop is older than a missed night (the alarm's threshold too).
BACKUP_AGE_LIMIT_H = 26.0
# The queues are read at most this often per environment (monitors call /health every few seconds).
QUEUES_TTL_S = 30.0


@dataclass(frozen=True, slots=True)
class HealthReport:
    version: str
    stage: str
    database_ok: bool
    schema_version: int | None
    backup_age_hours: float | None = None
    dead_letters: dict[str, int | None] = field(default_factory=dict)

    @property
    def attention(self) -> list[str]:
        """What ops should look at although the API works (pt-BR, one line each)."""
        notes = [
            f"fila de mensagens mortas {name}: {count} mensagem(ns)"
            for name, count in sorted(self.dead_letters.items())
            if count
        ]
        notes += [
            f"fila {name}: não foi possível ler"
            for name, count in sorted(self.dead_letters.items())
            if count is None
        ]
        if self.backup_age_hours is not None and self.backup_age_hours > BACKUP_AGE_LIMIT_H:
            notes.append(
                f"backup mais antigo entre as lojas: {self.backup_age_hours:.0f} h "
                f"(limite {BACKUP_AGE_LIMIT_H:.0f} h)"
            )
        return notes


class HealthService:
    """What the deployment is and how it is; never raises for a database or a queue down."""

    def __init__(
        self,
        db: Database,
        *,
        version: str,
        stage: str,
        dead_letter_counts: Callable[[], Mapping[str, int | None]] = dict,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._version = version
        self._stage = stage
        self._dead_letter_counts = dead_letter_counts
        self._clock = clock
        self._queues: tuple[float, dict[str, int | None]] | None = None

    def check(self) -> HealthReport:
        """Ask the database for its schema version and the backups' age; a failure to reach it is
        reported, not raised. The dead-letter queues' depths come from a 30-second cache."""
        queues = self._dead_letters()
        try:
            with self._db.transaction() as conn:
                schema_version = migrate.current_version(conn)
                row = conn.execute("select backup_age_hours()").fetchone()
        except DatabaseUnavailableError:
            return HealthReport(self._version, self._stage, False, None, None, queues)
        age = float(row[0]) if row is not None and row[0] is not None else None
        return HealthReport(self._version, self._stage, True, schema_version, age, queues)

    def _dead_letters(self) -> dict[str, int | None]:
        now = self._clock()
        if self._queues is not None and now - self._queues[0] < QUEUES_TTL_S:
            return self._queues[1]
        try:
            counts = dict(self._dead_letter_counts())
        except Exception:
            logger.warning("dead-letter queues unreadable", exc_info=True)
            counts = {}
        self._queues = (now, counts)
        return counts
