"""What the simulator keeps, in memory (Google keeps it for real; a restart of the simulator starts
empty: the shop connects its Google account again, as after a revoked grant).

Tokens are kept by their SHA-256 only: ``GET /_sim/state`` can show them without showing them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

SAO_PAULO = "America/Sao_Paulo"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Event:
    """One event as Google answers it (``body``) and the calendar's change number at its last
    change (what a sync token is compared with). Deleted events stay, ``status`` ``cancelled``:
    Google keeps them, which is why their ids can never be used again."""

    body: dict[str, Any]
    changed: int

    @property
    def cancelled(self) -> bool:
        return self.body.get("status") == "cancelled"


@dataclass
class Calendar:
    """A calendar, on the list of the accounts that have its id in ``Account.calendars`` (the
    holidays calendar is on everyone's, read-only)."""

    id: str
    summary: str
    access_role: str = "owner"  # "reader": its accounts may read it, not write to it
    primary: bool = False
    time_zone: str = SAO_PAULO
    color_id: str = "14"
    background_color: str = "#9fe1e7"
    events: dict[str, Event] = field(default_factory=dict)
    changes: int = 0  # the number of the last change to any of its events


@dataclass
class Account:
    email: str
    calendars: list[str] = field(default_factory=list)  # ids, the primary first


@dataclass
class Client:
    client_id: str
    client_secret: str


@dataclass
class Grant:
    """One consent: an account gave a client some scopes. Its refresh tokens and access tokens
    die with it (revocation)."""

    id: str
    email: str
    client_id: str
    scopes: tuple[str, ...]
    revoked: bool = False


@dataclass
class RefreshToken:
    grant_id: str
    issued_at: datetime
    valid: bool = True  # false: rotated away, revoked, or expired as in Testing mode (7 days)


@dataclass
class AccessToken:
    grant_id: str
    expires_at: datetime
    scopes: tuple[str, ...]  # the grant's, or fewer when the refresh asked for fewer


@dataclass
class AuthCode:
    """An authorization code as the consent screen issued it (one use, 10 minutes)."""

    client_id: str
    redirect_uri: str
    email: str
    scopes: tuple[str, ...]
    code_challenge: str
    expires_at: datetime
    offline: bool  # access_type=offline: a refresh token comes with the exchange
    used: bool = False


@dataclass
class Consent:
    """What the simulated user does on the consent screen: approve (minus the boxes left
    unchecked, ``deny_scopes``) or ``deny`` (the Cancel button)."""

    deny: bool = False
    deny_scopes: tuple[str, ...] = ()


@dataclass
class Outage:
    """The next ``count`` calls under ``path_prefix`` answer ``status`` (-1: until cleared)."""

    status: int
    count: int
    path_prefix: str = "/"


@dataclass(frozen=True)
class SyncToken:
    calendar_id: str
    changes: int


@dataclass(frozen=True)
class Page:
    """What is left of a listing after its first page: the items (as the listing saw them) and
    the sync token its last page is to carry."""

    calendar_id: str
    items: tuple[dict[str, Any], ...]
    changes: int
