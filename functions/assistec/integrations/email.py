"""E-mail transports: one MIME message (text, optional HTML, attachments) sent through SES or
through a shop's own SMTP server.

Two failures matter to the caller: ``MailRefused`` (permanent: this message or address will not be
accepted as it is, retrying is pointless) and ``MailUnavailable`` (transient: retry later). Both
carry a stable ``code`` and a pt-BR ``message`` for the shop's staff; ``detail`` keeps the provider's
own words (never a credential).

Sending is not idempotent: a ``MailUnavailable`` after the data went out (a timeout waiting for the
server's answer) may still be delivered, so the caller records the attempt before retrying.

The SMTP transport connects only to public addresses (``resolve_smtp_host``) on the submission
ports, and to the address it checked: the name is resolved once, TLS verifies the certificate
against the name. Nothing here is imported or built before the first message: smtplib, ssl and
boto3 load on first use.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    import smtplib
    import ssl
    from email.headerregistry import Address
    from email.message import EmailMessage

SMTP_PORTS = frozenset({25, 465, 587, 2525})
_TAG_PART = re.compile(r"[A-Za-z0-9_-]{1,256}")
_DETAIL_MAX = 500


# --- the message ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    """One message to one recipient. ``from_name`` is the display name of the From header (the
    address is the transport's); ``tags`` go to SES as message tags (ignored over SMTP)."""

    to: str
    subject: str
    text: str
    html: str | None = None
    from_name: str | None = None
    reply_to: str | None = None
    attachments: tuple[Attachment, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        for name, value in self.tags:
            if not _TAG_PART.fullmatch(name) or not _TAG_PART.fullmatch(value):
                raise ValueError(
                    f"SES message tag {name!r}: names and values are 1-256 characters of [A-Za-z0-9_-]"
                )


# --- failures ---------------------------------------------------------------------------------------
class MailError(Exception):
    """A message that was not sent: ``code`` is stable, ``message`` pt-BR, ``detail`` the provider's."""

    code: str = "mail_error"
    message: str = "Não foi possível enviar o e-mail."

    def __init__(self, code: str | None = None, message: str | None = None, *, detail: str | None = None):
        self.code = code or self.code
        self.message = message or self.message
        self.detail = detail[:_DETAIL_MAX] if detail else None
        super().__init__(f"{self.code}: {self.message}" + (f" ({self.detail})" if self.detail else ""))


class MailRefused(MailError):
    """Permanent: the provider refused this message, this address or our credentials."""

    code = "mail_refused"
    message = "O servidor de e-mail recusou a mensagem."


class MailUnavailable(MailError):
    """Transient: network, timeout, throttling or a 4xx answer; the same message may go later."""

    code = "mail_unavailable"
    message = "O servidor de e-mail não está disponível agora. A mensagem será enviada mais tarde."


class SmtpHostRefused(MailRefused):
    """The SMTP server's address or port is one we never connect to (internal networks, odd ports)."""

    code = "smtp_host_refused"
    message = "Este servidor SMTP não é permitido: use um servidor público de e-mail."


# --- the transports' contract -----------------------------------------------------------------------
class Mailer(Protocol):
    def send(self, mail: OutgoingMail, /) -> str:
        """Send one message; the provider's message id. Raises MailRefused or MailUnavailable."""
        ...


class _Transport:
    """A transport: ``send`` delivers one OutgoingMail (subclasses say how)."""

    def send(self, mail: OutgoingMail, /) -> str:
        return self._deliver(mail)

    def _deliver(self, mail: OutgoingMail) -> str:
        raise NotImplementedError


# --- MIME -------------------------------------------------------------------------------------------
def _one_line(value: str) -> str:
    return " ".join(value.split())


def _address(value: str, what: str) -> Address:
    """One bare address (``loja@exemplo.com.br``) as a headerregistry.Address; MailRefused otherwise."""
    from email.headerregistry import Address

    value = value.strip()
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain or any(c.isspace() or c in '<>",;()' for c in value):
        raise MailRefused("invalid_address", f"Endereço de e-mail inválido ({what}): {value[:100]!r}.")
    try:
        return Address(addr_spec=value)
    except (ValueError, IndexError) as exc:
        raise MailRefused(
            "invalid_address", f"Endereço de e-mail inválido ({what}): {value[:100]!r}."
        ) from exc


def build_message(mail: OutgoingMail, sender: str) -> EmailMessage:
    """The MIME message: text/plain (and text/html as multipart/alternative), attachments in a
    multipart/mixed; From ``"from_name" <sender>``, Reply-To, Date, and a Message-ID of the
    sender's domain. Header values are folded to one line and encoded (RFC 2047/2231) as needed."""
    from email import policy
    from email.headerregistry import Address
    from email.message import EmailMessage
    from email.utils import formatdate, make_msgid

    from_address = _address(sender, "remetente")
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = Address(
        display_name=_one_line(mail.from_name or ""),
        username=from_address.username,
        domain=from_address.domain,
    )
    msg["To"] = _address(mail.to, "destinatário")
    if mail.reply_to:
        msg["Reply-To"] = _address(mail.reply_to, "responder para")
    msg["Subject"] = _one_line(mail.subject)
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = make_msgid(domain=from_address.domain)
    msg.set_content(mail.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    if mail.html is not None:
        msg.add_alternative(mail.html, subtype="html", charset="utf-8", cte="quoted-printable")
    for attachment in mail.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        if not maintype or not subtype:
            maintype, subtype = "application", "octet-stream"
        msg.add_attachment(
            attachment.data, maintype=maintype, subtype=subtype, filename=_one_line(attachment.filename)
        )
    return msg


# --- SES --------------------------------------------------------------------------------------------
# Error codes of SendRawEmail (botocore's ses model) → our stable code and what the staff reads.
_SES_REFUSED = {
    "MessageRejected": ("ses_message_rejected", "O SES recusou a mensagem."),
    "MailFromDomainNotVerifiedException": (
        "ses_mail_from_not_verified",
        "O domínio de envio (MAIL FROM) não está verificado no SES.",
    ),
    "ConfigurationSetDoesNotExist": (
        "ses_configuration_set_missing",
        "A configuração de envio do SES não existe.",
    ),
    "ConfigurationSetSendingPausedException": ("ses_sending_paused", "O envio pelo SES está pausado."),
    "AccountSendingPausedException": ("ses_sending_paused", "O envio pelo SES está pausado."),
    "InvalidParameterValue": ("ses_invalid_message", "O SES recusou os dados da mensagem."),
}
_SES_UNAVAILABLE = frozenset(
    {"Throttling", "ThrottlingException", "ServiceUnavailable", "InternalFailure", "RequestTimeout"}
)


class SesMailer(_Transport):
    """SES ``SendRawEmail`` from one verified sender, through ``configuration_set`` (its event
    destination publishes bounces, complaints and deliveries) when given. The client is built on
    the first message and reused."""

    def __init__(self, sender: str, configuration_set: str | None = None, *, client: Any = None) -> None:
        self._sender = sender
        self._configuration_set = configuration_set
        self._client: Any = client

    def _ses(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("ses")
        return self._client

    def _deliver(self, mail: OutgoingMail) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        raw = build_message(mail, self._sender).as_bytes()
        params: dict[str, Any] = {
            "Source": self._sender,
            "Destinations": [mail.to],
            "RawMessage": {"Data": raw},
        }
        if self._configuration_set:
            params["ConfigurationSetName"] = self._configuration_set
        if mail.tags:
            params["Tags"] = [{"Name": name, "Value": value} for name, value in mail.tags]
        try:
            response = self._ses().send_raw_email(**params)
        except ClientError as exc:
            raise _ses_error(exc) from exc
        except BotoCoreError as exc:  # endpoint unreachable, timeouts, credentials not found
            raise MailUnavailable("ses_unavailable", detail=type(exc).__name__) from exc
        return str(response["MessageId"])


def _ses_error(exc: Any) -> MailError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    detail = f"{code}: {error.get('Message', '')}"
    if code in _SES_REFUSED:
        ours, message = _SES_REFUSED[code]
        return MailRefused(ours, message, detail=detail)
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    if code in _SES_UNAVAILABLE or status >= 500 or status == 0:
        return MailUnavailable("ses_unavailable", detail=detail)
    return MailRefused("ses_refused", detail=detail)


# --- SMTP -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SmtpConfig:
    """A shop's SMTP server. Always encrypted: ``starttls`` (usually port 587) or ``tls`` (implicit
    TLS, usually 465); credentials never travel in clear."""

    host: str
    port: int
    security: Literal["starttls", "tls"]
    username: str | None
    password: str | None = field(repr=False)
    from_address: str


def resolve_smtp_host(host: str, port: int, *, allow_private: bool) -> str:
    """The address to connect to for ``host``: resolved once, and refused (SmtpHostRefused) when
    ANY of its addresses is not a public unicast one (loopback, private, link-local such as the
    cloud metadata endpoint, shared, multicast, reserved, unspecified, their IPv6 forms and IPv4
    addresses embedded in IPv6) or the port is not a mail port, unless ``allow_private`` (local
    stage and tests). IPv4 first. MailUnavailable when DNS fails for now, MailRefused when the
    name does not exist."""
    import ipaddress
    import socket

    name = host.strip(" ").rstrip(".")
    if not name or len(name) > 253 or any(c.isspace() or ord(c) < 32 or c == "\x7f" for c in name):
        raise SmtpHostRefused(
            "smtp_host_invalid", "Informe o nome do servidor SMTP (ex.: smtp.exemplo.com.br)."
        )
    if not allow_private and port not in SMTP_PORTS:
        raise SmtpHostRefused(
            "smtp_port_refused",
            f"A porta {port} não é permitida. Use 587 (STARTTLS) ou 465 (TLS); 25 e 2525 também são aceitas.",
        )
    if not 0 < port < 65536:
        raise SmtpHostRefused("smtp_port_refused", f"A porta {port} não é válida.")
    literal = name.removeprefix("[").removesuffix("]")
    try:
        addresses = [ipaddress.ip_address(literal)]
    except ValueError:
        try:
            infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
        except UnicodeError as exc:
            raise SmtpHostRefused("smtp_host_invalid", "O nome do servidor SMTP não é válido.") from exc
        except socket.gaierror as exc:
            if exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
                raise MailRefused(
                    "smtp_host_not_found", f"O servidor SMTP {name[:100]} não foi encontrado (DNS)."
                ) from exc
            raise MailUnavailable(
                "smtp_dns_unavailable", "Não foi possível consultar o DNS do servidor SMTP agora."
            ) from exc
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if not addresses:
        raise MailRefused("smtp_host_not_found", f"O servidor SMTP {name[:100]} não foi encontrado (DNS).")
    if not allow_private:
        for address in addresses:
            if not _public(address):
                raise SmtpHostRefused(detail=f"{name[:100]} resolves to a non-public address ({address})")
    addresses.sort(key=lambda a: a.version)
    return str(addresses[0])


def _public(address: Any) -> bool:
    import ipaddress

    embedded = []
    if isinstance(address, ipaddress.IPv6Address):
        embedded = [a for a in (address.ipv4_mapped, address.sixtofour) if a is not None]
        if address.teredo:
            embedded += list(address.teredo)
    for candidate in (address, *embedded):
        if (
            not candidate.is_global
            or candidate.is_private
            or candidate.is_loopback
            or candidate.is_link_local
            or candidate.is_multicast
            or candidate.is_reserved
            or candidate.is_unspecified
        ):
            return False
    return True


@functools.cache
def _pinned_classes() -> tuple[type[smtplib.SMTP], type[smtplib.SMTP_SSL]]:
    """smtplib clients that connect to an address already checked (no second DNS lookup, which a
    rebinding name could point elsewhere) while TLS still verifies the server's name."""
    import smtplib
    import socket

    class PinnedSMTP(smtplib.SMTP):
        def __init__(self, address: str, **kwargs: Any) -> None:
            self.pinned_address = address
            super().__init__(**kwargs)

        def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
            self._host = host  # what starttls() verifies the certificate against
            return socket.create_connection((self.pinned_address, port), timeout, self.source_address)

    class PinnedSMTPSSL(smtplib.SMTP_SSL):
        def __init__(self, address: str, **kwargs: Any) -> None:
            self.pinned_address = address
            super().__init__(**kwargs)

        def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
            raw = socket.create_connection((self.pinned_address, port), timeout, self.source_address)
            try:
                return self.context.wrap_socket(raw, server_hostname=host)
            except BaseException:
                raw.close()
                raise

    return PinnedSMTP, PinnedSMTPSSL


class SmtpMailer(_Transport):
    """A shop's own SMTP server (the From address is theirs). One connection per message:
    connect (STARTTLS or implicit TLS, certificate verified), log in when a username is set, send,
    quit. The Message-ID we set is the id returned."""

    def __init__(
        self,
        config: SmtpConfig,
        *,
        timeout_s: float = 10,
        ssl_context: ssl.SSLContext | None = None,
        allow_private: bool = False,
    ) -> None:
        self._config = config
        self._timeout = timeout_s
        self._ssl_context = ssl_context
        self._allow_private = allow_private

    def _deliver(self, mail: OutgoingMail) -> str:
        import ssl

        config = self._config
        msg = build_message(mail, config.from_address)
        data = msg.as_bytes()
        message_id = str(msg["Message-ID"])
        envelope_to = str(_address(mail.to, "destinatário").addr_spec)
        address = resolve_smtp_host(config.host, config.port, allow_private=self._allow_private)
        host = config.host.strip(" ").rstrip(".").removeprefix("[").removesuffix("]")  # TLS checks this name
        context = self._ssl_context or ssl.create_default_context()
        plain_cls, tls_cls = _pinned_classes()
        local_name = config.from_address.rpartition("@")[2] or "localhost"  # no getfqdn() lookup
        client: smtplib.SMTP
        if config.security == "tls":
            client = tls_cls(address, local_hostname=local_name, timeout=self._timeout, context=context)
        else:
            client = plain_cls(address, local_hostname=local_name, timeout=self._timeout)
        try:
            client.connect(host, config.port)
            if config.security == "starttls":
                client.ehlo()
                client.starttls(context=context)
                client.ehlo()
            if config.username:
                client.login(config.username, config.password or "")
            client.sendmail(config.from_address, [envelope_to], data)
        except Exception as exc:
            raise _smtp_error(exc, config.password) from None
        finally:
            _close(client)
        return message_id


def _close(client: smtplib.SMTP) -> None:
    import smtplib

    try:
        if client.sock is not None:
            client.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        client.close()


def _scrub(text: str, secret: str | None) -> str:
    """The server's words without our password (plain or base64, as AUTH sends it)."""
    import base64

    if secret:
        for form in {secret, base64.b64encode(secret.encode()).decode()}:
            text = text.replace(form, "***")
    return text


def _reply(exc: Any, secret: str | None) -> str:
    error = exc.smtp_error
    words = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
    return _scrub(f"{exc.smtp_code} {words}", secret)


def _by_code(code: int, refused: str, message: str, detail: str) -> MailError:
    if 400 <= code < 500:
        return MailUnavailable("smtp_temporary", detail=detail)
    return MailRefused(refused, message, detail=detail)


def _smtp_error(exc: Exception, secret: str | None) -> MailError:
    """The MailError for what smtplib, ssl or the socket raised (the password never in it)."""
    import smtplib
    import ssl

    if isinstance(exc, MailError):
        return exc
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        detail = _reply(exc, secret)
        if 400 <= exc.smtp_code < 500:
            return MailUnavailable("smtp_temporary", detail=detail)
        return MailRefused("smtp_auth_failed", "O servidor SMTP recusou o usuário ou a senha.", detail=detail)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        starttls = "starttls" in str(exc).lower()
        return MailRefused(
            "smtp_starttls_unsupported" if starttls else "smtp_auth_unsupported",
            "O servidor SMTP não oferece STARTTLS: use a segurança TLS (porta 465)."
            if starttls
            else "O servidor SMTP não aceita autenticação nesta conexão.",
            detail=_scrub(str(exc), secret),
        )
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, words = next(iter(exc.recipients.values()), (550, b""))
        detail = _scrub(f"{code} {words.decode('utf-8', 'replace')}", secret)
        return _by_code(code, "smtp_recipient_refused", "O servidor SMTP recusou o destinatário.", detail)
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return _by_code(
            exc.smtp_code,
            "smtp_sender_refused",
            "O servidor SMTP recusou o endereço do remetente.",
            _reply(exc, secret),
        )
    if isinstance(exc, smtplib.SMTPResponseException):  # data refused, bad greeting, HELO refused
        return _by_code(
            exc.smtp_code, "smtp_message_refused", "O servidor SMTP recusou a mensagem.", _reply(exc, secret)
        )
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        if isinstance(exc.__context__, TimeoutError):  # smtplib wraps a read timeout as a disconnect
            return MailUnavailable("smtp_timeout", "O servidor SMTP não respondeu a tempo.")
        return MailUnavailable("smtp_disconnected", detail=_scrub(str(exc), secret))
    if isinstance(exc, smtplib.SMTPException):  # e.g. "No suitable authentication method found."
        return MailRefused(
            "smtp_auth_unsupported",
            "O servidor SMTP não oferece um método de autenticação compatível.",
            detail=_scrub(str(exc), secret),
        )
    if isinstance(exc, ssl.SSLCertVerificationError):
        return MailRefused(
            "smtp_tls_failed",
            "O certificado do servidor SMTP não é válido para este nome de servidor.",
            detail=str(exc.verify_message or exc),
        )
    if isinstance(exc, ssl.SSLError):
        return MailUnavailable(
            "smtp_tls_error",
            "A conexão segura com o servidor SMTP falhou. "
            "Confira a porta e o tipo de segurança (TLS ou STARTTLS).",
            detail=str(exc.reason or exc),
        )
    if isinstance(exc, TimeoutError):
        return MailUnavailable("smtp_timeout", "O servidor SMTP não respondeu a tempo.")
    if isinstance(exc, OSError):
        return MailUnavailable(
            "smtp_unreachable", "Não foi possível conectar ao servidor SMTP.", detail=type(exc).__name__
        )
    raise exc
