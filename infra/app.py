"""The CDK app: `cdk synth -c stage=local|prod`. cdk-nag (AwsSolutions) validates every synth."""

from __future__ import annotations

import sys
from pathlib import Path

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

sys.path.insert(0, str(Path(__file__).resolve().parent))

from assistec_infra.copy_stack import BackupCopyStack
from assistec_infra.panel_waf_stack import PanelWafStack
from assistec_infra.stack import AssistecStack
from assistec_infra.stage_config import stage_config

CONTEXT_KEYS = (
    "prod_account",
    "prod_region",
    "alarm_email",
    "local_kms_key_id",
    "local_kms_material",
    "backup_copy_region",
    "backup_copy_vault_arn",
)


def build_app(app: cdk.App) -> AssistecStack:
    """The stage's stack; in prod, first the copy region's backup vault stack it copies to and the
    panel's CloudFront web ACL's stack (us-east-1), whose ARN it reads across regions."""
    stage = app.node.try_get_context("stage") or "local"
    context = {key: app.node.try_get_context(key) for key in CONTEXT_KEYS}
    config = stage_config(stage, context)
    panel_waf = PanelWafStack(app, config) if config.makes_panel_web_acl else None
    stack = AssistecStack(app, config, panel_web_acl_arn=panel_waf.web_acl.attr_arn if panel_waf else None)
    if config.makes_backup_copy_vault:
        stack.add_stack_dependency(BackupCopyStack(app, config))
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    return stack


if __name__ == "__main__":
    application = cdk.App()
    build_app(application)
    application.synth()
