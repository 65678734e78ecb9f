"""Models of the owner's data exports (LGPD, portability)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from assistec.api.schemas.common import Output

DataExportStatus = Literal["pending", "running", "ready", "failed"]


class DataExportOut(Output):
    id: UUID
    status: DataExportStatus = Field(
        description="pending (waiting for the worker), running, ready (download it), failed (see error; "
        "ask again)"
    )
    requested_at: datetime
    requested_by: UUID = Field(description="The owner who asked")
    started_at: datetime | None
    finished_at: datetime | None
    rows: int | None = Field(description="Rows exported, all tables together (when ready)")
    files: int | None = Field(description="Files in the zip: a CSV and a JSON per table, and a README")
    bytes: int | None = Field(description="The zip's size in bytes (when ready)")
    expires_at: datetime | None = Field(description="Until when the zip can be downloaded (7 days)")
    expired: bool = Field(description="The zip is no longer handed out: ask for a new export")
    error: str | None = Field(description="Why it failed (pt-BR), when failed")


class DataExportPage(Output):
    items: list[DataExportOut]
    next_cursor: str | None


class DataExportLinkOut(Output):
    url: str = Field(description="A presigned download link of the zip")
    filename: str = Field(examples=["assistec-dados-da-loja-2026-11-24.zip"])
    content_type: Literal["application/zip"]
    expires_at: datetime = Field(description="When the link stops working (5 minutes)")
