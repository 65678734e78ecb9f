"""Per-environment singletons: settings and the database, built on first use, reused after.

Nothing is built at import time, so importing a handler stays cheap and tests can set the
environment before the first call.
"""

from __future__ import annotations

from functools import cache

from assistec.db.connection import Database
from assistec.settings import ApiSettings, api_settings


def settings() -> ApiSettings:
    return api_settings()


@cache
def database() -> Database:
    return Database(api_settings())


def reset() -> None:
    """Forget the singletons (tests that change the environment between cases)."""
    if database.cache_info().currsize:
        database().close()
    database.cache_clear()
    api_settings.cache_clear()
