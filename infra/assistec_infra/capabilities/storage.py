"""Device photos (S3) and the key that encrypts device unlock codes (KMS)."""

from __future__ import annotations

from aws_cdk import Duration, Stack, Tags
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from assistec_infra import constants
from assistec_infra.capabilities.platform import WorkerPlatform
from assistec_infra.nag import acknowledge


def _purpose(actions: list[str], key: kms.IKey, context: tuple[str, str]) -> iam.PolicyStatement:
    """The actions on the key, for ciphertexts whose encryption context names this purpose only."""
    name, value = context
    return iam.PolicyStatement(
        actions=actions,
        resources=[key.key_arn],
        conditions={"StringEquals": {f"kms:EncryptionContext:{name}": value}},
    )


def allow_asaas_key_decrypt(function: lambda_.Function, key: kms.IKey) -> None:
    """Decrypt the shops' Asaas API keys with the key, and nothing else it encrypts (device unlock
    codes stay out of the payment workers' reach): its own statement on the function."""
    function.add_to_role_policy(_purpose(["kms:Decrypt"], key, constants.KMS_ASAAS_KEY_CONTEXT))


class DeviceStorage(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, platform: WorkerPlatform) -> None:
        super().__init__(scope, construct_id)
        config = platform.config
        self.unlock_code_key = kms.Key(
            self,
            "UnlockCodeKey",
            enable_key_rotation=True,
            description="Encrypts device unlock codes (encryption context: shop and device)",
            removal_policy=config.removal_policy,
        )
        if config.local_kms_key_id and config.local_kms_material:
            # LocalStack's tags for a fixed key id and key material (ignored by AWS; local stage only).
            Tags.of(self.unlock_code_key).add("_custom_id_", config.local_kms_key_id)
            Tags.of(self.unlock_code_key).add("_custom_key_material_", config.local_kms_material)
        self.photos = s3.Bucket(
            self,
            "Photos",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=False,
            removal_policy=config.removal_policy,
            auto_delete_objects=False,
            cors=[
                s3.CorsRule(
                    allowed_methods=[s3.HttpMethods.POST, s3.HttpMethods.GET],
                    allowed_origins=["*"],  # presigned: the signature, not the origin, is the control
                    allowed_headers=["*"],
                    max_age=3000,
                )
            ],
            lifecycle_rules=[
                # The shops' documents are rendered again on request and their links live 5 minutes.
                s3.LifecycleRule(
                    id="documents-expire",
                    prefix=constants.DOCUMENTS_PREFIX,
                    expiration=Duration.days(constants.DOCUMENTS_EXPIRE_DAYS),
                ),
                s3.LifecycleRule(
                    id="infrequent-after-90-days",
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                            transition_after=Duration.days(90),
                        )
                    ],
                ),
            ],
        )
        # Its events go to EventBridge's default bus: the shops' bank files are read when they land
        # (BankFiles' rule on bank-files/; nothing else listens).
        bucket = self.photos.node.default_child
        assert isinstance(bucket, s3.CfnBucket)
        bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
            event_bridge_configuration=s3.CfnBucket.EventBridgeConfigurationProperty(
                event_bridge_enabled=True
            )
        )
        acknowledge(
            self.photos,
            "AwsSolutions-S1",
            "Object access goes through short-lived presigned URLs issued by the API, whose access is "
            "logged and audited per shop; S3 server access logs would duplicate that at extra cost.",
        )
        platform.settings.provide("devices_bucket", self.photos.bucket_name)
        platform.settings.provide("unlock_code_key_id", self.unlock_code_key.key_arn)
        # One KMS key for shop secrets (unlock codes, Asaas keys), apart by encryption context: every
        # grant on it names the purpose its ciphertexts carry (kms:EncryptionContext:...).
        platform.settings.provide("payments_key_id", self.unlock_code_key.key_arn)

    def grant_api(self, function: lambda_.Function) -> None:
        """Exactly what the API does: encrypt/decrypt unlock codes and the shops' Asaas keys (each by
        its purpose), encrypt WhatsApp instance tokens; in the bucket, by prefix: sign photo uploads
        and downloads, sign downloads of customers' WhatsApp files, write the rendered documents and
        sign their downloads, sign logo uploads and read the logos back."""
        # The key's three purposes go into the role's default policy: one inline policy each (what
        # add_to_role_policy makes under the app's CDK flags) would be three more of the prod stack's
        # 500 resources.
        role = function.role
        assert role is not None
        for context in (constants.KMS_UNLOCK_CODE_CONTEXT, constants.KMS_ASAAS_KEY_CONTEXT):
            role.add_to_principal_policy(
                _purpose(["kms:Encrypt", "kms:Decrypt"], self.unlock_code_key, context)
            )
        # The WhatsApp instances' tokens: encrypted when a number is connected, never read back.
        role.add_to_principal_policy(
            _purpose(["kms:Encrypt"], self.unlock_code_key, constants.KMS_EVOLUTION_TOKEN_CONTEXT)
        )
        # A presigned request acts with the signer's rights: signing an upload form needs PutObject, a
        # download link GetObject (which HEAD uses too).
        read_write = ["s3:PutObject", "s3:GetObject"]
        for actions, pattern, reason in (
            (
                read_write,
                constants.PHOTOS_OBJECTS,
                "Device photos are <shop>/devices/<device>/<photo>: the shop's id comes first",
            ),
            (
                ["s3:GetObject"],
                constants.WHATSAPP_MEDIA_OBJECTS,
                "Customers' WhatsApp files (written by the sender), whose links staff open",
            ),
            (
                read_write,
                f"{constants.DOCUMENTS_PREFIX}*",
                "Rendered documents are documents/<shop>/<order>/<file>, written and linked by the API",
            ),
            (
                read_write,
                f"{constants.LOGOS_PREFIX}*",
                "Logos are logos/<shop>/<file>: upload forms signed, the file read back to check it",
            ),
            (
                read_write,
                f"{constants.REMESSAS_PREFIX}*",
                "Remessas are remessas/<shop>/<agreement>/<remessa>/<file>, written and linked by the API",
            ),
        ):
            function.add_to_role_policy(
                iam.PolicyStatement(actions=actions, resources=[self.photos.arn_for_objects(pattern)])
            )
            bucket = self.photos.node.default_child
            assert isinstance(bucket, s3.CfnBucket)
            acknowledge(
                function,
                f"AwsSolutions-IAM5[Resource::<{Stack.of(self).get_logical_id(bucket)}.Arn>/{pattern}]",
                f"{reason}. One function serves every shop, so the role names the prefix; the API only "
                "builds or accepts keys of the caller's shop (tenant from the authorizer).",
            )
