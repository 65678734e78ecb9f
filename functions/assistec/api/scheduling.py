"""Scheduling: the shop's Google Calendar connection (owners and admins), its scheduling rules,
availability, appointments (staff), and the customer's appointment link (public)."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from assistec.api import pages
from assistec.api.identity import caller, public_base_url, services
from assistec.api.responses import created, doc, json_response
from assistec.api.routes import Routes
from assistec.api.schemas.common import Deleted, ErrorBody, IsoDateTime
from assistec.api.schemas.scheduling import (
    AppointmentChangeIn,
    AppointmentIn,
    AppointmentList,
    AppointmentOut,
    AppointmentStatus,
    AppointmentType,
    AvailabilityOut,
    CheckInIn,
    CheckInOut,
    GoogleCalendarList,
    GoogleCalendarOut,
    GoogleCalendarsIn,
    GoogleConnectIn,
    GoogleConnectionOut,
    GoogleConnectOut,
    ReminderOut,
    SchedulingSettingsIn,
    SchedulingSettingsOut,
    SlotOut,
    TypeRuleOut,
)
from assistec.errors import AppError, ValidationFailedError

router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ untyped
routes = Routes(router, tag="scheduling")
public_routes = Routes(router, tag="public", public=True)

CALLBACK_PATH = "/integrations/google/callback"


def _pages(**codes: str) -> dict[int, Any]:
    """The answers of an HTML route: pages, and the error shape when the database is down (503)."""
    html = {"text/html": {"schema": {"type": "string"}}}
    error = {**html, "application/json": {"model": ErrorBody}}  # with Accept: application/json
    answers: dict[int, Any] = {
        int(code[1:]): {"description": d, "content": html if code < "s400" else error}
        for code, d in codes.items()
    }
    answers[503] = {
        "description": "Database (or Google) unavailable: nothing changed",
        "content": {**html, "application/json": {"model": ErrorBody}},
    }
    return answers


_GOOGLE_DOWN: Any = {
    "description": "Database or Google unavailable (or Google not configured here): nothing changed",
    "content": {"application/json": {"model": ErrorBody}},
}


def _redirect_uri() -> str:
    return f"{public_base_url(router)}{CALLBACK_PATH}"


# --- Google -------------------------------------------------------------------------------------
@routes.post(
    "/integrations/google/connect",
    summary="Start connecting the shop's Google Calendar: the consent URL (offline access, PKCE, a "
    "signed state good for 10 minutes, once)",
    responses={**doc(200, GoogleConnectOut, 401, 403, 413), 503: _GOOGLE_DOWN},
)
def google_connect(body: Annotated[GoogleConnectIn, Body()]) -> Response[Any]:
    from assistec.services.scheduling.google import STATE_TTL_S

    url = services().google_connections.start(
        caller(router), redirect_uri=_redirect_uri(), login_hint=body.login_hint
    )
    return json_response(200, GoogleConnectOut(authorization_url=url, expires_in=STATE_TTL_S))


@public_routes.get(
    CALLBACK_PATH,
    summary="Google sends the user back here after the consent (HTML): the code is exchanged and the "
    "tokens kept encrypted",
    responses=_pages(s200="Connected", s400="Expired, reused or refused consent", s422="Malformed answer"),
)
def google_callback(
    state: Annotated[str, Query(max_length=2048)] = "",
    code: Annotated[str | None, Query(max_length=2048)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> Response[Any]:
    try:
        view = services().google_connections.finish(state=state, code=code, error=error)
    except AppError as exc:
        return _failed(exc, "Google Agenda não conectada")
    account = f" ({view.account_email})" if view.account_email else ""
    return _html(
        200,
        pages.message_page(
            "Google Agenda conectada",
            f"Pronto! A agenda do Google{account} está conectada. Os agendamentos aparecem nela e os "
            "compromissos dela bloqueiam horários. Você já pode fechar esta página.",
            kind="good",
        ),
    )


@routes.get(
    "/integrations/google",
    summary="The shop's Google connection: account, calendars used, last sync, whether to reconnect",
    responses=doc(200, GoogleConnectionOut, 401, 403),
)
def google_status() -> Response[Any]:
    return json_response(
        200, GoogleConnectionOut.model_validate(services().google_connections.get(caller(router)))
    )


@routes.get(
    "/integrations/google/calendars",
    summary="The connected account's calendars, as Google lists them now",
    responses={**doc(200, GoogleCalendarList, 401, 403, 404), 503: _GOOGLE_DOWN},
)
def google_calendars() -> Response[Any]:
    items = services().google_connections.calendars(caller(router))
    return json_response(200, GoogleCalendarList(items=[GoogleCalendarOut(**c) for c in items]))


@routes.put(
    "/integrations/google",
    summary="Which calendar receives the appointments, and which ones (≤ 50) block slots",
    responses=doc(200, GoogleConnectionOut, 401, 403, 404, 409, 413),
)
def google_choose(body: Annotated[GoogleCalendarsIn, Body()]) -> Response[Any]:
    view = services().google_connections.choose(
        caller(router),
        version=body.version,
        calendar_id=body.calendar_id,
        busy_calendar_ids=list(body.busy_calendar_ids),
    )
    return json_response(200, GoogleConnectionOut.model_validate(view))


@routes.delete(
    "/integrations/google",
    summary="Disconnect Google: the grant is revoked and the tokens deleted (appointments stay)",
    responses=doc(200, Deleted, 401, 403, 404),
)
def google_disconnect() -> Response[Any]:
    services().google_connections.disconnect(caller(router))
    return json_response(200, Deleted(deleted=True))


# --- rules --------------------------------------------------------------------------------------
def _settings_out(found: Any) -> SchedulingSettingsOut:
    shop, booking_hours = found
    return SchedulingSettingsOut(
        timezone=shop.timezone,
        types={name: TypeRuleOut.model_validate(rule) for name, rule in shop.types.items()},
        step_min=shop.step_min,
        min_notice_min=shop.min_notice_min,
        horizon_days=shop.horizon_days,
        closed_dates=shop.closed_dates,
        observe_optional_holidays=shop.observe_optional_holidays,
        reminder_offsets=shop.reminder_offsets,
        booking_hours=booking_hours,
        hours=shop.hours,
        version=shop.version,
    )


@routes.get(
    "/settings/scheduling",
    summary="The shop's scheduling rules: per type duration, buffer and capacity; grid, notice, horizon, "
    "closed dates, holidays, reminders",
    responses=doc(200, SchedulingSettingsOut, 401, 403),
)
def get_scheduling_settings() -> Response[Any]:
    return json_response(200, _settings_out(services().scheduling_settings.get(caller(router))))


@routes.put(
    "/settings/scheduling",
    summary="Change the scheduling rules (owners and admins)",
    responses=doc(200, SchedulingSettingsOut, 401, 403, 409, 413),
)
def put_scheduling_settings(body: Annotated[SchedulingSettingsIn, Body()]) -> Response[Any]:
    values = {
        "types": {name: rule.model_dump() for name, rule in body.types.items()},
        "step_min": body.step_min,
        "min_notice_min": body.min_notice_min,
        "horizon_days": body.horizon_days,
        "closed_dates": sorted(set(body.closed_dates)),
        "observe_optional_holidays": body.observe_optional_holidays,
        "reminder_offsets": sorted(set(body.reminder_offsets), reverse=True),
        "booking_hours": body.booking_hours,
    }
    found = services().scheduling_settings.save(caller(router), version=body.version, values=values)
    return json_response(200, _settings_out(found))


# --- availability -------------------------------------------------------------------------------
@routes.get(
    "/availability",
    summary="Open slots of one appointment type between from and to (≤ 62 days), in the shop's time zone",
    responses={**doc(200, AvailabilityOut, 401, 403), 503: _GOOGLE_DOWN},
)
def availability(
    from_: Annotated[IsoDateTime, Query(alias="from")],
    to: Annotated[IsoDateTime, Query()],
    type: Annotated[AppointmentType, Query()] = "drop_off",
) -> Response[Any]:
    start, end = _aware(from_, "from"), _aware(to, "to")
    found = services().availability.for_staff(caller(router), type_=type, start=start, end=end)
    zone = ZoneInfo(found.timezone)
    return json_response(
        200,
        AvailabilityOut(
            type=type,
            timezone=found.timezone,
            google=found.google,  # type: ignore[arg-type]  # one of the four
            slots=[
                SlotOut(start=s.start.astimezone(zone), end=s.end.astimezone(zone), free=s.free)
                for s in found.slots
            ],
        ),
    )


def _aware(moment: datetime, field: str) -> datetime:
    """A moment with its offset, in the years a shop's agenda can hold (2000-2100)."""
    if moment.utcoffset() is None:
        raise ValidationFailedError(
            details=[{"field": field, "message": "informe o fuso (ex.: -03:00 ou Z)"}]
        )
    if not 2000 <= moment.year <= 2100:
        raise ValidationFailedError(details=[{"field": field, "message": "data fora do intervalo aceito"}])
    return moment


# --- appointments -------------------------------------------------------------------------------
def _out(row: Any, tz: str, reminders: list[tuple[int, str, datetime]] | None = None) -> AppointmentOut:
    """An appointment with its times in the shop's time zone."""
    zone = ZoneInfo(tz)
    return AppointmentOut(
        id=row.id,
        type=row.type,
        status=row.status,
        starts_at=row.starts_at.astimezone(zone),
        ends_at=row.ends_at.astimezone(zone),
        customer_id=row.customer_id,
        device_id=row.device_id,
        order_id=row.order_id,
        address=row.address,
        notes=row.notes,
        source=row.source,
        public_url_token=row.public_token,
        sync_state=row.sync_state,
        sync_error=row.sync_error,
        google_event_id=row.google_event_id,
        version=row.version,
        created_at=row.created_at,
        confirmed_at=row.confirmed_at,
        cancelled_at=row.cancelled_at,
        cancelled_via=row.cancelled_via,
        reminders=[ReminderOut(offset_min=o, channel=c, sent_at=at) for o, c, at in (reminders or [])],
    )


@routes.post(
    "/appointments",
    summary="Book an appointment (capacity enforced by the database: 409 slot_full when taken); "
    "mirrored to Google after the commit",
    responses=doc(201, AppointmentOut, 401, 403, 409, 413),
)
def create_appointment(body: Annotated[AppointmentIn, Body()]) -> Response[Any]:
    _aware(body.starts_at, "starts_at")
    view = services().appointments.create(caller(router), body.model_dump())
    return created(_out(view.appointment, view.timezone))


@routes.get(
    "/appointments",
    summary="The shop's appointments starting between from and to (≤ 92 days)",
    responses=doc(200, AppointmentList, 401, 403),
)
def list_appointments(
    from_: Annotated[IsoDateTime, Query(alias="from")],
    to: Annotated[IsoDateTime, Query()],
    status: Annotated[AppointmentStatus | None, Query()] = None,
    customer_id: Annotated[UUID | None, Query()] = None,
) -> Response[Any]:
    rows, tz = services().appointments.list(
        caller(router),
        start=_aware(from_, "from"),
        end=_aware(to, "to"),
        status=status,
        customer_id=customer_id,
    )
    return json_response(200, AppointmentList(timezone=tz, items=[_out(r, tz) for r in rows]))


@routes.get(
    "/appointments/<appointment_id>",
    summary="One appointment, with its Google mirror's state and the reminders sent",
    responses=doc(200, AppointmentOut, 401, 403, 404),
)
def get_appointment(appointment_id: Annotated[UUID, Path()]) -> Response[Any]:
    view = services().appointments.get(caller(router), appointment_id)
    return json_response(200, _out(view.appointment, view.timezone, view.reminders))


@routes.post(
    "/appointments/<appointment_id>/changes",
    summary="Reschedule, cancel, confirm, record a no-show or change the notes (optimistic locking)",
    responses=doc(200, AppointmentOut, 401, 403, 404, 409, 413),
)
def change_appointment(
    appointment_id: Annotated[UUID, Path()], body: Annotated[AppointmentChangeIn, Body()]
) -> Response[Any]:
    view = services().appointments.change(
        caller(router),
        appointment_id,
        version=body.version,
        action=body.action,
        starts_at=_aware(body.starts_at, "starts_at") if body.starts_at else None,
        notes=body.notes,
    )
    return json_response(200, _out(view.appointment, view.timezone, view.reminders))


@routes.post(
    "/appointments/<appointment_id>/check-in",
    summary="The customer arrived for a drop-off: opens the service order and links it",
    responses=doc(200, CheckInOut, 401, 403, 404, 409, 413),
)
def check_in(appointment_id: Annotated[UUID, Path()], body: Annotated[CheckInIn, Body()]) -> Response[Any]:
    row, order, tz = services().appointments.check_in(
        caller(router),
        appointment_id,
        version=body.version,
        device_id=body.device_id,
        problem=body.reported_problem,
    )
    return json_response(
        200, CheckInOut(appointment=_out(row, tz), order_id=order.id, order_number=order.number)
    )


# --- the customer's link ------------------------------------------------------------------------
Token = Annotated[str, Path(min_length=40, max_length=100, pattern=r"^[0-9a-f-]{36}\.[A-Za-z0-9_-]{20,60}$")]
_KIND = {"drop_off": "Entrega do aparelho", "pickup": "Retirada do aparelho", "visit": "Visita técnica"}
_STATUS = {
    "booked": "Agendado",
    "confirmed": "Confirmado",
    "cancelled": "Cancelado",
    "no_show": "Não compareceu",
    "done": "Concluído",
}


def _html(status: int, body: str) -> Response[Any]:
    return Response(
        status_code=status, content_type="text/html; charset=utf-8", body=body, headers=pages.SECURITY_HEADERS
    )


def _failed(exc: AppError, title: str) -> Response[Any]:
    """An error as a page, or in the error shape for a client that asks for JSON."""
    accept = str(
        router.current_event.headers.get("accept") or router.current_event.headers.get("Accept") or ""
    )
    if "application/json" in accept and "text/html" not in accept:
        body = ErrorBody(code=exc.code, message=exc.message, details=exc.details)
        return Response(status_code=exc.status, content_type="application/json", body=body.model_dump_json())
    return _html(exc.status, pages.message_page(title, exc.message))


def _appointment_page(row: Any, shop: str, tz: str, notice: str | None = None) -> str:
    when = row.starts_at.astimezone(ZoneInfo(tz)).strftime("%d/%m/%Y às %H:%M")
    actions = ""
    if row.status in ("booked", "confirmed"):
        confirm = (
            '<button class="ok" type="submit" name="action" value="confirm">Confirmar</button>'
            if row.status == "booked"
            else ""
        )
        actions = (
            f'<form method="post" action="{escape(row.public_token)}/action"><div class="actions">{confirm}'
            '<button class="no" type="submit" name="action" value="cancel">Cancelar</button></div></form>'
        )
    where = f"<br>Endereço: {escape(row.address)}" if row.address else ""
    note = f'<p class="state good" id="notice">{escape(notice)}</p>' if notice else ""
    body = (
        f'<section class="card"><h2>{escape(_KIND.get(row.type, "Agendamento"))}</h2>{note}'
        f"<p>Quando: <strong>{escape(when)}</strong>{where}<br>"
        f'Situação: <strong id="status">{escape(_STATUS.get(row.status, row.status))}</strong></p>'
        f"{actions}</section>"
    )
    return pages._page("Agendamento", shop, None, body)


@public_routes.get(
    "/public/appointments/<token>",
    summary="The customer's appointment page: when, where, confirm or cancel (HTML)",
    responses=_pages(s200="The appointment", s404="Unknown link", s422="Malformed link"),
)
def public_appointment(token: Token) -> Response[Any]:
    try:
        row, shop, tz = services().appointments.public(token)
    except AppError as exc:
        return _failed(exc, "Agendamento não encontrado")
    return _html(200, _appointment_page(row, shop, tz))


@public_routes.post(
    "/public/appointments/<token>/action",
    summary="Confirm or cancel the appointment from its page (a form post: action=confirm|cancel)",
    responses=_pages(
        s200="Done", s404="Unknown link", s409="Cancelled, finished or past", s422="Unknown action"
    ),
)
def public_appointment_action(token: Token) -> Response[Any]:
    from urllib.parse import parse_qs

    raw = router.current_event.decoded_body or ""
    action = (parse_qs(raw).get("action") or [""])[0]
    if action not in ("confirm", "cancel"):
        return _failed(ValidationFailedError("Escolha confirmar ou cancelar."), "Ação inválida")
    try:
        services().appointments.public_action(token, action)
        row, shop, tz = services().appointments.public(token)
    except AppError as exc:
        return _failed(exc, "Não foi possível continuar")
    notice = "Agendamento confirmado. Até lá!" if action == "confirm" else "Agendamento cancelado."
    return _html(200, _appointment_page(row, shop, tz, notice))
