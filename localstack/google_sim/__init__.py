"""An offline Google for `make dev`, the e2e suite and the tests: the OAuth 2.0 endpoints a web
server app uses (consent screen, token, revoke) and the Calendar API v3 calls assistec makes
(calendarList.list, freeBusy.query, events insert/get/patch/delete/list with sync tokens), with
Google's answer and error shapes (tests/fixtures/google) and its scope checks per method (taken
from the Calendar API's discovery document). State is kept in memory.

Paths are Google's, under one base URL: ``/o/oauth2/v2/auth`` (accounts.google.com), ``/token`` and
``/revoke`` (oauth2.googleapis.com), ``/calendar/v3/...`` (www.googleapis.com). Point the four
URLs of ``GoogleOAuthConfig`` at ``http://127.0.0.1:4597`` + those paths.

What Google does that the simulator does too:

- the consent screen approves at once, as the account ``owner@demo.assistec.local`` (or the
  ``login_hint``), and redirects with ``code``, ``state`` and the granted ``scope``; a refresh token
  comes with the exchange only for ``access_type=offline``; PKCE (S256) is checked at the exchange;
- access tokens live 3599 s; each consent is a grant: revoking any of its tokens removes the
  client's access to the account (all its grants);
- each account has its primary calendar (id = the e-mail), a secondary "Oficina" and Brazil's
  holidays (read-only, transparent all-day events);
- events keep client-chosen base32hex ids for good: a deleted event stays, ``cancelled``, and its
  id answers 409 ``duplicate``; its second delete answers 410 ``deleted``;
- events.list pages (``maxResults``/``pageToken``) and ends with a ``nextSyncToken``; with a sync
  token it lists what changed since, deleted events as ``{"id", "status": "cancelled"}`` stubs;
- freeBusy merges the opaque, live events of each calendar; unknown calendars come back with
  ``errors: [{"reason": "notFound"}]``, and past 50 calendars every one does
  (``tooManyCalendarsRequested``), as documented, rather than the query failing.

Control calls (``/_sim/``, no auth; Python methods in tests) do what the account's owner and
Google's moods would: ``POST reset``; ``GET state`` (tokens by hash only); ``POST clients``
(``{client_id, client_secret}``); ``POST accounts`` (``{email}``); ``POST accounts/{email}/events``
(the owner adds an event, ``calendar_id`` optional: ``add_event``); ``PATCH``/``DELETE
calendars/{cid}/events/{eid}`` (the owner moves or deletes one, ours too: ``owner_patch``,
``owner_delete``); ``POST refresh-tokens/invalidate`` (``{email}``: Testing mode's 7-day expiry);
``POST access-tokens/expire`` (``{email}``); ``POST rotation`` (``{enabled}``: refreshes return a
new refresh token and kill the old); ``POST outage`` (``{status, count, path_prefix}``; count -1:
until cleared with count 0); ``POST sync-tokens/invalidate``; ``POST consent`` (``{deny}``: the
Cancel button, ``{deny_scopes}``: boxes left unchecked); ``POST clock`` (``{advance_s}``); ``POST
lose-answers`` (``{patterns}``: ``"POST /calendar/v3/calendars/*/events"``, the work done and the
answer lost). ``calls`` lists the calls received.

Run it: ``python -m google_sim --port 4597`` (binds 127.0.0.1). In tests, ``GoogleSimulator()``
gives an httpx transport (``transport()``) instead of sockets, or ``serve(sim, 0)`` a server.

The modules: ``simulator`` (``GoogleSimulator``: routing, auth, the lock, control calls),
``state`` (what is kept), ``payloads`` (Google's shapes), ``server`` (the HTTP server).
"""

from __future__ import annotations

from google_sim.server import serve
from google_sim.simulator import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_EMAIL,
    HOLIDAYS_ID,
    GoogleSimulator,
    SimulatorError,
)

__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_EMAIL",
    "HOLIDAYS_ID",
    "GoogleSimulator",
    "SimulatorError",
    "serve",
]
