"""Appointments: drop-offs, pickups and technician visits, booked by staff, by the customer on
WhatsApp or on the appointment's public link.

Capacity is the database's: each booking holds one of its type's seats (1..capacity) over its time
plus buffer, and an exclusion constraint refuses two active bookings on the same seat at the same
instant. Booking tries the seats in order, each insert in a savepoint; when every seat is taken the
answer is 409 ``slot_full`` — also when twenty customers race for the last slot.

Every change is written with an ``AppointmentChanged`` event (the outbox): the calendar worker
mirrors it to the shop's Google Calendar after the commit (``sync.py``), so Google never blocks or
slows a booking; the appointment shows whether its mirror is done (``sync_state``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from assistec.db import customers as customers_db
from assistec.db import devices as devices_db
from assistec.db import scheduling as db
from assistec.domain import holidays, public_links
from assistec.domain import scheduling as rules
from assistec.domain.permissions import Permission
from assistec.errors import AppError, ConflictError, NotFoundError, ValidationFailedError, found
from assistec.services.audit import PublicActor
from assistec.services.scheduling.rules import ShopRules, load

if TYPE_CHECKING:
    from assistec.db.rows import OrderRow
    from assistec.domain.tokens import Identity
    from assistec.services.unit_of_work import UnitOfWork, UnitsOfWork

_NOT_FOUND = "Agendamento não encontrado."
_STALE = "O agendamento foi alterado por outra pessoa. Recarregue e tente novamente."
MAX_AHEAD_DAYS = 366  # staff may book past the customers' horizon, not years ahead
TYPE_NAMES = {"drop_off": "Entrega do aparelho", "pickup": "Retirada do aparelho", "visit": "Visita técnica"}


class SlotFullError(ConflictError):
    code = "slot_full"
    message = "Este horário já está lotado. Escolha outro horário."


class AppointmentClosedError(ConflictError):
    code = "appointment_closed"
    message = "Este agendamento já foi cancelado ou concluído."


def _invalid(field: str, message: str) -> ValidationFailedError:
    return ValidationFailedError(message, details=[{"field": field, "message": message}])


def event_id(appointment_id: UUID) -> str:
    from assistec.integrations.google_calendar import event_id as google_event_id

    return google_event_id(appointment_id)


@dataclass(frozen=True, slots=True)
class AppointmentView:
    appointment: db.AppointmentRow
    timezone: str
    reminders: list[tuple[int, str, datetime]]


class Appointments:
    """What every channel does with appointments, inside a unit of work it opened."""

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._clock = clock

    def book(
        self,
        uow: UnitOfWork,
        shop: ShopRules,
        *,
        type_: str,
        starts_at: datetime,
        customer_id: UUID,
        source: str,
        device_id: UUID | None = None,
        order_id: UUID | None = None,
        address: str | None = None,
        notes: str | None = None,
    ) -> db.AppointmentRow:
        """Book one appointment on a free seat of its type (409 ``slot_full`` when none)."""
        rule = shop.types[type_]
        if not rule.enabled or rule.capacity < 1:
            raise _invalid("type", "Este tipo de agendamento não está disponível na loja.")
        self._check_time(shop, rule, starts_at)
        customer = customers_db.get_customer(uow.conn, customer_id)
        if customer is None:
            raise _invalid("customer_id", "Cliente não encontrado.")
        if device_id is not None:
            device = devices_db.get_device(uow.conn, device_id)
            if device is None or device.customer_id != customer_id:
                raise _invalid("device_id", "Aparelho não encontrado para este cliente.")
        if order_id is not None:
            order = uow.conn.execute(
                "select customer_id from service_orders where id = %s", (order_id,)
            ).fetchone()
            if order is None or order[0] != customer_id:
                raise _invalid("order_id", "Ordem de serviço não encontrada para este cliente.")
        if type_ == "visit" and not address:
            address = _address_text(customer.address)
            if not address:
                raise _invalid("address", "Informe o endereço da visita (o cliente não tem endereço).")
        appointment_id = uuid4()
        ends_at = starts_at + timedelta(minutes=rule.duration_min)
        held = rules.blocking(starts_at, rule)
        connected = db.get_connection(uow.conn)
        values: dict[str, Any] = {
            "id": appointment_id,
            "tenant_id": uow.tenant_id,
            "type": type_,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "during": _range(held),
            "customer_id": customer_id,
            "device_id": device_id,
            "order_id": order_id,
            "address": address if type_ == "visit" else None,
            "notes": notes,
            "source": source,
            "public_token": public_links.new_token(uow.tenant_id),
            "google_event_id": event_id(appointment_id),
            "sync_state": "pending" if connected is not None and connected.status == "connected" else "off",
            "created_by": uow.user_id,
        }
        row = _on_a_free_seat(
            uow, rule, lambda seat: db.insert_appointment(uow.conn, values={**values, "seat": seat})
        )
        uow.audit(
            "create",
            "appointment",
            row.id,
            changes={"type": type_, "starts_at": starts_at.isoformat(), "source": source},
        )
        _changed(uow, row, "booked")
        return row

    def move(
        self, uow: UnitOfWork, shop: ShopRules, current: db.AppointmentRow, starts_at: datetime, *, via: str
    ) -> db.AppointmentRow:
        """Reschedule to ``starts_at`` (a free seat at the new time, or 409 ``slot_full``)."""
        _active(current)
        rule = shop.types[current.type]
        self._check_time(shop, rule, starts_at)
        held = rules.blocking(starts_at, rule)
        ends_at = starts_at + timedelta(minutes=rule.duration_min)

        def claim(seat: int) -> db.AppointmentRow:
            return db.update_appointment(
                uow.conn,
                current.id,
                starts_at=starts_at,
                ends_at=ends_at,
                during=_range(held),
                seat=seat,
                status="booked",
                confirmed_at=None,
                sync_state=_pending(current),
            )

        row = _on_a_free_seat(uow, rule, claim, first=current.seat)
        uow.audit(
            "reschedule",
            "appointment",
            row.id,
            changes={"from": current.starts_at.isoformat(), "to": starts_at.isoformat(), "via": via},
        )
        _changed(uow, row, "moved")
        return row

    def cancel(self, uow: UnitOfWork, current: db.AppointmentRow, *, via: str) -> db.AppointmentRow:
        _active(current)
        row = db.update_appointment(
            uow.conn,
            current.id,
            status="cancelled",
            cancelled_at=self._clock(),
            cancelled_via=via,
            sync_state=_pending(current) if via != "google" else current.sync_state,
        )
        uow.audit("cancel", "appointment", row.id, changes={"via": via})
        _changed(uow, row, "cancelled")
        return row

    def confirm(self, uow: UnitOfWork, current: db.AppointmentRow, *, via: str) -> db.AppointmentRow:
        _active(current)
        if current.status == "confirmed":
            return current
        row = db.update_appointment(
            uow.conn, current.id, status="confirmed", confirmed_at=self._clock(), sync_state=_pending(current)
        )
        uow.audit("confirm", "appointment", row.id, changes={"via": via})
        _changed(uow, row, "confirmed")
        return row

    def _check_time(self, shop: ShopRules, rule: rules.TypeRule, starts_at: datetime) -> None:
        if starts_at.utcoffset() is None:
            raise _invalid("starts_at", "Informe a data e hora com o fuso horário.")
        now = self._clock()
        if starts_at <= now:
            raise _invalid("starts_at", "O horário já passou.")
        if starts_at > now + timedelta(days=MAX_AHEAD_DAYS):
            raise _invalid("starts_at", "No máximo um ano à frente.")
        ends_at = starts_at + timedelta(minutes=rule.duration_min)
        if not rules.within_hours(starts_at, ends_at, tz=shop.timezone, hours=shop.hours):
            raise _invalid("starts_at", "Fora do horário de atendimento da loja.")
        opening_day = _opening_day(shop, starts_at)
        if opening_day in shop.closed_dates:
            raise _invalid("starts_at", "A loja está fechada nesta data.")
        holiday = holidays.is_holiday(opening_day, optional=shop.observe_optional_holidays)
        if holiday:
            raise _invalid("starts_at", f"Feriado: {holiday}.")


def _opening_day(shop: ShopRules, starts_at: datetime) -> Any:
    """The local date whose opening interval holds ``starts_at`` (the day before, after midnight in
    an interval that started the evening before)."""
    local = starts_at.astimezone(ZoneInfo(shop.timezone))
    day = local.date()
    before = day - timedelta(days=1)
    if rules.within_hours(
        starts_at, starts_at + timedelta(minutes=1), tz=shop.timezone, hours=_only(shop.hours, day)
    ):
        return day
    if rules.within_hours(
        starts_at, starts_at + timedelta(minutes=1), tz=shop.timezone, hours=_only(shop.hours, before)
    ):
        return before
    return day


def _only(hours: dict[str, Any], day: Any) -> dict[str, Any]:
    key = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[day.weekday()]
    return {key: hours.get(key, [])}


# A seat's insert cancelled as a deadlock is tried again this many times in all.
DEADLOCK_RETRIES = 5


def _on_a_free_seat(
    uow: UnitOfWork,
    rule: rules.TypeRule,
    attempt: Callable[[int], db.AppointmentRow],
    *,
    first: int | None = None,
) -> db.AppointmentRow:
    """The first seat ``attempt`` gets (each try in a savepoint: a refused one leaves the unit of
    work usable); 409 ``slot_full`` when the exclusion constraint refuses every seat.

    Two bookings at once can each wait on the other's new row (a seat's constraint and the
    customer's): PostgreSQL then cancels one of them as a deadlock. Rolled back to its savepoint, that
    one holds nothing any more; it tries the same seat again, once the other has gone on."""
    import psycopg

    seats = list(range(1, rule.capacity + 1))
    if first is not None and first in seats:
        seats.remove(first)
        seats.insert(0, first)
    conn_error: Exception | None = None
    for seat in seats:
        for _ in range(DEADLOCK_RETRIES):
            try:
                with uow.conn.transaction():
                    return attempt(seat)
            except psycopg.errors.DeadlockDetected as exc:
                conn_error = exc
                continue
            except psycopg.errors.ExclusionViolation as exc:
                conn_error = exc
                break
        else:
            raise conn_error if conn_error is not None else SlotFullError()
    raise SlotFullError() from conn_error


def _range(interval: rules.Interval) -> Any:
    from psycopg.types.range import Range

    return Range(interval.start, interval.end, "[)")


def _pending(current: db.AppointmentRow) -> str:
    return "off" if current.sync_state == "off" else "pending"


def _active(current: db.AppointmentRow) -> None:
    if current.status not in db.ACTIVE:
        raise AppointmentClosedError(details={"status": current.status})


def _changed(uow: UnitOfWork, row: db.AppointmentRow, change: str) -> None:
    uow.emit(
        "AppointmentChanged",
        {
            "appointment_id": str(row.id),
            "change": change,
            "type": row.type,
            "status": row.status,
            "starts_at": row.starts_at.isoformat(),
            "customer_id": str(row.customer_id),
        },
    )


def _address_text(address: Any) -> str | None:
    if not isinstance(address, dict) or not address.get("street"):
        return None
    parts = [f"{address.get('street')}, {address.get('number', 's/n')}"]
    for key in ("complement", "district"):
        if address.get(key):
            parts.append(str(address[key]))
    parts.append(f"{address.get('city', '')}/{address.get('state', '')}")
    return " \u2013 ".join(p for p in parts if p)  # an en dash, as Brazilian addresses set it


class AppointmentsService:
    """``/appointments`` for staff, and the public link's actions."""

    def __init__(
        self,
        work: UnitsOfWork,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        open_order: Callable[[UnitOfWork, dict[str, Any]], OrderRow] | None = None,
    ) -> None:
        self._work = work
        self._clock = clock
        self.rules = Appointments(clock)
        self._open_order = open_order

    def create(self, identity: Identity, fields: dict[str, Any]) -> AppointmentView:
        with self._work(identity, Permission.APPOINTMENTS_WRITE) as uow:
            shop = load(uow)
            given = dict(fields)
            type_ = given.pop("type", None) or given.pop("type_")
            row = self.rules.book(uow, shop, type_=type_, source="staff", **given)
            return AppointmentView(row, shop.timezone, [])

    def get(self, identity: Identity, appointment_id: UUID) -> AppointmentView:
        with self._work(identity, Permission.APPOINTMENTS_READ) as uow:
            row = found(db.get_appointment(uow.conn, appointment_id), _NOT_FOUND)
            return AppointmentView(row, load(uow).timezone, db.reminders_of(uow.conn, row.id))

    def list(
        self,
        identity: Identity,
        *,
        start: datetime,
        end: datetime,
        status: str | None,
        customer_id: UUID | None,
    ) -> tuple[list[db.AppointmentRow], str]:
        if end <= start:
            raise _invalid("to", "deve ser depois de from")
        if end - start > timedelta(days=92):
            raise _invalid("to", "no máximo 92 dias")
        with self._work(identity, Permission.APPOINTMENTS_READ) as uow:
            rows = db.list_appointments(
                uow.conn, start=start, end=end, status=status, customer_id=customer_id
            )
            return rows, load(uow).timezone

    def change(
        self,
        identity: Identity,
        appointment_id: UUID,
        *,
        version: int,
        action: str,
        starts_at: datetime | None = None,
        notes: str | None = None,
    ) -> AppointmentView:
        """``action``: reschedule (``starts_at``), cancel, confirm, no_show, notes. 409 on a stale
        ``version``; 409 ``appointment_closed`` on a cancelled or finished one."""
        with self._work(identity, Permission.APPOINTMENTS_WRITE) as uow:
            current = found(db.get_appointment(uow.conn, appointment_id, lock=True), _NOT_FOUND)
            if current.version != version:
                raise ConflictError(_STALE, details={"current_version": current.version})
            shop = load(uow)
            row = self._apply(uow, shop, current, action, starts_at, notes)
            return AppointmentView(row, shop.timezone, db.reminders_of(uow.conn, row.id))

    def _apply(
        self,
        uow: UnitOfWork,
        shop: ShopRules,
        current: db.AppointmentRow,
        action: str,
        starts_at: datetime | None,
        notes: str | None,
    ) -> db.AppointmentRow:
        match action:
            case "reschedule":
                if starts_at is None:
                    raise _invalid("starts_at", "Informe o novo horário.")
                return self.rules.move(uow, shop, current, starts_at, via="staff")
            case "cancel":
                return self.rules.cancel(uow, current, via="staff")
            case "confirm":
                return self.rules.confirm(uow, current, via="staff")
            case "no_show":
                _active(current)
                if current.starts_at > self._clock():
                    raise ConflictError(
                        "Só é possível registrar falta depois do horário marcado.",
                        details={"starts_at": current.starts_at.isoformat()},
                    )
                row = db.update_appointment(
                    uow.conn, current.id, status="no_show", no_show_at=self._clock(), bump=False
                )
                uow.audit("no_show", "appointment", row.id)
                _changed(uow, row, "no_show")
                return row
            case "notes":
                row = db.update_appointment(uow.conn, current.id, notes=notes, sync_state=_pending(current))
                uow.audit("update", "appointment", row.id, changes={"notes": notes})
                _changed(uow, row, "updated")
                return row
        raise _invalid("action", "Ação desconhecida.")

    def check_in(
        self, identity: Identity, appointment_id: UUID, *, version: int, device_id: UUID | None, problem: str
    ) -> tuple[db.AppointmentRow, OrderRow, str]:
        """The customer arrived for a drop-off: the order is opened (intake, as ``POST /orders``) and
        linked, the appointment done."""
        assert self._open_order is not None
        with self._work(identity, Permission.ORDERS_WRITE) as uow:
            current = found(db.get_appointment(uow.conn, appointment_id, lock=True), _NOT_FOUND)
            if current.version != version:
                raise ConflictError(_STALE, details={"current_version": current.version})
            _active(current)
            if current.type != "drop_off":
                raise ConflictError("Só uma entrega de aparelho abre uma ordem de serviço.")
            if current.order_id is not None:
                raise ConflictError("Este agendamento já tem uma ordem de serviço.")
            device = device_id or current.device_id
            if device is None:
                raise _invalid("device_id", "Informe o aparelho que o cliente trouxe.")
            order = self._open_order(
                uow, {"customer_id": current.customer_id, "device_id": device, "reported_problem": problem}
            )
            row = db.update_appointment(
                uow.conn, current.id, status="done", order_id=order.id, device_id=device, bump=False
            )
            uow.audit("check_in", "appointment", row.id, changes={"order_id": str(order.id)})
            _changed(uow, row, "done")
            return row, order, load(uow).timezone

    # --- the public link ------------------------------------------------------------------------
    def public(self, token: str) -> tuple[db.AppointmentRow, str, str]:
        """The appointment behind a public link, the shop's name and time zone (404 otherwise)."""
        tenant = public_links.token_tenant(token)
        if tenant is None:
            raise NotFoundError(_NOT_FOUND)
        with self._work(PublicActor(tenant_id=tenant, label="Cliente (link)")) as uow:
            row = found(db.by_token(uow.conn, token), _NOT_FOUND)
            name = uow.conn.execute("select name from tenants where id = %s", (tenant,)).fetchone()
            return row, (name[0] if name else ""), load(uow).timezone

    def public_action(self, token: str, action: str) -> db.AppointmentRow:
        tenant = public_links.token_tenant(token)
        if tenant is None:
            raise NotFoundError(_NOT_FOUND)
        with self._work(PublicActor(tenant_id=tenant, label="Cliente (link)")) as uow:
            current = found(db.by_token(uow.conn, token, lock=True), _NOT_FOUND)
            if current.starts_at <= self._clock():
                raise AppointmentClosedError("Este agendamento já passou.")
            if action == "confirm":
                return self.rules.confirm(uow, current, via="public")
            if action == "cancel":
                return self.rules.cancel(uow, current, via="public")
        raise AppError("Ação desconhecida.")
