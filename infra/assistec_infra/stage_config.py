"""What differs between the stages, as data. Everything else is the same code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from aws_cdk import RemovalPolicy

from assistec_infra.constants import APP_NAME, BACKUP_OBJECT_LOCK_DAYS

Stage = Literal["local", "prod"]
# A web ACL for CloudFront (scope CLOUDFRONT) is made in us-east-1, whatever the stage's region.
CLOUDFRONT_WAF_REGION = "us-east-1"


@dataclass(frozen=True)
class StageConfig:
    stage: Stage
    account: str
    region: str
    # Networking and database exist only where RDS does: LocalStack emulates neither usefully.
    with_vpc: bool
    availability_zones: tuple[str, ...] = ()
    nat_gateways: int = 0
    db_instance_class: str = "t4g.medium"
    db_allocated_storage_gb: int = 50
    db_max_allocated_storage_gb: int = 500
    db_multi_az: bool = False
    db_backup_days: int = 14
    deletion_protection: bool = False
    # Logs, keys, secrets: kept in prod when the stack goes. The database keeps a final snapshot.
    removal_policy: RemovalPolicy = RemovalPolicy.DESTROY
    db_removal_policy: RemovalPolicy = RemovalPolicy.DESTROY
    with_waf: bool = False
    # LocalStack's community edition neither creates AWS::ApiGateway::Authorizer nor runs Lambda
    # authorizers: there the API function checks the token itself (AUTHORIZER_EMULATION).
    native_authorizer: bool = True
    # The stage's throttle is the platform's ceiling (the account's regional limit is 10,000 rps), not
    # a share: callers are throttled per token and per address by the WAF (RestApi._web_acl).
    api_rate_limit_rps: int = 1000
    api_burst_limit: int = 2000
    # Each shop's share (its key in the usage plan, named by the authorizer): a shop's whole team,
    # every request with a token. API Gateway answers 429 past it.
    shop_rate_limit_rps: int = 50
    shop_burst_limit: int = 100
    alarm_email: str | None = None
    # Local stage only: LocalStack forgets KMS keys on restart while the local database keeps the
    # ciphertexts; `make up` pins the key's id and material (generated once into .local/).
    local_kms_key_id: str | None = None
    local_kms_material: str | None = None
    # The Asaas API's base URL when not Asaas's own (local stage: the offline simulator).
    asaas_base_url: str | None = None
    # Local stage only: the staff's WebSocket as the panel reaches it (the gateway stand-in devctl
    # runs, localstack/ws_gateway), handed out with each real-time ticket as prod hands out the
    # WebSocket API stage's wss:// URL.
    local_realtime_url: str | None = None
    # The payment flow's e-mails: an address of an SES-verified identity.
    mail_sender: str = "nao-responda@assistec.com.br"
    # Where a shop's answer to the platform's mail goes (the sender is a no-reply address).
    support_email: str = "suporte@assistec.com.br"
    # The whole database in AWS Backup (a locked vault, a daily plan copied to a locked vault in
    # backup_copy_region): prod only, since LocalStack has neither RDS nor AWS Backup. The copy vault
    # is made by the app's second stack (infra/app.py) unless backup_copy_vault_arn names one elsewhere
    # (another account's, say).
    with_aws_backup: bool = False
    backup_copy_region: str = "us-east-1"
    backup_copy_vault_arn: str | None = None
    # Object lock (governance mode) on the per-shop bundles, in days: prod only (locally a lock would
    # keep tests and developers from emptying the buckets).
    backup_object_lock_days: int | None = None
    # The staff's panel on S3 + CloudFront, the API same-origin at /api/* (capabilities/panel.py):
    # prod only (LocalStack runs neither CloudFront nor the deployment's custom resource; locally
    # localstack/panel_edge serves web/dist with the same rules and headers).
    with_panel_cdn: bool = False
    # The real-time capability (WebSocket API, its function, rules) in a nested stack of its own: prod's
    # stack would pass CloudFormation's 500 resources with it. Locally it stays in the stack (no
    # WebSocket API there, far below the limit, and no nested template for LocalStack to deploy).
    nested_realtime: bool = False

    @property
    def makes_panel_web_acl(self) -> bool:
        """The panel's CloudFront gets a web ACL of its own (a stack in us-east-1, panel_waf_stack.py),
        and the REST API's regional web ACL stops counting CloudFront's requests per address: prod only,
        where both CloudFront and the regional WAF exist."""
        return self.with_panel_cdn and self.with_waf

    @property
    def panel_waf_stack_name(self) -> str:
        """The stack holding the panel's CloudFront web ACL (in CLOUDFRONT_WAF_REGION)."""
        return self.resource_name("panel-waf")

    @property
    def stack_name(self) -> str:
        return self.resource_name()

    def resource_name(self, *suffix: str) -> str:
        """The stage's name for a named resource: ``assistec-<stage>[-suffix]``."""
        return "-".join((APP_NAME, self.stage, *suffix))

    @property
    def backup_copy_stack_name(self) -> str:
        """The second stack holding the copy vault (in backup_copy_region), and that vault's name."""
        return self.resource_name("backup-copy")

    @property
    def makes_backup_copy_vault(self) -> bool:
        """The app makes the copy vault's stack: AWS Backup on, and no vault named from elsewhere."""
        return self.with_aws_backup and self.backup_copy_vault_arn is None

    def copy_vault_arn(self, partition: str = "aws") -> str:
        """The copy vault's ARN: the one given, or the second stack's (its name is fixed, so the main
        stack needs no cross-region reference)."""
        if self.backup_copy_vault_arn is not None:
            return self.backup_copy_vault_arn
        return (
            f"arn:{partition}:backup:{self.backup_copy_region}:{self.account}:backup-vault:"
            f"{self.backup_copy_stack_name}"
        )


def stage_config(stage: str, context: dict[str, str | None]) -> StageConfig:
    if stage == "local":
        return StageConfig(
            stage="local",
            account="000000000000",
            region="us-east-1",
            with_vpc=False,
            native_authorizer=False,
            local_kms_key_id=context.get("local_kms_key_id"),
            local_kms_material=context.get("local_kms_material"),
            asaas_base_url=context.get("asaas_base_url") or "http://127.0.0.1:4599/v3",
            # devctl's gateway port (ASSISTEC_WS_GATEWAY_PORT, 4595) and the API's stage.
            local_realtime_url=context.get("realtime_url") or "ws://127.0.0.1:4595/v1",
            mail_sender="nao-responda@assistec.local",
            support_email="suporte@assistec.local",
        )
    if stage == "prod":
        region = context.get("prod_region") or "sa-east-1"
        return StageConfig(
            stage="prod",
            account=context.get("prod_account") or "111111111111",
            region=region,
            with_vpc=True,
            # Explicit AZs: synth needs no account lookup (the committed cdk.context.json stays empty).
            availability_zones=(f"{region}a", f"{region}b"),
            # One NAT gateway per AZ: the Lambdas call Asaas, Evolution and Google over the internet.
            nat_gateways=2,
            db_multi_az=True,
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
            db_removal_policy=RemovalPolicy.SNAPSHOT,
            with_waf=True,
            alarm_email=context.get("alarm_email"),
            mail_sender=context.get("mail_sender") or "nao-responda@assistec.com.br",
            support_email=context.get("support_email") or "suporte@assistec.com.br",
            with_aws_backup=True,
            backup_copy_region=_copy_region(region, context.get("backup_copy_region")),
            backup_copy_vault_arn=context.get("backup_copy_vault_arn"),
            backup_object_lock_days=BACKUP_OBJECT_LOCK_DAYS,
            with_panel_cdn=True,
            nested_realtime=True,
        )
    raise ValueError(f"unknown stage {stage!r}: use -c stage=local or -c stage=prod")


def _copy_region(region: str, asked: str | None) -> str:
    """Where the database's backups are copied: another region than the stage's (the point of a copy)."""
    copy_region = asked or "us-east-1"
    if copy_region == region:
        raise ValueError(f"backup_copy_region must differ from the stage's region ({region})")
    return copy_region
