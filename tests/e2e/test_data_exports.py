"""The owner's copy of the shop's data (LGPD) on the deployed local stack: the owner asks through the
API, the outbox's DataExportRequested goes through EventBridge's rule and the exports queue to the data
exports worker, which writes the zip to (LocalStack) S3 and e-mails the owner (LocalStack's SES); the
zip is downloaded through its presigned link and holds the shop's customer, and no other shop's rows."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from typing import Any

import httpx

from tests.e2e.shops import mails_to, new_shop, wait_for


def test_the_owner_asks_for_the_shops_data_and_downloads_the_zip(
    http: httpx.Client, stack: dict[str, Any]
) -> None:
    # Given a shop of its own with a customer whose name no other shop has, and another shop
    shop = new_shop(http, "Loja Exportação E2E")
    other = new_shop(http, "Outra Loja Exportação E2E")
    headers = {"Authorization": f"Bearer {shop['access_token']}"}
    name = f"Cliente Exportado E2E {uuid.uuid4().hex[:8]}"
    created = http.post(
        "/customers", headers=headers, json={"name": name, "phone": f"71 9{uuid.uuid4().int % 10**8:08d}"}
    )
    assert created.status_code == 201, created.text
    customer_id = created.json()["id"]

    # When the owner asks for a copy of the shop's data
    asked = http.post("/data-exports", headers=headers, json={})
    assert asked.status_code == 202, asked.text
    export_id = asked.json()["id"]
    assert asked.json()["status"] == "pending"

    # Then the worker makes it: it ends ready (or failed, which fails the test with its message)
    def finished() -> dict[str, Any] | None:
        answer = http.get(f"/data-exports/{export_id}", headers=headers)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body if body["status"] in ("ready", "failed") else None

    export = wait_for("the export made by the worker", finished, timeout_s=180, every_s=1)
    assert export["status"] == "ready", export
    assert export["rows"] > 0
    assert export["files"] > 0
    assert export["expires_at"]

    # When the owner downloads it through the 5-minute link
    link = http.get(f"/data-exports/{export_id}/download", headers=headers)
    assert link.status_code == 200, link.text
    assert link.json()["content_type"] == "application/zip"
    with httpx.Client(timeout=60) as s3:
        downloaded = s3.get(link.json()["url"])
    assert downloaded.status_code == 200, downloaded.text
    assert len(downloaded.content) == export["bytes"]
    assert link.json()["filename"] in downloaded.headers.get("content-disposition", "")

    # Then the zip holds the shop's customer, as CSV and JSON, and only the shop's rows
    archive = zipfile.ZipFile(io.BytesIO(downloaded.content))
    assert "README.txt" in archive.namelist()
    assert name in archive.read("customers.csv").decode()
    customers = json.loads(archive.read("customers.json"))
    assert [(c["id"], c["name"]) for c in customers] == [(customer_id, name)]
    for member in archive.namelist():
        if member.endswith(".json") and member != "tenants.json":
            assert all(r["tenant_id"] == shop["tenant_id"] for r in json.loads(archive.read(member))), member
        assert other["tenant_id"].encode() not in archive.read(member), member
    assert [t["id"] for t in json.loads(archive.read("tenants.json"))] == [shop["tenant_id"]]

    # And the owner was e-mailed that it is in the panel, with no link in the message
    [mail] = wait_for(
        "the owner's e-mail in LocalStack's SES",
        lambda: [m for m in mails_to(stack, shop["email"]) if "Exportação dos dados" in m["subject"]] or None,
        timeout_s=60,
        every_s=1,
    )
    assert "Dados da loja" in mail["text"]
    assert "X-Amz-" not in mail["text"]

    # And the other shop's owner cannot read it
    other_headers = {"Authorization": f"Bearer {other['access_token']}"}
    assert http.get(f"/data-exports/{export_id}/download", headers=other_headers).status_code == 404
