"""S3: device photos (the browser uploads straight to the bucket with a presigned POST whose policy
pins the key, the content type and the size; downloads go through short-lived URLs), the customers'
WhatsApp media, the shops' documents and logos, the shops' backup bundles, and the owners' data
exports (their own bucket)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any, Protocol


class PhotoStorage(Protocol):
    def upload_form(
        self, key: str, content_type: str, *, max_bytes: int, expires_s: int
    ) -> dict[str, Any]: ...

    def download_url(self, key: str, *, expires_s: int) -> str: ...


class S3PhotoStorage:
    def __init__(self, bucket: str) -> None:
        self._bucket = bucket
        self._client: Any = None

    def _s3(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("s3")
        return self._client

    def upload_form(self, key: str, content_type: str, *, max_bytes: int, expires_s: int) -> dict[str, Any]:
        form: dict[str, Any] = self._s3().generate_presigned_post(
            Bucket=self._bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
            ExpiresIn=expires_s,
        )
        return form

    def download_url(self, key: str, *, expires_s: int) -> str:
        url: str = self._s3().generate_presigned_url(
            "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=expires_s
        )
        return url


class MediaStore(Protocol):
    """The customers' WhatsApp media, kept in the shop's prefix of the devices bucket."""

    def put(self, key: str, data: bytes, content_type: str) -> None: ...


class S3MediaStore:
    def __init__(self, bucket: str) -> None:
        self._bucket = bucket
        self._client: Any = None

    def put(self, key: str, data: bytes, content_type: str) -> None:
        if self._client is None:
            import boto3

            self._client = boto3.client("s3")
        self._client.put_object(
            Bucket=self._bucket, Key=key, Body=data, ContentType=content_type, ServerSideEncryption="AES256"
        )


class DocumentStore(Protocol):
    """The shop's documents and logo in the devices bucket: rendered PDFs (documents/<shop>/...) and the
    logo the shop uploads (logos/<shop>/...). Objects are written encrypted (SSE-S3) and read through
    short-lived presigned links."""

    def put(self, key: str, data: bytes, *, content_type: str, filename: str | None = None) -> None:
        """Store ``data`` (``filename``: the name a browser saves it under, as an attachment)."""
        ...

    def download_url(
        self, key: str, *, expires_s: int, filename: str | None = None, content_type: str | None = None
    ) -> str:
        """A presigned GET of ``key``, valid ``expires_s`` seconds (``filename``: saved as an attachment
        of that name)."""
        ...

    def upload_form(self, key: str, content_type: str, *, max_bytes: int, expires_s: int) -> dict[str, Any]:
        """A presigned POST form whose policy pins the key, the content type and the size."""
        ...

    def size(self, key: str) -> int | None:
        """The object's size in bytes (HEAD); None when there is no such object."""
        ...

    def get(self, key: str, *, max_bytes: int) -> bytes | None:
        """The object's first ``max_bytes + 1`` bytes at most (a longer read tells the caller it is too
        big without downloading it all); None when there is no such object."""
        ...


# What S3 answers for an object that is not there: 404 (NoSuchKey), or 403 to a role that may not list
# the bucket (the API's may not: one shop must not list another's keys) for a key it could read.
_MISSING = {"404", "403", "NoSuchKey", "NotFound", "AccessDenied", "Forbidden"}


def _attachment(filename: str) -> str:
    return f'attachment; filename="{filename}"'


class S3DocumentStore:
    def __init__(self, bucket: str) -> None:
        self._bucket = bucket
        self._client: Any = None

    def _s3(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("s3")
        return self._client

    def put(self, key: str, data: bytes, *, content_type: str, filename: str | None = None) -> None:
        extra = {"ContentDisposition": _attachment(filename)} if filename else {}
        self._s3().put_object(
            Bucket=self._bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
            ServerSideEncryption="AES256",
            **extra,
        )

    def download_url(
        self, key: str, *, expires_s: int, filename: str | None = None, content_type: str | None = None
    ) -> str:
        params: dict[str, str] = {"Bucket": self._bucket, "Key": key}
        if filename:
            params["ResponseContentDisposition"] = _attachment(filename)
        if content_type:
            params["ResponseContentType"] = content_type
        url: str = self._s3().generate_presigned_url("get_object", Params=params, ExpiresIn=expires_s)
        return url

    def upload_form(self, key: str, content_type: str, *, max_bytes: int, expires_s: int) -> dict[str, Any]:
        form: dict[str, Any] = self._s3().generate_presigned_post(
            Bucket=self._bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
            ExpiresIn=expires_s,
        )
        return form

    def size(self, key: str) -> int | None:
        from botocore.exceptions import ClientError

        try:
            head = self._s3().head_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in _MISSING:
                return None
            raise
        return int(head["ContentLength"])

    def get(self, key: str, *, max_bytes: int) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            answer = self._s3().get_object(Bucket=self._bucket, Key=key, Range=f"bytes=0-{max_bytes}")
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code"))
            if code in _MISSING:
                return None
            if code == "InvalidRange":  # an empty object has no byte 0
                return b""
            raise
        body = answer["Body"]
        try:
            data: bytes = body.read()
        finally:
            body.close()
        return data


@dataclass(frozen=True, slots=True)
class StoredBundle:
    """A bundle as the bucket lists it."""

    key: str
    size: int
    stored_at: datetime


class BundleExistsError(Exception):
    """A bundle is already stored under that key (a conditional put lost to an earlier or a
    concurrent one)."""


class BundleStore(Protocol):
    """The shops' backup bundles in S3: the backup bucket, and optionally a second bucket that holds
    a copy of each (another region or account)."""

    @property
    def copies(self) -> bool:
        """Whether a second bucket is configured."""
        ...

    def head(self, key: str) -> int | None:
        """The stored size, None when nothing is stored under ``key``."""
        ...

    def put(self, key: str, body: IO[bytes], *, tags: dict[str, str]) -> None:
        """Store ``body`` (read from its current position to the end) under ``key`` with the object
        tags, only if nothing is stored there yet: ``BundleExistsError`` otherwise."""
        ...

    def get(self, key: str, sink: IO[bytes]) -> None:
        """Write the object under ``key`` into ``sink``."""
        ...

    def entries(self, prefix: str) -> list[StoredBundle]:
        """The bundles under ``prefix``: key, size and when stored."""
        ...

    def tags(self, key: str) -> dict[str, str]:
        """The object tags of the bundle under ``key`` (its retention)."""
        ...

    def list(self, prefix: str) -> list[str]:
        """The keys under ``prefix``."""
        ...

    def copy(self, key: str) -> None:
        """Copy the object under ``key`` to the second bucket, tags included, unless the second
        bucket holds that key already (a bundle is written once: what is there is the same bundle)."""
        ...


# A bundle up to this size goes in one request. botocore asks for the server's go-ahead before any
# PutObject body (``Expect: 100-continue``), whatever its size: a round trip more for each of a
# night's thousand shops, whose bundles are mostly a few hundred KB. A larger one still waits for it
# (which spares sending it to a key already taken).
CONTINUE_ABOVE_BYTES = 8 * 1024 * 1024


def _small_bodies_at_once(request: Any, **_: Any) -> None:
    """botocore's ``before-send`` hook: no ``Expect: 100-continue`` on a body of at most
    ``CONTINUE_ABOVE_BYTES`` (the header is not signed: SigV4 leaves ``expect`` out)."""
    length = request.headers.get("Content-Length")
    if "Expect" in request.headers and length is not None and int(length) <= CONTINUE_ABOVE_BYTES:
        del request.headers["Expect"]


class S3BundleStore:
    def __init__(self, bucket: str, copy_bucket: str | None = None) -> None:
        self._bucket = bucket
        self._copy_bucket = copy_bucket
        self._client: Any = None

    @property
    def copies(self) -> bool:
        return self._copy_bucket is not None

    def _s3(self) -> Any:
        if self._client is None:
            import boto3

            client = boto3.client("s3")
            client.meta.events.register("before-send.s3.PutObject", _small_bodies_at_once)
            self._client = client
        return self._client

    def head(self, key: str) -> int | None:
        from botocore.exceptions import ClientError

        try:
            response = self._s3().head_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return int(response["ContentLength"])

    def put(self, key: str, body: IO[bytes], *, tags: dict[str, str]) -> None:
        from urllib.parse import urlencode

        from botocore.exceptions import ClientError

        try:
            # If-None-Match: S3 stores the object only when the key is free (one bundle per shop and
            # day, whatever runs at once). One PUT: a shop's bundle stays far below its 5 GB limit.
            self._s3().put_object(
                Bucket=self._bucket,
                Key=key,
                Body=body,
                Tagging=urlencode(tags),
                IfNoneMatch="*",
                ContentType="application/octet-stream",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in (
                "PreconditionFailed",
                "ConditionalRequestConflict",
            ):
                raise BundleExistsError(key) from exc
            raise

    def get(self, key: str, sink: IO[bytes]) -> None:
        self._s3().download_fileobj(self._bucket, key, sink)

    def entries(self, prefix: str) -> list[StoredBundle]:
        found: list[StoredBundle] = []
        for page in self._s3().get_paginator("list_objects_v2").paginate(Bucket=self._bucket, Prefix=prefix):
            found.extend(
                StoredBundle(item["Key"], int(item["Size"]), item["LastModified"])
                for item in page.get("Contents", [])
            )
        return found

    def tags(self, key: str) -> dict[str, str]:
        answer = self._s3().get_object_tagging(Bucket=self._bucket, Key=key)
        return {t["Key"]: t["Value"] for t in answer.get("TagSet", [])}

    def list(self, prefix: str) -> list[str]:
        return [entry.key for entry in self.entries(prefix)]

    def copy(self, key: str) -> None:
        if self._copy_bucket is None:
            raise RuntimeError("BACKUP_COPY_BUCKET is not set: there is no second bucket")
        from botocore.exceptions import ClientError

        try:
            # If-None-Match on the copy too (S3 takes it on CopyObject as on PutObject): one request
            # where a HeadObject and then the copy were two, and two runs copying at once write once.
            self._s3().copy_object(
                Bucket=self._copy_bucket,
                Key=key,
                CopySource={"Bucket": self._bucket, "Key": key},
                TaggingDirective="COPY",
                IfNoneMatch="*",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "PreconditionFailed":
                raise


class ExportStore(Protocol):
    """The owners' data exports (the exports bucket, ``exports/<shop>/<export>.zip``): written once by
    the data exports worker, handed out through short-lived presigned links signed by the API."""

    def put(self, key: str, body: IO[bytes], *, filename: str) -> None:
        """Store ``body`` (read from its current position to the end) as a zip, encrypted (SSE-S3);
        a browser saves it as ``filename``."""
        ...

    def download_url(self, key: str, *, expires_s: int, filename: str) -> str:
        """A presigned GET of ``key``, valid ``expires_s`` seconds, saved as ``filename``."""
        ...


class S3ExportStore:
    def __init__(self, bucket: str | None) -> None:
        self._bucket = bucket
        self._client: Any = None

    def _s3(self) -> Any:
        if self._bucket is None:
            raise RuntimeError("EXPORTS_BUCKET is not set: this function has no data exports bucket")
        if self._client is None:
            import boto3

            self._client = boto3.client("s3")
        return self._client

    def put(self, key: str, body: IO[bytes], *, filename: str) -> None:
        # upload_fileobj: a large shop's zip goes up in parts (a single PUT stops at 5 GB).
        self._s3().upload_fileobj(
            body,
            self._bucket,
            key,
            ExtraArgs={
                "ContentType": "application/zip",
                "ContentDisposition": _attachment(filename),
                "ServerSideEncryption": "AES256",
            },
        )

    def download_url(self, key: str, *, expires_s: int, filename: str) -> str:
        url: str = self._s3().generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self._bucket,
                "Key": key,
                "ResponseContentDisposition": _attachment(filename),
                "ResponseContentType": "application/zip",
            },
            ExpiresIn=expires_s,
        )
        return url
