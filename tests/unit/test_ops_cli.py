"""The ops console's command line (infra/assistec_ops): arguments, what it sends the ops function,
what it prints, confirmations, waits and exit codes, with a fake stage (no AWS); and the DLQ replay
against an in-memory SQS that keeps SQS's contract (receive hides, delete needs the receipt)."""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from rich.console import Console

from assistec_ops import cli
from assistec_ops import dlq as dlqs
from assistec_ops.aws import ConsoleError, Target
from assistec_ops.render import money

SHOP = {
    "id": "6e9b3369-76f8-4d30-8ca5-a9625666a48f",
    "name": "Assistência Técnica Demo",
    "cnpj": "11222333000181",
    "email": "dono@demo.example.com",
    "billing_status": "past_due",
    "plan": "essencial",
    "trial_ends_on": "2026-11-01",
    "next_due_date": "2026-11-15",
    "cancel_on": None,
    "provisioned": True,
    "provision_error": None,
    "created_at": "2026-10-18T10:00:00+00:00",
}
SHOWN = {
    "shop": {**SHOP, "phone": "+5511987654321"},
    "subscription": {
        "plan": "essencial",
        "plan_name": "Essencial",
        "price_cents": 7990,
        "trial_ends_on": "2026-11-01",
        "next_due_date": "2026-11-15",
        "past_due_since": "2026-11-15",
        "suspended_at": None,
        "cancelled_at": None,
        "cancel_on": None,
        "asaas_customer_id": "cus_1",
        "asaas_subscription_id": "sub_1",
        "provision_error": None,
        "version": 4,
    },
    "invoices": {
        "open": 1,
        "open_cents": 123456,
        "latest": [{"id": "pay_1", "due_date": "2026-11-15", "value_cents": 7990, "status": "overdue"}],
    },
    "users": {"total": 3, "active": 2},
    "orders": {"total": 10, "open": 4},
    "last_activity": {"change_at": "2026-11-20T12:00:00+00:00", "session_at": None},
}


@dataclass
class FakeStage:
    """The stage as the console sees it: outputs, the operator, the ops function's scripted answers
    (per command: a list, one per call; the last repeats), other functions and clients."""

    target: Target = field(default_factory=lambda: Target("local"))
    outputs: dict[str, str] = field(default_factory=lambda: {"OpsFunctionName": "ops"})
    operator: str = "arn:aws:iam::000000000000:root"
    answers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    functions: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    clients: dict[str, Any] = field(default_factory=dict)

    def invoke(self, command: str, args: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((command, args))
        if command == "audit":
            return {"ok": True, "result": {"recorded": len(self.calls)}, "audit_id": len(self.calls)}
        scripted = self.answers.get(command)
        if not scripted:
            raise AssertionError(f"unexpected command {command}")
        return scripted.pop(0) if len(scripted) > 1 else scripted[0]

    def invoke_function(self, output: str, payload: dict[str, Any]) -> dict[str, Any]:
        self.functions.append((output, payload))
        return {"tenant_id": payload["tenant_id"], "key": "backups/x.bin"}

    def client(self, service: str, **config: Any) -> Any:
        return self.clients[service]

    def commands(self) -> list[str]:
        return [c for c, _ in self.calls]


@dataclass
class Run:
    code: int
    out: str
    err: str
    sleeps: list[float]


def _run(
    stage: FakeStage,
    *argv: str,
    ask: Callable[[str], bool] = lambda _q: False,
    prompt: Callable[[str], str] = lambda _q: "",
) -> Run:
    out, err = io.StringIO(), io.StringIO()
    sleeps: list[float] = []
    code = cli.main(
        list(argv),
        backend=lambda target: _at(stage, target),
        out=Console(file=out, width=200, color_system=None),
        err=Console(file=err, width=200, color_system=None),
        ask=ask,
        prompt=prompt,
        sleep=sleeps.append,
    )
    return Run(code, out.getvalue(), err.getvalue(), sleeps)


def _at(stage: FakeStage, target: Target) -> FakeStage:
    stage.target = target
    return stage


def _ok(result: Any) -> dict[str, Any]:
    return {"ok": True, "result": result, "audit_id": 1}


def _refused(code: str, message: str, details: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return {"ok": False, "error": error, "audit_id": 7}


# --- arguments ----------------------------------------------------------------------------------
def test_the_stage_options_go_before_or_after_the_command() -> None:
    stage = FakeStage(answers={"list_shops": [_ok({"shops": [], "next_cursor": None})]})
    assert _run(stage, "--stage", "prod", "--region", "sa-east-1", "shops", "list").code == 0
    assert stage.target == Target("prod", None, "sa-east-1")
    assert _run(stage, "shops", "list", "--stage", "prod", "--profile", "ops").code == 0
    assert stage.target == Target("prod", "ops", None)
    assert _run(stage, "shops", "list").code == 0
    assert stage.target == Target("local")
    assert stage.target.stack_name == "assistec-local"


@pytest.mark.parametrize(
    "argv",
    [
        ["shops"],
        ["shops", "list", "--status", "deleted"],
        ["shops", "show"],
        ["dlq", "replay", "payments"],  # --id or --all
        ["dlq", "replay", "payments", "--id", "x", "--all"],
        ["keys", "rotate-signing", "--now", "--no-wait"],
        ["--stage", "staging", "shops", "list"],
        ["audit", "--limit", "many"],
    ],
)
def test_bad_arguments_are_a_usage_error(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        _run(FakeStage(), *argv)
    assert exited.value.code == 2


# --- shops ----------------------------------------------------------------------------------------
def test_shops_list_sends_the_filters_and_shows_a_table() -> None:
    stage = FakeStage(
        answers={"list_shops": [_ok({"shops": [SHOP], "next_cursor": "2026-10-18T10:00:00+00:00,x"})]}
    )
    run = _run(stage, "shops", "list", "--status", "past_due", "--search", "demo", "--limit", "5")
    assert run.code == 0
    assert stage.calls == [("list_shops", {"limit": 5, "status": "past_due", "search": "demo"})]
    for text in ("Assistência Técnica Demo", "11222333000181", "past_due", "essencial", "2026-11-15", "yes"):
        assert text in run.out
    assert "--cursor '2026-10-18T10:00:00+00:00,x'" in run.out


def test_shops_list_all_follows_the_cursor_and_prints_json() -> None:
    second = {**SHOP, "id": "b", "name": "Outra"}
    stage = FakeStage(
        answers={
            "list_shops": [
                _ok({"shops": [SHOP], "next_cursor": "c1"}),
                _ok({"shops": [second], "next_cursor": None}),
            ]
        }
    )
    run = _run(stage, "--json", "shops", "list", "--all", "--limit", "1")
    assert run.code == 0
    assert [args.get("cursor") for _, args in stage.calls] == [None, "c1"]
    assert [s["id"] for s in json.loads(run.out)["shops"]] == [SHOP["id"], "b"]


def test_shops_show_tells_billing_money_and_activity() -> None:
    stage = FakeStage(answers={"show_shop": [_ok(SHOWN)]})
    run = _run(stage, "shops", "show", "dono@demo.example.com")
    assert run.code == 0
    assert stage.calls == [("show_shop", {"shop": "dono@demo.example.com"})]
    for text in ("Essencial (R$ 79,90/month)", "1 (R$ 1.234,56)", "2 active of 3", "4 open of 10", "sub_1"):
        assert text in run.out
    assert "pay_1" in run.out


def test_a_refusal_is_shown_with_its_details_and_exits_1() -> None:
    refusal = _refused("ambiguous_shop", "more than one shop", {"shops": ["a", "b"]})
    stage = FakeStage(answers={"show_shop": [refusal]})
    run = _run(stage, "shops", "show", "financeiro@x.com")
    assert run.code == 1
    assert "ambiguous_shop: more than one shop" in run.err
    assert "- a" in run.err
    assert "audit entry 7" in run.err


def test_reopen_asks_first_and_does_nothing_unconfirmed() -> None:
    stage = FakeStage()
    run = _run(stage, "shops", "reopen", SHOP["id"], ask=lambda _q: False)
    assert run.code == 2
    assert "not confirmed" in run.err
    assert stage.calls == []


def test_reopen_confirmed_shows_what_changed() -> None:
    reopened = {
        "reopened": {
            "status": {"from": "cancelled", "to": "trial"},
            "first_due": "2026-12-01",
            "asaas_subscription_id": "sub_2",
        },
        "shop": SHOWN,
    }
    stage = FakeStage(answers={"reopen_shop": [_ok(reopened)]})
    asked: list[str] = []
    run = _run(stage, "shops", "reopen", SHOP["id"], ask=lambda q: asked.append(q) or True)
    assert run.code == 0
    assert "local" in asked[0]
    assert "reopened: cancelled → trial; first invoice due 2026-12-01; Asaas subscription sub_2" in run.out
    assert stage.calls == [("reopen_shop", {"shop": SHOP["id"]})]
    # --yes: no question
    stage.calls.clear()
    assert _run(stage, "shops", "reopen", SHOP["id"], "--yes", ask=lambda _q: pytest.fail("asked")).code == 0


def test_a_stage_without_the_ops_function_is_a_clear_error() -> None:
    class NotDeployed(FakeStage):
        def invoke(self, command: str, args: dict[str, Any]) -> dict[str, Any]:
            raise ConsoleError("assistec-local has no ops function yet (output OpsFunctionName): deploy")

    run = _run(NotDeployed(), "shops", "list")
    assert run.code == 2
    assert "no ops function yet" in run.err


# --- the signing key ----------------------------------------------------------------------------------
STAGED = {"format": "ring", "staged": True, "promote_wait_s": 4, "keys_accepted": 2}
ROTATED = {"format": "ring", "staged": False, "rotated_at": "2026-11-20T03:06:00+00:00", "keys_accepted": 2}


def test_rotate_stages_waits_for_the_caches_then_promotes() -> None:
    stage = FakeStage(
        answers={
            "signing_key_stage": [_ok(STAGED)],
            # The function's clock says a little more is needed: the console waits that too
            "signing_key_promote": [_refused("too_early", "wait", {"wait_s": 2}), _ok(ROTATED)],
        }
    )
    run = _run(stage, "keys", "rotate-signing", "--yes")
    assert run.code == 0
    assert stage.commands() == ["signing_key_stage", "signing_key_promote", "signing_key_promote"]
    assert run.sleeps == [1] * 6
    assert "Signing key rotated" in run.out


def test_rotate_resumes_a_staged_rotation_and_no_wait_stops_after_staging() -> None:
    stage = FakeStage(
        answers={
            "signing_key_stage": [_refused("already_staged", "staged")],
            "signing_key_status": [_ok({**STAGED, "promote_wait_s": 0})],
            "signing_key_promote": [_ok(ROTATED)],
        }
    )
    assert _run(stage, "keys", "rotate-signing", "--yes").code == 0
    assert stage.commands() == ["signing_key_stage", "signing_key_status", "signing_key_promote"]
    later = FakeStage(answers={"signing_key_stage": [_ok(STAGED)]})
    run = _run(later, "keys", "rotate-signing", "--yes", "--no-wait")
    assert run.code == 0
    assert later.commands() == ["signing_key_stage"]
    assert "run `keys promote` in 4 s" in run.out


def test_replacing_the_key_now_needs_confirmation_and_warns_of_the_impact() -> None:
    stage = FakeStage(answers={"signing_key_replace": [_ok(ROTATED)]})
    asked: list[str] = []
    run = _run(stage, "keys", "rotate-signing", "--now", ask=lambda q: asked.append(q) or False)
    assert run.code == 2
    assert stage.calls == []
    assert "sign in again" in asked[0]
    assert _run(stage, "keys", "rotate-signing", "--now", "--yes").code == 0
    assert stage.commands() == ["signing_key_replace"]


# --- dead-letter queues ------------------------------------------------------------------------------
@dataclass
class FakeSqs:
    """SQS's contract for what the console calls: received messages are hidden until deleted (with
    their receipt) or released; sends can be made to fail."""

    queues: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    redrive: dict[str, str] = field(default_factory=dict)  # source url -> DLQ arn
    hidden: set[str] = field(default_factory=set)
    fail_sends: bool = False
    ids: Any = field(default_factory=lambda: itertools.count(1))

    def add(self, url: str, body: str, attributes: dict[str, Any] | None = None) -> str:
        message_id = f"m{next(self.ids)}"
        self.queues.setdefault(url, []).append(
            {"MessageId": message_id, "Body": body, "MessageAttributes": attributes or {}, "receipts": 0}
        )
        return message_id

    def get_queue_attributes(self, QueueUrl: str, AttributeNames: list[str]) -> dict[str, Any]:
        attributes: dict[str, str] = {}
        if QueueUrl in self.redrive:
            attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": self.redrive[QueueUrl]})
        messages = self.queues.get(QueueUrl, [])
        attributes["ApproximateNumberOfMessages"] = str(
            sum(m["MessageId"] not in self.hidden for m in messages)
        )
        attributes["ApproximateNumberOfMessagesNotVisible"] = str(
            sum(m["MessageId"] in self.hidden for m in messages)
        )
        return {"Attributes": attributes}

    def get_queue_url(self, QueueName: str, QueueOwnerAWSAccountId: str) -> dict[str, Any]:
        return {"QueueUrl": f"https://sqs/{QueueOwnerAWSAccountId}/{QueueName}"}

    def receive_message(self, QueueUrl: str, MaxNumberOfMessages: int, **_: Any) -> dict[str, Any]:
        visible = [m for m in self.queues.get(QueueUrl, []) if m["MessageId"] not in self.hidden]
        taken = visible[:MaxNumberOfMessages]
        for message in taken:
            self.hidden.add(message["MessageId"])
            message["receipts"] += 1
        return {
            "Messages": [
                {**m, "ReceiptHandle": f"r:{m['MessageId']}", "Attributes": {"ApproximateReceiveCount": "5"}}
                for m in taken
            ]
        }

    def send_message(
        self, QueueUrl: str, MessageBody: str, MessageAttributes: dict[str, Any]
    ) -> dict[str, Any]:
        if self.fail_sends:
            raise ConnectionError("SQS unavailable")
        return {"MessageId": self.add(QueueUrl, MessageBody, MessageAttributes)}

    def delete_message(self, QueueUrl: str, ReceiptHandle: str) -> None:
        message_id = ReceiptHandle.removeprefix("r:")
        assert message_id in self.hidden, "deleted without being received"
        self.queues[QueueUrl] = [m for m in self.queues[QueueUrl] if m["MessageId"] != message_id]
        self.hidden.discard(message_id)

    def change_message_visibility(self, QueueUrl: str, ReceiptHandle: str, VisibilityTimeout: int) -> None:
        assert VisibilityTimeout == 0
        self.hidden.discard(ReceiptHandle.removeprefix("r:"))

    def bodies(self, url: str) -> list[str]:
        return [m["Body"] for m in self.queues.get(url, [])]


PAYMENTS = "https://sqs/000000000000/assistec-PaymentsEvents"
PAYMENTS_DLQ = "https://sqs/000000000000/assistec-PaymentsEventsDlq"
SEND = "https://sqs/000000000000/assistec-WhatsappSend"
SEND_DLQ = "https://sqs/000000000000/assistec-WhatsappSendDlq"


def _sqs_stage() -> tuple[FakeStage, FakeSqs]:
    sqs = FakeSqs(
        redrive={
            PAYMENTS: "arn:aws:sqs:us-east-1:000000000000:assistec-PaymentsEventsDlq",
            SEND: "arn:aws:sqs:us-east-1:000000000000:assistec-WhatsappSendDlq",
        }
    )
    outputs = {
        "OpsFunctionName": "ops",
        "PaymentsQueueUrl": PAYMENTS,
        "PaymentsDlqUrl": PAYMENTS_DLQ,
        "WhatsappSendQueueUrl": SEND,
        "EventBusName": "bus",
    }
    return FakeStage(outputs=outputs, clients={"sqs": sqs}), sqs


def test_dlq_list_pairs_each_queue_with_its_dlq_by_its_redrive_policy() -> None:
    stage, sqs = _sqs_stage()
    sqs.add(SEND_DLQ, "{}")
    run = _run(stage, "--json", "dlq", "list")
    assert run.code == 0
    rows = {r["name"]: r for r in json.loads(run.out)}
    assert set(rows) == {"payments", "whatsapp-send"}  # the send DLQ has no output: found by the policy
    assert rows["whatsapp-send"]["dlq_url"] == SEND_DLQ
    assert rows["whatsapp-send"]["dlq"] == {"visible": 1, "in_flight": 0}
    assert stage.calls == []  # counts only: nothing to record
    table = _run(stage, "dlq", "list").out
    assert "whatsapp-send" in table
    assert "assistec-WhatsappSendDlq" in table


def test_an_output_that_disagrees_with_the_redrive_policy_is_an_error() -> None:
    stage, _ = _sqs_stage()
    stage.outputs["PaymentsDlqUrl"] = SEND_DLQ
    run = _run(stage, "dlq", "list")
    assert run.code == 2
    assert "PaymentsDlqUrl" in run.err


def test_replay_one_message_moves_it_keeps_the_others_and_records_it() -> None:
    stage, sqs = _sqs_stage()
    first = sqs.add(PAYMENTS_DLQ, '{"event_id": "a"}')
    wanted = sqs.add(
        PAYMENTS_DLQ, '{"event_id": "b"}', {"kind": {"DataType": "String", "StringValue": "shop"}}
    )
    sqs.add(PAYMENTS_DLQ, '{"event_id": "c"}')

    run = _run(stage, "dlq", "replay", "payments", "--id", wanted, "--yes")

    assert run.code == 0, run.err
    assert sqs.bodies(PAYMENTS) == ['{"event_id": "b"}']
    assert sqs.queues[PAYMENTS][0]["MessageAttributes"] == {
        "kind": {"DataType": "String", "StringValue": "shop"}
    }
    assert sqs.bodies(PAYMENTS_DLQ) == ['{"event_id": "a"}', '{"event_id": "c"}']
    assert not sqs.hidden  # the others were released, not left hidden
    [(command, recorded)] = stage.calls
    assert command == "audit"
    assert (recorded["action"], recorded["outcome"]) == ("dlq_replay", "ok")
    assert recorded["details"]["message_ids"] == [wanted]
    assert recorded["details"]["moved"] == 1
    assert recorded["details"]["source_url"] == PAYMENTS
    assert "moved 1 message(s)" in run.out
    assert first != wanted


def test_replay_all_dry_run_shows_everything_and_moves_nothing() -> None:
    stage, sqs = _sqs_stage()
    for n in range(3):
        sqs.add(PAYMENTS_DLQ, json.dumps({"event_id": n}))
    run = _run(stage, "--json", "dlq", "replay", "payments", "--all", "--dry-run")
    assert run.code == 0
    shown = json.loads(run.out)
    assert [json.loads(m["body"])["event_id"] for m in shown["messages"]] == [0, 1, 2]
    assert (shown["moved"], shown["dry_run"]) == (0, True)
    assert len(sqs.bodies(PAYMENTS_DLQ)) == 3
    assert not sqs.hidden
    assert stage.calls[0][1]["details"]["dry_run"] is True


def test_replay_all_with_a_limit_and_confirmation() -> None:
    stage, sqs = _sqs_stage()
    for n in range(5):
        sqs.add(PAYMENTS_DLQ, json.dumps({"event_id": n}))
    assert _run(stage, "dlq", "replay", "payments", "--all").code == 2  # not confirmed
    assert len(sqs.bodies(PAYMENTS_DLQ)) == 5
    run = _run(stage, "dlq", "replay", "payments", "--all", "--limit", "2", ask=lambda _q: True)
    assert run.code == 0
    assert len(sqs.bodies(PAYMENTS)) == 2
    assert len(sqs.bodies(PAYMENTS_DLQ)) == 3
    assert not sqs.hidden


def test_a_failed_send_leaves_the_message_in_the_dlq_and_is_recorded_as_failed() -> None:
    stage, sqs = _sqs_stage()
    message = sqs.add(PAYMENTS_DLQ, "{}")
    sqs.fail_sends = True
    run = _run(stage, "dlq", "replay", "payments", "--id", message, "--yes")
    assert run.code == 1
    assert sqs.bodies(PAYMENTS_DLQ) == ["{}"]
    assert not sqs.hidden
    assert "not moved" in run.err
    assert stage.calls[0][1]["outcome"] == "failed"


def test_an_unknown_message_or_queue_is_reported() -> None:
    stage, sqs = _sqs_stage()
    sqs.add(PAYMENTS_DLQ, "{}")
    run = _run(stage, "dlq", "replay", "payments", "--id", "nope", "--yes")
    assert run.code == 1
    assert "no message nope" in run.err
    assert sqs.bodies(PAYMENTS_DLQ) == ["{}"]
    run = _run(stage, "dlq", "replay", "calendar", "--all", "--yes")
    assert run.code == 2
    assert "payments, whatsapp-send" in run.err


def test_queue_names_are_the_outputs_in_kebab_case() -> None:
    assert [dlqs.kebab(n) for n in ("Payments", "WhatsappSend", "MailEvents", "Reconcile")] == [
        "payments",
        "whatsapp-send",
        "mail-events",
        "reconcile",
    ]


# --- backups and the audit log --------------------------------------------------------------------------
def test_backup_run_says_when_the_stage_has_no_backups_yet() -> None:
    stage = FakeStage()
    for argv in (["backup", "run", "--all"], ["backup", "run", "x"]):
        run = _run(stage, *argv)
        assert run.code == 2
        assert "not deployed in local yet" in run.err
    assert stage.calls == []


def test_backup_run_resolves_the_shop_invokes_the_export_and_records_it() -> None:
    stage = FakeStage(
        outputs={"OpsFunctionName": "ops", "BackupExportFunctionName": "export"},
        answers={"show_shop": [_ok(SHOWN)]},
    )
    run = _run(stage, "backup", "run", "dono@demo.example.com", "--date", "2026-11-20")
    assert run.code == 0, run.err
    assert stage.functions == [("BackupExportFunctionName", {"tenant_id": SHOP["id"], "date": "2026-11-20"})]
    assert stage.calls[-1] == (
        "audit",
        {
            "action": "backup_run",
            "outcome": "ok",
            "details": {"date": "2026-11-20", "answer": {"tenant_id": SHOP["id"], "key": "backups/x.bin"}},
            "shop": SHOP["id"],
        },
    )


KEY = f"manual/{SHOP['id']}/20261124T150001Z.bundle"
NIGHTLY = f"shops/{SHOP['id']}/2026-11-23.bundle"
VERIFIED = {
    "key": KEY,
    "bytes": 1_534_000,
    "bundle_id": "0b7c8e0e-1d7f-4d35-9b0e-6c1f8a4e2a10",
    "shop_name": SHOP["name"],
    "created_at": "2026-11-24T15:00:01+00:00",
    "schema_version": 34,
    "database_version": 34,
    "restorable_in_place": True,
    "rows": 123_456,
    "tables": [
        {"name": "tenants", "rows": 1, "bytes": 200},
        {"name": "service_orders", "rows": 100_000, "bytes": 1_200_000},
    ],
    "excluded": ["refresh_tokens"],
}
RESTORED = {
    "key": KEY,
    "bundle_id": VERIFIED["bundle_id"],
    "schema_version": 34,
    "deleted": 100_310,
    "written": 123_455,
    "tables": [
        {"name": "audit_log", "deleted": None, "written": 12},
        {"name": "service_orders", "deleted": 100_300, "written": 100_000},
        {"name": "refresh_tokens", "deleted": 10, "written": None},
    ],
}


def test_backup_list_shows_each_bundle_with_its_size_retention_and_check() -> None:
    listed = {
        "shop": {"id": SHOP["id"], "name": SHOP["name"]},
        "bundles": [
            {"key": KEY, "kind": "manual", "day": None, "stored_at": "2026-11-24T15:00:02+00:00",
             "bytes": 1_534_000, "retention": "manual", "rows": None, "restore_checked_at": None,
             "restore_error": None},
            {"key": NIGHTLY, "kind": "nightly", "day": "2026-11-23", "stored_at": "2026-11-23T05:01:00+00:00",
             "bytes": 999, "retention": "daily", "rows": 4321,
             "restore_checked_at": "2026-11-24T08:00:00+00:00", "restore_error": "tampered"},
        ],
    }  # fmt: skip
    stage = FakeStage(answers={"backup_list": [_ok(listed)]})
    run = _run(stage, "backup", "list", "dono@demo.example.com")
    assert run.code == 0, run.err
    assert stage.calls == [("backup_list", {"shop": "dono@demo.example.com"})]
    for text in (KEY, NIGHTLY, "1.5 MB", "999 B", "manual", "daily", "4.321", "tampered", "2026-11-24 15:00"):
        assert text in run.out, text
    # And with --json, the answer as it came
    stage = FakeStage(answers={"backup_list": [_ok(listed)]})
    assert json.loads(_run(stage, "--json", "backup", "list", SHOP["id"]).out) == listed


def test_backup_export_shows_the_new_bundle_and_its_tables() -> None:
    exported = {
        "key": KEY, "bundle_id": VERIFIED["bundle_id"], "created_at": VERIFIED["created_at"],
        "schema_version": 34, "bytes": 1_534_000, "rows": 123_456, "copied": True,
        "tables": [{"name": "service_orders", "rows": 100_000}],
    }  # fmt: skip
    stage = FakeStage(answers={"backup_export": [_ok(exported)]})
    run = _run(stage, "backup", "export", SHOP["id"])
    assert run.code == 0, run.err
    assert stage.calls == [("backup_export", {"shop": SHOP["id"]})]
    assert f"exported {KEY}: 123.456 rows, 1.5 MB, schema version 34" in run.out
    assert "100.000" in run.out
    assert "not copied" not in run.out


@pytest.mark.parametrize(
    ("argv", "sent"),
    [
        ([], {"shop": SHOP["id"]}),
        (["--latest"], {"shop": SHOP["id"]}),
        (["--key", NIGHTLY], {"shop": SHOP["id"], "key": NIGHTLY}),
    ],
)
def test_backup_verify_sends_the_key_or_asks_for_the_newest_and_shows_the_manifest(
    argv: list[str], sent: dict[str, Any]
) -> None:
    stage = FakeStage(answers={"backup_verify": [_ok(VERIFIED)]})
    run = _run(stage, "backup", "verify", SHOP["id"], *argv)
    assert run.code == 0, run.err
    assert stage.calls == [("backup_verify", sent)]
    for text in (
        "Bundle verified",
        KEY,
        "2026-11-24 15:00",
        "123.456",
        "service_orders",
        "100.000",
        "1.2 MB",
    ):
        assert text in run.out, text


def test_backup_verify_of_a_bad_bundle_shows_the_refusal_and_exits_1() -> None:
    refusal = _refused("tampered", "O backup foi alterado", {"key": KEY})
    stage = FakeStage(answers={"backup_verify": [refusal]})
    run = _run(stage, "backup", "verify", SHOP["id"], "--key", KEY)
    assert run.code == 1
    assert "tampered: O backup foi alterado" in run.err
    assert f"key: {KEY}" in run.err
    assert "audit entry 7" in run.err


def test_a_bundle_of_another_schema_version_is_shown_as_not_restorable_in_place() -> None:
    older = {**VERIFIED, "schema_version": 33, "restorable_in_place": False}
    run = _run(FakeStage(answers={"backup_verify": [_ok(older)]}), "backup", "verify", SHOP["id"])
    assert run.code == 0
    assert "no: the database is at version 34" in run.out


def _restore_stage() -> FakeStage:
    return FakeStage(
        answers={
            "show_shop": [_ok(SHOWN)],
            "backup_verify": [_ok(VERIFIED)],
            "backup_restore": [_ok(RESTORED)],
        }
    )


@pytest.mark.parametrize("typed", [SHOP["id"], SHOP["name"].upper(), f"  {SHOP['name']} "])
def test_backup_restore_shows_the_bundle_asks_for_the_shop_and_shows_each_table(typed: str) -> None:
    stage = _restore_stage()
    asked: list[str] = []
    run = _run(stage, "backup", "restore", "dono@demo.example.com", "--key", KEY,
               prompt=lambda q: asked.append(q) or typed)  # fmt: skip
    assert run.code == 0, run.err
    # The shop resolved, its bundle verified and shown, the operator asked, then the restore, confirmed
    # with the shop's id
    assert stage.calls == [
        ("show_shop", {"shop": "dono@demo.example.com"}),
        ("backup_verify", {"shop": SHOP["id"], "key": KEY}),
        ("backup_restore", {"shop": SHOP["id"], "key": KEY, "confirm": SHOP["id"]}),
    ]
    [question] = asked
    assert SHOP["name"] in question
    assert "local" in question
    assert "signed out" in question
    assert "Bundle verified" in run.out
    # And the answer, table by table
    assert "Restored, table by table" in run.out
    assert "100.300" in run.out
    assert "100.310 rows deleted, 123.455 written" in run.out


@pytest.mark.parametrize("typed", ["", "yes", "y", "6e9b3369", "dono@demo.example.com"])
def test_backup_restore_not_confirmed_restores_nothing(typed: str) -> None:
    stage = _restore_stage()
    run = _run(stage, "backup", "restore", SHOP["id"], "--key", KEY, prompt=lambda _q: typed)
    assert run.code == 2
    assert "not confirmed" in run.err
    assert "backup_restore" not in stage.commands()


def test_backup_restore_yes_asks_nothing_and_a_bad_bundle_stops_before_asking() -> None:
    stage = _restore_stage()
    run = _run(stage, "backup", "restore", SHOP["id"], "--key", KEY, "--yes",
               prompt=lambda _q: pytest.fail("asked"))  # fmt: skip
    assert run.code == 0, run.err
    assert stage.commands() == ["show_shop", "backup_verify", "backup_restore"]
    # A bundle refused by the verification: exit 1, nothing asked, no restore
    stage = FakeStage(
        answers={"show_shop": [_ok(SHOWN)], "backup_verify": [_refused("wrong_key", "not this shop's")]}
    )
    run = _run(stage, "backup", "restore", SHOP["id"], "--key", KEY, prompt=lambda _q: pytest.fail("asked"))
    assert run.code == 1
    assert stage.commands() == ["show_shop", "backup_verify"]


def test_backup_scratch_shows_what_read_back_and_a_mismatch_exits_1() -> None:
    checked = {
        "key": NIGHTLY, "bundle_id": VERIFIED["bundle_id"], "ok": True, "problems": [], "rows": 4321,
        "tables": [{"name": "service_orders", "rows": 4000}], "recorded": True,
    }  # fmt: skip
    stage = FakeStage(answers={"backup_scratch": [_ok(checked)]})
    run = _run(stage, "backup", "scratch", SHOP["id"], "--key", NIGHTLY)
    assert run.code == 0, run.err
    assert stage.calls == [("backup_scratch", {"shop": SHOP["id"], "key": NIGHTLY})]
    assert "reads back as its manifest says (4.321 rows)" in run.out
    assert "recorded on the night's run" in run.out
    mismatch = _refused(
        "scratch_mismatch", "does not read back", {"key": NIGHTLY, "problems": ["orders: 1 row"]}
    )
    run = _run(FakeStage(answers={"backup_scratch": [mismatch]}), "backup", "scratch", SHOP["id"])
    assert run.code == 1
    assert "orders: 1 row" in run.err


@pytest.mark.parametrize(
    "argv",
    [
        ["backup", "restore", SHOP["id"]],  # --key is required
        ["backup", "verify", SHOP["id"], "--key", KEY, "--latest"],
        ["backup", "list"],
        ["backup", "export", SHOP["id"], "--date", "2026-11-20"],
        ["backup", "scratch", SHOP["id"], "--yes"],
    ],
)
def test_bad_backup_arguments_are_a_usage_error(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        _run(FakeStage(), *argv)
    assert exited.value.code == 2


def test_audit_lists_entries() -> None:
    entries = [
        {
            "id": 9,
            "at": "2026-11-20T10:00:00+00:00",
            "operator": "arn:aws:iam::1:user/ana",
            "command": "reopen_shop",
            "shop_id": SHOP["id"],
            "origin": "function",
            "outcome": "refused",
            "detail": {"error": {"code": "not_cancelled", "message": "the shop is not cancelled"}},
        },
        {
            "id": 8,
            "at": "2026-11-20T09:00:00+00:00",
            "operator": "arn:aws:iam::1:user/ana",
            "command": "dlq_replay",
            "shop_id": None,
            "origin": "console",
            "outcome": "ok",
            "detail": {"queue": "payments", "moved": 1, "message_ids": ["m1"]},
        },
    ]
    stage = FakeStage(answers={"audit_log": [_ok(entries)]})
    run = _run(stage, "audit", "--shop", SHOP["id"], "--limit", "5")
    assert run.code == 0
    assert stage.calls == [("audit_log", {"limit": 5, "shop": SHOP["id"]})]
    for text in (
        "reopen_shop",
        "not_cancelled: the shop is not cancelled",
        "queue=payments, moved=1",
        "user/ana",
    ):
        assert text in run.out


@pytest.mark.parametrize(
    ("cents", "text"),
    [(0, "R$ 0,00"), (7990, "R$ 79,90"), (123456789, "R$ 1.234.567,89"), (-50, "-R$ 0,50"), (None, "-")],
)
def test_money_is_shown_in_reais(cents: int | None, text: str) -> None:
    assert money(cents) == text
