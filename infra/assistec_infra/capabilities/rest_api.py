"""The REST API (API Gateway v1): one Lambda serves every route; public routes skip the authorizer."""

from __future__ import annotations

from aws_cdk import Duration, Stack, Token
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from assistec_infra import constants
from assistec_infra.capabilities import waf
from assistec_infra.capabilities.functions import FunctionSpec
from assistec_infra.capabilities.platform import WorkerPlatform
from assistec_infra.capabilities.settings import API
from assistec_infra.nag import acknowledge
from assistec_infra.stage_config import StageConfig

API_FUNCTION = FunctionSpec(
    handler=constants.API_HANDLER,
    label="API",
    description="assistec REST API (every route, through Powertools Routers)",
)

# What API Gateway answers itself (no Lambda involved) follows the API's error shape too.
_GATEWAY_ERRORS = {
    apigw.ResponseType.UNAUTHORIZED: ("unauthorized", "Autenticação necessária."),
    apigw.ResponseType.ACCESS_DENIED: ("forbidden", "Você não tem permissão para esta ação."),
    apigw.ResponseType.THROTTLED: ("throttled", waf.THROTTLED_MESSAGE),
    apigw.ResponseType.REQUEST_TOO_LARGE: ("payload_too_large", "O corpo da requisição é grande demais."),
    apigw.ResponseType.DEFAULT_4_XX: ("bad_request", "Requisição inválida."),
    apigw.ResponseType.DEFAULT_5_XX: (
        "upstream_error",
        "Erro interno. Tente novamente; se persistir, informe o código de correlação.",
    ),
}
# CloudFront's origin header's value: letters and digits (a header value WAF compares byte for byte;
# WAF's search strings take up to 200 bytes).
ORIGIN_SECRET_LENGTH = 64


class RestApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        platform: WorkerPlatform,
        authorizer: apigw.IAuthorizer | None,
    ) -> None:
        super().__init__(scope, construct_id)
        config = platform.config
        # The function stands beside the API (in its parent's scope), so its logical ids are those it
        # had before the API created it: moving it would replace the function, its role and its logs.
        self.function = platform.worker(scope, "ApiFunction", API_FUNCTION, API)
        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=constants.LOG_RETENTION[config.stage],
            removal_policy=config.removal_policy,
        )
        self.api = apigw.RestApi(
            self,
            "Api",
            rest_api_name=config.resource_name(),
            description="assistec REST API",
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=config.removal_policy,
            deploy_options=apigw.StageOptions(
                stage_name=constants.API_STAGE_NAME,
                throttling_rate_limit=config.api_rate_limit_rps,
                throttling_burst_limit=config.api_burst_limit,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # request bodies carry CPF, phones and passwords
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
            ),
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # Per-shop throttling: the authorizer names the caller's shop key (usageIdentifierKey),
            # and the shops' usage plan throttles each key on its own.
            api_key_source_type=apigw.ApiKeySourceType.AUTHORIZER,
        )
        # No request validator: proxy methods declare no parameters or models, and body validation
        # without a model still refuses `[]`, `null`, `"x"` or text that is not JSON with its own
        # 400 `{"message": "Invalid request body"}`, outside the API's error shape. The API's pydantic
        # models validate every body and answer 422 in that shape.
        acknowledge(
            self.api,
            "AwsSolutions-APIG2",
            "Bodies are validated by the API function's pydantic models (422 in the API's error shape); "
            "API Gateway's validator, with no model to apply, only answered malformed JSON outside it.",
        )
        integration = apigw.LambdaIntegration(self.function, proxy=True, timeout=Duration.seconds(29))
        # Methods behind the authorizer require the shop's key (the authorizer supplies it): without
        # that, API Gateway applies no usage plan. Where no authorizer runs (the local stage) nothing
        # could supply it: there the plan and the keys exist, unenforced.
        protected = apigw.MethodOptions(
            authorizer=authorizer,
            authorization_type=apigw.AuthorizationType.CUSTOM if authorizer else apigw.AuthorizationType.NONE,
            api_key_required=authorizer is not None,
        )
        if authorizer is None:
            for rule in ("AwsSolutions-APIG4", "AwsSolutions-COG4"):
                acknowledge(
                    self.api,
                    rule,
                    "Local stage only: LocalStack's community API Gateway runs no Lambda authorizer, so the "
                    "API function runs the same token check itself (AUTHORIZER_EMULATION, refused in prod).",
                )

        public_routes = list(constants.PUBLIC_ROUTES)
        if config.stage == "local":
            public_routes += list(constants.LOCAL_ONLY_PUBLIC_ROUTES)
        for method, path in public_routes:
            resource = self.api.root.resource_for_path(path)
            public = resource.add_method(
                method,
                integration,
                authorization_type=apigw.AuthorizationType.NONE,
            )
            for rule in ("AwsSolutions-APIG4", "AwsSolutions-COG4"):
                acknowledge(
                    public, rule, f"{method} {path} is public by design: the caller has no token yet."
                )
        # The customer's links (quote approval, order tracking) and providers' webhooks: the key in
        # the path is the credential, checked by the function; no bearer token exists for them.
        for prefix in (constants.PUBLIC_PREFIX, constants.WEBHOOK_PREFIX):
            public_tree = self.api.root.resource_for_path(prefix).add_proxy(
                default_integration=integration,
                default_method_options=apigw.MethodOptions(authorization_type=apigw.AuthorizationType.NONE),
                any_method=True,
            )
            for rule in ("AwsSolutions-APIG4", "AwsSolutions-COG4"):
                acknowledge(
                    public_tree,
                    rule,
                    f"{prefix}/* is public by design: customers open these links from WhatsApp and providers "
                    "post webhooks; the unguessable key in the path (and a webhook token) is the credential.",
                )
        # Everything else: through the authorizer, then the same function (it owns routing and 404s).
        self.api.root.add_method(
            "ANY",
            integration,
            authorizer=protected.authorizer,
            authorization_type=protected.authorization_type,
            api_key_required=protected.api_key_required,
        )
        self.api.root.add_proxy(
            default_integration=integration, default_method_options=protected, any_method=True
        )

        for response_type, (code, message) in _GATEWAY_ERRORS.items():
            self.api.add_gateway_response(
                f"Gateway{response_type.response_type}",
                type=response_type,
                response_headers={
                    "Content-Type": "'application/json'",
                    "X-Correlation-Id": "context.requestId",
                },
                templates={
                    "application/json": (
                        f'{{"code": "{code}", "message": "{message}", "details": null, '
                        '"correlation_id": "$context.requestId"}'
                    )
                },
            )

        acknowledge(
            self.api,
            "AwsSolutions-COG4",
            "Tokens are the product's own JWTs (signup/login in the API), checked by a Lambda TOKEN "
            "authorizer; there is no Cognito user pool.",
        )
        acknowledge(
            self.api,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AmazonAPIGatewayPushToCloudWatchLogs]",
            "API Gateway's account-level CloudWatch role uses the AWS-managed policy for pushing "
            "execution logs: the documented way to enable them.",
        )
        self._shops_usage_plan(platform)
        # CloudFront's origin header's value, when the panel's CloudFront has a web ACL of its own
        self.origin_secret: secretsmanager.Secret | None = None
        if config.with_waf:
            self._web_acl(config)
        else:
            acknowledge(
                self.api, "AwsSolutions-APIG3", "The local stage runs on LocalStack, which has no WAF."
            )

        platform.monitoring.alarm(
            self,
            "Api5xxAlarm",
            self.api.metric_server_error(period=Duration.minutes(5), statistic="Sum"),
            threshold=5,
            description="API: 5 or more 5xx answers in 5 minutes",
        )
        platform.monitoring.alarm(
            self,
            "ApiLatencyAlarm",
            self.api.metric_latency(period=Duration.minutes(5), statistic="p99"),
            threshold=3000,
            evaluation_periods=3,
            description="API: p99 latency above 3 s for 15 minutes",
        )
        self.url = self.api.url
        self.stage_name = constants.API_STAGE_NAME

    def _shops_usage_plan(self, platform: WorkerPlatform) -> None:
        """The shops' usage plan: each shop's key (made at signup, named by the authorizer) gets the
        stage's per-shop rate. The API function finds the plan by its name and may add keys to it."""
        config = platform.config
        name = config.resource_name("shops")
        self.usage_plan = self.api.add_usage_plan(
            "ShopsUsagePlan",
            name=name,
            description="assistec: each shop's share of the API (one key per shop)",
            throttle=apigw.ThrottleSettings(
                rate_limit=config.shop_rate_limit_rps, burst_limit=config.shop_burst_limit
            ),
            api_stages=[apigw.UsagePlanPerApiStage(api=self.api, stage=self.api.deployment_stage)],
        )
        stack = Stack.of(self)
        control = f"arn:{stack.partition}:apigateway:{stack.region}::"
        # How cdk-nag spells the ARN (a token as <AWS::Name>)
        nag_control = "arn:{}:apigateway:{}::".format(
            *(
                f"<AWS::{name}>" if Token.is_unresolved(value) else value
                for name, value in (("Partition", stack.partition), ("Region", stack.region))
            )
        )

        def grant(function: iam.IGrantable) -> None:
            assert isinstance(function, lambda_.Function)
            function.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["apigateway:GET"], resources=[f"{control}/usageplans", f"{control}/apikeys"]
                )
            )
            function.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["apigateway:POST"],
                    resources=[f"{control}/apikeys", f"{control}/usageplans/*/keys"],
                )
            )
            acknowledge(
                function,
                f"AwsSolutions-IAM5[Resource::{nag_control}/usageplans/*/keys]",
                "Signup adds the new shop's key to the shops' usage plan, found by its name: its id cannot "
                "be given to the API function (the plan names the stage, which names the function).",
            )

        platform.settings.provide("usage_plan_name", name, grant=grant)

    def _web_acl(self, config: StageConfig) -> None:
        """The stage's regional web ACL (capabilities/waf.py). With the panel's CloudFront web ACL, the
        per-address rules skip what CloudFront sent (its origin header's secret value): those calls
        were counted per viewer address there, and here every one has an edge server's address."""
        webhooks = waf.path_starts_with(waf.api_webhook_paths())
        through_cloudfront: list[wafv2.CfnWebACL.StatementProperty] = []
        if config.makes_panel_web_acl:
            self.origin_secret = self._origin_secret(config)
            through_cloudfront = [
                waf.not_(waf.from_cloudfront(self.origin_secret.secret_value.unsafe_unwrap()))
            ]
        anonymous_per_ip, per_ip_ceiling = waf.per_ip_rules(
            (1, 3), webhook_paths=waf.api_webhook_paths(), also=through_cloudfront
        )
        rules = [
            waf.common_rules(0),
            anonymous_per_ip,
            # Callers with a token, per token: one busy shop cannot use up another's share. Through
            # CloudFront too (the token is the viewer's).
            waf.rate_rule(
                "per-token",
                2,
                waf.WAF_PER_TOKEN_LIMIT,
                waf.all_(waf.has_token(), waf.not_(webhooks)),
                custom_keys=[
                    wafv2.CfnWebACL.RateBasedStatementCustomKeyProperty(
                        header=wafv2.CfnWebACL.RateLimitHeaderProperty(
                            name="authorization",
                            text_transformations=[
                                wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")
                            ],
                        )
                    )
                ],
            ),
            per_ip_ceiling,
            # The providers' webhooks: per URL (per shop), never per address.
            waf.rate_rule(
                "webhook-per-url",
                4,
                waf.WAF_WEBHOOK_PER_URL_LIMIT,
                webhooks,
                custom_keys=[
                    wafv2.CfnWebACL.RateBasedStatementCustomKeyProperty(
                        uri_path=wafv2.CfnWebACL.RateLimitUriPathProperty(
                            text_transformations=[
                                wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="URL_DECODE"),
                                wafv2.CfnWebACL.TextTransformationProperty(priority=1, type="NORMALIZE_PATH"),
                            ]
                        )
                    )
                ],
            ),
        ]
        acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            scope="REGIONAL",
            rules=rules,
            visibility_config=waf.waf_metrics(config.resource_name()),
            custom_response_bodies=waf.throttled_response_bodies(),
        )
        wafv2.CfnWebACLAssociation(
            self,
            "WebAclAssociation",
            resource_arn=self.api.deployment_stage.stage_arn,
            web_acl_arn=acl.attr_arn,
        )

    def _origin_secret(self, config: StageConfig) -> secretsmanager.Secret:
        """The value CloudFront's origin header carries to the API (the panel's /api/* origin) and the
        web ACL compares: generated by Secrets Manager at deploy time, read by CloudFormation through a
        dynamic reference in both places (never in the repo nor in the template)."""
        secret = secretsmanager.Secret(
            self,
            "CloudFrontOriginSecret",
            description=(
                f"assistec: the {waf.ORIGIN_VERIFY_HEADER} header's value CloudFront sends the API "
                "(the regional WAF's per-address rules skip requests carrying it)"
            ),
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=ORIGIN_SECRET_LENGTH, exclude_punctuation=True, include_space=False
            ),
            removal_policy=config.removal_policy,
        )
        acknowledge(
            secret,
            "AwsSolutions-SMG4",
            "Read only by CloudFormation (dynamic references in the distribution's origin header and "
            "the web ACL's match), at deploy time: a rotation outside a deploy would leave both on the "
            "old value. Rotated by a deploy that replaces the secret (README, the panel's WAF).",
        )
        return secret
