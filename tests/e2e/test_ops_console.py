"""The ops console against the deployed local stack (issue 13 §5): the operator's command line, run as
a subprocess exactly as an operator runs it, finds the stage from its CloudFormation outputs, runs
its shop commands in the ops function, moves a dead-letter message back to its queue, and exports,
verifies and scratch-restores a shop's bundle in the backup bucket (through S3, KMS and the ops role's
connection as deployed), each recorded in the operator audit log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _console(*args: str, timeout_s: float = 180) -> subprocess.CompletedProcess[str]:
    """``python -m assistec_ops --stage local ...`` from the repository, as `make ops` runs it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "infra"), "COLUMNS": "240"}
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"):
        env.pop(name, None)  # the local stage brings its own (LocalStack's test credentials)
    return subprocess.run(
        [sys.executable, "-m", "assistec_ops", "--stage", "local", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        # No terminal: a question (a restore's confirmation) is answered "not confirmed", never waited on
        stdin=subprocess.DEVNULL,
        timeout=timeout_s,
        check=False,
    )


def _json(*args: str, timeout_s: float = 180) -> Any:
    done = _console("--json", *args, timeout_s=timeout_s)
    assert done.returncode == 0, (done.stdout, done.stderr)
    return json.loads(done.stdout)


def test_shops_list_shows_the_demo_shop(stack: dict[str, Any]) -> None:
    # When the operator lists the shops, as a table
    done = _console("shops", "list", "--search", stack["demo_email"])
    # Then the demo shop is there, with its billing state
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert "Assistência Técnica Demo" in done.stdout
    # And the same as JSON: one shop, the demo's, found by its owner's e-mail
    found = _json("shops", "list", "--search", stack["demo_email"])
    [shop] = found["shops"]
    assert shop["email"] == stack["demo_email"]
    assert shop["billing_status"] in ("trial", "active")
    # And showing it by that e-mail tells its subscription and activity
    shown = _json("shops", "show", stack["demo_email"])
    assert shown["shop"]["id"] == shop["id"]
    assert shown["users"]["total"] >= 1
    assert shown["orders"]["total"] >= 1  # `make up` seeds an order
    # And both are in the operator audit log, under the caller's identity (LocalStack's root)
    entries = _json("audit", "--limit", "10")
    commands = [(e["command"], e["outcome"]) for e in entries]
    assert ("show_shop", "ok") in commands
    assert ("list_shops", "ok") in commands
    assert all(e["operator"].startswith("arn:aws:") for e in entries)


def test_a_bad_reference_is_refused_with_exit_code_1(stack: dict[str, Any]) -> None:
    done = _console("shops", "show", f"nobody-{uuid.uuid4().hex[:6]}@exemplo.com.br")
    assert done.returncode == 1
    assert "shop_not_found" in done.stderr


def test_dlq_replay_moves_a_planted_message_back_to_its_queue(stack: dict[str, Any], aws: Any) -> None:
    sqs = aws("sqs")
    dlq = stack["payments_dlq_url"]
    # Given a message in the payments DLQ (a platform event nobody stored: the consumer applies it as
    # "unknown_event_id", changing nothing, when it comes back)
    body = json.dumps({"platform_event_id": f"e2e-ops-{uuid.uuid4().hex}"})
    planted = sqs.send_message(QueueUrl=dlq, MessageBody=body)["MessageId"]

    # The console lists it among the stage's DLQs
    listed = {row["name"]: row for row in _json("dlq", "list")}
    assert {"payments", "reconcile", "whatsapp", "whatsapp-send", "calendar", "mail-events"} <= set(listed)
    assert listed["payments"]["dlq_url"] == dlq
    assert listed["payments"]["dlq"]["visible"] + listed["payments"]["dlq"]["in_flight"] >= 1

    # A dry run shows it and moves nothing
    shown = _json("dlq", "replay", "payments", "--id", planted, "--dry-run")
    assert [m["message_id"] for m in shown["messages"]] == [planted]
    assert json.loads(shown["messages"][0]["body"]) == json.loads(body)
    assert shown["moved"] == 0

    # When the operator replays it
    moved = _json("dlq", "replay", "payments", "--id", planted, "--yes")

    # Then it left the DLQ for the payments queue (a new message there, the same body)
    assert (moved["moved"], moved["failed"], moved["message_ids"]) == (1, 0, [planted])
    assert moved["source_url"] == stack["payments_queue_url"]
    assert _absent_from(sqs, dlq, planted)
    # And the replay is in the operator audit log, with what it moved
    entries = _json("audit", "--limit", "20")
    [entry] = [
        e for e in entries if e["command"] == "dlq_replay" and planted in e["detail"].get("message_ids", [])
    ]
    assert (entry["origin"], entry["outcome"]) == ("console", "ok")


def test_backup_export_then_verify_then_scratch_of_the_demo_shop(stack: dict[str, Any]) -> None:
    email = stack["demo_email"]
    shop_id = _json("shops", "show", email)["shop"]["id"]

    # When the operator exports the demo shop now
    exported = _json("backup", "export", email, timeout_s=600)
    # Then its bundle is stored under the shop's manual prefix (never a nightly key), and copied
    key = exported["key"]
    assert key.startswith(f"manual/{shop_id}/"), key
    assert key.endswith(".bundle"), key
    assert exported["rows"] > 0
    assert exported["bytes"] > 0
    assert exported["copied"] is True
    assert {t["name"] for t in exported["tables"]} >= {"tenants", "customers", "service_orders"}

    # And the shop's list has it, tagged for the manual retention, with its size
    listed = _json("backup", "list", email)
    assert listed["shop"]["id"] == shop_id
    [bundle] = [b for b in listed["bundles"] if b["key"] == key]
    assert (bundle["kind"], bundle["retention"], bundle["bytes"]) == ("manual", "manual", exported["bytes"])

    # When the operator verifies it (KMS opens its data key under the shop's context)
    verified = _json("backup", "verify", email, "--key", key, timeout_s=600)
    # Then its manifest is the export's, restorable into this database's schema
    assert verified["key"] == key
    assert verified["bundle_id"] == exported["bundle_id"]
    assert verified["rows"] == exported["rows"]
    assert verified["restorable_in_place"] is True
    # And as a table, the newest bundle by default
    done = _console("backup", "verify", email, "--latest", timeout_s=600)
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert "Bundle verified" in done.stdout

    # When the operator restores it into scratch tables (the ops role's connection, as deployed)
    scratch = _json("backup", "scratch", email, "--key", key, timeout_s=600)
    # Then it reads back as its manifest says
    assert (scratch["ok"], scratch["key"], scratch["rows"]) == (True, key, exported["rows"])

    # And a restore that is not confirmed (no terminal to type the shop's id in) restores nothing
    done = _console("backup", "restore", email, "--key", key, timeout_s=600)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "not confirmed" in done.stderr
    # And another shop's key, or none of its shape, is refused by the function (exit 1)
    done = _console("backup", "verify", email, "--key", f"manual/{uuid.uuid4()}/20260101T000000Z.bundle")
    assert done.returncode == 1
    assert "wrong_key" in done.stderr

    # And each command is in the operator audit log under the shop, finished ok (the refusal too)
    entries = _json("audit", "--shop", shop_id, "--limit", "50")
    done_ok = {(e["command"], e["outcome"]) for e in entries}
    assert {
        ("backup_export", "ok"),
        ("backup_list", "ok"),
        ("backup_verify", "ok"),
        ("backup_scratch", "ok"),
    } <= (done_ok)
    assert ("backup_verify", "refused") in done_ok
    assert not [e for e in entries if e["command"] == "backup_restore"], (
        "an unconfirmed restore reached the function"
    )
    [export_entry] = [e for e in entries if e["command"] == "backup_export" and e["detail"].get("key") == key]
    assert export_entry["detail"]["rows"] == exported["rows"]


def _absent_from(sqs: Any, url: str, message_id: str, timeout_s: float = 10) -> bool:
    """The message is not in the queue (received and released at once, so the DLQ is left as it was)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=1).get(
            "Messages", []
        )
        for message in messages:
            sqs.change_message_visibility(
                QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
        if all(m["MessageId"] != message_id for m in messages):
            return True
        time.sleep(1)
    return False
