"""Contain LocalStack's thread leak so the local stack can run for days.

LocalStack's ``start_thread`` appends every thread it starts to ``localstack.utils.threads.TMP_THREADS``
(a shutdown hook) and never removes it. The Lambda service starts one per invocation (recording the
CloudWatch invocation/error metric), Step Functions one per execution. On Python 3.13 a finished
thread that is never joined keeps its stack mapped (8 MB of address space, two memory maps) as long
as the Thread object lives, so the list pinned one stack per request: about 100 GB of virtual memory
after ~33,000 API requests, then "can't start new thread", MemoryError and a hung gateway.

The reaper joins finished threads and drops them from the list; live ones (and non-thread entries
such as LocalStack's thread pool) stay for the shutdown hook. It runs after every invocation and on a
timer, so the list stays as short as the number of threads actually running.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

_started_lock = threading.Lock()
_started: set[int] = set()


def reap_finished(registry: list[Any]) -> int:
    """Join and remove the finished threads of ``registry``; return how many were removed."""
    reaped = 0
    for entry in list(registry):
        # ident is set once started: a thread created but not started yet is left alone.
        if not isinstance(entry, threading.Thread) or entry.ident is None or entry.is_alive():
            continue
        entry.join(timeout=1)  # finished: returns at once, and releases its stack
        with contextlib.suppress(ValueError):  # another reaper took it first
            registry.remove(entry)
            reaped += 1
    return reaped


def start_reaper(registry: list[Any], interval_s: float = 5.0) -> bool:
    """One daemon thread per registry that reaps it every ``interval_s``; False if already running."""
    with _started_lock:
        if id(registry) in _started:
            return False
        _started.add(id(registry))

    def loop() -> None:
        while True:
            time.sleep(interval_s)
            with contextlib.suppress(Exception):
                reap_finished(registry)

    threading.Thread(target=loop, name="assistec-thread-reaper", daemon=True).start()
    return True
