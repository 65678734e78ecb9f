"""The Google Calendar client against Google's answers (tests/fixtures/google) replayed through
``httpx.MockTransport``: the OAuth URL and PKCE, the code exchange, token refresh through google-auth
over the httpx adapter (rotation, invalid_grant, a 401 mid-call), each Calendar call's request and
answer, what is retried and within which budget, and that nothing heavy or secret leaks out."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from assistec import __version__
from assistec.integrations import google_calendar as gc
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

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "google"
CONFIG = GoogleOAuthConfig(
    client_id="1234-abc.apps.googleusercontent.com",
    client_secret="GOCSPX-secret-for-tests-0001",
    auth_uri="https://accounts.test/o/oauth2/v2/auth",
    token_uri="https://oauth2.test/token",
    revoke_uri="https://oauth2.test/revoke",
    api_base="https://www.googleapis.test/calendar/v3",
)
API = "/calendar/v3"
REFRESH = "1//0gStoredRefreshTokenForTests"
ACCESS = "ya29.storedAccessTokenForTests"
EMAIL = "owner@demo.assistec.local"
HOLIDAYS = "pt-br.brazilian#holiday@group.v.calendar.google.com"
SP = timedelta(hours=-3)
APPOINTMENT = uuid.UUID("0b7c9c8e-2a4f-4e1b-9d3c-5a7e6f8d1234")


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


class Google:
    """Answers the calls in the order scripted: each entry is (method, path, status, body) or an
    exception to raise (a network failure); every request is kept."""

    def __init__(self) -> None:
        self.script: list[tuple[str, str, int, Any] | Exception] = []
        self.requests: list[httpx.Request] = []

    def then(self, method: str, path: str, status: int = 200, body: Any = None) -> Google:
        if isinstance(body, str) and body.endswith(".json"):
            body = fixture(body)
        self.script.append((method, path, status, body))
        return self

    def fail(self, error: Exception) -> Google:
        self.script.append(error)
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert self.script, f"unexpected {request.method} {request.url}"
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        method, path, status, body = step
        assert (request.method, request.url.path) == (method, path)
        if body is None:
            return httpx.Response(status)
        return httpx.Response(status, json=body)

    def form(self, index: int = -1) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.requests[index].content.decode()).items()}

    def body(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)

    def paths(self) -> list[str]:
        return [f"{r.method} {r.url.path}" for r in self.requests]


@pytest.fixture
def google() -> Iterator[Google]:
    fake = Google()
    yield fake
    assert fake.script == [], "scripted answers left unused"


@pytest.fixture
def http(google: Google) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(google))


@pytest.fixture
def sleeps() -> list[float]:
    return []


def calendar(
    http: httpx.Client, sleeps: list[float], *, access: str | None = ACCESS, **kwargs: Any
) -> GoogleCalendar:
    expires = datetime.now(UTC) + timedelta(minutes=30) if access else None
    return GoogleCalendar(CONFIG, http, REFRESH, access, expires, sleep=sleeps.append, **kwargs)


# --- the consent URL, PKCE and ids ---------------------------------------------------------------
def test_the_authorization_url_asks_offline_consent_with_pkce() -> None:
    url = authorization_url(
        CONFIG, redirect_uri="https://api.test/google/callback", state="st-1", code_challenge="ch-1"
    )
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == CONFIG.auth_uri
    params = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert params == {
        "client_id": CONFIG.client_id,
        "redirect_uri": "https://api.test/google/callback",
        "response_type": "code",
        "scope": " ".join(SCOPES),
        "state": "st-1",
        "code_challenge": "ch-1",
        "code_challenge_method": "S256",
        "access_type": "offline",
        "prompt": "consent",
        "include_granted_scopes": "true",
    }
    assert "%20" in parts.query  # scopes joined by spaces, encoded as Google's own examples do
    hinted = authorization_url(
        CONFIG, redirect_uri="https://x.test/cb", state="s", code_challenge="c", login_hint=EMAIL
    )
    assert parse_qs(urlsplit(hinted).query)["login_hint"] == [EMAIL]


def test_the_scopes_open_events_freebusy_and_the_calendar_list() -> None:
    # calendar.events does not open calendarList.list: the read-only calendar-list scope is asked too
    assert SCOPES == (
        "https://www.googleapis.com/auth/calendar.events",
        "https://www.googleapis.com/auth/calendar.freebusy",
        "https://www.googleapis.com/auth/calendar.calendarlist.readonly",
    )


def test_pkce_pair_follows_rfc_7636(monkeypatch: pytest.MonkeyPatch) -> None:
    # A verifier of 64 unreserved characters; the challenge is BASE64URL(SHA256(verifier)), unpadded
    verifier, challenge = pkce_pair()
    assert re.fullmatch(r"[A-Za-z0-9\-._~]{64}", verifier)
    digest = hashlib.sha256(verifier.encode()).digest()
    assert challenge == base64.urlsafe_b64encode(digest).decode().rstrip("=")
    assert pkce_pair()[0] != verifier
    # And RFC 7636 appendix B's example, verbatim
    monkeypatch.setattr("secrets.token_urlsafe", lambda n: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
    assert pkce_pair()[1] == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_event_ids_are_deterministic_base32hex() -> None:
    first = event_id(APPOINTMENT)
    assert first == event_id(uuid.UUID(str(APPOINTMENT))) == "ast0b7c9c8e2a4f4e1b9d3c5a7e6f8d1234"
    assert event_id(uuid.uuid4()) != first
    for value in (first, event_id(APPOINTMENT, 1), event_id(APPOINTMENT, 12), event_id(uuid.UUID(int=0))):
        assert re.fullmatch(r"[a-v0-9]{5,1024}", value)
    assert event_id(APPOINTMENT, 1) == first + "r1"
    with pytest.raises(ValueError, match="attempt"):
        event_id(APPOINTMENT, -1)


def test_the_config_comes_from_the_secret() -> None:
    plain = GoogleOAuthConfig.from_secret({"client_id": "id", "client_secret": "sec"})
    assert (plain.auth_uri, plain.token_uri, plain.revoke_uri, plain.api_base) == (
        "https://accounts.google.com/o/oauth2/v2/auth",
        "https://oauth2.googleapis.com/token",
        "https://oauth2.googleapis.com/revoke",
        "https://www.googleapis.com/calendar/v3",
    )
    local = GoogleOAuthConfig.from_secret(
        {
            "client_id": "id",
            "client_secret": "sec",
            "token_uri": "http://127.0.0.1:4597/token",
            "api_base": "http://127.0.0.1:4597/calendar/v3/",
        }
    )
    assert (local.token_uri, local.api_base) == (
        "http://127.0.0.1:4597/token",
        "http://127.0.0.1:4597/calendar/v3",
    )
    assert "sec" not in repr(local)
    for broken in ({"client_id": "id"}, {"client_secret": "sec"}, {"client_id": "", "client_secret": "sec"}):
        with pytest.raises(ValueError, match="lacks"):
            GoogleOAuthConfig.from_secret(broken)


# --- the code exchange and revocation ------------------------------------------------------------
def test_the_code_exchange_sends_the_verifier_and_reads_the_tokens(
    google: Google, http: httpx.Client
) -> None:
    google.then("POST", "/token", 200, "token_authorization_code.json")
    tokens = exchange_code(
        CONFIG, http, code="4/0Acode", verifier="v" * 64, redirect_uri="https://api.test/cb"
    )
    assert google.form() == {
        "grant_type": "authorization_code",
        "code": "4/0Acode",
        "code_verifier": "v" * 64,
        "redirect_uri": "https://api.test/cb",
        "client_id": CONFIG.client_id,
        "client_secret": CONFIG.client_secret,
    }
    assert google.requests[0].headers["content-type"] == "application/x-www-form-urlencoded"
    answer = fixture("token_authorization_code.json")
    assert (tokens.access_token, tokens.refresh_token) == (answer["access_token"], answer["refresh_token"])
    assert tokens.scopes == SCOPES
    assert tokens.missing_scopes() == ()
    assert abs((tokens.expires_at - datetime.now(UTC)).total_seconds() - 3599) < 5
    assert answer["refresh_token"] not in repr(tokens)


def test_scopes_left_unchecked_on_the_consent_screen_show() -> None:
    tokens = TokenSet("a", datetime.now(UTC), "r", SCOPES[:1])
    assert tokens.missing_scopes() == SCOPES[1:]


def test_a_refused_code_is_not_retried(google: Google, http: httpx.Client, sleeps: list[float]) -> None:
    google.then(
        "POST", "/token", 400, {"error": "invalid_grant", "error_description": "Invalid code verifier."}
    )
    with pytest.raises(GoogleError) as caught:
        exchange_code(
            CONFIG,
            http,
            code="4/0Acode",
            verifier="wrong",
            redirect_uri="https://api.test/cb",
            sleep=sleeps.append,
        )
    assert (caught.value.status, caught.value.code, caught.value.retryable) == (400, "invalid_grant", False)
    assert not isinstance(caught.value, GoogleReconnectNeeded)  # the owner consents again, nothing to flag
    assert caught.value.message == "Invalid code verifier."
    assert sleeps == []


def test_the_code_exchange_is_retried_when_google_is_down(
    google: Google, http: httpx.Client, sleeps: list[float]
) -> None:
    google.then("POST", "/token", 503, {"error": "temporarily_unavailable", "error_description": "x"})
    google.fail(httpx.ConnectError("refused"))
    google.then("POST", "/token", 200, "token_authorization_code.json")
    tokens = exchange_code(
        CONFIG, http, code="c", verifier="v", redirect_uri="https://api.test/cb", sleep=sleeps.append
    )
    assert tokens.refresh_token
    assert len(sleeps) == 2


def test_an_exchange_without_offline_access_is_refused(google: Google, http: httpx.Client) -> None:
    google.then("POST", "/token", 200, "token_refresh.json")  # no refresh_token in it
    with pytest.raises(GoogleError) as caught:
        exchange_code(CONFIG, http, code="c", verifier="v", redirect_uri="https://api.test/cb")
    assert caught.value.code == "no_refresh_token"


def test_revoke_counts_an_already_dead_token_as_done(google: Google, http: httpx.Client) -> None:
    google.then("POST", "/revoke", 200, {})
    google.then("POST", "/revoke", 400, "revoke_invalid_token.json")
    assert revoke(CONFIG, http, REFRESH) is True
    assert google.form(0) == {"token": REFRESH}
    assert revoke(CONFIG, http, REFRESH) is False
    google.then("POST", "/revoke", 401, "token_invalid_client.json")
    with pytest.raises(GoogleError) as caught:
        revoke(CONFIG, http, REFRESH)
    assert caught.value.code == "invalid_client"
    assert REFRESH not in str(caught.value)


# --- refresh through google-auth -----------------------------------------------------------------
def test_a_missing_access_token_is_refreshed_through_google_auth_first(
    google: Google, http: httpx.Client, sleeps: list[float]
) -> None:
    google.then("POST", "/token", 200, "token_refresh.json")
    google.then("GET", f"{API}/users/me/calendarList", 200, "calendar_list.json")
    client = calendar(http, sleeps, access=None)
    client.calendars()
    # google-auth made the refresh (its metrics header), with our client and refresh token
    refresh = google.requests[0]
    assert "cred-type/u" in refresh.headers["x-goog-api-client"]
    assert google.form(0) == {
        "grant_type": "refresh_token",
        "client_id": CONFIG.client_id,
        "client_secret": CONFIG.client_secret,
        "refresh_token": REFRESH,
    }
    new_access = fixture("token_refresh.json")["access_token"]
    assert google.requests[1].headers["authorization"] == f"Bearer {new_access}"
    assert (client.access_token, client.refresh_token, client.rotated) == (new_access, REFRESH, False)
    assert client.expires_at is not None
    assert client.expires_at.tzinfo is not None
    assert abs((client.expires_at - datetime.now(UTC)).total_seconds() - 3599) < 5


def test_an_access_token_about_to_expire_is_refreshed_first(google: Google, http: httpx.Client) -> None:
    google.then("POST", "/token", 200, "token_refresh.json")
    google.then("GET", f"{API}/calendars/primary/events/x1234", 200, "event_inserted.json")
    client = GoogleCalendar(CONFIG, http, REFRESH, ACCESS, datetime.now(UTC) + timedelta(seconds=30))
    assert client.get_event("primary", "x1234") is not None
    assert google.paths()[0] == "POST /token"


def test_a_rotated_refresh_token_is_handed_back(
    google: Google, http: httpx.Client, sleeps: list[float]
) -> None:
    google.then("POST", "/token", 200, "token_refresh_rotated.json")
    google.then("GET", f"{API}/users/me/calendarList", 200, "calendar_list.json")
    client = calendar(http, sleeps, access=None)
    client.calendars()
    rotated = fixture("token_refresh_rotated.json")
    assert client.rotated is True
    assert client.refresh_token == rotated["refresh_token"]
    assert client.access_token == rotated["access_token"]


def test_invalid_grant_means_reconnect(google: Google, http: httpx.Client, sleeps: list[float]) -> None:
    google.then("POST", "/token", 400, "token_invalid_grant.json")
    client = calendar(http, sleeps, access=None)
    with pytest.raises(GoogleReconnectNeeded) as caught:
        client.calendars()
    assert (caught.value.status, caught.value.code, caught.value.retryable) == (400, "invalid_grant", False)
    assert caught.value.message == "Token has been expired or revoked."
    assert REFRESH not in f"{caught.value} {caught.value!r}"
    assert sleeps == []
    assert google.paths() == ["POST /token"]


def test_a_wrong_client_secret_is_not_the_shops_fault(
    google: Google, http: httpx.Client, sleeps: list[float]
) -> None:
    google.then("POST", "/token", 401, "token_invalid_client.json")
    with pytest.raises(GoogleError) as caught:
        calendar(http, sleeps, access=None).calendars()
    assert not isinstance(caught.value, GoogleReconnectNeeded)
    assert (caught.value.status, caught.value.code) == (401, "invalid_client")
    assert CONFIG.client_secret not in f"{caught.value!r}"


def test_a_401_mid_call_refreshes_once_and_repeats_the_call(
    google: Google, http: httpx.Client, sleeps: list[float]
) -> None:
    google.then("GET", f"{API}/users/me/calendarList", 401, "error_401_auth_error.json")
    google.then("POST", "/token", 200, "token_refresh.json")
    google.then("GET", f"{API}/users/me/calendarList", 200, "calendar_list.json")
    client = calendar(http, sleeps)
    assert client.calendars()[0]["id"] == EMAIL
    assert google.requests[0].headers["authorization"] == f"Bearer {ACCESS}"
    assert (
        google.requests[2].headers["authorization"]
        == f"Bearer {fixture('token_refresh.json')['access_token']}"
    )
    assert sleeps == []  # no backoff: a refresh is the remedy


def test_a_second_401_after_the_refresh_is_raised(
    google: Google, http: httpx.Client, sleeps: list[float]
) -> None:
    google.then("GET", f"{API}/users/me/calendarList", 401, "error_401_auth_error.json")
    google.then("POST", "/token", 200, "token_refresh.json")
    google.then("GET", f"{API}/users/me/calendarList", 401, "error_401_auth_error.json")
    with pytest.raises(GoogleError) as caught:
        calendar(http, sleeps).calendars()
    assert (caught.value.status, caught.value.code, caught.value.reason) == (401, "unauthorized", "authError")


def test_a_token_endpoint_outage_is_retried_by_our_loop_not_google_auths(
    google: Google, http: httpx.Client, sleeps: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    # google-auth would sleep 1 s, 2 s… with time.sleep on a 503 (its _exponential_backoff),
    # whatever the deadline: nothing may call time.sleep here, our loop sleeps through ``sleeps``
    def no_sleeping(seconds: float) -> None:
        raise AssertionError("something slept outside our loop")

    monkeypatch.setattr("time.sleep", no_sleeping)
    google.then("POST", "/token", 503, {"error": "temporarily_unavailable", "error_description": "try later"})
    google.fail(httpx.ReadTimeout("slow"))
    google.then("POST", "/token", 200, "token_refresh.json")
    google.then("GET", f"{API}/users/me/calendarList", 200, "calendar_list.json")
    calendar(http, sleeps, access=None).calendars()
    assert len(sleeps) == 2
    assert google.paths().count("POST /token") == 3


def test_a_token_endpoint_down_for_good_is_a_retryable_error(
    google: Google, http: httpx.Client, sleeps: list[float]
) -> None:
    for _ in range(3):
        google.then("POST", "/token", 500, {"error": "internal_failure"})
    with pytest.raises(GoogleError) as caught:
        calendar(http, sleeps, access=None).calendars()
    assert (caught.value.status, caught.value.code, caught.value.retryable) == (500, "server", True)
    assert not isinstance(caught.value, GoogleReconnectNeeded)


def test_the_httpx_adapter_speaks_google_auths_transport_interface(
    google: Google, http: httpx.Client
) -> None:
    from google.auth import exceptions, transport

    adapter = gc.HttpxRequest(http, timeout=3.0)
    assert isinstance(adapter, transport.Request)
    google.then("POST", "/token", 400, "token_invalid_grant.json")
    answer = adapter(CONFIG.token_uri, method="POST", body=b"a=1", headers={"X-Test": "1"}, timeout=2.0)
    assert (answer.status, json.loads(answer.data)["error"]) == (400, "invalid_grant")
    assert answer.headers["content-type"] == "application/json"
    assert google.requests[-1].headers["x-test"] == "1"
    assert google.requests[-1].extensions["timeout"]["read"] == 2.0
    google.fail(httpx.ConnectTimeout("no route"))
    with pytest.raises(exceptions.TransportError) as caught:
        adapter(CONFIG.token_uri, method="POST")
    assert isinstance(caught.value.__cause__, httpx.ConnectTimeout)


# --- the Calendar API ----------------------------------------------------------------------------
def test_calendars_lists_ids_names_roles_and_the_primary(
    google: Google, http: httpx.Client, sleeps: list[float]
) -> None:
    google.then("GET", f"{API}/users/me/calendarList", 200, "calendar_list.json")
    google.then("GET", f"{API}/users/me/calendarList", 200, "calendar_list.json")
    client = calendar(http, sleeps)
    listed = client.calendars()
    assert [(c["id"], c["summary"], c["primary"], c["accessRole"]) for c in listed] == [
        (EMAIL, EMAIL, True, "owner"),
        ("c_8f3a2b1c0d9e8f7a6b5c4d3e2f@group.calendar.google.com", "Agenda da oficina", False, "owner"),
        (HOLIDAYS, "Feriados no Brasil", False, "reader"),
    ]
    assert client.account_email() == EMAIL
    request = google.requests[0]
    assert request.headers["user-agent"] == f"assistec/{__version__}"
    assert request.extensions["timeout"]["connect"] == 2.0
    assert 7.0 < request.extensions["timeout"]["read"] <= 8.0


def test_free_busy_asks_google_and_reads_the_intervals(
    google: Google, http: httpx.Client, sleeps: list[float]
) -> None:
    google.then("POST", f"{API}/freeBusy", 200, "freebusy_ok.json")
    start = datetime(2026, 12, 1, 8, tzinfo=UTC) + timedelta(hours=3)
    busy = calendar(http, sleeps).free_busy([EMAIL, "primary", EMAIL], start, start + timedelta(hours=10))
    assert google.body() == {
        "timeMin": "2026-12-01T11:00:00+00:00",
        "timeMax": "2026-12-01T21:00:00+00:00",
        "timeZone": "America/Sao_Paulo",
        "items": [{"id": EMAIL}, {"id": "primary"}],
    }
    assert busy == {
        EMAIL: [(datetime(2026, 12, 1, 12, tzinfo=UTC), datetime(2026, 12, 1, 13, 30, tzinfo=UTC))],
        "primary": [],
    }
    assert busy[EMAIL][0][0].utcoffset() == SP


def test_a_calendar_google_could_not_read_is_never_taken_for_free(
    google: Google, http: httpx.Client, sleeps: list[float]
) -> None:
    google.then("POST", f"{API}/freeBusy", 200, "freebusy_with_error.json")
    start = datetime(2026, 12, 1, 11, tzinfo=UTC)
    with pytest.raises(GoogleFreeBusyError) as caught:
        calendar(http, sleeps).free_busy(
            [EMAIL, "sumiu@group.calendar.google.com"], start, start + timedelta(hours=10)
        )
    assert caught.value.failed == {"sumiu@group.calendar.google.com": "notFound"}
    assert [len(v) for v in caught.value.busy.values()] == [2]
    assert "sumiu" not in str(caught.value)  # calendar ids carry e-mails: counted, not named


def test_free_busy_refuses_what_google_would_answer_badly(http: httpx.Client, sleeps: list[float]) -> None:
    client = calendar(http, sleeps)
    start = datetime(2026, 12, 1, 11, tzinfo=UTC)
    with pytest.raises(ValueError, match="at most 50"):
        client.free_busy(
            [f"c{i}@group.calendar.google.com" for i in range(51)], start, start + timedelta(hours=1)
        )
    with pytest.raises(ValueError, match="timezone-aware"):
        client.free_busy([EMAIL], start.replace(tzinfo=None), start.replace(tzinfo=None) + timedelta(hours=1))
    with pytest.raises(ValueError, match="after"):
        client.free_busy([EMAIL], start, start)


def test_insert_sends_the_event_with_our_id_to_the_escaped_calendar(
    google: Google, http: httpx.Client, sleeps: list[float]
) -> None:
    google.then(
        "POST", f"{API}/calendars/c_8f3a@group.calendar.google.com/events", 200, "event_inserted.json"
    )
    event = {
        "id": event_id(APPOINTMENT),
        "summary": "Retirada - OS #1234 (iPhone 13)",
        "start": {"dateTime": "2026-12-01T14:00:00-03:00", "timeZone": "America/Sao_Paulo"},
        "end": {"dateTime": "2026-12-01T14:30:00-03:00", "timeZone": "America/Sao_Paulo"},
        "extendedProperties": {"private": {"tenant_id": "42"}},
    }
    created = calendar(http, sleeps).insert_event("c_8f3a@group.calendar.google.com", event)
    assert google.body() == event
    assert google.requests[0].headers["content-type"] == "application/json"
    assert "/calendars/c_8f3a%40group.calendar.google.com/events" in str(google.requests[0].url)
    assert created["id"] == event["id"]
    assert created["status"] == "confirmed"


def test_an_id_already_taken_is_a_duplicate(google: Google, http: httpx.Client, sleeps: list[float]) -> None:
    google.then("POST", f"{API}/calendars/primary/events", 409, "error_409_duplicate.json")
    with pytest.raises(GoogleError) as caught:
        calendar(http, sleeps).insert_event("primary", {"id": event_id(APPOINTMENT), "start": {}, "end": {}})
    assert (caught.value.status, caught.value.code, caught.value.retryable) == (409, "duplicate", False)
    assert caught.value.message == "The requested identifier already exists."
    assert sleeps == []


def test_an_insert_without_our_id_is_refused_before_sending(http: httpx.Client, sleeps: list[float]) -> None:
    client = calendar(http, sleeps)
    for event in ({"summary": "x"}, {"id": "ASC-123"}, {"id": "wxyz12"}, {"id": "ab1"}):
        with pytest.raises(ValueError, match="base32hex"):
            client.insert_event("primary", event)


def test_an_insert_is_retried_and_a_landed_first_try_shows_as_duplicate(
    google: Google, http: httpx.Client, sleeps: list[float]
) -> None:
    # The first try reached Google but its answer was lost; the retry finds the id taken
    google.fail(httpx.ReadTimeout("answer lost"))
    google.then("POST", f"{API}/calendars/primary/events", 503, "error_500_backend.json")
    google.then("POST", f"{API}/calendars/primary/events", 409, "error_409_duplicate.json")
    event = {"id": event_id(APPOINTMENT), "start": {}, "end": {}}
    with pytest.raises(GoogleError) as caught:
        calendar(http, sleeps).insert_event("primary", event)
    assert caught.value.code == "duplicate"  # exists: the caller patches it
    assert [json.loads(r.content)["id"] for r in google.requests] == [event["id"]] * 3
    assert len(sleeps) == 2


def test_get_patch_and_delete(google: Google, http: httpx.Client, sleeps: list[float]) -> None:
    path = f"{API}/calendars/primary/events/{event_id(APPOINTMENT)}"
    google.then("GET", path, 200, "event_inserted.json")
    google.then("GET", path, 404, "error_404_not_found.json")
    google.then("PATCH", path, 200, "event_inserted.json")
    google.then("DELETE", path, 204)
    google.then("DELETE", path, 410, "error_410_deleted.json")
    google.then("DELETE", path, 404, "error_404_not_found.json")
    google.then("PATCH", path, 404, "error_404_not_found.json")
    client = calendar(http, sleeps)
    eid = event_id(APPOINTMENT)
    assert client.get_event("primary", eid)["id"] == eid  # type: ignore[index]
    assert client.get_event("primary", eid) is None
    client.patch_event("primary", eid, {"start": {"dateTime": "2026-12-01T15:00:00-03:00"}})
    assert google.body(2) == {"start": {"dateTime": "2026-12-01T15:00:00-03:00"}}
    assert client.delete_event("primary", eid) is True
    assert client.delete_event("primary", eid) is False  # deleted before (410)
    assert client.delete_event("primary", eid) is False  # never known (404)
    with pytest.raises(GoogleError) as caught:
        client.patch_event("primary", eid, {"summary": "x"})
    assert caught.value.code == "not_found"
    assert sleeps == []


def test_list_changes_follows_the_pages_and_returns_the_sync_token(
    google: Google, http: httpx.Client, sleeps: list[float]
) -> None:
    path = f"{API}/calendars/primary/events"
    google.then("GET", path, 200, "events_page_1.json").then("GET", path, 200, "events_page_2_final.json")
    since = datetime(2026, 11, 1, tzinfo=UTC)
    items, token = calendar(http, sleeps).list_changes("primary", time_min=since, page_size=1)
    first, second = (dict(r.url.params) for r in google.requests)
    assert first == {"maxResults": "1", "showDeleted": "true", "timeMin": "2026-11-01T00:00:00+00:00"}
    assert second == {**first, "pageToken": fixture("events_page_1.json")["nextPageToken"]}
    assert token == fixture("events_page_2_final.json")["nextSyncToken"]
    assert [(i["id"], i["status"]) for i in items] == [
        ("ast0b7c9c8e2a4f4e1b9d3c5a7e6f8d1234", "confirmed"),
        ("7kq2m3v9d1s0a8b5c6e4f2g1h0", "confirmed"),
        ("ast5e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b", "cancelled"),
    ]


def test_an_incremental_listing_sends_the_sync_token_alone(
    google: Google, http: httpx.Client, sleeps: list[float]
) -> None:
    google.then("GET", f"{API}/calendars/primary/events", 200, "events_page_2_final.json")
    items, token = calendar(http, sleeps).list_changes("primary", "CPold")
    assert dict(google.requests[0].url.params) == {
        "maxResults": "250",
        "showDeleted": "true",
        "syncToken": "CPold",
    }
    assert token != "CPold"
    assert len(items) == 2
    with pytest.raises(ValueError, match="syncToken"):
        calendar(http, sleeps).list_changes("primary", "CPold", datetime.now(UTC))


def test_an_expired_sync_token_asks_for_a_full_sync(
    google: Google, http: httpx.Client, sleeps: list[float]
) -> None:
    google.then("GET", f"{API}/calendars/primary/events", 410, "error_410_full_sync_required.json")
    with pytest.raises(SyncTokenExpired) as caught:
        calendar(http, sleeps).list_changes("primary", "CPold")
    assert (caught.value.status, caught.value.code, caught.value.retryable) == (
        410,
        "full_sync_required",
        False,
    )
    assert sleeps == []


def test_a_missing_scope_means_reconnect(google: Google, http: httpx.Client, sleeps: list[float]) -> None:
    google.then("GET", f"{API}/users/me/calendarList", 403, "error_403_insufficient_scopes.json")
    with pytest.raises(GoogleReconnectNeeded) as caught:
        calendar(http, sleeps).calendars()
    assert (caught.value.status, caught.value.code) == (403, "insufficient_scope")
    assert sleeps == []


# --- retries and the time budget -----------------------------------------------------------------
def test_reads_are_retried_on_5xx_429_and_rate_limit_403_with_growing_waits(
    google: Google, http: httpx.Client, sleeps: list[float]
) -> None:
    path = f"{API}/calendars/primary/events/abcde"
    google.then("GET", path, 500, "error_500_backend.json").then(
        "GET", path, 403, "error_403_rate_limit.json"
    )
    google.then("GET", path, 200, "event_inserted.json")
    assert calendar(http, sleeps).get_event("primary", "abcde") is not None
    assert len(sleeps) == 2
    assert sleeps[0] < sleeps[1] <= 1.0
    google.then("GET", path, 429, {"error": {"code": 429, "message": "Rate Limit Exceeded", "errors": []}})
    google.then("GET", path, 200, "event_inserted.json")
    assert calendar(http, sleeps).get_event("primary", "abcde") is not None


def test_retries_give_up_with_the_last_failure(
    google: Google, http: httpx.Client, sleeps: list[float]
) -> None:
    path = f"{API}/calendars/primary/events/abcde"
    google.then("DELETE", path, 503, "error_500_backend.json").fail(httpx.ConnectError("refused"))
    google.then("DELETE", path, 500, "error_500_backend.json")
    with pytest.raises(GoogleError) as caught:
        calendar(http, sleeps).delete_event("primary", "abcde")
    assert (caught.value.status, caught.value.code, caught.value.retryable) == (500, "server", True)
    assert len(google.requests) == 3


def test_a_network_error_says_what_failed_and_nothing_else(
    google: Google, http: httpx.Client, sleeps: list[float]
) -> None:
    for _ in range(3):
        google.fail(httpx.RemoteProtocolError(f"dropped while sending Bearer {ACCESS}"))
    with pytest.raises(GoogleError) as caught:
        calendar(http, sleeps).get_event("primary", "abcde")
    assert (caught.value.status, caught.value.code, caught.value.message) == (
        0,
        "network",
        "RemoteProtocolError",
    )
    assert ACCESS not in f"{caught.value!r}"


def test_a_backoff_that_would_cross_the_deadline_gives_up(google: Google, http: httpx.Client) -> None:
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    path = f"{API}/calendars/primary/events/abcde"
    google.then("GET", path, 503, "error_500_backend.json").then("GET", path, 503, "error_500_backend.json")
    client = GoogleCalendar(
        CONFIG,
        http,
        REFRESH,
        ACCESS,
        datetime.now(UTC) + timedelta(hours=1),
        budget_s=0.5,
        sleep=sleep,
        clock=lambda: now[0],
    )
    with pytest.raises(GoogleError) as caught:
        client.get_event("primary", "abcde")
    assert caught.value.status == 503
    assert len(google.requests) == 2  # the third try's wait would not fit the half second
    assert now[0] < 0.5


def test_calls_inside_one_deadline_share_it(google: Google, http: httpx.Client) -> None:
    now = [0.0]
    google.then("GET", f"{API}/calendars/primary/events/abcde", 200, "event_inserted.json")
    client = GoogleCalendar(
        CONFIG, http, REFRESH, ACCESS, datetime.now(UTC) + timedelta(hours=1), clock=lambda: now[0]
    )
    with client.deadline(1.0):
        client.get_event("primary", "abcde")
        now[0] = 0.9  # 0.1 s left: the next try may wait that long, no longer
        google.then("GET", f"{API}/calendars/primary/events/abcde", 200, "event_inserted.json")
        client.get_event("primary", "abcde")
        assert google.requests[-1].extensions["timeout"]["read"] == pytest.approx(0.1)
        now[0] = 1.0
        with pytest.raises(GoogleError) as caught:
            client.get_event("primary", "abcde")
    assert caught.value.code == "deadline"


# --- what errors carry, what importing costs -----------------------------------------------------
def test_errors_never_carry_tokens_even_when_google_echoes_them(
    http: httpx.Client, sleeps: list[float]
) -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        said = f"bad header {request.headers['authorization']}"
        return httpx.Response(
            400, json={"error": {"code": 400, "message": said, "errors": [{"reason": "invalid"}]}}
        )

    client = GoogleCalendar(CONFIG, httpx.Client(transport=httpx.MockTransport(echo)), REFRESH, ACCESS, None)
    with pytest.raises(GoogleError) as caught:
        client.get_event("primary", "abcde")
    assert ACCESS not in f"{caught.value} {caught.value!r}"
    assert (caught.value.code, caught.value.reason) == ("bad_request", "invalid")


def test_importing_the_client_loads_neither_google_auth_nor_httpx() -> None:
    # google.oauth2.credentials costs ~340 ms: paid by the first refresh, not by every cold start
    functions = Path(__file__).resolve().parents[2] / "functions"
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import assistec.integrations.google_calendar as g;"
        "g.authorization_url(g.GoogleOAuthConfig('i', 's'), redirect_uri='https://x.test', state='s',"
        " code_challenge=g.pkce_pair()[1]); g.event_id(__import__('uuid').uuid4());"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in ('google', 'httpx')}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(functions)], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
