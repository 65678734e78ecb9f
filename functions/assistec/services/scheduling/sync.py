"""The mirror of appointments in the shop's Google Calendar, both ways.

Out (``push``): after each change (``AppointmentChanged`` through the calendar queue, and the
scheduled sweep of what is still pending or failed) the appointment's event is written with its
deterministic id: inserted, or patched when it exists (a retried insert that answers 409 "duplicate"
means the first one landed), deleted when cancelled. Nothing is held open while Google is called;
the result is written only if the appointment did not change meanwhile (else it stays pending and
its own event pushes it again). A failure is recorded on the appointment (``sync_state`` failed,
the error, the attempts) and retried by the sweep.

Back (``pull``, on a schedule): the calendar's changes since the last sync token. Our events moved in
Google move the appointment (when the new time has room; otherwise ours is pushed back); our events
deleted in Google cancel it. A sync token Google no longer accepts (410) starts a full sync."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from assistec.db import customers as customers_db
from assistec.db import scheduling as db
from assistec.errors import AppError
from assistec.observability import logger
from assistec.services.audit import SystemActor
from assistec.services.scheduling.appointments import TYPE_NAMES, Appointments
from assistec.services.scheduling.rules import load

if TYPE_CHECKING:
    from assistec.services.scheduling.google import GoogleAccess

_MAX_ERROR = 500


@dataclass(frozen=True, slots=True)
class PullResult:
    seen: int
    moved: int
    cancelled: int
    reverted: int


class CalendarSync:
    def __init__(
        self, google: GoogleAccess, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._google = google
        self._work = google.work
        self._clock = clock

    # --- out ------------------------------------------------------------------------------------
    def push(self, tenant_id: UUID, appointment_id: UUID) -> str:
        """Mirror one appointment; the outcome (synced, off, failed, reconnect, gone, changed)."""
        from assistec.integrations.google_calendar import GoogleError, GoogleReconnectNeeded

        actor = SystemActor(tenant_id=tenant_id)
        with self._work(actor) as uow:
            row = db.get_appointment(uow.conn, appointment_id)
            if row is None:
                return "gone"
            if row.sync_state == "synced" and row.synced_version == row.version:
                return "synced"
            shop = load(uow)
            customer = customers_db.get_customer(uow.conn, row.customer_id)
            shop_name = uow.conn.execute("select name from tenants where id = %s", (tenant_id,)).fetchone()
        body = _event(
            row, shop.timezone, customer.name if customer else "Cliente", shop_name[0] if shop_name else ""
        )
        try:
            with self._google.calendar(tenant_id) as found:
                if found is None:
                    self._record(tenant_id, row, state="off", error=None)
                    return "off"
                client, connection = found
                calendar_id = row.google_calendar_id or connection.calendar_id
                if row.status in db.ACTIVE:
                    try:
                        client.insert_event(calendar_id, body)
                    except GoogleError as exc:
                        if exc.code != "duplicate":
                            raise
                        existing = client.get_event(calendar_id, row.google_event_id)
                        if existing is not None and existing.get("status") == "cancelled":
                            # The owner deleted our event in Google: the pull cancels the
                            # appointment (their decision), it is not brought back here.
                            return self._record(tenant_id, row, state="synced", error=None)
                        body.pop("id", None)
                        client.patch_event(calendar_id, row.google_event_id, body)
                elif row.google_calendar_id is not None or row.synced_version is not None:
                    client.delete_event(calendar_id, row.google_event_id)
        except GoogleReconnectNeeded:
            self._record(tenant_id, row, state="failed", error="Reconecte a agenda do Google.")
            return "reconnect"
        except (GoogleError, OSError) as exc:
            self._record(tenant_id, row, state="failed", error=_describe(exc))
            return "failed"
        return self._record(tenant_id, row, state="synced", error=None, calendar_id=calendar_id)

    def _record(
        self,
        tenant_id: UUID,
        seen: db.AppointmentRow,
        *,
        state: str,
        error: str | None,
        calendar_id: str | None = None,
    ) -> str:
        with self._work(SystemActor(tenant_id=tenant_id)) as uow:
            now = db.get_appointment(uow.conn, seen.id, lock=True)
            if now is None:
                return "gone"
            if now.version != seen.version:
                return "changed"  # its own event pushes the newer version
            changes: dict[str, Any] = {
                "sync_state": state,
                "sync_error": error[:_MAX_ERROR] if error else None,
                "sync_attempts": 0 if state == "synced" else now.sync_attempts + 1,
            }
            if state == "synced":
                changes["synced_version"] = now.version
                if calendar_id is not None:
                    changes["google_calendar_id"] = calendar_id
            db.update_appointment(uow.conn, now.id, bump=False, **changes)
        return state

    # --- back -----------------------------------------------------------------------------------
    def pull(self, tenant_id: UUID) -> PullResult | None:
        """Apply what changed in the shop's calendar since the last sync; None when not connected."""
        from assistec.integrations.google_calendar import GoogleError, GoogleReconnectNeeded, SyncTokenExpired

        try:
            with self._google.calendar(tenant_id) as found:
                if found is None:
                    return None
                client, connection = found
                try:
                    events, token = client.list_changes(connection.calendar_id, connection.sync_token)
                except SyncTokenExpired:
                    events, token = client.list_changes(
                        connection.calendar_id, None, time_min=self._clock() - timedelta(days=1)
                    )
        except GoogleReconnectNeeded:
            return None
        except (GoogleError, OSError) as exc:
            with self._work(SystemActor(tenant_id=tenant_id)) as uow:
                db.update_connection(uow.conn, last_error=_describe(exc))
            raise
        moved = cancelled = reverted = 0
        rules = Appointments(self._clock)
        with self._work(SystemActor(tenant_id=tenant_id)) as uow:
            shop = load(uow)
            for event in events:
                row = db.by_event_id(uow.conn, str(event.get("id", "")), lock=True)
                if row is None or row.status not in db.ACTIVE:
                    continue
                if event.get("status") == "cancelled":
                    rules.cancel(uow, row, via="google")
                    cancelled += 1
                    continue
                start = _when(event.get("start"))
                if start is None or start == row.starts_at:
                    continue
                try:
                    with uow.conn.transaction():
                        rules.move(uow, shop, row, start, via="google")
                    moved += 1
                except AppError as exc:
                    # No room (or out of hours) at the time chosen in Google: ours stands and is
                    # written back over the event.
                    logger.info("google move refused", extra={"reason": exc.code})
                    db.update_appointment(
                        uow.conn, row.id, sync_state="pending", sync_error=exc.message[:_MAX_ERROR]
                    )
                    uow.emit("AppointmentChanged", {"appointment_id": str(row.id), "change": "reverted"})
                    reverted += 1
            db.update_connection(uow.conn, sync_token=token, synced_at=self._clock(), last_error=None)
        return PullResult(len(events), moved, cancelled, reverted)


def _event(row: db.AppointmentRow, tz: str, customer: str, shop: str) -> dict[str, Any]:
    zone = ZoneInfo(tz)
    title = f"{TYPE_NAMES.get(row.type, 'Agendamento')} \u2013 {customer}"  # an en dash
    lines = [f"Cliente: {customer}"]
    if row.notes:
        lines.append(row.notes)
    lines.append(f"Agendado pelo assistec ({shop}).")
    event: dict[str, Any] = {
        "id": row.google_event_id,
        "summary": title,
        "description": "\n".join(lines),
        "start": {"dateTime": row.starts_at.astimezone(zone).isoformat(), "timeZone": tz},
        "end": {"dateTime": row.ends_at.astimezone(zone).isoformat(), "timeZone": tz},
        "extendedProperties": {
            "private": {"assistec_appointment": str(row.id), "assistec_tenant": str(row.tenant_id)}
        },
        "reminders": {"useDefault": True},
    }
    if row.address:
        event["location"] = row.address
    if row.status == "confirmed":
        event["summary"] = f"✔ {title}"
    return event


def _when(value: Any) -> datetime | None:
    if not isinstance(value, dict) or not value.get("dateTime"):
        return None
    try:
        moment = datetime.fromisoformat(str(value["dateTime"]).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.utcoffset() is not None else None


def _describe(exc: Exception) -> str:
    status = getattr(exc, "status", None)
    code = getattr(exc, "code", None)
    if status is not None:
        return f"Google respondeu {status} ({code or 'erro'})."
    return "Sem resposta do Google."
