"""Scheduling end to end on the local stack (issue 12 §6), every part deployed: the owner connects the
shop's Google Calendar through the API (the consent at the offline Google simulator, its redirect to
the deployed callback); a customer books a drop-off on WhatsApp (the consumer Lambda's bot offers the
free slots, books the chosen one, confirms it); the booking's AppointmentChanged goes outbox →
EventBridge → the calendar queue → the calendar worker Lambda, which writes the event with its
deterministic id into the simulated Google calendar; the reminders Lambda, invoked with the clock
moved through its input to 24 h before, sends the reminder on WhatsApp; the customer answers
"confirmo" and the appointment is confirmed."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.shops import new_shop, wait_for, whatsapp_texts_to


@pytest.mark.timeout(900)
def test_book_on_whatsapp_mirrored_to_google_and_reminded(
    http: httpx.Client, stack: dict[str, Any], aws: Any
) -> None:
    shop = new_shop(http, "Loja Agenda E2E")
    headers = {"Authorization": f"Bearer {shop['access_token']}"}

    def ok(response: httpx.Response) -> Any:
        assert response.status_code in (200, 201, 202), response.text
        return response.json()

    # 1. Google: the consent at the simulator, its redirect to the deployed callback
    email = f"dono-{uuid.uuid4().hex[:8]}@agenda.e2e"
    consent = ok(http.post("/integrations/google/connect", headers=headers, json={"login_hint": email}))
    with httpx.Client(timeout=30) as browser:
        approved = browser.get(consent["authorization_url"])
        assert approved.status_code == 302, approved.text
        location = approved.headers["location"]
        assert urlsplit(location).path.endswith("/integrations/google/callback")
        callback = browser.get(location)
        assert callback.status_code == 200, callback.text
    connection = ok(http.get("/integrations/google", headers=headers))
    assert connection["connected"] is True
    assert connection["account_email"] == email

    # 2. The shop's number, and a customer it knows
    number = f"55119{uuid.uuid4().int % 10**8:08d}"
    instance = ok(http.post("/whatsapp/instance", headers=headers, json={"number": number}))
    sim = httpx.Client(base_url=stack["evolution_simulator_url"], timeout=30)
    ok(sim.post(f"/_sim/instances/{instance['name']}/open", json={"number": number}))
    wait_for(
        "the number open",
        lambda: http.get("/whatsapp/instance", headers=headers).json().get("state") == "open",
    )
    phone = f"55119{uuid.uuid4().int % 10**8:08d}"
    customer = ok(http.post("/customers", headers=headers, json={"name": "Rita Alves", "phone": f"+{phone}"}))

    def say(text: str) -> None:
        ok(sim.post(f"/_sim/instances/{instance['name']}/messages", json={"phone": phone, "text": text}))

    # 3. Booking on WhatsApp: the offer, the fifth option (on a third day: at least a day ahead)
    say("quero agendar")
    offers = wait_for(
        "the offer",
        lambda: [t for t in whatsapp_texts_to(stack, instance["name"], phone) if "horários livres" in t],
    )
    assert "\n5. " in offers[0], offers[0]
    say("5")
    done = wait_for(
        "the booking",
        lambda: [t for t in whatsapp_texts_to(stack, instance["name"], phone) if "Agendado!" in t],
    )
    assert "/public/appointments/" in done[0]
    listed = ok(
        http.get(
            "/appointments",
            headers=headers,
            params={
                "from": datetime.now().astimezone().isoformat(),
                "to": (datetime.now().astimezone() + timedelta(days=30)).isoformat(),
                "customer_id": customer["id"],
            },
        )
    )
    (appointment,) = listed["items"]
    assert appointment["source"] == "whatsapp"

    # 4. The event in the simulated Google calendar (the calendar worker Lambda wrote it)
    google = httpx.Client(base_url=stack["google_simulator_url"], timeout=30)

    def event() -> Any:
        calendars = google.get("/_sim/state").json()["calendars"]
        events = calendars.get(email, {}).get("events", [])
        return next((e for e in events if e["id"] == appointment["google_event_id"]), None)

    mirrored = wait_for("the Google event", event, timeout_s=180)
    assert mirrored["start"]["dateTime"][:16] == appointment["starts_at"][:16]
    synced = wait_for(
        "the mirror recorded",
        lambda: ok(http.get(f"/appointments/{appointment['id']}", headers=headers))["sync_state"] == "synced",
    )
    assert synced

    # 5. The reminder 24 h before: the scheduled function run with its clock moved by the input
    starts = datetime.fromisoformat(appointment["starts_at"])
    result = aws("lambda").invoke(
        FunctionName=stack["reminders_function_name"],
        Payload=json.dumps({"now": (starts - timedelta(hours=23, minutes=50)).isoformat()}).encode(),
    )
    summary = json.loads(result["Payload"].read())
    assert summary.get("whatsapp", 0) >= 1, summary
    reminder = wait_for(
        "the reminder",
        lambda: [t for t in whatsapp_texts_to(stack, instance["name"], phone) if t.startswith("Lembrete")],
    )
    assert "confirmo" in reminder[0]
    # Run again a few minutes later: the claim holds, nothing twice
    aws("lambda").invoke(
        FunctionName=stack["reminders_function_name"],
        Payload=json.dumps({"now": (starts - timedelta(hours=23, minutes=45)).isoformat()}).encode(),
    )
    reminders = ok(http.get(f"/appointments/{appointment['id']}", headers=headers))["reminders"]
    assert [(r["offset_min"], r["channel"]) for r in reminders] == [(1440, "whatsapp")]

    # 6. "confirmo": confirmed, and Google's event updated by the worker
    say("confirmo")
    wait_for(
        "the thanks",
        lambda: [t for t in whatsapp_texts_to(stack, instance["name"], phone) if t.startswith("Obrigado!")],
    )
    after = ok(http.get(f"/appointments/{appointment['id']}", headers=headers))
    assert after["status"] == "confirmed"
    wait_for(
        "the confirmed event", lambda: (event() or {}).get("summary", "").startswith("\u2714"), timeout_s=180
    )
