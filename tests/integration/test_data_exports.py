"""The owner's copy of the shop's data (LGPD; issue 13 §3), through the API handler and the data exports
worker's handler against the real database: the owner asks, the worker (fed the event the outbox put
on the bus, as EventBridge's rule and SQS hand it over) makes the zip of that shop alone, the owner
is e-mailed and downloads it through a short-lived link; only the owner may; one export at a time and
a few a day; a duplicate delivery does nothing; a failure is recorded and the owner asks again; a
worker that dies leaves no 'ready' record and its export is taken again or recorded failed; an
expired export is gone (410).

S3 is the test's fake keeping the exports bucket's contract (``FakeExportStore``), SES the mail
tests' ``FakeMailer``; the database is read as the superuser to see what the app role wrote."""

from __future__ import annotations

import dataclasses
import io
import json
import threading
import uuid
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import IO, Any
from uuid import UUID

import psycopg
import pytest
from pydantic import SecretStr

from tests.conftest import LambdaContext, PgDatabase
from tests.integration.billing_fixtures import FakeMailer
from tests.integration.conftest import Client, FakeBus, Shop, signup
from tests.integration.shop_helpers import _ok
from tests.integration.test_email import staff

# --- fakes and helpers ----------------------------------------------------------------------------


class FakeExportStore:
    """S3's contract for the exports bucket, in memory: a put stores the whole body (from its current
    position) with the name a browser saves it under; a signed link names the key; ``down`` refuses
    every call, as S3 unreachable would; ``on_put`` runs in the middle of a put (a test's hook)."""

    URL = "https://s3.fake/assistec-test-exports/"

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}
        self.puts = 0
        self.links: list[dict[str, Any]] = []
        self.down = False
        self.on_put: Callable[[], None] | None = None

    def put(self, key: str, body: IO[bytes], *, filename: str) -> None:
        if self.down:
            raise ConnectionError("S3 unavailable")
        data = body.read()
        if self.on_put is not None:
            hook, self.on_put = self.on_put, None
            hook()
        self.objects[key] = (data, filename)
        self.puts += 1

    def download_url(self, key: str, *, expires_s: int, filename: str) -> str:
        if self.down:
            raise ConnectionError("S3 unavailable")
        self.links.append({"key": key, "expires_s": expires_s, "filename": filename})
        return f"{self.URL}{key}?expires={expires_s}"

    def at(self, url: str) -> bytes:
        """What a browser following a signed link gets."""
        assert url.startswith(self.URL), url
        return self.objects[url[len(self.URL) :].split("?", 1)[0]][0]


class Crash(BaseException):  # what a Lambda killed mid-way looks like to the code: nothing catches it
    """The worker's process dying (a timeout, out of memory): no ``except Exception`` runs."""


@dataclasses.dataclass(frozen=True)
class WorkerContext(LambdaContext):
    function_name: str = "assistec-data-exports"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000  # a fresh invocation of the 15-minute worker


@dataclasses.dataclass
class World:
    client: Client
    database: PgDatabase
    store: FakeExportStore
    mailer: FakeMailer
    worker: Any  # the worker's composition root
    bus: FakeBus

    def ask(self, shop: Shop) -> tuple[int, Any, dict[str, str]]:
        return self.client.call("POST", "/data-exports", shop.access_token, body={})

    def requested(self, shop: Shop) -> list[dict[str, Any]]:
        """The DataExportRequested events of the shop the outbox put on the bus: the worker's input."""
        return [d for d in self.bus.details("DataExportRequested") if d["tenant_id"] == shop.tenant_id]

    def deliver(self, *details: dict[str, Any]) -> dict[str, Any]:
        """Hand events to the worker's handler as EventBridge's rule and SQS do: each event whole as
        an SQS message's body."""
        from assistec.handlers import data_exports as handler

        records = [
            {
                "messageId": f"m-{uuid.uuid4()}",
                "receiptHandle": "r",
                "body": json.dumps(
                    {
                        "version": "0",
                        "id": str(uuid.uuid4()),
                        "detail-type": "DataExportRequested",
                        "source": "assistec.orders",
                        "account": "111111111111",
                        "time": datetime.now(UTC).isoformat(),
                        "region": "sa-east-1",
                        "resources": [],
                        "detail": detail,
                    }
                ),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:sa-east-1:111111111111:assistec-data-exports",
                "awsRegion": "sa-east-1",
            }
            for detail in details
        ]
        answer: dict[str, Any] = handler.worker({"Records": records}, WorkerContext())
        return answer

    def export(self, shop: Shop, export_id: str) -> tuple[int, Any]:
        status, body, _ = self.client.call("GET", f"/data-exports/{export_id}", shop.access_token)
        return status, body

    def download(self, shop: Shop, export_id: str) -> tuple[int, Any]:
        status, body, _ = self.client.call("GET", f"/data-exports/{export_id}/download", shop.access_token)
        return status, body

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.database.superuser_url) as conn:
            return conn.execute(query, params).fetchall()


@pytest.fixture
def world(
    monkeypatch: pytest.MonkeyPatch, api_root: Any, client: Client, database: PgDatabase, bus: FakeBus
) -> Iterator[World]:
    """The API's root and the data exports worker's root as deployed, on the session's database, sharing
    one fake exports bucket; the worker's SES is a fake mailer."""
    from assistec.settings import DataExportSettings
    from assistec.wiring import data_exports as wiring

    store = FakeExportStore()
    api_root.export_store = store
    monkeypatch.setenv("EXPORTS_BUCKET", "assistec-test-exports")
    worker = wiring.DataExportRoot(DataExportSettings())  # type: ignore[call-arg]
    worker.export_store = store
    worker.mailer = FakeMailer()
    wiring.install(worker)
    yield World(client, database, store, worker.mailer, worker, bus)
    wiring.install(None)


@pytest.fixture
def metrics_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    from assistec.observability import metrics

    monkeypatch.setattr(metrics.provider, "namespace", "AssistecTest")
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")  # `make test` disables metrics


def _metric_totals(output: str) -> dict[str, float]:
    """The EMF metrics printed by the handler's invocations, summed by name."""
    totals: dict[str, float] = {}
    for line in output.splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if isinstance(document, dict) and "_aws" in document:
            for metric in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
                value = document[metric["Name"]]
                totals[metric["Name"]] = totals.get(metric["Name"], 0) + sum(
                    value if isinstance(value, list) else [value]
                )
    return totals


def customer(client: Client, shop: Shop, name: str) -> dict[str, Any]:
    phone = f"11 9{uuid.uuid4().int % 10**8:08d}"
    status, body, _ = client.call(
        "POST", "/customers", shop.access_token, body={"name": name, "phone": phone}
    )
    assert status == 201, body
    return dict(body)


def audit(client: Client, shop: Shop) -> list[tuple[str, str]]:
    """The shop's data export audit entries, oldest first: (action, entity_id)."""
    items = _ok(client.call("GET", "/audit", shop.access_token, query={"entity": "data_export"}))["items"]
    return [(i["action"], i["entity_id"]) for i in reversed(items)]


def zip_tables(data: bytes) -> dict[str, Any]:
    """The zip's JSON files, parsed, by table; and its members' names under "__names__"."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    tables: dict[str, Any] = {"__names__": sorted(archive.namelist())}
    for name in archive.namelist():
        if name.endswith(".json"):
            tables[name.removesuffix(".json")] = json.loads(archive.read(name))
    tables["__bytes__"] = b"".join(archive.read(n) for n in archive.namelist())
    return tables


def make_ready(world: World, shop: Shop) -> dict[str, Any]:
    """The owner asks; the worker gets the event and makes it; the export as the API shows it."""
    status, asked, _ = world.ask(shop)
    assert status == 202, asked
    [event] = [e for e in world.requested(shop) if e["export_id"] == asked["id"]]
    assert world.deliver(event) == {"batchItemFailures": []}
    status, body = world.export(shop, asked["id"])
    assert status == 200, body
    assert body["status"] == "ready", body
    return dict(body)


# --- the owner asks, the worker makes it, the owner downloads it ------------------------------------


def test_the_owner_gets_a_zip_of_the_shops_data_and_of_no_other_shop(
    world: World, metrics_namespace: None, capsys: pytest.CaptureFixture[str]
) -> None:
    client = world.client
    # Given two shops, each with a customer of its own
    a, b = signup(client, name="Loja A Exporta"), signup(client, name="Loja B Outra")
    ana = customer(client, a, "Ana Exportada da Silva")
    customer(client, b, "Bruno de Outra Loja")

    # When A's owner asks for a copy of the shop's data
    status, asked, _ = world.ask(a)
    # Then it is pending, asked by the owner, audited, and its event is on the bus for the worker
    assert status == 202, asked
    assert asked["status"] == "pending"
    assert asked["requested_by"] == a.owner_id
    assert asked["rows"] is None
    assert asked["expires_at"] is None
    assert asked["error"] is None
    assert audit(client, a) == [("request", asked["id"])]
    [event] = world.requested(a)
    assert event["export_id"] == asked["id"]
    # And it cannot be downloaded yet
    status, refused = world.download(a, asked["id"])
    assert (status, refused["code"]) == (409, "export_not_ready")
    assert refused["details"] == {"status": "pending"}

    # When the worker gets the event
    assert world.deliver(event) == {"batchItemFailures": []}

    # Then the export is ready: what it holds, its size, until when (7 days)
    status, ready = world.export(a, asked["id"])
    assert status == 200, ready
    assert ready["status"] == "ready"
    key = f"exports/{a.tenant_id}/{asked['id']}.zip"
    data, filename = world.store.objects[key]
    assert ready["bytes"] == len(data)
    tables = zip_tables(data)
    assert ready["files"] == len(tables["__names__"])
    assert ready["rows"] > 0
    assert ready["expired"] is False
    finished = datetime.fromisoformat(ready["finished_at"])
    expires = datetime.fromisoformat(ready["expires_at"])
    assert timedelta(days=7) - timedelta(minutes=1) <= expires - finished <= timedelta(days=7)
    assert filename.startswith("assistec-dados-da-loja-")
    assert filename.endswith(".zip")

    # When the owner asks for the download
    status, link = world.download(a, asked["id"])
    # Then a 5-minute link to that zip, named for the browser
    assert status == 200, link
    assert link["content_type"] == "application/zip"
    assert link["filename"] == filename
    assert world.store.links[-1] == {"key": key, "expires_s": 300, "filename": filename}
    link_expires = datetime.fromisoformat(link["expires_at"])
    assert timedelta(minutes=4) < link_expires - datetime.now(UTC) <= timedelta(minutes=5)
    downloaded = zip_tables(world.store.at(link["url"]))
    # And it holds a CSV and a JSON of the shop's tables and a README
    for table in ("tenants", "customers", "users", "audit_log"):
        assert {f"{table}.csv", f"{table}.json"} <= set(downloaded["__names__"])
    assert "README.txt" in downloaded["__names__"]
    # With A's customer in it, as data
    assert [c["name"] for c in downloaded["customers"]] == ["Ana Exportada da Silva"]
    assert downloaded["customers"][0]["id"] == ana["id"]
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert "Ana Exportada da Silva" in archive.read("customers.csv").decode()
    # And every row of every table is A's: B's id, B's customer, B's shop appear nowhere
    assert [t["id"] for t in downloaded["tenants"]] == [a.tenant_id]
    for name, rows in downloaded.items():
        if name.startswith("__") or name == "tenants":
            continue
        assert all(r["tenant_id"] == a.tenant_id for r in rows), name
    for foreign in (b.tenant_id, "Bruno de Outra Loja", "Loja B Outra", b.email):
        assert foreign.encode() not in downloaded["__bytes__"], foreign
    # And no secret of the shop: the owner's password hash
    [(password_hash,)] = world.sql("select password_hash from users where id = %s", a.owner_id)
    assert password_hash.encode() not in downloaded["__bytes__"]

    # And the owner was e-mailed, with the template, once, with no link in it
    [mail] = world.mailer.mails
    assert mail.to == a.email
    assert mail.subject == "Exportação dos dados da loja pronta"
    assert dict(mail.tags)["template"] == "data_export_ready"
    assert "Configurações > Dados da loja" in mail.text
    assert "https://" not in mail.text
    assert world.store.URL not in mail.html
    records = _ok(client.call("GET", "/email/messages", a.access_token))["items"]
    assert [(m["template"], m["status"], m["to_address"]) for m in records] == [
        ("data_export_ready", "sent", a.email)
    ]
    # And each step is in A's audit log; the list shows it; the metric counts it
    assert audit(client, a) == [("request", asked["id"]), ("ready", asked["id"]), ("download", asked["id"])]
    listed = _ok(client.call("GET", "/data-exports", a.access_token))
    assert [e["id"] for e in listed["items"]] == [asked["id"]]
    assert listed["items"][0]["status"] == "ready"
    assert _metric_totals(capsys.readouterr().out).get("DataExportsReady") == 1

    # And B's owner sees none of it
    assert world.export(b, asked["id"])[0] == 404
    assert world.download(b, asked["id"])[0] == 404
    assert _ok(client.call("GET", "/data-exports", b.access_token))["items"] == []


def test_the_list_is_newest_first_and_paginated(world: World) -> None:
    shop = signup(world.client)
    made = [make_ready(world, shop)["id"] for _ in range(2)]
    first = _ok(world.client.call("GET", "/data-exports", shop.access_token, query={"limit": "1"}))
    assert [e["id"] for e in first["items"]] == [made[1]]
    assert first["next_cursor"]
    second = _ok(
        world.client.call(
            "GET", "/data-exports", shop.access_token, query={"limit": "1", "cursor": first["next_cursor"]}
        )
    )
    assert [e["id"] for e in second["items"]] == [made[0]]
    assert second["next_cursor"] is None


@pytest.mark.parametrize("status", ["suspended", "cancelled"])
def test_a_suspended_or_cancelled_shops_owner_still_takes_the_shops_data(world: World, status: str) -> None:
    # LGPD portability does not wait on a bill: the owner of a shop the platform suspended or that
    # cancelled still asks, lists and downloads (every other staff route answers 402)
    shop = signup(world.client)
    customer(world.client, shop, "Cliente da Portabilidade")
    world.sql("update tenants set billing_status = %s where id = %s returning 1", status, shop.tenant_id)
    assert world.client.call("GET", "/customers", shop.access_token)[0] == 402
    ready = make_ready(world, shop)
    listed = _ok(world.client.call("GET", "/data-exports", shop.access_token))
    assert [e["id"] for e in listed["items"]] == [ready["id"]]
    link = _ok(world.client.call("GET", f"/data-exports/{ready['id']}/download", shop.access_token))
    tables = zip_tables(world.store.at(link["url"]))
    assert [c["name"] for c in tables["customers"]] == ["Cliente da Portabilidade"]
    # And the shop stays as it was: still suspended or cancelled
    assert world.sql("select billing_status from tenants where id = %s", shop.tenant_id) == [(status,)]


# --- only the owner ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "technician", "attendant"])
def test_only_the_owner_may_export_list_or_download(world: World, role: str) -> None:
    client = world.client
    shop = signup(client)
    ready = make_ready(world, shop)
    token = staff(client, shop, role)
    before = world.sql("select count(*) from data_exports where tenant_id = %s", shop.tenant_id)
    links = len(world.store.links)
    # When anyone but the owner asks, lists, reads or downloads
    for method, path in (
        ("POST", "/data-exports"),
        ("GET", "/data-exports"),
        ("GET", f"/data-exports/{ready['id']}"),
        ("GET", f"/data-exports/{ready['id']}/download"),
    ):
        status, answer, _ = client.call(method, path, token, **({"body": {}} if method == "POST" else {}))
        # Then 403 in pt-BR, and nothing was made or signed
        assert (status, answer["code"]) == (403, "forbidden"), (path, answer)
        assert "dono da loja" in answer["message"]
    assert world.sql("select count(*) from data_exports where tenant_id = %s", shop.tenant_id) == before
    assert len(world.store.links) == links
    assert world.requested(shop) == [e for e in world.requested(shop) if e["export_id"] == ready["id"]]


# --- one at a time, a few a day ---------------------------------------------------------------------


def test_a_second_request_while_one_is_under_way_is_refused(world: World) -> None:
    shop = signup(world.client)
    status, first, _ = world.ask(shop)
    assert status == 202, first
    # When the owner asks again while it is pending
    status, refused, _ = world.ask(shop)
    # Then 409 with a stable code and a pt-BR message, and no second export nor event
    assert (status, refused["code"]) == (409, "export_in_progress")
    assert "em andamento" in refused["message"]
    assert len(world.requested(shop)) == 1
    # And while it is running, the same
    world.sql(
        "update data_exports set status = 'running', started_at = now() where id = %s returning 1",
        first["id"],
    )
    assert world.ask(shop)[1]["code"] == "export_in_progress"
    assert world.sql("select count(*) from data_exports where tenant_id = %s", shop.tenant_id) == [(1,)]


def test_parallel_requests_make_one_export(world: World) -> None:
    from assistec.db.connection import Database
    from assistec.domain.permissions import Role
    from assistec.domain.tokens import Identity
    from assistec.errors import AppError
    from assistec.services.data_exports import DataExports
    from assistec.services.outbox import OutboxRelay
    from assistec.services.unit_of_work import UnitsOfWork
    from assistec.settings import DatabaseSettings

    # Given a shop and eight API environments (each its own connection), as eight Lambdas would be
    shop = signup(world.client)
    identity = Identity(tenant_id=UUID(shop.tenant_id), user_id=UUID(shop.owner_id), role=Role.OWNER)
    outcomes: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def attempt() -> None:
        settings = DatabaseSettings(database_url=SecretStr(world.database.app_url), db_sslmode="disable")
        db = Database(settings)
        service = DataExports(UnitsOfWork(db, OutboxRelay(db, FakeBus())), lambda: world.store)
        barrier.wait()
        try:
            service.request(identity)
            outcome = "asked"
        except AppError as exc:
            outcome = exc.code
        finally:
            db.close()
        with lock:
            outcomes.append(outcome)

    # When the owner's double (octuple) click sends them at the same moment
    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then one export is asked for, the others are told one is under way
    assert sorted(outcomes) == ["asked"] + ["export_in_progress"] * 7
    assert world.sql("select count(*) from data_exports where tenant_id = %s", shop.tenant_id) == [(1,)]
    assert world.sql(
        "select count(*) from outbox where tenant_id = %s and detail_type = 'DataExportRequested'",
        shop.tenant_id,
    ) == [(1,)]


def test_a_shop_asks_at_most_three_exports_in_24_hours(world: World) -> None:
    shop = signup(world.client)
    # Given three exports made today, and one that failed in between (it does not count)
    made = [make_ready(world, shop) for _ in range(2)]
    status, asked, _ = world.ask(shop)
    assert status == 202
    world.sql(
        "update data_exports set status = 'failed', error = 'x', finished_at = now() "
        "where id = %s returning 1",
        asked["id"],
    )
    made.append(make_ready(world, shop))
    # When the owner asks a fifth time
    status, refused, headers = world.ask(shop)
    # Then 429 with a stable code, a pt-BR message and when to come back (the oldest one's 24 hours)
    assert (status, refused["code"]) == (429, "export_limit_reached"), refused
    assert "24 horas" in refused["message"]
    first = datetime.fromisoformat(made[0]["requested_at"])
    wait = int(headers["retry-after"])
    expected = (first + timedelta(hours=24) - datetime.now(UTC)).total_seconds()
    assert expected - 60 <= wait <= expected + 1
    assert refused["details"] == {"retry_after_seconds": wait}
    assert world.sql("select count(*) from data_exports where tenant_id = %s", shop.tenant_id) == [(4,)]
    # When the oldest one is 24 hours old
    world.sql(
        "update data_exports set requested_at = requested_at - interval '24 hours' where id = %s returning 1",
        made[0]["id"],
    )
    # Then the shop may ask again
    assert world.ask(shop)[0] == 202


# --- the worker: duplicates, failures, crashes ------------------------------------------------------


def test_a_duplicate_delivery_does_nothing(world: World) -> None:
    shop = signup(world.client)
    ready = make_ready(world, shop)
    [event] = world.requested(shop)
    rows = world.sql("select data_exports::text from data_exports where id = %s", ready["id"])
    # When the queue delivers the same event again (at least once), twice in one batch too
    assert world.deliver(event, event) == {"batchItemFailures": []}
    # Then nothing was made again: one zip, one e-mail, one "ready", the record as it was
    assert world.store.puts == 1
    assert len(world.mailer.mails) == 1
    assert [a for a, _ in audit(world.client, shop)] == ["request", "ready"]
    assert world.sql("select data_exports::text from data_exports where id = %s", ready["id"]) == rows


def test_a_delivery_while_another_worker_makes_it_does_nothing(world: World) -> None:
    shop = signup(world.client)
    status, asked, _ = world.ask(shop)
    assert status == 202
    [event] = world.requested(shop)
    # Given another worker took it a minute ago (still within its lease)
    world.sql(
        "update data_exports set status = 'running', attempts = 1, started_at = now() - interval '1 minute' "
        "where id = %s returning 1",
        asked["id"],
    )
    # When the event is delivered again
    assert world.deliver(event) == {"batchItemFailures": []}
    # Then this delivery leaves it to that worker
    assert world.store.puts == 0
    assert world.sql("select status, attempts from data_exports where id = %s", asked["id"]) == [
        ("running", 1)
    ]


def test_a_failure_is_recorded_and_the_owner_asks_again(
    world: World, metrics_namespace: None, capsys: pytest.CaptureFixture[str]
) -> None:
    shop = signup(world.client)
    status, asked, _ = world.ask(shop)
    assert status == 202
    [event] = world.requested(shop)
    # Given S3 refuses the zip
    world.store.down = True
    # When the worker makes it
    assert world.deliver(event) == {"batchItemFailures": []}
    # Then the export failed, with a pt-BR message, no file, no e-mail; the metric counts it
    status, failed = world.export(shop, asked["id"])
    assert failed["status"] == "failed"
    assert failed["error"].startswith("Não foi possível gerar a exportação")
    assert failed["rows"] is None
    assert failed["expires_at"] is None
    assert world.store.objects == {}
    assert world.mailer.mails == []
    assert world.download(shop, asked["id"])[1]["code"] == "export_not_ready"
    assert [a for a, _ in audit(world.client, shop)] == ["request", "failed"]
    assert _metric_totals(capsys.readouterr().out).get("DataExportFailures") == 1
    # When S3 is back and the owner asks again
    world.store.down = False
    retried = make_ready(world, shop)
    # Then the new one is made
    assert retried["id"] != asked["id"]
    assert world.download(shop, retried["id"])[0] == 200
    # And the failed one stays failed (a late redelivery of its event does nothing)
    assert world.deliver(event) == {"batchItemFailures": []}
    assert world.export(shop, asked["id"])[1]["status"] == "failed"


def test_a_worker_that_dies_leaves_no_ready_record_and_the_owner_can_ask_again(world: World) -> None:
    shop = signup(world.client)
    status, asked, _ = world.ask(shop)
    assert status == 202
    export_id = UUID(asked["id"])

    def crash() -> None:
        raise Crash

    # When the worker's process dies while it uploads the zip
    world.store.on_put = crash
    with pytest.raises(Crash):
        world.worker.runner.run(UUID(shop.tenant_id), export_id)
    # Then the export is still 'running', with nothing of a ready one
    assert world.sql(
        "select status, s3_key, bytes, rows, files, expires_at from data_exports where id = %s", asked["id"]
    ) == [("running", None, None, None, None, None)]
    # And the database refuses a half 'ready' record anyway
    with pytest.raises(psycopg.errors.CheckViolation):
        world.sql("update data_exports set status = 'ready' where id = %s returning 1", asked["id"])
    # And while its lease runs the owner is told it is under way
    assert world.ask(shop)[1]["code"] == "export_in_progress"
    # When its lease has run out (started 21 minutes ago) and the owner reads the exports
    world.sql(
        "update data_exports set started_at = now() - interval '21 minutes' where id = %s returning 1",
        asked["id"],
    )
    status, interrupted = world.export(shop, asked["id"])
    # Then it is failed (interrupted), and the owner asks again
    assert interrupted["status"] == "failed"
    assert "interrompida" in interrupted["error"]
    assert [a for a, _ in audit(world.client, shop)] == ["request", "failed"]
    assert make_ready(world, shop)["id"] != asked["id"]


def test_a_redelivery_after_a_crash_makes_the_export(world: World) -> None:
    shop = signup(world.client)
    status, asked, _ = world.ask(shop)
    assert status == 202
    [event] = world.requested(shop)
    # Given a worker took it 21 minutes ago and died (its lease ran out; nobody read the exports since)
    world.sql(
        "update data_exports set status = 'running', attempts = 1, "
        "started_at = now() - interval '21 minutes' where id = %s returning 1",
        asked["id"],
    )
    # When SQS delivers the event again (its visibility timeout passed)
    assert world.deliver(event) == {"batchItemFailures": []}
    # Then this run makes it
    assert world.sql("select status, attempts from data_exports where id = %s", asked["id"]) == [("ready", 2)]
    assert len(world.mailer.mails) == 1


def test_a_run_that_lost_its_export_to_a_later_run_changes_nothing(world: World) -> None:
    shop = signup(world.client)
    status, asked, _ = world.ask(shop)
    assert status == 202
    tenant_id, export_id = UUID(shop.tenant_id), UUID(asked["id"])
    later: list[str] = []

    def a_later_run_takes_it() -> None:
        # While the first run uploads, its lease runs out and a redelivery's run makes the export
        world.sql(
            "update data_exports set started_at = now() - interval '21 minutes' where id = %s returning 1",
            asked["id"],
        )
        later.append(world.worker.runner.run(tenant_id, export_id))

    world.store.on_put = a_later_run_takes_it
    # When the first run finishes its upload after that
    first = world.worker.runner.run(tenant_id, export_id)
    # Then the later run's outcome stands, recorded once; the first changes nothing
    assert (later, first) == (["ready"], "skipped")
    assert world.sql("select status, attempts from data_exports where id = %s", asked["id"]) == [("ready", 2)]
    assert [a for a, _ in audit(world.client, shop)] == ["request", "ready"]
    assert len(world.mailer.mails) == 1


def test_a_worker_error_on_the_exports_own_row_goes_back_to_the_queue(world: World) -> None:
    shop = signup(world.client)
    status, asked, _ = world.ask(shop)
    assert status == 202
    [event] = world.requested(shop)
    # Given the worker's database is unreachable
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    from assistec.db.connection import Database
    from assistec.settings import DatabaseSettings

    real = world.worker.database
    world.worker.__dict__["database"] = Database(
        DatabaseSettings(
            database_url=SecretStr("postgresql://assistec_app:x@127.0.0.1:1/assistec?connect_timeout=1"),
            db_sslmode="disable",
        )
    )
    for cached in ("work", "runner"):
        world.worker.__dict__.pop(cached, None)
    try:
        # When the event is delivered, Then the invocation fails (its only message did): SQS delivers it
        # again (the DLQ after five tries)
        with pytest.raises(BatchProcessingError):
            world.deliver(event)
    finally:
        world.worker.__dict__["database"].close()
        world.worker.__dict__["database"] = real
        for cached in ("work", "runner"):
            world.worker.__dict__.pop(cached, None)
    # And the export is still pending
    assert world.export(shop, asked["id"])[1]["status"] == "pending"
    # And the retry makes it
    assert world.deliver(event) == {"batchItemFailures": []}
    assert world.export(shop, asked["id"])[1]["status"] == "ready"


# --- expiry ------------------------------------------------------------------------------------------


def test_an_expired_export_is_gone(world: World) -> None:
    shop = signup(world.client)
    ready = make_ready(world, shop)
    links = len(world.store.links)
    # When its 7 days are over
    world.sql(
        "update data_exports set expires_at = now() - interval '1 second' where id = %s returning 1",
        ready["id"],
    )
    status, gone = world.download(shop, ready["id"])
    # Then 410 with a stable code and a pt-BR message, and no link is signed
    assert (status, gone["code"]) == (410, "export_expired")
    assert "7 dias" in gone["message"]
    assert len(world.store.links) == links
    # And the export says so
    assert world.export(shop, ready["id"])[1]["expired"] is True
    # And the owner may ask for a new one
    assert world.ask(shop)[0] == 202


def test_a_link_s3_cannot_sign_is_503_and_audits_no_download(world: World) -> None:
    shop = signup(world.client)
    ready = make_ready(world, shop)
    world.store.down = True
    status, answer = world.download(shop, ready["id"])
    assert (status, answer["code"]) == (503, "storage_unavailable")
    assert [a for a, _ in audit(world.client, shop)] == ["request", "ready"]
