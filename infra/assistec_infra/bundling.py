"""Local bundling (no Docker) for the Lambda code and the dependency layer.

CDK zips assets with 1980 timestamps, so .pyc files compiled with the default (timestamp)
invalidation would never match their sources and Lambda would recompile at every cold start;
``unchecked-hash`` .pyc are used as they are.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import jsii
from aws_cdk import BundlingOptions, DockerImage, ILocalBundling

from assistec_infra.constants import ARCHITECTURE, FUNCTIONS_DIR, LAYERS_DIR, PYTHON_VERSION


def _compile(root: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash", str(root)],
        check=True,
    )


@jsii.implements(ILocalBundling)
class _FunctionCode:
    def try_bundle(self, output_dir: str, *, image: DockerImage, **_: object) -> bool:
        shutil.copytree(
            FUNCTIONS_DIR / "assistec",
            Path(output_dir) / "assistec",
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            dirs_exist_ok=True,
        )
        _compile(Path(output_dir))
        return True


@jsii.implements(ILocalBundling)
class _DependencyLayer:
    def try_bundle(self, output_dir: str, *, image: DockerImage, **_: object) -> bool:
        target = Path(output_dir) / "python"
        # Lambda's python3.13 runs on Amazon Linux 2023: glibc 2.34.
        platform = f"{'x86_64' if ARCHITECTURE.name == 'x86_64' else 'aarch64'}-manylinux_2_34"
        uv = Path(sys.executable).with_name("uv")
        subprocess.run(
            [
                str(uv),
                "pip",
                "install",
                "--quiet",
                "--require-hashes",
                "--no-deps",  # the requirements file is the full, locked closure
                "--target",
                str(target),
                "--python-version",
                PYTHON_VERSION,
                "--python-platform",
                platform,
                "--only-binary",
                ":all:",
                "-r",
                str(LAYERS_DIR / "requirements.txt"),
            ],
            check=True,
        )
        _compile(target)
        return True


# The image is never pulled: local bundling always succeeds first. CDK requires one to be named.
_NO_DOCKER = DockerImage.from_registry("assistec/local-bundling-only")


def function_bundling() -> BundlingOptions:
    return BundlingOptions(image=_NO_DOCKER, local=_FunctionCode())


def layer_bundling() -> BundlingOptions:
    return BundlingOptions(image=_NO_DOCKER, local=_DependencyLayer())
