"""Response and request models shared by the API routers."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class ErrorBody(BaseModel):
    """Every error answer: a stable ``code``, a pt-BR ``message`` and optional ``details``."""

    model_config = ConfigDict(extra="forbid")

    code: str
    message: str
    details: Any = None
    correlation_id: str | None = None


class HealthBody(BaseModel):
    status: Literal["ok", "degraded"]
    version: str
    stage: str
    database: Literal["ok", "unavailable"]
    schema_version: int | None
