"""python -m assistec_ops [--stage local|prod] [--profile P] [--region R] [--json] <group> <command>

    shops list [--status S] [--search Q] [--limit N] [--cursor C] [--all]
    shops show <shop>                  (a shop: its id, CNPJ, or the shop's or a user's e-mail)
    shops reopen <shop> [--yes]        a cancelled shop pays again (a new Asaas subscription)
    shops provision <shop>             the payments consumer's provisioning, run again
    dlq list [--queue NAME]            every dead-letter queue of the stage, with its count
    dlq replay <queue> (--id ID | --all) [--dry-run] [--limit N] [--yes]
    keys status                        the token-signing key's state (never the key)
    keys rotate-signing [--yes] [--no-wait | --now]
    keys promote                       finish a rotation staged with --no-wait
    backup run <shop> [--date D] | backup run --all [--date D]   the nightly export, now
    backup list <shop>                 the shop's stored bundles (nightly and manual)
    backup export <shop>               a bundle of the shop now (manual/<shop>/<time>.bundle)
    backup verify <shop> [--key K | --latest]    a stored bundle checked whole: its manifest
    backup restore <shop> --key K [--yes]        the bundle back over the shop's data (asks to type
                                                 the shop's id or name)
    backup scratch <shop> [--key K | --latest]   restored into scratch tables, compared, dropped
    audit [--limit N] [--shop S]       the operator audit log

The shop commands, the key, the backups and the audit log run in the stack's ops function (invoked
with the operator's AWS credentials; a restore may take minutes: the console waits up to the
function's 15-minute timeout); DLQ replays and the nightly flow are started from here and recorded
through it. Exit codes: 0 done, 1 the command was refused or failed, 2 usage or the stage (not
deployed, no credentials, not confirmed), 3 a function crashed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from assistec_ops import dlq as dlqs
from assistec_ops import render
from assistec_ops.aws import Aws, ConsoleError, Target

BACKUP_TZ = ZoneInfo("America/Sao_Paulo")
# The nightly export's function (``backup run``), by its stack output.
BACKUP_EXPORT_OUTPUT = "BackupExportFunctionName"


class Backend(Protocol):
    """The stage as the commands use it (``aws.Aws``; the tests' fake)."""

    target: Target

    @property
    def outputs(self) -> dict[str, str]: ...
    @property
    def operator(self) -> str: ...
    def invoke(self, command: str, args: dict[str, Any]) -> dict[str, Any]: ...
    def invoke_function(self, output: str, payload: dict[str, Any]) -> dict[str, Any]: ...
    def client(self, service: str, **config: Any) -> Any: ...


class Refused(Exception):
    """The ops function answered ``ok: false`` (shown already): exit code 1."""


class Context:
    """What a command runs with: the stage, where it prints, how it asks and waits."""

    def __init__(
        self,
        backend: Backend,
        args: argparse.Namespace,
        out: Console,
        err: Console,
        *,
        ask: Callable[[str], bool],
        sleep: Callable[[float], None],
        prompt: Callable[[str], str] = lambda _question: "",
    ) -> None:
        self.backend = backend
        self.args = args
        self.out = out
        self.err = err
        self._ask = ask
        self._prompt = prompt
        self.sleep = sleep

    @property
    def json(self) -> bool:
        return bool(self.args.json)

    def emit(self, value: Any) -> None:
        self.out.print_json(json.dumps(value, default=str))

    def confirm(self, question: str) -> None:
        if getattr(self.args, "yes", False):
            return
        if not self._ask(question):
            raise ConsoleError("not confirmed (pass --yes to run it without asking)")

    def confirm_typed(self, question: str, accepted: set[str]) -> None:
        """Ask the operator to type one of ``accepted`` (a shop's id or name) unless ``--yes``."""
        if getattr(self.args, "yes", False):
            return
        typed = self._prompt(question).strip().casefold()
        if not typed or typed not in {a.strip().casefold() for a in accepted if a}:
            raise ConsoleError("not confirmed: type the shop's id or name (or pass --yes)")

    def working(self, description: str) -> Any:
        """A spinner with the time spent while the ops function works (transient: gone after)."""
        progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=self.err,
            transient=True,
        )
        progress.add_task(description, total=None)
        return progress

    def call(self, command: str, args: dict[str, Any]) -> Any:
        """Run ``command`` in the ops function; its result, or ``Refused`` once the error is shown."""
        answer = self.backend.invoke(command, args)
        if not answer.get("ok"):
            if self.json:
                self.emit(answer)
            else:
                render.error(self.err, answer)
            raise Refused()
        return answer.get("result")

    def record(self, action: str, outcome: str, details: dict[str, Any], shop: str | None = None) -> None:
        """Record what the console did itself in the operator audit log (through the ops function)."""
        args: dict[str, Any] = {"action": action, "outcome": outcome, "details": details}
        if shop:
            args["shop"] = shop
        try:
            self.call("audit", args)
        except (Refused, ConsoleError) as exc:
            self.err.print(f"[red]warning[/red]: this {action} was done but could not be recorded ({exc})")
            raise

    def progress(self) -> Progress:
        return Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=self.err,
            transient=True,
        )


# --- shops ------------------------------------------------------------------------------------------
def shops_list(ctx: Context) -> int:
    args: dict[str, Any] = {"limit": ctx.args.limit}
    for name in ("status", "search", "cursor"):
        if getattr(ctx.args, name):
            args[name] = getattr(ctx.args, name)
    if not ctx.args.all:
        result = ctx.call("list_shops", args)
        ctx.emit(result) if ctx.json else render.shops(ctx.out, result)
        return 0
    everything: list[dict[str, Any]] = []
    with ctx.err.status("listing shops…") as status:
        while True:
            result = ctx.call("list_shops", dict(args))
            everything += result["shops"]
            status.update(f"listing shops… {len(everything)}")
            if not result.get("next_cursor"):
                break
            args["cursor"] = result["next_cursor"]
    merged = {"shops": everything, "next_cursor": None}
    ctx.emit(merged) if ctx.json else render.shops(ctx.out, merged)
    return 0


def shops_show(ctx: Context) -> int:
    result = ctx.call("show_shop", {"shop": ctx.args.shop})
    ctx.emit(result) if ctx.json else render.shop(ctx.out, result)
    return 0


def shops_reopen(ctx: Context) -> int:
    ctx.confirm(
        f"Reopen {ctx.args.shop} on {ctx.backend.target.stage}? A new Asaas subscription starts charging it."
    )
    result = ctx.call("reopen_shop", {"shop": ctx.args.shop})
    if ctx.json:
        ctx.emit(result)
        return 0
    reopened = result["reopened"]
    ctx.out.print(
        f"[green]reopened[/green]: {reopened['status']['from']} → {reopened['status']['to']}; first invoice "
        f"due {reopened['first_due']}; Asaas subscription {reopened['asaas_subscription_id']}"
    )
    render.shop(ctx.out, result["shop"])
    return 0


def shops_provision(ctx: Context) -> int:
    result = ctx.call("provision", {"shop": ctx.args.shop})
    if ctx.json:
        ctx.emit(result)
        return 0
    ctx.out.print(f"[green]{result['outcome']}[/green]")
    render.shop(ctx.out, result["shop"])
    return 0


# --- dead-letter queues -------------------------------------------------------------------------------
def dlq_list(ctx: Context) -> int:
    sqs = ctx.backend.client("sqs")
    found = dlqs.pairs(ctx.backend.outputs, sqs)
    if ctx.args.queue:
        found = [dlqs.find(found, ctx.args.queue)]
    rows = [
        {
            "name": pair.name,
            "dlq_url": pair.dlq_url,
            "source_url": pair.source_url,
            "dlq": dlqs.counts(sqs, pair.dlq_url),
            "source": dlqs.counts(sqs, pair.source_url),
        }
        for pair in found
    ]
    ctx.emit(rows) if ctx.json else render.dlqs(ctx.out, rows)
    return 0


def dlq_replay(ctx: Context) -> int:
    sqs = ctx.backend.client("sqs")
    pair = dlqs.find(dlqs.pairs(ctx.backend.outputs, sqs), ctx.args.queue)
    waiting = dlqs.counts(sqs, pair.dlq_url)["visible"]
    what = f"message {ctx.args.id}" if ctx.args.id else f"up to {ctx.args.limit or waiting} message(s)"
    if not ctx.args.dry_run:
        ctx.confirm(f"Move {what} from {pair.name}'s DLQ back to its queue on {ctx.backend.target.stage}?")
    total = 1 if ctx.args.id else min(waiting, ctx.args.limit or waiting)
    with ctx.progress() as progress:
        task = progress.add_task("showing" if ctx.args.dry_run else "moving", total=max(total, 1))
        done = dlqs.replay(
            sqs,
            pair,
            message_id=ctx.args.id,
            dry_run=ctx.args.dry_run,
            limit=ctx.args.limit,
            progress=lambda n: progress.advance(task, n),
        )
    details = done.details(pair, dry_run=ctx.args.dry_run)
    outcome = "failed" if done.failed else "ok"
    ctx.record("dlq_replay", outcome, details)
    if ctx.json:
        ctx.emit({**details, "messages": done.shown})
    else:
        for message in done.shown:
            ctx.out.print(f"[bold]{message['message_id']}[/bold] (received {message['receive_count']} times)")
            ctx.out.print(message["body"], markup=False, highlight=False)
        verb = "would move" if ctx.args.dry_run else "moved"
        count = len(done.shown) if ctx.args.dry_run else len(done.moved)
        ctx.out.print(f"{verb} {count} message(s) from {pair.name}'s DLQ to {pair.source_url}")
        for message_id, error in done.failed:
            ctx.err.print(f"[red]not moved[/red] {message_id}: {error} (it stays in the DLQ)")
        if ctx.args.id and not (done.moved or done.shown or done.failed):
            ctx.err.print(f"[yellow]no message {ctx.args.id} in {pair.name}'s DLQ[/yellow]")
    if ctx.args.id and not (done.moved or done.shown):
        return 1
    return 1 if done.failed else 0


# --- the signing key ---------------------------------------------------------------------------------
def keys_status(ctx: Context) -> int:
    state = ctx.call("signing_key_status", {})
    ctx.emit(state) if ctx.json else render.key_state(ctx.out, state)
    return 0


def keys_rotate(ctx: Context) -> int:
    stage = ctx.backend.target.stage
    if ctx.args.now:
        ctx.confirm(
            f"Replace the signing key of {stage} NOW? Every access token stops working within 5 minutes: "
            "every signed-in user's app must refresh (or sign in again)."
        )
        state = ctx.call("signing_key_replace", {})
        ctx.emit(state) if ctx.json else render.key_state(ctx.out, state, "Signing key replaced")
        return 0
    ctx.confirm(
        f"Rotate the signing key of {stage}? (staged now, signing in about 6 minutes; nobody is signed out)"
    )
    answer = ctx.backend.invoke("signing_key_stage", {})
    if answer.get("ok"):
        state = answer["result"]
    elif (answer.get("error") or {}).get("code") == "already_staged":
        ctx.err.print("a key was already staged: finishing that rotation")
        state = ctx.call("signing_key_status", {})
    else:
        render.error(ctx.err, answer)
        return 1
    if ctx.args.no_wait:
        wait = state.get("promote_wait_s") or 0
        message = f"staged; run `keys promote` in {wait} s or later (it refuses earlier)"
        ctx.emit(state) if ctx.json else ctx.out.print(message)
        return 0
    return _promote(ctx, int(state.get("promote_wait_s") or 0))


def keys_promote(ctx: Context) -> int:
    return _promote(ctx, 0)


def _promote(ctx: Context, wait_s: int) -> int:
    for _ in range(3):
        if wait_s > 0:
            _wait(ctx, wait_s, "every function reads the new key")
        answer = ctx.backend.invoke("signing_key_promote", {})
        if answer.get("ok"):
            ctx.emit(answer["result"]) if ctx.json else render.key_state(
                ctx.out, answer["result"], "Signing key rotated"
            )
            return 0
        error = answer.get("error") or {}
        if error.get("code") != "too_early":
            render.error(ctx.err, answer)
            return 1
        wait_s = int((error.get("details") or {}).get("wait_s") or 1)
    render.error(ctx.err, answer)
    return 1


def _wait(ctx: Context, seconds: int, what: str) -> None:
    with ctx.progress() as progress:
        task = progress.add_task(f"waiting: {what}", total=seconds)
        for _ in range(seconds):
            ctx.sleep(1)
            progress.advance(task, 1)


# --- backups -------------------------------------------------------------------------------------------
def backup_run(ctx: Context) -> int:
    """The nightly flow (``--all``) or one shop's nightly export, started now."""
    outputs = ctx.backend.outputs
    date = ctx.args.date or datetime.now(BACKUP_TZ).date().isoformat()
    if ctx.args.all:
        flow = outputs.get("BackupFlowArn")
        if not flow:
            raise ConsoleError(
                f"backups are not deployed in {ctx.backend.target.stage} yet (no BackupFlowArn)"
            )
        execution_input = {"date": ctx.args.date} if ctx.args.date else {}
        started = ctx.backend.client("stepfunctions").start_execution(
            stateMachineArn=flow, input=json.dumps(execution_input)
        )
        details = {"flow": flow, "execution": started["executionArn"], "input": execution_input}
        ctx.record("backup_run_all", "ok", details)
        ctx.emit(details) if ctx.json else ctx.out.print(f"backup flow started: {started['executionArn']}")
        return 0
    if not ctx.args.shop:
        raise ConsoleError("backup run needs a shop (or --all)")
    if BACKUP_EXPORT_OUTPUT not in outputs:
        raise ConsoleError(
            f"backup run is not deployed in {ctx.backend.target.stage} yet (no {BACKUP_EXPORT_OUTPUT})"
        )
    shop = ctx.call("show_shop", {"shop": ctx.args.shop})["shop"]
    payload = {"tenant_id": shop["id"], "date": date}
    try:
        with ctx.working(f"exporting {shop['name']}'s bundle of {date}…"):
            answer = ctx.backend.invoke_function(BACKUP_EXPORT_OUTPUT, payload)
    except ConsoleError as exc:
        ctx.record("backup_run", "failed", {"date": date, "error": str(exc)[:500]}, shop=shop["id"])
        raise
    ctx.record("backup_run", "ok", {"date": date, "answer": answer}, shop=shop["id"])
    ctx.emit(answer) if ctx.json else ctx.out.print_json(json.dumps(answer, default=str))
    return 0


def _bundle_args(ctx: Context) -> dict[str, Any]:
    args: dict[str, Any] = {"shop": ctx.args.shop}
    if getattr(ctx.args, "key", None):
        args["key"] = ctx.args.key
    return args


def backup_list(ctx: Context) -> int:
    with ctx.working("listing the shop's bundles…"):
        result = ctx.call("backup_list", {"shop": ctx.args.shop})
    ctx.emit(result) if ctx.json else render.bundles(ctx.out, result)
    return 0


def backup_export(ctx: Context) -> int:
    with ctx.working(f"exporting {ctx.args.shop} (the ops function makes and stores the bundle)…"):
        result = ctx.call("backup_export", {"shop": ctx.args.shop})
    ctx.emit(result) if ctx.json else render.exported(ctx.out, result)
    return 0


def backup_verify(ctx: Context) -> int:
    with ctx.working("downloading and verifying the bundle…"):
        result = ctx.call("backup_verify", _bundle_args(ctx))
    ctx.emit(result) if ctx.json else render.verified(ctx.out, result)
    return 0


def backup_restore(ctx: Context) -> int:
    shop = ctx.call("show_shop", {"shop": ctx.args.shop})["shop"]
    # The bundle first, checked whole: what it holds is shown before the operator confirms
    with ctx.working("downloading and verifying the bundle…"):
        bundle = ctx.call("backup_verify", {"shop": shop["id"], "key": ctx.args.key})
    if not ctx.json:
        render.verified(ctx.out, bundle)
    ctx.confirm_typed(
        f"Restore {shop['name']} ({shop['id']}) on {ctx.backend.target.stage} from {ctx.args.key}, made "
        f"{bundle['created_at']}? Every table of the shop goes back to the bundle's rows and its users "
        "are signed out. Type the shop's id or name to go on",
        {shop["id"], shop.get("name") or ""},
    )
    with ctx.working(f"restoring {shop['name']} (one transaction; a large shop takes minutes)…"):
        result = ctx.call("backup_restore", {"shop": shop["id"], "key": ctx.args.key, "confirm": shop["id"]})
    ctx.emit(result) if ctx.json else render.restored(ctx.out, result)
    return 0


def backup_scratch(ctx: Context) -> int:
    with ctx.working("restoring the bundle into scratch tables and reading it back…"):
        result = ctx.call("backup_scratch", _bundle_args(ctx))
    ctx.emit(result) if ctx.json else render.scratch(ctx.out, result)
    return 0


# --- the audit log ----------------------------------------------------------------------------------
def audit(ctx: Context) -> int:
    args: dict[str, Any] = {"limit": ctx.args.limit}
    if ctx.args.shop:
        args["shop"] = ctx.args.shop
    if ctx.args.before:
        args["before"] = ctx.args.before
    entries = ctx.call("audit_log", args)
    ctx.emit(entries) if ctx.json else render.audit(ctx.out, entries)
    return 0


# --- the command line --------------------------------------------------------------------------------
def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--stage", choices=["local", "prod"], default=argparse.SUPPRESS, help="default: local"
    )
    common.add_argument("--profile", default=argparse.SUPPRESS, help="AWS profile (a real stage)")
    common.add_argument("--region", default=argparse.SUPPRESS, help="AWS region (a real stage)")
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON answers")

    main = argparse.ArgumentParser(
        prog="python -m assistec_ops",
        description="assistec's ops console",
        parents=[common],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    groups = main.add_subparsers(dest="group", required=True)

    shops = groups.add_parser("shops", help="find, show, reopen and provision shops", parents=[common])
    shop_commands = shops.add_subparsers(dest="command", required=True)
    listing = shop_commands.add_parser("list", help="shops with their billing state", parents=[common])
    listing.add_argument("--status", choices=["trial", "active", "past_due", "suspended", "cancelled"])
    listing.add_argument("--search", help="name, CNPJ, e-mail (the shop's or a user's) or id")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--cursor")
    listing.add_argument("--all", action="store_true", help="every page")
    listing.set_defaults(run=shops_list)
    for name, run, help_text in (
        ("show", shops_show, "one shop: billing, subscription, invoices, users, orders, activity"),
        ("reopen", shops_reopen, "a cancelled shop pays again"),
        ("provision", shops_provision, "create the shop's Asaas subscription (again)"),
    ):
        command = shop_commands.add_parser(name, help=help_text, parents=[common])
        command.add_argument("shop", help="id, CNPJ or e-mail")
        if name == "reopen":
            command.add_argument("--yes", action="store_true")
        command.set_defaults(run=run)

    queues = groups.add_parser("dlq", help="dead-letter queues", parents=[common])
    queue_commands = queues.add_subparsers(dest="command", required=True)
    queue_list = queue_commands.add_parser("list", help="every DLQ with its count", parents=[common])
    queue_list.add_argument("--queue")
    queue_list.set_defaults(run=dlq_list)
    replay = queue_commands.add_parser(
        "replay", help="move DLQ messages back to their queue", parents=[common]
    )
    replay.add_argument("queue", help="payments, whatsapp-send, mail-events, ... (see dlq list)")
    which = replay.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", help="one message, by its id")
    which.add_argument("--all", action="store_true", help="every message (up to --limit)")
    replay.add_argument("--limit", type=int)
    replay.add_argument("--dry-run", action="store_true", help="show the messages, move nothing")
    replay.add_argument("--yes", action="store_true")
    replay.set_defaults(run=dlq_replay)

    keys = groups.add_parser("keys", help="the token-signing key", parents=[common])
    key_commands = keys.add_subparsers(dest="command", required=True)
    key_commands.add_parser("status", help="its state (never the key)", parents=[common]).set_defaults(
        run=keys_status
    )
    rotate = key_commands.add_parser(
        "rotate-signing", help="rotate it (two steps, nobody signed out)", parents=[common]
    )
    mode = rotate.add_mutually_exclusive_group()
    mode.add_argument("--no-wait", action="store_true", help="stage only; `keys promote` later")
    mode.add_argument(
        "--now", action="store_true", help="replace it at once (a leaked key): signs everyone out"
    )
    rotate.add_argument("--yes", action="store_true")
    rotate.set_defaults(run=keys_rotate)
    key_commands.add_parser("promote", help="finish a staged rotation", parents=[common]).set_defaults(
        run=keys_promote
    )

    backups = groups.add_parser("backup", help="one shop's backups", parents=[common])
    backup_commands = backups.add_subparsers(dest="backup_command", required=True)
    nightly = backup_commands.add_parser("run", help="the nightly export, now", parents=[common])
    nightly.add_argument("shop", nargs="?", help="id, CNPJ or e-mail")
    nightly.add_argument("--date", help="YYYY-MM-DD (default: today in São Paulo)")
    nightly.add_argument("--all", action="store_true", help="every shop (the nightly flow)")
    nightly.set_defaults(run=backup_run)
    for name, runner, help_text in (
        ("list", backup_list, "the shop's stored bundles"),
        ("export", backup_export, "a bundle of the shop now (manual/<shop>/<time>.bundle)"),
        ("verify", backup_verify, "a stored bundle checked whole: its manifest"),
        ("restore", backup_restore, "a stored bundle back over the shop's data, in one transaction"),
        ("scratch", backup_scratch, "a stored bundle restored into scratch tables and compared"),
    ):
        command = backup_commands.add_parser(name, help=help_text, parents=[common])
        command.add_argument("shop", help="id, CNPJ or e-mail")
        if name == "restore":
            command.add_argument("--key", required=True, help="the bundle (see backup list)")
            command.add_argument("--yes", action="store_true", help="do not ask to type the shop's id")
        elif name in ("verify", "scratch"):
            which_bundle = command.add_mutually_exclusive_group()
            which_bundle.add_argument("--key", help="the bundle (see backup list)")
            which_bundle.add_argument("--latest", action="store_true", help="the newest (the default)")
        command.set_defaults(run=runner)

    log = groups.add_parser("audit", help="the operator audit log", parents=[common])
    log.add_argument("--limit", type=int, default=20)
    log.add_argument("--shop")
    log.add_argument("--before", type=int, help="entries older than this id")
    log.set_defaults(run=audit)
    return main


def _prompt(out: Console) -> Callable[[str], str]:
    def prompt(question: str) -> str:
        if not sys.stdin.isatty():
            return ""
        from rich.prompt import Prompt

        return str(Prompt.ask(question, console=out, default=""))

    return prompt


def _ask(out: Console) -> Callable[[str], bool]:
    def ask(question: str) -> bool:
        if not sys.stdin.isatty():
            return False
        from rich.prompt import Confirm

        return bool(Confirm.ask(question, console=out, default=False))

    return ask


def main(
    argv: list[str] | None = None,
    *,
    backend: Callable[[Target], Backend] = Aws,
    out: Console | None = None,
    err: Console | None = None,
    ask: Callable[[str], bool] | None = None,
    prompt: Callable[[str], str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    args = parser().parse_args(argv)
    for name, default in (("stage", "local"), ("profile", None), ("region", None), ("json", False)):
        if not hasattr(args, name):
            setattr(args, name, default)
    out = out or Console()
    err = err or Console(stderr=True)
    target = Target(args.stage, args.profile, args.region)
    ctx = Context(
        backend(target), args, out, err, ask=ask or _ask(err), sleep=sleep, prompt=prompt or _prompt(err)
    )
    try:
        code: int = args.run(ctx)
    except Refused:
        return 1
    except ConsoleError as exc:
        err.print(f"[red]error[/red]: {exc}")
        return exc.exit_code
    return code
