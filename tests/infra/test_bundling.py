"""The local bundlers (no Docker): real output, as `cdk deploy` would upload it."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import DockerImage

from assistec_infra.bundling import _DependencyLayer, _FunctionCode


def test_function_code_is_the_package_with_unchecked_hash_pyc(tmp_path: Path) -> None:
    assert _FunctionCode().try_bundle(str(tmp_path), image=DockerImage.from_registry("unused"))
    assert (tmp_path / "assistec" / "handlers" / "api.py").exists()
    assert (tmp_path / "assistec" / "db" / "migrations" / "0001_foundation.sql").exists()
    pyc = next((tmp_path / "assistec" / "handlers" / "__pycache__").glob("api.cpython-313.pyc"))
    # flags word of the pyc header: 0b01 = hash-based, check_source bit (0b10) unset = unchecked
    assert int.from_bytes(pyc.read_bytes()[4:8], "little") == 0b01


def test_dependency_layer_has_linux_cp313_wheels_and_only_the_runtime_set(tmp_path: Path) -> None:
    assert _DependencyLayer().try_bundle(str(tmp_path), image=DockerImage.from_registry("unused"))
    python = tmp_path / "python"
    assert next(python.glob("pydantic_core/_pydantic_core.cpython-313-x86_64-linux-gnu.so"))
    assert next(python.glob("psycopg_binary/*.so"))
    assert (python / "aws_lambda_powertools").is_dir()
    assert not (python / "aws_cdk").exists()
    assert not (python / "pytest").exists()
    # It fits Lambda's 250 MB unzipped limit with room to spare
    size = sum(f.stat().st_size for f in python.rglob("*") if f.is_file())
    assert size < 150 * 1024 * 1024, size
