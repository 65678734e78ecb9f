"""Health of the running deployment: the version and whether the database answers."""

from __future__ import annotations

from dataclasses import dataclass

from assistec.db.connection import Database, DatabaseUnavailableError


@dataclass(frozen=True, slots=True)
class HealthReport:
    version: str
    stage: str
    database_ok: bool
    schema_version: int | None


def check(db: Database, *, version: str, stage: str) -> HealthReport:
    """Ask the database for its schema version; any failure to reach it is reported, not raised."""
    try:
        with db.transaction() as conn:
            row = conn.execute("select max(version) from schema_migrations").fetchone()
    except DatabaseUnavailableError:
        return HealthReport(version=version, stage=stage, database_ok=False, schema_version=None)
    return HealthReport(
        version=version, stage=stage, database_ok=True, schema_version=row[0] if row else None
    )
