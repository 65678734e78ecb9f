"""Models of the health route."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from assistec.api.schemas.common import Output


class HealthBody(Output):
    status: Literal["ok", "degraded"]
    version: str
    stage: str
    database: Literal["ok", "unavailable"]
    schema_version: int | None
    backup_age_hours: float | None = Field(
        default=None, description="Among the shops, the age of the oldest newest-good backup (alarm above 26)"
    )
    dead_letter_queues: dict[str, int | None] = Field(
        default_factory=dict, description="Messages waiting in each dead-letter queue (null: unreadable)"
    )
    attention: list[str] = Field(
        default_factory=list, description="What ops should look at although the API works (pt-BR)"
    )
