"""The ops console's backup commands: their arguments (services/ops.py) and the bundles' keys
(domain/backup_bundle.py), which decide what a command may read or restore."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from uuid import UUID

import pytest
from pydantic import ValidationError

from assistec.domain.backup_bundle import bundle_key, bundle_prefixes, key_of_shop, manual_key, nightly_day
from assistec.services.ops import BundleArgs, RestoreArgs

SHOP = UUID("6e9b3369-76f8-4d30-8ca5-a9625666a48f")
OTHER = UUID("0b7c8e0e-1d7f-4d35-9b0e-6c1f8a4e2a10")


def test_a_restore_needs_a_key_and_a_confirmation() -> None:
    args = RestoreArgs.model_validate({"shop": "dono@x.com", "key": f"shops/{SHOP}/2026-11-23.bundle",
                                       "confirm": str(SHOP)})  # fmt: skip
    assert args.confirm == str(SHOP)
    for missing in ("key", "confirm"):
        given = {"shop": "x", "key": "shops/a.bundle", "confirm": "x"}
        del given[missing]
        with pytest.raises(ValidationError) as failed:
            RestoreArgs.model_validate(given)
        assert [e["loc"] for e in failed.value.errors()] == [(missing,)]
    with pytest.raises(ValidationError):
        RestoreArgs.model_validate({"shop": "x", "key": "shops/a.bundle", "confirm": ""})


@pytest.mark.parametrize(
    "key", ["/shops/a.bundle", "shops/a b.bundle", "shops/a.bundle\n", "x" * 301, "", "shops/ç.bundle"]
)
def test_a_key_that_is_no_bucket_key_of_ours_is_refused_by_the_arguments(key: str) -> None:
    with pytest.raises(ValidationError):
        BundleArgs.model_validate({"shop": "x", "key": key})


def test_the_bundle_arguments_take_no_key_for_the_newest_and_nothing_else() -> None:
    assert BundleArgs.model_validate({"shop": "x"}).key is None
    with pytest.raises(ValidationError):
        BundleArgs.model_validate({"shop": "x", "latest": True})


def test_a_manual_bundles_key_is_the_shops_own_and_never_a_nightly_one() -> None:
    at = datetime(2026, 11, 24, 12, 0, 1, tzinfo=timezone(timedelta(hours=-3)))
    key = manual_key(SHOP, at)
    # Stamped in UTC to the second, under the shop's manual prefix
    assert key == f"manual/{SHOP}/20261124T150001Z.bundle"
    assert key.startswith(bundle_prefixes(SHOP)[1])
    assert key != bundle_key(SHOP, at.date())
    assert manual_key(SHOP, at.astimezone(UTC)) == key


def test_only_the_shops_own_keys_are_its_bundles() -> None:
    nightly = bundle_key(SHOP, date(2026, 11, 23))
    manual = manual_key(SHOP, datetime(2026, 11, 24, 15, 0, 1, tzinfo=UTC))
    assert key_of_shop(nightly, SHOP)
    assert key_of_shop(manual, SHOP)
    for key in (
        bundle_key(OTHER, date(2026, 11, 23)),
        manual_key(OTHER, datetime(2026, 11, 24, tzinfo=UTC)),
        f"shops/{SHOP}/../{OTHER}/2026-11-23.bundle",
        f"shops/{SHOP}/2026-11-23.bundle.tmp",
        f"shops/{SHOP}/latest.bundle",
        f"other/{SHOP}/2026-11-23.bundle",
        f"manual/{SHOP}/2026-11-24.bundle",
    ):
        assert not key_of_shop(key, SHOP), key
    # And a nightly key says its day; any other key none
    assert nightly_day(nightly) == date(2026, 11, 23)
    assert nightly_day(manual) is None
    assert nightly_day(f"shops/{SHOP}/2026-02-30.bundle") is None
