"""The staff's web panel in prod (issue 14 §2, "Hosting"): a private S3 bucket behind CloudFront, and
the API reached through the same distribution at ``/api/*``.

**Why same-origin, not CORS.** The panel calls ``/api/...`` on its own origin; CloudFront sends those
requests to API Gateway with the prefix removed (a CloudFront Function), everything else to the
bucket. The browser then never makes a cross-origin call: no CORS preflight (one round trip less per
write from a phone), no ``Access-Control-Allow-*`` to keep right on every route and gateway answer,
and the bearer token never leaves the panel's origin. The API's own stage URL keeps working for what
is not the panel (the customers' links, the providers' webhooks).

**Behaviors.**

- default → the bucket, through Origin Access Control (the bucket stays private: only this
  distribution may read it). A viewer-request function serves ``index.html`` for every path without a
  file extension (the SPA's routes); not the distribution's error responses, which would also hide
  the API's 403 and 404 behind the panel's HTML. GET/HEAD only, CloudFront's CachingOptimized
  (``index.html`` and ``config.json`` are deployed ``no-cache``, the hashed ``assets/*`` immutable).
- ``/api/*`` → the REST API's stage (origin path ``/v1``), caching disabled, every method, the
  viewer's headers, cookies and query string except ``Host`` (API Gateway answers only to its own
  host; with caching disabled this policy also forwards ``Authorization``), and a viewer-request
  function that strips ``/api``.
- both carry one response headers policy: HSTS, a CSP that allows the API same-origin, the
  WebSocket API and the devices bucket (photo uploads and views), ``nosniff``, ``frame-ancestors
  'none'`` with ``X-Frame-Options: DENY``, a Referrer-Policy and a Permissions-Policy
  (edge/panel_edge.json, shared with the local stand-in).

**WAF.** The distribution has a CloudFront web ACL of its own (panel_waf_stack.py, us-east-1), which
counts viewers per their own address; the ``/api/*`` origin gets CloudFront's origin header with the
deployment's generated secret, by which the REST API's regional web ACL leaves those requests' per-
address counting to it (capabilities/waf.py).

``/config.json`` is written at deploy time with the API's base (``/api``) and the WebSocket API's URL
(``null`` while the stack has none), so one build of the panel serves any stage.

The local stage has none of this (LocalStack runs no CloudFront, nor the BucketDeployment's custom
resource): ``localstack/panel_edge`` serves web/dist with the same rules and headers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Annotations, Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct, IConstruct

from assistec_infra import constants, edge
from assistec_infra.capabilities import waf
from assistec_infra.nag import acknowledge
from assistec_infra.stage_config import StageConfig

PANEL_DIST = constants.REPO_ROOT / "web" / "dist"
# Vite's hashed output: a changed file gets a new name, so browsers may keep these for good.
ASSETS_PATTERN = "assets/*"
IMMUTABLE = "public, max-age=31536000, immutable"
ACCESS_LOG_DAYS = 90


@dataclass(frozen=True)
class WebSocketEndpoint:
    """The WebSocket API as the panel sees it: the URL it connects to (config.json's ``wsUrl``) and
    the origin the CSP's connect-src allows."""

    url: str
    origin: str


def find_websocket_endpoint(scope: IConstruct) -> WebSocketEndpoint | None:
    """The stack's WebSocket API stage (the real-time capability's), if it has one."""
    stages = [c for c in Stack.of(scope).node.find_all() if isinstance(c, apigwv2.WebSocketStage)]
    if not stages:
        return None
    if len(stages) > 1:
        raise ValueError("the panel's CSP and config.json name one WebSocket API; the stack has several")
    stage = stages[0]
    stack = Stack.of(stage)
    origin = f"wss://{stage.api.api_id}.execute-api.{stack.region}.{stack.url_suffix}"
    return WebSocketEndpoint(url=stage.url, origin=origin)


def storage_origins(bucket: s3.IBucket) -> list[str]:
    """The origins the panel's presigned uploads and photo links use: boto3 signs with the global
    virtual-hosted name (``<bucket>.s3.amazonaws.com``) or the regional one, by region and operation."""
    return [f"https://{bucket.bucket_domain_name}", f"https://{bucket.bucket_regional_domain_name}"]


def api_origin_headers(origin_secret: secretsmanager.ISecret | None) -> dict[str, str]:
    """The headers CloudFront adds to the panel's API requests: the origin header with the deployment's
    secret (a dynamic reference CloudFormation resolves), by which the regional WAF knows CloudFront's
    requests (capabilities/waf.py). CloudFront writes an origin custom header over a viewer's header of
    the same name ("If a header is present, CloudFront overwrites the header value before forwarding
    the request to the origin": CloudFront Developer Guide, "Add custom headers to origin requests"),
    so a viewer cannot send a value of its own through the distribution."""
    if origin_secret is None:
        return {}
    return {waf.ORIGIN_VERIFY_HEADER: origin_secret.secret_value.unsafe_unwrap()}


def panel_config(websocket: WebSocketEndpoint | None) -> dict[str, str | None]:
    """config.json: what the built panel reads at start."""
    return {"apiBase": edge.settings()["api_prefix"], "wsUrl": websocket.url if websocket else None}


def _hsts(value: str) -> cloudfront.ResponseHeadersStrictTransportSecurity:
    parts = [p.strip() for p in value.split(";")]
    max_age = next(int(p.split("=", 1)[1]) for p in parts if p.lower().startswith("max-age="))
    return cloudfront.ResponseHeadersStrictTransportSecurity(
        access_control_max_age=Duration.seconds(max_age),
        include_subdomains="includeSubDomains" in parts,
        preload="preload" in parts,
        override=True,
    )


def response_headers_policy(
    scope: Construct, construct_id: str, headers: dict[str, str], name: str
) -> cloudfront.ResponseHeadersPolicy:
    """CloudFront's policy for the rendered headers: the ones CloudFront knows as security headers in
    their fields, the rest as custom headers; each overrides what an origin sent."""
    rest = dict(headers)
    frame = rest.pop("X-Frame-Options")
    referrer = rest.pop("Referrer-Policy")
    if rest.pop("X-Content-Type-Options") != "nosniff":
        raise ValueError("X-Content-Type-Options is nosniff or nothing")
    security = cloudfront.ResponseSecurityHeadersBehavior(
        strict_transport_security=_hsts(rest.pop("Strict-Transport-Security")),
        content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
            content_security_policy=rest.pop("Content-Security-Policy"), override=True
        ),
        content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
        frame_options=cloudfront.ResponseHeadersFrameOptions(
            frame_option=getattr(cloudfront.HeadersFrameOption, frame.upper()), override=True
        ),
        referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
            referrer_policy=getattr(cloudfront.HeadersReferrerPolicy, referrer.upper().replace("-", "_")),
            override=True,
        ),
    )
    return cloudfront.ResponseHeadersPolicy(
        scope,
        construct_id,
        response_headers_policy_name=name,
        comment="assistec panel: security headers (infra/assistec_infra/edge/panel_edge.json)",
        security_headers_behavior=security,
        custom_headers_behavior=cloudfront.ResponseCustomHeadersBehavior(
            custom_headers=[
                cloudfront.ResponseCustomHeader(header=header, value=value, override=True)
                for header, value in rest.items()
            ]
        ),
    )


class PanelHosting(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        api: apigw.RestApi,
        storage: list[str],
        websocket: WebSocketEndpoint | None,
        dist: Path | None = PANEL_DIST,
        web_acl_arn: str | None = None,
        origin_secret: secretsmanager.ISecret | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        settings = edge.settings()
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=False,
            removal_policy=config.removal_policy,
            auto_delete_objects=False,
        )
        acknowledge(
            self.bucket,
            "AwsSolutions-S1",
            "The panel's files are read only through CloudFront, whose access logs record every request; "
            "S3 server access logs would only repeat them.",
        )
        # CloudFront's standard logs (legacy): the bucket must accept ACLs (CloudFront writes with one).
        self.log_bucket = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.OBJECT_WRITER,
            versioned=False,
            removal_policy=config.removal_policy,
            auto_delete_objects=False,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(ACCESS_LOG_DAYS))],
        )
        acknowledge(
            self.log_bucket,
            "AwsSolutions-S1",
            "This bucket holds the panel's CloudFront access logs; logging access to the logs would "
            "only log the log writer.",
        )

        headers = edge.security_headers(websocket=[websocket.origin] if websocket else [], storage=storage)
        self.headers_policy = response_headers_policy(
            self, "SecurityHeaders", headers, name=config.resource_name("panel-headers")
        )
        self.spa_fallback = cloudfront.Function(
            self,
            "SpaFallback",
            code=cloudfront.FunctionCode.from_file(file_path=str(edge.SPA_FALLBACK_JS)),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
            comment="assistec panel: the SPA's routes are served index.html",
        )
        self.strip_api_prefix = cloudfront.Function(
            self,
            "StripApiPrefix",
            code=cloudfront.FunctionCode.from_file(file_path=str(edge.STRIP_API_PREFIX_JS)),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
            comment="assistec panel: /api/... reaches the API without the prefix",
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"{config.resource_name()}: the shops' panel and its API (same origin)",
            default_root_object="index.html",
            # South America's edge locations are only in the "all" price class (100 and 200 would
            # serve Brazilian shops from North America).
            price_class=cloudfront.PriceClass.PRICE_CLASS_ALL,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            enable_logging=True,
            log_bucket=self.log_bucket,
            log_file_prefix="panel/",
            web_acl_id=web_acl_arn,
            default_behavior=cloudfront.BehaviorOptions(
                # LIST as well as READ: a missing file is S3's 404, not an AccessDenied 403.
                origin=origins.S3BucketOrigin.with_origin_access_control(
                    self.bucket,
                    origin_access_levels=[cloudfront.AccessLevel.READ, cloudfront.AccessLevel.LIST],
                ),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self.headers_policy,
                compress=True,
                function_associations=[
                    cloudfront.FunctionAssociation(
                        function=self.spa_fallback, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
                    )
                ],
            ),
            additional_behaviors={
                settings["api_path_pattern"]: cloudfront.BehaviorOptions(
                    origin=origins.RestApiOrigin(api, custom_headers=api_origin_headers(origin_secret)),
                    viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                    allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                    cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                    origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
                    response_headers_policy=self.headers_policy,
                    compress=True,
                    function_associations=[
                        cloudfront.FunctionAssociation(
                            function=self.strip_api_prefix,
                            event_type=cloudfront.FunctionEventType.VIEWER_REQUEST,
                        )
                    ],
                )
            },
        )
        self._acknowledge_distribution(with_web_acl=web_acl_arn is not None)
        self.url = f"https://{self.distribution.distribution_domain_name}"
        self._deploy_files(dist, websocket)

    def _acknowledge_distribution(self, *, with_web_acl: bool) -> None:
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR1",
            "The panel serves Brazilian shops whose staff may work from abroad (a trip, a supplier "
            "visit); every call past the static files needs the staff's token anyway.",
        )
        if not with_web_acl:
            acknowledge(
                self.distribution,
                "AwsSolutions-CFR2",
                "No CloudFront web ACL given (a stage without the regional WAF): the API behind /api/* "
                "is then unguarded by WAF either way.",
            )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR4",
            "No custom domain yet: the distribution's *.cloudfront.net certificate is CloudFront's "
            "default, whose minimum protocol cannot be raised; browsers negotiate TLS 1.2/1.3 anyway.",
        )

    def _deploy_files(self, dist: Path | None, websocket: WebSocketEndpoint | None) -> None:
        """web/dist (when built) and config.json into the bucket, then the distribution's cache
        invalidated. Two deployments, neither pruning: hashed assets immutable (an old index.html in
        a browser still finds its chunks), the rest no-cache (a deploy shows at once)."""
        built = dist is not None and (dist / "index.html").is_file()
        if not built:
            Annotations.of(self).add_warning_v2(
                "assistec:panel-not-built",
                f"{dist} has no index.html: the panel's bucket gets only config.json (build the panel "
                "first: cd web && npm ci && npm run build)",
            )
        files: list[s3deploy.ISource] = []
        if built:
            assert dist is not None
            # The build's own config.json (the dev server's) stays out: the stage's is generated below,
            # and two files of one name in one deployment would leave it to their order.
            build = s3deploy.Source.asset(str(dist), exclude=["config.json"])
            files.append(build)
            s3deploy.BucketDeployment(
                self,
                "Assets",
                sources=[build],
                destination_bucket=self.bucket,
                exclude=["*"],
                include=[ASSETS_PATTERN],
                prune=False,
                cache_control=[s3deploy.CacheControl.from_string(IMMUTABLE)],
                memory_limit=512,
            )
        # json.dumps, not Source.json_data: jsii drops a None (the missing WebSocket API's ``null``). A
        # WebSocket URL is a token in the text, which the deployment resolves (a marker).
        files.append(s3deploy.Source.data("config.json", json.dumps(panel_config(websocket))))
        self.files = s3deploy.BucketDeployment(
            self,
            "Files",
            sources=files,
            destination_bucket=self.bucket,
            exclude=[ASSETS_PATTERN],
            prune=False,
            cache_control=[s3deploy.CacheControl.no_cache()],
            distribution=self.distribution,
            distribution_paths=["/*"],
            memory_limit=512,
        )
        self._acknowledge_deployments()

    def _acknowledge_deployments(self) -> None:
        """The deployments' custom resources: the CDK's handler (one Lambda for the stack, at its
        root) and the invalidation's waiter, with the CDK's own policies. Each finding named."""
        stack = Stack.of(self)
        bucket = stack.get_logical_id(self.bucket.node.default_child)  # type: ignore[arg-type]
        copy_findings = (
            "Action::s3:GetBucket*",
            "Action::s3:GetObject*",
            "Action::s3:List*",
            "Action::s3:Abort*",
            "Action::s3:DeleteObject*",
            f"Resource::arn:aws:s3:::cdk-hnb659fds-assets-{stack.account}-{stack.region}/*",
            f"Resource::<{bucket}.Arn>/*",
        )
        handlers = [c for c in stack.node.children if c.node.id.startswith("Custom::CDKBucketDeployment")]
        for handler in handlers:
            for finding in copy_findings:
                acknowledge(
                    handler,
                    f"AwsSolutions-IAM5[{finding}]",
                    "The CDK's BucketDeployment handler (deploy time only) copies the panel's build from "
                    "the CDK assets bucket into the panel's bucket: the CDK's own grants on those two.",
                )
            acknowledge(
                handler,
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AWSLambdaBasicExecutionRole]",
                "The CDK's BucketDeployment handler logs with the AWS-managed basic execution policy.",
            )
            acknowledge(
                handler,
                "AwsSolutions-L1",
                "The CDK's BucketDeployment handler runs on the runtime its CDK release chose, only at "
                "deploy time.",
            )
        acknowledge(
            self.files,
            "AwsSolutions-IAM5[Resource::*]",
            "The CDK's BucketDeployment grants its handler CloudFront's CreateInvalidation and "
            "GetInvalidation on *, to invalidate the panel's cache after each deploy.",
        )
