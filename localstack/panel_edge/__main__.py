"""``python -m panel_edge --config FILE [--port 4594]``: the panel's local edge."""

from __future__ import annotations

from panel_edge.server import main

if __name__ == "__main__":
    raise SystemExit(main())
