"""The Lambda layer ships exactly the locked runtime set: a dependency added to pyproject but not
re-exported would be missing in AWS (and in the local stack, whose functions see only the layer)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_layer_requirements_match_the_lock_file() -> None:
    exported = subprocess.run(
        [
            str(Path(sys.executable).with_name("uv")),
            "export",
            "--frozen",
            "--no-default-groups",
            "--no-emit-project",
            "--quiet",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def requirements(text: str) -> list[str]:
        return [line for line in text.splitlines() if line and not line.lstrip().startswith("#")]

    committed = (ROOT / "layers" / "requirements.txt").read_text()
    assert requirements(committed) == requirements(exported), (
        "run `make lock` and commit layers/requirements.txt"
    )


def test_dev_and_infra_tools_stay_out_of_the_layer() -> None:
    names = {
        line.split("==")[0]
        for line in (ROOT / "layers" / "requirements.txt").read_text().splitlines()
        if "==" in line
    }
    assert {"aws-lambda-powertools", "pydantic", "psycopg", "pyjwt", "argon2-cffi"} <= names
    assert not names & {"aws-cdk-lib", "pytest", "mypy", "ruff", "respx", "constructs", "cdk-nag"}
