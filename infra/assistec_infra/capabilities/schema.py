"""Deploy-time database set-up: a custom resource runs the roles and migrations on each deploy
whose migrations changed, before the functions on the database are updated (they depend on it)."""

from __future__ import annotations

import hashlib

from aws_cdk import CustomResource
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from assistec_infra import constants
from assistec_infra.capabilities.database import Database
from assistec_infra.capabilities.functions import FunctionSpec
from assistec_infra.capabilities.platform import WorkerPlatform

MIGRATE_FUNCTION = FunctionSpec(
    handler=constants.MIGRATE_HANDLER,
    label="schema set-up",
    description="assistec: database roles and migrations, run by CloudFormation on deploy",
    memory_mb=256,
    timeout_s=300,
)


def migrations_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted(constants.MIGRATIONS_DIR.glob("*.sql")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


class Schema(Construct):
    """The migrator's function (MigrateSettings: the owner's secret, straight to the instance) and
    the custom resource every database worker of the platform is deployed after."""

    def __init__(
        self, scope: Construct, construct_id: str, *, platform: WorkerPlatform, database: Database
    ) -> None:
        super().__init__(scope, construct_id)
        migrator: secretsmanager.ISecret = database.migrator_secret
        environment = {"DB_SECRET_ID": migrator.secret_arn, "DB_SSLMODE": database.sslmode}
        if database.sslrootcert is not None:
            environment["DB_SSLROOTCERT"] = database.sslrootcert
        role_secrets = [s for s in (database.app_secret, database.ops_secret) if s is not None]
        if database.app_secret is not None and database.ops_secret is not None:
            environment |= {
                "APP_SECRET_ID": database.app_secret.secret_arn,
                "OPS_SECRET_ID": database.ops_secret.secret_arn,
            }
        self.function = platform.function(
            self, "MigrateFunction", MIGRATE_FUNCTION, in_vpc=True, environment=environment
        )
        for secret in (migrator, *role_secrets):
            secret.grant_read(self.function)
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=self.function.function_arn,
            resource_type=constants.SCHEMA_RESOURCE_TYPE,
            properties={"MigrationsHash": migrations_hash()},
        )
        platform.deploy_after(self.resource)
