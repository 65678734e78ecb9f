"""Write or check the committed OpenAPI document: ``python -m assistec.api.openapi_doc [--check]``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

OPENAPI_FILE = Path(__file__).with_name("openapi.json")


def render() -> str:
    import os

    # Importing the app builds it; it reads no settings at import time.
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Assistec")
    from assistec.api.app import openapi_json

    return json.dumps(json.loads(openapi_json()), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main() -> int:
    current = render()
    if "--check" in sys.argv:
        if OPENAPI_FILE.read_text(encoding="utf-8") != current:
            print("openapi.json is out of date: run `make openapi`", file=sys.stderr)  # noqa: T201
            return 1
        return 0
    OPENAPI_FILE.write_text(current, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
