"""The web panel's build checks, from pytest: its client types match the committed OpenAPI (a
route or field the API dropped or renamed fails here, not in a shop's browser), the panel
type-checks against them, and its unit suite (vitest) passes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.web_panel import WEB, npm

OPENAPI = WEB.parent / "functions" / "assistec" / "api" / "openapi.json"


def test_the_generated_client_matches_the_committed_openapi() -> None:
    checked = npm("run", "--silent", "check:api")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_changed_openapi_without_regenerating_fails_the_check(tmp_path: Path) -> None:
    # Given a copy of web/ whose OpenAPI lost a route the panel uses (GET /me)
    copy = tmp_path / "repo"
    (copy / "functions" / "assistec" / "api").mkdir(parents=True)
    shutil.copytree(WEB, copy / "web", ignore=shutil.ignore_patterns("node_modules", "dist"), symlinks=True)
    (copy / "web" / "node_modules").symlink_to(WEB / "node_modules")
    spec = json.loads(OPENAPI.read_text())
    del spec["paths"]["/me"]
    (copy / "functions" / "assistec" / "api" / "openapi.json").write_text(json.dumps(spec))
    # When the check runs there, then it fails and says what to do
    checked = npm("run", "--silent", "check:api", cwd=copy / "web")
    assert checked.returncode != 0
    assert "npm run gen:api" in checked.stderr
    # And once regenerated, the panel no longer type-checks: it still calls GET /me
    assert npm("run", "--silent", "gen:api", cwd=copy / "web").returncode == 0
    typed = npm("run", "--silent", "typecheck", cwd=copy / "web")
    assert typed.returncode != 0
    assert "src/App.tsx" in typed.stdout  # where the panel asks for /me


def test_the_panel_type_checks_against_the_api() -> None:
    typed = npm("run", "--silent", "typecheck")
    assert typed.returncode == 0, typed.stdout + typed.stderr


def test_the_panel_unit_suite_passes() -> None:
    tested = npm("run", "--silent", "test")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert " passed" in tested.stdout
