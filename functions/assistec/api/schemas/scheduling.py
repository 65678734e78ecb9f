"""Scheduling's models: the Google connection, the scheduling rules, availability, appointments."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, Field, StringConstraints

from assistec.api.schemas.common import Bool, Input, Int, IsoDate, IsoDateTime, Output

AppointmentType = Literal["drop_off", "pickup", "visit"]
AppointmentStatus = Literal["booked", "confirmed", "cancelled", "no_show", "done"]
CalendarId = Annotated[str, StringConstraints(min_length=1, max_length=1024)]


# --- Google -------------------------------------------------------------------------------------
class GoogleConnectIn(Input):
    login_hint: Annotated[str, StringConstraints(max_length=320)] | None = Field(
        default=None, description="The Google account to suggest on the consent screen"
    )


class GoogleConnectOut(Output):
    authorization_url: str = Field(description="Open it in the browser: Google's consent screen")
    expires_in: int = Field(description="Seconds the consent may take before it must be started again")


class GoogleConnectionOut(Output):
    connected: bool
    status: Literal["connected", "reconnect", "disconnected"] = Field(
        description="reconnect: Google refused the stored authorization; connect again"
    )
    account_email: str | None
    calendar_id: str | None = Field(description="Where the appointments are written")
    busy_calendar_ids: list[str] = Field(description="Whose busy times block slots")
    synced_at: datetime | None
    last_error: str | None
    version: int


class GoogleCalendarsIn(Input):
    version: Int = Field(ge=1, description="The version you read; a stale one gets 409")
    calendar_id: CalendarId
    busy_calendar_ids: list[CalendarId] = Field(max_length=50)


class GoogleCalendarOut(Output):
    id: str
    name: str
    primary: bool
    access_role: str


class GoogleCalendarList(Output):
    items: list[GoogleCalendarOut]


# --- rules --------------------------------------------------------------------------------------
class TypeRuleIn(Input):
    duration_min: Int = Field(ge=5, le=480)
    buffer_min: Int = Field(ge=0, le=240)
    capacity: Int = Field(ge=1, le=50)
    enabled: Bool = True


class TypeRuleOut(Output):
    duration_min: int
    buffer_min: int
    capacity: int
    enabled: bool


_HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$"
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _booking_hours(value: dict[str, list[list[str]]] | None) -> dict[str, list[list[str]]] | None:
    import re

    if value is None:
        return None
    if set(value) - set(_DAYS):
        raise ValueError("dias aceitos: " + ", ".join(_DAYS))
    for day, intervals in value.items():
        if len(intervals) > 4:
            raise ValueError(f"{day}: no máximo 4 intervalos por dia")
        for interval in intervals:
            if (
                len(interval) != 2
                or not all(re.match(_HHMM, t) for t in interval)
                or interval[0] == interval[1]
            ):
                raise ValueError(
                    f'{day}: use intervalos ["HH:MM", "HH:MM"] '
                    "(um fim menor que o início atravessa a meia-noite)"
                )
    return {day: value.get(day, []) for day in _DAYS}


class SchedulingSettingsIn(Input):
    version: Int = Field(ge=0, description="The version you read (0 before the first save)")
    types: dict[AppointmentType, TypeRuleIn] = Field(
        description="Per type; a type left out keeps its default"
    )
    step_min: Int = Field(ge=5, le=240, description="The slot grid, in minutes")
    min_notice_min: Int = Field(
        ge=0, le=10080, description="How far ahead a customer may book at the earliest"
    )
    horizon_days: Int = Field(ge=1, le=180, description="How far ahead a customer may book at the latest")
    closed_dates: list[IsoDate] = Field(max_length=400)
    observe_optional_holidays: Bool = Field(description="Carnaval and Corpus Christi close the shop")
    reminder_offsets: list[Annotated[Int, Field(ge=5, le=10080)]] = Field(
        max_length=4, description="Minutes before the appointment (24 h and 2 h by default)"
    )
    booking_hours: Annotated[dict[str, list[list[str]]] | None, AfterValidator(_booking_hours)] = Field(
        default=None,
        description='Appointment hours per weekday when not the business hours (["22:00", "02:00"] '
        "crosses midnight)",
    )


class SchedulingSettingsOut(Output):
    timezone: str
    types: dict[str, TypeRuleOut]
    step_min: int
    min_notice_min: int
    horizon_days: int
    closed_dates: list[date]
    observe_optional_holidays: bool
    reminder_offsets: list[int]
    booking_hours: dict[str, Any] | None
    hours: dict[str, Any] = Field(description="The hours in effect (booking hours, or the business hours)")
    version: int


# --- availability -------------------------------------------------------------------------------
class SlotOut(Output):
    start: datetime
    end: datetime
    free: int = Field(description="How many more bookings of this type fit")


class AvailabilityOut(Output):
    type: AppointmentType
    timezone: str
    google: Literal["consulted", "not_connected", "reconnect", "unavailable"] = Field(
        description="Whether Google's busy times were read now (unavailable: the last ones kept)"
    )
    slots: list[SlotOut]


# --- appointments -------------------------------------------------------------------------------
class AppointmentIn(Input):
    type: AppointmentType
    starts_at: IsoDateTime = Field(description="With its offset (the shop's time zone or UTC)")
    customer_id: UUID
    device_id: UUID | None = None
    order_id: UUID | None = None
    address: Annotated[str, StringConstraints(min_length=5, max_length=500)] | None = Field(
        default=None, description="Visits: where (the customer's address when left out)"
    )
    notes: Annotated[str, StringConstraints(max_length=2000)] | None = None


class AppointmentChangeIn(Input):
    version: Int = Field(ge=1, description="The version you read; a stale one gets 409")
    action: Literal["reschedule", "cancel", "confirm", "no_show", "notes"]
    starts_at: IsoDateTime | None = Field(default=None, description="reschedule: the new time")
    notes: Annotated[str, StringConstraints(max_length=2000)] | None = None


class CheckInIn(Input):
    version: Int = Field(ge=1)
    device_id: UUID | None = Field(default=None, description="When the appointment has none")
    reported_problem: Annotated[str, StringConstraints(min_length=3, max_length=2000)]


class ReminderOut(Output):
    offset_min: int
    channel: str
    sent_at: datetime


class AppointmentOut(Output):
    id: UUID
    type: AppointmentType
    status: AppointmentStatus
    starts_at: datetime
    ends_at: datetime
    customer_id: UUID
    device_id: UUID | None
    order_id: UUID | None
    address: str | None
    notes: str | None
    source: str
    public_url_token: str = Field(description="The token of the customer's link /public/appointments/{token}")
    sync_state: Literal["pending", "synced", "failed", "off"] = Field(
        description="The mirror in Google: off when the shop is not connected"
    )
    sync_error: str | None
    google_event_id: str
    version: int
    created_at: datetime
    confirmed_at: datetime | None
    cancelled_at: datetime | None
    cancelled_via: str | None
    reminders: list[ReminderOut] = Field(default_factory=list)


class AppointmentList(Output):
    timezone: str
    items: list[AppointmentOut]


class CheckInOut(Output):
    appointment: AppointmentOut
    order_id: UUID
    order_number: int
