"""The simulator: Google's OAuth endpoints and the Calendar API behind one entry point (``handle``),
reached through an httpx transport in tests or the HTTP server (``python -m google_sim``), plus the
control calls that stand in for the account's owner and for Google's own moods."""

from __future__ import annotations

import base64
import copy
import fnmatch
import hashlib
import json
import secrets
import threading
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import httpx

from google_sim import payloads
from google_sim.payloads import Reply, api_error, json_reply, oauth_error
from google_sim.state import (
    AccessToken,
    Account,
    AuthCode,
    Calendar,
    Client,
    Consent,
    Event,
    Grant,
    Outage,
    Page,
    RefreshToken,
    SyncToken,
    token_hash,
)

# The local stage's OAuth client: not a secret, it opens only this simulator on 127.0.0.1.
DEFAULT_CLIENT_ID = "assistec-local.apps.googleusercontent.com"
DEFAULT_CLIENT_SECRET = "assistec-local-google-secret"
DEFAULT_EMAIL = "owner@demo.assistec.local"  # who approves the consent screen without a login_hint
HOLIDAYS_ID = "pt-br.brazilian#holiday@group.v.calendar.google.com"
ACCESS_TOKEN_S = 3599
CODE_S = 600
MAX_FREEBUSY_CALENDARS = 50

_AUTH = "https://www.googleapis.com/auth/"
_CAL = _AUTH + "calendar"
# What each method accepts, from the Calendar API's discovery document (revision 20260517). Note
# that calendar.events does not open the calendar list.
_WRITE = {_CAL, f"{_CAL}.app.created", f"{_CAL}.events", f"{_CAL}.events.owned"}
_READ = _WRITE | {
    f"{_CAL}.readonly",
    f"{_CAL}.events.readonly",
    f"{_CAL}.events.owned.readonly",
    f"{_CAL}.events.freebusy",
    f"{_CAL}.events.public.readonly",
}
METHOD_SCOPES: dict[str, set[str]] = {
    "calendar.calendarList.list": {
        _CAL,
        f"{_CAL}.calendarlist",
        f"{_CAL}.calendarlist.readonly",
        f"{_CAL}.readonly",
    },
    "calendar.freebusy.query": {_CAL, f"{_CAL}.events.freebusy", f"{_CAL}.freebusy", f"{_CAL}.readonly"},
    "calendar.events.insert": _WRITE,
    "calendar.events.patch": _WRITE,
    "calendar.events.delete": _WRITE,
    "calendar.events.get": _READ,
    "calendar.events.list": _READ,
}
KNOWN_SCOPES = (
    set().union(*METHOD_SCOPES.values())
    | {
        f"{_CAL}.{s}"
        for s in ("acls", "acls.readonly", "calendars", "calendars.readonly", "settings.readonly")
    }
    | {"openid", "email", "profile", _AUTH + "userinfo.email", _AUTH + "userinfo.profile"}
)
# Parameters Google refuses next to a syncToken (events.list)
_NOT_WITH_SYNC = (
    "iCalUID",
    "orderBy",
    "privateExtendedProperty",
    "q",
    "sharedExtendedProperty",
    "timeMin",
    "timeMax",
    "updatedMin",
)
_HOLIDAYS = (
    ("Dia da Consciência Negra", "2026-11-20"),
    ("Natal", "2026-12-25"),
    ("Confraternização Universal", "2027-01-01"),
    ("Tiradentes", "2027-04-21"),
)


class SimulatorError(Exception):
    """A control call that cannot be done (unknown account or event: ``KeyError`` instead)."""


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _is_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


class GoogleSimulator:
    def __init__(
        self,
        *,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        default_email: str = DEFAULT_EMAIL,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.default_email = default_email
        self._initial_client = Client(client_id, client_secret)
        self._base_clock = clock
        self._lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        """Everything back to the start: no accounts, no grants, the initial client only."""
        with self._lock:
            self.clients: dict[str, Client] = {
                self._initial_client.client_id: copy.copy(self._initial_client)
            }
            self.accounts: dict[str, Account] = {}
            self.calendars: dict[str, Calendar] = {}
            self.grants: dict[str, Grant] = {}
            self.refresh_tokens: dict[str, RefreshToken] = {}  # by token_hash
            self.access_tokens: dict[str, AccessToken] = {}  # by token_hash
            self.codes: dict[str, AuthCode] = {}  # by token_hash
            self.sync_tokens: dict[str, SyncToken] = {}
            self.pages: dict[str, Page] = {}
            self.rotation = False  # refresh answers carry a new refresh token; the old one dies
            self.consent = Consent()
            self.outages: list[Outage] = []
            # Answers lost after the work was done, once each ("POST /calendar/v3/calendars/*/events",
            # fnmatch on method and path): the transport raises httpx.ReadTimeout, the server drops
            # the connection.
            self.lose_answers: list[str] = []
            self.clock_offset_s = 0.0
            self.calls: deque[tuple[str, str]] = deque(maxlen=10_000)
            self._etags = 0

    def now(self) -> datetime:
        return self._base_clock() + timedelta(seconds=self.clock_offset_s)

    # --- plumbing ------------------------------------------------------------------------------
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._httpx)

    def _httpx(self, request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode().split("?", 1)[0]
        reply = self.handle(
            request.method,
            path,
            dict(request.url.params),
            {k.lower(): v for k, v in request.headers.items()},
            request.content,
        )
        if self.answer_lost(request.method, path):
            raise httpx.ReadTimeout("simulated: the answer was lost after the work was done", request=request)
        return httpx.Response(reply.status, headers=reply.headers, content=reply.body)

    def answer_lost(self, method: str, path: str) -> bool:
        """Whether this call's answer is to be lost (and, if so, one fewer to lose)."""
        call = f"{method} {'/' + '/'.join(unquote(p) for p in path.split('/') if p)}"
        with self._lock:
            for i, pattern in enumerate(self.lose_answers):
                if fnmatch.fnmatchcase(call, pattern):
                    del self.lose_answers[i]
                    return True
        return False

    def handle(
        self, method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str], body: bytes
    ) -> Reply:
        """Answer one call as Google would. ``path`` as sent (percent-encoded segments), ``headers``
        with lower-case names."""
        parts = [unquote(p) for p in path.split("/") if p]
        if parts[:1] == ["_sim"]:
            return self._control(method, parts[1:], body)
        clean = "/" + "/".join(parts)
        with self._lock:
            self.calls.append((method, clean))
            failing = self._take_outage(clean)
            if failing is not None:
                return payloads.outage(failing, clean)
            if method == "GET" and parts == ["o", "oauth2", "v2", "auth"]:
                return self._consent(query, headers)
            if method == "POST" and parts == ["token"]:
                return self._token(_form(headers, body), headers)
            if method == "POST" and parts == ["revoke"]:
                return self._revoke({**query, **_form(headers, body)})
            if parts[:2] == ["calendar", "v3"]:
                return self._api(method, parts[2:], query, headers, body)
        return payloads.not_found()

    def _take_outage(self, path: str) -> int | None:
        for outage in self.outages:
            if path.startswith(outage.path_prefix) and outage.count != 0:
                if outage.count > 0:
                    outage.count -= 1
                status = outage.status
                self.outages = [o for o in self.outages if o.count != 0]
                return status
        return None

    # --- accounts ------------------------------------------------------------------------------
    def account(self, email: str) -> Account:
        """The account (made on first use): its primary calendar (id = the e-mail, as Google's),
        a secondary "Oficina" and Brazil's holidays, read-only."""
        with self._lock:
            found = self.accounts.get(email)
            if found is not None:
                return found
            primary = Calendar(email, email, primary=True)
            shop_id = (
                hashlib.sha256(f"oficina:{email}".encode()).hexdigest()[:26] + "@group.calendar.google.com"
            )
            shop = Calendar(shop_id, "Oficina", color_id="9", background_color="#7bd148")
            for calendar in (primary, shop):
                self.calendars[calendar.id] = calendar
            if HOLIDAYS_ID not in self.calendars:
                self.calendars[HOLIDAYS_ID] = self._holidays()
            account = Account(email, [primary.id, shop.id, HOLIDAYS_ID])
            self.accounts[email] = account
            return account

    def _holidays(self) -> Calendar:
        holidays = Calendar(
            HOLIDAYS_ID, "Feriados no Brasil", access_role="reader", color_id="8", background_color="#16a765"
        )
        for summary, day in _HOLIDAYS:
            end = (datetime.fromisoformat(day) + timedelta(days=1)).date().isoformat()
            body = {
                "id": hashlib.sha256(f"{summary}{day}".encode()).hexdigest()[:20],
                "summary": summary,
                "start": {"date": day},
                "end": {"date": end},
                "transparency": "transparent",
                "visibility": "public",
            }
            self._store_new(holidays, "", body)
        return holidays

    def _calendar_of(self, email: str, calendar_id: str) -> Calendar | None:
        account = self.accounts.get(email)
        if account is None:
            return None
        calendar_id = email if calendar_id == "primary" else calendar_id
        return self.calendars.get(calendar_id) if calendar_id in account.calendars else None

    # --- the consent screen --------------------------------------------------------------------
    def _consent(self, query: Mapping[str, str], headers: Mapping[str, str]) -> Reply:
        wants_json = "application/json" in headers.get("accept", "")

        def refuse(status: int, error: str, description: str) -> Reply:
            if wants_json:
                return oauth_error(status, error, description)
            return payloads.html(status, error, description)

        client = self.clients.get(query.get("client_id", ""))
        if client is None:
            return refuse(401, "invalid_client", "The OAuth client was not found.")
        redirect_uri = query.get("redirect_uri", "")
        if not redirect_uri:
            return refuse(400, "invalid_request", "Missing required parameter: redirect_uri")
        if not _is_url(redirect_uri):
            return refuse(400, "redirect_uri_mismatch", f"Invalid redirect_uri: {redirect_uri}")
        if query.get("response_type") != "code":
            return refuse(400, "invalid_request", f"Invalid response_type: {query.get('response_type', '')}")
        scopes = query.get("scope", "").split()
        if not scopes:
            return refuse(400, "invalid_request", "Missing required parameter: scope")
        unknown = [s for s in scopes if s not in KNOWN_SCOPES]
        if unknown:
            return refuse(
                400,
                "invalid_scope",
                f"Some requested scopes were invalid. {{invalid=[{', '.join(unknown)}]}}",
            )
        if not query.get("code_challenge"):
            # Google accepts a web client without PKCE; assistec always sends it, the simulator insists
            return refuse(400, "invalid_request", "Missing required parameter: code_challenge")
        if query.get("code_challenge_method") != "S256":
            return refuse(400, "invalid_request", "Invalid code_challenge_method (S256 expected)")
        state = {"state": query["state"]} if "state" in query else {}
        if self.consent.deny:
            return payloads.redirect(_with_query(redirect_uri, {"error": "access_denied", **state}))
        email = query.get("login_hint") or self.default_email
        self.account(email)
        granted = [s for s in scopes if s not in self.consent.deny_scopes]
        if query.get("include_granted_scopes") == "true":
            for grant in self.grants.values():
                if (grant.email, grant.client_id, grant.revoked) == (email, client.client_id, False):
                    granted += [s for s in grant.scopes if s not in granted]
        code = "4/0A" + secrets.token_urlsafe(45)
        self.codes[token_hash(code)] = AuthCode(
            client_id=client.client_id,
            redirect_uri=redirect_uri,
            email=email,
            scopes=tuple(granted),
            code_challenge=query["code_challenge"],
            expires_at=self.now() + timedelta(seconds=CODE_S),
            offline=query.get("access_type") == "offline",
        )
        return payloads.redirect(
            _with_query(redirect_uri, {**state, "code": code, "scope": " ".join(granted)})
        )

    # --- the token endpoint --------------------------------------------------------------------
    def _token(self, form: dict[str, str], headers: Mapping[str, str]) -> Reply:
        client_id, secret = _client_auth(form, headers)
        client = self.clients.get(client_id or "")
        if client is None:
            return oauth_error(401, "invalid_client", "The OAuth client was not found.")
        if secret != client.client_secret:
            return oauth_error(401, "invalid_client", "Unauthorized")
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return self._exchange(client, form)
        if grant_type == "refresh_token":
            return self._refresh(client, form)
        if not grant_type:
            return oauth_error(400, "invalid_request", "Missing required parameter: grant_type")
        return oauth_error(400, "unsupported_grant_type", f"Invalid grant_type: {grant_type}")

    def _exchange(self, client: Client, form: dict[str, str]) -> Reply:
        code = form.get("code")
        if not code:
            return oauth_error(400, "invalid_request", "Missing required parameter: code")
        record = self.codes.get(token_hash(code))
        if record is None:
            return oauth_error(400, "invalid_grant", "Malformed auth code.")
        if record.used or self.now() >= record.expires_at or record.client_id != client.client_id:
            return oauth_error(400, "invalid_grant", "Bad Request")
        if form.get("redirect_uri") != record.redirect_uri:
            return oauth_error(400, "redirect_uri_mismatch", "Bad Request")
        verifier = form.get("code_verifier")
        if not verifier:
            return oauth_error(400, "invalid_grant", "Missing code verifier.")
        if _s256(verifier) != record.code_challenge:
            return oauth_error(400, "invalid_grant", "Invalid code verifier.")
        record.used = True
        grant = Grant(uuid.uuid4().hex, record.email, client.client_id, record.scopes)
        self.grants[grant.id] = grant
        answer: dict[str, Any] = {
            "access_token": self._issue_access(grant, grant.scopes),
            "expires_in": ACCESS_TOKEN_S,
        }
        if record.offline:
            answer["refresh_token"] = self._issue_refresh(grant)
        answer.update(scope=" ".join(grant.scopes), token_type="Bearer")
        return json_reply(200, answer, {"Cache-Control": "no-cache, no-store, max-age=0, must-revalidate"})

    def _refresh(self, client: Client, form: dict[str, str]) -> Reply:
        token = form.get("refresh_token")
        if not token:
            return oauth_error(400, "invalid_request", "Missing required parameter: refresh_token")
        record = self.refresh_tokens.get(token_hash(token))
        grant = self.grants.get(record.grant_id) if record else None
        if record is None or grant is None or not record.valid or grant.revoked:
            return oauth_error(400, "invalid_grant", "Token has been expired or revoked.")
        if grant.client_id != client.client_id:
            return oauth_error(401, "unauthorized_client", "Unauthorized")
        scopes = grant.scopes
        if form.get("scope"):
            asked = tuple(form["scope"].split())
            if not set(asked) <= set(grant.scopes):
                return oauth_error(400, "invalid_scope", "Bad Request")
            scopes = asked
        answer: dict[str, Any] = {
            "access_token": self._issue_access(grant, scopes),
            "expires_in": ACCESS_TOKEN_S,
        }
        if self.rotation:
            record.valid = False
            answer["refresh_token"] = self._issue_refresh(grant)
        answer.update(scope=" ".join(scopes), token_type="Bearer")
        return json_reply(200, answer, {"Cache-Control": "no-cache, no-store, max-age=0, must-revalidate"})

    def _issue_access(self, grant: Grant, scopes: tuple[str, ...]) -> str:
        token = "ya29.a0" + secrets.token_urlsafe(90)
        self.access_tokens[token_hash(token)] = AccessToken(
            grant.id, self.now() + timedelta(seconds=ACCESS_TOKEN_S), scopes
        )
        return token

    def _issue_refresh(self, grant: Grant) -> str:
        token = "1//0" + secrets.token_urlsafe(75)
        self.refresh_tokens[token_hash(token)] = RefreshToken(grant.id, self.now())
        return token

    def _revoke(self, form: dict[str, str]) -> Reply:
        token = form.get("token")
        if not token:
            return oauth_error(400, "invalid_request", "Missing required parameter: token")
        hashed = token_hash(token)
        grant: Grant | None = None
        refresh = self.refresh_tokens.get(hashed)
        access = self.access_tokens.get(hashed)
        if refresh is not None and refresh.valid:
            grant = self.grants.get(refresh.grant_id)
        elif access is not None and access.expires_at > self.now():
            grant = self.grants.get(access.grant_id)
        if grant is None or grant.revoked:
            return oauth_error(400, "invalid_token", "Token expired or revoked")
        # The account removes the app's access: every grant of that client on that account goes
        for other in self.grants.values():
            if (other.email, other.client_id) == (grant.email, grant.client_id):
                other.revoked = True
        return json_reply(200, {})

    # --- the Calendar API ----------------------------------------------------------------------
    def _api(
        self, method: str, parts: list[str], query: Mapping[str, str], headers: Mapping[str, str], raw: bytes
    ) -> Reply:
        route = _route(method, parts)
        if route is None:
            return payloads.not_found()
        name, calendar_id, event_id = route
        authorization = headers.get("authorization", "")
        if not authorization.startswith("Bearer "):
            return payloads.unauthenticated(missing=True)
        access = self.access_tokens.get(token_hash(authorization.removeprefix("Bearer ").strip()))
        grant = self.grants.get(access.grant_id) if access else None
        if access is None or grant is None or grant.revoked or self.now() >= access.expires_at:
            return payloads.unauthenticated(missing=False)
        if not set(access.scopes) & METHOD_SCOPES[name]:
            return payloads.insufficient_scopes(name)
        body: Any = None
        if method in ("POST", "PATCH"):
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                return api_error(400, "parseError", "Parse Error")
            if not isinstance(body, dict):
                return api_error(400, "parseError", "Parse Error")
        email = grant.email
        if name == "calendar.calendarList.list":
            return self._calendar_list(email)
        if name == "calendar.freebusy.query":
            return self._free_busy(email, body)
        calendar = self._calendar_of(email, calendar_id)
        if calendar is None:
            return payloads.not_found()
        if name == "calendar.events.list":
            return self._list(calendar, query)
        if name == "calendar.events.insert":
            return self._insert(calendar, email, body)
        event = calendar.events.get(event_id)
        if event is None:
            return payloads.not_found()
        if name == "calendar.events.get":
            return json_reply(200, copy.deepcopy(event.body))
        if name == "calendar.events.patch":
            return self._patch(calendar, event, body)
        return self._delete(calendar, event)

    def _calendar_list(self, email: str) -> Reply:
        account = self.accounts[email]
        items = [payloads.calendar_list_entry(self.calendars[c]) for c in account.calendars]
        return json_reply(
            200,
            {
                "kind": "calendar#calendarList",
                "etag": payloads.etag(len(items)),
                "nextSyncToken": "CP" + secrets.token_urlsafe(12),
                "items": items,
            },
        )

    def _free_busy(self, email: str, body: dict[str, Any]) -> Reply:
        for name in ("timeMin", "timeMax"):
            if name not in body:
                return api_error(
                    400, "required", f"Missing {name} parameter.", locationType="parameter", location=name
                )
        time_min = payloads.parse_instant(body["timeMin"])
        time_max = payloads.parse_instant(body["timeMax"])
        if time_min is None or time_max is None:
            bad = "timeMin" if time_min is None else "timeMax"
            return api_error(
                400, "invalid", f"Invalid value for: {bad}", locationType="parameter", location=bad
            )
        if time_max <= time_min:
            return api_error(
                400,
                "timeRangeEmpty",
                "The specified time range is empty.",
                domain="calendar",
                locationType="parameter",
                location="timeMax",
            )
        zone = body.get("timeZone")
        if zone is not None and payloads.zone_or_none(zone) is None:
            return api_error(
                400, "invalid", "Invalid time zone definition.", locationType="parameter", location="timeZone"
            )
        items = body.get("items")
        items = items if isinstance(items, list) else []
        # Past 50 calendars Google answers each with an error rather than refusing the query: a
        # caller reading only "busy" would see a free day
        too_many = len(items) > MAX_FREEBUSY_CALENDARS
        calendars: dict[str, Any] = {}
        for item in items:
            calendar_id = str(item.get("id")) if isinstance(item, dict) else ""
            calendar = self._calendar_of(email, calendar_id)
            if too_many or calendar is None:
                reason = "tooManyCalendarsRequested" if too_many else "notFound"
                calendars[calendar_id] = {"errors": [{"domain": "global", "reason": reason}], "busy": []}
                continue
            busy = _busy(calendar, time_min, time_max)
            calendars[calendar_id] = {
                "busy": [
                    {"start": payloads.in_zone(s, zone), "end": payloads.in_zone(e, zone)} for s, e in busy
                ]
            }
        return json_reply(
            200,
            {
                "kind": "calendar#freeBusy",
                "timeMin": payloads.rfc3339_ms(time_min),
                "timeMax": payloads.rfc3339_ms(time_max),
                "calendars": calendars,
            },
        )

    # --- events --------------------------------------------------------------------------------
    def _next_etag(self) -> str:
        self._etags += 1
        return payloads.etag(self._etags)

    def _times_problem(self, calendar: Calendar, body: dict[str, Any]) -> Reply | None:
        for name in ("start", "end"):
            value = body.get(name)
            if not isinstance(value, dict) or not (value.get("dateTime") or value.get("date")):
                return api_error(400, "required", f"Missing {name} time.")
            if payloads.event_bound(value, calendar.time_zone) is None:
                if isinstance(value.get("dateTime"), str) and "timeZone" not in value:
                    return api_error(400, "required", f"Missing time zone definition for {name} time.")
                return api_error(400, "invalid", f"Invalid {name} time.")
        start = payloads.event_bound(body["start"], calendar.time_zone)
        end = payloads.event_bound(body["end"], calendar.time_zone)
        if start is not None and end is not None and end < start:
            return api_error(400, "timeRangeEmpty", "The specified time range is empty.", domain="calendar")
        return None

    def _insert(self, calendar: Calendar, email: str, body: dict[str, Any]) -> Reply:
        if calendar.access_role not in ("owner", "writer"):
            return api_error(403, "requiredAccessLevel", "You need to have writer access to this calendar.")
        event_id = body.get("id")
        if event_id is not None and (
            not isinstance(event_id, str) or not payloads.EVENT_ID.fullmatch(event_id)
        ):
            return api_error(400, "invalid", "Invalid resource id value.")
        if event_id in calendar.events:
            # deleted ones too: Google keeps cancelled events, and their ids
            return api_error(409, "duplicate", "The requested identifier already exists.")
        problem = self._times_problem(calendar, body)
        if problem is not None:
            return problem
        return json_reply(200, copy.deepcopy(self._store_new(calendar, email, body).body))

    def _store_new(self, calendar: Calendar, email: str, body: dict[str, Any]) -> Event:
        event_id = str(body.get("id") or payloads.new_event_id())
        now = payloads.rfc3339_ms(self.now())
        person = (
            {"email": email, "self": True}
            if email
            else {"email": calendar.id, "displayName": calendar.summary}
        )
        organizer = (
            person
            if calendar.primary or not email
            else {
                "email": calendar.id,
                "displayName": calendar.summary,
                "self": True,
            }
        )
        resource: dict[str, Any] = {
            "kind": "calendar#event",
            "etag": self._next_etag(),
            "id": event_id,
            "status": "confirmed",
            "htmlLink": payloads.html_link(event_id, calendar.id),
            "created": now,
            "updated": now,
        }
        for name in payloads.EVENT_FIELDS:
            if name in body and body[name] is not None:
                resource[name] = copy.deepcopy(body[name])
        resource.update(
            creator=person,
            organizer=organizer,
            start=payloads.normalised_bound(body["start"], calendar.time_zone),
            end=payloads.normalised_bound(body["end"], calendar.time_zone),
            iCalUID=f"{event_id}@google.com",
            sequence=0,
        )
        resource.setdefault("reminders", {"useDefault": True})
        resource["eventType"] = "default"
        calendar.changes += 1
        event = Event(resource, calendar.changes)
        calendar.events[event_id] = event
        return event

    def _patch(self, calendar: Calendar, event: Event, body: dict[str, Any]) -> Reply:
        if calendar.access_role not in ("owner", "writer"):
            return api_error(403, "requiredAccessLevel", "You need to have writer access to this calendar.")
        changes = {k: v for k, v in body.items() if k in payloads.EVENT_FIELDS}
        merged = _merge(copy.deepcopy(event.body), changes)
        problem = self._times_problem(calendar, merged)
        if problem is not None:
            return problem
        merged["start"] = payloads.normalised_bound(merged["start"], calendar.time_zone)
        merged["end"] = payloads.normalised_bound(merged["end"], calendar.time_zone)
        merged.update(
            etag=self._next_etag(),
            updated=payloads.rfc3339_ms(self.now()),
            sequence=int(event.body.get("sequence", 0)) + 1,
        )
        calendar.changes += 1
        event.body, event.changed = merged, calendar.changes
        return json_reply(200, copy.deepcopy(merged))

    def _delete(self, calendar: Calendar, event: Event) -> Reply:
        if calendar.access_role not in ("owner", "writer"):
            return api_error(403, "requiredAccessLevel", "You need to have writer access to this calendar.")
        if event.cancelled:
            return api_error(410, "deleted", "Resource has been deleted")
        event.body.update(status="cancelled", etag=self._next_etag(), updated=payloads.rfc3339_ms(self.now()))
        calendar.changes += 1
        event.changed = calendar.changes
        return payloads.empty(204)

    def _list(self, calendar: Calendar, query: Mapping[str, str]) -> Reply:
        try:
            size = min(max(int(query.get("maxResults") or 250), 1), 2500)
        except ValueError:
            return api_error(
                400,
                "invalid",
                "Invalid value for: maxResults",
                locationType="parameter",
                location="maxResults",
            )
        page_token = query.get("pageToken")
        if page_token:
            page = self.pages.get(page_token)
            if page is None or page.calendar_id != calendar.id:
                return api_error(
                    400, "invalid", "Invalid Value", locationType="parameter", location="pageToken"
                )
            items, changes = list(page.items), page.changes
        elif query.get("syncToken"):
            clash = [p for p in _NOT_WITH_SYNC if p in query]
            if clash:
                return api_error(400, "invalid", f"{clash[0]} cannot be used together with syncToken.")
            since = self.sync_tokens.get(query["syncToken"])
            if since is None or since.calendar_id != calendar.id:
                return api_error(
                    410, "fullSyncRequired", "Sync token is no longer valid, a full sync is required."
                )
            changed = sorted(
                (e for e in calendar.events.values() if e.changed > since.changes), key=lambda e: e.changed
            )
            items = [
                payloads.cancelled_stub(e.body) if e.cancelled else copy.deepcopy(e.body) for e in changed
            ]
            changes = calendar.changes
        else:
            listed = _full_listing(calendar, query)
            if isinstance(listed, Reply):
                return listed
            items, changes = listed, calendar.changes
        answer: dict[str, Any] = {
            "kind": "calendar#events",
            "etag": payloads.etag(changes),
            "summary": calendar.summary,
            "description": "",
            "updated": max(
                (e.body["updated"] for e in calendar.events.values()),
                default=payloads.rfc3339_ms(self.now()),
            ),
            "timeZone": calendar.time_zone,
            "accessRole": calendar.access_role,
            "defaultReminders": [{"method": "popup", "minutes": 30}]
            if calendar.access_role == "owner"
            else [],
        }
        head, rest = items[:size], items[size:]
        if rest:
            token = "Eg" + secrets.token_urlsafe(24)
            self.pages[token] = Page(calendar.id, tuple(rest), changes)
            answer["nextPageToken"] = token
        else:
            token = "C" + secrets.token_urlsafe(18)
            self.sync_tokens[token] = SyncToken(calendar.id, changes)
            answer["nextSyncToken"] = token
        answer["items"] = head
        return json_reply(200, answer)

    # --- what the account's owner does in Google's own UI ---------------------------------------
    def add_event(self, email: str, event: dict[str, Any], calendar_id: str = "primary") -> dict[str, Any]:
        """The owner adds an event (a dentist appointment): in freeBusy and in events.list from now."""
        with self._lock:
            self.account(email)
            calendar = self._calendar_of(email, calendar_id)
            if calendar is None:
                raise KeyError(calendar_id)
            reply = self._insert(calendar, email, event)
            if reply.status != 200:
                raise SimulatorError(json.dumps(reply.json()))
            return dict(reply.json())

    def owner_patch(self, calendar_id: str, event_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """The owner moves or edits an event (ours too) in Google Calendar."""
        with self._lock:
            calendar, event = self._event(calendar_id, event_id)
            reply = self._patch(calendar, event, changes)
            if reply.status != 200:
                raise SimulatorError(json.dumps(reply.json()))
            return dict(reply.json())

    def owner_delete(self, calendar_id: str, event_id: str) -> None:
        """The owner deletes an event (ours too) in Google Calendar."""
        with self._lock:
            calendar, event = self._event(calendar_id, event_id)
            reply = self._delete(calendar, event)
            if reply.status != 204:
                raise SimulatorError(json.dumps(reply.json()))

    def _event(self, calendar_id: str, event_id: str) -> tuple[Calendar, Event]:
        calendar = self.calendars[calendar_id]
        return calendar, calendar.events[event_id]

    # --- Google's moods ------------------------------------------------------------------------
    def invalidate_refresh_tokens(self, email: str) -> int:
        """Every refresh token of the account now answers invalid_grant (a Testing-mode app's
        7-day expiry, or the owner changed the password). Returns how many died."""
        with self._lock:
            grants = {g.id for g in self.grants.values() if g.email == email}
            dead = [t for t in self.refresh_tokens.values() if t.grant_id in grants and t.valid]
            for token in dead:
                token.valid = False
            return len(dead)

    def expire_access_tokens(self, email: str) -> int:
        """The account's access tokens expire now (a stored one answers 401)."""
        with self._lock:
            grants = {g.id for g in self.grants.values() if g.email == email}
            live = [
                t for t in self.access_tokens.values() if t.grant_id in grants and t.expires_at > self.now()
            ]
            for token in live:
                token.expires_at = self.now()
            return len(live)

    def invalidate_sync_tokens(self) -> None:
        with self._lock:
            self.sync_tokens.clear()

    def set_outage(self, status: int, count: int, path_prefix: str = "/") -> None:
        """The next ``count`` calls under ``path_prefix`` answer ``status`` (-1: until cleared;
        0: clear the outages under that prefix)."""
        with self._lock:
            self.outages = [o for o in self.outages if o.path_prefix != path_prefix]
            if count != 0:
                self.outages.append(Outage(status, count, path_prefix))

    # --- control over HTTP ---------------------------------------------------------------------
    def _control(self, method: str, parts: list[str], raw: bytes) -> Reply:
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            return json_reply(400, {"error": "invalid JSON"})
        body = body if isinstance(body, dict) else {}
        try:
            with self._lock:
                return self._control_route(method, parts, body)
        except KeyError as exc:
            return json_reply(404, {"error": f"not found: {exc.args[0]}"})
        except SimulatorError as exc:
            return json_reply(409, {"error": str(exc)})
        except (ValueError, TypeError) as exc:
            return json_reply(400, {"error": str(exc)})

    def _control_route(self, method: str, parts: list[str], body: dict[str, Any]) -> Reply:
        if (method, parts) == ("POST", ["reset"]):
            self.reset()
            return json_reply(200, {"reset": True})
        if (method, parts) == ("GET", ["state"]):
            return json_reply(200, self.state())
        if (method, parts) == ("POST", ["clients"]):
            client = Client(str(body["client_id"]), str(body["client_secret"]))
            self.clients[client.client_id] = client
            return json_reply(200, {"client_id": client.client_id})
        if (method, parts) == ("POST", ["accounts"]):
            account = self.account(str(body["email"]))
            return json_reply(200, {"email": account.email, "calendars": account.calendars})
        if method == "POST" and len(parts) == 3 and parts[0] == "accounts" and parts[2] == "events":
            event = {k: v for k, v in body.items() if k != "calendar_id"}
            return json_reply(200, self.add_event(parts[1], event, str(body.get("calendar_id") or "primary")))
        if len(parts) == 4 and parts[0] == "calendars" and parts[2] == "events":
            if method == "PATCH":
                return json_reply(200, self.owner_patch(parts[1], parts[3], body))
            if method == "DELETE":
                self.owner_delete(parts[1], parts[3])
                return payloads.empty(204)
        if (method, parts) == ("POST", ["refresh-tokens", "invalidate"]):
            return json_reply(200, {"invalidated": self.invalidate_refresh_tokens(str(body["email"]))})
        if (method, parts) == ("POST", ["access-tokens", "expire"]):
            return json_reply(200, {"expired": self.expire_access_tokens(str(body["email"]))})
        if (method, parts) == ("POST", ["rotation"]):
            self.rotation = body.get("enabled") is True
            return json_reply(200, {"enabled": self.rotation})
        if (method, parts) == ("POST", ["outage"]):
            self.set_outage(
                int(body.get("status") or 503), int(body.get("count", 1)), str(body.get("path_prefix") or "/")
            )
            return json_reply(200, {"outages": [vars(o) for o in self.outages]})
        if (method, parts) == ("POST", ["sync-tokens", "invalidate"]):
            self.invalidate_sync_tokens()
            return json_reply(200, {"invalidated": True})
        if (method, parts) == ("POST", ["consent"]):
            self.consent = Consent(
                body.get("deny") is True, tuple(str(s) for s in body.get("deny_scopes") or ())
            )
            return json_reply(200, vars(self.consent))
        if (method, parts) == ("POST", ["clock"]):
            self.clock_offset_s += float(body.get("advance_s") or 0)
            return json_reply(200, {"now": payloads.rfc3339_ms(self.now())})
        if (method, parts) == ("POST", ["lose-answers"]):
            self.lose_answers = [str(p) for p in body.get("patterns") or []]
            return json_reply(200, {"patterns": self.lose_answers})
        raise KeyError("/_sim/" + "/".join(parts))

    def state(self) -> dict[str, Any]:
        """Everything, tokens shown by a prefix of their SHA-256 only."""
        with self._lock:
            now = self.now()

            def grant_of(grant_id: str) -> Grant:
                return self.grants[grant_id]

            return {
                "now": payloads.rfc3339_ms(now),
                "clients": sorted(self.clients),
                "accounts": {e: {"calendars": a.calendars} for e, a in self.accounts.items()},
                "grants": [
                    {
                        "email": g.email,
                        "client_id": g.client_id,
                        "scopes": list(g.scopes),
                        "revoked": g.revoked,
                    }
                    for g in self.grants.values()
                ],
                "refresh_tokens": [
                    {
                        "sha256": h[:12],
                        "email": grant_of(t.grant_id).email,
                        "valid": t.valid and not grant_of(t.grant_id).revoked,
                        "issued_at": payloads.rfc3339_ms(t.issued_at),
                    }
                    for h, t in self.refresh_tokens.items()
                ],
                "access_tokens": [
                    {
                        "sha256": h[:12],
                        "email": grant_of(t.grant_id).email,
                        "scopes": list(t.scopes),
                        "expires_at": payloads.rfc3339_ms(t.expires_at),
                        "valid": t.expires_at > now and not grant_of(t.grant_id).revoked,
                    }
                    for h, t in self.access_tokens.items()
                ],
                "calendars": {
                    c.id: {
                        "summary": c.summary,
                        "accessRole": c.access_role,
                        "primary": c.primary,
                        "changes": c.changes,
                        "events": [e.body for e in c.events.values()],
                    }
                    for c in self.calendars.values()
                },
                "rotation": self.rotation,
                "consent": vars(self.consent),
                "outages": [vars(o) for o in self.outages],
                "lose_answers": list(self.lose_answers),
                "clock_offset_s": self.clock_offset_s,
            }


def _form(headers: Mapping[str, str], body: bytes) -> dict[str, str]:
    """A POST's parameters: form-encoded (what OAuth clients send) or JSON (Google takes both)."""
    if not body:
        return {}
    if "json" in headers.get("content-type", ""):
        try:
            parsed = json.loads(body)
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in parsed.items()} if isinstance(parsed, dict) else {}
    return dict(parse_qsl(body.decode(errors="replace"), keep_blank_values=True))


def _client_auth(form: dict[str, str], headers: Mapping[str, str]) -> tuple[str | None, str | None]:
    """client_id/client_secret from HTTP Basic (RFC 6749 §2.3.1) or from the form."""
    authorization = headers.get("authorization", "")
    if authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization[6:]).decode()
        except ValueError:
            return None, None
        client_id, _, secret = decoded.partition(":")
        return unquote(client_id), unquote(secret)
    return form.get("client_id"), form.get("client_secret")


def _route(method: str, parts: list[str]) -> tuple[str, str, str] | None:
    """(the method's id, calendar id, event id) of a Calendar API path under /calendar/v3."""
    if parts == ["users", "me", "calendarList"] and method == "GET":
        return "calendar.calendarList.list", "", ""
    if parts == ["freeBusy"] and method == "POST":
        return "calendar.freebusy.query", "", ""
    if len(parts) == 3 and parts[0] == "calendars" and parts[2] == "events":
        name = {"GET": "calendar.events.list", "POST": "calendar.events.insert"}.get(method)
        return (name, parts[1], "") if name else None
    if len(parts) == 4 and parts[0] == "calendars" and parts[2] == "events":
        name = {
            "GET": "calendar.events.get",
            "PATCH": "calendar.events.patch",
            "DELETE": "calendar.events.delete",
        }.get(method)
        return (name, parts[1], parts[3]) if name else None
    return None


def _merge(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Patch semantics: objects merge field by field, arrays and values are replaced, null clears."""
    for key, value in changes.items():
        if value is None:
            current.pop(key, None)
        elif isinstance(value, dict) and isinstance(current.get(key), dict):
            current[key] = _merge(current[key], value)
        else:
            current[key] = copy.deepcopy(value)
    return current


def _busy(calendar: Calendar, time_min: datetime, time_max: datetime) -> list[tuple[datetime, datetime]]:
    """The calendar's busy time in [time_min, time_max): its confirmed, opaque events, clipped to
    the range and merged where they touch or overlap."""
    spans: list[tuple[datetime, datetime]] = []
    for event in calendar.events.values():
        body = event.body
        if event.cancelled or body.get("transparency") == "transparent":
            continue
        start = payloads.event_bound(body.get("start"), calendar.time_zone)
        end = payloads.event_bound(body.get("end"), calendar.time_zone)
        if start is None or end is None or end <= time_min or start >= time_max:
            continue
        spans.append((max(start, time_min), min(end, time_max)))
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _full_listing(calendar: Calendar, query: Mapping[str, str]) -> list[dict[str, Any]] | Reply:
    """events.list without a sync token: live events (cancelled ones too with showDeleted) that end
    after timeMin and start before timeMax, filtered by privateExtendedProperty=key=value."""
    bounds: dict[str, datetime | None] = {}
    for name in ("timeMin", "timeMax"):
        bounds[name] = payloads.parse_instant(query[name]) if name in query else None
        if name in query and bounds[name] is None:
            return api_error(400, "badRequest", "Bad Request", locationType="parameter", location=name)
    show_deleted = query.get("showDeleted") == "true"
    wanted = query.get("privateExtendedProperty", "")
    key, _, value = wanted.partition("=")
    items = []
    for event in sorted(calendar.events.values(), key=lambda e: e.changed):
        body = event.body
        if event.cancelled and not show_deleted:
            continue
        start = payloads.event_bound(body.get("start"), calendar.time_zone)
        end = payloads.event_bound(body.get("end"), calendar.time_zone)
        time_min, time_max = bounds["timeMin"], bounds["timeMax"]
        if time_min is not None and end is not None and end <= time_min:
            continue
        if time_max is not None and start is not None and start >= time_max:
            continue
        if wanted and ((body.get("extendedProperties") or {}).get("private") or {}).get(key) != value:
            continue
        items.append(copy.deepcopy(body))
    return items
