"""SQL of the backups (services/backup): the shop's tables read from the catalog, its rows out with
COPY in one snapshot, back in with INSERT, the scratch tables of the restore test, and the record of
the runs (migration 0031), the in-place restore's permits (migration 0034).

Row-level security decides what a shop's bundle holds; every query here names the shop as well
(``tenant_id = %s``), so a policy added one day that widens what the app role sees still cannot put
another shop's rows into a bundle.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, TYPE_CHECKING, Any
from uuid import UUID

from assistec.db.sql import fetch_dicts

if TYPE_CHECKING:
    from assistec.db.connection import Database
    from assistec.db.sql import Conn

# Session settings every export (and the restore test's re-export) runs under, so the same rows
# always print the same text (the per-table SHA-256 of the manifest depends on it).
OUTPUT_SETTINGS = {
    "TimeZone": "UTC",
    "DateStyle": "ISO, YMD",
    "IntervalStyle": "postgres",
    "bytea_output": "hex",
    "extra_float_digits": "3",
}
# The app role's statements stop at 10 s (its role default, migration-time): a shop's biggest table
# takes longer to copy. Local to the backup's own transaction.
BACKUP_STATEMENT_TIMEOUT = "14min"
RESTORE_SCHEMA = "backup_restore"


@dataclass(frozen=True, slots=True)
class TableShape:
    """A table of schema public as the catalog describes it."""

    name: str
    # (name, type as format_type prints it), in column order; generated columns apart.
    columns: tuple[tuple[str, str], ...]
    generated: tuple[str, ...]
    # Identity columns (GENERATED ALWAYS AS IDENTITY): a restore writes their values back.
    identity: tuple[str, ...]
    nullable: frozenset[str]
    key: tuple[str, ...]  # the primary key's columns; empty when none
    # Other tables this one's foreign keys point at.
    references: frozenset[str]
    # This table's foreign keys to itself: their columns other than tenant_id.
    self_references: tuple[tuple[str, ...], ...]
    readable: bool  # the current role may SELECT it
    isolated: bool  # row-level security enabled and forced

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    @property
    def order_by(self) -> tuple[str, ...]:
        return self.key or self.column_names

    def type_of(self, column: str) -> str:
        return dict(self.columns)[column]


_TABLES = """
select c.oid, c.relname, c.relrowsecurity and c.relforcerowsecurity as isolated,
       has_table_privilege(c.oid, 'SELECT') as readable,
       coalesce((select array_agg(a.attname::text order by k.ord)
                 from pg_index i
                 cross join lateral unnest(i.indkey) with ordinality as k(attnum, ord)
                 join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
                 where i.indrelid = c.oid and i.indisprimary), '{}') as key
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
where n.nspname = 'public' and c.relkind in ('r', 'p')
  and (c.relname = 'tenants' or exists (
      select 1 from pg_attribute t
      where t.attrelid = c.oid and t.attname = 'tenant_id' and not t.attisdropped))
order by c.relname
"""

_COLUMNS = """
select a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod) as type, a.attgenerated <> '' as generated,
       a.attidentity <> '' as identity, not a.attnotnull as nullable
from pg_attribute a
where a.attrelid = any(%s) and a.attnum > 0 and not a.attisdropped
order by a.attrelid, a.attnum
"""

_FOREIGN_KEYS = """
select f.conrelid, f.confrelid::regclass::text as target,
       array(select a.attname::text from unnest(f.conkey) as k(attnum)
             join pg_attribute a on a.attrelid = f.conrelid and a.attnum = k.attnum) as columns
from pg_constraint f
where f.contype = 'f' and f.conrelid = any(%s)
"""


# Every DDL on a table rewrites one of these catalog rows (so its xmin changes): pg_class's for a
# column added, a grant, row-level security, a rewrite; pg_attribute's for a column dropped, renamed,
# retyped or made NOT NULL; pg_constraint's for a key. (Dropping or renaming a column leaves the
# table's pg_class row as it was.)
_CATALOG_STAMP = """
select md5(
    (select string_agg(c.oid::text || ':' || c.xmin::text || ':' || a.xmins, ',' order by c.oid)
     from pg_class c
     cross join lateral (
         select string_agg(x.xmin::text, '.' order by x.attnum) as xmins
         from pg_attribute x where x.attrelid = c.oid and x.attnum > 0
     ) a
     where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p'))
    || '|' || (select coalesce(string_agg(k.oid::text || ':' || k.xmin::text, ',' order by k.oid), '')
               from pg_constraint k where k.connamespace = 'public'::regnamespace)
)
"""


def catalog_stamp(conn: Conn) -> str:
    """A fingerprint of schema public's tables as the catalog holds them now: any DDL on one of them
    (a column added, dropped, renamed or retyped, a grant, a key, row-level security) rewrites one of
    its catalog rows, and so changes the stamp."""
    row = conn.execute(_CATALOG_STAMP).fetchone()
    return str(row[0]) if row is not None else ""


def tenant_tables(conn: Conn) -> list[TableShape]:
    """Every table of the shops' data in schema public (``tenants`` and every table with a
    ``tenant_id``), whatever the current role may read, by name."""
    tables = fetch_dicts(conn, _TABLES)
    oids = [t["oid"] for t in tables]
    columns: dict[int, list[dict[str, Any]]] = {oid: [] for oid in oids}
    for column in fetch_dicts(conn, _COLUMNS, (oids,)):
        columns[column["attrelid"]].append(column)
    references: dict[int, list[dict[str, Any]]] = {oid: [] for oid in oids}
    for fk in fetch_dicts(conn, _FOREIGN_KEYS, (oids,)):
        references[fk["conrelid"]].append(fk)
    shapes = []
    for t in tables:
        name = t["relname"]
        cols = columns[t["oid"]]
        fks = references[t["oid"]]
        shapes.append(
            TableShape(
                name=name,
                columns=tuple((c["attname"], c["type"]) for c in cols if not c["generated"]),
                generated=tuple(c["attname"] for c in cols if c["generated"]),
                identity=tuple(c["attname"] for c in cols if c["identity"]),
                nullable=frozenset(c["attname"] for c in cols if c["nullable"]),
                key=tuple(t["key"]),
                references=frozenset(fk["target"] for fk in fks if fk["target"] != name),
                self_references=tuple(
                    tuple(c for c in fk["columns"] if c != "tenant_id") for fk in fks if fk["target"] == name
                ),
                readable=bool(t["readable"]),
                isolated=bool(t["isolated"]),
            )
        )
    return shapes


def tables_with_rows(conn: Conn, tables: Sequence[TableShape], tenant_id: UUID) -> frozenset[str]:
    """Which of ``tables`` hold at least one of the shop's rows, in one statement (an empty table
    needs no COPY of its own: most of a shop's tables are empty, and each COPY is a round trip)."""
    from psycopg import sql

    if not tables:
        return frozenset()
    probes = sql.SQL(", ").join(
        sql.SQL("exists (select from {relation} where {shop} = %(shop)s)").format(
            relation=_ident("public", t.name), shop=_ident("id" if t.name == "tenants" else "tenant_id")
        )
        for t in tables
    )
    row = conn.execute(sql.SQL("select {}").format(probes), {"shop": tenant_id}).fetchone()
    if row is None:
        raise RuntimeError("the presence probe returned no row")
    return frozenset(t.name for t, present in zip(tables, row, strict=True) if present)


def schema_version(conn: Conn) -> int:
    """The newest migration applied to this database."""
    row = conn.execute("select max(version) from schema_migrations").fetchone()
    if row is None or row[0] is None:
        raise RuntimeError("the database has no migrations applied")
    return int(row[0])


def pin_output(conn: Conn) -> None:
    """This transaction prints values the export's way, and may run long (both local to it)."""
    settings = {**OUTPUT_SETTINGS, "statement_timeout": BACKUP_STATEMENT_TIMEOUT}
    placeholders = ", ".join("set_config(%s, %s, true)" for _ in settings)
    conn.execute(f"select {placeholders}", [v for pair in settings.items() for v in pair])


@contextmanager
def snapshot(db: Database, tenant_id: UUID) -> Iterator[Conn]:
    """One read-only REPEATABLE READ transaction of the app role in ``tenant_id``'s shop: every table
    is read as of the same instant, and row-level security shows that shop's rows only.

    Its mode, the shop and the output settings go in one round trip (a thousand shops a night, each
    through the pooler): two statements in one simple-protocol message, values as literals (only a
    message without parameters may hold two), the mode first as it must be."""
    from psycopg import sql

    settings = {**OUTPUT_SETTINGS, "statement_timeout": BACKUP_STATEMENT_TIMEOUT}
    enter = sql.SQL(
        "set transaction isolation level repeatable read, read only; select enter_tenant({shop}, ''), {pins}"
    ).format(
        shop=sql.Literal(str(tenant_id)),
        pins=sql.SQL(", ").join(
            sql.SQL("set_config({}, {}, true)").format(sql.Literal(name), sql.Literal(value))
            for name, value in settings.items()
        ),
    )
    with db.transaction() as conn:
        cur = conn.execute(enter)
        if not cur.nextset():
            raise RuntimeError("entering the snapshot returned one result, not two")
        row = cur.fetchone()
        if row is None or row[0] is None:
            raise LookupError(f"no shop {tenant_id}")
        yield conn


@dataclass(frozen=True, slots=True)
class SnapshotFacts:
    """What an export reads besides the tables, in one statement of its snapshot."""

    schema_version: int
    shop_name: str
    catalog_stamp: str
    present: frozenset[str]  # which of the tables asked about hold the shop's rows
    # The database's presence function did not answer (a table it probes is gone): ``present`` was
    # found by the export's own probes instead, and the caller should read the catalog again.
    presence_failed: bool = False


def presence_tables(conn: Conn) -> tuple[str, ...] | None:
    """The tables ``backup_presence(shop)`` probes, in the order of its answer (migration 0041), or
    None when the database has no such function."""
    row = conn.execute(
        "select case when to_regprocedure('public.backup_presence_tables()') is not null"
        " then public.backup_presence_tables() end"
    ).fetchone()
    return None if row is None or row[0] is None else tuple(row[0])


def facts_statement(conn: Conn, tables: Sequence[TableShape], *, presence: bool = False) -> bytes:
    """The statement of ``snapshot_facts`` about ``tables`` (composed once per catalog: forty-odd
    probes are worth keeping), its placeholder ``%(shop)s``. ``presence``: the database's function
    answers which tables hold the shop's rows (``backup_presence``, planned once per database session)
    instead of a probe per table planned with the statement each time."""
    from psycopg import sql

    probes: list[sql.Composable]
    if presence:
        probes = [sql.SQL("public.backup_presence(%(shop)s)")]
    else:
        probes = [
            sql.SQL("exists (select from {relation} where {shop} = %(shop)s)").format(
                relation=_ident("public", t.name), shop=_ident("id" if t.name == "tenants" else "tenant_id")
            )
            for t in tables
        ]
    statement = sql.SQL(
        "select (select max(version) from schema_migrations),"
        " (select name from tenants where id = %(shop)s), ({stamp}){probes}"
    ).format(
        stamp=sql.SQL(_CATALOG_STAMP.strip()),
        probes=sql.SQL("").join(sql.SQL(", ") + p for p in probes),
    )
    return statement.as_bytes(conn)


def snapshot_facts(
    conn: Conn,
    tenant_id: UUID,
    tables: Sequence[TableShape],
    *,
    statement: bytes | None = None,
    presence: Sequence[str] | None = None,
) -> SnapshotFacts:
    """The schema's version, the shop's name, the catalog's stamp (``catalog_stamp``) and which of
    ``tables`` hold the shop's rows (``tables_with_rows``), in one round trip (``statement``: its
    ``facts_statement`` of the same tables, composed before). The tables are the ones the catalog
    described under a stamp seen before: when the stamp read here differs, the caller reads the
    catalog again and asks ``tables_with_rows`` of the new ones.

    ``presence``: the statement asks ``backup_presence`` (``facts_statement(presence=True)``), whose
    tables these are, in its order (``presence_tables``); should it not answer, the tables are probed
    here, in the same snapshot."""
    from psycopg import sql

    if statement is None:
        statement = facts_statement(conn, tables, presence=presence is not None)
    # The shop as a literal: a statement with parameters is parsed again by psycopg on every call
    # once it is this long (past its cache's statement length), and costs the server three protocol
    # messages for one; composed by psycopg, the literal is quoted as any other.
    shop = sql.Literal(tenant_id).as_bytes(conn)
    row = conn.execute(statement.replace(b"%(shop)s", shop)).fetchone()
    if row is None or row[0] is None:
        raise RuntimeError("the database has no migrations applied")
    if row[1] is None:
        raise LookupError(f"no shop {tenant_id}")
    failed = False
    if presence is None:
        present = frozenset(t.name for t, found in zip(tables, row[3:], strict=True) if found)
    elif row[3] is None or len(row[3]) != len(presence) or not {t.name for t in tables} <= set(presence):
        # (a table the function does not probe would be taken for empty: never answered from it)
        failed = True
        present = tables_with_rows(conn, tables, tenant_id)
    else:
        found = {name for name, holds in zip(presence, row[3], strict=True) if holds}
        present = frozenset(t.name for t in tables if t.name in found)
    return SnapshotFacts(
        schema_version=int(row[0]),
        shop_name=str(row[1]),
        catalog_stamp=str(row[2] or ""),
        present=present,
        presence_failed=failed,
    )


def _ident(*names: str) -> Any:
    from psycopg import sql

    return sql.Identifier(*names)


def _idents(names: Sequence[str], *, prefix: str | None = None) -> Any:
    from psycopg import sql

    return sql.SQL(", ").join(sql.Identifier(prefix, n) if prefix else sql.Identifier(n) for n in names)


# How many bytes of whole rows ``copy_out`` joins before handing them on.
COPY_BLOCK = 256 * 1024


def copy_statement(
    conn: Conn, table: TableShape, *, schema: str = "public", relation: str | None = None
) -> bytes:
    """The COPY of ``copy_out``, its placeholder the shop (composed once per catalog and reused)."""
    from psycopg import sql

    shop_column = "id" if table.name == "tenants" else "tenant_id"
    return (
        sql.SQL("copy (select {columns} from {relation} where {shop} = %s order by {key}) to stdout")
        .format(
            columns=_idents(table.column_names),
            relation=_ident(schema, relation or table.name),
            shop=_ident(shop_column),
            key=_idents(table.order_by),
        )
        .as_bytes(conn)
    )


def copy_out(
    conn: Conn,
    table: TableShape,
    tenant_id: UUID,
    *,
    schema: str = "public",
    relation: str | None = None,
    statement: bytes | None = None,
) -> Iterator[bytes]:
    """The shop's rows of ``table`` in COPY text format, in key order, in blocks of whole rows (up
    to about ``COPY_BLOCK`` bytes each); ``statement``: its ``copy_statement``, composed before.

    The server sends one message per row, and psycopg's ``Copy.read()`` waits (a generator and a
    poll) for each: most of an export's client time at a thousand shops. So the rows libpq already
    holds are taken straight from it (``get_copy_data`` without waiting) and joined, and only when
    its buffer is empty does ``Copy.read()`` wait for more.

    ``schema``/``relation`` read a copy of the table elsewhere (the restore test's scratch tables)."""
    if statement is None:
        statement = copy_statement(conn, table, schema=schema, relation=relation)
    pgconn = conn.pgconn
    with conn.cursor() as cur, cur.copy(statement, (tenant_id,)) as copy:
        take = pgconn.get_copy_data
        rows: list[Any] = []
        keep = rows.append
        held = 0
        while True:
            size, row = take(1)  # 1: never wait; 0 when nothing is buffered, -1 at the end
            if size > 0:
                keep(row)
                held += size
                if held >= COPY_BLOCK:
                    yield b"".join(rows)
                    rows.clear()
                    held = 0
            elif size == 0:  # nothing buffered: psycopg waits for the next row (or the end)
                waited = copy.read()
                if not waited:
                    break
                keep(bytes(waited))
                held += len(waited)
            else:  # the end, read here: the COPY's result (or the server's error) follows
                _finish_copy_out(conn)
                break
        if rows:
            yield b"".join(rows)


def _finish_copy_out(conn: Conn) -> None:
    """Collect a COPY TO's results once its end was read from libpq (what psycopg's own read does
    then): the connection is idle again, and an error the server sent is raised."""
    from psycopg import errors, pq

    pgconn = conn.pgconn
    failed = None
    while (result := pgconn.get_result()) is not None:
        if result.status != pq.ExecStatus.COMMAND_OK and failed is None:
            failed = result
    if failed is not None:
        raise errors.error_from_result(failed, encoding=conn.info.encoding)


# --- restore into the shop's own tables -----------------------------------------------------------


def lock_shop(conn: Conn, tenant_id: UUID) -> None:
    """Lock the shop's row until commit: every insert of the shop's rows (each references it) waits,
    so nothing of the shop is written between the clearing and the writing back."""
    if conn.execute("select 1 from tenants where id = %s for update", (tenant_id,)).fetchone() is None:
        raise LookupError(f"no shop {tenant_id}")


def permit_restore(conn: Conn, tenant_id: UUID, token_sha256: bytes, operator: str) -> datetime:
    """A permit for one restore of the shop (the ops role only: migration 0034); when it expires."""
    row = conn.execute(
        "select backup_restore_permit(%s, %s, %s)", (tenant_id, token_sha256, operator)
    ).fetchone()
    assert row is not None
    expires: datetime = row[0]
    return expires


def begin_restore(conn: Conn, token: str) -> None:
    """Use the restore permit ``token`` in the current shop's transaction (InsufficientPrivilege when
    it is not this shop's, used or expired): the clearing below is allowed only after it."""
    conn.execute("select backup_restore_begin(%s)", (token,))


def clear(conn: Conn, table: str) -> int:
    """Delete the current shop's rows of ``table`` (migration 0031's ``backup_restore_clear``; a permit
    used in this transaction first: ``begin_restore``)."""
    row = conn.execute("select backup_restore_clear(%s)", (table,)).fetchone()
    return int(row[0]) if row else 0


def insert_rows(
    conn: Conn,
    table: TableShape,
    columns: Sequence[str],
    rows: Sequence[Sequence[str | None]],
    *,
    nulled: frozenset[str] = frozenset(),
    skip_existing: bool = False,
) -> int:
    """Insert rows given as each column's text (COPY's, read back), cast by PostgreSQL's own input
    functions (what COPY FROM would do: COPY FROM itself is not allowed on tables with row-level
    security). ``nulled`` columns are written NULL (set later); ``skip_existing`` leaves rows whose
    key is taken alone."""
    from psycopg import sql

    if not rows:
        return 0
    values = sql.SQL(", ").join(
        sql.SQL("null")
        if c in nulled
        else sql.SQL("{}::{}").format(_ident("u", f"c{i}"), sql.SQL(table.type_of(c)))
        for i, c in enumerate(columns)
    )
    statement = sql.SQL(
        "insert into {table} ({columns}){overriding} select {values} "
        "from unnest({arrays}) as u({aliases}){conflict}"
    ).format(
        table=_ident("public", table.name),
        columns=_idents(columns),
        overriding=sql.SQL(" overriding system value" if set(table.identity) & set(columns) else ""),
        values=values,
        arrays=sql.SQL(", ").join(sql.SQL("%b::text[]") for _ in columns),
        aliases=sql.SQL(", ").join(_ident(f"c{i}") for i in range(len(columns))),
        conflict=sql.SQL(" on conflict do nothing" if skip_existing else ""),
    )
    params = [list(column) for column in zip(*rows, strict=True)]
    cur = conn.execute(statement, params)
    return cur.rowcount


def set_columns(
    conn: Conn,
    table: TableShape,
    key: Sequence[str],
    columns: Sequence[str],
    rows: Sequence[Sequence[str | None]],
) -> None:
    """Set ``columns`` of the rows found by ``key`` (each row: the key's texts, then the columns')."""
    from psycopg import sql

    if not rows:
        return
    names = [*key, *columns]
    statement = sql.SQL(
        "update {table} t set {sets} from unnest({arrays}) as u({aliases}) where {match}"
    ).format(
        table=_ident("public", table.name),
        sets=sql.SQL(", ").join(
            sql.SQL("{} = {}::{}").format(
                _ident(c), _ident("u", f"c{len(key) + i}"), sql.SQL(table.type_of(c))
            )
            for i, c in enumerate(columns)
        ),
        arrays=sql.SQL(", ").join(sql.SQL("%b::text[]") for _ in names),
        aliases=sql.SQL(", ").join(_ident(f"c{i}") for i in range(len(names))),
        match=sql.SQL(" and ").join(
            sql.SQL("{} = {}::{}").format(_ident("t", k), _ident("u", f"c{i}"), sql.SQL(table.type_of(k)))
            for i, k in enumerate(key)
        ),
    )
    conn.execute(statement, [list(column) for column in zip(*rows, strict=True)])


# The shop's own row: what the app role may write of it (billing_status is the billing jobs').
SHOP_COLUMNS = ("name", "email", "phone", "updated_at")


def restore_shop_row(conn: Conn, tenant_id: UUID, values: dict[str, str | None]) -> None:
    from psycopg import sql

    statement = sql.SQL("update tenants set {sets} where id = %s").format(
        sets=sql.SQL(", ").join(
            sql.SQL("{} = %s::{}").format(_ident(c), sql.SQL("timestamptz" if c == "updated_at" else "text"))
            for c in SHOP_COLUMNS
        )
    )
    conn.execute(statement, [*(values[c] for c in SHOP_COLUMNS), tenant_id])


def advance_identities(conn: Conn) -> None:
    conn.execute("select backup_advance_identities()")


# --- the restore test's scratch tables --------------------------------------------------------------


def create_scratch_table(conn: Conn, relation: str, table: str) -> None:
    """``backup_restore.<relation>``: like ``public.<table>`` (columns, defaults, NOT NULL and CHECK
    constraints; no keys, no foreign keys, no row-level security)."""
    from psycopg import sql

    conn.execute(
        sql.SQL("create table {} (like {} including defaults including constraints)").format(
            _ident(RESTORE_SCHEMA, relation), _ident("public", table)
        )
    )


def copy_in(conn: Conn, relation: str, columns: Sequence[str], text: IO[bytes]) -> None:
    """COPY a table file's text into ``backup_restore.<relation>`` (the scratch tables have no
    row-level security, so COPY FROM is allowed there)."""
    from psycopg import sql

    statement = sql.SQL("copy {} ({}) from stdin").format(_ident(RESTORE_SCHEMA, relation), _idents(columns))
    with conn.cursor() as cur, cur.copy(statement) as copy:
        while block := text.read(1024 * 1024):
            copy.write(block)


# --- the runs ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BackupRun:
    tenant_id: UUID
    run_date: date
    status: str
    bundle_id: UUID | None
    s3_key: str | None
    bytes: int | None
    rows: int | None
    copied: bool
    finished_at: datetime


def get_run(conn: Conn, tenant_id: UUID, day: date) -> BackupRun | None:
    from assistec.db.sql import fetch_one

    return fetch_one(
        conn,
        BackupRun,
        "select tenant_id, run_date, status, bundle_id, s3_key, bytes, rows, copied, finished_at "
        "from backup_runs where tenant_id = %s and run_date = %s",
        (tenant_id, day),
    )


def record_ok(
    conn: Conn,
    *,
    tenant_id: UUID,
    day: date,
    bundle_id: UUID,
    s3_key: str,
    size: int,
    rows: int,
    manifest_sha256: bytes,
    schema_version: int,
    retention: str,
    copied: bool,
    started_at: datetime,
) -> None:
    """The day's good bundle (replaces a failed try of the day; a good record stays as it is)."""
    conn.execute(
        "insert into backup_runs (tenant_id, run_date, status, bundle_id, s3_key, bytes, rows, "
        "manifest_sha256, schema_version, retention, copied, started_at) "
        "values (%s, %s, 'ok', %s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "on conflict (tenant_id, run_date) do update set status = 'ok', bundle_id = excluded.bundle_id, "
        "s3_key = excluded.s3_key, bytes = excluded.bytes, rows = excluded.rows, "
        "manifest_sha256 = excluded.manifest_sha256, schema_version = excluded.schema_version, "
        "retention = excluded.retention, copied = excluded.copied, error = null, "
        "started_at = excluded.started_at, finished_at = now() "
        "where backup_runs.status = 'failed' or not backup_runs.copied and excluded.copied",
        (
            tenant_id,
            day,
            bundle_id,
            s3_key,
            size,
            rows,
            manifest_sha256,
            schema_version,
            retention,
            copied,
            started_at,
        ),
    )


def record_failed(conn: Conn, *, tenant_id: UUID, day: date, error: str, started_at: datetime) -> None:
    """A failed try of the day (never over the day's good bundle)."""
    conn.execute(
        "insert into backup_runs (tenant_id, run_date, status, error, started_at) "
        "values (%s, %s, 'failed', %s, %s) "
        "on conflict (tenant_id, run_date) do update set error = excluded.error, "
        "started_at = excluded.started_at, finished_at = now() where backup_runs.status = 'failed'",
        (tenant_id, day, error[:500], started_at),
    )


@dataclass(frozen=True, slots=True)
class RecordedBundle:
    """A good nightly bundle as ``backup_runs`` records it."""

    run_date: date
    s3_key: str
    rows: int | None
    schema_version: int | None
    copied: bool
    restore_checked_at: datetime | None
    restore_error: str | None


def recorded_bundles(conn: Conn) -> list[RecordedBundle]:
    """The current shop's good nightly bundles (in its transaction: row-level security), newest first."""
    from assistec.db.sql import fetch_all

    return fetch_all(
        conn,
        RecordedBundle,
        "select run_date, s3_key, rows, schema_version, copied, restore_checked_at, restore_error "
        "from backup_runs where status = 'ok' order by run_date desc",
    )


def record_restore_check(conn: Conn, tenant_id: UUID, day: date, error: str | None) -> None:
    conn.execute(
        "update backup_runs set restore_checked_at = now(), restore_error = %s "
        "where tenant_id = %s and run_date = %s",
        (error[:500] if error else None, tenant_id, day),
    )


def shops(conn: Conn, *, after: UUID | None, limit: int) -> list[UUID]:
    """A page of the shops backed up (migration 0031's ``backup_shops``), by id."""
    return [r[0] for r in conn.execute("select backup_shops(%s, %s)", (after, limit)).fetchall()]


def age_hours(conn: Conn) -> float:
    row = conn.execute("select backup_age_hours()").fetchone()
    return float(row[0]) if row else 0.0


def day_missing(conn: Conn, day: date) -> list[UUID]:
    """The shops backed up with no good bundle of ``day`` (those signed up by its end)."""
    return [r[0] for r in conn.execute("select backup_day_missing(%s)", (day,)).fetchall()]


def restore_candidates(conn: Conn, limit: int) -> list[tuple[UUID, date, str]]:
    rows = conn.execute(
        "select tenant_id, run_date, s3_key from backup_restore_candidates(%s)", (limit,)
    ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]
