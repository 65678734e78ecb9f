"""A real SMTP server on 127.0.0.1 for tests (aiosmtpd in a thread): STARTTLS or implicit TLS with a
certificate made at test time by a throwaway CA, AUTH required over TLS, and every message it
accepts kept for the test to read.

    with local_smtp_server(tmp_path) as (host, port, ca_context, received):
        SmtpMailer(SmtpConfig(host, port, "starttls", "loja", "segredo", "os@loja.test"),
                   ssl_context=ca_context, allow_private=True).send(mail)
        assert received[0].rcpt_tos == ["cliente@exemplo.com.br"]

The certificate names ``localhost`` and ``mail.loja.test`` (DNS names only: a client that verified
against the IP address it connected to would fail). Nothing listens beyond 127.0.0.1.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import functools
import socket
import ssl
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any, NamedTuple

CERT_NAMES = ("localhost", "mail.loja.test")


@dataclass(frozen=True)
class ReceivedMail:
    """One message as the server accepted it: the envelope, who logged in, the bytes and the parse."""

    mail_from: str
    rcpt_tos: list[str]
    login: str | None
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class LocalSmtp(NamedTuple):
    host: str
    port: int
    ca_context: ssl.SSLContext
    received: list[ReceivedMail]


@dataclass(frozen=True)
class TestPki:
    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes


@functools.cache
def test_pki() -> TestPki:
    """A CA and a server certificate it signed (EC P-256: fast), valid from an hour ago for a day."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "assistec test CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CERT_NAMES[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in CERT_NAMES]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return TestPki(
        ca_pem=ca.public_bytes(serialization.Encoding.PEM),
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )


def client_context() -> ssl.SSLContext:
    """A verifying client context (the defaults: hostname checked) that trusts the test CA only."""
    return ssl.create_default_context(cadata=test_pki().ca_pem.decode())


def free_port() -> int:
    """A port nothing listens on right now (for "server down" tests, and to start a server on)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Handler:
    def __init__(self, received: list[ReceivedMail], refuse: frozenset[str]) -> None:
        self.received = received
        self.refuse = refuse

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.lower() in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        login = session.auth_data.login.decode() if session.auth_data else None
        self.received.append(
            ReceivedMail(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                login=login,
                data=bytes(envelope.original_content or envelope.content),
            )
        )
        return "250 2.0.0 Message accepted for delivery"


@contextmanager
def local_smtp_server(
    tmp_path: Path,
    *,
    starttls: bool = True,
    implicit_tls: bool = False,
    username: str | None = "loja",
    password: str = "segredo",
    refuse: Iterable[str] = (),
) -> Iterator[LocalSmtp]:
    """Serve SMTP on 127.0.0.1 until the block ends; yields (host, port, ca_context, received).

    ``starttls``: offered and required before MAIL (ignored with ``implicit_tls``, where the whole
    connection is TLS). ``username``: AUTH (PLAIN/LOGIN) is required, over TLS only; None serves
    without AUTH. ``refuse``: recipients answered ``550 5.1.1``."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

    class _TlsAwareSMTP(SMTP):
        # aiosmtpd counts only STARTTLS as TLS for auth_require_tls; implicit TLS is TLS from the start
        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            if transport.get_extra_info("sslcontext") is not None:
                self._auth_require_tls = False

    class _Controller(Controller):
        def factory(self) -> SMTP:
            return _TlsAwareSMTP(self.handler, **self.SMTP_kwargs)

    pki = test_pki()
    cert_file, key_file = tmp_path / "smtp-cert.pem", tmp_path / "smtp-key.pem"
    cert_file.write_bytes(pki.cert_pem)
    key_file.write_bytes(pki.key_pem)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert_file, key_file)

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == username
            and auth_data.password.decode() == password
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    received: list[ReceivedMail] = []
    options: dict[str, Any] = {}
    if implicit_tls:
        options["ssl_context"] = server_context
    elif starttls:
        options.update(tls_context=server_context, require_starttls=True)
    if username is not None:
        options.update(authenticator=authenticator, auth_required=True, auth_require_tls=True)
    handler = _Handler(received, frozenset(r.lower() for r in refuse))
    controller = None
    for _ in range(5):  # another process may take the port between free_port() and the bind
        controller = _Controller(handler, hostname="127.0.0.1", port=free_port(), ready_timeout=5, **options)
        try:
            controller.start()
            break
        except OSError:
            controller = None
    assert controller is not None, "could not start the local SMTP server"
    try:
        yield LocalSmtp("127.0.0.1", controller.port, client_context(), received)
    finally:
        controller.stop()
