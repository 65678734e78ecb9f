"""The token-signing key secret: what it holds, and how it is rotated without signing anyone out.

The secret is either one key (a plain string: what the stack generates) or a key ring, as JSON::

    {"current": "...", "next": "...", "staged_at": "...",
     "previous": "...", "previous_until": "...", "rotated_at": "..."}

Access tokens (and Google consent states) are signed with ``current`` and accepted when signed with
``current``, ``next`` or, until ``previous_until``, ``previous``.

Every function environment caches the secret for up to ``SECRET_CACHE_S`` (integrations/secrets.py),
so after a write some environments still hold the old document for that long. A routine rotation is
therefore two writes (``stage``, then ``promote``), and no environment ever meets a token signed with
a key it does not know yet:

1. ``stage``: a new key becomes ``next``: accepted everywhere once every cache has re-read the
   secret, signing nothing yet.
2. ``promote``, no sooner than ``PROMOTE_AFTER_S`` after staging: ``next`` signs from now on; the old
   ``current`` stays accepted as ``previous`` until every token it signed has expired (environments
   still caching the old document sign with it for up to ``SECRET_CACHE_S`` more, and a token lives
   ``ACCESS_TTL_S``).

``replace`` is for a key that leaked: a new ``current`` alone, at once. Every token signed before is
refused as soon as an environment re-reads the secret (within ``SECRET_CACHE_S``); users' apps refresh
their access token (refresh tokens are opaque and stored, not signed: unaffected); during those
minutes environments that disagree refuse each other's new tokens.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from assistec.domain.tokens import ACCESS_TTL_S, LEEWAY_S

# How long a function environment keeps a secret it read (integrations/secrets.py _TTL_S; a unit test
# holds the two equal).
SECRET_CACHE_S = 300
# Staged for at least this long before it signs: every environment's cache has re-read the secret.
PROMOTE_AFTER_S = SECRET_CACHE_S + 30
# The old key stays accepted this long after the promotion.
PREVIOUS_KEPT_S = SECRET_CACHE_S + ACCESS_TTL_S + LEEWAY_S + 30
MIN_KEY_LENGTH = 32


class KeyRingError(Exception):
    """The secret cannot be read as keys, or the rotation step does not fit its state; ``wait_s``:
    the seconds until a too-early promotion may run."""

    def __init__(self, code: str, message: str, *, wait_s: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.wait_s = wait_s


@dataclass(frozen=True, slots=True)
class KeyRing:
    current: str
    next: str | None = None
    staged_at: datetime | None = None
    previous: str | None = None
    previous_until: datetime | None = None
    rotated_at: datetime | None = None
    # Read from a plain string (the stack's generated key): written back as a ring by any rotation.
    plain: bool = False

    def signing(self) -> bytes:
        """The key that signs new tokens."""
        return self.current.encode()

    def verifying(self, now: datetime) -> tuple[bytes, ...]:
        """The keys a token may be signed with, now: current first."""
        keys = [self.current]
        if self.next:
            keys.append(self.next)
        if self.previous and self.previous_until is not None and now < self.previous_until:
            keys.append(self.previous)
        return tuple(k.encode() for k in keys)

    def dump(self) -> str:
        """The secret's text (a ring, even if it was read from a plain key)."""
        document: dict[str, Any] = {"current": self.current}
        for name in ("next", "staged_at", "previous", "previous_until", "rotated_at"):
            value = getattr(self, name)
            if value is not None:
                document[name] = value.isoformat() if isinstance(value, datetime) else value
        return json.dumps(document)

    def describe(self, now: datetime) -> dict[str, Any]:
        """The ring's state without any key material (what ops may see and log)."""
        promote_at = self.staged_at + timedelta(seconds=PROMOTE_AFTER_S) if self.staged_at else None
        return {
            "format": "plain" if self.plain else "ring",
            "staged": self.next is not None,
            "staged_at": self.staged_at,
            "promote_after": promote_at,
            "promote_wait_s": _seconds_until(promote_at, now) if promote_at else None,
            "previous_accepted_until": self.previous_until if self.previous and self.previous_until else None,
            "rotated_at": self.rotated_at,
            "keys_accepted": len(self.verifying(now)),
        }


def parse(secret: str) -> KeyRing:
    """The secret's keys: a ring (JSON with ``current``) or one plain key."""
    if not secret.lstrip().startswith("{"):
        if not secret:
            raise KeyRingError("empty_key", "the signing key secret is empty")
        return KeyRing(current=secret, plain=True)
    try:
        document = json.loads(secret)
        current = document["current"]
        if not isinstance(current, str) or not current:
            raise ValueError("current")
        return KeyRing(
            current=current,
            next=_text(document.get("next")),
            staged_at=_when(document.get("staged_at")),
            previous=_text(document.get("previous")),
            previous_until=_when(document.get("previous_until")),
            rotated_at=_when(document.get("rotated_at")),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise KeyRingError("unreadable_secret", "the signing key secret is not a key ring") from exc


def stage(ring: KeyRing, new_key: str, *, now: datetime) -> KeyRing:
    """Step 1: ``new_key`` is accepted from the next cache refresh on, signs nothing yet."""
    _check(new_key, ring)
    if ring.next is not None:
        raise KeyRingError("already_staged", "a key is already staged: promote it (or replace the ring)")
    return replace(ring, next=new_key, staged_at=now, plain=False)


def promote(ring: KeyRing, *, now: datetime) -> KeyRing:
    """Step 2: the staged key signs; the old one is accepted until its tokens have expired."""
    if ring.next is None or ring.staged_at is None:
        raise KeyRingError("nothing_staged", "no key is staged: stage one first")
    ready_at = ring.staged_at + timedelta(seconds=PROMOTE_AFTER_S)
    if now < ready_at:
        wait = _seconds_until(ready_at, now)
        raise KeyRingError(
            "too_early",
            f"the staged key may sign in {wait} s (every function must have read it first)",
            wait_s=wait,
        )
    return KeyRing(
        current=ring.next,
        previous=ring.current,
        previous_until=now + timedelta(seconds=PREVIOUS_KEPT_S),
        rotated_at=now,
    )


def replace_now(new_key: str, ring: KeyRing, *, now: datetime) -> KeyRing:
    """A leaked key: ``new_key`` alone, every other key dropped at once."""
    _check(new_key, ring)
    return KeyRing(current=new_key, rotated_at=now)


def _check(new_key: str, ring: KeyRing) -> None:
    if len(new_key) < MIN_KEY_LENGTH:
        raise KeyRingError("weak_key", f"a signing key has at least {MIN_KEY_LENGTH} characters")
    if new_key in (ring.current, ring.next, ring.previous):
        raise KeyRingError("reused_key", "the new key is one the ring already holds")


def _seconds_until(when: datetime, now: datetime) -> int:
    return max(0, int((when - now).total_seconds() + 0.999))


def _text(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ValueError("key")
    return value


def _when(value: object) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError("naive time")
    return moment
