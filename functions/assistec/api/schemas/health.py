"""Models of the health route."""

from __future__ import annotations

from typing import Literal

from assistec.api.schemas.common import Output


class HealthBody(Output):
    status: Literal["ok", "degraded"]
    version: str
    stage: str
    database: Literal["ok", "unavailable"]
    schema_version: int | None
