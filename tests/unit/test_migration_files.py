from __future__ import annotations

from assistec.db.migrate import load_migrations


def test_packaged_migrations_are_numbered_without_gaps_and_unique() -> None:
    migrations = load_migrations()
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))
    assert len({m.checksum for m in migrations}) == len(migrations)
