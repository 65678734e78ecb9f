"""The signing key's rotation (domain/signing_keys.py): which keys sign and which are accepted at each
step, so that no function environment, whatever version of the secret it caches, refuses a token
another one signed during a routine rotation."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistec.domain import signing_keys as ring_rules
from assistec.domain import tokens
from assistec.domain.permissions import Role
from assistec.domain.signing_keys import (
    PREVIOUS_KEPT_S,
    PROMOTE_AFTER_S,
    SECRET_CACHE_S,
    KeyRing,
    KeyRingError,
)

T0 = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
OLD = "o" * 64
NEW = "n" * 64
IDENTITY = tokens.Identity(tenant_id=uuid.uuid4(), user_id=uuid.uuid4(), role=Role.OWNER)


def _token(key: str, at: datetime) -> str:
    return tokens.issue_access_token(IDENTITY, key.encode(), now=int(at.timestamp()))


def _accepted(token: str, ring: KeyRing, at: datetime) -> bool:
    try:
        tokens.verify_access_token(token, ring.verifying(at), now=int(at.timestamp()))
    except tokens.TokenError:
        return False
    return True


def test_the_cache_the_rotation_waits_for_is_the_secrets_cache() -> None:
    from assistec.integrations import secrets

    assert secrets._TTL_S == SECRET_CACHE_S
    assert PROMOTE_AFTER_S > SECRET_CACHE_S
    # The old key is kept past every token a stale environment may still sign with it
    assert PREVIOUS_KEPT_S > SECRET_CACHE_S + tokens.ACCESS_TTL_S + tokens.LEEWAY_S


def test_a_plain_secret_is_one_key_and_a_ring_is_read_back_as_written() -> None:
    plain = ring_rules.parse(OLD)
    assert (plain.current, plain.plain, plain.verifying(T0)) == (OLD, True, (OLD.encode(),))
    staged = ring_rules.stage(plain, NEW, now=T0)
    assert staged.plain is False
    assert ring_rules.parse(staged.dump()) == staged
    assert json.loads(staged.dump()) == {"current": OLD, "next": NEW, "staged_at": T0.isoformat()}


@pytest.mark.parametrize(
    "secret",
    [
        "",
        '{"next": "x"}',
        '{"current": ""}',
        '{"current": 5}',
        "{not json",
        '{"current": "k", "staged_at": "x"}',
    ],
)
def test_an_unreadable_secret_is_an_error_not_a_key(secret: str) -> None:
    with pytest.raises(KeyRingError):
        ring_rules.parse(secret)


def test_a_routine_rotation_never_refuses_a_token_whichever_secret_an_environment_caches() -> None:
    # Given every version of the secret a rotation writes, and when
    v0 = ring_rules.parse(OLD)
    v1 = ring_rules.stage(v0, NEW, now=T0)
    promoted_at = T0 + timedelta(seconds=PROMOTE_AFTER_S)
    v2 = ring_rules.promote(v1, now=promoted_at)
    written = [(T0 - timedelta(days=1), v0), (T0, v1), (promoted_at, v2)]

    def held(now: datetime) -> list[KeyRing]:
        """The versions an environment may hold at ``now``: one written within the cache's time, or
        the last one written before that (it re-reads at most SECRET_CACHE_S after its last read)."""
        cutoff = now - timedelta(seconds=SECRET_CACHE_S)
        settled = [ring for at, ring in written if at <= cutoff]
        return settled[-1:] + [ring for at, ring in written if cutoff < at <= now]

    # Then a token signed at any moment of the rotation by any environment is accepted by every
    # environment for its whole life
    checked = 0
    start = T0 - timedelta(seconds=60)
    for step in range(0, PROMOTE_AFTER_S + PREVIOUS_KEPT_S, 15):
        signed_at = start + timedelta(seconds=step)
        for signer in held(signed_at):
            token = _token(signer.current, signed_at)
            for age in (0, 60, SECRET_CACHE_S, tokens.ACCESS_TTL_S - 1):
                verified_at = signed_at + timedelta(seconds=age)
                for verifier in held(verified_at):
                    assert _accepted(token, verifier, verified_at), (signed_at, age, signer, verifier)
                    checked += 1
    assert checked > 500


def test_the_old_key_is_dropped_once_its_tokens_have_expired() -> None:
    v1 = ring_rules.stage(ring_rules.parse(OLD), NEW, now=T0)
    promoted_at = T0 + timedelta(seconds=PROMOTE_AFTER_S)
    v2 = ring_rules.promote(v1, now=promoted_at)
    assert v2.verifying(promoted_at) == (NEW.encode(), OLD.encode())
    gone = promoted_at + timedelta(seconds=PREVIOUS_KEPT_S)
    assert v2.verifying(gone) == (NEW.encode(),)
    forged = _token(OLD, gone)  # someone holding the old key, after it was retired
    assert not _accepted(forged, v2, gone)


def test_promotion_waits_for_every_cache_and_steps_go_in_order() -> None:
    v0 = ring_rules.parse(OLD)
    with pytest.raises(KeyRingError) as nothing:
        ring_rules.promote(v0, now=T0)
    assert nothing.value.code == "nothing_staged"
    v1 = ring_rules.stage(v0, NEW, now=T0)
    with pytest.raises(KeyRingError) as early:
        ring_rules.promote(v1, now=T0 + timedelta(seconds=PROMOTE_AFTER_S - 10))
    assert (early.value.code, early.value.wait_s) == ("too_early", 10)
    with pytest.raises(KeyRingError) as twice:
        ring_rules.stage(v1, "x" * 64, now=T0)
    assert twice.value.code == "already_staged"
    # Staged keys are accepted but never sign
    assert v1.signing() == OLD.encode()
    assert v1.verifying(T0) == (OLD.encode(), NEW.encode())


def test_a_replacement_drops_every_other_key_at_once() -> None:
    v1 = ring_rules.stage(ring_rules.parse(OLD), NEW, now=T0)
    fresh = "f" * 64
    replaced = ring_rules.replace_now(fresh, v1, now=T0)
    assert replaced.verifying(T0) == (fresh.encode(),)
    assert not _accepted(_token(OLD, T0), replaced, T0)


@pytest.mark.parametrize("new_key", ["short", OLD, NEW])
def test_a_weak_or_reused_key_is_refused(new_key: str) -> None:
    v1 = ring_rules.stage(ring_rules.parse(OLD), NEW, now=T0)
    with pytest.raises(KeyRingError):
        ring_rules.replace_now(new_key, v1, now=T0)


def test_describing_the_ring_shows_no_key_material() -> None:
    v1 = ring_rules.stage(ring_rules.parse(OLD), NEW, now=T0)
    state = v1.describe(T0 + timedelta(seconds=30))
    assert (state["staged"], state["promote_wait_s"], state["keys_accepted"]) == (
        True,
        PROMOTE_AFTER_S - 30,
        2,
    )
    text = json.dumps(state, default=str)
    assert OLD not in text
    assert NEW not in text


@given(st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=3))
def test_a_token_is_accepted_iff_its_key_is_in_the_set(keys: list[str]) -> None:
    # Given a set of verification keys and tokens signed with each of the three keys
    now = T0
    ring_keys = [(k * 40).encode() for k in keys]
    for signer in ("a", "b", "c"):
        token = _token(signer * 40, now)
        try:
            tokens.verify_access_token(token, ring_keys, now=int(now.timestamp()))
            accepted = True
        except tokens.TokenError:
            accepted = False
        assert accepted == ((signer * 40).encode() in ring_keys)


def test_a_tampered_token_is_refused_by_every_key() -> None:
    token = _token(OLD, T0)
    head, body, signature = token.split(".")
    tampered = f"{head}.{body}x.{signature}"
    with pytest.raises(tokens.TokenError):
        tokens.verify_access_token(tampered, [OLD.encode(), NEW.encode()], now=int(T0.timestamp()))
    with pytest.raises(tokens.TokenError):
        tokens.verify_access_token(token, [], now=int(T0.timestamp()))
