"""WhatsApp's world for the API tests: the offline Evolution simulator behind the real client (httpx
transport, no sockets), its webhooks posted to the API handler as Evolution posts them, and the two
queues kept in memory and drained by the real consumer (the bot) and the real sender."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from tests.integration.conftest import Client, Shop, rest_event

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "evolution"
GLOBAL_KEY = "global-key-for-integration-tests"
SECRET_HEADER = "x-assistec-webhook-secret"
API_BASE = "https://abcdef1234.execute-api.sa-east-1.amazonaws.com/v1"


@dataclass
class MemoryWhatsappQueue:
    inbound_messages: list[tuple[UUID, str, str, int]] = field(default_factory=list)
    outbound_messages: list[tuple[UUID, UUID]] = field(default_factory=list)
    media_messages: list[tuple[UUID, UUID]] = field(default_factory=list)
    down: bool = False

    def inbound(self, tenant_id: UUID, instance: str, delivery_id: str, *, delay_s: int = 0) -> None:
        if self.down:
            raise ConnectionError("SQS unavailable")
        self.inbound_messages.append((tenant_id, instance, delivery_id, delay_s))

    def outbound(self, tenant_id: UUID, message_id: UUID) -> None:
        if self.down:
            raise ConnectionError("SQS unavailable")
        self.outbound_messages.append((tenant_id, message_id))

    def media(self, tenant_id: UUID, message_id: UUID) -> None:
        if self.down:
            raise ConnectionError("SQS unavailable")
        self.media_messages.append((tenant_id, message_id))


@dataclass
class MemoryMediaStore:
    """S3's PutObject contract: objects kept by key."""

    objects: dict[str, tuple[bytes, str]] = field(default_factory=dict)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.objects[key] = (data, content_type)


@dataclass
class WhatsappWorld:
    sim: Any
    queue: MemoryWhatsappQueue
    inbox: Any  # the consumer's (with the bot)
    sender: Any
    mailer: Any
    status: Any = None  # the consumer's status messages
    media: Any = None  # the sender's media fetcher
    store: MemoryMediaStore = field(default_factory=MemoryMediaStore)
    outcomes: list[str] = field(default_factory=list)
    # The bot's clock: a Wednesday 14:00 in São Paulo (inside the default business hours), whatever
    # time the suite runs at; a test moves it.
    now: datetime = field(default_factory=lambda: datetime(2026, 11, 25, 17, 0, tzinfo=UTC))

    def drain(self) -> list[str]:
        """Apply what the queues hold, as the two workers would, until both are empty."""
        outcomes: list[str] = []
        while self.queue.inbound_messages or self.queue.outbound_messages or self.queue.media_messages:
            while self.queue.inbound_messages:
                tenant_id, instance, delivery_id, _ = self.queue.inbound_messages.pop(0)
                outcomes.append(self.inbox.apply(tenant_id, instance, delivery_id))
            while self.queue.outbound_messages:
                tenant_id, message_id = self.queue.outbound_messages.pop(0)
                outcomes.append("send:" + self.sender.send(tenant_id, message_id))
            while self.queue.media_messages:
                tenant_id, message_id = self.queue.media_messages.pop(0)
                outcomes.append("media:" + self.media.fetch(tenant_id, message_id))
        self.outcomes.extend(outcomes)
        return outcomes

    def texts_to(self, phone: str) -> list[str]:
        return [
            s["body"]["text"]
            for s in self.sim.sent
            if s["body"].get("number") == phone and "text" in s["body"]
        ]


def build_world(api_root: Any, api: Any) -> WhatsappWorld:
    from evolution_sim import EvolutionSimulator

    from assistec.integrations.evolution import EvolutionClient
    from assistec.services.whatsapp.bot import WhatsappBot
    from assistec.services.whatsapp.inbox import WhatsappInbox
    from assistec.services.whatsapp.notices import tell_owner_disconnected
    from assistec.services.whatsapp.sender import WhatsappSender
    from tests.integration.billing_fixtures import FakeMailer

    def deliver(url: str, headers: dict[str, str], body: bytes) -> int:
        path = url.split("/v1", 1)[1]
        response = api(rest_event("POST", path, raw_body=body.decode(), headers=headers))
        return int(response["statusCode"])

    sim = EvolutionSimulator(GLOBAL_KEY, deliver=deliver, sleep=lambda s: None)

    def client() -> EvolutionClient:
        return EvolutionClient(
            "https://evolution.sim", GLOBAL_KEY, transport=sim.transport(), sleep=lambda s: None
        )

    queue = MemoryWhatsappQueue()
    mailer = FakeMailer()
    api_root.mailer = mailer  # the SES transport under the shop's mail module
    world = WhatsappWorld(sim=sim, queue=queue, inbox=None, sender=None, mailer=mailer)
    api_root.evolution = client
    api_root.whatsapp_queue = queue
    from tests.integration.conftest import FakeCipher

    api_root.evolution_token_cipher = FakeCipher()
    inbox = WhatsappInbox(
        api_root.work,
        lambda: queue,
        bot=WhatsappBot(
            lambda: "https://abcdef1234.execute-api.sa-east-1.amazonaws.com/v1", clock=lambda: world.now
        ),
        on_disconnect=lambda event: tell_owner_disconnected(api_root.work, api_root.mail, event),
    )
    sender = WhatsappSender(api_root.work, client, sleep=lambda s: None)
    from assistec.services.whatsapp.status import StatusNotices

    world.status = StatusNotices(api_root.work, lambda: queue, lambda: API_BASE)
    from assistec.services.whatsapp.media import MediaFetcher

    world.media = MediaFetcher(api_root.work, client, lambda: world.store)
    world.inbox, world.sender, world.mailer = inbox, sender, mailer
    return world


def connect_number(client: Client, shop: Shop, world: WhatsappWorld, number: str = "5511955554444") -> dict:
    """The owner connects the shop's number and scans the QR (the simulator opens the instance)."""
    status, body, _ = client.call("POST", "/whatsapp/instance", shop.access_token, body={})
    assert status == 200, body
    world.sim.connect_by_name(body["name"], number=number)
    world.drain()
    return body


def envelope(name: str, fixture: str, **changes: Any) -> dict[str, Any]:
    """A real captured payload, addressed to this shop's instance."""
    document = json.loads((FIXTURES / fixture).read_text())
    document["instance"] = name
    document.update(changes)
    return document


def post(client: Client, url: str, body: Any, secret: str | None) -> int:
    path = url.split("/v1", 1)[1]
    raw = body if isinstance(body, str) else json.dumps(body)
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    return int(client.invoke(rest_event("POST", path, raw_body=raw, headers=headers))["statusCode"])


def webhook_secret(world: WhatsappWorld, name: str) -> str:
    """The secret the instance's webhook sends (as Evolution holds it)."""
    return str(world.sim.instances[name].webhook["headers"][SECRET_HEADER])
