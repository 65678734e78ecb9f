"""The shop's settings as plain data."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SettingsUpdate:
    version: int
    timezone: str
    business_hours: dict[str, list[list[str]]]
    welcome_message: str
    out_of_hours_message: str
    logo_url: str | None = None
