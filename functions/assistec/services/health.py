"""Health of the running deployment: the version and whether the database answers."""

from __future__ import annotations

from dataclasses import dataclass

from assistec.db import migrate
from assistec.db.connection import Database, DatabaseUnavailableError


@dataclass(frozen=True, slots=True)
class HealthReport:
    version: str
    stage: str
    database_ok: bool
    schema_version: int | None


class HealthService:
    """What the deployment is and whether its database answers; never raises for a database down."""

    def __init__(self, db: Database, *, version: str, stage: str) -> None:
        self._db = db
        self._version = version
        self._stage = stage

    def check(self) -> HealthReport:
        """Ask the database for its schema version; a failure to reach it is reported, not raised."""
        try:
            with self._db.transaction() as conn:
                schema_version = migrate.current_version(conn)
        except DatabaseUnavailableError:
            return HealthReport(
                version=self._version, stage=self._stage, database_ok=False, schema_version=None
            )
        return HealthReport(
            version=self._version, stage=self._stage, database_ok=True, schema_version=schema_version
        )
