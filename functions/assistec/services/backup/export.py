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
from dataclasses import dataclass
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
    gzip_writer,
    key_context,
)
from assistec.integrations.kms import DataKeys
from assistec.services.backup.tables import bundled, excluded

if TYPE_CHECKING:
    from assistec.db.connection import Database
    from assistec.db.sql import Conn

TABLE_SPOOL_BYTES = 16 * 1024 * 1024
_BLOCK = 1024 * 1024

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


def _entry(shape: TableShape, digest: TableDigest) -> TableEntry:
    return TableEntry(
        name=shape.name,
        rows=digest.rows,
        sha256=digest.sha256,
        bytes=digest.bytes,
        columns=tuple(Column(name, type_) for name, type_ in shape.columns),
        key=shape.order_by,
    )


# The tables of a bundle as the catalog described them last, by database, role and catalog stamp
# (``backup_db.catalog_stamp``): a warm function or a run's threads read the catalog once, and any DDL
# on schema public's tables reads it again.
_catalog: dict[tuple[object, ...], tuple[TableShape, ...]] = {}
_catalog_lock = threading.Lock()


def _tables(conn: Conn) -> tuple[TableShape, ...]:
    info = conn.info
    key = (info.host, info.port, info.dbname, info.user, backup_db.catalog_stamp(conn))
    tables = _catalog.get(key)
    if tables is None:
        tables = tuple(bundled(backup_db.tenant_tables(conn)))
        with _catalog_lock:
            if len(_catalog) >= 8:
                _catalog.clear()
            _catalog[key] = tables
    return tables


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

    One statement first finds which tables hold any of the shop's rows (in the same snapshot); an
    empty table gets the empty file without a COPY of its own."""
    entries = []
    with backup_db.snapshot(db, tenant_id) as conn:
        version = backup_db.schema_version(conn)
        name = backup_db.shop_name(conn, tenant_id)
        tables = _tables(conn)
        present = backup_db.tables_with_rows(conn, tables, tenant_id)
        for shape in tables:
            if shape.name not in present:
                empty = _empty_table()
                entry = _entry(shape, TableDigest())
                on_table(entry, io.BytesIO(empty), len(empty))
                entries.append(entry)
                continue
            with tempfile.SpooledTemporaryFile(max_size=TABLE_SPOOL_BYTES) as spool:
                digest = TableDigest()
                with gzip_writer(spool) as compressed:
                    block = bytearray()
                    for row in backup_db.copy_out(conn, shape, tenant_id):
                        block += row
                        if len(block) >= _BLOCK:
                            digest.update(block)
                            compressed.write(block)
                            block = bytearray()
                    digest.update(block)
                    compressed.write(block)
                size = spool.tell()
                spool.seek(0)
                entry = _entry(shape, digest)
                on_table(entry, spool, size)
                entries.append(entry)
    return Snapshot(tenant_id, name, version, tuple(entries))


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
