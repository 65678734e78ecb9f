"""The ops console's commands: the platform operator's CLI (infra/assistec_ops) invokes the ops
function, which runs them here, inside the stack (the database is in the VPC).

- ``list_shops`` / ``show_shop``: find shops across the platform (the only cross-shop reads, through
  definer functions) and inspect one inside its own transaction (row-level security as for any worker);
- ``reopen_shop``: a cancelled shop pays again (``Provisioning.reopen``: a new Asaas subscription,
  the cancellation cleared, the status recomputed from the invoices);
- ``provision``: the payments consumer's provisioning of a shop, run again;
- ``signing_key_status`` / ``_stage`` / ``_promote`` / ``_replace``: the token-signing key's rotation
  (domain/signing_keys.py): the key is generated here and never leaves AWS;
- ``backup_list`` / ``_export`` / ``_verify`` / ``_restore`` / ``_scratch``: one shop's bundles in
  the backup bucket (services/backup): listed, made now (``manual/<shop>/<UTC time>.bundle``, never a
  nightly key), checked whole, restored in place in one transaction (only with ``confirm`` naming
  the shop, under a permit the ops role issues: migration 0034), or restored into scratch tables and
  compared with the manifest (as the weekly restore test does);
- ``audit``: what the console did itself (a DLQ replay, a backup started), recorded;
  ``audit_log``: the latest entries.

Every command is recorded in the operator's audit log (``ops_audit``) before it runs, with the
operator's AWS identity, the command and its arguments (no command takes a secret), and finished with
its outcome: ``ok``, ``refused`` (bad input, a shop in the wrong state: nothing changed) or
``failed`` (a provider or a bug). Messages are in English: the operator reads them, not a shop.
"""

from __future__ import annotations

import json
import secrets
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from assistec.db import billing as bill_db
from assistec.db import ops as ops_db
from assistec.db import tenants as tenants_db
from assistec.domain import signing_keys
from assistec.domain.billing import STATUSES
from assistec.domain.signing_keys import KeyRing, KeyRingError
from assistec.integrations.asaas import AsaasError
from assistec.integrations.platform import PlatformAccountMissingError
from assistec.observability import logger
from assistec.services.audit import SystemActor
from assistec.services.billing.provisioning import ProvisioningBusy

if TYPE_CHECKING:
    from assistec.db.connection import Database
    from assistec.domain.backup_bundle import VerifiedBundle
    from assistec.integrations.kms import DataKeys
    from assistec.integrations.storage import BundleStore
    from assistec.services.billing.provisioning import Provisioning
    from assistec.services.unit_of_work import UnitsOfWork

Outcome = Literal["ok", "refused", "failed"]
MAX_DETAILS_BYTES = 16_000
# A bundle is downloaded into a spool (memory up to this, then the function's /tmp) and read from there.
BUNDLE_SPOOL_BYTES = 64 * 1024 * 1024


class OpsError(Exception):
    """A command that could not be done: a stable ``code``, a message for the operator, and whether
    it was ``refused`` (nothing changed: bad input, wrong state) or ``failed`` (a provider)."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        details: Any = None,
        outcome: Outcome = "refused",
        shop_id: UUID | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details
        self.outcome = outcome
        self.shop_id = shop_id  # the shop it was about, once known (its audit entry names it)

    def as_dict(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return error


class KeySecret(Protocol):
    """The signing key's secret as it is now (integrations/signing_key.py ``SigningKeySecret``)."""

    def read(self) -> str: ...
    def write(self, value: str) -> None: ...


# --- the commands' arguments -------------------------------------------------------------------
class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoArgs(_Args):
    pass


class ListShopsArgs(_Args):
    status: str | None = None
    search: str | None = Field(default=None, min_length=1, max_length=200)
    limit: int = Field(default=50, ge=1, le=500)
    # The last row of the previous page: "<created_at ISO>,<shop id>".
    cursor: str | None = Field(default=None, max_length=120)

    @field_validator("status")
    @classmethod
    def _a_billing_status(cls, value: str | None) -> str | None:
        if value is not None and value not in STATUSES:
            raise ValueError(f"one of {', '.join(STATUSES)}")
        return value


class ShopArgs(_Args):
    # The shop's id, its CNPJ (with or without punctuation), or the shop's or a user's e-mail.
    shop: str = Field(min_length=1, max_length=254)


# A bundle's key in the backup bucket (checked to be one of the shop's before it is read).
_BUNDLE_KEY = r"^[A-Za-z0-9][A-Za-z0-9/_.:-]{0,299}$"


class BundleArgs(ShopArgs):
    # The bundle; none: the shop's newest (nightly or manual).
    key: str | None = Field(default=None, pattern=_BUNDLE_KEY)


class RestoreArgs(ShopArgs):
    key: str = Field(pattern=_BUNDLE_KEY)
    # The shop's id, typed again: a restore replaces the shop's data with the bundle's.
    confirm: str = Field(min_length=1, max_length=254)


@dataclass(frozen=True)
class BackupTools:
    """What the backup commands use: the bundles' buckets, their KMS data keys (purpose
    backup-bundle), and the ops role's connection (scratch restores; the in-place restore's permits)."""

    store: BundleStore
    keys: DataKeys
    ops_database: Database


class AuditArgs(_Args):
    action: str = Field(pattern=r"^[a-z][a-z0-9_.-]{0,79}$")
    outcome: Outcome
    shop: str | None = Field(default=None, min_length=1, max_length=254)
    details: dict[str, Any] = Field(default_factory=dict)


class AuditLogArgs(_Args):
    limit: int = Field(default=20, ge=1, le=200)
    before: int | None = Field(default=None, ge=1)
    shop: str | None = Field(default=None, min_length=1, max_length=254)


@dataclass(frozen=True)
class Done:
    """A command's answer (``result``), the shop it was about, and the summary its audit entry keeps."""

    result: Any
    shop_id: UUID | None = None
    summary: dict[str, Any] | None = None


@dataclass(frozen=True)
class _Command:
    args: type[_Args]
    run: Callable[..., Done]
    # run(args, operator): the command records who asked for it beyond the audit log (a permit)
    operator: bool = False


class OpsConsole:
    """Runs the operator's commands, each recorded in ``ops_audit``."""

    def __init__(
        self,
        work: UnitsOfWork,
        provisioning: Provisioning,
        *,
        key_secret: Callable[[], KeySecret],
        backups: Callable[[], BackupTools] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        new_key: Callable[[], str] = lambda: secrets.token_urlsafe(48),
    ) -> None:
        self._work = work
        self._provisioning = provisioning
        self._key_secret = key_secret
        self._backups = backups
        self._clock = clock
        self._new_key = new_key
        self._commands: dict[str, _Command] = {
            "list_shops": _Command(ListShopsArgs, self._list_shops),
            "show_shop": _Command(ShopArgs, self._show_shop),
            "reopen_shop": _Command(ShopArgs, self._reopen_shop),
            "provision": _Command(ShopArgs, self._provision),
            "signing_key_status": _Command(NoArgs, self._key_status),
            "signing_key_stage": _Command(NoArgs, self._key_stage),
            "signing_key_promote": _Command(NoArgs, self._key_promote),
            "signing_key_replace": _Command(NoArgs, self._key_replace),
            "audit_log": _Command(AuditLogArgs, self._audit_log),
            "backup_list": _Command(ShopArgs, self._backup_list),
            "backup_export": _Command(ShopArgs, self._backup_export),
            "backup_verify": _Command(BundleArgs, self._backup_verify),
            "backup_restore": _Command(RestoreArgs, self._backup_restore, operator=True),
            "backup_scratch": _Command(BundleArgs, self._backup_scratch),
        }

    @property
    def commands(self) -> list[str]:
        return sorted([*self._commands, "audit"])

    def run(
        self, command: str, args: dict[str, Any], *, operator: str, request_id: str | None = None
    ) -> dict[str, Any]:
        """Run one command for ``operator``: ``{"ok": True, "result", "audit_id"}`` or ``{"ok": False,
        "error": {"code", "message", "details"?}, "audit_id"}``. Raises only on a bug (recorded as
        failed first)."""
        operator = operator.strip() if isinstance(operator, str) else ""
        if not operator or len(operator) > 512 or not operator.isprintable():
            # No one to record it against: nothing ran.
            return _refusal(OpsError("invalid_operator", "the operator's identity is missing or malformed"))
        if command == "audit":
            return self._record_console_action(args, operator=operator, request_id=request_id)
        spec = self._commands.get(command)
        if spec is None:
            error = OpsError(
                "unknown_command", f"no such command: {command[:80]!r}", details={"commands": self.commands}
            )
            entry = self._record(
                operator, "unknown", {"command": command[:200]}, None, "refused", error, request_id
            )
            return _refusal(error, entry)
        try:
            parsed = spec.args.model_validate(args)
        except ValidationError as exc:
            error = OpsError("invalid_args", "the command's arguments are not valid", details=_errors(exc))
            entry = self._record(operator, command, _recordable(args), None, "refused", error, request_id)
            return _refusal(error, entry)
        entry = self._start(operator, command, parsed.model_dump(mode="json", exclude_none=True), request_id)
        try:
            done = spec.run(parsed, operator) if spec.operator else spec.run(parsed)
        except OpsError as exc:
            self._finish(entry, exc.outcome, exc.shop_id, {"error": exc.as_dict()})
            logger.info("ops command", extra={"command": command, "outcome": exc.outcome, "code": exc.code})
            return _refusal(exc, entry)
        except Exception as exc:
            failure = {"code": "internal_error", "type": type(exc).__name__}
            self._finish(entry, "failed", getattr(exc, "ops_shop_id", None), {"error": failure})
            raise
        self._finish(entry, "ok", done.shop_id, done.summary or {})
        logger.info("ops command", extra={"command": command, "outcome": "ok"})
        return {"ok": True, "result": done.result, "audit_id": entry}

    # --- the audit log --------------------------------------------------------------------------
    def _start(self, operator: str, command: str, args: dict[str, Any], request_id: str | None) -> int:
        with self._work.db.transaction() as conn:
            return ops_db.record(
                conn,
                operator=operator,
                command=command,
                args=args,
                shop_id=None,
                origin="function",
                outcome="started",
                request_id=request_id,
            )

    def _finish(self, entry: int, outcome: Outcome, shop_id: UUID | None, detail: dict[str, Any]) -> None:
        with self._work.db.transaction() as conn:
            ops_db.finish(conn, entry, outcome=outcome, shop_id=shop_id, detail=detail)

    def _record(
        self,
        operator: str,
        command: str,
        args: dict[str, Any],
        shop_id: UUID | None,
        outcome: Outcome,
        error: OpsError | None,
        request_id: str | None,
        *,
        origin: str = "function",
        detail: dict[str, Any] | None = None,
    ) -> int:
        with self._work.db.transaction() as conn:
            return ops_db.record(
                conn,
                operator=operator,
                command=command,
                args=args,
                shop_id=shop_id,
                origin=origin,
                outcome=outcome,
                detail=detail if detail is not None else ({"error": error.as_dict()} if error else {}),
                request_id=request_id,
            )

    def _record_console_action(
        self, args: dict[str, Any], *, operator: str, request_id: str | None
    ) -> dict[str, Any]:
        """``audit``: an action the console did itself (origin ``console``), recorded once as done."""
        try:
            parsed = AuditArgs.model_validate(args)
            if len(json.dumps(parsed.details, default=str)) > MAX_DETAILS_BYTES:
                raise OpsError("details_too_large", f"details over {MAX_DETAILS_BYTES} bytes")
        except ValidationError as exc:
            error = OpsError("invalid_args", "the command's arguments are not valid", details=_errors(exc))
            entry = self._record(operator, "audit", _recordable(args), None, "refused", error, request_id)
            return _refusal(error, entry)
        except OpsError as error:
            entry = self._record(operator, "audit", _recordable(args), None, "refused", error, request_id)
            return _refusal(error, entry)
        shop_id = None
        if parsed.shop is not None:
            with self._work.db.transaction() as conn:
                found = ops_db.resolve_shop(conn, parsed.shop)
            shop_id = found[0] if len(found) == 1 else None
        entry = self._record(
            operator,
            parsed.action,
            {"shop": parsed.shop} if parsed.shop else {},
            shop_id,
            parsed.outcome,
            None,
            request_id,
            origin="console",
            detail=parsed.details,
        )
        return {"ok": True, "result": {"recorded": entry}, "audit_id": entry}

    def _audit_log(self, args: AuditLogArgs) -> Done:
        shop_id = self._shop(args.shop) if args.shop else None
        with self._work.db.transaction() as conn:
            rows = ops_db.recent(conn, before=args.before, shop_id=shop_id, limit=args.limit)
        return Done([_row_dict(r) for r in rows], shop_id, {"count": len(rows)})

    # --- shops ----------------------------------------------------------------------------------
    def _shop(self, reference: str) -> UUID:
        """The one shop ``reference`` names (id, CNPJ, the shop's or a user's e-mail)."""
        with self._work.db.transaction() as conn:
            found = ops_db.resolve_shop(conn, reference)
        if not found:
            raise OpsError("shop_not_found", "no shop has that id, CNPJ or e-mail")
        if len(found) > 1:
            raise OpsError(
                "ambiguous_shop",
                "more than one shop answers to that reference: use the shop's id",
                details={"shops": [str(s) for s in found]},
            )
        return found[0]

    def _list_shops(self, args: ListShopsArgs) -> Done:
        before = _cursor(args.cursor) if args.cursor else None
        with self._work.db.transaction() as conn:
            rows = ops_db.find_shops(
                conn, status=args.status, search=args.search, before=before, limit=args.limit + 1
            )
        page, more = rows[: args.limit], len(rows) > args.limit
        next_cursor = f"{page[-1].created_at.isoformat()},{page[-1].id}" if more and page else None
        shops = [
            {
                "id": r.id,
                "name": r.name,
                "cnpj": r.cnpj,
                "email": r.email,
                "billing_status": r.billing_status,
                "plan": r.plan_code,
                "trial_ends_on": r.trial_ends_on,
                "next_due_date": r.next_due_date,
                "cancel_on": r.cancel_on,
                "provisioned": r.provisioned,
                "provision_error": r.provision_error,
                "created_at": r.created_at,
            }
            for r in page
        ]
        return Done({"shops": shops, "next_cursor": next_cursor}, None, {"count": len(shops)})

    def _show_shop(self, args: ShopArgs) -> Done:
        tenant_id = self._shop(args.shop)
        return Done(self._describe(tenant_id), tenant_id)

    def _describe(self, tenant_id: UUID) -> dict[str, Any]:
        """One shop as support sees it, read inside the shop's own transaction."""
        with self._work(SystemActor(tenant_id)) as uow:
            shop = tenants_db.get_tenant(uow.conn, tenant_id)
            if shop is None:
                raise OpsError("shop_not_found", "the shop is gone")
            sub = bill_db.subscription(uow.conn)
            plan = bill_db.plan(uow.conn, sub.plan_code) if sub else None
            invoices = bill_db.invoices(uow.conn, limit=6)
            unpaid = bill_db.open_invoices(uow.conn)
            activity = ops_db.activity(uow.conn)
        subscription = None
        if sub is not None:
            subscription = {
                "plan": sub.plan_code,
                "plan_name": plan.name if plan else sub.plan_code,
                "price_cents": sub.price_cents,
                "trial_ends_on": sub.trial_ends_on,
                "next_due_date": sub.next_due_date,
                "past_due_since": sub.past_due_since,
                "suspended_at": sub.suspended_at,
                "cancelled_at": sub.cancelled_at,
                "cancel_on": sub.cancel_on,
                "asaas_customer_id": sub.asaas_customer_id,
                "asaas_subscription_id": sub.asaas_subscription_id,
                "provision_error": sub.provision_error,
                "version": sub.version,
            }
        return {
            "shop": {
                "id": shop.id,
                "name": shop.name,
                "cnpj": shop.cnpj,
                "email": shop.email,
                "phone": shop.phone,
                "billing_status": shop.billing_status,
                "created_at": shop.created_at,
            },
            "subscription": subscription,
            "invoices": {
                "open": len(unpaid),
                "open_cents": sum(i.value_cents for i in unpaid),
                "latest": [
                    {
                        "id": i.asaas_payment_id,
                        "due_date": i.due_date,
                        "value_cents": i.value_cents,
                        "status": i.status,
                        "paid_on": i.paid_on,
                    }
                    for i in invoices
                ],
            },
            "users": {"total": activity["users"], "active": activity["active_users"]},
            "orders": {"total": activity["orders"], "open": activity["open_orders"]},
            "last_activity": {
                "change_at": activity["last_change_at"],
                "session_at": activity["last_session_at"],
            },
        }

    def _reopen_shop(self, args: ShopArgs) -> Done:
        tenant_id = self._shop(args.shop)
        with _about(tenant_id):
            return self._reopen(tenant_id)

    def _reopen(self, tenant_id: UUID) -> Done:
        try:
            reopening = self._provisioning.reopen(tenant_id)
        except _PROVIDER_ERRORS as exc:
            raise _provider_error(exc) from exc
        if reopening.outcome == "no_subscription":
            raise OpsError("no_subscription", "the shop has no subscription to reopen")
        if reopening.outcome == "unpaid_invoices":
            raise OpsError(
                "unpaid_invoices",
                f"the shop owes {len(reopening.unpaid)} invoice(s) of its cancelled subscription: once "
                "paid (links below; the payment is applied as usual) reopen it",
                details={
                    "invoices": [
                        {
                            "id": i.asaas_payment_id,
                            "due_date": i.due_date.isoformat(),
                            "value_cents": i.value_cents,
                            "invoice_url": i.invoice_url,
                        }
                        for i in reopening.unpaid
                    ]
                },
            )
        if reopening.outcome == "not_cancelled":
            raise OpsError(
                "not_cancelled",
                f"the shop is not cancelled (billing status {reopening.status_before}): nothing to reopen",
            )
        summary = {
            "status": {"from": reopening.status_before, "to": reopening.status_after},
            "first_due": reopening.first_due,
            "asaas_subscription_id": reopening.asaas_subscription_id,
        }
        return Done({"reopened": summary, "shop": self._describe(tenant_id)}, tenant_id, summary)

    def _provision(self, args: ShopArgs) -> Done:
        tenant_id = self._shop(args.shop)
        with _about(tenant_id):
            return self._provision_shop(tenant_id)

    def _provision_shop(self, tenant_id: UUID) -> Done:
        try:
            outcome = self._provisioning.provision(tenant_id)
        except _PROVIDER_ERRORS as exc:
            raise _provider_error(exc) from exc
        if outcome == "cancelled":
            raise OpsError("cancelled", "the shop is cancelled: reopen it instead (shops reopen)")
        if outcome == "no_subscription":
            raise OpsError("no_subscription", "the shop has no subscription to provision")
        described = self._describe(tenant_id)
        if outcome == "refused":
            error = (described["subscription"] or {}).get("provision_error")
            raise OpsError(
                "asaas_refused",
                "Asaas refused the shop's data (kept as provision_error): fix it with the owner, "
                "then run it again",
                details={"provision_error": error},
                outcome="failed",
            )
        return Done({"outcome": outcome, "shop": described}, tenant_id, {"outcome": outcome})

    # --- the signing key ------------------------------------------------------------------------
    def _ring(self, secret: KeySecret) -> KeyRing:
        try:
            return signing_keys.parse(secret.read())
        except KeyRingError as exc:
            raise OpsError(exc.code, str(exc), outcome="failed") from exc

    def _key_status(self, _: NoArgs) -> Done:
        state = self._ring(self._key_secret()).describe(self._clock())
        return Done(state, None, state)

    def _key_stage(self, _: NoArgs) -> Done:
        return self._rotate(lambda ring, now: signing_keys.stage(ring, self._new_key(), now=now))

    def _key_promote(self, _: NoArgs) -> Done:
        return self._rotate(lambda ring, now: signing_keys.promote(ring, now=now))

    def _key_replace(self, _: NoArgs) -> Done:
        secret = self._key_secret()
        try:
            ring = signing_keys.parse(secret.read())
        except KeyRingError:
            ring = KeyRing(current="")  # an unreadable secret is exactly what a replacement fixes
        now = self._clock()
        try:
            new = signing_keys.replace_now(self._new_key(), ring, now=now)
        except KeyRingError as exc:
            raise OpsError(exc.code, str(exc)) from exc
        secret.write(new.dump())
        state = new.describe(now)
        return Done(state, None, state)

    def _rotate(self, step: Callable[[KeyRing, datetime], KeyRing]) -> Done:
        secret = self._key_secret()
        ring = self._ring(secret)
        now = self._clock()
        try:
            new = step(ring, now)
        except KeyRingError as exc:
            details = {"wait_s": exc.wait_s} if exc.wait_s is not None else None
            raise OpsError(exc.code, str(exc), details=details) from exc
        secret.write(new.dump())
        state = new.describe(now)
        return Done(state, None, state)

    # --- one shop's backups -----------------------------------------------------------------------
    def _tools(self) -> BackupTools:
        if self._backups is None:
            raise OpsError(
                "backups_not_configured",
                "this stage's ops function has no backup settings (BACKUP_BUCKET, BACKUP_KEY_ID)",
                outcome="failed",
            )
        return self._backups()

    def _backup_list(self, args: ShopArgs) -> Done:
        from assistec.db import backup as backup_db
        from assistec.domain.backup_bundle import bundle_prefixes, nightly_day

        tenant_id = self._shop(args.shop)
        with _about(tenant_id), _failing_about(tenant_id):
            tools = self._tools()
            stored = [e for prefix in bundle_prefixes(tenant_id) for e in tools.store.entries(prefix)]
            with self._work(SystemActor(tenant_id)) as uow:
                recorded = {r.s3_key: r for r in backup_db.recorded_bundles(uow.conn)}
                name = tenants_db.get_tenant(uow.conn, tenant_id)
            bundles = []
            for entry in sorted(stored, key=lambda e: (e.stored_at, e.key), reverse=True):
                run = recorded.get(entry.key)
                day = nightly_day(entry.key)
                bundles.append(
                    {
                        "key": entry.key,
                        "kind": "nightly" if day else "manual",
                        "day": day,
                        "stored_at": entry.stored_at,
                        "bytes": entry.size,
                        "retention": tools.store.tags(entry.key).get("retention"),
                        "rows": run.rows if run else None,
                        "copied": run.copied if run else None,
                        "restore_checked_at": run.restore_checked_at if run else None,
                        "restore_error": run.restore_error if run else None,
                    }
                )
        shop = {"id": tenant_id, "name": name.name if name else None}
        return Done({"shop": shop, "bundles": bundles}, tenant_id, {"count": len(bundles)})

    def _backup_export(self, args: ShopArgs) -> Done:
        from assistec.integrations.storage import BundleExistsError
        from assistec.services.backup.runs import BackupRuns

        tenant_id = self._shop(args.shop)
        with _about(tenant_id), _failing_about(tenant_id):
            tools = self._tools()
            runs = BackupRuns(self._work.db, tools.store, tools.keys, clock=self._clock)
            try:
                key, bundle, copied = runs.export_now(tenant_id)
            except BundleExistsError as exc:
                raise OpsError(
                    "busy", "another export of this shop was stored this second: try again"
                ) from exc
        result = {
            "key": key,
            "bundle_id": bundle.bundle_id,
            "created_at": bundle.manifest.created_at,
            "schema_version": bundle.manifest.schema_version,
            "bytes": bundle.size,
            "rows": bundle.rows,
            "copied": copied,
            "tables": [{"name": t.name, "rows": t.rows} for t in bundle.manifest.tables],
        }
        summary = {k: result[k] for k in ("key", "bundle_id", "bytes", "rows", "copied")}
        return Done(result, tenant_id, summary)

    def _bundle_key(self, tools: BackupTools, tenant_id: UUID, key: str | None) -> str:
        """``key`` when it is one of the shop's stored bundles; without one, the shop's newest."""
        from assistec.domain.backup_bundle import bundle_prefixes, key_of_shop

        if key is None:
            stored = [e for prefix in bundle_prefixes(tenant_id) for e in tools.store.entries(prefix)]
            if not stored:
                raise OpsError("no_bundles", "the shop has no stored bundle yet (backup export makes one)")
            return max(stored, key=lambda e: (e.stored_at, e.key)).key
        if not key_of_shop(key, tenant_id):
            raise OpsError(
                "wrong_key",
                "that key is not one of this shop's bundles (shops/<shop id>/<day>.bundle or "
                "manual/<shop id>/<time>.bundle): see backup list",
                details={"key": key},
            )
        if tools.store.head(key) is None:
            raise OpsError("bundle_not_found", "no bundle is stored under that key", details={"key": key})
        return key

    @contextmanager
    def _bundle(self, tools: BackupTools, tenant_id: UUID, key: str) -> Iterator[tuple[Any, VerifiedBundle]]:
        """The stored bundle, downloaded into a spool and verified whole (positioned at its start);
        a bundle that is not right is refused with its code and message."""
        from assistec.domain.backup_bundle import BundleRefused
        from assistec.services.backup.verify import verify

        with tempfile.SpooledTemporaryFile(max_size=BUNDLE_SPOOL_BYTES) as spool:
            tools.store.get(key, spool)
            spool.seek(0)
            try:
                verified = verify(spool, tenant_id, tools.keys)
            except BundleRefused as exc:
                raise _refused_bundle(exc, key) from exc
            spool.seek(0)
            yield spool, verified

    def _backup_verify(self, args: BundleArgs) -> Done:
        from assistec.db import backup as backup_db

        tenant_id = self._shop(args.shop)
        with _about(tenant_id), _failing_about(tenant_id):
            tools = self._tools()
            key = self._bundle_key(tools, tenant_id, args.key)
            with self._bundle(tools, tenant_id, key) as (spool, verified):
                size = spool.seek(0, 2)
            with self._work.db.transaction() as conn:
                version = backup_db.schema_version(conn)
        manifest = verified.manifest
        result = {
            "key": key,
            "bytes": size,
            "bundle_id": manifest.bundle_id,
            "shop_name": manifest.shop_name,
            "created_at": manifest.created_at,
            "schema_version": manifest.schema_version,
            "database_version": version,
            # A bundle restores in place only into the schema it was taken from (restore.py).
            "restorable_in_place": manifest.schema_version == version,
            "rows": manifest.rows,
            "tables": [{"name": t.name, "rows": t.rows, "bytes": t.bytes} for t in manifest.tables],
            "excluded": sorted(manifest.excluded),
        }
        summary = {k: result[k] for k in ("key", "bundle_id", "rows", "schema_version")}
        return Done(result, tenant_id, summary)

    def _backup_restore(self, args: RestoreArgs, operator: str) -> Done:
        from assistec.domain.backup_bundle import BundleRefused
        from assistec.services.backup.restore import permit_restore, restore_bundle

        tenant_id = self._shop(args.shop)
        with _about(tenant_id), _failing_about(tenant_id):
            if args.confirm.strip().lower() != str(tenant_id):
                raise OpsError(
                    "not_confirmed",
                    f"a restore replaces the shop's data with the bundle's: confirm with the shop's id "
                    f"({tenant_id})",
                )
            tools = self._tools()
            key = self._bundle_key(tools, tenant_id, args.key)
            with self._bundle(tools, tenant_id, key) as (spool, _):
                permit = permit_restore(tools.ops_database, tenant_id, operator)
                try:
                    report = restore_bundle(self._work.db, tenant_id, spool, tools.keys, permit=permit)
                except BundleRefused as exc:
                    raise _refused_bundle(exc, key) from exc
        tables = [
            {"name": name, "deleted": report.deleted.get(name), "written": report.written.get(name)}
            for name in sorted(set(report.deleted) | set(report.written))
        ]
        result = {
            "key": key,
            "bundle_id": report.bundle_id,
            "schema_version": report.schema_version,
            "deleted": sum(report.deleted.values()),
            "written": sum(report.written.values()),
            "tables": tables,
        }
        summary = {k: result[k] for k in ("key", "bundle_id", "deleted", "written")}
        return Done(result, tenant_id, summary)

    def _backup_scratch(self, args: BundleArgs) -> Done:
        from assistec.domain.backup_bundle import nightly_day
        from assistec.services.backup.restore import restore_to_scratch

        tenant_id = self._shop(args.shop)
        with _about(tenant_id), _failing_about(tenant_id):
            tools = self._tools()
            key = self._bundle_key(tools, tenant_id, args.key)
            day = nightly_day(key)
            try:
                with self._bundle(tools, tenant_id, key) as (spool, verified):
                    check = restore_to_scratch(tools.ops_database, spool, verified)
            except OpsError as exc:
                if day is not None:  # a nightly bundle's record says what its last check found
                    self._record_check(tenant_id, day, exc.code)
                raise
            if day is not None:
                self._record_check(tenant_id, day, "; ".join(check.problems)[:500] or None)
        if not check.ok:
            raise OpsError(
                "scratch_mismatch",
                "the bundle restored into scratch tables does not read back as its manifest says",
                details={"key": key, "problems": check.problems},
                outcome="failed",
                shop_id=tenant_id,
            )
        result = {
            "key": key,
            "bundle_id": verified.manifest.bundle_id,
            "ok": True,
            "problems": [],
            "rows": verified.manifest.rows,
            "tables": [{"name": t.name, "rows": t.rows} for t in verified.manifest.tables],
            "recorded": day is not None,
        }
        return Done(result, tenant_id, {"key": key, "bundle_id": result["bundle_id"], "ok": True})

    def _record_check(self, tenant_id: UUID, day: Any, error: str | None) -> None:
        from assistec.db import backup as backup_db

        with self._work(SystemActor(tenant_id)) as uow:
            backup_db.record_restore_check(uow.conn, tenant_id, day, error)


_PROVIDER_ERRORS = (ProvisioningBusy, PlatformAccountMissingError, AsaasError)


@contextmanager
def _about(shop_id: UUID) -> Iterator[None]:
    """Within the block, a refusal is about ``shop_id`` (its audit entry names the shop)."""
    try:
        yield
    except OpsError as exc:
        exc.shop_id = exc.shop_id or shop_id
        raise


@contextmanager
def _failing_about(shop_id: UUID) -> Iterator[None]:
    """Within the block, a crash is about ``shop_id`` too (its failed audit entry names the shop)."""
    try:
        yield
    except OpsError:
        raise
    except Exception as exc:
        with suppress(AttributeError):  # an exception type with slots: its entry names no shop
            exc.ops_shop_id = shop_id  # type: ignore[attr-defined]
        raise


def _refused_bundle(exc: Any, key: str) -> OpsError:
    """A bundle that is not right (``BundleRefused``): its code and message; nothing was changed."""
    return OpsError(exc.code, exc.message, details={"key": key})


def _provider_error(exc: Exception) -> OpsError:
    """What went wrong talking to Asaas (or with the platform account), for the operator."""
    if isinstance(exc, ProvisioningBusy):
        return OpsError("busy", "another worker is provisioning this shop right now: try again in a minute")
    if isinstance(exc, PlatformAccountMissingError):
        return OpsError("platform_account_missing", str(exc), outcome="failed")
    assert isinstance(exc, AsaasError)
    if exc.retryable:
        return OpsError(
            "asaas_unavailable", f"Asaas did not answer ({exc}); nothing was changed", outcome="failed"
        )
    return OpsError("asaas_refused", f"Asaas refused: {exc}; nothing was changed", outcome="failed")


def _refusal(error: OpsError, entry: int | None = None) -> dict[str, Any]:
    return {"ok": False, "error": error.as_dict(), "audit_id": entry}


def _errors(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(p) for p in e["loc"]) or "(args)", "message": e["msg"]}
        for e in exc.errors(include_url=False, include_input=False)
    ]


def _recordable(args: Any) -> dict[str, Any]:
    """Refused arguments as the audit entry keeps them: as given when small, else their size only."""
    if not isinstance(args, dict):
        return {"_not_an_object": type(args).__name__}
    try:
        text = json.dumps(args, default=str)
    except (TypeError, ValueError):
        return {"_unserializable": True}
    if len(text) > MAX_DETAILS_BYTES:
        return {"_bytes": len(text)}
    recorded: dict[str, Any] = json.loads(text)
    return recorded


def _cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        at, _, shop = cursor.partition(",")
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None:
            raise ValueError("naive")
        return moment, UUID(shop)
    except ValueError as exc:
        raise OpsError(
            "invalid_args",
            "the cursor is not one a previous page gave",
            details=[{"field": "cursor", "message": "malformed"}],
        ) from exc


def _row_dict(row: ops_db.OpsAuditRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "at": row.at,
        "finished_at": row.finished_at,
        "operator": row.operator,
        "command": row.command,
        "args": row.args,
        "shop_id": row.shop_id,
        "origin": row.origin,
        "outcome": row.outcome,
        "detail": row.detail,
    }
