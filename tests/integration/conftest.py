from __future__ import annotations

import copy
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from assistec import __version__
from tests.conftest import LambdaContext, PgDatabase, load_event

if TYPE_CHECKING:
    from tests.integration.billing_fixtures import Platform

Invoke = Callable[[dict[str, Any]], dict[str, Any]]

SIGNING_KEY = secrets.token_urlsafe(48)
METHOD_ARN = "arn:aws:execute-api:sa-east-1:111111111111:abcdef1234/v1/GET/me"


def configure_api(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    from assistec.wiring import api as wiring

    for name in ("DB_SECRET_ID", "AUTH_SECRET_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STAGE", "test")
    monkeypatch.setenv("APP_VERSION", __version__)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("DB_SSLMODE", "disable")
    monkeypatch.setenv("AUTH_SIGNING_KEY", SIGNING_KEY)
    monkeypatch.setenv("DEVICES_BUCKET", "assistec-test-photos")
    monkeypatch.setenv("UNLOCK_CODE_KEY_ID", "alias/assistec-test-unlock")
    monkeypatch.setenv("EVENT_BUS_NAME", "assistec-test")
    monkeypatch.setenv("PAYMENTS_KEY_ID", "alias/assistec-test-secrets")
    monkeypatch.setenv("PAYMENTS_QUEUE_URL", "https://sqs.test/assistec-payments")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "AssistecTest")
    wiring.install(None)


def rest_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    raw_body: str | None = None,
    query: dict[str, str | list[str]] | None = None,
    headers: dict[str, str] | None = None,
    authorizer: dict[str, Any] | None = None,
    request_id: str | None = None,
    source_ip: str | None = None,
) -> dict[str, Any]:
    """An API Gateway REST proxy event, shaped like the recorded one, for any route."""
    event = copy.deepcopy(load_event("apigw_rest_get_health"))
    all_headers = {**event["headers"], "Content-Type": "application/json", **(headers or {})}
    event.update(
        httpMethod=method,
        path=path,
        resource="/{proxy+}",
        headers=all_headers,
        multiValueHeaders={k: [v] for k, v in all_headers.items()},
        # a list is a repeated parameter (?status=a&status=b); API Gateway keeps the last one single
        queryStringParameters={k: v[-1] if isinstance(v, list) else v for k, v in query.items()}
        if query
        else query,
        multiValueQueryStringParameters={k: v if isinstance(v, list) else [v] for k, v in query.items()}
        if query
        else None,
        body=raw_body if raw_body is not None else (json.dumps(body) if body is not None else None),
    )
    event["requestContext"].update(
        httpMethod=method,
        resourcePath="/{proxy+}",
        requestId=request_id or str(uuid.uuid4()),
        path=f"/{event['requestContext']['stage']}{path}",  # what API Gateway puts there: stage + path
    )
    if authorizer is not None:
        event["requestContext"]["authorizer"] = authorizer
    if source_ip is not None:
        event["requestContext"]["identity"]["sourceIp"] = source_ip
    return event


def new_source_ip() -> str:
    """A caller's own address: signups are throttled per source address."""
    n = uuid.uuid4().int
    return f"10.{n % 250}.{n // 250 % 250}.{n // 62_500 % 250 + 1}"


def authorize(token: str | None) -> dict[str, Any]:
    """Run the real authorizer on a bearer token, as API Gateway would; return its context.

    Raises whatever the authorizer raises (``Exception("Unauthorized")`` is API Gateway's 401).
    """
    from assistec.handlers import authorizer

    event = {
        "type": "TOKEN",
        "methodArn": METHOD_ARN,
        "authorizationToken": f"Bearer {token}" if token else "",
    }
    result = authorizer.handler(event, LambdaContext(function_name="assistec-authorizer"))
    return {"principalId": result["principalId"], **result["context"]}


@dataclass
class Client:
    """Calls the API handler like API Gateway does: authorizer first when a token is given."""

    invoke: Invoke

    def call(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> tuple[int, Any, dict]:
        authorizer = authorize(token) if token else None
        response = self.invoke(rest_event(method, path, authorizer=authorizer, **kwargs))
        body = json.loads(response["body"]) if response.get("body") else None
        headers = {k.lower(): v[0] for k, v in response.get("multiValueHeaders", {}).items()}
        return response["statusCode"], body, headers


class FakeCipher:
    """KMS's contract without KMS: authenticated, and bound to its encryption context."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)

    def _context(self, context: dict[str, str]) -> bytes:
        return json.dumps(context, sort_keys=True).encode()

    def _stream(self, context: dict[str, str], size: int) -> bytes:
        seed = hashlib.sha256(self._key + self._context(context)).digest()
        return (seed * (size // 32 + 1))[:size]

    def encrypt(self, plaintext: str, context: dict[str, str]) -> bytes:
        data = plaintext.encode()
        body = bytes(a ^ b for a, b in zip(data, self._stream(context, len(data)), strict=True))
        return hmac.new(self._key, self._context(context) + body, "sha256").digest() + body

    def decrypt(self, ciphertext: bytes, context: dict[str, str]) -> str:
        tag, body = ciphertext[:32], ciphertext[32:]
        if not hmac.compare_digest(
            tag, hmac.new(self._key, self._context(context) + body, "sha256").digest()
        ):
            raise ValueError("InvalidCiphertextException: encryption context mismatch")
        return bytes(a ^ b for a, b in zip(body, self._stream(context, len(body)), strict=True)).decode()


class FakeDataKeys:
    """KMS's data keys without KMS: GenerateDataKey's fresh 256-bit key and its sealed copy, which
    opens only under the encryption context it was made with (another shop's context: refused, as
    KMS's InvalidCiphertextException); a context of another purpose is refused as KmsDataKeys does."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)
        self.generated = 0
        self.opened = 0
        self.down = False

    def _check(self, context: dict[str, str]) -> None:
        from assistec.integrations.kms import BACKUP_BUNDLE, WrongPurposeError

        if context.get(BACKUP_BUNDLE[0]) != BACKUP_BUNDLE[1]:
            raise WrongPurposeError(f"not a backup key context: {context}")

    def generate(self, context: dict[str, str]) -> tuple[bytes, bytes]:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._check(context)
        if self.down:
            raise ConnectionError("KMS unavailable")
        key, nonce = secrets.token_bytes(32), secrets.token_bytes(12)
        self.generated += 1
        return key, nonce + AESGCM(self._key).encrypt(
            nonce, key, json.dumps(context, sort_keys=True).encode()
        )

    def decrypt(self, encrypted_key: bytes, context: dict[str, str]) -> bytes:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._check(context)
        try:
            key = AESGCM(self._key).decrypt(
                encrypted_key[:12], encrypted_key[12:], json.dumps(context, sort_keys=True).encode()
            )
        except InvalidTag:
            raise ValueError("InvalidCiphertextException: encryption context mismatch") from None
        self.opened += 1
        return key


class FakePhotoStorage:
    """Records what the service asks S3 to sign."""

    def __init__(self) -> None:
        self.forms: list[dict[str, Any]] = []

    def upload_form(self, key: str, content_type: str, *, max_bytes: int, expires_s: int) -> dict[str, Any]:
        form = {
            "url": "https://s3.fake/assistec-test-photos",
            "fields": {"key": key, "Content-Type": content_type},
        }
        self.forms.append({**form, "max_bytes": max_bytes, "expires_s": expires_s})
        return form

    def download_url(self, key: str, *, expires_s: int) -> str:
        return f"https://s3.fake/assistec-test-photos/{key}?expires={expires_s}"


@dataclass
class StoredObject:
    data: bytes
    content_type: str
    filename: str | None = None


class FakeDocumentStore:
    """S3's contract for the shop's documents and logo, in memory: objects with their type and file
    name; signed forms and links recorded; ``down`` refuses every call, as S3 unreachable would."""

    URL = "https://s3.fake/assistec-test-photos/"

    def __init__(self) -> None:
        self.objects: dict[str, StoredObject] = {}
        self.forms: list[dict[str, Any]] = []
        self.down = False

    def _up(self) -> None:
        if self.down:
            raise ConnectionError("S3 unavailable")

    def put(self, key: str, data: bytes, *, content_type: str, filename: str | None = None) -> None:
        self._up()
        self.objects[key] = StoredObject(data, content_type, filename)

    def download_url(
        self, key: str, *, expires_s: int, filename: str | None = None, content_type: str | None = None
    ) -> str:
        self._up()
        return f"{self.URL}{key}?expires={expires_s}" + (f"&filename={filename}" if filename else "")

    def upload_form(self, key: str, content_type: str, *, max_bytes: int, expires_s: int) -> dict[str, Any]:
        self._up()
        form = {"url": self.URL.rstrip("/"), "fields": {"key": key, "Content-Type": content_type}}
        self.forms.append({**form, "max_bytes": max_bytes, "expires_s": expires_s})
        return form

    def size(self, key: str) -> int | None:
        self._up()
        stored = self.objects.get(key)
        return None if stored is None else len(stored.data)

    def get(self, key: str, *, max_bytes: int) -> bytes | None:
        self._up()
        stored = self.objects.get(key)
        return None if stored is None else stored.data[: max_bytes + 1]

    def at(self, url: str) -> StoredObject:
        """What a browser following a signed link gets."""
        assert url.startswith(self.URL), url
        return self.objects[url[len(self.URL) :].split("?", 1)[0]]


class FakeBus:
    """EventBridge's PutEvents contract: entries in, one result per entry; can be told to refuse."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self.down = False

    def put(self, entries: list[dict[str, Any]]) -> list[bool]:
        if self.down:
            raise ConnectionError("EventBridge unavailable")
        self.entries.extend(entries)
        return [True] * len(entries)

    def details(self, detail_type: str | None = None) -> list[dict[str, Any]]:
        return [json.loads(e["Detail"]) for e in self.entries if detail_type in (None, e["DetailType"])]


@contextmanager
def bundle_buckets(prefix: str, count: int) -> Iterator[tuple[str, ...]]:
    """``count`` LocalStack buckets made as the stack makes the bundles' buckets (versioned:
    capabilities/backup.py), removed afterwards with every version they got."""
    import boto3

    s3 = boto3.client("s3")
    names = tuple(f"{prefix}-{n}-{uuid.uuid4().hex[:10]}" for n in range(count))
    for name in names:
        s3.create_bucket(Bucket=name)
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    try:
        yield names
    finally:
        for name in names:
            for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
                stored = [
                    {"Key": v["Key"], "VersionId": v["VersionId"]}
                    for v in (*page.get("Versions", []), *page.get("DeleteMarkers", []))
                ]
                if stored:
                    s3.delete_objects(Bucket=name, Delete={"Objects": stored, "Quiet": True})
            s3.delete_bucket(Bucket=name)


@pytest.fixture
def fakes() -> tuple[FakeCipher, FakePhotoStorage]:
    return FakeCipher(), FakePhotoStorage()


@pytest.fixture
def bus() -> FakeBus:
    return FakeBus()


@pytest.fixture
def api_root(
    monkeypatch: pytest.MonkeyPatch,
    database: PgDatabase,
    fakes: tuple[FakeCipher, FakePhotoStorage],
    bus: FakeBus,
) -> Iterator[Any]:
    """The API's composition root for this test, installed as the environment's: the real one
    against the session's database, with KMS, S3 and EventBridge replaced by fakes keeping their
    contracts."""
    from assistec.handlers import authorizer
    from assistec.settings import ApiSettings
    from assistec.wiring import api as wiring

    configure_api(monkeypatch, database.app_url)
    root = wiring.ApiRoot(ApiSettings())  # type: ignore[call-arg]
    root.cipher = fakes[0]
    root.payments_cipher = fakes[0]
    root.smtp_cipher = fakes[0]
    root.photo_storage = fakes[1]
    root.document_store = FakeDocumentStore()
    root.event_bus = bus
    from tests.integration.billing_fixtures import FakeMailer

    root.mailer = FakeMailer()  # signup's confirmation mails
    wiring.install(root)
    authorizer._key = None  # the authorizer keeps its key per environment; this test is a new one
    yield root
    wiring.install(None)


@pytest.fixture
def api(api_root: Any, lambda_context: LambdaContext) -> Invoke:
    """The API Lambda handler, invoked in-process with the test's composition root."""
    from assistec.handlers import api as api_handler

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        return api_handler.handler(event, lambda_context)

    return invoke


@pytest.fixture
def client(api: Invoke) -> Client:
    return Client(api)


def new_cnpj() -> str:
    from validate_docbr import CNPJ

    return CNPJ().generate()


@dataclass
class Shop:
    tenant_id: str
    owner_id: str
    email: str
    password: str
    access_token: str
    refresh_token: str


def signup(
    client: Client, *, name: str = "Conserta Já Assistência", password: str = "senha-forte-123"
) -> Shop:
    email = f"dono-{uuid.uuid4().hex[:10]}@exemplo.com.br"
    status, body = signup_confirmed(
        client,
        {
            "shop_name": name,
            "cnpj": new_cnpj(),
            "email": email,
            "phone": "(11) 98765-4321",
            "owner_name": "Maria da Silva",
            "password": password,
        },
    )
    assert status == 201, body
    return Shop(
        tenant_id=body["tenant_id"],
        owner_id=body["user_id"],
        email=email,
        password=password,
        access_token=body["access_token"],
        refresh_token=body["refresh_token"],
    )


def confirm_signup(client: Client, email: str) -> tuple[int, Any]:
    """What the owner does with signup's mail: confirm on its link; the confirmation's (status,
    body): 201 with the owner's tokens."""
    from assistec.wiring.api import root

    token = root().mailer.confirmation_token(email)
    status, body, _ = client.call("POST", f"/public/signup/{token}", body={})
    return status, body


def signup_confirmed(
    client: Client, body: dict[str, Any], *, source_ip: str | None = None
) -> tuple[int, Any]:
    """POST /signup (from a caller's own address), then the confirmation on the mailed link: the
    (status, body) of the signup when it is refused, else of the confirmation."""
    status, answer, _ = client.call("POST", "/signup", body=body, source_ip=source_ip or new_source_ip())
    if status != 202:
        return status, answer
    return confirm_signup(client, str(body["email"]))


class FakeQueue:
    """The payments queue: messages kept in order; ``drain`` applies them as the consumer would."""

    def __init__(self) -> None:
        self.messages: list[tuple[Any, str]] = []
        self.down = False
        self.billing: Any = None  # the consumer's platform webhook service (the API's when unset)

    def send(self, tenant_id: Any, event_id: str) -> None:
        if self.down:
            raise ConnectionError("SQS unavailable")
        self.messages.append((tenant_id, event_id))

    def send_platform(self, event_id: str) -> None:
        """A platform account delivery (the shops' subscriptions): no shop known yet."""
        if self.down:
            raise ConnectionError("SQS unavailable")
        self.messages.append((None, event_id))

    def drain(self) -> list[str]:
        from assistec.wiring.api import root

        outcomes = []
        while self.messages:
            tenant_id, event_id = self.messages.pop(0)
            if tenant_id is None:
                billing = self.billing or root().platform_webhook
                outcomes.append(billing.apply(event_id))
            else:
                outcomes.append(root().webhook_inbox.apply(tenant_id, event_id))
        return outcomes


@pytest.fixture
def queue() -> FakeQueue:
    return FakeQueue()


@pytest.fixture
def asaas(api_root: Any, api: Invoke, queue: FakeQueue) -> Any:
    """The offline Asaas simulator behind the real client (through httpx's transport, no sockets);
    its webhooks are delivered to the API handler, as Asaas would post them."""
    from asaas_sim import AsaasSimulator

    from assistec.integrations.asaas import AsaasClient

    def deliver(url: str, token: str, body: bytes) -> int:
        path = url.split("/v1", 1)[1]
        response = api(
            rest_event("POST", path, raw_body=body.decode(), headers={"asaas-access-token": token})
        )
        return int(response["statusCode"])

    sim = AsaasSimulator(deliver=deliver)

    def client(environment: str, api_key: str) -> AsaasClient:
        return AsaasClient(
            api_key, base_url="https://asaas.sim/v3", transport=sim.transport(), sleep=lambda s: None
        )

    api_root.asaas_client = client
    api_root.payments_queue = queue
    return sim


@pytest.fixture
def platform(api_root: Any, asaas: Any, queue: FakeQueue, bus: FakeBus) -> Platform:
    """assistec's own Asaas account (the shops' subscriptions) on the simulator, with the payments
    workers' root as deployed; see tests/integration/billing_fixtures.py."""
    from tests.integration.billing_fixtures import build_platform

    return build_platform(api_root, asaas, queue, bus)
