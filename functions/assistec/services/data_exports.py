"""The owner's copy of the shop's data (LGPD, portability; issue 13 §3): asked for in the API, made by
the data exports worker off the API (a large shop's zip takes longer than API Gateway waits).

``DataExports`` (the API; the shop's owner only, 403 for anyone else):

- ``request``: a pending export, audited, and a ``DataExportRequested`` event in the same transaction
  (the outbox publishes it; an EventBridge rule queues it for the worker). 409 ``export_in_progress``
  while one is under way (two clicks at once too: the database's unique index decides), 429
  ``export_limit_reached`` (with Retry-After) past the daily limit (domain/data_exports.py);
- ``list``/``get``: the shop's exports, newest first; an export left under way by a worker that died
  is recorded failed here (its lease ran out: domain ``stale``), so the owner can ask again;
- ``download``: a presigned link valid 5 minutes to a ready export's zip, audited; 409
  ``export_not_ready`` before, 410 ``export_expired`` after its ``expires_at`` (7 days).

``DataExportRunner.run`` (the worker, one queue message): takes the export (only from 'pending', or
from a 'running' past its lease, so a duplicate delivery does nothing), writes the zip
(``services/backup/portability.py``: the shop's tables out of one snapshot, secrets left out) to the
exports bucket, then records it 'ready' with its counts, size and expiry in one statement guarded by
the run's attempt (a run that dies before leaves no 'ready' record, and one that lost its export
changes nothing), and e-mails the owner that it is in the panel (no link in the e-mail). A failure
records 'failed' with a pt-BR message. No transaction is held while the shop is read or S3 answers,
besides the export's own read-only snapshot.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal
from uuid import UUID

from assistec.db import data_exports as exports_db
from assistec.db.sql import DuplicateError
from assistec.domain import data_exports as rules
from assistec.domain.permissions import Role
from assistec.domain.tokens import Identity
from assistec.errors import (
    AppError,
    ConflictError,
    ForbiddenError,
    ServiceUnavailableError,
    TooManyAttemptsError,
    found,
)
from assistec.integrations.storage import ExportStore
from assistec.observability import logger
from assistec.services.audit import SystemActor
from assistec.services.unit_of_work import UnitOfWork, UnitsOfWork

if TYPE_CHECKING:
    from assistec.db.connection import Database
    from assistec.db.data_exports import DataExportRow
    from assistec.services.email.service import Mail

_NOT_FOUND = "Exportação não encontrada."
# A zip is written to a spool (memory up to this, then /tmp) and uploaded from there.
ZIP_SPOOL_BYTES = 64 * 1024 * 1024


class ExportInProgressError(ConflictError):
    code = "export_in_progress"
    message = (
        "Já há uma exportação dos dados da loja em andamento. Aguarde ela terminar (você recebe um "
        "e-mail) para pedir outra."
    )


class ExportLimitError(TooManyAttemptsError):
    code = "export_limit_reached"
    message = (
        f"A loja já pediu {rules.DAILY_LIMIT} exportações dos dados nas últimas 24 horas, e cada uma lê "
        "a loja inteira. Baixe uma das exportações prontas ou tente de novo mais tarde."
    )


class ExportNotReadyError(ConflictError):
    code = "export_not_ready"
    message = "Esta exportação não está pronta para baixar."


class ExportExpiredError(AppError):
    status = 410
    code = "export_expired"
    message = (
        f"O arquivo desta exportação expirou: ele fica disponível por {rules.FILE_DAYS} dias. "
        "Peça uma nova exportação."
    )


class ExportStorageUnavailableError(ServiceUnavailableError):
    code = "storage_unavailable"
    message = "Não foi possível acessar os arquivos agora. Tente novamente em instantes."


OWNER_ONLY = "Só o dono da loja pode exportar e baixar os dados da loja."


@dataclass(frozen=True, slots=True)
class DataExportView:
    """An export as the owner sees it (``expired``: its file is no longer handed out)."""

    row: DataExportRow
    expired: bool


@dataclass(frozen=True, slots=True)
class ExportLink:
    """Where to download a ready export's zip, until ``expires_at``, and the file's name."""

    url: str
    filename: str
    content_type: str
    expires_at: datetime


def _owner(identity: Identity) -> None:
    # The whole shop's data, customers' included: the owner's alone (admins manage, they do not take
    # the shop away). Checked before anything is read.
    if identity.role is not Role.OWNER:
        raise ForbiddenError(OWNER_ONLY)


class DataExports:
    """The owner's requests, the list and the download links (see the module docstring)."""

    def __init__(
        self,
        work: UnitsOfWork,
        store: Callable[[], ExportStore],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._work = work
        self._store = store
        self._clock = clock

    def request(self, identity: Identity) -> DataExportView:
        _owner(identity)
        now = self._clock()
        with self._work(identity) as uow:
            _fail_stale(uow, now)
            if exports_db.active(uow.conn) is not None:
                raise ExportInProgressError()
            recent = rules.counted(exports_db.requested_since(uow.conn, now - rules.WINDOW), now)
            retry_after = rules.retry_after_s(recent, now)
            if retry_after is not None:
                raise ExportLimitError(retry_after)
            try:
                row = exports_db.insert(
                    uow.conn, tenant_id=uow.tenant_id, requested_by=identity.user_id, now=now
                )
            except DuplicateError as exc:  # a request at the same instant got there first
                raise ExportInProgressError() from exc
            uow.audit("request", "data_export", row.id, changes={"status": row.status})
            uow.emit(rules.REQUESTED_EVENT, {"export_id": str(row.id)})
        logger.info("data export requested", extra={"export_id": str(row.id)})
        return DataExportView(row, expired=False)

    def list(
        self, identity: Identity, *, limit: int, before: tuple[datetime, UUID] | None
    ) -> list[DataExportView]:
        _owner(identity)
        now = self._clock()
        with self._work(identity) as uow:
            _fail_stale(uow, now)
            rows = exports_db.page(uow.conn, limit=limit, before=before)
        return [DataExportView(r, rules.expired(r.expires_at, now)) for r in rows]

    def get(self, identity: Identity, export_id: UUID) -> DataExportView:
        _owner(identity)
        now = self._clock()
        with self._work(identity) as uow:
            _fail_stale(uow, now)
            row = found(exports_db.get(uow.conn, export_id), _NOT_FOUND)
        return DataExportView(row, rules.expired(row.expires_at, now))

    def download(self, identity: Identity, export_id: UUID) -> ExportLink:
        _owner(identity)
        now = self._clock()
        with self._work(identity) as uow:
            row = found(exports_db.get(uow.conn, export_id), _NOT_FOUND)
        if row.status != "ready" or row.s3_key is None:
            raise ExportNotReadyError(details={"status": row.status})
        if rules.expired(row.expires_at, now):
            raise ExportExpiredError(
                details={"expires_at": row.expires_at.isoformat() if row.expires_at else None}
            )
        name = rules.filename(row.requested_at)
        try:
            url = self._store().download_url(row.s3_key, expires_s=rules.LINK_EXPIRES_S, filename=name)
        except Exception as exc:
            logger.exception("data export link could not be signed", extra={"export_id": str(row.id)})
            raise ExportStorageUnavailableError() from exc
        with self._work(identity) as uow:
            uow.audit("download", "data_export", row.id, changes={"key": row.s3_key})
        return ExportLink(
            url=url,
            filename=name,
            content_type=rules.CONTENT_TYPE,
            expires_at=now + timedelta(seconds=rules.LINK_EXPIRES_S),
        )


def _fail_stale(uow: UnitOfWork, now: datetime) -> None:
    """The shop's export under way, recorded failed when no worker can still be making it."""
    current = exports_db.active(uow.conn)
    if (
        current is not None
        and rules.stale(current.status, current.requested_at, current.started_at, now)
        and exports_db.fail(uow.conn, current.id, error=rules.INTERRUPTED_MESSAGE, now=now)
    ):
        uow.audit(
            "failed",
            "data_export",
            current.id,
            changes={"reason": "interrupted"},
            by=SystemActor(uow.tenant_id),
        )
        logger.warning("data export interrupted", extra={"export_id": str(current.id)})


Outcome = Literal["ready", "failed", "skipped"]


class DataExportRunner:
    """The worker's run of one export (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        work: UnitsOfWork,
        store: ExportStore,
        *,
        mail: Callable[[], Mail | None] = lambda: None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._db = db
        self._work = work
        self._store = store
        self._mail = mail
        self._clock = clock

    def run(self, tenant_id: UUID, export_id: UUID) -> Outcome:
        """Make the export once. Errors reading or writing the export's own row propagate (the queue
        delivers the message again); a failure making the zip is recorded on the export."""
        now = self._clock()
        with self._work(SystemActor(tenant_id)) as uow:
            row = exports_db.claim(
                uow.conn, export_id, now=now, stale_before=now - timedelta(seconds=rules.RUNNING_LEASE_S)
            )
        if row is None:
            logger.info(
                "data export not taken (done, failed or under way)", extra={"export_id": str(export_id)}
            )
            return "skipped"
        key = rules.export_key(tenant_id, export_id)
        try:
            from assistec.services.backup.portability import portability_zip

            with tempfile.SpooledTemporaryFile(max_size=ZIP_SPOOL_BYTES) as spool:
                report = portability_zip(self._db, tenant_id, spool)
                size = spool.tell()
                spool.seek(0)
                stored_at = self._clock()
                self._store.put(key, spool, filename=rules.filename(row.requested_at))
        except Exception as exc:
            logger.exception("data export failed", extra={"export_id": str(export_id)})
            with self._work(SystemActor(tenant_id)) as uow:
                if exports_db.finish_failed(
                    uow.conn, export_id, attempt=row.attempts, error=rules.FAILED_MESSAGE, now=self._clock()
                ):
                    uow.audit("failed", "data_export", export_id, changes={"error": type(exc).__name__})
            return "failed"
        expires = rules.expires_at(stored_at)
        owners: list[str] = []
        with self._work(SystemActor(tenant_id)) as uow:
            done = exports_db.finish_ready(
                uow.conn,
                export_id,
                attempt=row.attempts,
                s3_key=key,
                size=size,
                rows=report.rows,
                files=len(report.files),
                expires_at=expires,
                now=self._clock(),
            )
            if done:
                uow.audit(
                    "ready",
                    "data_export",
                    export_id,
                    changes={"rows": report.rows, "files": len(report.files), "bytes": size},
                )
                owners = exports_db.owner_emails(uow.conn)
        if not done:
            logger.warning("data export finished by a run that lost it", extra={"export_id": str(export_id)})
            return "skipped"
        logger.info(
            "data export ready",
            extra={
                "export_id": str(export_id),
                "rows": report.rows,
                "files": len(report.files),
                "bytes": size,
            },
        )
        self._tell_owners(tenant_id, owners, requested_at=row.requested_at, expires=expires)
        return "ready"

    def _tell_owners(
        self, tenant_id: UUID, owners: list[str], *, requested_at: datetime, expires: datetime
    ) -> None:
        """E-mail the owners that the export is in the panel (never fails the run: it is ready)."""
        mail = self._mail()
        if mail is None:
            return
        for email in owners:
            try:
                mail.send(
                    tenant_id,
                    template="data_export_ready",
                    to=email,
                    context={"requested_at": requested_at, "expires_at": expires},
                    audience="shop",
                )
            except Exception:
                logger.exception("could not e-mail the owner that the data export is ready")
