"""The ops console's commands (issue 13 §5), through the ops function's handler, against the real
database, the payments workers' provisioning and the offline Asaas simulator (the platform account).

Every command is recorded in ``ops_audit`` with the operator; the shop's own audit log gets what
changed in the shop."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest

from tests.conftest import LambdaContext, PgDatabase
from tests.integration.billing_fixtures import Platform, _billing, _ok
from tests.integration.conftest import SIGNING_KEY, Client, FakeBus, Shop, authorize, signup

OPERATOR = "arn:aws:iam::111111111111:user/ana.ops"


@dataclass
class FakeKeySecret:
    """The signing key's secret (Secrets Manager's contract: read what was last written)."""

    value: str
    writes: list[str] = field(default_factory=list)

    def read(self) -> str:
        return self.value

    def write(self, value: str) -> None:
        self.writes.append(value)
        self.value = value


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Ops:
    """The ops function as the console invokes it (the handler, the event, a Lambda context)."""

    root: Any
    secret: FakeKeySecret
    clock: Clock
    database: PgDatabase

    def run(self, command: str, operator: str = OPERATOR, **args: Any) -> dict[str, Any]:
        from assistec.handlers import ops as handler

        answer: dict[str, Any] = handler.handler(
            {"command": command, "args": args, "operator": operator},
            LambdaContext(function_name="assistec-ops", aws_request_id=f"req-{uuid.uuid4().hex[:8]}"),
        )
        json.dumps(answer)  # what the Lambda runtime must be able to send back
        return answer

    def ok(self, command: str, **args: Any) -> Any:
        answer = self.run(command, **args)
        assert answer["ok"] is True, answer
        return answer["result"]

    def refused(self, command: str, **args: Any) -> dict[str, Any]:
        answer = self.run(command, **args)
        assert answer["ok"] is False, answer
        error: dict[str, Any] = answer["error"]
        return error

    def entries(self, shop_id: str | None = None) -> list[dict[str, Any]]:
        """The operator's audit log as the ops role reads it (newest first)."""
        with (
            psycopg.connect(self.database.ops_url) as conn,
            conn.cursor(row_factory=psycopg.rows.dict_row) as cur,
        ):
            return cur.execute(
                "select * from ops_audit where %s::uuid is null or shop_id = %s::uuid order by id desc",
                (shop_id, shop_id),
            ).fetchall()


@pytest.fixture
def ops(api_root: Any, platform: Platform, bus: FakeBus, database: PgDatabase) -> Iterator[Ops]:
    """The ops function's root as deployed, on the API's database, bus and Asaas simulator, with the
    signing key's secret and the clock replaced."""
    from assistec.services.ops import OpsConsole
    from assistec.settings import OpsSettings
    from assistec.wiring import ops as wiring

    root = wiring.OpsRoot(OpsSettings())  # type: ignore[call-arg]
    root.database = api_root.database
    root.event_bus = bus
    root.asaas_client = lambda environment, api_key: api_root.asaas_client(environment, api_key)
    root.platform_account = platform.worker.platform_account
    secret = FakeKeySecret(SIGNING_KEY)
    clock = Clock(datetime.now(UTC))
    root.ops = OpsConsole(root.work, root.provisioning, key_secret=lambda: secret, clock=clock)
    wiring.install(root)
    yield Ops(root, secret, clock, database)
    wiring.install(None)


def _named(client: Client, name: str) -> Shop:
    return signup(client, name=name)


def _subscription(database: PgDatabase, shop: Shop) -> dict[str, Any]:
    with (
        psycopg.connect(database.superuser_url) as conn,
        conn.cursor(row_factory=psycopg.rows.dict_row) as cur,
    ):
        row = cur.execute(
            "select s.*, t.billing_status from tenant_subscriptions s join tenants t on t.id = s.tenant_id "
            "where s.tenant_id = %s",
            (shop.tenant_id,),
        ).fetchone()
    assert row is not None
    return dict(row)


def _cnpj(database: PgDatabase, shop: Shop) -> str:
    with psycopg.connect(database.superuser_url) as conn:
        row = conn.execute("select cnpj from tenants where id = %s", (shop.tenant_id,)).fetchone()
    assert row is not None
    return str(row[0])


# --- finding and showing shops ---------------------------------------------------------------------
def test_list_finds_shops_by_name_cnpj_and_email_and_filters_by_status(
    client: Client, ops: Ops, database: PgDatabase
) -> None:
    # Given three shops of one family of names, one of them suspended
    tag = uuid.uuid4().hex[:6]
    joao = _named(client, f"Assistência São João {tag}")
    maria = _named(client, f"Conserta Maria {tag}")
    other = _named(client, f"Celular Rápido {tag}")
    with psycopg.connect(database.superuser_url) as conn:
        conn.execute("update tenants set billing_status = 'suspended' where id = %s", (maria.tenant_id,))

    # When the operator searches by name, without accents or case
    found = ops.ok("list_shops", search=f"sao JOAO {tag}")
    # Then the shop is there, with its billing state
    assert [s["id"] for s in found["shops"]] == [joao.tenant_id]
    assert found["shops"][0]["billing_status"] == "trial"
    assert found["shops"][0]["plan"] == "essencial"
    assert found["shops"][0]["provisioned"] is False

    # By the name's tag: all three, newest first; with a status filter: the suspended one
    assert [s["id"] for s in ops.ok("list_shops", search=tag)["shops"]] == [
        other.tenant_id,
        maria.tenant_id,
        joao.tenant_id,
    ]
    assert [s["id"] for s in ops.ok("list_shops", search=tag, status="suspended")["shops"]] == [
        maria.tenant_id
    ]

    # By CNPJ, typed with its punctuation, and by the owner's e-mail
    cnpj = _cnpj(database, maria)
    formatted = f"{cnpj[:2]}.{cnpj[2:5]}.{cnpj[5:8]}/{cnpj[8:12]}-{cnpj[12:]}"
    assert [s["id"] for s in ops.ok("list_shops", search=formatted)["shops"]] == [maria.tenant_id]
    assert [s["id"] for s in ops.ok("list_shops", search=other.email.upper())["shops"]] == [other.tenant_id]

    # And by a staff member's e-mail (support gets mail from employees too)
    staff = f"tecnico-{tag}@exemplo.com.br"
    status, body, _ = client.call(
        "POST",
        "/users",
        joao.access_token,
        body={"email": staff, "name": "Técnico", "role": "technician", "password": "senha-do-time"},
    )
    assert status == 201, body
    assert [s["id"] for s in ops.ok("list_shops", search=staff)["shops"]] == [joao.tenant_id]

    # LIKE's wildcards typed in a search match themselves, not every shop
    assert ops.ok("list_shops", search=f"{tag}%")["shops"] == []
    assert ops.ok("list_shops", search="_")["shops"] == []


def test_list_pages_with_a_cursor(client: Client, ops: Ops) -> None:
    tag = uuid.uuid4().hex[:6]
    shops = [_named(client, f"Loja {tag} {n}") for n in range(5)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        args: dict[str, Any] = {"search": tag, "limit": 2}
        if cursor:
            args["cursor"] = cursor
        page = ops.ok("list_shops", **args)
        seen += [s["id"] for s in page["shops"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == [s.tenant_id for s in reversed(shops)]


def test_show_finds_a_shop_by_id_cnpj_or_email_and_tells_its_state(
    client: Client, ops: Ops, platform: Platform, database: PgDatabase
) -> None:
    from tests.integration.shop_helpers import open_order

    # Given a provisioned shop with an order
    shop = signup(client)
    platform.provision(shop)
    open_order(client, shop)

    # When the operator shows it, by each of its references
    by_id = ops.ok("show_shop", shop=shop.tenant_id)
    by_cnpj = ops.ok("show_shop", shop=_cnpj(database, shop))
    by_email = ops.ok("show_shop", shop=f"  {shop.email.upper()} ")

    # Then each is the same shop, with its billing state, subscription, invoices and activity
    assert by_id == by_cnpj == by_email
    assert by_id["shop"]["id"] == shop.tenant_id
    assert by_id["shop"]["billing_status"] == "trial"
    sub = by_id["subscription"]
    assert sub["plan"] == "essencial"
    assert sub["asaas_subscription_id"] == platform.subscription_of(shop)["id"]
    assert sub["cancelled_at"] is None
    assert by_id["invoices"]["open"] == 1
    assert by_id["invoices"]["open_cents"] == 7990
    assert [i["status"] for i in by_id["invoices"]["latest"]] == ["pending"]
    assert by_id["users"] == {"total": 1, "active": 1}
    assert by_id["orders"] == {"total": 1, "open": 1}
    assert by_id["last_activity"]["session_at"] is not None  # signup signed the owner in
    assert by_id["last_activity"]["change_at"] is not None

    # And each showing is in the operator's audit log, about that shop
    entries = ops.entries(shop.tenant_id)
    assert [(e["command"], e["outcome"], e["operator"], e["origin"]) for e in entries] == [
        ("show_shop", "ok", OPERATOR, "function")
    ] * 3
    assert entries[0]["args"] == {"shop": f"  {shop.email.upper()} "}
    assert entries[0]["finished_at"] is not None


# --- reopening a cancelled shop --------------------------------------------------------------------
def test_reopening_a_shop_whose_cancellation_took_effect_makes_it_pay_again(
    client: Client, ops: Ops, platform: Platform, database: PgDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistec.services.billing import common as billing_common

    # Given a provisioned shop that cancelled during its trial, closed by the daily run at its end
    shop = signup(client)
    platform.provision(shop)
    version = _billing(client, shop)["version"]
    cancelled = _ok(client.call("POST", "/billing/cancel", shop.access_token, body={"version": version}))
    platform.queue.drain()
    end = date.fromisoformat(cancelled["cancel_on"])
    monkeypatch.setattr(billing_common, "today_in_brazil", lambda: end)
    platform.worker.dunning.run(only=[UUID(shop.tenant_id)])
    assert client.call("GET", "/customers", shop.access_token)[1]["code"] == "subscription_cancelled"
    old = platform.subscription_of(shop)  # deleted at Asaas by the cancellation
    # (subscription_of finds exactly one: the deleted one)
    assert old["deleted"] is True

    # When the operator reopens it (by its CNPJ)
    result = ops.ok("reopen_shop", shop=_cnpj(database, shop))
    platform.queue.drain()  # Asaas's PAYMENT_CREATED for the new invoice: nothing more to do

    # Then a second Asaas subscription exists (the first stays deleted), due from today
    subscriptions = [
        s
        for s in platform.account().subscriptions.values()
        if s["externalReference"] == f"assistec-shop:{shop.tenant_id}"
    ]
    assert sorted(s["deleted"] for s in subscriptions) == [False, True]
    live = next(s for s in subscriptions if not s["deleted"])
    [first_invoice] = [p for p in platform.account().payments.values() if p.get("subscription") == live["id"]]
    assert first_invoice["dueDate"] == end.isoformat()
    # And the shop's cancellation is cleared, it is a trial shop that owes its first invoice today
    # (it never paid), and it works again
    assert result["reopened"]["status"] == {"from": "cancelled", "to": "trial"}
    assert result["reopened"]["first_due"] == end.isoformat()
    row = _subscription(database, shop)
    assert (row["cancelled_at"], row["cancel_on"], row["billing_status"]) == (None, None, "trial")
    assert row["asaas_subscription_id"] == live["id"]
    assert row["next_due_date"] == end
    _ok(client.call("GET", "/customers", shop.access_token))
    billing = _billing(client, shop)
    owed = [(i["due_date"], i["status"]) for i in billing["invoices"] if i["status"] != "cancelled"]
    assert owed == [(end.isoformat(), "pending")]
    # And paying that invoice makes it a paying shop, as any other
    platform.pay(first_invoice["id"])
    assert _billing(client, shop)["status"] == "active"

    # And both audit logs tell it: the operator's, and the shop's own
    [entry] = [e for e in ops.entries(shop.tenant_id) if e["command"] == "reopen_shop"]
    assert (entry["outcome"], entry["operator"]) == ("ok", OPERATOR)
    assert entry["detail"]["status"] == {"from": "cancelled", "to": "trial"}
    with psycopg.connect(database.superuser_url) as conn:
        actions = [
            r[0]
            for r in conn.execute(
                "select action from audit_log where tenant_id = %s order by id", (shop.tenant_id,)
            ).fetchall()
        ]
    assert "subscription_reopened" in actions


def test_reopening_a_shop_still_in_its_paid_period_keeps_the_period(
    client: Client, ops: Ops, platform: Platform, database: PgDatabase
) -> None:
    # Given a trial shop that cancelled: access until the trial's end, no subscription at Asaas
    shop = signup(client)
    platform.provision(shop)
    before = _billing(client, shop)
    _ok(client.call("POST", "/billing/cancel", shop.access_token, body={"version": before["version"]}))
    platform.queue.drain()

    # When support reopens it (the owner changed their mind)
    result = ops.ok("reopen_shop", shop=shop.tenant_id)
    platform.queue.drain()

    # Then its first invoice is still due at the trial's end: the shop loses no day it had
    assert result["reopened"]["status"] == {"from": "trial", "to": "trial"}
    assert result["reopened"]["first_due"] == before["trial_ends_on"]
    billing = _billing(client, shop)
    assert (billing["cancel_on"], billing["provisioned"]) == (None, True)
    assert billing["next_due_date"] == before["trial_ends_on"]
    # And it can change plan again (a cancelled subscription cannot)
    _ok(
        client.call(
            "PUT",
            "/billing/plan",
            shop.access_token,
            body={"plan": "profissional", "version": billing["version"]},
        )
    )


def test_a_shop_cancelled_in_arrears_pays_its_old_invoice_before_it_is_reopened(
    client: Client, ops: Ops, platform: Platform, database: PgDatabase
) -> None:
    # Given a shop 12 days late (suspended) that cancelled: closed at once, the invoice still owed
    shop = signup(client)
    platform.provision(shop)
    first = platform.payments_of(shop)[0]["id"]
    platform.overdue(first, days=12)
    billing = _billing(client, shop)
    _ok(client.call("POST", "/billing/cancel", shop.access_token, body={"version": billing["version"]}))
    assert _billing(client, shop)["status"] == "cancelled"
    before = _subscription(database, shop)
    subscriptions = len(platform.account().subscriptions)

    # When support tries to reopen it
    error = ops.refused("reopen_shop", shop=shop.email)

    # Then it is refused, naming the invoice to pay and its link; nothing changed
    assert error["code"] == "unpaid_invoices"
    [owed] = error["details"]["invoices"]
    assert (owed["id"], owed["value_cents"]) == (first, 7990)
    assert owed["invoice_url"]
    assert _subscription(database, shop) == before
    assert len(platform.account().subscriptions) == subscriptions

    # When the shop pays it (applied by the platform webhook as ever), support reopens it
    platform.pay(first)
    assert _billing(client, shop)["status"] == "cancelled"
    result = ops.ok("reopen_shop", shop=shop.email)
    platform.queue.drain()

    # Then it is a paying shop again, with a new subscription
    assert result["reopened"]["status"] == {"from": "cancelled", "to": "active"}
    _ok(client.call("GET", "/customers", shop.access_token))


def test_reopen_refuses_a_shop_that_is_not_cancelled_and_changes_nothing(
    client: Client, ops: Ops, platform: Platform, database: PgDatabase
) -> None:
    shop = signup(client)
    platform.provision(shop)
    before = _subscription(database, shop)
    subscriptions = len(platform.account().subscriptions)

    error = ops.refused("reopen_shop", shop=shop.tenant_id)

    assert error["code"] == "not_cancelled"
    assert "trial" in error["message"]
    assert _subscription(database, shop) == before
    assert len(platform.account().subscriptions) == subscriptions
    [entry] = ops.entries(shop.tenant_id)
    assert (entry["command"], entry["outcome"]) == ("reopen_shop", "refused")
    assert entry["detail"]["error"]["code"] == "not_cancelled"


def test_reopen_with_asaas_down_changes_nothing_and_can_be_retried(
    client: Client, ops: Ops, platform: Platform, database: PgDatabase
) -> None:
    # Given a cancelled shop
    shop = signup(client)
    platform.provision(shop)
    version = _billing(client, shop)["version"]
    _ok(client.call("POST", "/billing/cancel", shop.access_token, body={"version": version}))
    platform.queue.drain()
    before = _subscription(database, shop)

    # When Asaas does not answer
    platform.sim.fail_next = [503] * 8
    error = ops.refused("reopen_shop", shop=shop.tenant_id)

    # Then the operator is told, nothing changed here (the lease is given back)
    assert error["code"] == "asaas_unavailable"
    after = _subscription(database, shop)
    assert {k: v for k, v in after.items() if k != "provisioning_until"} == {
        k: v for k, v in before.items() if k != "provisioning_until"
    }
    assert after["provisioning_until"] is None
    [entry] = ops.entries(shop.tenant_id)
    assert (entry["outcome"], entry["detail"]["error"]["code"]) == ("failed", "asaas_unavailable")
    # And once Asaas is back, the same command reopens it
    platform.sim.fail_next = []
    assert ops.ok("reopen_shop", shop=shop.tenant_id)["reopened"]["status"]["to"] == "trial"


# --- provisioning ---------------------------------------------------------------------------------
def test_provision_runs_the_consumers_provisioning_once(client: Client, ops: Ops, platform: Platform) -> None:
    # Given a shop whose ShopSignedUp never reached the consumer
    shop = signup(client)
    assert _billing(client, shop)["provisioned"] is False

    # When the operator provisions it
    result = ops.ok("provision", shop=shop.tenant_id)
    platform.queue.drain()

    # Then its Asaas customer and subscription exist, once, and it shows as provisioned
    assert result["outcome"] == "provisioned"
    assert result["shop"]["subscription"]["asaas_subscription_id"] == platform.subscription_of(shop)["id"]
    assert _billing(client, shop)["provisioned"] is True
    # Again: nothing new at Asaas
    assert ops.ok("provision", shop=shop.tenant_id)["outcome"] == "already_provisioned"
    assert platform.subscription_of(shop)  # exactly one
    assert [e["outcome"] for e in ops.entries(shop.tenant_id)] == ["ok", "ok"]


def test_provision_refuses_a_cancelled_shop_and_reports_asaas_refusals(
    client: Client, ops: Ops, platform: Platform
) -> None:
    shop = signup(client)
    platform.provision(shop)
    version = _billing(client, shop)["version"]
    _ok(client.call("POST", "/billing/cancel", shop.access_token, body={"version": version}))
    assert ops.refused("provision", shop=shop.tenant_id)["code"] == "cancelled"

    refused = signup(client)
    platform.sim.fail_next = [400]
    error = ops.refused("provision", shop=refused.tenant_id)
    assert error["code"] == "asaas_refused"
    assert error["details"]["provision_error"]
    [entry] = ops.entries(refused.tenant_id)
    assert (entry["command"], entry["outcome"]) == ("provision", "failed")


def test_provision_without_the_platform_account_fails_clearly(client: Client, ops: Ops) -> None:
    from assistec.integrations.platform import PlatformAccount

    shop = signup(client)
    ops.root.platform_account = lambda: PlatformAccount(api_key="", webhook_token="")
    error = ops.refused("provision", shop=shop.tenant_id)
    assert error["code"] == "platform_account_missing"
    assert ops.entries()[0]["outcome"] == "failed"


# --- bad input --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("command", "args", "code"),
    [
        ("drop_everything", {}, "unknown_command"),
        ("list_shops", {"limit": 0}, "invalid_args"),
        ("list_shops", {"limit": "many"}, "invalid_args"),
        ("list_shops", {"status": "deleted"}, "invalid_args"),
        ("list_shops", {"search": "x" * 201}, "invalid_args"),
        ("list_shops", {"cursor": "yesterday,someone"}, "invalid_args"),
        ("list_shops", {"tenant": "x"}, "invalid_args"),
        ("show_shop", {}, "invalid_args"),
        ("show_shop", {"shop": ""}, "invalid_args"),
        ("show_shop", {"shop": str(uuid.uuid4())}, "shop_not_found"),
        ("show_shop", {"shop": "ninguem@exemplo.com.br"}, "shop_not_found"),
        ("reopen_shop", {"shop": "not a reference"}, "shop_not_found"),
        ("signing_key_status", {"force": True}, "invalid_args"),
        ("audit", {"action": "Drop Table", "outcome": "ok"}, "invalid_args"),
        ("audit", {"action": "dlq_replay", "outcome": "maybe"}, "invalid_args"),
        (
            "audit",
            {"action": "dlq_replay", "outcome": "ok", "details": {"x": "y" * 20_000}},
            "details_too_large",
        ),
    ],
)
def test_bad_input_is_refused_clearly_and_recorded(
    ops: Ops, command: str, args: dict[str, Any], code: str
) -> None:
    # When the console sends a bad command or bad arguments
    answer = ops.run(command, **args)
    # Then the answer says what is wrong, and the refusal is recorded against the operator
    assert answer["ok"] is False
    assert answer["error"]["code"] == code
    assert answer["error"]["message"]
    [latest] = ops.entries()[:1]
    assert latest["id"] == answer["audit_id"]
    assert (latest["outcome"], latest["operator"]) == ("refused", OPERATOR)


def test_an_ambiguous_reference_names_the_shops(client: Client, ops: Ops, database: PgDatabase) -> None:
    first, second = signup(client), signup(client)
    shared = f"financeiro-{uuid.uuid4().hex[:6]}@exemplo.com.br"
    with psycopg.connect(database.superuser_url) as conn:
        conn.execute(
            "update tenants set email = %s where id in (%s, %s)", (shared, first.tenant_id, second.tenant_id)
        )
    error = ops.refused("show_shop", shop=shared)
    assert error["code"] == "ambiguous_shop"
    assert sorted(error["details"]["shops"]) == sorted([first.tenant_id, second.tenant_id])


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"command": "list_shops"},  # no operator
        {"command": "list_shops", "operator": ""},
        {"command": "list_shops", "operator": OPERATOR, "args": []},
        {"command": "list_shops", "operator": OPERATOR, "extra": 1},
    ],
)
def test_a_malformed_request_runs_nothing_and_records_nothing(ops: Ops, event: dict[str, Any]) -> None:
    from assistec.handlers import ops as handler

    before = len(ops.entries())
    answer = handler.handler(event, LambdaContext(function_name="assistec-ops"))
    assert (answer["ok"], answer["error"]["code"]) == (False, "invalid_request")
    assert len(ops.entries()) == before


def test_an_operator_with_control_characters_is_refused_unrecorded(ops: Ops) -> None:
    before = len(ops.entries())
    error = ops.refused("list_shops", operator="arn:aws:iam::1:user/x\nforged line")
    assert error["code"] == "invalid_operator"
    assert len(ops.entries()) == before


# --- the operator's audit log ------------------------------------------------------------------------
def test_the_console_records_its_own_actions_and_reads_the_log(client: Client, ops: Ops) -> None:
    shop = signup(client)
    # When the console reports a DLQ replay it did, and a backup of one shop
    replay = ops.ok(
        "audit",
        action="dlq_replay",
        outcome="ok",
        details={"queue": "payments", "moved": 3, "message_ids": ["a", "b", "c"]},
    )
    backup = ops.ok("audit", action="backup_run", outcome="failed", shop=shop.email, details={"error": "x"})
    # Then both are in the log, as the console's (origin), with their details and the shop resolved
    entries = ops.entries()
    by_id = {e["id"]: e for e in entries}
    assert by_id[replay["recorded"]]["command"] == "dlq_replay"
    assert by_id[replay["recorded"]]["origin"] == "console"
    assert by_id[replay["recorded"]]["detail"]["moved"] == 3
    assert by_id[backup["recorded"]]["shop_id"] == UUID(shop.tenant_id)
    assert by_id[backup["recorded"]]["outcome"] == "failed"
    # And audit_log lists the latest entries, newest first, and one shop's
    log = ops.ok("audit_log", limit=3)
    assert [e["command"] for e in log] == ["audit_log", "backup_run", "dlq_replay"]  # itself, started
    assert (log[0]["outcome"], log[1]["id"], log[2]["id"]) == (
        "started",
        backup["recorded"],
        replay["recorded"],
    )
    assert [e["command"] for e in ops.ok("audit_log", shop=shop.tenant_id)] == ["backup_run"]


def test_only_the_definer_functions_write_the_log_and_the_app_role_cannot_read_it(
    ops: Ops, database: PgDatabase
) -> None:
    ops.ok("list_shops", limit=1)
    with psycopg.connect(database.app_url, prepare_threshold=None) as conn:
        for statement in (
            "select count(*) from ops_audit",
            "insert into ops_audit (operator, command, origin, outcome) values ('x', 'y', 'console', 'ok')",
            "update ops_audit set outcome = 'ok'",
            "delete from ops_audit",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
                conn.execute(statement)
        # A finished entry is never finished again (its outcome stands)
        [latest] = ops.entries()[:1]
        with conn.transaction():
            row = conn.execute(
                "select ops_finish(%s, 'failed', null, '{}'::jsonb)", (latest["id"],)
            ).fetchone()
        assert row == (False,)
    assert ops.entries()[0]["outcome"] == "ok"


# --- the signing key --------------------------------------------------------------------------------
def _token_for(client: Client, shop: Shop) -> str:
    status, body, _ = client.call(
        "POST", "/auth/login", body={"email": shop.email, "password": shop.password}
    )
    assert status == 200, body
    return str(body["access_token"])


def test_rotating_the_signing_key_in_two_steps_signs_nobody_out(
    client: Client, ops: Ops, api_root: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistec.handlers import authorizer
    from assistec.integrations import signing_key as provider
    from assistec.settings import AuthorizerSettings

    # Given the API and the authorizer reading the key from its secret (as deployed), and an owner
    monkeypatch.setattr(provider, "secret_string", lambda _secret_id: ops.secret.value)
    monkeypatch.delenv("AUTH_SIGNING_KEY", raising=False)
    monkeypatch.setenv("AUTH_SECRET_ID", "arn:aws:secretsmanager:sa-east-1:111111111111:secret:auth")
    monkeypatch.setattr(authorizer, "authorizer_settings", lambda: AuthorizerSettings())
    monkeypatch.setattr(authorizer, "_key", None)
    api_root.signing_key = provider.SigningKeyProvider(AuthorizerSettings())
    shop = signup(client)
    old_token = _token_for(client, shop)
    assert ops.ok("signing_key_status")["format"] == "plain"

    # When the operator stages a new key
    staged = ops.ok("signing_key_stage")
    # Then nothing signs with it yet, and the old token still works
    assert (staged["staged"], staged["promote_wait_s"]) == (True, 330)
    assert authorize(old_token)["tenant_id"] == shop.tenant_id
    assert SIGNING_KEY not in json.dumps(staged)  # no key material in the answer

    # And promoting it before every cache has read it is refused, saying how long to wait
    ops.clock.now += timedelta(seconds=100)
    error = ops.refused("signing_key_promote")
    assert (error["code"], error["details"]["wait_s"]) == ("too_early", 230)

    # When it is promoted in time
    ops.clock.now += timedelta(seconds=230)
    promoted = ops.ok("signing_key_promote")
    # Then new tokens are signed with the new key, and the old token is still accepted (until it expires)
    assert promoted["keys_accepted"] == 2
    new_token = _token_for(client, shop)
    assert authorize(new_token)["tenant_id"] == shop.tenant_id
    assert authorize(old_token)["tenant_id"] == shop.tenant_id
    ring = json.loads(ops.secret.value)
    assert ring["previous"] == SIGNING_KEY
    assert ring["current"] != SIGNING_KEY
    assert len(ring["current"]) >= 32

    # When the key is replaced at once (it leaked)
    ops.ok("signing_key_replace")
    # Then every token signed before is refused; a new login works
    for token in (old_token, new_token):
        with pytest.raises(Exception, match="Unauthorized"):
            authorize(token)
    assert authorize(_token_for(client, shop))["tenant_id"] == shop.tenant_id
    commands = [e["command"] for e in ops.entries()[:4]]
    assert commands == [
        "signing_key_replace",
        "signing_key_promote",
        "signing_key_promote",
        "signing_key_stage",
    ]
    assert [e["outcome"] for e in ops.entries()[:4]] == ["ok", "ok", "refused", "ok"]


def test_staging_twice_is_refused_and_keeps_the_staged_key(ops: Ops) -> None:
    ops.ok("signing_key_stage")
    staged = ops.secret.value
    assert ops.refused("signing_key_stage")["code"] == "already_staged"
    assert ops.secret.value == staged
    assert ops.refused("signing_key_promote")["code"] == "too_early"
    assert ops.secret.value == staged


# --- the console and the function agree -------------------------------------------------------------
def test_the_console_renders_what_the_function_answers(client: Client, ops: Ops, platform: Platform) -> None:
    import io

    from rich.console import Console

    from assistec_ops import cli
    from assistec_ops.aws import Target

    class InProcess:
        """The stage with the ops function invoked in-process (the handler, as Lambda would)."""

        operator = OPERATOR

        def __init__(self, target: Target) -> None:
            self.target = target
            self.outputs = {"OpsFunctionName": "ops"}

        def invoke(self, command: str, args: dict[str, Any]) -> dict[str, Any]:
            return ops.run(command, **args)

        def invoke_function(self, output: str, payload: dict[str, Any]) -> dict[str, Any]:
            raise AssertionError(output)

        def client(self, service: str, **config: Any) -> Any:
            raise AssertionError(service)

    def console(*argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = cli.main(
            list(argv),
            backend=InProcess,
            out=Console(file=out, width=250, color_system=None),
            err=Console(file=err, width=250, color_system=None),
            ask=lambda _q: False,
        )
        return code, out.getvalue(), err.getvalue()

    # Given a provisioned shop
    tag = uuid.uuid4().hex[:6]
    shop = _named(client, f"Oficina do Console {tag}")
    platform.provision(shop)

    # The list as a table and as JSON, the shop shown, the key's state and the log: all render
    code, out, _ = console("shops", "list", "--search", tag)
    assert code == 0
    assert f"Oficina do Console {tag}" in out
    code, out, _ = console("--json", "shops", "list", "--search", tag)
    assert [s["id"] for s in json.loads(out)["shops"]] == [shop.tenant_id]
    code, out, _ = console("shops", "show", shop.email)
    assert code == 0
    assert "Essencial (R$ 79,90/month)" in out
    assert "1 active of 1" in out
    code, out, _ = console("keys", "status")
    assert (code, "plain" in out) == (0, True)
    code, out, _ = console("audit", "--shop", shop.tenant_id)
    assert code == 0
    assert "show_shop" in out
    # A refusal: exit code 1 and the function's error
    code, _, err = console("shops", "reopen", shop.tenant_id, "--yes")
    assert code == 1
    assert "not_cancelled" in err
