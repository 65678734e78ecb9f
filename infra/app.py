"""The CDK app: `cdk synth -c stage=local|prod`. cdk-nag (AwsSolutions) validates every synth."""

from __future__ import annotations

import sys
from pathlib import Path

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

sys.path.insert(0, str(Path(__file__).resolve().parent))

from assistec_infra.stack import AssistecStack
from assistec_infra.stage_config import stage_config


def build_app(app: cdk.App) -> AssistecStack:
    stage = app.node.try_get_context("stage") or "local"
    keys = ("prod_account", "prod_region", "alarm_email", "local_kms_key_id", "local_kms_material")
    context = {key: app.node.try_get_context(key) for key in keys}
    stack = AssistecStack(app, stage_config(stage, context))
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    return stack


if __name__ == "__main__":
    application = cdk.App()
    build_app(application)
    application.synth()
