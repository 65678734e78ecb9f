"""Shared by the CNAB tests: the fixtures' folder (copied into the repo, see its ATTRIBUTION.md)."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cnab"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()
