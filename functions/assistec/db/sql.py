"""Shared SQL helpers for the db modules: connection type, row factories, duplicate and version checks.

Every db function takes the connection of an open unit of work (``Database.tenant_tx``); row-level
security scopes what it sees, so no query filters by tenant for safety, only for indexes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    import psycopg
    from psycopg.rows import DictRow, RowFactory, RowMaker

    Conn = psycopg.Connection[Any]


def class_row[T](cls: type[T]) -> RowFactory[T]:
    # Imported here: by the time a repository runs, the connection has loaded psycopg already.
    from psycopg.rows import class_row as factory

    return factory(cls)


def dict_row(cursor: Any) -> RowMaker[DictRow]:
    from psycopg.rows import dict_row as factory

    return factory(cursor)


class DuplicateError(Exception):
    """A unique constraint refused the row; ``constraint`` names which."""

    def __init__(self, constraint: str) -> None:
        super().__init__(constraint)
        self.constraint = constraint


@contextmanager
def duplicates() -> Iterator[None]:
    import psycopg

    try:
        yield
    except psycopg.errors.UniqueViolation as exc:
        raise DuplicateError(exc.diag.constraint_name or "") from exc


def fetch_one[R](conn: Conn, row: type[R], query: str, params: Sequence[Any] | None = None) -> R | None:
    """The first row ``query`` gives, as a ``row``; None when it gives none."""
    with conn.cursor(row_factory=class_row(row)) as cur:
        return cur.execute(query, params).fetchone()


def fetch_all[R](conn: Conn, row: type[R], query: str, params: Sequence[Any] | None = None) -> list[R]:
    """Every row ``query`` gives, as ``row``s."""
    with conn.cursor(row_factory=class_row(row)) as cur:
        return cur.execute(query, params).fetchall()


def fetch_dicts(conn: Conn, query: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
    """Every row ``query`` gives, as a dict of column name to value."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchall()


def fetch_returned[R](conn: Conn, row: type[R], query: str, params: Sequence[Any] | None = None) -> R:
    """The row an ``insert``/``update ... returning`` must give back (asserted: a missing row is a bug)."""
    found = fetch_one(conn, row, query, params)
    assert found is not None
    return found


def insert_row[R](conn: Conn, *, table: str, values: dict[str, Any], columns: str, row: type[R]) -> R:
    """Insert ``values`` (column names from the caller's allow-list, never from input) and return the
    new row's ``columns``; a unique constraint raises ``DuplicateError``."""
    with duplicates():
        return fetch_returned(
            conn,
            row,
            f"insert into {table} ({', '.join(values)}) values ({', '.join(['%s'] * len(values))}) "
            f"returning {columns}",
            list(values.values()),
        )


def inserted(conn: Conn, query: str, params: Sequence[Any]) -> bool:
    """Run an ``insert ... on conflict do nothing returning 1``; False when the row was already there."""
    return conn.execute(query, params).fetchone() is not None


def for_update(lock: bool) -> str:
    """The ``for update`` clause a locking read appends (empty when ``lock`` is False)."""
    return " for update" if lock else ""


def versioned_update[R](
    conn: Conn,
    *,
    table: str,
    columns: str,
    row: type[R],
    allowed: set[str],
    row_id: UUID,
    expected_version: int,
    changes: dict[str, Any],
) -> R | None:
    """Apply ``changes`` if the row is still at ``expected_version`` (optimistic locking); None when
    it moved on or is not visible. Column names come from the caller's allow-list, never from input."""
    assert set(changes) <= allowed, set(changes) - allowed
    sets = ", ".join(f"{column} = %s" for column in changes)
    with duplicates(), conn.cursor(row_factory=class_row(row)) as cur:
        return cur.execute(
            f"update {table} set {sets}, version = version + 1, updated_at = now() "
            f"where id = %s and version = %s returning {columns}",
            [*changes.values(), row_id, expected_version],
        ).fetchone()
