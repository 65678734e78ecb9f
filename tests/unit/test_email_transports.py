"""The e-mail transports: the MIME message we build, SES's SendRawEmail (botocore's Stubber), and a
shop's SMTP server for real (aiosmtpd on 127.0.0.1 with STARTTLS or implicit TLS, AUTH required),
with the guard that keeps SMTP away from internal addresses.

These unit tests open sockets, on 127.0.0.1 only: the SMTP client is the unit here, and a real
server is the only fake that speaks TLS and AUTH honestly. No name but "localhost" is resolved for
real; other names go through a stubbed getaddrinfo.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber
from hypothesis import given
from hypothesis import strategies as st

from assistec.integrations import email as email_mod
from assistec.integrations.email import (
    Attachment,
    MailRefused,
    MailUnavailable,
    OutgoingMail,
    SesMailer,
    SmtpConfig,
    SmtpHostRefused,
    SmtpMailer,
    build_message,
    resolve_smtp_host,
)
from tests.support_smtp import LocalSmtp, free_port, local_smtp_server

SENDER = "os@consertaja.com.br"
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n"
MAIL = OutgoingMail(
    to="ana.souza@exemplo.com.br",
    subject="Orçamento da OS 1042 — Conserta Já",
    text="Olá, Ana! Segue o orçamento.\nTotal: R$ 500,00.\n",
    html="<p>Olá, Ana! Segue o <b>orçamento</b>.</p>",
    from_name="Conserta Já (via assistec)",
    reply_to="contato@consertaja.com.br",
    attachments=(Attachment("Orçamento 3.pdf", "application/pdf", PDF),),
    tags=(("tenant", "7b0c8a4e-2f1d-4c3b-9a8e-5d6f7a8b9c0d"), ("template", "quote_sent")),
)


def text_of(part: Any) -> str:
    """A text part's content; MIME text travels with CRLF line ends, which the parser keeps."""
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def parse(data: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


# --- the MIME message ------------------------------------------------------------------------------
def test_the_message_round_trips() -> None:
    # Given a message with text, HTML, an accented attachment and a display name
    msg = parse(build_message(MAIL, SENDER).as_bytes())

    # Then a mail client reads back each part as we wrote it
    assert msg["Subject"] == "Orçamento da OS 1042 — Conserta Já"
    assert msg["From"].addresses[0].display_name == "Conserta Já (via assistec)"
    assert msg["From"].addresses[0].addr_spec == SENDER
    assert msg["To"] == "ana.souza@exemplo.com.br"
    assert msg["Reply-To"] == "contato@consertaja.com.br"
    assert msg["Message-ID"].endswith("@consertaja.com.br>")
    assert msg["Date"].datetime is not None
    assert msg.get_content_type() == "multipart/mixed"
    body = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert text_of(body) == MAIL.text
    assert text_of(html).strip() == MAIL.html
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_filename() == "Orçamento 3.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == PDF


def test_headers_are_ascii_on_the_wire() -> None:
    raw = build_message(MAIL, SENDER).as_bytes()

    headers = raw.split(b"\r\n\r\n", 1)[0]
    assert headers.isascii()  # RFC 2047 / 2231 encoded, for servers without SMTPUTF8
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only, as SMTP and SES expect


def test_text_only_and_alternative_shapes() -> None:
    plain = parse(
        build_message(OutgoingMail(to="a@exemplo.com", subject="Oi", text="só texto"), SENDER).as_bytes()
    )
    alternative = parse(
        build_message(
            OutgoingMail(to="a@exemplo.com", subject="Oi", text="t", html="<p>h</p>"), SENDER
        ).as_bytes()
    )

    assert plain.get_content_type() == "text/plain"
    assert text_of(plain) == "só texto\n"
    assert plain["From"].addresses[0].display_name == ""
    assert plain["Reply-To"] is None
    assert alternative.get_content_type() == "multipart/alternative"


def test_a_subject_cannot_inject_headers() -> None:
    mail = OutgoingMail(
        to="a@exemplo.com", subject="Olá\r\nBcc: espiao@exemplo.com", text="t", from_name="X\nBcc: y@z"
    )

    msg = parse(build_message(mail, SENDER).as_bytes())

    assert msg["Bcc"] is None
    assert msg["Subject"] == "Olá Bcc: espiao@exemplo.com"


@pytest.mark.parametrize(
    "to",
    [
        "ana@exemplo.com\r\nBcc: espiao@exemplo.com",
        "Ana <ana@exemplo.com>",
        "sem-arroba",
        "a@b.com, c@d.com",
        "",
    ],
)
def test_a_recipient_must_be_one_address(to: str) -> None:
    with pytest.raises(MailRefused) as caught:
        build_message(OutgoingMail(to=to, subject="s", text="t"), SENDER)

    assert caught.value.code == "invalid_address"


@pytest.mark.parametrize(
    "tag", [("tenant", "a b"), ("ten:ant", "x"), ("", "x"), ("x", "y" * 257), ("x", "ação")]
)
def test_ses_tags_are_checked_when_the_mail_is_made(tag: tuple[str, str]) -> None:
    with pytest.raises(ValueError, match="SES message tag"):
        OutgoingMail(to="a@exemplo.com", subject="s", text="t", tags=(tag,))


# --- SES --------------------------------------------------------------------------------------------
class Captured:
    """Matches any bytes in Stubber's expected params, and keeps them for the test to read."""

    value: bytes = b""

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, bytes):
            return False
        self.value = other
        return True

    __hash__ = None  # type: ignore[assignment]


@pytest.fixture
def ses_client() -> Any:
    return boto3.client(
        "ses", region_name="sa-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )


def test_ses_sends_the_raw_message_with_configuration_set_and_tags(ses_client: Any) -> None:
    raw = Captured()
    with Stubber(ses_client) as stub:
        stub.add_response(
            "send_raw_email",
            {"MessageId": "0103019a6c1d2e3f-ses-000000"},
            expected_params={
                "Source": SENDER,
                "Destinations": ["ana.souza@exemplo.com.br"],
                "RawMessage": {"Data": raw},
                "ConfigurationSetName": "assistec-mail",
                "Tags": [
                    {"Name": "tenant", "Value": "7b0c8a4e-2f1d-4c3b-9a8e-5d6f7a8b9c0d"},
                    {"Name": "template", "Value": "quote_sent"},
                ],
            },
        )

        message_id = SesMailer(SENDER, "assistec-mail", client=ses_client).send(MAIL)

        stub.assert_no_pending_responses()
    assert message_id == "0103019a6c1d2e3f-ses-000000"
    sent = parse(raw.value)
    assert sent["Subject"] == MAIL.subject
    assert [a.get_filename() for a in sent.iter_attachments()] == ["Orçamento 3.pdf"]


def test_ses_without_configuration_set_or_tags_sends_neither(ses_client: Any) -> None:
    with Stubber(ses_client) as stub:
        stub.add_response(
            "send_raw_email",
            {"MessageId": "m-2"},
            expected_params={
                "Source": SENDER,
                "Destinations": ["a@exemplo.com"],
                "RawMessage": {"Data": Captured()},
            },
        )

        assert SesMailer(SENDER, client=ses_client).send(OutgoingMail("a@exemplo.com", "s", "t")) == "m-2"


def test_the_ses_client_is_built_on_the_first_message_only(
    monkeypatch: pytest.MonkeyPatch, ses_client: Any
) -> None:
    built: list[str] = []

    def client(service: str, *args: Any, **kwargs: Any) -> Any:
        built.append(service)
        return ses_client

    monkeypatch.setattr(boto3, "client", client)
    mailer = SesMailer(SENDER)
    assert built == []
    with Stubber(ses_client) as stub:
        stub.add_response("send_raw_email", {"MessageId": "m-1"})
        stub.add_response("send_raw_email", {"MessageId": "m-2"})

        mailer.send(OutgoingMail("a@exemplo.com", "s", "t"))
        mailer.send(OutgoingMail("b@exemplo.com", "s", "t"))

    assert built == ["ses"]


@pytest.mark.parametrize(
    ("aws_code", "status", "error", "code"),
    [
        ("MessageRejected", 400, MailRefused, "ses_message_rejected"),
        ("MailFromDomainNotVerifiedException", 400, MailRefused, "ses_mail_from_not_verified"),
        ("ConfigurationSetDoesNotExist", 400, MailRefused, "ses_configuration_set_missing"),
        ("AccountSendingPausedException", 400, MailRefused, "ses_sending_paused"),
        ("Throttling", 400, MailUnavailable, "ses_unavailable"),
        ("ServiceUnavailable", 503, MailUnavailable, "ses_unavailable"),
        ("SomethingNew", 500, MailUnavailable, "ses_unavailable"),
        ("SomethingNewAndOurFault", 400, MailRefused, "ses_refused"),
    ],
)
def test_ses_errors_are_refused_or_unavailable(
    ses_client: Any, aws_code: str, status: int, error: type[Exception], code: str
) -> None:
    with Stubber(ses_client) as stub:
        stub.add_client_error(
            "send_raw_email",
            service_error_code=aws_code,
            service_message="Email address is not verified.",
            http_status_code=status,
        )

        with pytest.raises(error) as caught:
            SesMailer(SENDER, client=ses_client).send(MAIL)

    assert caught.value.code == code  # type: ignore[attr-defined]
    assert caught.value.message  # type: ignore[attr-defined]
    assert aws_code in (caught.value.detail or "")  # type: ignore[attr-defined]


def test_ses_unreachable_is_unavailable() -> None:
    class Unreachable:
        def send_raw_email(self, **_: Any) -> Any:
            raise EndpointConnectionError(endpoint_url="https://email.sa-east-1.amazonaws.com")

    with pytest.raises(MailUnavailable) as caught:
        SesMailer(SENDER, client=Unreachable()).send(MAIL)

    assert caught.value.code == "ses_unavailable"


# --- SMTP against a real local server ----------------------------------------------------------------
@pytest.fixture(scope="module")
def smtp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSmtp]:
    """STARTTLS + AUTH (loja/segredo); refuses ninguem@exemplo.com.br."""
    with local_smtp_server(tmp_path_factory.mktemp("smtp"), refuse=["ninguem@exemplo.com.br"]) as server:
        yield server


@pytest.fixture
def server(smtp_server: LocalSmtp) -> LocalSmtp:
    smtp_server.received.clear()
    return smtp_server


def smtp(server: LocalSmtp, **changes: Any) -> SmtpMailer:
    options = {
        "timeout_s": changes.pop("timeout_s", 5),
        "ssl_context": changes.pop("ssl_context", server.ca_context),
    }
    config = {
        "host": "localhost",
        "port": server.port,
        "security": "starttls",
        "username": "loja",
        "password": "segredo",
        "from_address": SENDER,
        **changes,
    }
    return SmtpMailer(SmtpConfig(**config), allow_private=changes.pop("allow_private", True), **options)


def test_smtp_delivers_over_starttls_with_auth(server: LocalSmtp) -> None:
    message_id = smtp(server).send(MAIL)

    [got] = server.received
    assert got.mail_from == SENDER
    assert got.rcpt_tos == ["ana.souza@exemplo.com.br"]
    assert got.login == "loja"
    msg = got.message
    assert msg["Message-ID"] == message_id
    assert msg["Subject"] == MAIL.subject
    assert msg["From"].addresses[0].display_name == "Conserta Já (via assistec)"
    assert msg["Reply-To"] == "contato@consertaja.com.br"
    assert [a.get_content() for a in msg.iter_attachments()] == [PDF]


def test_smtp_delivers_over_implicit_tls(tmp_path: Path) -> None:
    with local_smtp_server(tmp_path, implicit_tls=True) as tls_server:
        smtp(tls_server, security="tls").send(MAIL)

        assert [m.rcpt_tos for m in tls_server.received] == [["ana.souza@exemplo.com.br"]]


def test_a_wrong_password_is_refused_and_never_shown(server: LocalSmtp) -> None:
    with pytest.raises(MailRefused) as caught:
        smtp(server, password="senha-errada-123").send(MAIL)

    assert caught.value.code == "smtp_auth_failed"
    shown = " ".join([str(caught.value), repr(caught.value), caught.value.message, caught.value.detail or ""])
    assert "senha-errada-123" not in shown
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__
    assert server.received == []


def test_the_password_is_not_in_the_config_repr() -> None:
    config = SmtpConfig("smtp.exemplo.com.br", 587, "starttls", "loja", "segredo-do-smtp", SENDER)

    assert "segredo-do-smtp" not in repr(config)


def test_an_untrusted_certificate_is_refused(server: LocalSmtp) -> None:
    # Given the system's trust store (which does not know the test CA)
    with pytest.raises(MailRefused) as caught:
        SmtpMailer(
            SmtpConfig("localhost", server.port, "starttls", "loja", "segredo", SENDER), allow_private=True
        ).send(MAIL)

    assert caught.value.code == "smtp_tls_failed"
    assert server.received == []


def test_the_certificate_is_checked_against_the_name_given(server: LocalSmtp) -> None:
    # The certificate names localhost, not 127.0.0.1: connecting by IP must not pass verification
    with pytest.raises(MailRefused) as caught:
        smtp(server, host="127.0.0.1").send(MAIL)

    assert caught.value.code == "smtp_tls_failed"


def test_a_server_that_is_down_is_unavailable() -> None:
    config = SmtpConfig("127.0.0.1", free_port(), "starttls", "loja", "segredo", SENDER)

    with pytest.raises(MailUnavailable) as caught:
        SmtpMailer(config, allow_private=True, timeout_s=2).send(MAIL)

    assert caught.value.code == "smtp_unreachable"


def test_a_server_that_never_answers_times_out() -> None:
    # Given a socket that accepts connections and says nothing
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        config = SmtpConfig("127.0.0.1", silent.getsockname()[1], "starttls", "loja", "segredo", SENDER)

        with pytest.raises(MailUnavailable) as caught:
            SmtpMailer(config, allow_private=True, timeout_s=0.3).send(MAIL)

    assert caught.value.code == "smtp_timeout"


def test_a_refused_recipient_is_refused(server: LocalSmtp) -> None:
    with pytest.raises(MailRefused) as caught:
        smtp(server).send(OutgoingMail("ninguem@exemplo.com.br", "s", "t"))

    assert caught.value.code == "smtp_recipient_refused"
    assert "550 5.1.1" in (caught.value.detail or "")
    assert server.received == []


def test_no_starttls_means_nothing_is_sent(tmp_path: Path) -> None:
    # Given a server that offers no STARTTLS (and so no AUTH): we never fall back to plain text
    with local_smtp_server(tmp_path, starttls=False, username=None) as plain:
        with pytest.raises(MailRefused) as caught:
            smtp(plain).send(MAIL)

        assert caught.value.code == "smtp_starttls_unsupported"
        assert plain.received == []


def test_implicit_tls_against_a_starttls_port_fails_clearly(server: LocalSmtp) -> None:
    with pytest.raises(MailUnavailable) as caught:
        smtp(server, security="tls").send(MAIL)

    assert caught.value.code == "smtp_tls_error"


def test_smtp_refuses_a_private_server_unless_allowed(server: LocalSmtp) -> None:
    # The stage's own server lives on 127.0.0.1; a shop's never may
    mailer = SmtpMailer(
        SmtpConfig("127.0.0.1", 587, "starttls", "loja", "segredo", SENDER), ssl_context=server.ca_context
    )

    with pytest.raises(SmtpHostRefused) as caught:
        mailer.send(MAIL)

    assert caught.value.code == "smtp_host_refused"
    assert server.received == []


def test_smtp_connects_to_the_address_it_checked(server: LocalSmtp, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a name whose DNS answer changes after the check (rebinding to the metadata endpoint)
    real = socket.getaddrinfo
    asked: list[str] = []

    def rebinding(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "mail.loja.test":
            asked.append(host)
            address = "127.0.0.1" if len(asked) == 1 else "169.254.169.254"
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)

    # When the mail goes to mail.loja.test (the certificate names it)
    smtp(server, host="mail.loja.test", timeout_s=2).send(MAIL)

    # Then the name was resolved once and the message reached the checked address
    assert asked == ["mail.loja.test"]
    assert len(server.received) == 1


def test_parallel_sends_each_deliver(server: LocalSmtp) -> None:
    # One connection per message: threads sharing a mailer do not share a session
    mailer = smtp(server)
    errors: list[BaseException] = []

    def send(i: int) -> None:
        try:
            mailer.send(OutgoingMail(f"cliente{i}@exemplo.com.br", f"OS {i}", "t"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert sorted(m.rcpt_tos[0] for m in server.received) == [f"cliente{i}@exemplo.com.br" for i in range(5)]


# --- the SSRF guard ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.0.10",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "::1",
        "[::1]",
        "fe80::1",
        "fd00::1",
        "::ffff:127.0.0.1",
        "64:ff9b::a9fe:a9fe",
        "localhost",
    ],
)
def test_internal_addresses_are_refused(host: str) -> None:
    with pytest.raises(SmtpHostRefused) as caught:
        resolve_smtp_host(host, 587, allow_private=False)

    assert caught.value.code == "smtp_host_refused"
    assert "servidor público" in caught.value.message


@pytest.mark.parametrize(
    ("host", "address"), [("127.0.0.1", "127.0.0.1"), ("localhost", "127.0.0.1"), ("::1", "::1")]
)
def test_internal_addresses_are_allowed_on_request(host: str, address: str) -> None:
    assert resolve_smtp_host(host, 8025, allow_private=True) == address


@pytest.fixture
def no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"DNS lookup of {args[0]!r}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.mark.usefixtures("no_dns")
@pytest.mark.parametrize("host", ["8.8.8.8", "2001:4860:4860::8888", "[2001:4860:4860::8888]"])
@pytest.mark.parametrize("port", sorted(email_mod.SMTP_PORTS))
def test_a_public_address_is_accepted_without_any_lookup(host: str, port: int) -> None:
    assert resolve_smtp_host(host, port, allow_private=False) == host.strip("[]")


@pytest.mark.parametrize("port", [22, 80, 443, 8025, 3306, 0, 70000])
def test_other_ports_are_refused(port: int) -> None:
    with pytest.raises(SmtpHostRefused) as caught:
        resolve_smtp_host("8.8.8.8", port, allow_private=False)

    assert caught.value.code == "smtp_port_refused"


def fake_dns(monkeypatch: pytest.MonkeyPatch, answer: list[str] | Exception) -> None:
    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(answer, Exception):
            raise answer
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in answer
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_a_name_with_any_internal_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, ["8.8.8.8", "10.1.2.3"])

    with pytest.raises(SmtpHostRefused):
        resolve_smtp_host("smtp.exemplo.com.br", 587, allow_private=False)


def test_a_public_name_resolves_to_ipv4_first(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, ["2001:4860:4860::8888", "8.8.4.4"])

    assert resolve_smtp_host("smtp.exemplo.com.br.", 465, allow_private=False) == "8.8.4.4"


def test_dns_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, socket.gaierror(socket.EAI_NONAME, "Name or service not known"))
    with pytest.raises(MailRefused) as missing:
        resolve_smtp_host("smtp.naoexiste.com.br", 587, allow_private=False)

    fake_dns(monkeypatch, socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"))
    with pytest.raises(MailUnavailable) as later:
        resolve_smtp_host("smtp.exemplo.com.br", 587, allow_private=False)

    assert missing.value.code == "smtp_host_not_found"
    assert later.value.code == "smtp_dns_unavailable"


@pytest.mark.usefixtures("no_dns")
@pytest.mark.parametrize(
    "host",
    ["", "   ", "smtp exemplo.com", "smtp.exemplo.com\r\n", "smtp.exemplo.com\x00", "\tsmtp", "a" * 254],
)
def test_a_malformed_host_is_refused(host: str) -> None:
    with pytest.raises(SmtpHostRefused) as caught:
        resolve_smtp_host(host, 587, allow_private=False)

    assert caught.value.code == "smtp_host_invalid"


_INTERNAL_NETWORKS = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "100.64.0.0/10",
    "fc00::/7",
    "fe80::/10",
]


@given(st.sampled_from(_INTERNAL_NETWORKS).flatmap(lambda net: st.ip_addresses(network=net)))
def test_every_internal_address_is_refused(address: Any) -> None:
    with pytest.raises(SmtpHostRefused):
        resolve_smtp_host(str(address), 587, allow_private=False)
