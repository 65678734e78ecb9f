"""What the billing tests (test_billing_*.py) share: the platform account (the shops' subscriptions
to assistec) on the offline Asaas simulator, the payments workers' root with a fake mailer, and
helpers to read a shop's billing and post to the platform webhook.

The ``platform`` fixture (tests/integration/conftest.py) is ``build_platform``'s result."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

from tests.integration.conftest import Client, FakeBus, FakeQueue, Shop, rest_event

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "asaas"
PLATFORM_URL = "https://api.test/v1/webhooks/asaas-platform"


@dataclass
class FakeMailer:
    """The SES transport's contract (``Mailer``): each message recorded as (to, subject, text), the
    whole message in ``mails``; can be told to fail."""

    sent: list[tuple[str, str, str]] = field(default_factory=list)
    mails: list[Any] = field(default_factory=list)
    down: bool = False

    def send(self, mail: Any) -> str:
        if self.down:
            from assistec.integrations.email import MailUnavailable

            raise MailUnavailable("ses_unavailable", "SES indisponível")
        self.sent.append((mail.to, mail.subject, mail.text))
        self.mails.append(mail)
        return f"fake-{len(self.mails):04d}@ses"

    @property
    def shop_sent(self) -> list[tuple[str, str, str]]:
        """The shops' messages (tagged with their shop), as (to, subject, text): not sign-ups'."""
        return [(m.to, m.subject, m.text) for m in self.mails if "tenant" in dict(m.tags)]

    def confirmation_token(self, to: str) -> str:
        """The token of the latest signup confirmation link mailed to ``to``."""
        import re

        found = [
            m[1] for t, _, text in self.sent if t == to and (m := re.search(r"/public/signup/([\w-]+)", text))
        ]
        assert found, f"no confirmation mail to {to}: {self.sent}"
        return found[-1]


@dataclass
class Platform:
    sim: Any
    api_key: str
    webhook_token: str
    mailer: FakeMailer
    queue: FakeQueue
    worker: Any  # the payments workers' root: the consumer's and the daily run's services (with the mailer)

    def provision(self, shop: Shop) -> str:
        # What EventBridge's rule + the consumer do with ShopSignedUp.
        outcome: str = self.worker.provisioning.provision(UUID(shop.tenant_id))
        # Asaas's PAYMENT_CREATED for the first invoice, applied: it changes nothing we lack
        assert set(self.queue.drain()) <= {"no_change"}
        return outcome

    def account(self) -> Any:
        return self.sim._accounts[self.api_key]

    def subscription_of(self, shop: Shop) -> dict[str, Any]:
        found = [
            s
            for s in self.account().subscriptions.values()
            if s["externalReference"] == f"assistec-shop:{shop.tenant_id}"
        ]
        assert len(found) == 1, found
        return dict(found[0])

    def payments_of(self, shop: Shop) -> list[dict[str, Any]]:
        sub = self.subscription_of(shop)
        return sorted(
            (p for p in self.account().payments.values() if p.get("subscription") == sub["id"]),
            key=lambda p: p["dueDate"],
        )

    def overdue(self, payment_id: str, days: int) -> list[str]:
        self.sim.overdue_by_id(payment_id, days=days)
        return self.queue.drain()

    def pay(self, payment_id: str) -> list[str]:
        self.sim.pay_by_id(payment_id)
        return self.queue.drain()


def build_platform(api_root: Any, asaas: Any, queue: FakeQueue, bus: FakeBus) -> Platform:
    """The platform account (the shops' subscriptions to assistec) on the simulator, and the
    payments workers' root as deployed; the conftest's ``platform`` fixture."""
    from assistec.integrations.platform import PlatformAccount
    from assistec.settings import ConsumerSettings
    from assistec.wiring.workers import WorkerRoot

    account = PlatformAccount(
        api_key=f"$aact_platform_{secrets.token_hex(6)}", webhook_token=secrets.token_urlsafe(24)
    )
    api_root.platform_account = lambda: account
    api_root.asaas_client("sandbox", account.api_key).create_webhook(
        {
            "name": "assistec-platform",
            "url": PLATFORM_URL,
            "email": "ops@assistec.local",
            "enabled": True,
            "interrupted": False,
            "apiVersion": 3,
            "authToken": account.webhook_token,
            "sendType": "SEQUENTIALLY",
        }
    )
    # The payments workers' root, as deployed, on the API's database, bus and Asaas simulator
    worker = WorkerRoot(ConsumerSettings())  # type: ignore[call-arg]
    worker.database = api_root.database
    worker.event_bus = bus
    worker.mailer = FakeMailer()
    worker.asaas_client = lambda environment, api_key: api_root.asaas_client(environment, api_key)
    worker.platform_account = lambda: account
    platform = Platform(asaas, account.api_key, account.webhook_token, worker.mailer, queue, worker)
    # The consumer applies the platform's events with its own service (it mails; the API does not)
    queue.billing = worker.platform_webhook
    return platform


def _ok(result: tuple[int, Any, Any], status: int = 200) -> Any:
    code, body, _ = result
    assert code == status, body
    return body


def _billing(client: Client, shop: Shop) -> dict[str, Any]:
    return dict(_ok(client.call("GET", "/billing", shop.access_token)))


def _post_platform(client: Client, body: str, token: str | None) -> dict[str, Any]:
    headers = {"asaas-access-token": token} if token else {}
    response: dict[str, Any] = client.invoke(
        rest_event("POST", "/webhooks/asaas-platform", raw_body=body, headers=headers)
    )
    return response


def _today() -> date:
    from assistec.services.billing.common import today_in_brazil

    return today_in_brazil()
