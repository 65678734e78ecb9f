"""Documents on the deployed local stack: the shop's logo uploaded with the presigned form straight to
(LocalStack) S3 and confirmed, an order's intake receipt rendered by the API Lambda, stored in S3 and
downloaded through its presigned link, and the customer's tracking page handing out the same PDF."""

from __future__ import annotations

import io
import uuid
from typing import Any

import httpx
from PIL import Image
from pypdf import PdfReader

from tests.e2e.shops import new_shop

ADDRESS = "Av. Sete de Setembro, 1000 — Salvador/BA"
TERMS = "Aparelhos não retirados em 90 dias serão considerados abandonados."


def _text(pdf: bytes) -> str:
    return " ".join(" ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages).split())


def _logo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (160, 80), (27, 110, 243)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_intake_receipt_with_the_shops_logo_for_staff_and_on_the_tracking_link(
    http: httpx.Client, stack: dict[str, Any]
) -> None:
    # Given a shop of its own (its settings change) with its address, terms and a logo uploaded to S3
    shop = new_shop(http, "Loja Documentos E2E")
    headers = {"Authorization": f"Bearer {shop['access_token']}"}
    current = http.get("/settings/documents", headers=headers)
    assert current.status_code == 200, current.text
    saved = http.put(
        "/settings/documents",
        headers=headers,
        json={"version": current.json()["version"], "address": ADDRESS, "intake_terms": TERMS},
    )
    assert saved.status_code == 200, saved.text
    upload = http.post("/settings/logo", headers=headers, json={"content_type": "image/png"})
    assert upload.status_code == 201, upload.text
    form = upload.json()
    with httpx.Client(timeout=30) as s3:
        posted = s3.post(
            form["upload_url"], data=form["upload_fields"], files={"file": ("logo.png", _logo(), "image/png")}
        )
        assert posted.status_code in (200, 201, 204), posted.text
        confirmed = http.put("/settings/logo", headers=headers, json={"key": form["key"]})
        assert confirmed.status_code == 200, confirmed.text
        assert confirmed.json()["has_logo"] is True
        assert s3.get(confirmed.json()["logo_url"]).content == _logo()

        # And an order opened for a customer's phone
        phone = f"71 9{uuid.uuid4().int % 10**8:08d}"
        customer = http.post(
            "/customers", headers=headers, json={"name": "Cliente Documento E2E", "phone": phone}
        ).json()
        device = http.post(
            f"/customers/{customer['id']}/devices",
            headers=headers,
            json={"type": "phone", "brand": "Motorola", "model": "Edge 40"},
        ).json()
        created = http.post(
            "/orders",
            headers=headers,
            json={"customer_id": customer["id"], "device_id": device["id"], "reported_problem": "Não liga"},
        )
        assert created.status_code == 201, created.text
        order = created.json()
        number = f"{order['number']:04d}"

        # When staff ask for its intake receipt
        answer = http.get(f"/orders/{order['id']}/documents/intake", headers=headers)
        assert answer.status_code == 200, answer.text
        document = answer.json()
        assert document["filename"] == f"OS-{number}-entrada.pdf"
        # Then the presigned link gives the PDF: the order's number, the customer, the device, the
        # shop's address and terms, and the logo drawn
        downloaded = s3.get(document["url"])
        assert downloaded.status_code == 200, downloaded.text
        assert downloaded.content.startswith(b"%PDF-")
        assert f'filename="OS-{number}-entrada.pdf"' in downloaded.headers.get("content-disposition", "")
        text = _text(downloaded.content)
        for expected in (f"OS {number}", "Cliente Documento E2E", "Motorola Edge 40", ADDRESS, TERMS):
            assert expected in text, expected
        assert len(PdfReader(io.BytesIO(downloaded.content)).pages[0].images) == 1

        # And the customer's tracking page links to the same receipt, which its link redirects to
        tracking = f"/public/orders/{order['tracking_token']}"
        page = http.get(tracking, headers={"Accept": "text/html"})
        assert page.status_code == 200, page.text
        assert "pdf?kind=intake" in page.text
        redirect = http.get(f"{tracking}/pdf", params={"kind": "intake"}, headers={"Accept": "text/html"})
        assert redirect.status_code == 302, redirect.text
        followed = s3.get(redirect.headers["location"])
        assert followed.status_code == 200
        assert f"OS {number}" in _text(followed.content)

    # And a delivery receipt before delivery is refused, for staff and on the link
    refused = http.get(f"/orders/{order['id']}/documents/delivery", headers=headers)
    assert (refused.status_code, refused.json()["code"]) == (409, "order_not_delivered")
    refused = http.get(f"{tracking}/pdf", params={"kind": "delivery"}, headers={"Accept": "application/json"})
    assert (refused.status_code, refused.json()["code"]) == (409, "order_not_delivered")
