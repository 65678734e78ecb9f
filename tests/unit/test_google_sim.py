"""The Google client against the offline Google (localstack/google_sim) served on an ephemeral
127.0.0.1 port: the whole OAuth dance, the scopes each method takes, freeBusy with the owner's own
events, event ids kept for good, incremental sync after the owner moves or deletes our events,
rotation, dead refresh tokens, outages and lost answers; and the same answers through the in-process
transport and from ``python -m google_sim``."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from google_sim import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_EMAIL,
    HOLIDAYS_ID,
    GoogleSimulator,
    serve,
)

from assistec.integrations.google_calendar import (
    SCOPES,
    GoogleCalendar,
    GoogleError,
    GoogleFreeBusyError,
    GoogleOAuthConfig,
    GoogleReconnectNeeded,
    SyncTokenExpired,
    TokenSet,
    authorization_url,
    event_id,
    exchange_code,
    pkce_pair,
    revoke,
)

CALLBACK = "https://api.test/v1/integrations/google/callback"
SP = timedelta(hours=-3)
DAY = datetime(2026, 12, 1, tzinfo=UTC) - SP  # midnight in São Paulo, 1 Dec 2026


def at(hour: int, minute: int = 0) -> datetime:
    return DAY + timedelta(hours=hour, minutes=minute)


def config_for(url: str) -> GoogleOAuthConfig:
    return GoogleOAuthConfig.from_secret(
        {
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET,
            "auth_uri": f"{url}/o/oauth2/v2/auth",
            "token_uri": f"{url}/token",
            "revoke_uri": f"{url}/revoke",
            "api_base": f"{url}/calendar/v3",
        }
    )


class Google:
    """The served simulator, its URL and what talks to it."""

    def __init__(self, sim: GoogleSimulator, url: str, http: httpx.Client, sleeps: list[float]) -> None:
        self.sim, self.url, self.http, self.sleeps = sim, url, http, sleeps
        self.config = config_for(url)

    def control(self, method: str, path: str, body: Any = None) -> Any:
        answer = self.http.request(method, f"{self.url}/_sim/{path}", json=body)
        answer.raise_for_status()
        return answer.json() if answer.content else None

    def consent(self, **kwargs: Any) -> tuple[str, dict[str, str]]:
        """The owner follows the authorization URL; the code the redirect carries, and its query."""
        verifier, challenge = pkce_pair()
        url = authorization_url(
            self.config, redirect_uri=CALLBACK, state="st-42", code_challenge=challenge, **kwargs
        )
        answer = self.http.get(url)
        assert answer.status_code == 302
        location = urlsplit(answer.headers["location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
        return verifier, {k: v[0] for k, v in parse_qs(location.query).items()}

    def connect(self, **kwargs: Any) -> TokenSet:
        verifier, query = self.consent(**kwargs)
        return exchange_code(
            self.config,
            self.http,
            code=query["code"],
            verifier=verifier,
            redirect_uri=CALLBACK,
            sleep=self.sleeps.append,
        )

    def calendar(self, tokens: TokenSet | str, **kwargs: Any) -> GoogleCalendar:
        if isinstance(tokens, str):  # a stored refresh token only
            return GoogleCalendar(self.config, self.http, tokens, sleep=self.sleeps.append, **kwargs)
        return GoogleCalendar(
            self.config,
            self.http,
            tokens.refresh_token,
            tokens.access_token,
            tokens.expires_at,
            sleep=self.sleeps.append,
            **kwargs,
        )

    def token_calls(self) -> int:
        return sum(1 for call in self.sim.calls if call == ("POST", "/token"))


@pytest.fixture
def google() -> Iterator[Google]:
    sim = GoogleSimulator()
    server = serve(sim, 0)
    assert server.server_address[0] == "127.0.0.1"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        with httpx.Client() as http:
            yield Google(sim, f"http://127.0.0.1:{server.server_address[1]}", http, [])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def tokens(google: Google) -> TokenSet:
    return google.connect()


def appointment(minutes_from_2pm: int = 0, **extra: Any) -> dict[str, Any]:
    start = at(14, minutes_from_2pm)
    return {
        "id": event_id(uuid.uuid4()),
        "summary": "Retirada - OS #1234",
        "start": {"dateTime": start.astimezone(UTC).isoformat(), "timeZone": "America/Sao_Paulo"},
        "end": {
            "dateTime": (start + timedelta(minutes=30)).astimezone(UTC).isoformat(),
            "timeZone": "America/Sao_Paulo",
        },
        "extendedProperties": {"private": {"tenant_id": "42"}},
        **extra,
    }


# --- the OAuth dance -----------------------------------------------------------------------------
def test_the_whole_oauth_dance(google: Google) -> None:
    # When the owner approves, the redirect carries the code, our state and the scopes granted
    verifier, query = google.consent()
    assert query["state"] == "st-42"
    assert query["code"].startswith("4/0A")
    assert query["scope"].split() == list(SCOPES)
    # A wrong verifier is refused (the code stays good for the right one)
    with pytest.raises(GoogleError) as wrong:
        exchange_code(
            google.config, google.http, code=query["code"], verifier="x" * 64, redirect_uri=CALLBACK
        )
    assert (wrong.value.status, wrong.value.code, wrong.value.message) == (
        400,
        "invalid_grant",
        "Invalid code verifier.",
    )
    # And so is another redirect URI
    with pytest.raises(GoogleError) as elsewhere:
        exchange_code(
            google.config, google.http, code=query["code"], verifier=verifier, redirect_uri=CALLBACK + "x"
        )
    assert elsewhere.value.code == "redirect_uri_mismatch"
    # The right one gets tokens for the account, with every scope
    tokens = exchange_code(
        google.config, google.http, code=query["code"], verifier=verifier, redirect_uri=CALLBACK
    )
    assert tokens.refresh_token.startswith("1//")
    assert tokens.missing_scopes() == ()
    assert google.calendar(tokens).account_email() == DEFAULT_EMAIL
    # A code works once
    with pytest.raises(GoogleError) as again:
        exchange_code(
            google.config, google.http, code=query["code"], verifier=verifier, redirect_uri=CALLBACK
        )
    assert again.value.code == "invalid_grant"
    # And the simulator's state shows tokens by hash only
    state = json.dumps(google.control("GET", "state"))
    assert tokens.refresh_token not in state
    assert tokens.access_token not in state
    assert google.control("GET", "state")["refresh_tokens"][0]["valid"] is True


def test_the_token_endpoint_takes_basic_auth_codes_expire_and_revoke_takes_a_query(google: Google) -> None:
    # Client authentication by HTTP Basic works as well as in the form
    verifier, query = google.consent()
    form = {
        "grant_type": "authorization_code",
        "code": query["code"],
        "code_verifier": verifier,
        "redirect_uri": CALLBACK,
    }
    basic = google.http.post(
        f"{google.url}/token", data=form, auth=(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
    )
    assert basic.status_code == 200
    assert set(basic.json()) == {"access_token", "expires_in", "refresh_token", "scope", "token_type"}
    assert basic.json()["expires_in"] == 3599
    wrong = google.http.post(f"{google.url}/token", data=form, auth=(DEFAULT_CLIENT_ID, "not-the-secret"))
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
    # A code unused for 10 minutes is dead
    verifier, query = google.consent()
    google.control("POST", "clock", {"advance_s": 601})
    with pytest.raises(GoogleError) as late:
        exchange_code(
            google.config, google.http, code=query["code"], verifier=verifier, redirect_uri=CALLBACK
        )
    assert late.value.code == "invalid_grant"
    # Revocation with the token in the query string, as Google's own example does it
    refresh = basic.json()["refresh_token"]
    assert google.http.post(f"{google.url}/revoke", params={"token": refresh}).json() == {}
    again = google.http.post(f"{google.url}/revoke", params={"token": refresh})
    assert (again.status_code, again.json()["error"]) == (400, "invalid_token")


def test_the_consent_screen_refuses_a_bad_request(google: Google) -> None:
    good = {
        "client_id": DEFAULT_CLIENT_ID,
        "redirect_uri": CALLBACK,
        "response_type": "code",
        "scope": " ".join(SCOPES),
        "code_challenge": "abc",
        "code_challenge_method": "S256",
    }
    auth = f"{google.url}/o/oauth2/v2/auth"
    unknown = google.http.get(auth, params={**good, "client_id": "nope.apps.googleusercontent.com"})
    assert unknown.status_code == 401
    assert "invalid_client" in unknown.text
    assert unknown.headers["content-type"].startswith("text/html")
    for broken, error in (
        ({"code_challenge": ""}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"response_type": "token"}, "invalid_request"),
        ({"redirect_uri": ""}, "invalid_request"),
        ({"scope": "https://www.googleapis.com/auth/calendar.everything"}, "invalid_scope"),
    ):
        answer = google.http.get(auth, params={**good, **broken}, headers={"Accept": "application/json"})
        assert (answer.status_code, answer.json()["error"]) == (400, error)
    # The owner presses Cancel: back to us with access_denied
    google.control("POST", "consent", {"deny": True})
    denied = google.http.get(auth, params={**good, "state": "st"})
    assert parse_qs(urlsplit(denied.headers["location"]).query) == {
        "error": ["access_denied"],
        "state": ["st"],
    }


def test_a_login_hint_picks_the_account(google: Google) -> None:
    tokens = google.connect(login_hint="outra@oficina.test")
    assert google.calendar(tokens).account_email() == "outra@oficina.test"


# --- scopes --------------------------------------------------------------------------------------
def test_each_method_takes_its_own_scope(google: Google) -> None:
    # Without the calendar-list scope, events and freeBusy work and the calendar list does not
    events_only = google.calendar(google.connect(scopes=SCOPES[:2]))
    events_only.insert_event("primary", appointment())
    events_only.free_busy(["primary"], at(8), at(18))
    with pytest.raises(GoogleReconnectNeeded) as caught:
        events_only.calendars()
    assert (caught.value.status, caught.value.code) == (403, "insufficient_scope")
    # And with the calendar list only, no event can be written (another account: Google adds the
    # scopes granted before to a new consent, include_granted_scopes)
    list_only = google.calendar(google.connect(scopes=SCOPES[2:], login_hint="outra@oficina.test"))
    assert len(list_only.calendars()) == 3
    with pytest.raises(GoogleReconnectNeeded):
        list_only.insert_event("primary", appointment())


def test_a_box_left_unchecked_shows_in_the_granted_scopes(google: Google) -> None:
    google.control("POST", "consent", {"deny_scopes": [SCOPES[1]]})
    tokens = google.connect()
    assert tokens.missing_scopes() == (SCOPES[1],)
    with pytest.raises(GoogleReconnectNeeded):
        google.calendar(tokens).free_busy(["primary"], at(8), at(18))


# --- calendars and availability ------------------------------------------------------------------
def test_the_account_has_its_primary_a_shop_calendar_and_holidays(google: Google, tokens: TokenSet) -> None:
    listed = google.calendar(tokens).calendars()
    assert [(c["summary"], c["primary"], c["accessRole"]) for c in listed] == [
        (DEFAULT_EMAIL, True, "owner"),
        ("Oficina", False, "owner"),
        ("Feriados no Brasil", False, "reader"),
    ]
    assert listed[0]["id"] == DEFAULT_EMAIL
    assert listed[2]["id"] == HOLIDAYS_ID
    assert listed[1]["id"].endswith("@group.calendar.google.com")


def test_free_busy_sees_what_the_owner_put_in_google(google: Google, tokens: TokenSet) -> None:
    # Given the owner's dentist (busy), a reminder marked free, and our appointment
    dentist = {
        "summary": "Dentista",
        "start": {"dateTime": at(9).isoformat()},
        "end": {"dateTime": at(10, 30).isoformat()},
    }
    google.control("POST", f"accounts/{DEFAULT_EMAIL}/events", dentist)
    reminder = {
        **dentist,
        "summary": "Lembrete",
        "transparency": "transparent",
        "start": {"dateTime": at(11).isoformat()},
    }
    google.control(
        "POST", f"accounts/{DEFAULT_EMAIL}/events", {**reminder, "end": {"dateTime": at(12).isoformat()}}
    )
    client = google.calendar(tokens)
    client.insert_event("primary", appointment())
    client.insert_event("primary", appointment(20))  # overlaps the first: merged
    # When availability is asked for the day's opening hours
    busy = client.free_busy(["primary", HOLIDAYS_ID], at(8), at(18))
    # Then the busy intervals are the dentist and our merged appointments, in São Paulo time
    assert busy["primary"] == [(at(9), at(10, 30)), (at(14), at(14, 50))]
    assert busy["primary"][0][0].utcoffset() == SP
    assert busy[HOLIDAYS_ID] == []  # holidays are transparent all-day events
    # And a calendar Google does not know is reported, never read as free
    with pytest.raises(GoogleFreeBusyError) as caught:
        client.free_busy(["primary", "sumiu@group.calendar.google.com"], at(8), at(18))
    assert caught.value.failed == {"sumiu@group.calendar.google.com": "notFound"}
    assert caught.value.busy["primary"] == busy["primary"]


# --- events: ids kept for good -------------------------------------------------------------------
def test_insert_duplicate_patch_delete_and_restore(google: Google, tokens: TokenSet) -> None:
    client = google.calendar(tokens)
    event = appointment()
    created = client.insert_event("primary", event)
    assert (created["id"], created["status"], created["sequence"]) == (event["id"], "confirmed", 0)
    assert created["start"]["dateTime"] == "2026-12-01T14:00:00-03:00"
    assert created["extendedProperties"] == {"private": {"tenant_id": "42"}}
    with pytest.raises(GoogleError) as duplicate:
        client.insert_event("primary", event)
    assert duplicate.value.code == "duplicate"
    moved = client.patch_event(
        "primary",
        event["id"],
        {"start": {"dateTime": at(15).isoformat()}, "end": {"dateTime": at(15, 30).isoformat()}},
    )
    assert (moved["sequence"], moved["summary"], moved["start"]["dateTime"]) == (
        1,
        "Retirada - OS #1234",
        "2026-12-01T15:00:00-03:00",
    )
    assert moved["etag"] != created["etag"]
    assert moved["updated"] >= created["updated"]
    # Deleted: the second delete finds it gone, a read shows it cancelled, its id stays taken
    assert client.delete_event("primary", event["id"]) is True
    assert client.delete_event("primary", event["id"]) is False
    assert client.get_event("primary", event["id"])["status"] == "cancelled"  # type: ignore[index]
    with pytest.raises(GoogleError) as taken:
        client.insert_event("primary", event)
    assert taken.value.code == "duplicate"
    # Patching it confirmed brings it back; a new attempt id is free too
    assert client.patch_event("primary", event["id"], {"status": "confirmed"})["status"] == "confirmed"
    assert client.get_event("primary", event_id(uuid.uuid4())) is None


def test_the_holidays_calendar_takes_no_events(google: Google, tokens: TokenSet) -> None:
    with pytest.raises(GoogleError) as caught:
        google.calendar(tokens).insert_event(HOLIDAYS_ID, appointment())
    assert (caught.value.status, caught.value.code) == (403, "forbidden")


# --- incremental sync ----------------------------------------------------------------------------
def test_changes_made_in_google_come_back_through_the_sync_token(google: Google, tokens: TokenSet) -> None:
    client = google.calendar(tokens)
    ours = appointment()
    client.insert_event("primary", ours)
    dentist = google.control(
        "POST",
        f"accounts/{DEFAULT_EMAIL}/events",
        {
            "summary": "Dentista",
            "start": {"dateTime": at(9).isoformat()},
            "end": {"dateTime": at(10).isoformat()},
        },
    )
    # A full sync, one event a page
    items, token = client.list_changes("primary", time_min=DAY, page_size=1)
    assert [i["id"] for i in items] == [ours["id"], dentist["id"]]
    # The owner moves our appointment and deletes the dentist in Google Calendar
    google.control(
        "PATCH",
        f"calendars/{DEFAULT_EMAIL}/events/{ours['id']}",
        {"start": {"dateTime": at(16).isoformat()}, "end": {"dateTime": at(16, 30).isoformat()}},
    )
    google.control("DELETE", f"calendars/{DEFAULT_EMAIL}/events/{dentist['id']}")
    changed, token2 = client.list_changes("primary", token)
    assert [(i["id"], i["status"]) for i in changed] == [
        (ours["id"], "confirmed"),
        (dentist["id"], "cancelled"),
    ]
    assert changed[0]["start"]["dateTime"] == "2026-12-01T16:00:00-03:00"
    assert set(changed[1]) <= {"kind", "etag", "id", "status"}  # a deleted event: its id, no more
    # Nothing since
    assert client.list_changes("primary", token2)[0] == []
    # Google drops its sync tokens: a full sync is due
    google.control("POST", "sync-tokens/invalidate")
    with pytest.raises(SyncTokenExpired):
        client.list_changes("primary", token2)
    items, _ = client.list_changes("primary", time_min=DAY)
    assert {i["id"]: i["status"] for i in items} == {ours["id"]: "confirmed", dentist["id"]: "cancelled"}


# --- tokens: rotation, death, expiry -------------------------------------------------------------
def test_a_rotated_refresh_token_replaces_the_old_one(google: Google, tokens: TokenSet) -> None:
    google.control("POST", "rotation", {"enabled": True})
    client = google.calendar(tokens.refresh_token)  # no access token stored: it refreshes first
    client.calendars()
    assert client.rotated is True
    assert client.refresh_token != tokens.refresh_token
    # The old one is dead, the new one works
    with pytest.raises(GoogleReconnectNeeded):
        google.calendar(tokens.refresh_token).calendars()
    assert google.calendar(client.refresh_token).account_email() == DEFAULT_EMAIL


def test_refresh_tokens_invalidated_mean_reconnect(google: Google, tokens: TokenSet) -> None:
    assert google.control("POST", "refresh-tokens/invalidate", {"email": DEFAULT_EMAIL}) == {"invalidated": 1}
    with pytest.raises(GoogleReconnectNeeded) as caught:
        google.calendar(tokens.refresh_token).calendars()
    assert caught.value.code == "invalid_grant"
    assert google.sleeps == []
    # A live access token still works until it expires (Google's access tokens outlive the grant's refresh)
    assert google.calendar(tokens).calendars()


def test_an_access_token_expired_early_is_refreshed_once_mid_call(google: Google, tokens: TokenSet) -> None:
    client = google.calendar(tokens)
    client.calendars()
    assert google.token_calls() == 1  # the exchange only
    google.control("POST", "access-tokens/expire", {"email": DEFAULT_EMAIL})
    assert client.calendars()
    assert google.token_calls() == 2
    assert client.access_token != tokens.access_token
    assert sum(1 for c in google.sim.calls if c[1] == "/calendar/v3/users/me/calendarList") == 3


def test_a_revoked_grant_answers_invalid_grant_and_revoking_again_is_done(
    google: Google, tokens: TokenSet
) -> None:
    assert revoke(google.config, google.http, tokens.refresh_token) is True
    assert revoke(google.config, google.http, tokens.refresh_token) is False
    with pytest.raises(GoogleReconnectNeeded):
        google.calendar(tokens.refresh_token).calendars()
    # The access token died with the grant: a 401, a refresh, invalid_grant
    with pytest.raises(GoogleReconnectNeeded):
        google.calendar(tokens).insert_event("primary", appointment())


# --- Google's bad days ---------------------------------------------------------------------------
def test_an_outage_is_ridden_out_then_reported(google: Google, tokens: TokenSet) -> None:
    client = google.calendar(tokens)
    google.control("POST", "outage", {"status": 503, "count": 2, "path_prefix": "/calendar/v3"})
    assert len(client.calendars()) == 3
    assert len(google.sleeps) == 2
    google.control("POST", "outage", {"status": 503, "count": -1, "path_prefix": "/calendar/v3"})
    with pytest.raises(GoogleError) as caught:
        client.free_busy(["primary"], at(8), at(18))
    assert (caught.value.status, caught.value.code, caught.value.retryable) == (503, "server", True)
    google.control("POST", "outage", {"count": 0, "path_prefix": "/calendar/v3"})
    assert client.free_busy(["primary"], at(8), at(18)) == {"primary": []}
    # The token endpoint too: a refresh retried
    google.control("POST", "outage", {"status": 500, "count": 1, "path_prefix": "/token"})
    assert google.calendar(tokens.refresh_token).calendars()


def test_an_insert_whose_answer_was_lost_is_retried_and_found_in_place(
    google: Google, tokens: TokenSet
) -> None:
    client = google.calendar(tokens)
    google.control("POST", "lose-answers", {"patterns": ["POST /calendar/v3/calendars/*/events"]})
    event = appointment()
    with pytest.raises(GoogleError) as caught:
        client.insert_event("primary", event)
    # The first try landed: the retry is told the id is taken, and the caller patches it
    assert caught.value.code == "duplicate"
    assert (
        client.patch_event("primary", event["id"], {"summary": "Retirada - OS #1234 (confirmada)"})[
            "sequence"
        ]
        == 1
    )
    events = google.control("GET", "state")["calendars"][DEFAULT_EMAIL]["events"]
    assert [e["id"] for e in events] == [event["id"]]


# --- the transport, the server and python -m google_sim ------------------------------------------
def test_the_in_process_transport_answers_like_the_server(google: Google) -> None:
    sim = GoogleSimulator()
    with httpx.Client(transport=sim.transport()) as http:
        local = Google(sim, "http://google.test", http, [])
        for each in (google, local):
            client = each.calendar(each.connect())
            event = appointment()
            client.insert_event("primary", event)
            assert client.free_busy(["primary"], at(8), at(18)) == {"primary": [(at(14), at(14, 30))]}
            assert client.delete_event("primary", event["id"]) is True
            with pytest.raises(GoogleError) as taken:
                client.insert_event("primary", event)
            assert taken.value.code == "duplicate"
            assert [c["id"] for c in client.calendars()][2] == HOLIDAYS_ID


def test_python_m_google_sim_serves_on_a_free_local_port() -> None:
    localstack = Path(__file__).resolve().parents[2] / "localstack"
    process = subprocess.Popen(
        [sys.executable, "-m", "google_sim", "--port", "0", "--client-id", "cli.apps.googleusercontent.com"],
        cwd=localstack,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip().rsplit(" ", 1)[-1]
        assert url.startswith("http://127.0.0.1:")
        refused = httpx.post(
            f"{url}/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": "1//x",
                "client_id": "cli.apps.googleusercontent.com",
                "client_secret": "wrong",
            },
            timeout=5,
        )
        assert (refused.status_code, refused.json()) == (
            401,
            {"error": "invalid_client", "error_description": "Unauthorized"},
        )
        unauthenticated = httpx.get(f"{url}/calendar/v3/users/me/calendarList", timeout=5)
        assert unauthenticated.status_code == 401
        assert unauthenticated.json()["error"]["errors"][0]["reason"] == "required"
    finally:
        process.terminate()
        process.wait(timeout=5)
