"""Models of the shop's settings."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field, StringConstraints

from assistec.api.schemas.common import Input, Int, Output


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("fuso horário desconhecido") from exc
    return value


_HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _business_hours(value: dict[str, list[list[str]]]) -> dict[str, list[list[str]]]:
    if set(value) != set(_DAYS):
        raise ValueError("informe os sete dias: " + ", ".join(_DAYS))
    for day, intervals in value.items():
        if len(intervals) > 4:
            raise ValueError(f"{day}: no máximo 4 intervalos por dia")
        previous_end = ""
        for interval in intervals:
            if len(interval) != 2 or not all(_HHMM.match(t) for t in interval):
                raise ValueError(f'{day}: use intervalos no formato ["HH:MM", "HH:MM"]')
            start, end = interval
            if not start < end or start < previous_end:
                raise ValueError(f"{day}: intervalos devem ser crescentes e não sobrepostos")
            previous_end = end
    return {day: value[day] for day in _DAYS}


Message = Annotated[str, StringConstraints(min_length=1, max_length=1000)]


BusinessHours = Annotated[
    dict[str, list[list[str]]],
    AfterValidator(_business_hours),
    Field(description='Per weekday (mon..sun), a list of ["HH:MM", "HH:MM"] opening intervals'),
]


class SettingsOut(Output):
    timezone: str
    business_hours: dict[str, list[list[str]]]
    welcome_message: str
    out_of_hours_message: str
    logo_url: str | None = Field(description="The shop's logo on the customer's pages")
    version: int
    updated_at: datetime


LogoUrl = Annotated[
    str,
    StringConstraints(max_length=500, pattern=r"^https://[^\s\"'<>]+$"),
    Field(description="An https URL of the shop's logo (shown on the customer's pages)"),
]


class SettingsIn(Input):
    version: Int = Field(ge=1)
    timezone: Annotated[str, StringConstraints(max_length=64), AfterValidator(_timezone)] = (
        "America/Sao_Paulo"
    )
    business_hours: BusinessHours
    welcome_message: Message
    out_of_hours_message: Message
    logo_url: LogoUrl | None = None
