"""Devices on the deployed local stack: the unlock code through real (LocalStack) KMS, a photo
uploaded with the presigned form straight to S3 and read back through the download URL."""

from __future__ import annotations

import uuid
from typing import Any

import httpx


def _owner(http: httpx.Client, stack: dict[str, Any]) -> dict[str, str]:
    response = http.post(
        "/auth/login", json={"email": stack["demo_email"], "password": stack["demo_password"]}
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_device_intake_unlock_code_and_photo_round_trip(http: httpx.Client, stack: dict[str, Any]) -> None:
    headers = _owner(http, stack)
    phone = f"21 9{uuid.uuid4().int % 10**8:08d}"
    customer = http.post("/customers", headers=headers, json={"name": "Cliente Aparelho E2E", "phone": phone})
    assert customer.status_code == 201, customer.text
    device = http.post(
        f"/customers/{customer.json()['id']}/devices",
        headers=headers,
        json={"type": "tablet", "brand": "Samsung", "model": "Galaxy Tab A8", "unlock_code": "2468"},
    )
    assert device.status_code == 201, device.text
    fetched = http.get(f"/devices/{device.json()['id']}", headers=headers).json()
    assert (fetched["has_unlock_code"], fetched["unlock_code"]) == (True, "2468")

    upload = http.post(
        f"/devices/{device.json()['id']}/photos", headers=headers, json={"content_type": "image/png"}
    )
    assert upload.status_code == 201, upload.text
    form = upload.json()
    picture = b"\x89PNG\r\n\x1a\n" + b"assistec-e2e" * 10
    with httpx.Client(timeout=30) as s3:
        posted = s3.post(
            form["upload_url"], data=form["upload_fields"], files={"file": ("foto.png", picture, "image/png")}
        )
        assert posted.status_code in (200, 201, 204), posted.text
        photos = http.get(f"/devices/{device.json()['id']}/photos", headers=headers).json()["items"]
        assert len(photos) == 1
        downloaded = s3.get(photos[0]["url"])
    assert downloaded.status_code == 200
    assert downloaded.content == picture
