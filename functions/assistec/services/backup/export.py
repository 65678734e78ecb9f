"""A shop's data out, as one consistent snapshot: into a bundle (``export_bundle``) or to any other
consumer of its table files (``dump_tables``: the owner's portability export).

The snapshot is one read-only REPEATABLE READ transaction of the app role in the shop (every table as
of the same instant; row-level security shows that shop's rows only, and each query names the shop
too). Each table is ``COPY (SELECT <columns> FROM <table> WHERE tenant_id = <shop> ORDER BY <key>) TO
STDOUT`` in text format, streamed through gzip into a spool (memory up to ``TABLE_SPOOL_BYTES``, then
the function's /tmp) while its row count and SHA-256 are taken, then into the bundle; so a shop is
never held in memory, not even once: at most one table's spool and one 4 MiB frame.

Generated columns are left out (PostgreSQL computes them again on restore). Device photos are
referenced, not copied: their S3 keys are in ``device_photos`` and the objects stay in the devices
bucket (the manifest says so).

The KMS data key is asked for before the transaction opens (no transaction is held across a
provider call).
"""

from __future__ import annotations

import io
import os
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cache
from typing import IO, TYPE_CHECKING
from uuid import UUID, uuid4

from assistec.db import backup as backup_db
from assistec.db.backup import TableShape
from assistec.domain.backup_bundle import (
    TABLE_ENCODING,
    BundleWriter,
    Column,
    Header,
    Manifest,
    TableDigest,
    TableEntry,
    gzip_compressor,
    gzip_writer,
    key_context,
)
from assistec.integrations.kms import DataKeys
from assistec.services.backup.tables import bundled, excluded

if TYPE_CHECKING:
    from assistec.db.connection import Database
    from assistec.db.sql import Conn

TABLE_SPOOL_BYTES = 16 * 1024 * 1024

PHOTOS_NOTE = (
    "As fotos dos aparelhos não estão neste backup: device_photos guarda a chave (s3_key) de cada "
    "arquivo, que continua no bucket de fotos da loja."
)

TableSink = Callable[[TableEntry, IO[bytes], int], None]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What an export read besides the tables."""

    tenant_id: UUID
    shop_name: str
    schema_version: int
    tables: tuple[TableEntry, ...]


@dataclass(frozen=True, slots=True)
class _Table:
    """A table of the bundle, with what every shop's export of it reuses."""

    shape: TableShape
    columns: tuple[Column, ...]
    copy: bytes  # its COPY statement (backup_db.copy_statement)

    def entry(self, digest: TableDigest) -> TableEntry:
        return TableEntry(
            name=self.shape.name,
            rows=digest.rows,
            sha256=digest.sha256,
            bytes=digest.bytes,
            columns=self.columns,
            key=self.shape.order_by,
        )


@dataclass(frozen=True, slots=True)
class _Catalog:
    stamp: str
    tables: tuple[_Table, ...]
    shapes: tuple[TableShape, ...]
    facts: bytes  # the snapshot's facts statement about these tables (backup_db.facts_statement)
    # The tables the database's presence function probes, in its answer's order, when they are
    # exactly the tables the app role may read (the catalog as the migrations left it): the facts
    # statement asks it. None: the statement probes the tables itself.
    presence: tuple[str, ...] | None


# The tables of a bundle as the catalog described them last, with the catalog's stamp then
# (``backup_db.catalog_stamp``), by database and role: a warm function or a run's threads read the
# catalog once, and any DDL on schema public's tables reads it again.
_catalogs: dict[tuple[object, ...], _Catalog] = {}
_catalog_lock = threading.Lock()


def _catalog_key(conn: Conn) -> tuple[object, ...]:
    """Which ``_catalogs`` entry a connection's database and role use."""
    info = conn.info
    return (info.host, info.port, info.dbname, info.user)


def _read_catalog(conn: Conn, stamp: str) -> _Catalog:
    found = backup_db.tenant_tables(conn)
    shapes = tuple(bundled(found))
    probed = backup_db.presence_tables(conn)
    presence = probed if probed is not None and set(probed) == {t.name for t in found if t.readable} else None
    tables = tuple(
        _Table(
            shape,
            tuple(Column(name, type_) for name, type_ in shape.columns),
            backup_db.copy_statement(conn, shape),
        )
        for shape in shapes
    )
    facts = backup_db.facts_statement(conn, shapes, presence=presence is not None)
    return _Catalog(stamp, tables, shapes, facts, presence)


def _facts(conn: Conn, tenant_id: UUID) -> tuple[_Catalog, backup_db.SnapshotFacts]:
    """The bundle's tables and the snapshot's facts: one statement while the catalog is unchanged
    (the stamp is read with the facts, about the tables known under the stamp seen last)."""
    where = _catalog_key(conn)
    catalog = _catalogs.get(where)
    if catalog is None:
        facts = backup_db.snapshot_facts(conn, tenant_id, ())
    else:
        facts = backup_db.snapshot_facts(
            conn, tenant_id, catalog.shapes, statement=catalog.facts, presence=catalog.presence
        )
        if facts.presence_failed:
            # (this shop's tables were probed by the statement instead: the catalog is read again
            # for the next shop, and its presence function compared with it)
            with _catalog_lock:
                _catalogs.pop(where, None)
    if catalog is None or facts.catalog_stamp != catalog.stamp:
        catalog = _read_catalog(conn, facts.catalog_stamp)
        facts = replace(facts, present=backup_db.tables_with_rows(conn, catalog.shapes, tenant_id))
        with _catalog_lock:
            if len(_catalogs) >= 8:
                _catalogs.clear()
            _catalogs[where] = catalog
    return catalog, facts


@cache
def _empty_table() -> bytes:
    """An empty table's file: gzip of nothing (the same bytes every time: no name, no time)."""
    buffer = io.BytesIO()
    with gzip_writer(buffer):
        pass
    return buffer.getvalue()


def dump_tables(db: Database, tenant_id: UUID, on_table: TableSink) -> Snapshot:
    """Read the shop's tables in one snapshot; ``on_table(entry, gzip_file, size)`` receives each
    table's gzip-compressed COPY text (positioned at its start), parents before children.

    The statement that reads the snapshot's facts also finds which tables hold any of the shop's
    rows; an empty table gets the empty file without a COPY of its own."""
    try:
        return _dump_tables(db, tenant_id, on_table)
    except _StaleCatalog:
        # A table or column the kept catalog names was dropped or renamed since (or its grant
        # revoked): the facts statement failed before any table was read. Once more, read afresh.
        return _dump_tables(db, tenant_id, on_table)


class _StaleCatalog(Exception):
    """The facts statement, composed from the catalog kept since an earlier shop, names what the
    database no longer has (that catalog is forgotten)."""


def _dump_tables(db: Database, tenant_id: UUID, on_table: TableSink) -> Snapshot:
    from psycopg import errors

    entries = []
    with backup_db.snapshot(db, tenant_id) as conn:
        kept = _catalog_key(conn) in _catalogs
        try:
            catalog, facts = _facts(conn, tenant_id)
        except (errors.UndefinedTable, errors.UndefinedColumn, errors.InsufficientPrivilege) as exc:
            if not kept:
                raise
            with _catalog_lock:
                _catalogs.clear()
            raise _StaleCatalog from exc
        for table in catalog.tables:
            if table.shape.name not in facts.present:
                empty = _empty_table()
                entry = table.entry(TableDigest())
                on_table(entry, io.BytesIO(empty), len(empty))
                entries.append(entry)
                continue
            with tempfile.SpooledTemporaryFile(max_size=TABLE_SPOOL_BYTES) as spool:
                digest = TableDigest()
                compressor = gzip_compressor()
                for block in backup_db.copy_out(conn, table.shape, tenant_id, statement=table.copy):
                    digest.update(block)
                    spool.write(compressor.compress(block))
                spool.write(compressor.flush())
                size = spool.tell()
                spool.seek(0)
                entry = table.entry(digest)
                on_table(entry, spool, size)
                entries.append(entry)
    return Snapshot(tenant_id, facts.shop_name, facts.schema_version, tuple(entries))


@dataclass(frozen=True, slots=True)
class ExportedBundle:
    tenant_id: UUID
    bundle_id: UUID
    manifest: Manifest
    manifest_sha256: bytes
    size: int  # bytes written to the sink

    @property
    def rows(self) -> int:
        return self.manifest.rows


def export_bundle(
    db: Database, tenant_id: UUID, keys: DataKeys, sink: IO[bytes], *, now: datetime | None = None
) -> ExportedBundle:
    """Write the shop's bundle to ``sink`` (a file, a spool: written once, front to back)."""
    data_key, encrypted_key = keys.generate(key_context(tenant_id))
    header = Header(
        tenant_id=tenant_id,
        bundle_id=uuid4(),
        created_at=(now or datetime.now(UTC)).astimezone(UTC),
        encrypted_key=encrypted_key,
        nonce=os.urandom(12),
    )
    writer = BundleWriter(sink, header, data_key)
    snapshot = dump_tables(db, tenant_id, lambda entry, data, size: writer.add_table(entry.name, data, size))
    manifest = Manifest(
        bundle_id=header.bundle_id,
        tenant_id=tenant_id,
        shop_name=snapshot.shop_name,
        created_at=header.created_at,
        schema_version=snapshot.schema_version,
        tables=snapshot.tables,
        excluded=excluded(),
        notes={"photos": PHOTOS_NOTE, "tables": TABLE_ENCODING},
    )
    digest = writer.finish(manifest)
    return ExportedBundle(tenant_id, header.bundle_id, manifest, digest, writer.written)
