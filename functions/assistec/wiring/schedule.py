"""The clock of a scheduled run (the handlers of scheduled functions share it)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def run_time(event: dict[str, Any]) -> datetime:
    """The run's clock: the input's ``now`` (tests, a replay), else EventBridge's ``time``, else now."""
    for key in ("now", "time"):
        value = event.get(key)
        if isinstance(value, str):
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if moment.utcoffset() is not None:
                return moment
    return datetime.now(UTC)
