"""Backups (issue 13 §3, and §4's backup age): each shop's data every night, a weekly proof that a
bundle restores, and, in prod, the whole database in AWS Backup.

**Per shop, nightly.** At 02:00 in São Paulo (constants.BACKUP_SCHEDULE) EventBridge starts the
``BackupFlow`` state machine: *Shops* lists the shops and the night's date → *ExportEach* maps over
them, at most ``EXPORT_CONCURRENCY`` at a time (the database and its proxy are shared with the day's
traffic), running *Export* for one shop (retried twice with backoff; a failure after that is caught
and becomes that shop's result, ``{"tenant_id", "date", "failed": true, "error"}``, so one shop never
fails the others) → *Finish* gets the date and every result and publishes ``BackupAgeHours`` and
``BackupFailures`` → done. A run that fails as a whole alarms (its failed executions). Re-running
the flow with ``{"date": "YYYY-MM-DD"}`` is safe: the export skips a shop whose bundle for that date
exists, so a re-run only does what is missing.

A bundle is the shop's rows, encrypted by the export under a data key from the shop-secrets key
(encryption context ``purpose=backup-bundle`` and the shop's ``tenant_id``): only the export and the
ops console's function (an operator's bundle on demand, ``grant_console``) may make such keys and
decrypt them, and the restore test decrypt them; no other function of the stack holds that
purpose. It is written to the ``Backups`` bucket with a ``retention`` tag (daily, weekly,
monthly; manual for an operator's) that the bucket's lifecycle rules expire after 8, 29 and 366 days
(29 for manual), and copied by its writer to ``BackupsCopy`` (BACKUP_COPY_BUCKET).

**Why the copy is a second bucket in the same region, written by the export, and not S3
replication to another region.** The bundles are the per-shop restore tool (one shop's mistake, one
shop leaving with its data), not the disaster-recovery copy: a region lost is recovered from the
whole database's copy in the other region (AWS Backup, below). A bundle in another region would not
even be readable there: its data key is wrapped by the shop-secrets key, a single-region KMS key (a
multi-region key would mean replacing that key and re-encrypting every shop secret). The second
bucket guards against what does happen to one bucket: a wrong lifecycle rule, a bad deploy, a
mistaken delete; both are versioned and, in prod, object-locked (governance mode,
BACKUP_OBJECT_LOCK_DAYS) so even an overwrite keeps the previous version that long. It works the
same in both stages (LocalStack has no cross-region replication), with no second stack for buckets.

**Weekly restore test.** On Sundays the restore test function reads the newest bundles back,
decrypts them and restores them into a scratch schema (dropped afterwards), publishing
``RestoreTestFailures``.

**The whole database (prod).** RDS keeps automated backups with point-in-time recovery
(``db_backup_days``, 14 days). AWS Backup adds a daily recovery point kept 35 days in a locked vault
(the lock refuses retention under 7 or over 400 days and, with recovery-point deletion blocked, any
early delete), copied to a locked vault in another region (the app's second stack, infra/app.py).
LocalStack has no AWS Backup: the local stage has none of it (``StageConfig.with_aws_backup``).
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_backup as backup
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from assistec_infra import constants
from assistec_infra.capabilities import flows
from assistec_infra.capabilities.database import Database
from assistec_infra.capabilities.functions import FunctionSpec
from assistec_infra.capabilities.monitoring import AppAlarm
from assistec_infra.capabilities.platform import Schedule, WorkerPlatform
from assistec_infra.capabilities.settings import BACKUP
from assistec_infra.capabilities.storage import _purpose
from assistec_infra.nag import acknowledge
from assistec_infra.stage_config import StageConfig

# Where each run of the flow writes its list of shops (domain/backup_bundle.py run_list_key).
RUN_LISTS_PREFIX = "runs/"
# Shops exported at once: each holds a database connection (through the proxy) for its export.
EXPORT_CONCURRENCY = 4
# A shop's export is tried three times (two retries, 30 s then 60 s apart) before its failure is recorded.
EXPORT_RETRIES = 2
# Longer than any night's run, shorter than a day: a stuck run ends before the next one starts.
FLOW_TIMEOUT = Duration.hours(20)

SHOPS_FUNCTION = FunctionSpec(
    handler=constants.BACKUP_SHOPS_HANDLER,
    label="Backup shops",
    description="assistec backup: the shops to back up and the night's date",
    timeout_s=60,
)
EXPORT_FUNCTION = FunctionSpec(
    handler=constants.BACKUP_EXPORT_HANDLER,
    label="Backup export",
    description="assistec backup: one shop's data into its encrypted bundle (and its copy)",
    memory_mb=1024,
    timeout_s=900,
)
FINISH_FUNCTION = FunctionSpec(
    handler=constants.BACKUP_FINISH_HANDLER,
    label="Backup finish",
    description="assistec backup: the night's results into the backup's metrics",
    timeout_s=120,
)
RESTORE_TEST_FUNCTION = FunctionSpec(
    handler=constants.RESTORE_TEST_HANDLER,
    label="Restore test",
    description="assistec backup: the weekly restore test (bundles restored into a scratch schema)",
    memory_mb=1024,
    timeout_s=900,
)
RESTORE_TEST = Schedule(
    "RestoreTestSchedule", constants.RESTORE_TEST_SCHEDULE, "The weekly restore test of the shops' backups"
)
RESTORE_TEST_FAILURES_ALARM = AppAlarm(
    "RestoreTestFailuresAlarm",
    constants.RESTORE_TEST_FAILURES_METRIC,
    "Sum",
    Duration.days(1),
    threshold=1,
    description="Restore test: some shops' bundles could not be read back and restored this week",
)
BACKUP_FAILURES_ALARM = AppAlarm(
    "BackupFailuresAlarm",
    constants.BACKUP_FAILURES_METRIC,
    "Sum",
    Duration.days(1),
    threshold=1,
    description="Backup: some shops were not backed up tonight (their export failed three times)",
)
# BackupAgeHours comes once a night, from Finish: the alarm looks at the last 26 hours, hour by hour,
# and fires when none of them has a report of every shop backed up within 26 hours (no report at all
# is as bad: no run finished).
BACKUP_AGE_HOURS = 26
BACKUP_AGE_ALARM = AppAlarm(
    "BackupAgeAlarm",
    constants.BACKUP_AGE_METRIC,
    "Maximum",
    Duration.hours(1),
    threshold=BACKUP_AGE_HOURS,
    evaluation_periods=BACKUP_AGE_HOURS,
    missing_data_breaches=True,
    comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    description=f"Backup: no night's run has reported every shop backed up within {BACKUP_AGE_HOURS} "
    f"hours for {BACKUP_AGE_HOURS} hours (runs failing, or not finishing)",
)


class Backup(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        platform: WorkerPlatform,
        secrets_key: kms.IKey,
        database: Database,
    ) -> None:
        super().__init__(scope, construct_id)
        config = platform.config
        self.bucket = self._bucket("Backups", config)
        self.copy_bucket = self._bucket("BackupsCopy", config)
        # The variables alone grant nothing: each function's permissions are given below.
        platform.settings.provide("backup_bucket", self.bucket.bucket_name)
        platform.settings.provide("backup_copy_bucket", self.copy_bucket.bucket_name)
        platform.settings.provide("backup_key_id", secrets_key.key_arn)

        self.shops = platform.worker(self, "Shops", SHOPS_FUNCTION, BACKUP)
        self.export = platform.worker(self, "Export", EXPORT_FUNCTION, BACKUP)
        self.finish = platform.worker(self, "Finish", FINISH_FUNCTION, BACKUP)
        self.restore_test = platform.scheduled(
            self,
            "RestoreTest",
            RESTORE_TEST_FUNCTION,
            BACKUP,
            schedule=RESTORE_TEST,
            alarm=RESTORE_TEST_FAILURES_ALARM,
        )
        # The export writes each bundle (tagged) and its copy, and checks whether it exists; the restore
        # test reads both buckets; the finish may look at the bundles' dates. Nobody deletes: the
        # lifecycle rules do.
        for bucket in (self.bucket, self.copy_bucket):
            _allow_bucket(self.export, bucket, write=True)
            _allow_bucket(self.restore_test, bucket, write=False)
        _allow_bucket(self.finish, self.bucket, write=False)
        # The shops' step writes the run's list of shops (runs/<date>/<run>.json), nothing else.
        self.shops.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject", "s3:PutObjectTagging"],
                resources=[self.bucket.arn_for_objects(f"{RUN_LISTS_PREFIX}*")],
            )
        )
        bucket_id = Stack.of(self).get_logical_id(self.bucket.node.default_child)  # type: ignore[arg-type]
        acknowledge(
            self.shops,
            f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/{RUN_LISTS_PREFIX}*]",
            "Each run writes its list of shops under its own key below runs/ (date and run id).",
        )
        self.export.add_to_role_policy(
            _purpose(["kms:GenerateDataKey", "kms:Decrypt"], secrets_key, constants.KMS_BACKUP_CONTEXT)
        )
        self.restore_test.add_to_role_policy(
            _purpose(["kms:Decrypt"], secrets_key, constants.KMS_BACKUP_CONTEXT)
        )
        # The restore test restores into schema backup_restore as the ops role (its secret holds the
        # instance's own host: straight to the database, not through the proxy).
        if database.ops_secret is not None:
            self.restore_test.add_environment("SCRATCH_DB_SECRET_ID", database.ops_secret.secret_arn)
            database.ops_secret.grant_read(self.restore_test)

        self._secrets_key = secrets_key
        self._ops_secret = database.ops_secret

        self.state_machine = self._flow(platform)
        events.Rule(
            self,
            "Schedule",
            description="The nightly per-shop backup (02:00 in São Paulo)",
            schedule=constants.BACKUP_SCHEDULE,
            # No date: the flow's first step takes the night's, in São Paulo.
            targets=[
                targets.SfnStateMachine(
                    self.state_machine, input=events.RuleTargetInput.from_object({}), retry_attempts=2
                )
            ],
        )
        for alarm in (BACKUP_FAILURES_ALARM, BACKUP_AGE_ALARM):
            platform.monitoring.app_alarm(self.finish, alarm)

        self.vault: backup.BackupVault | None = None
        self.plan: backup.BackupPlan | None = None
        if config.with_aws_backup:
            self._database_backups(platform, database)

    def grant_console(self, function: lambda_.Function) -> None:
        """The ops console's function handles one shop's bundles on demand: it lists, reads and
        writes both buckets (an operator's bundle and its copy; never a delete), makes and opens
        bundle data keys (the backup-bundle purpose only), and connects as the ops role (the scratch
        restore, and the permit an in-place restore needs: migration 0034). Its BACKUP_* variables
        come with its settings (OPS)."""
        for bucket in (self.bucket, self.copy_bucket):
            _allow_bucket(function, bucket, write=True)
        function.add_to_role_policy(
            _purpose(["kms:GenerateDataKey", "kms:Decrypt"], self._secrets_key, constants.KMS_BACKUP_CONTEXT)
        )
        if self._ops_secret is not None:
            function.add_environment("SCRATCH_DB_SECRET_ID", self._ops_secret.secret_arn)
            self._ops_secret.grant_read(function)

    def _bucket(self, construct_id: str, config: StageConfig) -> s3.Bucket:
        """A bundles' bucket: versioned, S3-encrypted (the bundles are already encrypted with their
        own data keys), private, TLS only; each bundle expires by its retention tag."""
        lock_days = config.backup_object_lock_days
        bucket = s3.Bucket(
            self,
            construct_id,
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_lock_enabled=True if lock_days is not None else None,
            object_lock_default_retention=(
                s3.ObjectLockRetention.governance(Duration.days(lock_days)) if lock_days is not None else None
            ),
            removal_policy=config.removal_policy,
            auto_delete_objects=False,
            lifecycle_rules=[
                *(
                    s3.LifecycleRule(
                        id=f"{kind}-expire-after-{days}-days",
                        tag_filters={constants.BACKUP_RETENTION_TAG: kind},
                        expiration=Duration.days(days),
                    )
                    for kind, days in constants.BACKUP_RETENTION_DAYS.items()
                ),
                s3.LifecycleRule(
                    id="old-versions",
                    noncurrent_version_expiration=Duration.days(constants.BACKUP_NONCURRENT_DAYS),
                    expired_object_delete_marker=True,
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                ),
            ],
        )
        acknowledge(
            bucket,
            "AwsSolutions-S1",
            "Only the backup functions' roles reach this bucket (no presigned links, no people); each "
            "logs the shop and key it writes or reads. S3 server access logs would repeat those requests.",
        )
        return bucket

    def _flow(self, platform: WorkerPlatform) -> sfn.StateMachine:
        flow = Construct(self, "Flow")
        shops = flows.retried(
            tasks.LambdaInvoke(flow, "Shops", lambda_function=self.shops, payload_response_only=True)
        )
        export = tasks.LambdaInvoke(flow, "Export", lambda_function=self.export, payload_response_only=True)
        export.add_retry(
            errors=["States.TaskFailed"],
            interval=Duration.seconds(30),
            max_attempts=EXPORT_RETRIES,
            backoff_rate=2,
        )
        # The error's name only (its cause, the stack trace, is in the export's logs and the execution's
        # history): every result stays in the execution's state, which Step Functions caps at 256 KB.
        failed = sfn.Pass(
            flow,
            "ExportFailed",
            parameters={
                "tenant_id": sfn.JsonPath.string_at("$.tenant_id"),
                "date": sfn.JsonPath.string_at("$.date"),
                "failed": True,
                "error": sfn.JsonPath.string_at("$.error.Error"),
            },
        )
        export.add_catch(failed, errors=["States.ALL"], result_path="$.error")
        # A Distributed Map: the shops come from the run's list in the bucket (a state's payload is
        # capped at 256 KB) and each shop's export is a child execution with its own history (an
        # execution's is capped at 25,000 events: an inline Map of thousands of shops would pass it).
        # Results are not gathered back: the finish reads each shop's outcome from backup_runs.
        each = sfn.DistributedMap(
            flow,
            "ExportEach",
            item_reader=sfn.S3JsonItemReader(bucket=self.bucket, key=sfn.JsonPath.string_at("$.list_key")),
            item_selector={
                "tenant_id": sfn.JsonPath.string_at("$$.Map.Item.Value.tenant_id"),
                "date": sfn.JsonPath.string_at("$.date"),
            },
            max_concurrency=EXPORT_CONCURRENCY,
            result_path=sfn.JsonPath.DISCARD,
            map_execution_type=sfn.StateMachineType.STANDARD,
            label="ExportEach",
        )
        each.item_processor(export)
        finish = flows.retried(
            tasks.LambdaInvoke(
                flow,
                "Finish",
                lambda_function=self.finish,
                payload=sfn.TaskInput.from_object(
                    {
                        "date": sfn.JsonPath.string_at("$.date"),
                        "list_key": sfn.JsonPath.string_at("$.list_key"),
                    }
                ),
                payload_response_only=True,
            )
        )
        machine = flows.standard_machine(
            flow,
            platform,
            name="backup",
            definition=shops.next(each).next(finish).next(sfn.Succeed(flow, "Done")),
            functions=[self.shops, self.export, self.finish],
            timeout=FLOW_TIMEOUT,
            failed_description="Backup flow: the night's run failed as a whole (listing the shops or "
            "finishing); no shop's result was recorded",
        )
        # The Distributed Map's own grants (CDK's): reading the run's list, and running its child
        # executions of this machine.
        stack = Stack.of(self)
        bucket = stack.get_logical_id(self.bucket.node.default_child)  # type: ignore[arg-type]
        acknowledge(
            machine,
            f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::<{bucket}>/*]",
            "The Distributed Map reads the run's list of shops (runs/<date>/<run>.json): CDK's item "
            "reader grant is s3:GetObject on the bucket's objects, for this machine's role only (the "
            "bundles there are encrypted under KMS data keys it cannot use).",
        )
        name = stack.get_logical_id(machine.node.default_child)  # type: ignore[arg-type]
        executions = (
            f"arn:aws:states:{stack.region}:{stack.account}:execution:"
            f'{{"Fn::Select":[6,{{"Fn::Split":[":",{{"Ref":"{name}"}}]}}]}}'
        )
        for suffix in (":*", "/ExportEach:*"):
            acknowledge(
                machine,
                f"AwsSolutions-IAM5[Resource::{executions}{suffix}]",
                "The Distributed Map runs each shop's export as a child execution of this machine and "
                "watches it (CDK's grant): executions of this machine only, named by the map run.",
            )
        return machine

    def _database_backups(self, platform: WorkerPlatform, database: Database) -> None:
        """AWS Backup (prod): a daily recovery point of the instance in a locked vault, copied to the
        copy region's locked vault; alarms on failed backup and copy jobs."""
        config = platform.config
        assert database.instance is not None, "AWS Backup needs the RDS instance (a stage with a VPC)"
        stack = Stack.of(self)
        self.vault = backup.BackupVault(
            self,
            "Vault",
            backup_vault_name=config.resource_name("backups"),
            lock_configuration=vault_lock(),
            block_recovery_point_deletion=True,
            removal_policy=config.removal_policy,
        )
        copy_vault = backup.BackupVault.from_backup_vault_arn(
            self, "CopyVault", config.copy_vault_arn(stack.partition)
        )
        retention = Duration.days(constants.DB_BACKUP_RETENTION_DAYS)
        self.plan = backup.BackupPlan(
            self,
            "Plan",
            backup_plan_name=config.resource_name("database"),
            backup_vault=self.vault,
            backup_plan_rules=[
                backup.BackupPlanRule(
                    rule_name="Daily",
                    schedule_expression=constants.DB_BACKUP_SCHEDULE,
                    start_window=Duration.hours(2),
                    completion_window=Duration.hours(8),
                    delete_after=retention,
                    copy_actions=[
                        backup.BackupPlanCopyActionProps(
                            destination_backup_vault=copy_vault, delete_after=retention
                        )
                    ],
                )
            ],
        )
        selection = self.plan.add_selection(
            "Database", resources=[backup.BackupResource.from_rds_database_instance(database.instance)]
        )
        acknowledge(
            selection,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSBackupServiceRolePolicyForBackup]",
            "AWS Backup's service role policy (AWSBackupServiceRolePolicyForBackup) is the one AWS "
            "maintains for the backup and copy of every resource type it supports.",
        )
        for construct_id, metric_name, description in (
            (
                "JobsFailedAlarm",
                "NumberOfBackupJobsFailed",
                "AWS Backup: the database's daily recovery point failed",
            ),
            (
                "CopyJobsFailedAlarm",
                "NumberOfCopyJobsFailed",
                "AWS Backup: the database's recovery point was not copied to the other region",
            ),
        ):
            platform.monitoring.alarm(
                self.vault,
                construct_id,
                cloudwatch.Metric(
                    namespace="AWS/Backup",
                    metric_name=metric_name,
                    dimensions_map={"BackupVaultName": self.vault.backup_vault_name},
                    period=Duration.days(1),
                    statistic="Sum",
                ),
                threshold=1,
                description=description,
            )


def vault_lock() -> backup.LockConfiguration:
    """Both vaults' lock, in governance mode (no ``changeable_for``): IAM principals allowed to can
    still remove it; a compliance-mode lock is irreversible and waits until the numbers have proven
    themselves (README)."""
    return backup.LockConfiguration(
        min_retention=Duration.days(constants.BACKUP_VAULT_MIN_RETENTION_DAYS),
        max_retention=Duration.days(constants.BACKUP_VAULT_MAX_RETENTION_DAYS),
    )


def _allow_bucket(function: lambda_.Function, bucket: s3.Bucket, *, write: bool) -> None:
    """Read a bucket's bundles (get, head, list; their tags), and write them (with tags) if asked."""
    actions = ["s3:GetObject", "s3:GetObjectTagging"]
    if write:
        actions += ["s3:PutObject", "s3:PutObjectTagging"]
    function.add_to_role_policy(iam.PolicyStatement(actions=actions, resources=[bucket.arn_for_objects("*")]))
    function.add_to_role_policy(iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket.bucket_arn]))
    resource = bucket.node.default_child
    assert isinstance(resource, s3.CfnBucket)
    acknowledge(
        function,
        f"AwsSolutions-IAM5[Resource::<{Stack.of(bucket).get_logical_id(resource)}.Arn>/*]",
        "Bundles are keyed by shop and date, and one function backs up every shop: the role cannot "
        "narrow the keys further.",
    )
