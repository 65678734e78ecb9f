"""The rules of the owner's data exports (domain/data_exports.py): where a zip goes and what it is
called, until when it is handed out, the daily limit and when the shop may ask again, and when an
export under way can no longer be in anyone's hands."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from assistec.domain import data_exports as rules

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def test_the_zip_is_under_the_shops_own_prefix() -> None:
    shop, export = uuid.uuid4(), uuid.uuid4()
    key = rules.export_key(shop, export)
    assert key == f"exports/{shop}/{export}.zip"
    assert key.startswith(rules.KEY_PREFIX)


def test_the_file_is_named_after_the_day_it_was_asked_in_sao_paulo() -> None:
    # 01:30 UTC on the 25th is still the 24th in São Paulo (UTC-3)
    assert (
        rules.filename(datetime(2026, 11, 25, 1, 30, tzinfo=UTC)) == "assistec-dados-da-loja-2026-11-24.zip"
    )
    assert rules.filename(datetime(2026, 11, 25, 3, 0, tzinfo=UTC)) == "assistec-dados-da-loja-2026-11-25.zip"


def test_a_file_is_handed_out_for_seven_days_from_when_it_was_stored() -> None:
    expires = rules.expires_at(NOW)
    assert expires == NOW + timedelta(days=7)
    assert not rules.expired(expires, expires - timedelta(seconds=1))
    assert rules.expired(expires, expires)
    assert not rules.expired(None, NOW)


def test_failed_and_old_requests_do_not_count_towards_the_limit() -> None:
    requested = [
        (NOW - timedelta(hours=25), "ready"),  # outside the window
        (NOW - timedelta(hours=3), "failed"),  # the owner may always ask again after a failure
        (NOW - timedelta(hours=2), "ready"),
        (NOW - timedelta(hours=1), "running"),
    ]
    assert rules.counted(requested, NOW) == [NOW - timedelta(hours=2), NOW - timedelta(hours=1)]


def test_the_shop_may_ask_again_when_its_oldest_counted_request_leaves_the_window() -> None:
    # Given three exports asked 23, 10 and 1 hours ago (the limit)
    counted = [NOW - timedelta(hours=h) for h in (1, 23, 10)]
    # Then the fourth waits an hour, until the first of them is 24 hours old
    assert rules.retry_after_s(counted, NOW) == 3600
    # And with one fewer the shop may ask now
    assert rules.retry_after_s(counted[:2], NOW) is None
    assert rules.retry_after_s([], NOW) is None


@given(
    ages=st.lists(st.integers(min_value=0, max_value=24 * 3600 - 1), min_size=0, max_size=6),
)
def test_retry_after_is_when_the_count_drops_below_the_limit(ages: list[int]) -> None:
    counted = [NOW - timedelta(seconds=a) for a in ages]
    wait = rules.retry_after_s(counted, NOW)
    if len(counted) < rules.DAILY_LIMIT:
        assert wait is None
        return
    assert wait is not None
    assert wait >= 1
    # At NOW + wait, fewer than the limit are still inside the window; a second earlier, not
    later = NOW + timedelta(seconds=wait)
    assert len(rules.counted([(at, "ready") for at in counted], later)) < rules.DAILY_LIMIT
    if wait > 1:
        earlier = later - timedelta(seconds=1)
        assert len(rules.counted([(at, "ready") for at in counted], earlier)) >= rules.DAILY_LIMIT


def test_a_running_export_is_stale_only_past_the_workers_lease() -> None:
    lease = timedelta(seconds=rules.RUNNING_LEASE_S)
    asked = NOW - timedelta(hours=1)
    assert not rules.stale("running", asked, NOW - lease, NOW)
    assert rules.stale("running", asked, NOW - lease - timedelta(seconds=1), NOW)
    # The worker lives at most 15 minutes (its Lambda timeout): the lease is longer
    assert lease > timedelta(minutes=15)


def test_a_pending_export_is_stale_only_when_no_worker_took_it_for_hours() -> None:
    timeout = timedelta(seconds=rules.PENDING_TIMEOUT_S)
    assert not rules.stale("pending", NOW - timeout, None, NOW)
    assert rules.stale("pending", NOW - timeout - timedelta(seconds=1), None, NOW)


def test_a_finished_export_is_never_stale() -> None:
    long_ago = NOW - timedelta(days=30)
    for status in ("ready", "failed"):
        assert not rules.stale(status, long_ago, long_ago, NOW)


def test_the_messages_the_owner_reads_are_portuguese_and_fit_the_column() -> None:
    for message in (rules.FAILED_MESSAGE, rules.INTERRUPTED_MESSAGE):
        assert 0 < len(message) <= 500
        assert "exportação" in message
