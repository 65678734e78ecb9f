"""The shop's own bank end to end on the local stack (issue 15 §6): boletos issued through the API for
three orders, the agreement's remessa generated and downloaded, then the bank's answer: a retorno in
Itaú's CNAB 400 (built from the bank-issued fixture's records, the nosso números as the downloaded
remessa wrote them) confirming the three entries and settling two, uploaded through the presigned form
→ S3 → EventBridge → the queue → the bank files worker. The two orders are paid, their customers told
on WhatsApp once, the third boleto registered; the same retorno again (uploaded again, then inline)
changes nothing. Then a bank statement crediting the day's settlements is matched to them."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from validate_docbr import CPF

from assistec.domain.banking.cnab import read_remessa
from tests.banking_retornos import Line, retorno400
from tests.e2e.shops import new_shop, wait_for, whatsapp_texts_to

SHOP_TIME = ZoneInfo("America/Sao_Paulo")
ITAU400 = {
    "name": "Itaú da loja",
    "bank_code": "341",
    "branch": "57",
    "account": "12345",
    "account_digit": "7",
    "wallet": "109",
    "agreement_code": "12345",
    "layout": "cnab400",
}
SHOP_NUMBER = "5511955553333"


def _ok(response: httpx.Response) -> Any:
    assert response.status_code in (200, 201, 202), (response.request.url, response.text)
    return response.json()


def _order(http: httpx.Client, headers: dict[str, str], name: str, price_cents: int) -> dict[str, Any]:
    """A customer with CPF and address (a registered boleto names its payer), a device, an order and
    the customer's approval of its quote."""
    digits = f"9{uuid.uuid4().int % 10**8:08d}"
    customer = _ok(
        http.post(
            "/customers",
            headers=headers,
            json={
                "name": name,
                "phone": f"11 {digits}",
                "document": CPF().generate(),
                "address": {
                    "street": "Rua Augusta",
                    "number": "1500",
                    "district": "Consolação",
                    "city": "São Paulo",
                    "state": "SP",
                    "zip_code": "01304-001",
                },
            },
        )
    )
    device = _ok(
        http.post(
            f"/customers/{customer['id']}/devices",
            headers=headers,
            json={"type": "phone", "brand": "Motorola", "model": "Moto G84"},
        )
    )
    order = _ok(
        http.post(
            "/orders",
            headers=headers,
            json={
                "customer_id": customer["id"],
                "device_id": device["id"],
                "reported_problem": "Tela quebrada",
            },
        )
    )
    _ok(
        http.post(
            f"/orders/{order['id']}/transitions", headers=headers, json={"to": "diagnosing", "version": 1}
        )
    )
    quote = _ok(
        http.post(
            f"/orders/{order['id']}/quotes",
            headers=headers,
            json={
                "lines": [{"kind": "labour", "description": "Troca de tela", "price_cents": price_cents}],
                "deadline_days": 2,
            },
        )
    )
    _ok(
        http.post(
            f"/quotes/{quote['id']}/decision", headers=headers, json={"decision": "approve", "name": name}
        )
    )
    return {**order, "customer": customer, "number_sent_to": f"5511{digits}"}


def _upload(
    http: httpx.Client, headers: dict[str, str], data: bytes, filename: str, kind: str = "retorno"
) -> str:
    """The presigned form, as the panel uses it: the file goes straight to S3."""
    form = _ok(http.post("/banking/files", headers=headers, json={"kind": kind, "filename": filename}))
    sent = httpx.post(
        form["upload_url"], data=form["upload_fields"], files={"file": (filename, data)}, timeout=60
    )
    assert sent.status_code in (200, 201, 204), sent.text
    return str(form["upload_id"])


def _read(http: httpx.Client, headers: dict[str, str], file_id: str) -> dict[str, Any]:
    """The file's record once the worker has read it."""
    record = wait_for(
        "the file read by the worker",
        lambda: (
            (r := http.get(f"/banking/files/{file_id}", headers=headers)).status_code == 200
            and r.json()["status"] != "pending_parser"
            and r.json()
        ),
        timeout_s=180,
    )
    return dict(record)


def _ofx(day: date, rows: list[tuple[str, int, str]]) -> bytes:
    """The account's statement as the bank exports it (OFX 1.02, SGML)."""
    movements = "".join(
        f"<STMTTRN>\n<TRNTYPE>{'CREDIT' if cents > 0 else 'DEBIT'}\n<DTPOSTED>{day:%Y%m%d}\n"
        f"<TRNAMT>{cents // 100}.{cents % 100:02d}\n<FITID>{fit}\n<MEMO>{memo}\n</STMTTRN>\n"
        for fit, cents, memo in rows
    )
    return (
        "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nENCODING:USASCII\nCHARSET:1252\n\n<OFX>\n<BANKMSGSRSV1>\n"
        "<STMTTRNRS>\n<STMTRS>\n<CURDEF>BRL\n<BANKACCTFROM>\n<BANKID>341\n<BRANCHID>0057\n<ACCTID>12345\n"
        "</BANKACCTFROM>\n<BANKTRANLIST>\n" + movements + "</BANKTRANLIST>\n</STMTRS>\n</STMTTRNRS>\n"
        "</BANKMSGSRSV1>\n</OFX>\n"
    ).encode()


def _worker_said(aws: Any, stack: dict[str, Any], upload_id: str) -> list[str]:
    """The outcomes the bank files worker logged for this upload (recorded, duplicate, ...)."""
    logs = aws("logs")
    group = f"/aws/lambda/{stack['bank_files_function_name']}"
    try:
        pages = logs.get_paginator("filter_log_events").paginate(logGroupName=group)
        events = [e for page in pages for e in page["events"]]
    except logs.exceptions.ResourceNotFoundException:
        return []
    said = []
    for event in events:
        try:
            line = json.loads(event["message"])
        except ValueError:
            continue
        if line.get("upload_id") == upload_id and "outcome" in line:
            said.append(str(line["outcome"]))
    return said


@pytest.mark.timeout(600)
def test_boletos_remessa_and_retorno_pay_the_orders_once_and_tell_the_customers(
    http: httpx.Client, stack: dict[str, Any], aws: Any
) -> None:
    shop = new_shop(http, "Loja Banco E2E")
    headers = {"Authorization": f"Bearer {shop['access_token']}"}

    # The shop's number on WhatsApp (the simulator) and its agreement with Itaú
    instance = _ok(http.post("/whatsapp/instance", headers=headers, json={"number": SHOP_NUMBER}))
    sim = httpx.Client(base_url=stack["evolution_simulator_url"], timeout=30)
    _ok(sim.post(f"/_sim/instances/{instance['name']}/open", json={"number": SHOP_NUMBER}))
    wait_for(
        "the number open",
        lambda: http.get("/whatsapp/instance", headers=headers).json().get("state") == "open",
    )
    agreement = _ok(http.post("/banking/agreements", headers=headers, json=ITAU400))

    # 1. Three orders, a boleto each for its open balance, due in a week on the shop's calendar
    today = datetime.now(SHOP_TIME).date()
    due = today + timedelta(days=7)
    orders = [
        _order(http, headers, f"Cliente Boleto {n}", price)
        for n, price in ((1, 18000), (2, 25050), (3, 9990))
    ]
    boletos = [
        _ok(http.post(f"/orders/{o['id']}/boletos", headers=headers, json={"due_date": due.isoformat()}))
        for o in orders
    ]
    assert [b["amount_cents"] for b in boletos] == [18000, 25050, 9990]
    assert all(len(b["barcode"]) == 44 and len(b["digitable_line"]) == 47 for b in boletos)
    assert len({b["nosso_numero"] for b in boletos}) == 3

    # 2. The remessa: the three boletos in Itaú's layout, downloaded through its short-lived link
    remessa = _ok(http.post(f"/banking/agreements/{agreement['id']}/remessas", headers=headers, json={}))
    assert (remessa["sequence"], remessa["item_count"], remessa["total_cents"]) == (
        1,
        3,
        18000 + 25050 + 9990,
    )
    downloaded = httpx.get(remessa["download_url"], timeout=30)
    assert downloaded.status_code == 200
    written = read_remessa(downloaded.content)
    assert [(i.amount_cents, i.due_date) for i in written.items] == [
        (b["amount_cents"], due) for b in boletos
    ]
    again = http.post(f"/banking/agreements/{agreement['id']}/remessas", headers=headers, json={})
    assert (again.status_code, again.json()["code"]) == (409, "remessa_nothing_to_send")

    # 3. The bank's retorno: entries confirmed for the three, the first two settled today
    confirmed = [Line(i.nosso_numero, "02", i.amount_cents, on=today, due=due) for i in written.items]
    settled = [
        Line(i.nosso_numero, "06", i.amount_cents, paid_cents=i.amount_cents, on=today, due=due)
        for i in written.items[:2]
    ]
    retorno = retorno400("brcobranca/CNAB400ITAU.RET", "341", ITAU400, confirmed + settled)
    upload_id = _upload(http, headers, retorno, "CN301100.RET")
    record = _read(http, headers, upload_id)
    assert record["status"] == "parsed", record
    assert (record["format"], record["agreement_id"]) == ("cnab400", agreement["id"])
    assert (record["occurrence_count"], record["unmatched_count"]) == (5, 0)
    assert record["settled_cents"] == 18000 + 25050

    # The two orders are paid, the third not; the boletos say so; each payer told once
    def states() -> list[tuple[str, int]]:
        return [
            (
                http.get(f"/banking/boletos/{b['id']}", headers=headers).json()["status"],
                http.get(f"/orders/{o['id']}", headers=headers).json()["paid_cents"],
            )
            for b, o in zip(boletos, orders, strict=True)
        ]

    assert states() == [("settled", 18000), ("settled", 25050), ("registered", 0)]
    for order, amount in ((orders[0], "R$ 180,00"), (orders[1], "R$ 250,50")):
        told = wait_for(
            f"the payment told to {order['customer']['name']}",
            lambda order=order: [
                t
                for t in whatsapp_texts_to(stack, instance["name"], order["number_sent_to"])
                if t.startswith("Pagamento recebido")
            ],
        )
        assert told == [f"Pagamento recebido: {amount} do boleto da OS {order['number']}. Obrigado!"]
    assert whatsapp_texts_to(stack, instance["name"], orders[2]["number_sent_to"]) == []

    # 4. The same retorno again, through S3: the worker sees it is known and nothing changes
    repeat_id = _upload(http, headers, retorno, "CN301100-copia.RET")
    said = wait_for(
        "the worker's outcome for the repeated upload",
        lambda: _worker_said(aws, stack, repeat_id),
        timeout_s=180,
    )
    assert set(said) == {"duplicate"}, said  # (at least once: a redelivery says it again)
    assert http.get(f"/banking/files/{repeat_id}", headers=headers).status_code == 404
    # ... and inline: the first record answered, 200, nothing changed
    inline = http.post(
        "/banking/files/inline",
        headers=headers,
        json={
            "kind": "retorno",
            "filename": "CN301100.RET",
            "content_base64": base64.b64encode(retorno).decode(),
        },
    )
    assert inline.status_code == 200, inline.text
    assert (inline.json()["id"], inline.json()["duplicate"]) == (upload_id, True)
    listed = http.get("/banking/files", headers=headers, params={"kind": "retorno"}).json()["items"]
    assert [f["id"] for f in listed] == [upload_id]
    assert states() == [("settled", 18000), ("settled", 25050), ("registered", 0)]
    for order in orders[:2]:
        told = [
            t
            for t in whatsapp_texts_to(stack, instance["name"], order["number_sent_to"])
            if t.startswith("Pagamento recebido")
        ]
        assert len(told) == 1, told

    # 5. The account's statement: one credit for the day's two settlements (and a PIX nothing
    # explains). The matcher suggests that line for exactly those two; the owner confirms it, and the
    # day's report counts them matched, automatically.
    statement_id = _upload(
        http,
        headers,
        _ofx(today, [("E2E1", 18000 + 25050, "COBRANCA CRED LIQUIDACAO"), ("E2E2", 4321, "PIX RECEBIDO")]),
        "extrato.ofx",
        kind="statement",
    )
    assert _read(http, headers, statement_id)["status"] == "parsed"
    (match,) = wait_for(
        "the matcher's suggestion",
        lambda: http.get(
            "/banking/reconciliation/matches", headers=headers, params={"status": "suggested"}
        ).json()["items"],
    )
    settlements = http.get(f"/banking/files/{upload_id}", headers=headers).json()["occurrences"]
    settled_ids = sorted(o["id"] for o in settlements if o["kind"] == "settled")
    assert sorted(i["bank_file_line_id"] for i in match["items"]) == settled_ids
    assert (match["method"], match["difference_cents"]) == ("automatic", 0)
    _ok(http.post(f"/banking/reconciliation/matches/{match['id']}/confirm", headers=headers, json={}))
    report = _ok(
        http.get(
            "/banking/reconciliation/report",
            headers=headers,
            params={"from": today.isoformat(), "to": today.isoformat()},
        )
    )
    totals = report["totals"]
    assert (totals["expected_count"], totals["matched_count"], totals["matched_cents"]) == (2, 2, 43050)
    assert (totals["unmatched_line_count"], totals["unmatched_line_cents"]) == (1, 4321)
    assert totals["auto_match_rate_bp"] == 10_000
