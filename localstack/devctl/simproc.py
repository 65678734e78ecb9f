"""An offline provider simulator (localstack/<module>) as a background process on 127.0.0.1: started
unless it answers, its pid in .local/<name>/, stopped with its process group."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from devctl.paths import LOCAL, PROJECT_PYTHON, ROOT


@dataclass(frozen=True)
class Simulator:
    name: str  # its folder under .local/ (pid file, log)
    module: str  # python -m <module>
    port: int
    probe: str  # a path any HTTP answer to which means it is up
    args: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> os.PathLike[str]:
        return LOCAL / self.name / f"{self.name}.log"

    def is_running(self) -> bool:
        try:
            urllib.request.urlopen(f"{self.url}{self.probe}", timeout=1)
        except urllib.error.HTTPError:
            return True  # any HTTP answer (a 401 without a key) means it is up
        except (urllib.error.URLError, OSError):
            return False
        return True

    def start(self, timeout_s: float = 15) -> bool:
        """Start it unless it answers; True when this call started it."""
        if self.is_running():
            return False
        folder = LOCAL / self.name
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / f"{self.name}.log").open("ab") as log:
            proc = subprocess.Popen(
                [str(PROJECT_PYTHON), "-m", self.module, "--port", str(self.port), *self.args],
                cwd=ROOT / "localstack",
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        (folder / f"{self.name}.pid").write_text(str(proc.pid))
        deadline = time.monotonic() + timeout_s
        while not self.is_running():
            if proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.module} did not start; see {self.log}")
            time.sleep(0.1)
        return True

    def stop(self) -> None:
        pid_file = LOCAL / self.name / f"{self.name}.pid"
        try:
            pid = int(pid_file.read_text())
        except (FileNotFoundError, ValueError):
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        for _ in range(50):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        pid_file.unlink(missing_ok=True)
