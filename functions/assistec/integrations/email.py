"""E-mail (SES): plain pt-BR text messages to shop owners and their customers."""

from __future__ import annotations

from typing import Any, Protocol


class Mailer(Protocol):
    def send(self, to: str, subject: str, body: str) -> None:
        """Send one plain-text message; raises when the provider refuses it."""
        ...


class SesMailer:
    """SES ``SendEmail`` from one verified sender; the client is built on the first message."""

    def __init__(self, sender: str) -> None:
        self._sender = sender
        self._client: Any = None

    def send(self, to: str, subject: str, body: str) -> None:
        if self._client is None:
            import boto3

            self._client = boto3.client("ses")
        self._client.send_email(
            Source=self._sender,
            Destination={"ToAddresses": [to]},
            Message={
                "Subject": {"Data": subject, "Charset": "UTF-8"},
                "Body": {"Text": {"Data": body, "Charset": "UTF-8"}},
            },
        )
