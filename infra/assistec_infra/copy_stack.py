"""The prod stage's second stack, in ``backup_copy_region``: the locked vault AWS Backup copies the
database's recovery points to (capabilities/backup.py). A vault in another region needs a stack of its
own there; its name is fixed (``assistec-<stage>-backup-copy``), so the main stack builds its ARN
without a cross-region reference and only deploys after it (infra/app.py)."""

from __future__ import annotations

from aws_cdk import CfnOutput, Environment, Stack
from aws_cdk import aws_backup as backup
from constructs import Construct

from assistec_infra.capabilities.backup import vault_lock
from assistec_infra.stage_config import StageConfig


class BackupCopyStack(Stack):
    def __init__(self, scope: Construct, config: StageConfig) -> None:
        super().__init__(
            scope,
            config.backup_copy_stack_name,
            env=Environment(account=config.account, region=config.backup_copy_region),
            description=f"assistec ({config.stage}): the database backups' copy vault",
        )
        self.vault = backup.BackupVault(
            self,
            "Vault",
            backup_vault_name=config.backup_copy_stack_name,
            lock_configuration=vault_lock(),
            block_recovery_point_deletion=True,
            removal_policy=config.removal_policy,
        )
        CfnOutput(self, "BackupCopyVaultArn", value=self.vault.backup_vault_arn)
