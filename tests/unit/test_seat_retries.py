"""A booking's seat: a deadlock between two bookings at once is tried again on the same seat (the
cancelled one, rolled back to its savepoint, holds nothing); a taken seat moves on to the next; a
deadlock that never clears is raised, not reported as a full slot."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import psycopg
import pytest

from assistec.domain.scheduling import TypeRule
from assistec.errors import ConflictError
from assistec.services.scheduling import appointments


class _Conn:
    def __init__(self) -> None:
        self.savepoints = 0

    def transaction(self) -> Any:
        self.savepoints += 1
        return nullcontext()


class _Uow:
    def __init__(self) -> None:
        self.conn = _Conn()


def _attempts(*outcomes: Any) -> tuple[list[int], Any]:
    tried: list[int] = []
    pending = list(outcomes)

    def attempt(seat: int) -> Any:
        tried.append(seat)
        outcome = pending.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return tried, attempt


RULE = TypeRule(duration_min=30, buffer_min=0, capacity=3)


def test_a_deadlock_tries_the_same_seat_again() -> None:
    deadlock = psycopg.errors.DeadlockDetected("deadlock detected")
    tried, attempt = _attempts(deadlock, deadlock, {"seat": 1})
    uow = _Uow()
    assert appointments._on_a_free_seat(uow, RULE, attempt) == {"seat": 1}  # type: ignore[arg-type]
    assert tried == [1, 1, 1]
    assert uow.conn.savepoints == 3


def test_a_taken_seat_moves_on_and_a_full_slot_is_409() -> None:
    taken = psycopg.errors.ExclusionViolation("conflicting key value")
    tried, attempt = _attempts(taken, psycopg.errors.DeadlockDetected("deadlock"), {"seat": 2})
    assert appointments._on_a_free_seat(_Uow(), RULE, attempt) == {"seat": 2}  # type: ignore[arg-type]
    assert tried == [1, 2, 2]
    tried, attempt = _attempts(taken, taken, taken)
    with pytest.raises(ConflictError) as refused:
        appointments._on_a_free_seat(_Uow(), RULE, attempt)  # type: ignore[arg-type]
    assert refused.value.code == "slot_full"
    assert tried == [1, 2, 3]


def test_a_deadlock_that_never_clears_is_raised() -> None:
    deadlock = psycopg.errors.DeadlockDetected("deadlock detected")
    tried, attempt = _attempts(*[deadlock] * appointments.DEADLOCK_RETRIES)
    with pytest.raises(psycopg.errors.DeadlockDetected):
        appointments._on_a_free_seat(_Uow(), RULE, attempt)  # type: ignore[arg-type]
    assert tried == [1] * appointments.DEADLOCK_RETRIES
