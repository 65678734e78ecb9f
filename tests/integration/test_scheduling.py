"""Scheduling through the API handler against PostgreSQL (issue 12 §2-§4): rules, availability,
booking with the database's capacity (also under truly parallel requests), reschedule, cancel,
check-in, the public link, reminders once per offset, and booking on WhatsApp.

Times are chosen relative to the real clock (a weekday a week or more ahead, never a holiday), so
the suite passes at any hour; the bot's world has its own fixed clock."""

from __future__ import annotations

import threading
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import PgDatabase
from tests.integration.conftest import Client, FakeBus, Shop, signup
from tests.integration.shop_helpers import customer_and_device

SP = ZoneInfo("America/Sao_Paulo")


def future_weekday(weekday: int = 2, *, weeks: int = 1) -> date:
    """A ``weekday`` (0 = Monday) at least ``weeks`` weeks ahead that is no holiday."""
    from assistec.domain.holidays import is_holiday

    day = datetime.now(SP).date() + timedelta(days=7 * weeks)
    while day.weekday() != weekday or is_holiday(day):
        day += timedelta(days=1)
    return day


def at(day: date, hhmm: str) -> str:
    hour, minute = (int(x) for x in hhmm.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=SP).isoformat()


def book(client: Client, shop: Shop, customer_id: str, starts_at: str, **extra: Any) -> tuple[int, Any]:
    status, body, _ = client.call(
        "POST",
        "/appointments",
        shop.access_token,
        body={"type": "drop_off", "starts_at": starts_at, "customer_id": customer_id, **extra},
    )
    return status, body


def settings(client: Client, shop: Shop, **changes: Any) -> dict[str, Any]:
    status, current, _ = client.call("GET", "/settings/scheduling", shop.access_token)
    assert status == 200, current
    body = {
        "version": current["version"],
        "types": current["types"],
        "step_min": current["step_min"],
        "min_notice_min": current["min_notice_min"],
        "horizon_days": current["horizon_days"],
        "closed_dates": current["closed_dates"],
        "observe_optional_holidays": current["observe_optional_holidays"],
        "reminder_offsets": current["reminder_offsets"],
        "booking_hours": current["booking_hours"],
        **changes,
    }
    status, saved, _ = client.call("PUT", "/settings/scheduling", shop.access_token, body=body)
    assert status == 200, saved
    return saved


def test_defaults_then_saved_rules_with_optimistic_locking(client: Client) -> None:
    shop = signup(client)
    status, body, _ = client.call("GET", "/settings/scheduling", shop.access_token)
    assert status == 200, body
    assert body["version"] == 0
    assert body["types"]["drop_off"] == {"duration_min": 15, "buffer_min": 0, "capacity": 2, "enabled": True}
    assert body["reminder_offsets"] == [1440, 120]
    assert body["hours"]["mon"] == [["08:00", "18:00"]]
    saved = settings(client, shop, types={"visit": {"duration_min": 90, "buffer_min": 30, "capacity": 2}})
    assert saved["version"] == 1
    assert saved["types"]["visit"]["duration_min"] == 90
    stale = {**{k: saved[k] for k in ("types", "step_min", "min_notice_min", "horizon_days", "closed_dates",
                                      "observe_optional_holidays", "reminder_offsets", "booking_hours")},
             "version": 0}  # fmt: skip
    status, body, _ = client.call("PUT", "/settings/scheduling", shop.access_token, body=stale)
    assert (status, body["details"]["current_version"]) == (409, 1)
    status, body, _ = client.call(
        "PUT", "/settings/scheduling", shop.access_token, body={**stale, "version": 1, "step_min": "30"}
    )
    assert status == 422, body


def test_availability_counts_capacity_and_closed_dates(client: Client) -> None:
    shop = signup(client)
    customer_id, _ = customer_and_device(client, shop)
    day = future_weekday()
    window = {"from": at(day, "00:00"), "to": at(day + timedelta(days=1), "00:00"), "type": "drop_off"}
    status, body, _ = client.call("GET", "/availability", shop.access_token, query=window)
    assert status == 200, body
    assert body["google"] == "not_connected"
    starts = [s["start"] for s in body["slots"]]
    assert starts[0] == at(day, "08:00")
    assert len(starts) == 20
    assert body["slots"][0]["free"] == 2
    assert book(client, shop, customer_id, at(day, "08:00"))[0] == 201
    status, body, _ = client.call("GET", "/availability", shop.access_token, query=window)
    assert body["slots"][0] == {"start": at(day, "08:00"), "end": at(day, "08:15"), "free": 1}
    assert book(client, shop, customer_id, at(day, "08:00"))[0] == 201
    status, body, _ = client.call("GET", "/availability", shop.access_token, query=window)
    assert body["slots"][0]["start"] == at(day, "08:30")
    status, body = book(client, shop, customer_id, at(day, "08:00"))
    assert (status, body["code"]) == (409, "slot_full")
    settings(client, shop, closed_dates=[day.isoformat()])
    status, body, _ = client.call("GET", "/availability", shop.access_token, query=window)
    assert body["slots"] == []
    status, body = book(client, shop, customer_id, at(day, "10:00"))
    assert (status, body["details"][0]["field"]) == (422, "starts_at")


def test_bad_bookings_are_refused_and_change_nothing(client: Client, database: PgDatabase) -> None:
    import psycopg

    shop = signup(client)
    customer_id, device_id = customer_and_device(client, shop)
    other = signup(client)
    foreign_customer, _ = customer_and_device(client, other)
    day = future_weekday()
    cases = [
        ({"starts_at": at(day, "07:00")}, 422),  # before opening
        ({"starts_at": at(day - timedelta(days=day.weekday() + 1 - 7), "10:00")}, 422),  # a Sunday
        ({"starts_at": "2020-01-08T10:00:00-03:00"}, 422),  # past
        ({"starts_at": at(day, "10:00"), "customer_id": foreign_customer}, 422),
        ({"starts_at": at(day, "10:00"), "type": "visit"}, 422),  # no address anywhere
        ({"starts_at": at(day, "10:00"), "type": "lunch"}, 422),
        ({"starts_at": "amanhã"}, 422),
        ({"starts_at": "9999-12-31T23:59:00Z"}, 422),  # no arithmetic past the calendar's end
        ({"starts_at": at(day + timedelta(days=7 * 60), "10:00")}, 422),  # more than a year ahead
    ]
    for extra, expected in cases:
        fields = {"customer_id": customer_id, "starts_at": at(day, "10:00"), **extra}
        status, body = book(client, shop, fields.pop("customer_id"), fields.pop("starts_at"), **fields)
        assert status == expected, (extra, body)
        assert body["message"]
    with psycopg.connect(database.superuser_url) as conn:
        count = conn.execute("select count(*) from appointments where tenant_id = %s", (shop.tenant_id,))
        assert count.fetchone()[0] == 0
    status, visit = book(
        client, shop, customer_id, at(day, "14:00"), type="visit", address="Rua Augusta, 100, São Paulo",
        device_id=device_id,
    )  # fmt: skip
    assert status == 201, visit
    assert visit["sync_state"] == "off"  # no Google connected
    assert visit["ends_at"] == at(day, "15:00")
    far = {"from": "9999-12-30T00:00:00Z", "to": "9999-12-31T00:00:00Z", "type": "visit"}
    status, body, _ = client.call("GET", "/availability", shop.access_token, query=far)
    assert (status, body["details"][0]["field"]) == (422, "from")


def test_twenty_parallel_bookings_of_the_last_seat_get_exactly_the_capacity(
    client: Client, database: PgDatabase
) -> None:
    from assistec.db.connection import Database
    from assistec.domain.permissions import Role
    from assistec.domain.tokens import Identity
    from assistec.errors import ConflictError
    from assistec.services.outbox import OutboxRelay
    from assistec.services.scheduling.appointments import AppointmentsService
    from assistec.services.unit_of_work import UnitsOfWork
    from assistec.settings import DatabaseSettings

    shop = signup(client)
    settings(client, shop, types={"drop_off": {"duration_min": 30, "buffer_min": 0, "capacity": 3}})
    customers = [customer_and_device(client, shop)[0] for _ in range(4)]
    day = future_weekday()
    starts = datetime.fromisoformat(at(day, "09:00"))
    # Overlapping, not identical: 08:45 holds 08:45-09:15, so 09:00 has two seats left.
    assert book(client, shop, customers[0], at(day, "08:45"))[0] == 201
    identity = Identity(tenant_id=UUID(shop.tenant_id), user_id=UUID(shop.owner_id), role=Role.OWNER)
    outcomes: list[str] = []
    barrier = threading.Barrier(20)

    def attempt(i: int) -> None:
        db = Database(DatabaseSettings(database_url=database.app_url, db_sslmode="disable"))  # type: ignore[call-arg]
        service = AppointmentsService(UnitsOfWork(db, OutboxRelay(db, FakeBus())))
        barrier.wait()
        try:
            service.create(
                identity,
                {"type": "drop_off", "starts_at": starts, "customer_id": UUID(customers[1 + i % 3])},
            )
            outcomes.append("booked")
        except ConflictError as exc:
            outcomes.append(exc.code)
        finally:
            db.close()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["booked"] * 2 + ["slot_full"] * 18
    import psycopg

    with psycopg.connect(database.superuser_url) as conn:
        rows = conn.execute(
            "select seat from appointments where tenant_id = %s and status = 'booked' order by seat",
            (shop.tenant_id,),
        ).fetchall()
    assert [r[0] for r in rows] == [1, 2, 3]


def test_reschedule_cancel_confirm_and_no_show(client: Client, bus: FakeBus) -> None:
    shop = signup(client)
    customer_id, device_id = customer_and_device(client, shop)
    day = future_weekday()
    status, appt = book(client, shop, customer_id, at(day, "10:00"), device_id=device_id)
    assert status == 201, appt

    def change(body: dict[str, Any]) -> tuple[int, Any]:
        status, answer, _ = client.call(
            "POST", f"/appointments/{appt['id']}/changes", shop.access_token, body=body
        )
        return status, answer

    status, moved = change(
        {"version": appt["version"], "action": "reschedule", "starts_at": at(day, "11:00")}
    )
    assert status == 200, moved
    assert moved["starts_at"] == at(day, "11:00")
    assert moved["version"] == appt["version"] + 1
    status, body = change({"version": appt["version"], "action": "confirm"})
    assert (status, body["details"]["current_version"]) == (409, moved["version"])
    status, body = change({"version": moved["version"], "action": "no_show"})
    assert status == 409, body  # not before its time
    status, confirmed = change({"version": moved["version"], "action": "confirm"})
    assert confirmed["status"] == "confirmed"
    status, cancelled = change({"version": confirmed["version"], "action": "cancel"})
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancelled_via"] == "staff"
    status, body = change({"version": cancelled["version"], "action": "confirm"})
    assert (status, body["code"]) == (409, "appointment_closed")
    # The seat is free again
    assert book(client, shop, customer_id, at(day, "11:00"))[0] == 201
    changes = [e["Detail"] for e in bus.entries if e["DetailType"] == "AppointmentChanged"]
    assert [c for c in changes if '"booked"' in c or '"moved"' in c or '"cancelled"' in c]


def test_check_in_opens_the_order(client: Client) -> None:
    shop = signup(client)
    customer_id, device_id = customer_and_device(client, shop)
    status, appt = book(client, shop, customer_id, at(future_weekday(), "09:00"), device_id=device_id)
    status, body, _ = client.call(
        "POST",
        f"/appointments/{appt['id']}/check-in",
        shop.access_token,
        body={"version": appt["version"], "reported_problem": "Tela quebrada"},
    )
    assert status == 200, body
    assert body["appointment"]["status"] == "done"
    assert body["order_number"] == 1
    status, order, _ = client.call("GET", f"/orders/{body['order_id']}", shop.access_token)
    assert order["device_id"] == device_id


def page(client: Client, method: str, path: str, **kwargs: Any) -> tuple[int, str]:
    from tests.integration.conftest import rest_event

    response = client.invoke(rest_event(method, path, **kwargs))
    return int(response["statusCode"]), str(response.get("body") or "")


def test_the_public_link_confirms_and_cancels(client: Client) -> None:
    shop = signup(client)
    customer_id, _ = customer_and_device(client, shop)
    status, appt = book(client, shop, customer_id, at(future_weekday(), "09:00"))
    token = appt["public_url_token"]
    status, html = page(client, "GET", f"/public/appointments/{token}")
    assert status == 200
    assert "Agendado" in html
    form = {"content-type": "application/x-www-form-urlencoded"}
    status, html = page(
        client, "POST", f"/public/appointments/{token}/action", raw_body="action=confirm", headers=form
    )
    assert status == 200
    assert "Confirmado" in html, html
    status, html = page(
        client, "POST", f"/public/appointments/{token}/action", raw_body="action=cancel", headers=form
    )
    assert status == 200
    assert "Cancelado" in html
    status, html = page(
        client, "POST", f"/public/appointments/{token}/action", raw_body="action=confirm", headers=form
    )
    assert status == 409
    status, html = page(client, "GET", f"/public/appointments/{token[:-3]}xyz")
    assert status == 404


def test_reminders_go_once_per_offset_by_email_without_whatsapp(client: Client, api_root: Any) -> None:
    from assistec.services.scheduling.reminders import Reminders
    from tests.integration.billing_fixtures import FakeMailer

    shop = signup(client)
    status, customer, _ = client.call(
        "POST",
        "/customers",
        shop.access_token,
        body={"name": "Bruno Lima", "phone": "11 91234-0000", "email": "bruno@exemplo.com.br"},
    )
    day = future_weekday()
    status, appt = book(client, shop, customer["id"], at(day, "10:00"))
    assert status == 201, appt
    mailer = FakeMailer()
    api_root.mailer = mailer  # the SES transport under the shop's mail module
    sent: list[Any] = []

    class Queue:
        def outbound(self, tenant_id: UUID, message_id: UUID) -> None:
            sent.append(message_id)

    reminders = Reminders(
        api_root.database,
        api_root.work,
        lambda: Queue(),
        lambda: api_root.mail,
        lambda: "https://api.example",
    )
    starts = datetime.fromisoformat(appt["starts_at"])

    def to_bruno() -> list[tuple[str, str, str]]:
        # The suite's other shops share the database: only this customer's mail counts here.
        return [m for m in mailer.sent if m[0] == "bruno@exemplo.com.br"]

    reminders.run(starts - timedelta(hours=25))
    assert to_bruno() == []
    reminders.run(starts - timedelta(hours=23))
    assert len(to_bruno()) == 1
    reminders.run(starts - timedelta(hours=22))
    assert len(to_bruno()) == 1  # never twice for the 24 h reminder
    reminders.run(starts - timedelta(minutes=90))
    assert len(to_bruno()) == 2
    reminders.run(starts + timedelta(minutes=1))
    assert len(to_bruno()) == 2  # past
    assert "/public/appointments/" in to_bruno()[0][2]
    status, body, _ = client.call("GET", f"/appointments/{appt['id']}", shop.access_token)
    assert [(r["offset_min"], r["channel"]) for r in body["reminders"]] == [(1440, "email"), (120, "email")]
    assert not sent


@pytest.fixture
def world(api_root: Any, api: Any) -> Any:
    from tests.integration.whatsapp_helpers import build_world

    return build_world(api_root, api)


def test_a_customer_books_moves_and_cancels_on_whatsapp(client: Client, world: Any) -> None:
    from tests.integration.whatsapp_helpers import connect_number

    shop = signup(client)
    instance = connect_number(client, shop, world)
    phone = "5511987650001"
    status, customer, _ = client.call(
        "POST", "/customers", shop.access_token, body={"name": "Carla Dias", "phone": "(11) 98765-0001"}
    )
    assert status == 201, customer

    def say(text: str) -> str:
        world.sim.inject_message(instance["name"], phone, text)
        world.drain()
        return world.texts_to(phone)[-1]

    offer = say("quero agendar a entrega do aparelho")
    assert "1. " in offer, offer
    assert "Responda com o número" in offer
    # World's clock: Wed 2026-11-25 14:00 in São Paulo; the first slot is an hour's notice later.
    assert "qua., 25/11 às 15:00" in offer
    done = say("2")
    assert done.startswith("Agendado!"), done
    assert "/public/appointments/" in done
    status, listed, _ = client.call(
        "GET",
        "/appointments",
        shop.access_token,
        query={"from": "2026-11-25T00:00:00-03:00", "to": "2026-12-10T00:00:00-03:00"},
    )
    assert [a["source"] for a in listed["items"]] == ["whatsapp"]
    booked = listed["items"][0]
    moved_offer = say("quero remarcar")
    assert "1. " in moved_offer
    moved = say("1")
    assert moved.startswith("Remarcado!"), moved
    assert say("confirmo").startswith("Obrigado!")
    assert "cancelamos" in say("cancelar")
    status, after, _ = client.call("GET", f"/appointments/{booked['id']}", shop.access_token)
    assert after["status"] == "cancelled"
    assert after["cancelled_via"] == "whatsapp"
