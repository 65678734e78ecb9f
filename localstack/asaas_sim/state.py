"""What the simulator keeps per API key, the clock it reads, and the state file it survives restarts in."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

BRT = ZoneInfo("America/Sao_Paulo")


def now() -> datetime:
    return datetime.now(BRT)


@dataclass
class Account:
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    webhooks: list[dict[str, Any]] = field(default_factory=list)
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)


# (account, event, payment) -> the event delivered to the account's webhooks
Fire = Callable[[Account, str, dict[str, Any]], None]


def load(state_file: Path | None) -> dict[str, Account]:
    """The accounts kept across restarts, as Asaas keeps its records (the local database keeps ours)."""
    if state_file is None or not state_file.exists():
        return {}
    saved = json.loads(state_file.read_text())
    return {key: Account(**value) for key, value in saved.items()}


def save(state_file: Path | None, accounts: dict[str, Account]) -> None:
    if state_file is None:
        return
    data = {
        key: {
            "customers": a.customers,
            "payments": a.payments,
            "webhooks": a.webhooks,
            "subscriptions": a.subscriptions,
        }
        for key, a in accounts.items()
    }
    temporary = state_file.with_suffix(".tmp")
    temporary.write_text(json.dumps(data))
    temporary.replace(state_file)
