"""A provider's time budget shared by the calls inside one block: a deadline per thread/context
(a ContextVar), one per provider, so an Asaas block and an Evolution block do not shorten each other."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar


class Deadline:
    def __init__(self, name: str) -> None:
        # The deadline of the operation running in this thread/context (clock seconds); None outside.
        self._until: ContextVar[float | None] = ContextVar(name, default=None)

    @contextmanager
    def within(self, clock: Callable[[], float], budget_s: float) -> Iterator[None]:
        """Every call inside the block shares one deadline, ``budget_s`` from now; inside another
        deadline the earlier one holds."""
        until = clock() + budget_s
        current = self._until.get()
        token = self._until.set(until if current is None else min(current, until))
        try:
            yield
        finally:
            self._until.reset(token)

    def remaining_s(self, clock: Callable[[], float]) -> float:
        """Seconds left (inside a block only)."""
        until = self._until.get()
        assert until is not None
        return until - clock()
