"""Google's shapes (compare tests/fixtures/google): the Calendar API's error body, the OAuth
endpoints' error body, times as Google writes them, calendar list entries and events."""

from __future__ import annotations

import base64
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from google_sim.state import Calendar

# Client-chosen event ids: base32hex (RFC 4648 "extended hex": 0-9 and a-v), 5 to 1024 characters
EVENT_ID = re.compile(r"[a-v0-9]{5,1024}")
_BASE32HEX = "0123456789abcdefghijklmnopqrstuv"


@dataclass
class Reply:
    """One HTTP answer: status, headers, body bytes."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def json_reply(status: int, body: Any, headers: dict[str, str] | None = None) -> Reply:
    return Reply(
        status,
        json.dumps(body, ensure_ascii=False).encode(),
        {"Content-Type": "application/json; charset=UTF-8", **(headers or {})},
    )


def empty(status: int = 204) -> Reply:
    return Reply(status)


def redirect(location: str) -> Reply:
    return Reply(302, b"", {"Location": location, "Content-Type": "text/html; charset=UTF-8"})


def html(status: int, error: str, description: str) -> Reply:
    """The error page the consent screen shows (no redirect: the redirect URI is not trusted)."""
    page = (
        "<!doctype html><html lang=en><meta charset=utf-8><title>Error</title>"
        f"<h1>Access blocked: authorization error</h1><p>Error {status}: {error}</p><p>{description}</p>"
    )
    return Reply(status, page.encode(), {"Content-Type": "text/html; charset=UTF-8"})


# --- the Calendar API's errors (https://developers.google.com/workspace/calendar/api/guides/errors) --
_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    410: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def api_error(status: int, reason: str, message: str, *, domain: str = "global", **extra: Any) -> Reply:
    """``{"error": {"errors": [{domain, reason, message, …}], "code", "message"}}``."""
    item = {"domain": domain, "reason": reason, "message": message, **extra}
    body = {"error": {"errors": [item], "code": status, "message": message}}
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="https://accounts.google.com/", error="invalid_token"'
    return json_reply(status, body, headers)


def unauthenticated(missing: bool) -> Reply:
    if missing:
        return api_error(401, "required", "Login Required.", locationType="header", location="Authorization")
    return api_error(401, "authError", "Invalid Credentials", locationType="header", location="Authorization")


def insufficient_scopes(method: str) -> Reply:
    """The 403 a token without the method's scopes gets (the newer, google.rpc-flavoured shape)."""
    message = "Request had insufficient authentication scopes."
    body = {
        "error": {
            "code": 403,
            "message": message,
            "errors": [
                {
                    "message": "Insufficient Permission",
                    "domain": "global",
                    "reason": "insufficientPermissions",
                }
            ],
            "status": "PERMISSION_DENIED",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
                    "domain": "googleapis.com",
                    "metadata": {"service": "calendar-json.googleapis.com", "method": method},
                }
            ],
        }
    }
    return json_reply(403, body)


def not_found() -> Reply:
    return api_error(404, "notFound", "Not Found")


def outage(status: int, path: str) -> Reply:
    """A failing Google: the Calendar API's error body, or the OAuth endpoints' one."""
    if not path.startswith("/calendar/"):
        error = "temporarily_unavailable" if status >= 500 else "rate_limit_exceeded"
        return oauth_error(status, error, "The service is currently unavailable.")
    if status in (403, 429):
        domain = "usageLimits" if status == 403 else "global"
        return api_error(status, "rateLimitExceeded", "Rate Limit Exceeded", domain=domain)
    if status == 503:
        return api_error(503, "backendError", "The service is currently unavailable.")
    return api_error(status, "backendError", "Backend Error")


# --- the OAuth endpoints' errors ------------------------------------------------------------------
def oauth_error(status: int, error: str, description: str) -> Reply:
    """``{"error": "invalid_grant", "error_description": "…"}`` (RFC 6749 §5.2, as Google words it)."""
    return json_reply(status, {"error": error, "error_description": description})


# --- times ----------------------------------------------------------------------------------------
def rfc3339_ms(moment: datetime) -> str:
    """``2025-11-03T17:00:00.000Z``: how Google writes ``created``, ``updated`` and freeBusy bounds."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def in_zone(moment: datetime, zone: str | None) -> str:
    """``2025-11-03T14:00:00-03:00`` in ``zone`` (UTC, written ``Z``, without one)."""
    if not zone:
        return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return moment.astimezone(ZoneInfo(zone)).isoformat(timespec="seconds")


def parse_instant(value: Any) -> datetime | None:
    """An RFC 3339 timestamp with its offset (Google refuses one without), or None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def zone_or_none(name: Any) -> ZoneInfo | None:
    if not isinstance(name, str) or not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def event_bound(value: Any, calendar_zone: str) -> datetime | None:
    """An event's ``start``/``end`` as an instant: ``dateTime`` (with its offset, or in its
    ``timeZone``), or an all-day ``date`` (midnight in the calendar's zone)."""
    if not isinstance(value, dict):
        return None
    if isinstance(value.get("date"), str):
        try:
            day = date.fromisoformat(value["date"])
        except ValueError:
            return None
        return datetime.combine(day, time(), ZoneInfo(calendar_zone))
    raw = value.get("dateTime")
    if not isinstance(raw, str):
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        zone = zone_or_none(value.get("timeZone"))
        if zone is None:
            return None
        parsed = parsed.replace(tzinfo=zone)
    return parsed


def normalised_bound(value: dict[str, Any], calendar_zone: str) -> dict[str, Any]:
    """``start``/``end`` as Google answers them: ``dateTime`` with the offset of its ``timeZone``
    (the calendar's without one)."""
    if "date" in value:
        return {"date": value["date"]}
    moment = event_bound(value, calendar_zone)
    assert moment is not None
    zone = value.get("timeZone")
    answer: dict[str, Any] = {"dateTime": in_zone(moment, zone or calendar_zone)}
    if zone:
        answer["timeZone"] = zone
    return answer


# --- ids, etags, links ----------------------------------------------------------------------------
def new_event_id() -> str:
    """An id as Google makes them for events created without one (26 base32hex characters)."""
    return "".join(secrets.choice(_BASE32HEX) for _ in range(26))


def etag(number: int) -> str:
    return f'"{3_500_000_000_000_000 + number}"'


def html_link(event_id: str, calendar_id: str) -> str:
    eid = base64.urlsafe_b64encode(f"{event_id} {calendar_id}".encode()).decode().rstrip("=")
    return f"https://www.google.com/calendar/event?eid={eid}"


# --- resources ------------------------------------------------------------------------------------
def calendar_list_entry(calendar: Calendar) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "kind": "calendar#calendarListEntry",
        "etag": etag(len(calendar.id)),
        "id": calendar.id,
        "summary": calendar.summary,
        "timeZone": calendar.time_zone,
        "colorId": calendar.color_id,
        "backgroundColor": calendar.background_color,
        "foregroundColor": "#000000",
        "selected": True,
        "accessRole": calendar.access_role,
        "defaultReminders": [{"method": "popup", "minutes": 30}] if calendar.access_role == "owner" else [],
        "conferenceProperties": {"allowedConferenceSolutionTypes": ["hangoutsMeet"]},
    }
    if calendar.primary:
        entry["primary"] = True
        entry["notificationSettings"] = {
            "notifications": [
                {"type": "eventCreation", "method": "email"},
                {"type": "eventChange", "method": "email"},
                {"type": "eventCancellation", "method": "email"},
                {"type": "eventResponse", "method": "email"},
            ]
        }
    if calendar.access_role != "owner":
        entry["description"] = "Feriados e datas comemorativas no Brasil"
    return entry


# The fields an event keeps from what the client sends (the rest Google sets or we do not model)
EVENT_FIELDS = (
    "summary",
    "description",
    "location",
    "start",
    "end",
    "status",
    "transparency",
    "visibility",
    "colorId",
    "reminders",
    "attendees",
    "extendedProperties",
    "source",
    "recurrence",
)


def cancelled_stub(body: dict[str, Any]) -> dict[str, Any]:
    """A deleted event as incremental sync lists it: Google only guarantees its ``id``."""
    return {"kind": "calendar#event", "etag": body["etag"], "id": body["id"], "status": "cancelled"}


def later(moment: datetime, seconds: float) -> datetime:
    return moment + timedelta(seconds=seconds)
