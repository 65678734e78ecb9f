"""Device photos in S3: the browser uploads straight to the bucket with a presigned POST whose
policy pins the key, the content type and the size; downloads go through short-lived URLs."""

from __future__ import annotations

from typing import Any, Protocol


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
