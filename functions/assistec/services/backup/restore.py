"""A bundle back into a database: into the shop's own tables (``restore_bundle``), or into scratch
tables to check it (``restore_to_scratch``, the weekly restore test; also for inspection).

Restoring into the shop's own tables is one transaction of the app role in that shop, after the
whole bundle was verified (``verify``; a refused bundle changes nothing), under a permit the ops role
issued for it (``permit_restore``, migration 0034: the app role alone may not clear a shop's tables):

1. the bundle's schema version must be the database's (a bundle is restored into the schema it was
   taken from: after a migration, restore it into a database at its version — the scratch restore
   does that — and carry the data over by hand), and its tables and columns the live ones;
2. the permit is used (this shop's, once, unexpired) and the shop's row is locked (every insert of
   the shop's rows waits on it until the commit);
3. the shop's rows of each replaced table are deleted, children before parents (foreign keys from
   the catalog; none is deferrable), through migration 0031's ``backup_restore_clear`` (the app role
   may not delete orders, quotes, charges...; the function refuses a transaction without a permit);
4. the bundle's rows are written back, parents before children, with their ids. Not with COPY FROM:
   PostgreSQL refuses it on tables with row-level security; each batch is one INSERT ... SELECT
   FROM unnest(text arrays) cast by the types' input functions, which is what COPY would do. RLS's
   WITH CHECK refuses any row of another shop. A table's foreign key to itself (an order under the
   warranty of another) is written NULL first and set once every row is in. Generated columns are
   computed by PostgreSQL; the appointments' exclusion constraint holds because the bundle's rows
   held it together when they were read, and the shop's other rows are gone;
5. identity sequences are moved past the restored ids if a database point-in-time recovery left
   them behind (``backup_advance_identities``); an audit row says who restored what.

What a restore does per table is in ``tables.RESTORE`` (the audit log is appended to, never erased;
the outbox, the providers' inboxes, the billing records and the bank agreements' counters are kept;
sessions end). The one trigger to mind, on confirmed reconciliation matches (migration 0036), lets a
transaction with a used restore permit delete and write them back.
A unique key held since by another shop (a user's e-mail, say) refuses the whole restore with
``restore_conflict``.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING
from uuid import UUID

from assistec.db import backup as backup_db
from assistec.db.backup import TableShape
from assistec.domain.backup_bundle import (
    BundleRefused,
    Manifest,
    TableDigest,
    TableEntry,
    VerifiedBundle,
    copy_rows,
    read_tables,
)
from assistec.integrations.kms import DataKeys
from assistec.services.audit import SystemActor
from assistec.services.backup.tables import NOT_BUNDLED, Restore, dependency_order, restore_mode
from assistec.services.backup.verify import verify
from assistec.services.unit_of_work import UnitsOfWork

if TYPE_CHECKING:
    from assistec.db.connection import Database
    from assistec.db.sql import Conn

BATCH_ROWS = 2000


@dataclass(frozen=True, slots=True)
class RestoreReport:
    tenant_id: UUID
    bundle_id: UUID
    schema_version: int
    deleted: dict[str, int]
    written: dict[str, int]


def _schema_refused(detail: str) -> BundleRefused:
    return BundleRefused(
        "schema_mismatch",
        f"O backup é de outra versão do banco de dados ({detail}); ele só pode ser restaurado num banco "
        "na mesma versão.",
    )


def _check_schema(manifest: Manifest, version: int, live: dict[str, TableShape]) -> None:
    if manifest.schema_version != version:
        raise _schema_refused(f"backup na versão {manifest.schema_version}, banco na {version}")
    expected = {name for name in live if name not in NOT_BUNDLED}
    if {t.name for t in manifest.tables} != expected:
        raise _schema_refused("as tabelas não são as mesmas")
    cleared = {n for n in live if restore_mode(n) in (Restore.REPLACE, Restore.CLEAR)}
    for name, shape in live.items():
        if name not in cleared and shape.references & cleared:
            # Its rows would stop the clearing (or point at rows gone): a table to classify in tables.py.
            raise RuntimeError(
                f"{name} is kept by a restore but refers to {sorted(shape.references & cleared)}"
            )
    seen: set[str] = set()
    for entry in manifest.tables:
        shape = live[entry.name]
        if tuple((c.name, c.type) for c in entry.columns) != shape.columns:
            raise _schema_refused(f"as colunas de {entry.name} não são as mesmas")
        if (shape.references & expected) - seen:
            raise _schema_refused(f"{entry.name} vem antes das tabelas a que se refere")
        seen.add(entry.name)


def _rows(entry: TableEntry, stream: IO[bytes]) -> Iterator[list[str | None]]:
    width = len(entry.columns)
    for row in copy_rows(stream):
        if len(row) != width:
            raise BundleRefused("manifest_mismatch")
        yield row


def _write(conn: Conn, shape: TableShape, entry: TableEntry, stream: IO[bytes], *, append: bool) -> int:
    columns = [c.name for c in entry.columns]
    # A foreign key of the table to itself: written NULL, set once every row is in.
    later = [] if append else sorted({c for fk in shape.self_references for c in fk})
    if later and (not shape.key or not set(later) <= shape.nullable):
        raise RuntimeError(f"{shape.name}: a self-reference that is not nullable, or no key to set it by")
    key_at = [columns.index(k) for k in shape.key]
    later_at = [columns.index(c) for c in later]
    nulled = frozenset(later)
    pending: list[list[str | None]] = []
    batch: list[list[str | None]] = []
    written = 0
    for row in _rows(entry, stream):
        batch.append(row)
        if later and any(row[i] is not None for i in later_at):
            pending.append([row[i] for i in key_at] + [row[i] for i in later_at])
        if len(batch) >= BATCH_ROWS:
            written += backup_db.insert_rows(conn, shape, columns, batch, nulled=nulled, skip_existing=append)
            batch = []
    written += backup_db.insert_rows(conn, shape, columns, batch, nulled=nulled, skip_existing=append)
    for start in range(0, len(pending), BATCH_ROWS):
        backup_db.set_columns(conn, shape, shape.key, later, pending[start : start + BATCH_ROWS])
    return written


def permit_restore(ops: Database, tenant_id: UUID, operator: str) -> str:
    """A permit for one in-place restore of the shop, issued through ``ops`` (a connection of the ops
    role: only it may issue one); its token, for ``restore_bundle``. Valid for 20 minutes, once."""
    token = secrets.token_urlsafe(32)
    with ops.transaction() as conn:
        backup_db.permit_restore(conn, tenant_id, hashlib.sha256(token.encode()).digest(), operator)
    return token


def restore_bundle(
    db: Database, tenant_id: UUID, source: IO[bytes], keys: DataKeys, *, permit: str
) -> RestoreReport:
    """Put the shop's data back as the bundle at the start of ``source`` (seekable: it is read twice,
    to verify, then to write) has it, in one transaction; refused whole, nothing changed, when the
    bundle or its schema version is not right. ``permit``: ``permit_restore``'s token for the shop
    (without a valid one the database refuses with InsufficientPrivilege, nothing changed)."""
    import psycopg

    start = source.tell()
    verified = verify(source, tenant_id, keys)
    manifest = verified.manifest
    source.seek(start)
    deleted: dict[str, int] = {}
    written: dict[str, int] = {}
    try:
        with UnitsOfWork(db)(SystemActor(tenant_id)) as uow:
            conn = uow.conn
            backup_db.pin_output(conn)
            live = {s.name: s for s in backup_db.tenant_tables(conn)}
            _check_schema(manifest, backup_db.schema_version(conn), live)
            backup_db.begin_restore(conn, permit)
            backup_db.lock_shop(conn, tenant_id)
            for shape in reversed(dependency_order(live.values())):
                if restore_mode(shape.name) in (Restore.REPLACE, Restore.CLEAR):
                    deleted[shape.name] = backup_db.clear(conn, shape.name)
            for entry, stream in read_tables(source, verified):
                mode = restore_mode(entry.name)
                if mode in (Restore.REPLACE, Restore.APPEND):
                    written[entry.name] = _write(
                        conn, live[entry.name], entry, stream, append=mode is Restore.APPEND
                    )
                elif mode is Restore.SHOP:
                    rows = list(_rows(entry, stream))
                    if len(rows) != 1:
                        raise BundleRefused("manifest_mismatch")
                    names = [c.name for c in entry.columns]
                    backup_db.restore_shop_row(conn, tenant_id, dict(zip(names, rows[0], strict=True)))
                    written[entry.name] = 1
            backup_db.advance_identities(conn)
            uow.audit(
                "restore",
                "tenant",
                tenant_id,
                changes={
                    "bundle_id": str(manifest.bundle_id),
                    "created_at": manifest.created_at.isoformat(),
                    "schema_version": manifest.schema_version,
                    "rows_written": sum(written.values()),
                },
            )
    except psycopg.errors.IntegrityError as exc:
        constraint = exc.diag.constraint_name or exc.sqlstate or "?"
        raise BundleRefused(
            "restore_conflict",
            f"Um registro do backup conflita com dados que já existem ({constraint}); nada foi alterado.",
        ) from exc
    return RestoreReport(tenant_id, manifest.bundle_id, manifest.schema_version, deleted, written)


# --- the scratch restore ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScratchCheck:
    """A bundle written into scratch tables and exported back, compared with its manifest."""

    tenant_id: UUID
    bundle_id: UUID
    relations: dict[str, str]  # table → its scratch table in schema backup_restore
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def scratch_prefix(bundle_id: UUID) -> str:
    return f"r{bundle_id.hex[:12]}_"


def _scratch_shape(entry: TableEntry) -> TableShape:
    return TableShape(
        name=entry.name,
        columns=tuple((c.name, c.type) for c in entry.columns),
        generated=(),
        identity=(),
        nullable=frozenset(),
        key=entry.key,
        references=frozenset(),
        self_references=(),
        readable=True,
        isolated=False,
    )


def restore_to_scratch(
    scratch: Database, source: IO[bytes], verified: VerifiedBundle, *, keep: bool = False
) -> ScratchCheck:
    """Write the verified bundle at the start of ``source`` into tables of schema ``backup_restore``
    (``r<bundle id>_<table>``: like the public table, with its defaults, NOT NULL and CHECK constraints,
    no foreign keys, no row-level security), export each back exactly as the export does and compare
    rows and SHA-256 with the manifest.

    ``scratch`` is a connection of a role that may create tables in ``backup_restore`` and read the
    public tables' definitions (the ops role, migration 0031), in a database at a compatible schema.
    Everything is one transaction, rolled back at the end (nothing is left behind, even if the
    function dies halfway), unless ``keep`` (inspection: the tables stay until dropped)."""
    import psycopg

    manifest = verified.manifest
    prefix = scratch_prefix(manifest.bundle_id)
    relations = {t.name: prefix + t.name for t in manifest.tables}
    problems: list[str] = []
    with scratch.transaction() as conn:
        backup_db.pin_output(conn)
        for entry, stream in read_tables(source, verified):
            backup_db.create_scratch_table(conn, relations[entry.name], entry.name)
            backup_db.copy_in(conn, relations[entry.name], [c.name for c in entry.columns], stream)
        for entry in manifest.tables:
            digest = TableDigest()
            for row in backup_db.copy_out(
                conn,
                _scratch_shape(entry),
                manifest.tenant_id,
                schema=backup_db.RESTORE_SCHEMA,
                relation=relations[entry.name],
            ):
                digest.update(row)
            if digest.rows != entry.rows:
                problems.append(f"{entry.name}: {digest.rows} rows back, {entry.rows} in the manifest")
            elif digest.sha256 != entry.sha256:
                problems.append(f"{entry.name}: the rows read back differ from the bundle's")
        if not keep:
            raise psycopg.Rollback()
    return ScratchCheck(manifest.tenant_id, manifest.bundle_id, relations, problems)
