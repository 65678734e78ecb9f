"""The REST API (API Gateway v1): one Lambda serves every route; public routes skip the authorizer."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from assistec_infra import constants
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
    apigw.ResponseType.THROTTLED: ("throttled", "Muitas requisições. Tente novamente em instantes."),
    apigw.ResponseType.REQUEST_TOO_LARGE: ("payload_too_large", "O corpo da requisição é grande demais."),
    apigw.ResponseType.DEFAULT_4_XX: ("bad_request", "Requisição inválida."),
    apigw.ResponseType.DEFAULT_5_XX: (
        "upstream_error",
        "Erro interno. Tente novamente; se persistir, informe o código de correlação.",
    ),
}


def _waf_metrics(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric_name, sampled_requests_enabled=True
    )


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
        )
        # Proxy methods carry no request models, so this checks required parameters only; bodies
        # are validated by the API's pydantic models.
        validator = self.api.add_request_validator(
            "Validator", validate_request_parameters=True, validate_request_body=True
        )
        integration = apigw.LambdaIntegration(self.function, proxy=True, timeout=Duration.seconds(29))
        protected = apigw.MethodOptions(
            authorizer=authorizer,
            authorization_type=apigw.AuthorizationType.CUSTOM if authorizer else apigw.AuthorizationType.NONE,
            request_validator=validator,
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
                request_validator=validator,
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
                default_method_options=apigw.MethodOptions(
                    authorization_type=apigw.AuthorizationType.NONE, request_validator=validator
                ),
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
            request_validator=validator,
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

    def _web_acl(self, config: StageConfig) -> None:
        rules = [
            wafv2.CfnWebACL.RuleProperty(
                name="aws-common",
                priority=0,
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS", name="AWSManagedRulesCommonRuleSet"
                    )
                ),
                visibility_config=_waf_metrics("aws-common"),
            ),
            wafv2.CfnWebACL.RuleProperty(
                name="per-ip-rate",
                priority=1,
                action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                        limit=2000, aggregate_key_type="IP"
                    )
                ),
                visibility_config=_waf_metrics("per-ip-rate"),
            ),
        ]
        acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            scope="REGIONAL",
            rules=rules,
            visibility_config=_waf_metrics(config.resource_name()),
        )
        wafv2.CfnWebACLAssociation(
            self,
            "WebAclAssociation",
            resource_arn=self.api.deployment_stage.stage_arn,
            web_acl_arn=acl.attr_arn,
        )
