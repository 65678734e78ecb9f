"""The dependency layer: the locked runtime set (layers/requirements.txt), built without Docker."""

from __future__ import annotations

from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from assistec_infra import constants
from assistec_infra.bundling import layer_bundling
from assistec_infra.stage_config import StageConfig


class DependencyLayer(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self.layer = lambda_.LayerVersion(
            self,
            "Layer",
            code=lambda_.Code.from_asset(
                str(constants.LAYERS_DIR), bundling=layer_bundling(), exclude=["build"]
            ),
            compatible_runtimes=[constants.PYTHON_RUNTIME],
            compatible_architectures=[constants.ARCHITECTURE],
            description="assistec runtime dependencies (uv.lock, runtime group)",
            removal_policy=config.removal_policy,
        )
