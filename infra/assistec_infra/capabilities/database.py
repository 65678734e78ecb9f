"""PostgreSQL (RDS, major 17) with its credentials in Secrets Manager, behind an RDS Proxy.

The proxy is there because Lambda scales by opening connections: hundreds of environments would
exhaust the instance's connection slots, and the proxy pools them and rides through failovers.
In the local stage there is no RDS: the secret (same shape) is created by `make up` and points at
the local PostgreSQL.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from assistec_infra import constants
from assistec_infra.nag import acknowledge
from assistec_infra.stage_config import StageConfig


class Database(Construct):
    """``secret`` is the app role's (what the API uses); ``migrator_secret`` the owner's (deploys only)."""

    secret: secretsmanager.ISecret
    migrator_secret: secretsmanager.ISecret
    app_secret: secretsmanager.ISecret | None = None
    ops_secret: secretsmanager.ISecret | None = None
    proxy_endpoint: str | None = None
    # The RDS instance itself (prod): what AWS Backup backs up.
    instance: rds.DatabaseInstance | None = None
    client_security_group: ec2.ISecurityGroup | None = None
    # How clients connect (libpq sslmode, sslrootcert): the local PostgreSQL has no TLS; RDS forces
    # it, and the functions verify the server's certificate and name against the bundle they ship.
    sslmode = "disable"
    sslrootcert: str | None = None

    def __init__(
        self, scope: Construct, construct_id: str, *, config: StageConfig, vpc: ec2.IVpc | None
    ) -> None:
        super().__init__(scope, construct_id)
        if vpc is None:
            self.secret = secretsmanager.Secret.from_secret_name_v2(
                self, "Secret", constants.LOCAL_DB_SECRET_NAME
            )
            self.migrator_secret = secretsmanager.Secret.from_secret_name_v2(
                self, "MigratorSecret", constants.LOCAL_MIGRATOR_SECRET_NAME
            )
            # The ops role's (the restore test's scratch connection), direct as in prod; `make up` fills it.
            self.ops_secret = secretsmanager.Secret.from_secret_name_v2(
                self, "OpsSecret", constants.LOCAL_OPS_SECRET_NAME
            )
            return

        self.sslmode = "verify-full"
        self.sslrootcert = f"{constants.LAMBDA_TASK_ROOT}/{constants.RDS_CA_BUNDLE}"
        self.client_security_group = ec2.SecurityGroup(
            self, "ClientSg", vpc=vpc, description="assistec functions that talk to the database"
        )
        db_sg = ec2.SecurityGroup(self, "DbSg", vpc=vpc, description="assistec PostgreSQL and its proxy")
        db_sg.add_ingress_rule(self.client_security_group, ec2.Port.tcp(5432), "functions to proxy")
        db_sg.add_ingress_rule(db_sg, ec2.Port.tcp(5432), "proxy to instance")

        instance = rds.DatabaseInstance(
            self,
            "Instance",
            engine=rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_17),
            instance_type=ec2.InstanceType(config.db_instance_class),
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            security_groups=[db_sg],
            credentials=rds.Credentials.from_generated_secret(constants.DB_MASTER_USER),
            database_name=constants.DB_NAME,
            allocated_storage=config.db_allocated_storage_gb,
            max_allocated_storage=config.db_max_allocated_storage_gb,
            storage_encrypted=True,
            # A CA of the shipped bundle (functions/assistec/db/certs): the migrator verifies it.
            ca_certificate=rds.CaCertificate.RDS_CA_RSA2048_G1,
            multi_az=config.db_multi_az,
            backup_retention=Duration.days(config.db_backup_days),
            deletion_protection=config.deletion_protection,
            removal_policy=config.db_removal_policy,
            enable_performance_insights=True,
            cloudwatch_logs_exports=["postgresql"],
            auto_minor_version_upgrade=True,
            parameter_group=rds.ParameterGroup(
                self,
                "Params",
                engine=rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_17),
                parameters={"rds.force_ssl": "1", "log_min_duration_statement": "1000"},
            ),
        )
        assert instance.secret is not None
        self.instance = instance
        self.migrator_secret = instance.secret
        instance.add_rotation_single_user(automatically_after=Duration.days(30))
        # The app (NOBYPASSRLS) and ops (BYPASSRLS) roles get their own secrets; the schema custom
        # resource creates the roles with these passwords. Rotation keeps two users alternating.
        self.app_secret = rds.DatabaseSecret(
            self, "AppSecret", username=constants.DB_APP_USER, master_secret=instance.secret
        ).attach(instance)
        self.ops_secret = rds.DatabaseSecret(
            self, "OpsSecret", username=constants.DB_OPS_USER, master_secret=instance.secret
        ).attach(instance)
        for name, role_secret in (("AppRotation", self.app_secret), ("OpsRotation", self.ops_secret)):
            instance.add_rotation_multi_user(name, secret=role_secret, automatically_after=Duration.days(30))
        self.secret = self.app_secret

        proxy = instance.add_proxy(
            "Proxy",
            secrets=[self.app_secret],
            vpc=vpc,
            security_groups=[db_sg],
            require_tls=True,
            idle_client_timeout=Duration.minutes(30),
            debug_logging=False,
        )
        self.proxy_endpoint = proxy.endpoint
        acknowledge(
            instance,
            "AwsSolutions-RDS11",
            "The instance is only reachable from its proxy's security group inside isolated subnets; "
            "a non-default port would add no protection.",
        )
