"""Scheduling with the shop's Google Calendar (issue 12 §1, §3): the consent through the API (PKCE,
a one-time signed state), busy times blocking slots, appointments mirrored with deterministic ids
(never twice), changes made in Google coming back, a Google outage that never blocks a booking,
token rotation, ``invalid_grant`` → "reconnect Google" with one e-mail, and disconnect.

Google is the offline simulator (localstack/google_sim) through its in-process transport: real
answer shapes and scope checks, no network."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import httpx
import psycopg
import pytest

from tests.conftest import PgDatabase
from tests.integration.conftest import Client, FakeCipher, Shop, signup
from tests.integration.shop_helpers import customer_and_device
from tests.integration.test_scheduling import at, book, future_weekday, page


class World:
    def __init__(self, api_root: Any) -> None:
        from google_sim import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, GoogleSimulator

        from assistec.integrations.google_calendar import GoogleOAuthConfig
        from assistec.services.scheduling.availability import AvailabilityService
        from assistec.services.scheduling.google import GoogleAccess
        from assistec.services.scheduling.sync import CalendarSync
        from tests.integration.billing_fixtures import FakeMailer

        self.sim = GoogleSimulator()
        self.http = httpx.Client(transport=self.sim.transport())
        base = "https://google.sim"
        self.config = GoogleOAuthConfig.from_secret(
            {
                "client_id": DEFAULT_CLIENT_ID,
                "client_secret": DEFAULT_CLIENT_SECRET,
                "auth_uri": f"{base}/o/oauth2/v2/auth",
                "token_uri": f"{base}/token",
                "revoke_uri": f"{base}/revoke",
                "api_base": f"{base}/calendar/v3",
            }
        )
        self.mailer = FakeMailer()
        api_root.mailer = self.mailer  # the SES transport under the shop's mail module
        self.cipher = FakeCipher()
        self.access = GoogleAccess(
            api_root.work, lambda: self.cipher, lambda: self.config, lambda: self.http, lambda: api_root.mail
        )
        api_root.google_access = self.access
        self.sync = CalendarSync(self.access)
        self.availability = AvailabilityService(api_root.work, self.access)
        self.queued: list[tuple[UUID, UUID]] = []

    def push(self, items: list[tuple[UUID, UUID]]) -> None:  # the calendar queue
        self.queued.extend(items)

    def events(self, calendar_id: str) -> dict[str, Any]:
        """The calendar's live events by id."""
        return {i: e for i, e in self.sim.calendars[calendar_id].events.items() if not e.cancelled}


@pytest.fixture
def world(api_root: Any) -> World:
    return World(api_root)


def connect(client: Client, shop: Shop, world: World, **body: Any) -> dict[str, Any]:
    status, answer, _ = client.call("POST", "/integrations/google/connect", shop.access_token, body=body)
    assert status == 200, answer
    consent = world.http.get(answer["authorization_url"])
    assert consent.status_code == 302, consent.text
    location = urlsplit(consent.headers["location"])
    assert location.path.endswith("/integrations/google/callback")
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    status, html = page(client, "GET", "/integrations/google/callback", query=query)
    assert status == 200, html
    assert "Google Agenda conectada" in html
    status, connection, _ = client.call("GET", "/integrations/google", shop.access_token)
    assert connection["connected"] is True
    return {"query": query, "connection": connection}


def rows(database: PgDatabase, query: str, *params: Any) -> list[Any]:
    with psycopg.connect(database.superuser_url) as conn:
        return conn.execute(query, params).fetchall()


def test_the_consent_connects_once_and_only_owners_start_it(
    client: Client, world: World, database: PgDatabase
) -> None:
    shop = signup(client)
    done = connect(client, shop, world)
    assert done["connection"]["account_email"] == "owner@demo.assistec.local"
    assert done["connection"]["calendar_id"] == "owner@demo.assistec.local"
    # The state is good once: a replayed callback connects nothing
    status, html = page(client, "GET", "/integrations/google/callback", query=done["query"])
    assert status == 400
    assert "expirou ou já foi usado" in html
    # A forged or foreign state is refused the same way
    forged = {**done["query"], "state": done["query"]["state"][:-4] + "AAAA"}
    assert page(client, "GET", "/integrations/google/callback", query=forged)[0] == 400
    # Tokens are stored encrypted, never in clear
    (token_row,) = rows(
        database, "select refresh_token_enc from google_connections where tenant_id = %s", shop.tenant_id
    )
    stored = bytes(token_row[0])
    assert b"1//" not in stored  # the simulator's refresh tokens start like Google's
    # Only owners and admins connect the shop's Google
    status, user, _ = client.call(
        "POST",
        "/users",
        shop.access_token,
        body={
            "name": "Tec",
            "email": "tec-google@exemplo.com.br",
            "password": "senha-forte-123",
            "role": "technician",
        },
    )
    assert status == 201, user
    status, login, _ = client.call(
        "POST", "/auth/login", body={"email": "tec-google@exemplo.com.br", "password": "senha-forte-123"}
    )
    status, body, _ = client.call("POST", "/integrations/google/connect", login["access_token"], body={})
    assert status == 403
    # The calendars, then the choice
    status, listed, _ = client.call("GET", "/integrations/google/calendars", shop.access_token)
    assert status == 200, listed
    names = {c["name"] for c in listed["items"]}
    assert "Oficina" in names
    oficina = next(c["id"] for c in listed["items"] if c["name"] == "Oficina")
    status, chosen, _ = client.call(
        "PUT",
        "/integrations/google",
        shop.access_token,
        body={
            "version": done["connection"]["version"],
            "calendar_id": oficina,
            "busy_calendar_ids": [oficina, "owner@demo.assistec.local"],
        },
    )
    assert status == 200, chosen
    assert chosen["calendar_id"] == oficina
    status, body, _ = client.call(
        "PUT",
        "/integrations/google",
        shop.access_token,
        body={"version": done["connection"]["version"], "calendar_id": oficina, "busy_calendar_ids": []},
    )
    assert (status, body["details"]["current_version"]) == (409, chosen["version"])
    status, _body, _ = client.call(
        "PUT",
        "/integrations/google",
        shop.access_token,
        body={
            "version": chosen["version"],
            "calendar_id": oficina,
            "busy_calendar_ids": [f"c{i}" for i in range(51)],
        },
    )
    assert status == 422


def test_busy_times_block_slots_and_appointments_are_mirrored_once(
    client: Client, world: World, database: PgDatabase
) -> None:
    shop = signup(client)
    connect(client, shop, world)
    email = "owner@demo.assistec.local"
    day = future_weekday()
    # The owner's dentist, straight in Google
    world.sim.add_event(
        email,
        {
            "summary": "Dentista",
            "start": {"dateTime": at(day, "10:00")},
            "end": {"dateTime": at(day, "11:00")},
        },
    )
    window = {"from": at(day, "00:00"), "to": at(day + timedelta(days=1), "00:00"), "type": "drop_off"}
    status, body, _ = client.call("GET", "/availability", shop.access_token, query=window)
    assert status == 200, body
    assert body["google"] == "consulted"
    starts = {s["start"] for s in body["slots"]}
    assert at(day, "09:30") in starts
    assert at(day, "10:00") not in starts
    assert at(day, "10:30") not in starts
    assert at(day, "11:00") in starts
    customer_id, _ = customer_and_device(client, shop)
    status, appt = book(client, shop, customer_id, at(day, "14:00"))
    assert status == 201, appt
    assert appt["sync_state"] == "pending"
    tenant = UUID(shop.tenant_id)
    assert world.sync.push(tenant, UUID(appt["id"])) == "synced"
    events = world.events(email)
    assert appt["google_event_id"] in events
    event = events[appt["google_event_id"]]
    assert event.body["start"]["dateTime"].startswith(at(day, "14:00")[:16])
    # A retried push (the queue redelivers) changes nothing and makes no second event
    assert world.sync.push(tenant, UUID(appt["id"])) == "synced"
    assert len([e for e in world.events(email) if e.startswith("ast")]) == 1
    # Our own event does not block the second seat of its slot
    status, body, _ = client.call("GET", "/availability", shop.access_token, query=window)
    slot = next(s for s in body["slots"] if s["start"] == at(day, "14:00"))
    assert slot["free"] == 1
    # Rescheduled here: patched there (same id)
    status, moved, _ = client.call(
        "POST",
        f"/appointments/{appt['id']}/changes",
        shop.access_token,
        body={"version": appt["version"], "action": "reschedule", "starts_at": at(day, "15:00")},
    )
    assert status == 200, moved
    assert world.sync.push(tenant, UUID(appt["id"])) == "synced"
    assert (
        world.events(email)[appt["google_event_id"]]
        .body["start"]["dateTime"]
        .startswith(at(day, "15:00")[:16])
    )
    # Moved in Google by the owner: comes back on the next sync
    world.sim.owner_patch(
        email,
        appt["google_event_id"],
        {"start": {"dateTime": at(day, "16:00")}, "end": {"dateTime": at(day, "16:15")}},
    )
    pulled = world.sync.pull(tenant)
    assert pulled is not None
    assert pulled.moved == 1
    status, after, _ = client.call("GET", f"/appointments/{appt['id']}", shop.access_token)
    assert after["starts_at"] == at(day, "16:00")
    # Deleted in Google: cancelled here
    world.sim.owner_delete(email, appt["google_event_id"])
    pulled = world.sync.pull(tenant)
    assert pulled is not None
    assert pulled.cancelled == 1
    status, after, _ = client.call("GET", f"/appointments/{appt['id']}", shop.access_token)
    assert after["status"] == "cancelled"
    assert after["cancelled_via"] == "google"
    # An expired sync token starts a full sync, nothing lost
    world.sim.invalidate_sync_tokens()
    assert world.sync.pull(tenant) is not None


def test_a_google_outage_never_blocks_a_booking_and_the_sweep_retries(
    client: Client, world: World, database: PgDatabase
) -> None:
    from assistec.services.scheduling import jobs

    shop = signup(client)
    connect(client, shop, world)
    day = future_weekday()
    customer_id, _ = customer_and_device(client, shop)
    world.sim.set_outage(503, -1, "/calendar/v3")
    window = {"from": at(day, "00:00"), "to": at(day + timedelta(days=1), "00:00"), "type": "drop_off"}
    status, body, _ = client.call("GET", "/availability", shop.access_token, query=window)
    assert status == 200, body
    assert body["google"] == "unavailable"
    assert body["slots"]
    status, appt = book(client, shop, customer_id, at(day, "09:00"))
    assert status == 201, appt
    tenant = UUID(shop.tenant_id)
    assert world.sync.push(tenant, UUID(appt["id"])) == "failed"
    status, after, _ = client.call("GET", f"/appointments/{appt['id']}", shop.access_token)
    assert after["sync_state"] == "failed"
    assert "503" in after["sync_error"]
    world.sim.set_outage(503, 0, "/calendar/v3")
    # The sweep finds it once it is older than the retry delay
    with psycopg.connect(database.superuser_url) as conn:
        conn.execute(
            "update appointments set updated_at = now() - interval '10 minutes' where id = %s", (appt["id"],)
        )
    from assistec.wiring.api import root

    # A pass out of time takes no shop (they are first in line next time)
    late = jobs.calendar_pass(root().database, world, world.sync, world.availability, time_left_s=lambda: 5.0)
    assert late.shops == 0
    assert late.deferred >= 1
    result = jobs.calendar_pass(root().database, world, world.sync, world.availability)
    assert (tenant, UUID(appt["id"])) in world.queued
    assert result.requeued >= 1
    assert world.sync.push(tenant, UUID(appt["id"])) == "synced"


def test_rotation_is_saved_and_invalid_grant_asks_to_reconnect_once(
    client: Client, world: World, database: PgDatabase
) -> None:
    shop = signup(client)
    connect(client, shop, world)
    email = "owner@demo.assistec.local"
    tenant = UUID(shop.tenant_id)
    customer_id, _ = customer_and_device(client, shop)
    day = future_weekday()

    def stored_refresh() -> bytes:
        (row,) = rows(
            database, "select refresh_token_enc from google_connections where tenant_id = %s", shop.tenant_id
        )
        return bytes(row[0])

    before = stored_refresh()
    world.sim.rotation = True
    world.sim.expire_access_tokens(email)
    status, appt = book(client, shop, customer_id, at(day, "09:00"))
    assert world.sync.push(tenant, UUID(appt["id"])) == "synced"
    assert stored_refresh() != before  # the rotated token was saved (the old one is dead at Google)
    world.sim.expire_access_tokens(email)
    status, second = book(client, shop, customer_id, at(day, "10:00"))
    assert world.sync.push(tenant, UUID(second["id"])) == "synced"
    # Google drops the authorization (Testing-mode 7-day expiry, a revoke by the user)
    world.sim.invalidate_refresh_tokens(email)
    world.sim.expire_access_tokens(email)
    status, third = book(client, shop, customer_id, at(day, "11:00"))
    assert status == 201
    assert world.sync.push(tenant, UUID(third["id"])) == "reconnect"
    status, connection, _ = client.call("GET", "/integrations/google", shop.access_token)
    assert connection["status"] == "reconnect"
    assert connection["connected"] is False
    mails = [m for m in world.mailer.shop_sent if m[0] == shop.email]
    assert len(mails) == 1
    assert "Reconecte" in mails[0][1]
    # The shop keeps working without Google: booking, availability (from its own data)
    status, fourth = book(client, shop, customer_id, at(day, "12:00"))
    assert status == 201
    assert fourth["sync_state"] == "off"
    window = {"from": at(day, "00:00"), "to": at(day + timedelta(days=1), "00:00"), "type": "drop_off"}
    status, body, _ = client.call("GET", "/availability", shop.access_token, query=window)
    assert body["google"] == "not_connected"
    assert world.sync.push(tenant, UUID(third["id"])) == "off"
    assert len([m for m in world.mailer.shop_sent if m[0] == shop.email]) == 1  # once
    # Reconnecting puts the pending appointments back in line for Google
    connect(client, shop, world)
    (state,) = rows(database, "select sync_state from appointments where id = %s", fourth["id"])
    assert state[0] == "pending"


def test_disconnect_revokes_and_forgets(client: Client, world: World, database: PgDatabase) -> None:
    shop = signup(client)
    connect(client, shop, world)
    status, body, _ = client.call("DELETE", "/integrations/google", shop.access_token)
    assert status == 200, body
    assert rows(database, "select 1 from google_connections where tenant_id = %s", shop.tenant_id) == []
    grants = world.sim.state()["grants"]
    assert grants
    assert all(g["revoked"] for g in grants)
    status, body, _ = client.call("GET", "/integrations/google", shop.access_token)
    assert body["status"] == "disconnected"
    status, body, _ = client.call("DELETE", "/integrations/google", shop.access_token)
    assert status == 404


def test_the_bot_offers_no_slot_the_owner_is_busy_in_google(client: Client, world: World, api: Any) -> None:
    """The calendar pass keeps Google's busy times; the bot offers from them inside its transaction."""
    from assistec.services.scheduling import jobs
    from assistec.wiring.api import root
    from tests.integration.whatsapp_helpers import build_world, connect_number

    whatsapp = build_world(root(), api)
    shop = signup(client)
    connect(client, shop, world)
    instance = connect_number(client, shop, whatsapp)
    _status, _customer, _ = client.call(
        "POST", "/customers", shop.access_token, body={"name": "Davi Reis", "phone": "(11) 98765-0002"}
    )
    # The bot's clock: Wed 2026-11-25 14:00 in São Paulo; the owner is busy 15:00-17:00 that day
    world.sim.add_event(
        "owner@demo.assistec.local",
        {
            "summary": "Médico",
            "start": {"dateTime": "2026-11-25T15:00:00-03:00"},
            "end": {"dateTime": "2026-11-25T17:00:00-03:00"},
        },
    )
    jobs.calendar_pass(
        root().database,
        world,
        world.sync,
        world.availability,
        now=datetime.fromisoformat("2026-11-25T14:00:00-03:00"),
    )
    whatsapp.sim.inject_message(instance["name"], "5511987650002", "agendar")
    whatsapp.drain()
    offer = whatsapp.texts_to("5511987650002")[-1]
    assert "25/11 às 15:00" not in offer
    assert "25/11 às 16:30" not in offer
    assert "25/11 às 17:00" in offer
