"""The shops' bank files (issue 15 §4): retornos and statements uploaded to the devices bucket.

The API signs a presigned POST for ``bank-files/<shop>/<kind>/<user>/<upload>/<name>`` (its role may
put objects under ``bank-files/`` only, for the signature and the inline path). The devices bucket
sends its events to EventBridge (the account's default bus); a rule takes ``Object Created`` under
``bank-files/`` to the ``Uploads`` queue (DLQ after five tries) and the bank files worker reads the
object (``s3:GetObject`` on ``bank-files/*``, nothing else in the bucket), records it once per content
and parses it (services/banking/intake.py).

Why EventBridge and not the bucket's own queue notification: S3 checks a notification's queue and
its policy when the bucket is updated, so the bucket would wait on the queue's policy while the
worker waits on the bucket (its name and ARN): one stack could not hold both across a nested-stack
boundary (prod keeps this capability in a nested stack of its own, under CloudFormation's 500
resources), and CDK's ``add_event_notification`` deploys a custom resource (a Lambda function
LocalStack does not run here). The bucket's ``EventBridgeConfiguration`` is one property, checked
against nothing.
"""

from __future__ import annotations

from aws_cdk import Duration, Names, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from assistec_infra import constants
from assistec_infra.capabilities.functions import FunctionSpec
from assistec_infra.capabilities.monitoring import AppAlarm
from assistec_infra.capabilities.platform import WorkerPlatform
from assistec_infra.capabilities.queues import WorkQueue
from assistec_infra.capabilities.settings import BANK_FILES
from assistec_infra.nag import acknowledge

# One file per invocation: a large retorno is read, hashed, parsed and recorded line by line
# (handlers/bank_files.FILE_MAX_S, 120 s, is its worst case; tests/infra checks it fits).
WORKER_BATCH_SIZE = 1
WORKER_CONCURRENCY = 4
WORKER_FUNCTION = FunctionSpec(
    handler=constants.BANK_FILES_HANDLER,
    label="Bank files worker",
    description="assistec bank files: reads an uploaded retorno or statement once per content",
    memory_mb=1024,
    timeout_s=300,
)

# The matcher's target is 98% of a month's settlements and statement lines matched automatically; a
# day's runs averaging under 90% say a bank changed its file layout or a matching rule broke (a day
# with no run says nothing: no bank file arrived).
RECONCILIATION_RATE_FLOOR = 90
RECONCILIATION_RATE_ALARM = AppAlarm(
    "ReconciliationRateAlarm",
    constants.RECONCILIATION_RATE_METRIC,
    "Average",
    Duration.days(1),
    threshold=RECONCILIATION_RATE_FLOOR,
    comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    description=f"Bank reconciliation: the day's runs matched under {RECONCILIATION_RATE_FLOOR}% of "
    "settlements and statement lines automatically (a bank's file layout? a matching rule?)",
)


class BankFiles(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, platform: WorkerPlatform, bucket: s3.Bucket
    ) -> None:
        super().__init__(scope, construct_id)
        self._bucket = bucket
        uploads = WorkQueue(
            self, "Uploads", platform=platform, consumer=WORKER_FUNCTION, retention=Duration.days(4)
        )
        self.queue, self.dlq = uploads.queue, uploads.dlq
        events.Rule(
            self,
            "UploadsToQueue",
            description="A shop's retorno or statement landed in the devices bucket: the worker reads it",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [bucket.bucket_name]},
                    "object": {"key": [{"prefix": constants.BANK_FILES_PREFIX}]},
                },
            ),
            targets=[targets.SqsQueue(self.queue)],
        )
        self.worker = uploads.worker(
            "Worker", BANK_FILES, batch_size=WORKER_BATCH_SIZE, max_concurrency=WORKER_CONCURRENCY
        )
        self._allow(self.worker, ["s3:GetObject"], "reads each uploaded file once its S3 event arrives")
        platform.monitoring.app_alarm(self.worker, RECONCILIATION_RATE_ALARM)
        uploads.alarm_on_dead_letters(
            "DlqAlarm",
            "Bank files: an uploaded file could not be read five times (the database? S3?); the shop does "
            "not see it in its list",
        )

    def grant_api(self, function: lambda_.Function) -> None:
        """Sign the upload forms and store the inline files (a presigned POST acts with the signer's
        rights: s3:PutObject), under bank-files/ only."""
        self._allow(function, ["s3:PutObject"], "signs the shop's upload forms and stores its inline files")

    def _allow(self, function: lambda_.Function, actions: list[str], what: str) -> None:
        pattern = f"{constants.BANK_FILES_PREFIX}*"
        function.add_to_role_policy(
            iam.PolicyStatement(actions=actions, resources=[self._bucket.arn_for_objects(pattern)])
        )
        cfn_bucket = self._bucket.node.default_child
        assert isinstance(cfn_bucket, s3.CfnBucket)
        bucket_stack = Stack.of(self._bucket)
        arn = f"{bucket_stack.get_logical_id(cfn_bucket)}.Arn"
        if Stack.of(function) is not bucket_stack:  # a nested stack receives the ARN as a parameter
            arn = f"referenceto{Names.unique_id(cfn_bucket)}Arn"
        acknowledge(
            function,
            f"AwsSolutions-IAM5[Resource::<{arn}>/{pattern}]",
            f"Bank files are bank-files/<shop>/<kind>/<user>/<upload>/<name> and one function serves every "
            f"shop, so the role names the prefix; it {what}, the shop from the authorizer or the key the API "
            "signed.",
        )
