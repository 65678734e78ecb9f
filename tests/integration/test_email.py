"""The shop's e-mail (issue 13 §2): every message recorded, SES's events moving the record on, bounced
and complaining addresses suppressed per shop with the reason staff read, the shop's own SMTP server
(a real one on 127.0.0.1, STARTTLS and AUTH) and its own texts.

Through the API handler and the mail events handler against the real database; SES's transport is the
test's fake (``FakeMailer``), its events are SES's real shapes (tests/fixtures/ses)."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext

from tests.conftest import PgDatabase
from tests.integration.billing_fixtures import FakeMailer
from tests.integration.conftest import Client, Shop, signup
from tests.integration.shop_helpers import _ok

SES_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ses"
CUSTOMER = "ana.souza@exemplo.com.br"


class _Context(LambdaContext):
    _function_name = "assistec-mail-events"
    _function_version = "$LATEST"
    _invoked_function_arn = "arn:aws:lambda:sa-east-1:111111111111:function:assistec-mail-events"
    _memory_limit_in_mb = 256
    _aws_request_id = "req-mail"
    _log_group_name = "/aws/lambda/assistec-mail-events"
    _log_stream_name = "stream"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@pytest.fixture
def events(api_root: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The mail events function's handler, on the API's database."""
    from assistec.handlers import mail_events
    from assistec.observability import metrics
    from assistec.services.email.events import MailEvents
    from assistec.wiring import mail as wiring

    class Root:
        mail_events = MailEvents(api_root.work)

    monkeypatch.setattr(wiring, "root", lambda: Root())
    monkeypatch.setattr(
        metrics.provider, "namespace", "AssistecTest"
    )  # as the functions' environment sets it
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")  # `make test` disables metrics

    def deliver(*bodies: str) -> dict[str, Any]:
        records = [
            {
                "messageId": f"m{i}",
                "receiptHandle": f"r{i}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:sa-east-1:111111111111:assistec-mail-events",
                "awsRegion": "sa-east-1",
            }
            for i, body in enumerate(bodies)
        ]
        return mail_events.handler({"Records": records}, _Context())

    return deliver


def ses_event(fixture: str, *, message_id: str, tenant: str, record: str | None, to: str = CUSTOMER) -> str:
    """SES's event (the fixture's real shape) about one of our messages: SQS's body under raw delivery."""
    sns = json.loads((SES_FIXTURES / f"{fixture}.json").read_text())["Sns"]
    event = json.loads(sns["Message"])
    event["mail"]["messageId"] = message_id
    event["mail"]["destination"] = [to]
    tags = {"tenant": [tenant], "template": ["order_document"]}
    if record:
        tags["record"] = [record]
    event["mail"]["tags"] = tags
    for part, key in (("bounce", "bouncedRecipients"), ("complaint", "complainedRecipients")):
        if part in event:
            event[part][key] = [{**event[part][key][0], "emailAddress": to}]
    if "delivery" in event:
        event["delivery"]["recipients"] = [to]
    return json.dumps(event)


def send(api_root: Any, shop: Shop, to: str = CUSTOMER, **extra: Any) -> Any:
    from assistec.integrations.email import Attachment

    return api_root.mail.send(
        UUID(shop.tenant_id),
        template="order_document",
        to=to,
        context={
            "customer_name": "Ana Souza",
            "order_number": 42,
            "document": "Orçamento",
            "device": "Apple iPhone 11",
            "link": None,
        },
        attachments=(Attachment("OS-0042-orcamento.pdf", "application/pdf", b"%PDF-1.4 test"),),
        **extra,
    )


def staff(client: Client, shop: Shop, role: str) -> str:
    email = f"{role}-{uuid.uuid4().hex[:8]}@exemplo.com.br"
    body = {"email": email, "name": "Equipe", "role": role, "password": "senha-do-time"}
    _ok(client.call("POST", "/users", shop.access_token, body=body))
    login = {"email": email, "password": "senha-do-time"}
    return str(_ok(client.call("POST", "/auth/login", body=login))["access_token"])


def messages(client: Client, shop: Shop, **query: str) -> list[dict[str, Any]]:
    return list(_ok(client.call("GET", "/email/messages", shop.access_token, query=query))["items"])


def test_a_customer_mail_leaves_as_the_shop_and_is_recorded(api_root: Any, client: Client) -> None:
    shop = signup(client, name="Conserta Já Assistência")
    mailer: FakeMailer = api_root.mailer

    # When the shop's mail module sends a document to a customer
    sent = send(api_root, shop)

    # Then SES got it from the shop's name, answered to the shop, tagged for its events
    assert sent.ok
    assert sent.transport == "ses"
    mail = mailer.mails[-1]
    assert (mail.to, mail.from_name, mail.reply_to) == (CUSTOMER, "Conserta Já Assistência", shop.email)
    tags = dict(mail.tags)
    assert tags == {"tenant": shop.tenant_id, "template": "order_document", "record": str(sent.record_id)}
    assert [a.filename for a in mail.attachments] == ["OS-0042-orcamento.pdf"]
    assert "Conserta Já Assistência" in mail.html
    assert "Ana Souza" in mail.text
    # And staff see it, sent
    [row] = messages(client, shop)
    assert (row["status"], row["transport"], row["to_address"]) == ("sent", "ses", CUSTOMER)
    assert row["attachments"] == ["OS-0042-orcamento.pdf"]
    assert row["subject"] == mail.subject


def test_delivery_then_bounce_suppresses_the_address_for_that_shop_only(
    api_root: Any, client: Client, events: Any, database: PgDatabase, capsys: pytest.CaptureFixture[str]
) -> None:
    shop, other = signup(client), signup(client)
    mailer: FakeMailer = api_root.mailer
    sent = send(api_root, shop)
    provider_id = sent.provider_message_id
    assert provider_id

    # When SES reports the delivery, then a permanent bounce (twice: SES delivers at least once)
    answer = events(
        ses_event("delivery", message_id=provider_id, tenant=shop.tenant_id, record=str(sent.record_id))
    )
    assert answer == {"batchItemFailures": []}
    assert messages(client, shop)[0]["status"] == "delivered"
    bounce = ses_event(
        "bounce_permanent", message_id=provider_id, tenant=shop.tenant_id, record=str(sent.record_id)
    )
    assert events(bounce, bounce) == {"batchItemFailures": []}

    # Then the message reads bounced, with the server's reason, and the address is suppressed
    [row] = messages(client, shop)
    assert row["status"] == "bounced"
    assert "550" in row["detail"]
    [suppressed] = _ok(client.call("GET", "/email/suppressions", shop.access_token))["items"]
    assert (suppressed["address"], suppressed["reason"]) == (CUSTOMER, "bounce")
    assert "550 5.1.1" in suppressed["detail"]
    with psycopg.connect(database.superuser_url) as conn:
        audits = conn.execute(
            "select count(*) from audit_log where tenant_id = %s and action = 'suppress'", (shop.tenant_id,)
        ).fetchone()
    assert audits == (1,)  # the second copy of the event changed nothing

    # And the next message to it is recorded, not sent
    before = len(mailer.mails)
    again = send(api_root, shop)
    assert again.status == "suppressed"
    assert len(mailer.mails) == before
    [held] = messages(client, shop, status="suppressed")
    assert "bounce permanente" in held["detail"]
    # While another shop still writes to the same address
    assert send(api_root, other).ok
    assert len(mailer.mails) == before + 1
    assert _ok(client.call("GET", "/email/suppressions", other.access_token))["items"] == []


def test_a_complaint_outranks_a_delivery_and_staff_may_lift_it(
    api_root: Any, client: Client, events: Any
) -> None:
    shop = signup(client)
    sent = send(api_root, shop)
    record = str(sent.record_id)
    events(ses_event("complaint", message_id=sent.provider_message_id, tenant=shop.tenant_id, record=record))
    # A delivery reported after the complaint does not take the message back
    events(ses_event("delivery", message_id=sent.provider_message_id, tenant=shop.tenant_id, record=record))
    assert messages(client, shop)[0]["status"] == "complained"
    [suppressed] = _ok(client.call("GET", "/email/suppressions", shop.access_token))["items"]
    assert suppressed["reason"] == "complaint"
    assert "spam" in suppressed["detail"]

    # An attendant sees it but may not lift it; the owner may
    attendant = staff(client, shop, "attendant")
    assert client.call("GET", "/email/suppressions", attendant)[0] == 200
    status, body, _ = client.call("DELETE", f"/email/suppressions/{CUSTOMER}", attendant)
    assert (status, body["code"]) == (403, "forbidden")
    # (as the panel sends it: percent-encoded, the @ as %40)
    from urllib.parse import quote

    _ok(client.call("DELETE", f"/email/suppressions/{quote(CUSTOMER, safe='')}", shop.access_token))
    assert client.call("DELETE", f"/email/suppressions/{CUSTOMER}", shop.access_token)[0] == 404
    assert send(api_root, shop).ok


def test_events_for_another_shop_or_unknown_messages_change_nothing(
    api_root: Any, client: Client, events: Any
) -> None:
    shop, other = signup(client), signup(client)
    sent = send(api_root, shop)
    # An event naming the other shop, with this shop's record: row-level security hides the record
    forged = ses_event(
        "bounce_permanent",
        message_id=sent.provider_message_id,
        tenant=other.tenant_id,
        record=str(sent.record_id),
    )
    assert events(forged) == {"batchItemFailures": []}
    assert messages(client, shop)[0]["status"] == "sent"
    assert _ok(client.call("GET", "/email/suppressions", shop.access_token))["items"] == []
    # SES's notices and unreadable events are dropped, not retried forever
    notice = "Successfully validated SNS topic for Amazon SES event publishing."
    assert events(notice, "{not json", json.dumps({"eventType": "Bounce"})) == {"batchItemFailures": []}
    # A sign-up's confirmation (no shop) is only logged
    lone = ses_event("delivery", message_id="x", tenant="", record=None)
    assert events(lone) == {"batchItemFailures": []}


def test_a_transient_failure_is_recorded_and_raised_for_the_retry(api_root: Any, client: Client) -> None:
    from assistec.integrations.email import MailUnavailable

    shop = signup(client)
    api_root.mailer.down = True
    with pytest.raises(MailUnavailable):
        send(api_root, shop)
    [row] = messages(client, shop)
    assert (row["status"], row["error_code"]) == ("failed", "unavailable")


# --- the shop's own SMTP server --------------------------------------------------------------------
SMTP_BODY = {
    "host": "localhost",
    "port": 2525,
    "security": "starttls",
    "username": "loja",
    "password": "segredo",
    "from_address": "contato@consertaja.com.br",
    "version": 0,
}


def test_an_smtp_server_inside_our_network_is_refused(client: Client) -> None:
    shop = signup(client)
    for host in ("localhost", "127.0.0.1", "169.254.169.254", "10.0.0.8"):
        status, body, _ = client.call(
            "PUT", "/settings/email/smtp", shop.access_token, body={**SMTP_BODY, "host": host}
        )
        assert (status, body["code"]) == (422, "smtp_host_refused"), host
    settings = _ok(client.call("GET", "/settings/email", shop.access_token))
    assert (settings["transport"], settings["smtp"]) == ("ses", None)


def test_the_shops_smtp_server_sends_its_customer_mail(api_root: Any, client: Client, tmp_path: Path) -> None:
    from assistec.integrations.email import SmtpMailer
    from assistec.services.email.admin import MailAdmin
    from tests.support_smtp import local_smtp_server

    shop = signup(client)
    with local_smtp_server(tmp_path) as server:
        # The local stage's rule (SMTP_ALLOW_PRIVATE): its servers listen on 127.0.0.1
        api_root.mail_admin = MailAdmin(
            api_root.work, lambda: api_root.mail, lambda: api_root.smtp_cipher, allow_private_smtp=True
        )
        api_root.smtp_mailer = lambda config: SmtpMailer(
            config, ssl_context=server.ca_context, allow_private=True
        )
        # Given the shop saves its server (the password never comes back)
        saved = _ok(
            client.call(
                "PUT", "/settings/email/smtp", shop.access_token, body={**SMTP_BODY, "port": server.port}
            )
        )
        assert saved["has_password"] is True
        assert "password" not in saved
        attendant = staff(client, shop, "attendant")
        assert (
            client.call("PUT", "/settings/email/smtp", attendant, body={**SMTP_BODY, "version": 1})[0] == 403
        )

        # When it tests it, the message reaches the server through STARTTLS with the login
        tested = _ok(client.call("POST", "/settings/email/smtp/test", shop.access_token))
        assert tested["status"] == "sent"
        assert tested["to"] == shop.email
        [test_mail] = server.received
        assert (test_mail.login, test_mail.rcpt_tos) == ("loja", [shop.email])
        assert _ok(client.call("GET", "/settings/email", shop.access_token))["smtp"]["verified_at"]

        # And its customers' mail goes through it, not SES
        ses_before = len(api_root.mailer.mails)
        assert send(api_root, shop).transport == "smtp"
        assert len(server.received) == 2
        assert len(api_root.mailer.mails) == ses_before
        assert server.received[1].message["Reply-To"] == shop.email

        # A wrong password (kept blank: the stored one stays; changed: the new one is used)
        changed = {**SMTP_BODY, "port": server.port, "password": "errada", "version": saved["version"]}
        saved = _ok(client.call("PUT", "/settings/email/smtp", shop.access_token, body=changed))
        failed = _ok(client.call("POST", "/settings/email/smtp/test", shop.access_token))
        assert failed["status"] == "failed"
        assert "senha" in failed["reason"].lower()
        settings = _ok(client.call("GET", "/settings/email", shop.access_token))["smtp"]
        assert settings["last_error"] == failed["reason"]
        stale = client.call("PUT", "/settings/email/smtp", shop.access_token, body={**changed, "version": 1})
        assert stale[0] == 409
        assert stale[1]["details"]["current_version"] == saved["version"]

        # Back to SES
        _ok(client.call("DELETE", "/settings/email/smtp", shop.access_token))
        assert send(api_root, shop).transport == "ses"


# --- the shop's own texts --------------------------------------------------------------------------
def test_the_shop_writes_its_own_subject_and_opening(api_root: Any, client: Client) -> None:
    shop = signup(client)
    listed = _ok(client.call("GET", "/settings/email/templates", shop.access_token))["items"]
    assert {"quote_sent", "payment_link", "order_document", "appointment_reminder"} <= {
        t["name"] for t in listed
    }
    assert all(t["version"] == 0 for t in listed)

    # Bad texts are refused with the reason, and nothing is kept
    for body, code in (
        ({"subject": "OS {{ numero_errado }}", "version": 0}, "template_unknown_variable"),
        ({"intro": "{{ ''.__class__ }}", "version": 0}, "template_unsafe"),
        ({"intro": "{% if %}", "version": 0}, "template_syntax"),
        ({"version": 0}, "template_empty"),
    ):
        status, answer, _ = client.call(
            "PUT", "/settings/email/templates/order_document", shop.access_token, body=body
        )
        assert (status, answer["code"]) == (422, code), body
    assert (
        client.call(
            "PUT", "/settings/email/templates/nada", shop.access_token, body={"version": 0, "subject": "x"}
        )[0]
        == 404
    )

    # A preview shows it with sample data, escaped in HTML
    preview = _ok(
        client.call(
            "POST",
            "/settings/email/templates/order_document/preview",
            shop.access_token,
            body={
                "subject": "Seu documento da OS {{ order_number }}",
                "intro": "Oi <b>{{ customer_name }}</b>!",
            },
        )
    )
    assert preview["subject"] == "Seu documento da OS 1042"
    assert "Oi &lt;b&gt;Ana Souza&lt;/b&gt;!" in preview["html"]
    assert "Oi <b>Ana Souza</b>!" in preview["text"]

    # Saved, the next message uses it
    saved = _ok(
        client.call(
            "PUT",
            "/settings/email/templates/order_document",
            shop.access_token,
            body={"subject": "Documento da OS {{ order_number }} — {{ shop_name }}", "version": 0},
        )
    )
    assert saved["version"] == 1
    send(api_root, shop)
    assert api_root.mailer.mails[-1].subject == "Documento da OS 42 — Conserta Já Assistência"
    stale = client.call(
        "PUT",
        "/settings/email/templates/order_document",
        shop.access_token,
        body={"subject": "x", "version": 0},
    )
    assert stale[0] == 409
    # Reset: the default again
    _ok(client.call("DELETE", "/settings/email/templates/order_document", shop.access_token))
    send(api_root, shop)
    assert not api_root.mailer.mails[-1].subject.startswith("Documento da OS 42 —")


# --- a document by e-mail ---------------------------------------------------------------------------
def test_staff_email_an_orders_document_to_its_customer(api_root: Any, client: Client) -> None:
    from pypdf import PdfReader

    from tests.integration.shop_helpers import open_order

    shop = signup(client)
    order = open_order(client, shop)
    path = f"/orders/{order['id']}/documents/intake/email"
    # A customer without an e-mail: refused with the reason, nothing sent or recorded
    before = len(api_root.mailer.mails)
    status, body, _ = client.call("POST", path, shop.access_token)
    assert (status, body["code"]) == (422, "customer_without_email")
    assert len(api_root.mailer.mails) == before
    assert messages(client, shop) == []
    customer = f"/customers/{order['customer_id']}"
    _ok(client.call("PATCH", customer, shop.access_token, body={"version": 1, "email": CUSTOMER}))

    # When staff e-mail the intake receipt
    sent = _ok(client.call("POST", path, shop.access_token))

    # Then the customer gets the message with the PDF of the order attached, recorded on the order
    assert (sent["status"], sent["to"]) == ("sent", CUSTOMER)
    mail = api_root.mailer.mails[-1]
    [attachment] = mail.attachments
    assert attachment.filename == f"OS-{order['number']:04d}-entrada.pdf"
    assert attachment.content_type == "application/pdf"
    pdf_text = PdfReader(io.BytesIO(attachment.data)).pages[0].extract_text()
    assert f"{order['number']:04d}" in pdf_text
    assert "Ana Souza" in pdf_text
    assert "Comprovante de entrada" in mail.text
    [row] = messages(client, shop, order_id=order["id"])
    assert row["id"] == sent["message_id"]
    assert row["attachments"] == [attachment.filename]
    # A delivery receipt before delivery is refused, nothing sent
    status, body, _ = client.call(
        "POST", f"/orders/{order['id']}/documents/delivery/email", shop.access_token
    )
    assert (status, body["code"]) == (409, "order_not_delivered")
    assert len(api_root.mailer.mails) == before + 1
    # Another shop's order is not found
    other = signup(client)
    assert client.call("POST", path, other.access_token)[0] == 404


def test_the_platforms_own_mail_is_answered_to_support_not_to_the_shop(api_root: Any, client: Client) -> None:
    from assistec.services.email.service import Mail

    shop = signup(client)
    mail = Mail(
        api_root.work,
        lambda: api_root.mailer,
        smtp_cipher=lambda: api_root.smtp_cipher,
        smtp=api_root.smtp_mailer,
        support_address="suporte@assistec.local",
    )
    # A message from the platform to the shop (its owners): from the platform, answered to support
    mail.send(UUID(shop.tenant_id), template="google_reconnect", to=shop.email, context={}, audience="shop")
    sent = api_root.mailer.mails[-1]
    assert (sent.from_name, sent.reply_to) == (None, "suporte@assistec.local")
    # A message from the shop to its customer: in the shop's name, answered to the shop
    send(api_root, shop)
    assert api_root.mailer.mails[-1].reply_to == shop.email


def test_a_test_message_to_an_unreachable_server_is_a_failure_explained_not_an_error(
    api_root: Any, client: Client
) -> None:
    import socket

    from assistec.integrations.email import SmtpMailer
    from assistec.services.email.admin import MailAdmin

    # Given a shop whose server's port has nobody listening (a port just freed on 127.0.0.1)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    shop = signup(client)
    api_root.mail_admin = MailAdmin(
        api_root.work, lambda: api_root.mail, lambda: api_root.smtp_cipher, allow_private_smtp=True
    )
    api_root.smtp_mailer = lambda config: SmtpMailer(config, allow_private=True)
    body = {**SMTP_BODY, "host": "localhost", "port": port}
    _ok(client.call("PUT", "/settings/email/smtp", shop.access_token, body=body))

    # When the owner sends the test message
    failed = _ok(client.call("POST", "/settings/email/smtp/test", shop.access_token))

    # Then the answer says it failed and why, and the settings keep the reason
    assert failed["status"] == "failed"
    assert "conectar" in failed["reason"].lower()
    settings = _ok(client.call("GET", "/settings/email", shop.access_token))["smtp"]
    assert settings["last_error"] == failed["reason"]
    assert settings["verified_at"] is None
