"""Deploy-time database set-up: a custom resource runs the roles and migrations on each deploy
whose migrations changed, before the API function is updated (it depends on this resource)."""

from __future__ import annotations

import hashlib

from aws_cdk import CustomResource
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from assistec_infra import constants
from assistec_infra.capabilities.database import Database
from assistec_infra.capabilities.functions import PythonFunctions
from assistec_infra.capabilities.monitoring import Monitoring
from assistec_infra.stage_config import StageConfig


def migrations_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted((constants.FUNCTIONS_DIR / "assistec" / "db" / "migrations").glob("*.sql")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


class Schema(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        database: Database,
        functions: PythonFunctions,
        monitoring: Monitoring,
        vpc: ec2.IVpc | None,
    ) -> None:
        super().__init__(scope, construct_id)
        migrator: secretsmanager.ISecret = database.migrator_secret
        environment = {"DB_SECRET_ID": migrator.secret_arn, "DB_SSLMODE": "require" if vpc else "disable"}
        role_secrets = [s for s in (database.app_secret, database.ops_secret) if s is not None]
        if database.app_secret is not None and database.ops_secret is not None:
            environment |= {
                "APP_SECRET_ID": database.app_secret.secret_arn,
                "OPS_SECRET_ID": database.ops_secret.secret_arn,
            }
        self.function: lambda_.Function = functions.function(
            self,
            "MigrateFunction",
            handler=constants.MIGRATE_HANDLER,
            description="assistec: database roles and migrations, run by CloudFormation on deploy",
            memory_mb=256,
            timeout_s=300,
            environment=environment,
            vpc=vpc,
            security_groups=[database.client_security_group] if database.client_security_group else None,
        )
        for secret in (migrator, *role_secrets):
            secret.grant_read(self.function)
        monitoring.watch_function(self.function, "schema set-up")
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=self.function.function_arn,
            resource_type="Custom::AssistecSchema",
            properties={"MigrationsHash": migrations_hash()},
        )
