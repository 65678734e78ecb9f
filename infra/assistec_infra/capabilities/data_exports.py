"""The owners' copies of their shops' data (LGPD, portability; issue 13 §3).

The API records the owner's request and a ``DataExportRequested`` domain event in one transaction;
the outbox publishes it to the shop's bus, and a rule queues it (SQS, with a DLQ) for the data exports
worker, off the API (a large shop's zip takes longer than API Gateway's 29 s). The worker takes one
message at a time, at most ``WORKER_CONCURRENCY`` at once (each reads a whole shop through the shared
database), writes ``exports/<shop>/<export>.zip`` to the ``DataExports`` bucket and e-mails the owner
(the platform's mail: no shop SMTP server, no key). The API signs 5-minute download links: a
presigned GET acts with the signer's rights, so its role may get objects under ``exports/`` and do
nothing else in the bucket. The worker may only put there, and neither deletes: the bucket's
lifecycle expires each zip (``DATA_EXPORTS_EXPIRE_DAYS``, a day past the 7 the API hands it out for).

**Why a bucket of its own, not the backups'.** The backups' buckets are versioned and, in prod,
object-locked for a week, and reached by no person: a zip of a shop's customers kept there would
outlive its 7 days in locked versions, and the API would need rights on the bundles' bucket. Here
nothing is versioned, so an expired zip is gone, and the only way in from outside is a link the API
signed for the shop's owner (audited in the shop's log).
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from assistec_infra import constants
from assistec_infra.capabilities.functions import FunctionSpec
from assistec_infra.capabilities.mail import allow_mail
from assistec_infra.capabilities.monitoring import AppAlarm
from assistec_infra.capabilities.platform import WorkerPlatform
from assistec_infra.capabilities.queues import WorkQueue
from assistec_infra.capabilities.settings import DATA_EXPORTS
from assistec_infra.nag import acknowledge

# One export per invocation: the whole of Lambda's 15 minutes for one shop (the code's lease on a
# running export, domain/data_exports.RUNNING_LEASE_S, is longer; tests/infra checks).
WORKER_BATCH_SIZE = 1
WORKER_CONCURRENCY = 2
WORKER_FUNCTION = FunctionSpec(
    handler=constants.DATA_EXPORTS_HANDLER,
    label="Data exports worker",
    description="assistec data exports: the owner's zip of the shop's data (LGPD), off the API",
    memory_mb=1024,
    timeout_s=900,
)
FAILURES_ALARM = AppAlarm(
    "FailuresAlarm",
    constants.DATA_EXPORT_FAILURES_METRIC,
    "Sum",
    Duration.hours(1),
    threshold=1,
    description="Data exports: an owner's export of the shop's data failed (the owner sees it failed)",
)


class DataExports(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, platform: WorkerPlatform, bus: events.IEventBus
    ) -> None:
        super().__init__(scope, construct_id)
        config = platform.config
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=False,
            removal_policy=config.removal_policy,
            auto_delete_objects=False,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id=f"exports-expire-after-{constants.DATA_EXPORTS_EXPIRE_DAYS}-days",
                    prefix=constants.DATA_EXPORTS_PREFIX,
                    expiration=Duration.days(constants.DATA_EXPORTS_EXPIRE_DAYS),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                ),
            ],
        )
        acknowledge(
            self.bucket,
            "AwsSolutions-S1",
            "Objects are read only through 5-minute presigned links the API signs for the shop's owner, "
            "each audited in the shop's log; written only by the data exports worker, which logs each. "
            "S3 server access logs would duplicate that at extra cost.",
        )
        platform.settings.provide("exports_bucket", self.bucket.bucket_name)

        requests = WorkQueue(
            self, "Requests", platform=platform, consumer=WORKER_FUNCTION, retention=Duration.days(4)
        )
        self.queue, self.dlq = requests.queue, requests.dlq
        events.Rule(
            self,
            "RequestsToQueue",
            description="An owner asked for a copy of the shop's data: the data exports worker makes it",
            event_bus=bus,
            event_pattern=events.EventPattern(
                source=[constants.EVENT_SOURCE], detail_type=[constants.DATA_EXPORT_REQUESTED]
            ),
            targets=[targets.SqsQueue(self.queue)],
        )
        self.worker = requests.worker(
            "Worker", DATA_EXPORTS, batch_size=WORKER_BATCH_SIZE, max_concurrency=WORKER_CONCURRENCY
        )
        self._allow(self.worker, ["s3:PutObject"], "writes each zip (in parts when large), never reads")
        # The owners' "your export is ready" e-mail: the platform's own mail (no shop SMTP password).
        allow_mail(self.worker, config, shop_mail=False)
        platform.monitoring.app_alarm(self.worker, FAILURES_ALARM)
        requests.alarm_on_dead_letters(
            "DlqAlarm",
            "Data exports: an export request failed five times (the database?); the owner sees it failed "
            "after 6 hours and may ask again",
        )

    def grant_links(self, function: lambda_.Function) -> None:
        """Sign the owners' download links (a presigned GET needs s3:GetObject), under exports/ only."""
        self._allow(function, ["s3:GetObject"], "signs the owner's 5-minute download links")

    def _allow(self, function: lambda_.Function, actions: list[str], what: str) -> None:
        pattern = f"{constants.DATA_EXPORTS_PREFIX}*"
        function.add_to_role_policy(
            iam.PolicyStatement(actions=actions, resources=[self.bucket.arn_for_objects(pattern)])
        )
        bucket = self.bucket.node.default_child
        assert isinstance(bucket, s3.CfnBucket)
        acknowledge(
            function,
            f"AwsSolutions-IAM5[Resource::<{Stack.of(self).get_logical_id(bucket)}.Arn>/{pattern}]",
            f"Exports are exports/<shop>/<export>.zip and one function serves every shop, so the role names "
            f"the prefix; it {what}, and builds each key from the export's own row (the shop from the "
            "event or the authorizer).",
        )
