"""The daily backup and the weekly restore test, as the backup flow (Step Functions) runs them.

- ``shops``: every shop backed up (migration 0031's ``backup_shops``: all but those cancelled more
  than 35 days ago);
- ``export``: one shop's bundle of the day, stored once under ``shops/<shop>/<day>.bundle`` with its
  retention tag (and copied to the second bucket), recorded in ``backup_runs``. Idempotent and
  resumable: a shop whose day's bundle is recorded is skipped on one query (no S3 call); a put only
  lands on a free key, so two exports of a shop at once store one bundle (the other reports
  ``skipped``), and after a run that died between storing and recording, the next run's put finds
  the stored bundle and finishes the copy and the record from it;
- ``finish``: the run's summary and the age of the oldest newest-good-bundle among the shops;
- ``restore_test``: the newest bundles of the shops tested longest ago, each verified, written into
  scratch tables and compared with its manifest;
- ``export_now``: an operator's bundle of one shop, now (the ops console), under its own key.

``export_all`` exports every shop with a few threads (benchmarks, a manual run).
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from assistec.db import backup as backup_db
from assistec.domain.backup_bundle import (
    MANUAL_RETENTION,
    BundleRefused,
    VerifiedBundle,
    bundle_key,
    manual_key,
    retention,
    run_list_key,
)
from assistec.integrations.kms import DataKeys
from assistec.integrations.storage import BundleExistsError, BundleStore
from assistec.observability import logger
from assistec.services.audit import SystemActor
from assistec.services.backup.export import ExportedBundle, export_bundle
from assistec.services.backup.restore import restore_to_scratch
from assistec.services.backup.verify import verify
from assistec.services.unit_of_work import UnitsOfWork

if TYPE_CHECKING:
    from assistec.db.connection import Database
    from assistec.integrations.events import EventBus

SHOP_TIME = ZoneInfo("America/Sao_Paulo")
# A bundle is written to a spool (memory up to this, then /tmp) and uploaded from there.
BUNDLE_SPOOL_BYTES = 64 * 1024 * 1024
_SHOPS_PAGE = 1000
# The failed shops named in a run's summary (its count is whole): the summary is a state's output.
FAILED_SHOPS_LISTED = 100
EVENT_SOURCE = "assistec.backup"


def shop_today(now: datetime) -> date:
    return now.astimezone(SHOP_TIME).date()


@dataclass(frozen=True, slots=True)
class ExportOutcome:
    tenant_id: UUID
    key: str
    bytes: int
    rows: int
    skipped: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant_id": str(self.tenant_id),
            "key": self.key,
            "bytes": self.bytes,
            "rows": self.rows,
            "skipped": self.skipped,
        }


@dataclass(frozen=True, slots=True)
class FinishSummary:
    date: date
    shops: int
    exported: int
    skipped: int
    failed: int
    age_hours: float
    failed_shops: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "shops": self.shops,
            "exported": self.exported,
            "skipped": self.skipped,
            "failed": self.failed,
            "failed_shops": self.failed_shops,
            "backup_age_hours": round(self.age_hours, 2),
        }


@dataclass(frozen=True, slots=True)
class RestoreTestSummary:
    tested: int
    failed: int
    results: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {"tested": self.tested, "failed": self.failed, "results": self.results}


def _failed(result: object) -> bool:
    """A result of the flow's Map that is not an export's answer: its Catch put the error there."""
    return not isinstance(result, Mapping) or "error" in result or "Error" in result or "key" not in result


class BackupRuns:
    """The backup flow's steps against one database, bucket pair and KMS key."""

    def __init__(
        self,
        db: Database,
        store: BundleStore,
        keys: DataKeys,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        bus: Callable[[], EventBus | None] = lambda: None,
    ) -> None:
        self._db = db
        self._store = store
        self._keys = keys
        self._clock = clock
        self._bus = bus
        self._work = UnitsOfWork(db)

    def today(self) -> date:
        """The run's day: today where the shops are."""
        return shop_today(self._clock())

    def shops(self) -> list[UUID]:
        """Every shop backed up, by id."""
        found: list[UUID] = []
        while True:
            with self._db.transaction() as conn:
                page = backup_db.shops(conn, after=found[-1] if found else None, limit=_SHOPS_PAGE)
            found.extend(page)
            if len(page) < _SHOPS_PAGE:
                return found

    def list_shops(self, day: date, only: Iterable[UUID] | None = None) -> tuple[str, int]:
        """Every shop backed up (or those of ``only``: a run for a few shops, which must all be backed
        up), written to the bucket as the run's list (a JSON array of ``{"tenant_id"}``, the flow's
        Distributed Map reads it from there: a state's payload is capped at 256 KB, a list of
        thousands of shops is not): its key and the number of shops. A key of its own per run, tagged
        ``daily`` (expired with the daily bundles)."""
        import io
        import json
        import uuid

        found = self.shops()
        if only is not None:
            wanted = set(only)
            unknown = wanted - set(found)
            if unknown:
                raise LookupError(f"not shops backed up: {', '.join(sorted(map(str, unknown)))}")
            found = [t for t in found if t in wanted]
        key = run_list_key(day, uuid.uuid4())
        body = json.dumps([{"tenant_id": str(t)} for t in found], separators=(",", ":")).encode()
        self._store.put(key, io.BytesIO(body), tags={"retention": "daily"})
        return key, len(found)

    def _listed(self, list_key: str) -> set[UUID]:
        """The shops of a run's list (``list_shops``)."""
        import io
        import json

        buffer = io.BytesIO()
        self._store.get(list_key, buffer)
        return {UUID(item["tenant_id"]) for item in json.loads(buffer.getvalue())}

    # --- export -------------------------------------------------------------------------------

    def export(self, tenant_id: UUID, day: date) -> ExportOutcome:
        """The shop's bundle of ``day``, made and stored unless it is already (then ``skipped``).
        A failure is recorded in ``backup_runs`` and raised (the flow's Retry/Catch decide)."""
        key = bundle_key(tenant_id, day)
        started = self._clock()
        try:
            done = self._recorded(tenant_id, day, key)
            if done is not None:
                return done
            with tempfile.SpooledTemporaryFile(max_size=BUNDLE_SPOOL_BYTES) as spool:
                bundle = export_bundle(self._db, tenant_id, self._keys, spool, now=started)
                spool.seek(0)
                try:
                    self._store.put(key, spool, tags={"retention": retention(day)})
                except BundleExistsError:
                    # The day's bundle is stored already: by an export of the shop running at the same
                    # time, or by a run that died before recording it. The stored one is the day's.
                    logger.info("backup already stored", extra={"tenant_id": str(tenant_id), "key": key})
                    size = self._store.head(key)
                    return self._resume(tenant_id, day, key, size if size is not None else bundle.size)
            copied = self._ensure_copy(key)
            with self._work(SystemActor(tenant_id)) as uow:
                backup_db.record_ok(
                    uow.conn,
                    tenant_id=tenant_id,
                    day=day,
                    bundle_id=bundle.bundle_id,
                    s3_key=key,
                    size=bundle.size,
                    rows=bundle.rows,
                    manifest_sha256=bundle.manifest_sha256,
                    schema_version=bundle.manifest.schema_version,
                    retention=retention(day),
                    copied=copied,
                    started_at=started,
                )
            return ExportOutcome(tenant_id, key, bundle.size, bundle.rows, skipped=False)
        except Exception as exc:
            self._record_failure(tenant_id, day, exc, started)
            raise

    def export_now(self, tenant_id: UUID) -> tuple[str, ExportedBundle, bool]:
        """An operator's bundle of the shop made now (the ops console's ``backup export``), stored
        under its own key (``manual/<shop>/<UTC time>.bundle``: never a nightly bundle's) with the
        manual retention tag, and copied to the second bucket; not recorded in ``backup_runs`` (the
        nightly record, one per day: the operator audit log records this one). Its key, the bundle,
        and whether it was copied. ``BundleExistsError`` when another was stored in the same second."""
        now = self._clock()
        key = manual_key(tenant_id, now)
        with tempfile.SpooledTemporaryFile(max_size=BUNDLE_SPOOL_BYTES) as spool:
            bundle = export_bundle(self._db, tenant_id, self._keys, spool, now=now)
            spool.seek(0)
            self._store.put(key, spool, tags={"retention": MANUAL_RETENTION})
        return key, bundle, self._ensure_copy(key)

    def _ensure_copy(self, key: str) -> bool:
        if not self._store.copies:
            return False
        self._store.copy(key)  # a copy stored by an earlier run stays
        return True

    def _recorded(self, tenant_id: UUID, day: date, key: str, size: int = 0) -> ExportOutcome | None:
        """The day's bundle as ``backup_runs`` records it, when it is done (stored, and copied when
        there is a second bucket): a run started again skips the shop on one query, no S3 call."""
        with self._work(SystemActor(tenant_id)) as uow:
            run = backup_db.get_run(uow.conn, tenant_id, day)
        if run is not None and run.status == "ok" and (run.copied or not self._store.copies):
            return ExportOutcome(tenant_id, key, run.bytes or size, run.rows or 0, skipped=True)
        return None

    def _resume(self, tenant_id: UUID, day: date, key: str, size: int) -> ExportOutcome:
        """The day's bundle is stored: finish what a run that died after storing it left undone."""
        done = self._recorded(tenant_id, day, key, size)
        if done is not None:
            return done
        # Record it from the bundle itself (which is checked on the way).
        with tempfile.SpooledTemporaryFile(max_size=BUNDLE_SPOOL_BYTES) as spool:
            self._store.get(key, spool)
            spool.seek(0)
            verified = verify(spool, tenant_id, self._keys)
        copied = self._ensure_copy(key)
        manifest = verified.manifest
        with self._work(SystemActor(tenant_id)) as uow:
            backup_db.record_ok(
                uow.conn,
                tenant_id=tenant_id,
                day=day,
                bundle_id=manifest.bundle_id,
                s3_key=key,
                size=size,
                rows=manifest.rows,
                manifest_sha256=verified.manifest_sha256,
                schema_version=manifest.schema_version,
                retention=retention(day),
                copied=copied,
                started_at=manifest.created_at,
            )
        logger.info("backup resumed", extra={"tenant_id": str(tenant_id), "key": key})
        return ExportOutcome(tenant_id, key, size, manifest.rows, skipped=True)

    def _record_failure(self, tenant_id: UUID, day: date, exc: Exception, started: datetime) -> None:
        error = exc.code if isinstance(exc, BundleRefused) else f"{type(exc).__name__}: {exc}"
        try:
            with self._work(SystemActor(tenant_id)) as uow:
                backup_db.record_failed(
                    uow.conn, tenant_id=tenant_id, day=day, error=error, started_at=started
                )
        except Exception:
            logger.exception("backup failure not recorded", extra={"tenant_id": str(tenant_id)})

    # --- finish ---------------------------------------------------------------------------------

    def finish(
        self, day: date, results: Iterable[object] | None, *, list_key: str | None = None
    ) -> FinishSummary:
        """The run's summary and the age of the oldest newest-good-bundle among the shops backed up.

        Without ``results`` (the flow's: a Distributed Map does not hand them back) the failures are
        the run's shops with no good bundle of the day in ``backup_runs``: those of the run's list at
        ``list_key`` (``list_shops``), else every shop backed up. ``results`` (a manual run's answers:
        an export's, or a Catch's error in place of one) are counted as they are."""
        with self._db.transaction() as conn:
            age = backup_db.age_hours(conn)
            missing = backup_db.day_missing(conn, day) if results is None else []
        if results is None:
            # "exported" counts the run's shops with a good bundle of the day, made by this run or an
            # earlier one of the same day.
            if list_key is not None:
                listed = self._listed(list_key)
                missing = [t for t in missing if t in listed]
                shops = len(listed)
            else:
                shops = len(self.shops())
            summary = FinishSummary(
                date=day,
                shops=shops,
                exported=max(shops - len(missing), 0),
                skipped=0,
                failed=len(missing),
                age_hours=age,
                failed_shops=[str(t) for t in missing[:FAILED_SHOPS_LISTED]],
            )
        else:
            answers = list(results)
            failed = [r for r in answers if _failed(r)]
            done = [r for r in answers if isinstance(r, Mapping) and not _failed(r)]
            summary = FinishSummary(
                date=day,
                shops=len(answers),
                exported=sum(1 for r in done if not r.get("skipped")),
                skipped=sum(1 for r in done if r.get("skipped")),
                failed=len(failed),
                age_hours=age,
                failed_shops=[str(r.get("tenant_id")) for r in failed if isinstance(r, Mapping)][
                    :FAILED_SHOPS_LISTED
                ],
            )
        bus = self._bus()
        if bus is not None:
            import json

            bus.put(
                [
                    {
                        "Source": EVENT_SOURCE,
                        "DetailType": "BackupRunFinished",
                        "Detail": json.dumps(summary.as_dict()),
                    }
                ]
            )
        return summary

    # --- the restore test ---------------------------------------------------------------------------

    def restore_test(self, scratch: Database, limit: int) -> RestoreTestSummary:
        """Up to ``limit`` shops' newest bundles (the shops tested longest ago first), each verified,
        written into scratch tables and compared with its manifest; each outcome recorded on its run."""
        with self._db.transaction() as conn:
            candidates = backup_db.restore_candidates(conn, limit)
        results = []
        for tenant_id, day, key in candidates:
            error = self._test_one(scratch, tenant_id, key)
            with self._work(SystemActor(tenant_id)) as uow:
                backup_db.record_restore_check(uow.conn, tenant_id, day, error)
            results.append({"tenant_id": str(tenant_id), "key": key, "ok": error is None, "error": error})
            if error is not None:
                logger.error(
                    "restore test failed", extra={"tenant_id": str(tenant_id), "key": key, "error": error}
                )
        return RestoreTestSummary(len(results), sum(1 for r in results if not r["ok"]), results)

    def _test_one(self, scratch: Database, tenant_id: UUID, key: str) -> str | None:
        try:
            with tempfile.SpooledTemporaryFile(max_size=BUNDLE_SPOOL_BYTES) as spool:
                self._store.get(key, spool)
                spool.seek(0)
                verified: VerifiedBundle = verify(spool, tenant_id, self._keys)
                spool.seek(0)
                check = restore_to_scratch(scratch, spool, verified)
        except BundleRefused as exc:
            return exc.code
        except Exception as exc:
            logger.exception("restore test error", extra={"tenant_id": str(tenant_id)})
            return f"{type(exc).__name__}: {exc}"[:500]
        return None if check.ok else "; ".join(check.problems)[:500]


def export_all(
    connect: Callable[[], Database],
    store: BundleStore,
    keys: DataKeys,
    *,
    concurrency: int = 4,
    day: date | None = None,
) -> list[ExportOutcome | Exception]:
    """Export every shop's bundle of ``day`` (today in São Paulo) with ``concurrency`` threads, each
    on its own connection (``connect()``: e.g. ``Database(DatabaseSettings(database_url=...))``).
    One answer per shop, in the shops' order: its outcome, or the exception it failed with."""
    first = connect()
    runs = BackupRuns(first, store, keys)
    shops = runs.shops()
    day = day or runs.today()
    answers: list[ExportOutcome | Exception | None] = [None] * len(shops)
    next_index = iter(range(len(shops)))
    lock = threading.Lock()

    def work(db: Database) -> None:
        worker = BackupRuns(db, store, keys)
        try:
            while True:
                with lock:
                    index = next(next_index, None)
                if index is None:
                    return
                try:
                    answers[index] = worker.export(shops[index], day)
                except Exception as exc:
                    answers[index] = exc
        finally:
            db.close()

    threads = [
        threading.Thread(target=work, args=(first if i == 0 else connect(),))
        for i in range(max(1, concurrency))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [a if a is not None else RuntimeError("not exported") for a in answers]
