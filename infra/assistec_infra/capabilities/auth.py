"""The token-signing key (Secrets Manager) and the API Gateway Lambda authorizer."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from assistec_infra import constants
from assistec_infra.capabilities.functions import FunctionSpec
from assistec_infra.capabilities.platform import WorkerPlatform
from assistec_infra.capabilities.settings import AUTHORIZER
from assistec_infra.nag import acknowledge

AUTHORIZER_FUNCTION = FunctionSpec(
    handler=constants.AUTHORIZER_HANDLER,
    label="authorizer",
    description="assistec API Gateway authorizer: checks the access token",
    memory_mb=256,
    timeout_s=5,
)


class Auth(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, platform: WorkerPlatform) -> None:
        super().__init__(scope, construct_id)
        config = platform.config
        self.signing_key = secretsmanager.Secret(
            self,
            "SigningKey",
            description="HS256 key that signs assistec access tokens",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True
            ),
            removal_policy=config.removal_policy,
        )
        acknowledge(
            self.signing_key,
            "AwsSolutions-SMG4",
            "The signing key is rotated by the ops console in two steps (stage, then promote once every "
            "function's cache has read it: README 'Ops console'), so nobody is signed out; Secrets Manager's "
            "rotation Lambda would swap it at once and refuse every access token for minutes.",
        )
        platform.settings.provide(
            "auth_secret_id", self.signing_key.secret_arn, grant=self.signing_key.grant_read
        )
        self.function = platform.worker(self, "AuthorizerFunction", AUTHORIZER_FUNCTION, AUTHORIZER)
        self.authorizer: apigw.IAuthorizer | None = None
        if config.native_authorizer:
            self.authorizer = apigw.TokenAuthorizer(
                self,
                "TokenAuthorizer",
                handler=self.function,
                identity_source=apigw.IdentitySource.header("Authorization"),
                # Within the access token's 15 minutes; a deactivated user's sessions end at refresh.
                results_cache_ttl=Duration.minutes(5),
            )
