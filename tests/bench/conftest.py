from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

RESULTS = Path(__file__).resolve().parents[2] / ".local" / "bench"


_NO_METRICS = "No application metrics to publish"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # pytest resets warning filters around each test call: ask it to ignore this one there.
    for item in items:
        item.add_marker(pytest.mark.filterwarnings(f"ignore:{_NO_METRICS}:UserWarning"))


@pytest.fixture(autouse=True)
def quiet_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Benchmarks print tables: the handlers' INFO lines (one or more per request, thousands per
    run) and Powertools' "no metrics" warnings would bury them. Errors still show."""
    from assistec.observability import logger

    level = logger.log_level
    logger.setLevel(logging.WARNING)
    # The processes a benchmark spawns inherit both.
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("PYTHONWARNINGS", f"ignore:{_NO_METRICS}:UserWarning")
    yield
    logger.setLevel(level)


def report(name: str, rows: list[dict[str, Any]]) -> None:
    """Print a benchmark table and keep the figures in .local/bench/<name>.json."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(rows, indent=2))
    if not rows:
        return
    cols = list(rows[0])
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in cols]
    print(f"\n== {name} ==")
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)))
    for row in rows:
        print("  ".join(str(row[c]).ljust(w) for c, w in zip(cols, widths, strict=True)))


def run_parallel(worker: Any, path: str, headers: dict[str, str], items: list[str], *, workers: int) -> float:
    """``worker(path, headers, share, start)`` on ``workers`` spawned processes (a fresh interpreter
    each, its own connection; the environment is inherited), each on its share of ``items``, started
    together once warm; the aggregate rate (a share's first item warms its process, not counted)."""
    import multiprocessing
    import time

    shares = [items[i::workers] for i in range(workers)]
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(workers + 1)
    processes = [context.Process(target=worker, args=(path, headers, share, start)) for share in shares]
    for process in processes:
        process.start()
    start.wait()
    t0 = time.perf_counter()
    for process in processes:
        process.join(timeout=300)
        assert process.exitcode == 0
    return (len(items) - workers) / (time.perf_counter() - t0)


def cpu_seconds() -> dict[str, float]:
    """CPU seconds used so far by this machine's PostgreSQL, PgBouncer and LocalStack, from /proc:
    the difference of two readings is what a benchmark made them spend (backends that exited are in
    their postmaster's children's times). Linux only; what is not running counts 0."""
    import os

    tick = os.sysconf("SC_CLK_TCK")
    totals = {"postgres": 0.0, "pgbouncer": 0.0, "localstack": 0.0}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ")
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        own = (int(fields[11]) + int(fields[12])) / tick
        children = (int(fields[13]) + int(fields[14])) / tick
        if comm == "postgres":
            # The postmaster's children's times hold its exited backends'.
            parent = fields[1]
            try:
                with open(f"/proc/{parent}/stat") as f:
                    postmaster = "(postgres)" not in f.read()
            except OSError:
                postmaster = False
            totals["postgres"] += own + (children if postmaster else 0.0)
        elif comm == "pgbouncer":
            totals["pgbouncer"] += own
        elif b"localstack.runtime.main" in cmdline:
            # LocalStack's own server only (not a tool whose arguments name the localstack folder)
            totals["localstack"] += own
    return totals


def cpu_spent(before: dict[str, float]) -> dict[str, float]:
    """What each of ``cpu_seconds``'s services spent since ``before``, rounded."""
    now = cpu_seconds()
    return {name: round(now[name] - before[name], 1) for name in now}
