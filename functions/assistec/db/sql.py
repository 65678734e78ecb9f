"""Shared SQL helpers for the db modules: connection type, row factories, duplicate and version checks.

Every db function takes the connection of an open unit of work (``Database.tenant_tx``); row-level
security scopes what it sees, so no query filters by tenant for safety, only for indexes.
"""

from __future__ import annotations

from collections.abc import Iterator
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
