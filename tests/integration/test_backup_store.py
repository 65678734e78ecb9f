"""The backup bundles' S3 store against LocalStack's S3: a put lands only on a free key, whatever the
body's size; what is stored is the body from its position on; the copy keeps the tags; and a bundle
that fits in memory goes in one request, without botocore's ``Expect: 100-continue`` round trip.
"""

from __future__ import annotations

import io
import os
import tempfile
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from assistec.integrations import storage
from assistec.integrations.storage import BundleExistsError, S3BundleStore
from tests.integration.conftest import bundle_buckets


@pytest.fixture
def buckets(localstack_aws: str) -> Iterator[tuple[str, ...]]:
    with bundle_buckets("assistec-test-bundles", 2) as names:
        yield names


def _expect_headers(store: S3BundleStore) -> list[bytes | None]:
    """The ``Expect`` header of every PutObject the store's client sends from now on."""
    seen: list[bytes | None] = []

    def record(request: Any, **_: Any) -> None:
        seen.append(request.headers.get("Expect"))

    store._s3().meta.events.register("before-send.s3.PutObject", record)
    return seen


@pytest.mark.parametrize("size", [300 * 1024, 2 * 1024 * 1024], ids=["in-memory", "streamed"])
def test_a_bundle_is_stored_once_from_its_position_whatever_its_size(
    buckets: tuple[str, ...], monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    # (the streamed case: the threshold below the body, so it goes from its spool as a large one)
    monkeypatch.setattr(storage, "CONTINUE_ABOVE_BYTES", 1024 * 1024)
    bucket, copies = buckets
    store = S3BundleStore(bucket, copies)
    expects = _expect_headers(store)
    data = os.urandom(size)
    key = f"shops/{uuid.uuid4()}/2026-11-30.bundle"
    with tempfile.SpooledTemporaryFile(max_size=64 * 1024) as spool:
        spool.write(b"not part of the bundle" + data)
        spool.seek(len(b"not part of the bundle"))
        store.put(key, spool, tags={"retention": "daily"})

    stored = io.BytesIO()
    store.get(key, stored)
    assert stored.getvalue() == data
    assert store.head(key) == size
    assert store.tags(key) == {"retention": "daily"}
    # A small body goes in one request; a large one waits for the server's go-ahead first
    assert expects == ([None] if size <= storage.CONTINUE_ABOVE_BYTES else [b"100-continue"])

    # A second put to the same key is refused, and the stored bundle stays
    with pytest.raises(BundleExistsError):
        store.put(key, io.BytesIO(os.urandom(size)), tags={"retention": "weekly"})
    again = io.BytesIO()
    store.get(key, again)
    assert again.getvalue() == data
    assert store.tags(key) == {"retention": "daily"}

    # The copy in the second bucket has the same bytes and tags
    assert S3BundleStore(copies).head(key) is None
    store.copy(key)
    assert S3BundleStore(copies).head(key) == size
    import boto3

    copied = boto3.client("s3").get_object(Bucket=copies, Key=key)
    assert copied["Body"].read() == data
    tagging = boto3.client("s3").get_object_tagging(Bucket=copies, Key=key)["TagSet"]
    assert {t["Key"]: t["Value"] for t in tagging} == {"retention": "daily"}

    # Copying again (a run started over) is no error and writes nothing: the copy there stays
    s3 = boto3.client("s3")
    first = s3.head_object(Bucket=copies, Key=key)["ETag"]
    other = f"shops/{uuid.uuid4()}/2026-11-30.bundle"
    s3.put_object(Bucket=copies, Key=other, Body=b"already in the second bucket")
    store.put(other, io.BytesIO(data), tags={"retention": "daily"})
    store.copy(key)
    store.copy(other)
    assert s3.head_object(Bucket=copies, Key=key)["ETag"] == first
    assert s3.get_object(Bucket=copies, Key=other)["Body"].read() == b"already in the second bucket"
