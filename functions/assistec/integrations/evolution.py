"""Evolution API v2 (WhatsApp through Baileys) over httpx: the ``apikey`` header, timeouts, a deadline,
retries only where a repeat cannot duplicate anything, and Evolution's error shape
(``{"status", "error", "response": {"message": [...]}}``) turned into ``EvolutionError``.

One Evolution server and its global API key per deployment; each shop has an instance on it. Only
the endpoints assistec calls are here (../shared/PROVIDERS.md §1.2-1.3, read from Evolution's
source at 2.3.x).

What is retried, and how long it may take:

- Reads (connect, connection state, find webhook) and calls that only set state (set the webhook,
  mark as read, restart, logout, delete) are retried on 429, 5xx and network errors, with backoff.
- Sends and instance creation are sent once. A 429 and a connection never made are retried
  (Evolution did nothing). After an ambiguous failure (a timeout or a dropped connection after the
  request went out, a 5xx) an ``EvolutionError`` with ``ambiguous`` set is raised: WhatsApp may have
  delivered the message, and sending again could make the customer read it twice. Whoever holds
  the message decides (the fromMe echo of a delivered send arrives by webhook with its id).
  Creating an instance twice cannot make two (the name is unique: 403); ``connection_state``
  answers 404 when the first try did not make it.
- Time budget: every call runs under a deadline of ``budget_s`` (10 s by default), shared by the
  calls inside one ``deadline()`` block. Each try waits at most 2 s to connect and 8 s for the
  answer, never past the deadline; a backoff wait that would cross it gives up instead.

Nothing here logs, and no error carries the API key or a message's text (they are scrubbed from
Evolution's error messages too: some echo the request).
"""

from __future__ import annotations

import json as jsonlib
import random
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from assistec import __version__
from assistec.integrations.deadline import Deadline

if TYPE_CHECKING:
    import httpx

_RETRYABLE = {429, 500, 502, 503, 504}
BUDGET_S = 10.0  # what one operation may spend on Evolution
_MIN_TRY_S = 0.05  # a try with less time left than this is not started
_MAX_MESSAGE = 300  # characters of Evolution's error message kept

_deadline = Deadline("evolution_deadline")  # this provider's, per thread/context

# What we subscribe a shop's instance to (Evolution's configuration names).
DEFAULT_EVENTS = ("MESSAGES_UPSERT", "MESSAGES_UPDATE", "CONNECTION_UPDATE", "QRCODE_UPDATED")


@dataclass
class EvolutionError(Exception):
    """Evolution refused the call, or stayed unavailable after the retries.

    ``status``: the HTTP status (0: no answer); ``code``: what went wrong, for callers to branch on
    (``unauthorized``, ``not_found``, ``forbidden``, ``bad_request``, ``not_on_whatsapp``,
    ``refused`` (a 2xx whose body says ``error: true``), ``server``, ``network``, ``deadline``);
    ``ambiguous``: the request may have been carried out (a timeout after sending it, a 5xx)."""

    status: int
    message: str
    code: str = "error"
    ambiguous: bool = field(default=False, compare=False)

    def __str__(self) -> str:
        return f"Evolution answered {self.status} ({self.code}): {self.message or 'no details'}"

    @property
    def retryable(self) -> bool:
        return self.status in _RETRYABLE or self.status == 0


def _backoff_s(attempt: int, cap_s: float) -> float:
    return float(min(cap_s, 0.25 * 2.0**attempt + random.uniform(0, 0.1)))  # noqa: S311 - jitter, not crypto


def _network_error(exc: Exception, *, ambiguous: bool) -> EvolutionError:
    return EvolutionError(0, type(exc).__name__, code="network", ambiguous=ambiguous)


class EvolutionClient:
    """Evolution API v2: instances, webhook, sends, read receipts (see the module's docstring for
    what is retried)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        timeout_s: float = 8.0,
        connect_timeout_s: float = 2.0,
        max_attempts: int = 3,
        max_wait_s: float = 1.0,
        budget_s: float = BUDGET_S,
    ) -> None:
        import httpx  # ~45 ms: paid by the first call to Evolution, not by every cold start

        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={
                "apikey": api_key,
                "User-Agent": f"assistec/{__version__}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, connect_timeout_s)),
            transport=transport,
        )
        self._api_key = api_key
        self._timeout_s = timeout_s
        self._connect_timeout_s = min(timeout_s, connect_timeout_s)
        self._max_attempts = max_attempts
        self._max_wait_s = max_wait_s
        self._budget_s = budget_s
        self._sleep = sleep
        self._clock = clock

    def close(self) -> None:
        self._http.close()

    # --- time budget ---------------------------------------------------------------------------
    def deadline(self, budget_s: float | None = None) -> AbstractContextManager[None]:
        """Every call inside the block shares one deadline, ``budget_s`` (default: the client's
        budget) from now; inside another deadline the earlier one holds."""
        return _deadline.within(self._clock, self._budget_s if budget_s is None else budget_s)

    def _remaining_s(self) -> float:
        return _deadline.remaining_s(self._clock)

    # --- one call ------------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        idempotent: bool,
        secrets: Sequence[str] = (),
    ) -> Any:
        """One call within the deadline. Retried on 429 and on a connection never made; on 5xx and
        network errors after sending only when ``idempotent``, else raised with ``ambiguous`` set.
        ``secrets``: texts kept out of the error's message (besides the API key)."""
        import httpx

        content = jsonlib.dumps(json, ensure_ascii=False).encode() if json is not None else None
        hidden = (self._api_key, *secrets)
        with self.deadline():
            last: EvolutionError | None = None
            for attempt in range(self._max_attempts):
                remaining = self._remaining_s()
                if remaining < _MIN_TRY_S:
                    break
                timeout = httpx.Timeout(
                    min(self._timeout_s, remaining), connect=min(self._connect_timeout_s, remaining)
                )
                try:
                    response = self._http.request(
                        method, path, content=content, params=params, timeout=timeout
                    )
                except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                    last = _network_error(exc, ambiguous=False)  # never sent: Evolution did nothing
                except httpx.TransportError as exc:
                    last = _network_error(exc, ambiguous=not idempotent)
                    if not idempotent:
                        raise last from exc
                else:
                    if response.status_code < 400:
                        return _answer(response, hidden)
                    last = _error(response, hidden)
                    if response.status_code not in _RETRYABLE:
                        raise last
                    if response.status_code != 429 and not idempotent:
                        last.ambiguous = True  # a 5xx may come after the message went out
                        raise last
                wait = _backoff_s(attempt, self._max_wait_s)
                if attempt + 1 >= self._max_attempts or wait + _MIN_TRY_S > self._remaining_s():
                    break
                self._sleep(wait)
            raise last or EvolutionError(0, "Evolution time budget spent", code="deadline")

    # --- instances -----------------------------------------------------------------------------
    def create_instance(
        self,
        name: str,
        *,
        token: str,
        webhook_url: str,
        webhook_headers: dict[str, str],
        events: Sequence[str] = DEFAULT_EVENTS,
        number: str | None = None,
        qrcode: bool = True,
    ) -> dict[str, Any]:
        """Create the shop's instance (Baileys) with its own ``token`` and its webhook (v2 nested
        body; ``webhook_headers`` are sent with every delivery: our secret goes there, or
        ``jwt_key`` for Evolution to sign a JWT with). Groups are ignored at the source. With
        ``qrcode`` the answer carries the first QR (``qrcode.base64``, ``qrcode.code``,
        ``qrcode.pairingCode`` when ``number`` is given). Sent once (see the module's docstring)."""
        body: dict[str, Any] = {
            "instanceName": name,
            "integration": "WHATSAPP-BAILEYS",
            "token": token,
            "qrcode": qrcode,
            "rejectCall": False,
            "groupsIgnore": True,
            "alwaysOnline": False,
            "readMessages": False,
            "readStatus": False,
            "syncFullHistory": False,
            "webhook": {
                "url": webhook_url,
                "byEvents": False,
                "base64": False,
                "headers": dict(webhook_headers),
                "events": list(events),
            },
        }
        if number is not None:
            body["number"] = number
        secrets = (token, *webhook_headers.values())
        return dict(self.request("POST", "/instance/create", json=body, idempotent=False, secrets=secrets))

    def connect(self, name: str, *, number: str | None = None) -> dict[str, Any]:
        """Start (or continue) pairing: ``{pairingCode, code, base64, count}`` while connecting
        (``base64`` is the QR as a data-URL PNG; ``pairingCode`` needs ``number``); an open instance
        answers its state instead (``{"instance": {"instanceName", "state": "open"}}``)."""
        params = {"number": number} if number else None
        return dict(self.request("GET", f"/instance/connect/{_name(name)}", params=params, idempotent=True))

    def connection_state(self, name: str) -> str:
        """``open``, ``connecting`` or ``close``."""
        answer = self.request("GET", f"/instance/connectionState/{_name(name)}", idempotent=True)
        return str(((answer or {}).get("instance") or {}).get("state") or "close")

    def restart(self, name: str) -> dict[str, Any]:
        return dict(self.request("POST", f"/instance/restart/{_name(name)}", idempotent=True))

    def logout(self, name: str) -> dict[str, Any]:
        """Unpair the phone (the instance stays, closed). A second logout answers 400 (not connected)."""
        return dict(self.request("DELETE", f"/instance/logout/{_name(name)}", idempotent=True))

    def delete_instance(self, name: str) -> dict[str, Any]:
        """Remove the instance (Evolution refuses an open one: logout first). A repeat after a lost
        answer finds it gone: 404, ``code`` ``not_found``."""
        return dict(self.request("DELETE", f"/instance/delete/{_name(name)}", idempotent=True))

    # --- webhook -------------------------------------------------------------------------------
    def set_webhook(
        self,
        name: str,
        url: str,
        headers: dict[str, str],
        events: Sequence[str] = DEFAULT_EVENTS,
        *,
        enabled: bool = True,
    ) -> dict[str, Any]:
        """Point the instance's webhook at ``url`` with ``headers`` (v2 nested body; an upsert:
        safe to repeat)."""
        body = {
            "webhook": {
                "enabled": enabled,
                "url": url,
                "headers": dict(headers),
                "byEvents": False,
                "base64": False,
                "events": list(events),
            }
        }
        return dict(
            self.request(
                "POST",
                f"/webhook/set/{_name(name)}",
                json=body,
                idempotent=True,
                secrets=tuple(headers.values()),
            )
        )

    def find_webhook(self, name: str) -> dict[str, Any] | None:
        """The instance's webhook (``url``, ``headers``, ``events``, ``enabled``, …), None when unset."""
        found = self.request("GET", f"/webhook/find/{_name(name)}", idempotent=True)
        return dict(found) if isinstance(found, dict) and found else None

    # --- messages ------------------------------------------------------------------------------
    def send_text(self, name: str, number: str, text: str) -> dict[str, Any]:
        """Send ``text`` to ``number`` (E.164 digits or a JID). The answer's ``key.id`` is the
        message's id (receipts and the fromMe echo carry it). Sent once: see ``ambiguous``."""
        return dict(
            self.request(
                "POST",
                f"/message/sendText/{_name(name)}",
                json={"number": number, "text": text},
                idempotent=False,
                secrets=(text,),
            )
        )

    def send_document(
        self,
        name: str,
        number: str,
        url_or_base64: str,
        file_name: str,
        caption: str | None = None,
        mimetype: str = "application/pdf",
    ) -> dict[str, Any]:
        """Send a document (a public URL or base64 content) named ``file_name``. Sent once."""
        body: dict[str, Any] = {
            "number": number,
            "mediatype": "document",
            "mimetype": mimetype,
            "media": url_or_base64,
            "fileName": file_name,
        }
        if caption:
            body["caption"] = caption
        secrets = tuple(s for s in (caption, url_or_base64) if s)
        return dict(
            self.request(
                "POST", f"/message/sendMedia/{_name(name)}", json=body, idempotent=False, secrets=secrets
            )
        )

    def media_base64(self, name: str, message_id: str) -> dict[str, Any]:
        """The file of a media message the instance received (``{mimetype, base64, ...}``): a read,
        retried like one."""
        body = {"message": {"key": {"id": message_id}}, "convertToMp4": False}
        return dict(
            self.request("POST", f"/chat/getBase64FromMediaMessage/{_name(name)}", json=body, idempotent=True)
        )

    def mark_as_read(
        self, name: str, remote_jid: str, message_id: str, from_me: bool = False
    ) -> dict[str, Any]:
        """Blue ticks for one received message (safe to repeat)."""
        body = {"readMessages": [{"remoteJid": remote_jid, "fromMe": from_me, "id": message_id}]}
        return dict(
            self.request("POST", f"/chat/markMessageAsRead/{_name(name)}", json=body, idempotent=True)
        )


def _name(instance: str) -> str:
    return quote(instance, safe="")


def _answer(response: httpx.Response, hidden: Sequence[str]) -> Any:
    """A 2xx's body; Evolution answers some refusals with 200 and ``{"error": true, "message"}``
    (connect or restart of an instance in the wrong state): raised."""
    try:
        body = response.json() if response.content else {}
    except ValueError:
        return {}
    if isinstance(body, dict) and body.get("error") is True:
        raise EvolutionError(response.status_code, _scrub(str(body.get("message") or ""), hidden), "refused")
    return body


def _error(response: httpx.Response, hidden: Sequence[str]) -> EvolutionError:
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    message: Any = body
    if isinstance(body, dict):
        inner = body.get("response")
        message = inner.get("message") if isinstance(inner, dict) else body.get("message", body.get("error"))
    code = {401: "unauthorized", 403: "forbidden", 404: "not_found"}.get(status)
    if code is None:
        code = "server" if status >= 500 else "bad_request"
    items = message if isinstance(message, list) else [message]
    if status == 400 and any(isinstance(i, dict) and i.get("exists") is False for i in items):
        # sendText to a number WhatsApp does not know: [{"jid", "exists": false, "number"}]
        return EvolutionError(status, "number is not on WhatsApp", "not_on_whatsapp")
    described = "; ".join(
        i if isinstance(i, str) else jsonlib.dumps(i, ensure_ascii=False) for i in items if i is not None
    )
    if not described and body is None:
        described = response.text
    return EvolutionError(status, _scrub(described, hidden), code)


def _scrub(text: str, hidden: Sequence[str]) -> str:
    """``text`` without the secrets and message texts it may echo, shortened."""
    for secret in sorted((h for h in hidden if h), key=len, reverse=True):
        text = text.replace(secret, "[…]")
        # JSON-escaped echoes too ("Olá\n" comes back as "Ol\u00e1\\n" from some error paths)
        escaped = jsonlib.dumps(secret)[1:-1]
        if escaped != secret:
            text = text.replace(escaped, "[…]")
    return text[:_MAX_MESSAGE]
