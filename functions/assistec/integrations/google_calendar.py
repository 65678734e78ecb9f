"""Google Calendar in a shop's own Google account, over httpx: OAuth 2.0 for a web server app
(authorization code with PKCE, offline access), token refresh through google-auth, the Calendar API
v3 calls assistec makes, a deadline, retries, and Google's error shapes turned into ``GoogleError``.

Facts: ../shared/PROVIDERS.md §2; the answers' shapes: tests/fixtures/google; the offline Google:
localstack/google_sim.

Scopes (``SCOPES``), each the narrowest that opens what we call (the Calendar API's discovery
document lists the scopes every method accepts):

- ``calendar.events``: events insert/get/patch/delete/list on the account's calendars;
- ``calendar.freebusy``: freeBusy.query (only busy intervals, never what the events say);
- ``calendar.calendarlist.readonly``: calendarList.list, to let the shop pick its calendars and to
  learn the account's e-mail (the primary calendar's id). ``calendar.events`` does **not** open the
  calendar list (calendarList.list takes ``calendar``, ``calendar.readonly``,
  ``calendar.calendarlist`` or ``calendar.calendarlist.readonly``), hence the third scope.

The consent screen lets the owner leave boxes unchecked: check ``TokenSet.missing_scopes()`` after
the exchange. A call whose scope was not granted raises ``GoogleReconnectNeeded`` (``code``
``insufficient_scope``), as does a refresh token Google no longer honours (``invalid_grant``:
revoked, unused for 6 months, or 7 days old while the OAuth app is in Testing): flag the shop's
integration "reconnect Google". A rotated refresh token (``GoogleCalendar.rotated``) must be stored
back, encrypted, before the old one is forgotten.

What is retried, and how long it may take:

- Every Calendar call is retried on 429, 5xx, 403 ``rateLimitExceeded``/``userRateLimitExceeded``
  and network errors, with backoff: reads, PATCH and DELETE are idempotent, and so is an insert,
  because the event's id is ours (``event_id``): a retried insert whose first try landed answers
  409 ``duplicate`` (``GoogleError.code`` ``"duplicate"``), which the caller reads as "exists:
  patch it".
- A 401 on a Calendar call refreshes the access token once and repeats the call.
- Token refreshes and the code exchange are retried likewise (a repeated exchange of a code that
  was used answers ``invalid_grant``: the owner consents again, as without the retry).
- Time budget: every call runs under a deadline of ``budget_s`` (10 s by default), shared by the
  calls inside one ``deadline()`` block (a sync following pages is one). Each try waits at most
  2 s to connect and 8 s for the answer, never past the deadline; a backoff wait that would cross
  it gives up instead.

google-auth is imported only when a token is refreshed (``import google.oauth2.credentials`` costs
200-340 ms): importing this module, building the URL, exchanging a code or calling with a live access
token never loads it. Nothing here logs, and no error carries a token or the client secret.
"""

from __future__ import annotations

import base64
import hashlib
import json as jsonlib
import random
import re
import secrets
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, urlencode

from assistec import __version__
from assistec.integrations.deadline import Deadline

if TYPE_CHECKING:
    import httpx

T = TypeVar("T")

AUTH_URI = "https://accounts.google.com/o/oauth2/v2/auth"
TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL, not a secret
REVOKE_URI = "https://oauth2.googleapis.com/revoke"
API_BASE = "https://www.googleapis.com/calendar/v3"
SCOPES = (
    "https://www.googleapis.com/auth/calendar.events",
    "https://www.googleapis.com/auth/calendar.freebusy",
    "https://www.googleapis.com/auth/calendar.calendarlist.readonly",
)
SAO_PAULO = "America/Sao_Paulo"
MAX_FREEBUSY_CALENDARS = 50
BUDGET_S = 10.0  # what one operation may spend on Google
_MIN_TRY_S = 0.05  # a try with less time left than this is not started
_EXPIRY_MARGIN = timedelta(seconds=60)  # an access token this close to its end is refreshed first
_MAX_MESSAGE = 300  # characters of Google's error message kept
_MAX_PAGES = 200  # a listing longer than this is not followed (50 000 events at 250 a page)
_RETRYABLE = {429, 500, 502, 503, 504}
_RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}
_EVENT_ID = re.compile(r"[a-v0-9]{5,1024}")  # base32hex, as Google wants client-chosen ids

_deadline = Deadline("google_deadline")  # this provider's, per thread/context


# --- errors ---------------------------------------------------------------------------------------
@dataclass
class GoogleError(Exception):
    """Google refused the call, or stayed unavailable after the retries.

    ``status``: the HTTP status (0: no answer); ``code``: what went wrong, for callers to branch on
    (``duplicate``, ``not_found``, ``deleted``, ``forbidden``, ``unauthorized``, ``rate_limited``,
    ``server``, ``network``, ``deadline``, ``bad_request``, and the OAuth errors as Google names
    them: ``invalid_grant``, ``invalid_client``, ``redirect_uri_mismatch``, …); ``reason``: Google's
    own (``error.errors[0].reason`` or the OAuth ``error``); ``retryable``: trying again later may
    work."""

    status: int
    code: str
    message: str = ""
    retryable: bool = False
    reason: str = field(default="", compare=False)

    def __str__(self) -> str:
        return f"Google answered {self.status} ({self.code}): {self.message or 'no details'}"


@dataclass
class GoogleReconnectNeeded(GoogleError):
    """The shop must connect its Google account again: the refresh token is dead (``invalid_grant``)
    or a scope we need was not granted (``insufficient_scope``)."""


@dataclass
class SyncTokenExpired(GoogleError):
    """The sync token is no longer valid (410 ``fullSyncRequired``): list again without one."""


@dataclass
class GoogleFreeBusyError(GoogleError):
    """Google could not tell the busy time of some calendars (``failed``: id → Google's reason,
    e.g. ``notFound``); ``busy`` holds the answer for the others. An unknown calendar is never
    read as a free one."""

    failed: dict[str, str] = field(default_factory=dict, compare=False)
    busy: dict[str, list[tuple[datetime, datetime]]] = field(default_factory=dict, compare=False)


# --- configuration and OAuth ----------------------------------------------------------------------
@dataclass(frozen=True)
class GoogleOAuthConfig:
    """The OAuth client (Google Cloud console, "Web application") and the endpoints: Google's by
    default, the simulator's on the local stage."""

    client_id: str
    client_secret: str = field(repr=False)
    auth_uri: str = AUTH_URI
    token_uri: str = TOKEN_URI
    revoke_uri: str = REVOKE_URI
    api_base: str = API_BASE

    @classmethod
    def from_secret(cls, secret: Mapping[str, Any]) -> GoogleOAuthConfig:
        """From the Secrets Manager JSON: ``client_id``, ``client_secret`` and, optionally,
        ``auth_uri``, ``token_uri``, ``revoke_uri``, ``api_base``."""
        missing = [
            k for k in ("client_id", "client_secret") if not isinstance(secret.get(k), str) or not secret[k]
        ]
        if missing:
            raise ValueError(f"the Google OAuth secret lacks {', '.join(missing)}")
        urls = {
            k: str(secret[k]).rstrip("/")
            for k in ("auth_uri", "token_uri", "revoke_uri", "api_base")
            if secret.get(k)
        }
        return cls(client_id=secret["client_id"], client_secret=secret["client_secret"], **urls)


@dataclass(frozen=True)
class TokenSet:
    """What the code exchange gives: the tokens (kept out of ``repr``), when the access token
    expires (aware, UTC) and the scopes the owner granted."""

    access_token: str = field(repr=False)
    expires_at: datetime
    refresh_token: str = field(repr=False)
    scopes: tuple[str, ...]

    def missing_scopes(self, required: Iterable[str] = SCOPES) -> tuple[str, ...]:
        """The required scopes the owner left unchecked on the consent screen."""
        return tuple(s for s in required if s not in self.scopes)


def pkce_pair() -> tuple[str, str]:
    """``(verifier, challenge)`` for PKCE (RFC 7636): a 64-character verifier from 48 random bytes
    (base64url, the unreserved set), the challenge its S256: base64url(SHA-256(verifier)), unpadded."""
    verifier = secrets.token_urlsafe(48)
    return verifier, _s256(verifier)


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).decode().rstrip("=")


def authorization_url(
    config: GoogleOAuthConfig,
    *,
    redirect_uri: str,
    state: str,
    code_challenge: str,
    login_hint: str | None = None,
    scopes: Sequence[str] = SCOPES,
) -> str:
    """Where to send the owner to consent: offline access (a refresh token), the consent screen
    every time (``prompt=consent``: Google issues a new refresh token only then), PKCE S256 and the
    scopes granted before kept (``include_granted_scopes``)."""
    params = {
        "client_id": config.client_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": " ".join(scopes),
        "state": state,
        "code_challenge": code_challenge,
        "code_challenge_method": "S256",
        "access_type": "offline",
        "prompt": "consent",
        "include_granted_scopes": "true",
    }
    if login_hint:
        params["login_hint"] = login_hint
    return f"{config.auth_uri}?{urlencode(params, quote_via=quote)}"


def exchange_code(
    config: GoogleOAuthConfig,
    http: httpx.Client,
    *,
    code: str,
    verifier: str,
    redirect_uri: str,
    budget_s: float = BUDGET_S,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> TokenSet:
    """Trade the code the consent screen redirected with for tokens. Google refusing it raises
    ``GoogleError`` (``invalid_grant``: used, expired, or the verifier does not match;
    ``redirect_uri_mismatch``; ``invalid_client``); an answer without a refresh token (no
    ``access_type=offline``) raises ``GoogleError`` ``no_refresh_token``."""
    calls = _Calls(http, sleep=sleep, clock=clock, budget_s=budget_s)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": verifier,
        "redirect_uri": redirect_uri,
        "client_id": config.client_id,
        "client_secret": config.client_secret,
    }
    hidden = (code, verifier, config.client_secret)
    answer = calls.retrying(lambda: _oauth_post(calls, config.token_uri, form, hidden))
    access, refresh = answer.get("access_token"), answer.get("refresh_token")
    if not isinstance(access, str) or not access:
        raise GoogleError(200, "bad_answer", "the token endpoint answered without an access token")
    if not isinstance(refresh, str) or not refresh:
        raise GoogleError(200, "no_refresh_token", "no refresh token: was access_type=offline asked?")
    return TokenSet(
        access_token=access,
        expires_at=datetime.now(UTC) + timedelta(seconds=_int(answer.get("expires_in"), 3599)),
        refresh_token=refresh,
        scopes=tuple(str(answer.get("scope") or "").split()),
    )


def revoke(
    config: GoogleOAuthConfig,
    http: httpx.Client,
    token: str,
    *,
    budget_s: float = BUDGET_S,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> bool:
    """Revoke the grant a token belongs to (the shop disconnects Google): True when revoked now,
    False when Google already held it dead (400 ``invalid_token``): done either way. Retried like a
    read; other refusals raise ``GoogleError``."""
    calls = _Calls(http, sleep=sleep, clock=clock, budget_s=budget_s)

    def attempt() -> bool:
        try:
            _oauth_post(calls, config.revoke_uri, {"token": token}, (token,))
        except GoogleError as exc:
            if exc.status == 400 and exc.reason == "invalid_token":
                return False
            raise
        return True

    return calls.retrying(attempt)


def event_id(appointment_id: uuid.UUID, attempt: int = 0) -> str:
    """The Google event id of an appointment: ``ast`` + the UUID's 32 hex digits (+ ``r<n>`` for
    ``attempt`` n > 0). Base32hex is 0-9 and a-v: hex digits, ``a``, ``s``, ``t`` and ``r`` all
    belong. The same appointment always gets the same id, which makes inserting it idempotent.

    Google keeps deleted events: once the owner deletes ours, its id answers 409 for good. To put
    the appointment back, patch it (``{"status": "confirmed", …}`` restores a cancelled event) or
    insert it under the next ``attempt``."""
    if attempt < 0:
        raise ValueError("attempt must be >= 0")
    return f"ast{appointment_id.hex}" + (f"r{attempt}" if attempt else "")


# --- google-auth, loaded on the first refresh -----------------------------------------------------
@cache
def _google_auth() -> SimpleNamespace:
    """google-auth's pieces and the httpx adapter, built on first use (the import costs a few
    hundred ms: 200-340 measured)."""
    import google.auth.exceptions
    import google.auth.transport
    import google.oauth2.credentials
    import httpx

    class HttpxResponse(google.auth.transport.Response):
        def __init__(self, response: httpx.Response) -> None:
            self._response = response

        @property
        def status(self) -> int:
            return self._response.status_code

        @property
        def headers(self) -> Mapping[str, str]:
            return self._response.headers

        @property
        def data(self) -> bytes:
            return self._response.content

    class RetryableAnswer(google.auth.exceptions.TransportError):
        """The token endpoint answered 408, 429 or 5xx (or an error body Google marks temporary)."""

        def __init__(self, status: int) -> None:
            super().__init__(f"the token endpoint answered {status}")  # type: ignore[no-untyped-call]
            self.status = status

    class HttpxRequest(google.auth.transport.Request):
        """google-auth's transport interface over an ``httpx.Client``.

        Why not google-auth's own transports: ``google.auth.transport.requests`` needs the
        ``requests`` package, which the Lambda layer does not carry, and ``transport.urllib3``
        would be a second HTTP stack (its own pools and timeouts, outside the deadline, blind to the
        test transports). Over httpx, a refresh shares the client, its timeouts, the operation's
        deadline and the test transports (``httpx.MockTransport``, the simulator) with every other
        provider call.

        ``timeout``: seconds, or a callable giving the ``httpx.Timeout`` of the current try (the
        deadline's remainder). ``defer_retries``: google-auth retries a 429/5xx token answer itself,
        sleeping 1 s, 2 s… with ``time.sleep`` whatever the deadline; with it (the default) such an
        answer raises ``RetryableAnswer`` (a ``TransportError``) instead, and the caller's own loop,
        deadline-bound, decides. httpx errors raise ``TransportError`` (the httpx error as its
        cause)."""

        def __init__(
            self,
            http: httpx.Client,
            *,
            timeout: Callable[[], httpx.Timeout] | float | None = None,
            defer_retries: bool = True,
        ) -> None:
            self._http = http
            self._timeout = timeout
            self._defer_retries = defer_retries

        def __call__(
            self,
            url: str,
            method: str = "GET",
            body: bytes | None = None,
            headers: Mapping[str, str] | None = None,
            timeout: float | None = None,
            **kwargs: Any,
        ) -> HttpxResponse:
            chosen: httpx.Timeout | float | None = (
                self._timeout() if callable(self._timeout) else self._timeout
            )
            if timeout is not None:
                chosen = timeout if chosen is None else _shorter(chosen, timeout)
            try:
                response = self._http.request(
                    method, url, content=body, headers=dict(headers or {}), timeout=chosen or 8.0
                )
            except httpx.HTTPError as exc:
                failure = google.auth.exceptions.TransportError(type(exc).__name__)  # type: ignore[no-untyped-call]
                raise failure from exc
            if self._defer_retries and _temporary(response):
                raise RetryableAnswer(response.status_code)
            return HttpxResponse(response)

    def _shorter(current: httpx.Timeout | float, limit: float) -> httpx.Timeout | float:
        if isinstance(current, httpx.Timeout):
            return httpx.Timeout(
                min(current.read or limit, limit), connect=min(current.connect or limit, limit)
            )
        return min(current, limit)

    return SimpleNamespace(
        Credentials=google.oauth2.credentials.Credentials,
        RefreshError=google.auth.exceptions.RefreshError,
        TransportError=google.auth.exceptions.TransportError,
        RetryableAnswer=RetryableAnswer,
        HttpxRequest=HttpxRequest,
        HttpxResponse=HttpxResponse,
    )


def _temporary(response: httpx.Response) -> bool:
    """What google-auth's token client would retry (``_client._can_retry``)."""
    if response.status_code in (408, 429) or response.status_code >= 500:
        return True
    if response.status_code == 200:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    if not isinstance(body, dict):
        return False
    temporary = {"internal_failure", "server_error", "temporarily_unavailable"}
    return body.get("error") in temporary or body.get("error_description") in temporary


def __getattr__(name: str) -> Any:
    """``HttpxRequest`` on demand: reading it loads google-auth."""
    if name in ("HttpxRequest", "HttpxResponse", "RetryableAnswer"):
        return getattr(_google_auth(), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --- one call, retried within the deadline --------------------------------------------------------
class _Calls:
    """Tries, timeouts and backoff under this provider's deadline."""

    def __init__(
        self,
        http: httpx.Client,
        *,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
        budget_s: float,
        timeout_s: float = 8.0,
        connect_timeout_s: float = 2.0,
        max_attempts: int = 3,
        max_wait_s: float = 1.0,
    ) -> None:
        self.http = http
        self._sleep = sleep
        self._clock = clock
        self._budget_s = budget_s
        self._timeout_s = timeout_s
        self._connect_timeout_s = min(timeout_s, connect_timeout_s)
        self._max_attempts = max_attempts
        self._max_wait_s = max_wait_s

    def deadline(self, budget_s: float | None = None) -> AbstractContextManager[None]:
        return _deadline.within(self._clock, self._budget_s if budget_s is None else budget_s)

    def timeout(self) -> httpx.Timeout:
        """This try's timeouts: the configured ones, never past the deadline."""
        import httpx

        remaining = max(_deadline.remaining_s(self._clock), _MIN_TRY_S)
        return httpx.Timeout(min(self._timeout_s, remaining), connect=min(self._connect_timeout_s, remaining))

    def retrying(self, attempt: Callable[[], T]) -> T:
        """``attempt()`` until it returns; a retryable ``GoogleError`` is tried again after a
        backoff while attempts and the deadline allow, anything else is raised at once."""
        with self.deadline():
            last: GoogleError | None = None
            for number in range(self._max_attempts):
                if _deadline.remaining_s(self._clock) < _MIN_TRY_S:
                    break
                try:
                    return attempt()
                except GoogleError as exc:
                    if not exc.retryable:
                        raise
                    last = exc
                wait = _backoff_s(number, self._max_wait_s)
                if number + 1 >= self._max_attempts or wait + _MIN_TRY_S > _deadline.remaining_s(self._clock):
                    break
                self._sleep(wait)
            raise last or GoogleError(0, "deadline", "Google time budget spent", retryable=True)

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        content: bytes | None = None,
        params: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """One try; a network error raises a retryable ``GoogleError`` (``network``)."""
        import httpx

        try:
            return self.http.request(
                method,
                url,
                content=content,
                params=params,
                headers={"User-Agent": f"assistec/{__version__}", "Accept": "application/json", **headers},
                timeout=self.timeout(),
            )
        except httpx.TransportError as exc:
            raise GoogleError(0, "network", type(exc).__name__, retryable=True) from exc


def _backoff_s(attempt: int, cap_s: float) -> float:
    return float(min(cap_s, 0.25 * 2.0**attempt + random.uniform(0, 0.1)))  # noqa: S311 - jitter, not crypto


def _oauth_post(calls: _Calls, url: str, form: Mapping[str, str], hidden: Sequence[str]) -> dict[str, Any]:
    """One form POST to an OAuth endpoint: the JSON answer, or the OAuth error raised."""
    response = calls.send(
        "POST",
        url,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        content=urlencode(form).encode(),
    )
    if response.status_code == 200:
        try:
            body = response.json() if response.content else {}
        except ValueError:
            body = {}
        return body if isinstance(body, dict) else {}
    raise _oauth_error(response, hidden)


def _oauth_error(response: httpx.Response, hidden: Sequence[str]) -> GoogleError:
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    error = str(body.get("error") or "") if isinstance(body, dict) else ""
    description = str(body.get("error_description") or "") if isinstance(body, dict) else response.text
    retryable = _temporary(response)
    code = error or ("rate_limited" if status == 429 else "server" if status >= 500 else "bad_request")
    return GoogleError(status, code, _scrub(description, hidden), retryable=retryable, reason=error)


# --- the Calendar API -----------------------------------------------------------------------------
class GoogleCalendar:
    """One shop's Google account: the Calendar API with its refresh token (see the module's
    docstring for scopes, retries and the deadline).

    ``refresh_token`` (and ``access_token``/``expires_at`` when a live one is stored) come from the
    shop's encrypted record. After use, ``rotated`` tells whether Google handed out a new refresh
    token (``refresh_token``): store it back. ``access_token`` and ``expires_at`` may be cached
    likewise (an hour's worth of calls without a refresh)."""

    def __init__(
        self,
        config: GoogleOAuthConfig,
        http: httpx.Client,
        refresh_token: str,
        access_token: str | None = None,
        expires_at: datetime | None = None,
        budget_s: float = BUDGET_S,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        timeout_s: float = 8.0,
        connect_timeout_s: float = 2.0,
        max_attempts: int = 3,
        max_wait_s: float = 1.0,
    ) -> None:
        if not refresh_token:
            raise ValueError("a refresh token is needed")
        if expires_at is not None and expires_at.tzinfo is None:
            raise ValueError("expires_at must be timezone-aware")
        self._config = config
        self._refresh_token = refresh_token
        self._access_token = access_token
        self._expires_at = expires_at
        self._rotated = False
        self._calls = _Calls(
            http,
            sleep=sleep,
            clock=clock,
            budget_s=budget_s,
            timeout_s=timeout_s,
            connect_timeout_s=connect_timeout_s,
            max_attempts=max_attempts,
            max_wait_s=max_wait_s,
        )

    @property
    def refresh_token(self) -> str:
        return self._refresh_token

    @property
    def access_token(self) -> str | None:
        return self._access_token

    @property
    def expires_at(self) -> datetime | None:
        return self._expires_at

    @property
    def rotated(self) -> bool:
        """Google replaced the refresh token: persist ``refresh_token`` (the old one is dead)."""
        return self._rotated

    def deadline(self, budget_s: float | None = None) -> AbstractContextManager[None]:
        """Every call inside the block shares one deadline, ``budget_s`` (default: the client's
        budget) from now; inside another deadline the earlier one holds."""
        return self._calls.deadline(budget_s)

    # --- tokens --------------------------------------------------------------------------------
    def _hidden(self) -> tuple[str, ...]:
        return tuple(t for t in (self._access_token, self._refresh_token, self._config.client_secret) if t)

    def _token_is_fresh(self) -> bool:
        if not self._access_token:
            return False
        return self._expires_at is None or self._expires_at - datetime.now(UTC) > _EXPIRY_MARGIN

    def refresh(self) -> None:
        """A new access token now, through google-auth's ``Credentials`` over ``HttpxRequest``,
        within the deadline and retried like a read. ``invalid_grant`` raises
        ``GoogleReconnectNeeded``."""
        self._calls.retrying(self._refresh_once)

    def _refresh_once(self) -> None:
        auth = _google_auth()
        credentials = auth.Credentials(
            token=None,
            refresh_token=self._refresh_token,
            token_uri=self._config.token_uri,
            client_id=self._config.client_id,
            client_secret=self._config.client_secret,
        )
        request = auth.HttpxRequest(self._calls.http, timeout=self._calls.timeout)
        try:
            credentials.refresh(request)
        except auth.RetryableAnswer as exc:
            code = "rate_limited" if exc.status == 429 else "server"
            raise GoogleError(exc.status, code, "token endpoint unavailable", retryable=True) from None
        except auth.RefreshError as exc:
            raise _refresh_error(exc.args, self._hidden()) from None
        except auth.TransportError as exc:
            cause = type(exc.__cause__).__name__ if exc.__cause__ else "TransportError"
            raise GoogleError(0, "network", cause, retryable=True) from None
        token, expiry = credentials.token, credentials.expiry
        if not isinstance(token, str) or not token:
            raise GoogleError(200, "bad_answer", "the token endpoint answered without an access token")
        self._access_token = token
        self._expires_at = (
            expiry.replace(tzinfo=UTC)
            if isinstance(expiry, datetime)
            else datetime.now(UTC) + timedelta(seconds=3599)
        )
        new_refresh = credentials.refresh_token
        if isinstance(new_refresh, str) and new_refresh and new_refresh != self._refresh_token:
            self._refresh_token = new_refresh
            self._rotated = True

    # --- one API call --------------------------------------------------------------------------
    def _api(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        """One Calendar call within the deadline: a token refreshed first when needed, once more
        after a 401, retried on what may pass. A 2xx is returned; anything else raised."""
        url = self._config.api_base.rstrip("/") + path
        content = jsonlib.dumps(json, ensure_ascii=False).encode() if json is not None else None

        def attempt() -> httpx.Response:
            if not self._token_is_fresh():
                self._refresh_once()
            refreshed_for_401 = False
            while True:
                headers = {"Authorization": f"Bearer {self._access_token}"}
                if content is not None:
                    headers["Content-Type"] = "application/json"
                response = self._calls.send(method, url, headers=headers, content=content, params=params)
                if response.status_code == 401 and not refreshed_for_401:
                    refreshed_for_401 = True  # expired or revoked early: one refresh, one more try
                    self._refresh_once()
                    continue
                if response.status_code < 400:
                    return response
                raise _api_error(response, self._hidden())

        return self._calls.retrying(attempt)

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self._api(method, path, **kwargs)
        try:
            body = response.json() if response.content else {}
        except ValueError as exc:
            raise GoogleError(response.status_code, "bad_answer", "the answer is not JSON") from exc
        return body if isinstance(body, dict) else {}

    # --- calendars -----------------------------------------------------------------------------
    def calendars(self) -> list[dict[str, Any]]:
        """The account's calendars (calendarList): ``id``, ``summary`` (the owner's own name for it
        when set), ``primary``, ``accessRole`` (``owner``/``writer`` take our events; ``reader``
        and ``freeBusyReader`` only count for availability) and ``timeZone``. The primary's id is
        the account's e-mail."""
        found: list[dict[str, Any]] = []
        params: dict[str, str] = {"maxResults": "250"}
        with self.deadline():
            for _ in range(_MAX_PAGES):
                body = self._json("GET", "/users/me/calendarList", params=params)
                for item in body.get("items") or []:
                    if isinstance(item, dict) and item.get("id") and not item.get("deleted"):
                        found.append(
                            {
                                "id": str(item["id"]),
                                "summary": str(item.get("summaryOverride") or item.get("summary") or ""),
                                "primary": item.get("primary") is True,
                                "accessRole": str(item.get("accessRole") or ""),
                                "timeZone": str(item.get("timeZone") or ""),
                            }
                        )
                token = body.get("nextPageToken")
                if not token:
                    break
                params = {"maxResults": "250", "pageToken": str(token)}
        return found

    def account_email(self) -> str:
        """The connected account's e-mail: the primary calendar's id."""
        for calendar in self.calendars():
            if calendar["primary"]:
                return str(calendar["id"])
        raise GoogleError(200, "bad_answer", "the calendar list has no primary calendar")

    def free_busy(
        self,
        calendar_ids: Sequence[str],
        time_min: datetime,
        time_max: datetime,
        tz: str = SAO_PAULO,
    ) -> dict[str, list[tuple[datetime, datetime]]]:
        """The busy intervals of each calendar in [time_min, time_max) (aware datetimes), as Google
        merges them from the events it holds (opaque, not cancelled). At most 50 calendars.

        Per-calendar failures are raised, not skipped: ``GoogleFreeBusyError`` with ``failed``
        (id → Google's reason) and ``busy`` (the calendars that answered), so a calendar Google
        could not read is never taken for a free one; the caller decides whether the others
        suffice."""
        ids = list(dict.fromkeys(calendar_ids))
        if not ids:
            raise ValueError("at least one calendar")
        if len(ids) > MAX_FREEBUSY_CALENDARS:
            raise ValueError(f"at most {MAX_FREEBUSY_CALENDARS} calendars per freeBusy query")
        if time_min.tzinfo is None or time_max.tzinfo is None:
            raise ValueError("time_min and time_max must be timezone-aware")
        if time_max <= time_min:
            raise ValueError("time_max must come after time_min")
        body = self._json(
            "POST",
            "/freeBusy",
            json={
                "timeMin": _rfc3339(time_min),
                "timeMax": _rfc3339(time_max),
                "timeZone": tz,
                "items": [{"id": i} for i in ids],
            },
        )
        answered = body.get("calendars")
        answered = answered if isinstance(answered, dict) else {}
        busy: dict[str, list[tuple[datetime, datetime]]] = {}
        failed: dict[str, str] = {}
        for calendar_id in ids:
            entry = answered.get(calendar_id)
            if not isinstance(entry, dict):
                failed[calendar_id] = "missing"
                continue
            errors = entry.get("errors") or []
            if errors:
                first = errors[0] if isinstance(errors[0], dict) else {}
                failed[calendar_id] = str(first.get("reason") or "unknown")
                continue
            try:
                busy[calendar_id] = [
                    (_parse_time(span["start"]), _parse_time(span["end"])) for span in entry.get("busy") or []
                ]
            except (KeyError, TypeError, ValueError):
                failed[calendar_id] = "bad_answer"
        if failed:
            reasons = ", ".join(sorted(set(failed.values())))
            raise GoogleFreeBusyError(
                200,
                "calendar_errors",
                f"no availability for {len(failed)} calendar(s): {reasons}",
                failed=failed,
                busy=busy,
            )
        return busy

    # --- events --------------------------------------------------------------------------------
    def insert_event(self, calendar_id: str, event: Mapping[str, Any]) -> dict[str, Any]:
        """Create ``event``, which must carry our ``id`` (``event_id``): that is what makes the
        insert safe to retry. An id already taken (a retry whose first try landed, or an event
        deleted since: Google keeps those) raises ``GoogleError`` ``duplicate``: patch it instead."""
        chosen = event.get("id")
        if not isinstance(chosen, str) or not _EVENT_ID.fullmatch(chosen):
            raise ValueError("the event needs an id of 5-1024 base32hex characters (event_id())")
        return self._json("POST", f"{_events(calendar_id)}", json=dict(event))

    def get_event(self, calendar_id: str, event_id: str) -> dict[str, Any] | None:
        """The event, None when Google does not know it. A deleted one comes back with
        ``status`` ``cancelled``."""
        try:
            return self._json("GET", f"{_events(calendar_id)}/{_segment(event_id)}")
        except GoogleError as exc:
            if exc.code == "not_found":
                return None
            raise

    def patch_event(self, calendar_id: str, event_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Change some fields (patch semantics: objects merge, arrays and values are replaced);
        ``{"status": "confirmed"}`` brings back a deleted event. Unknown: ``GoogleError``
        ``not_found``."""
        return self._json("PATCH", f"{_events(calendar_id)}/{_segment(event_id)}", json=dict(changes))

    def delete_event(self, calendar_id: str, event_id: str) -> bool:
        """Delete the event: True when this call deleted it; False when it was gone already (404,
        or 410 for one deleted before, a retry after a lost answer included)."""
        try:
            self._api("DELETE", f"{_events(calendar_id)}/{_segment(event_id)}")
        except GoogleError as exc:
            if exc.code in ("not_found", "deleted"):
                return False
            raise
        return True

    def list_changes(
        self,
        calendar_id: str,
        sync_token: str | None = None,
        time_min: datetime | None = None,
        *,
        page_size: int = 250,
    ) -> tuple[list[dict[str, Any]], str]:
        """Events changed since ``sync_token`` (deleted ones as ``{"id", "status": "cancelled"}``,
        maybe more), or without one every event (deleted ones included) ending after ``time_min``;
        all pages followed. Returns them with the ``nextSyncToken`` to keep for the next call. A
        sync token Google dropped raises ``SyncTokenExpired``: list again without it."""
        if sync_token and time_min is not None:
            raise ValueError("Google refuses timeMin next to a syncToken")
        if time_min is not None and time_min.tzinfo is None:
            raise ValueError("time_min must be timezone-aware")
        params: dict[str, str] = {"maxResults": str(page_size), "showDeleted": "true"}
        if sync_token:
            params["syncToken"] = sync_token
        elif time_min is not None:
            params["timeMin"] = _rfc3339(time_min)
        items: list[dict[str, Any]] = []
        with self.deadline():
            page_token: str | None = None
            for _ in range(_MAX_PAGES):
                query = {**params, "pageToken": page_token} if page_token else params
                body = self._json("GET", _events(calendar_id), params=query)
                items.extend(i for i in body.get("items") or [] if isinstance(i, dict))
                page_token = str(body["nextPageToken"]) if body.get("nextPageToken") else None
                if page_token:
                    continue
                next_sync = body.get("nextSyncToken")
                if not next_sync:
                    raise GoogleError(200, "bad_answer", "the last page carries no nextSyncToken")
                return items, str(next_sync)
        raise GoogleError(200, "too_many_pages", f"more than {_MAX_PAGES} pages of events")


# --- helpers --------------------------------------------------------------------------------------
def _segment(value: str) -> str:
    return quote(value, safe="")


def _events(calendar_id: str) -> str:
    return f"/calendars/{_segment(calendar_id)}/events"


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _parse_time(value: Any) -> datetime:
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise ValueError("a time without its offset")
    return parsed


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


_API_CODES = {
    "duplicate": "duplicate",
    "notFound": "not_found",
    "deleted": "deleted",
    "authError": "unauthorized",
    "required": "unauthorized",
    "requiredAccessLevel": "forbidden",
    "forbidden": "forbidden",
    "rateLimitExceeded": "rate_limited",
    "userRateLimitExceeded": "rate_limited",
    "quotaExceeded": "quota_exceeded",
    "backendError": "server",
}


def _api_error(response: httpx.Response, hidden: Sequence[str]) -> GoogleError:
    """The Calendar API's ``{"error": {"errors": [{"reason", …}], "code", "message"}}`` as a
    ``GoogleError`` (or one of its subclasses)."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    message, reason = "", ""
    if isinstance(error, dict):
        message = str(error.get("message") or "")
        items = error.get("errors")
        if isinstance(items, list) and items and isinstance(items[0], dict):
            reason = str(items[0].get("reason") or "")
    elif body is None:
        message = response.text
    message = _scrub(message, hidden)
    retryable = status in _RETRYABLE or (status == 403 and reason in _RATE_REASONS)
    if status == 410 and reason == "fullSyncRequired":
        return SyncTokenExpired(status, "full_sync_required", message, reason=reason)
    if status == 403 and reason == "insufficientPermissions":
        return GoogleReconnectNeeded(status, "insufficient_scope", message, reason=reason)
    code = _API_CODES.get(reason)
    if code is None:
        code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict", 410: "deleted"}.get(
            status, "rate_limited" if status == 429 else "server" if status >= 500 else "bad_request"
        )
    return GoogleError(status, code, message, retryable=retryable, reason=reason)


def _refresh_error(args: tuple[Any, ...], hidden: Sequence[str]) -> GoogleError:
    """google-auth's ``RefreshError(details, response_data)`` as a ``GoogleError``."""
    data = args[1] if len(args) > 1 and isinstance(args[1], dict) else {}
    error = str(data.get("error") or "")
    description = _scrub(str(data.get("error_description") or (args[0] if args else "")), hidden)
    if error == "invalid_grant":
        return GoogleReconnectNeeded(400, "invalid_grant", description, reason=error)
    status = 401 if error in ("invalid_client", "unauthorized_client") else 400
    return GoogleError(status, error or "refresh_failed", description, reason=error)


def _scrub(text: str, hidden: Sequence[str]) -> str:
    """``text`` without the tokens and secrets it may echo, shortened."""
    for secret in sorted((h for h in hidden if h), key=len, reverse=True):
        text = text.replace(secret, "[…]")
    return text[:_MAX_MESSAGE]


def http_client() -> httpx.Client:
    """The HTTP client the Google calls share (one per environment: connections are reused)."""
    import httpx

    return httpx.Client()
