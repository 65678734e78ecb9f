"""The staff's panel on S3 + CloudFront (capabilities/panel.py), read from the synthesized templates:
a private bucket reached only through Origin Access Control, the SPA fallback and the /api prefix
done by CloudFront Functions whose code is the files the Node tests run, /api/* uncached to the REST
API with every method, one security headers policy on both behaviors (the same headers the local
stand-in sends), config.json written at deploy."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from panel_edge.headers import security_headers

from assistec_infra import edge
from tests.infra.templates import _template

# CloudFront's managed policies (their ids are fixed by AWS)
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
ALL_METHODS = {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}


def _one(template: Any, kind: str) -> tuple[str, dict[str, Any]]:
    found = template.find_resources(kind)
    assert len(found) == 1, (kind, list(found))
    [(logical_id, resource)] = found.items()
    return logical_id, resource["Properties"]


def _flatten(value: Any) -> str:
    """A template string with its references spelled ``<Id.Attr>`` / ``<Ref>``."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_flatten(p) for p in parts)
    if "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        return f"<{logical_id}.{attribute}>"
    if "Ref" in value:
        return f"<{value['Ref']}>"
    raise AssertionError(f"unexpected intrinsic {value}")


def _distribution(prod_stack: Any) -> dict[str, Any]:
    config: dict[str, Any] = _one(_template(prod_stack), "AWS::CloudFront::Distribution")[1][
        "DistributionConfig"
    ]
    return config


def _function_code(template: Any, association: dict[str, Any]) -> str:
    logical_id = association["FunctionARN"]["Fn::GetAtt"][0]
    code: str = template.find_resources("AWS::CloudFront::Function")[logical_id]["Properties"]["FunctionCode"]
    return code


def test_the_local_stage_has_no_cloudfront_and_no_deployment(local_stack: Any) -> None:
    # LocalStack runs neither CloudFront nor the BucketDeployment's custom resource: locally
    # localstack/panel_edge serves web/dist
    template = _template(local_stack)
    for kind in (
        "AWS::CloudFront::Distribution",
        "AWS::CloudFront::Function",
        "AWS::CloudFront::ResponseHeadersPolicy",
        "Custom::CDKBucketDeployment",
    ):
        assert template.find_resources(kind) == {}, kind
    assert "PanelUrl" not in template.to_json()["Outputs"]


def test_the_panels_bucket_is_private_encrypted_and_tls_only(prod_stack: Any) -> None:
    template = _template(prod_stack)
    config = _distribution(prod_stack)
    s3_origins = [o for o in config["Origins"] if "S3OriginConfig" in o]
    assert len(s3_origins) == 1
    bucket_id = s3_origins[0]["DomainName"]["Fn::GetAtt"][0]
    bucket = template.find_resources("AWS::S3::Bucket")[bucket_id]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert "WebsiteConfiguration" not in bucket  # served by CloudFront, never as an S3 website
    [policy] = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in template.find_resources("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    deny_plain = [s for s in policy if s["Effect"] == "Deny"]
    assert deny_plain
    assert deny_plain[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # Only CloudFront reads it, and only for this distribution
    allows = [s for s in policy if s["Effect"] == "Allow"]
    assert allows, "CloudFront's read"
    for statement in allows:
        assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
        assert set(statement["Action"]) <= {"s3:GetObject", "s3:ListBucket"}
        source = _flatten(statement["Condition"]["StringEquals"]["AWS:SourceArn"])
        assert source.endswith(f":distribution/<{_one(template, 'AWS::CloudFront::Distribution')[0]}>")


def test_the_bucket_is_read_through_origin_access_control_not_an_oai(prod_stack: Any) -> None:
    template = _template(prod_stack)
    oac_id, oac = _one(template, "AWS::CloudFront::OriginAccessControl")
    assert oac["OriginAccessControlConfig"] | {"Name": None} == {
        "Name": None,
        "OriginAccessControlOriginType": "s3",
        "SigningBehavior": "always",
        "SigningProtocol": "sigv4",
    }
    assert template.find_resources("AWS::CloudFront::CloudFrontOriginAccessIdentity") == {}
    [s3_origin] = [o for o in _distribution(prod_stack)["Origins"] if "S3OriginConfig" in o]
    assert s3_origin["OriginAccessControlId"] == {"Fn::GetAtt": [oac_id, "Id"]}
    assert s3_origin["S3OriginConfig"]["OriginAccessIdentity"] == ""


def test_the_default_behavior_serves_the_spa_through_its_function(prod_stack: Any) -> None:
    template = _template(prod_stack)
    config = _distribution(prod_stack)
    default = config["DefaultCacheBehavior"]
    assert default["ViewerProtocolPolicy"] == "redirect-to-https"
    assert set(default["AllowedMethods"]) == {"GET", "HEAD"}
    assert default["CachePolicyId"] == CACHING_OPTIMIZED
    [association] = default["FunctionAssociations"]
    assert association["EventType"] == "viewer-request"
    assert _function_code(template, association) == edge.SPA_FALLBACK_JS.read_text()
    # The fallback is the function's, never error responses (they would swallow the API's 403/404)
    assert "CustomErrorResponses" not in config
    assert config["DefaultRootObject"] == "index.html"
    # Brazil's edge locations are only in the "all" price class
    assert config["PriceClass"] == "PriceClass_All"
    assert config["Logging"]["Bucket"]


def test_api_requests_go_uncached_to_the_rest_api_without_the_prefix(prod_stack: Any) -> None:
    template = _template(prod_stack)
    config = _distribution(prod_stack)
    [api] = config["CacheBehaviors"]
    assert api["PathPattern"] == edge.settings()["api_path_pattern"] == "/api/*"
    assert api["CachePolicyId"] == CACHING_DISABLED
    assert api["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER
    assert set(api["AllowedMethods"]) == ALL_METHODS
    assert api["ViewerProtocolPolicy"] == "https-only"
    [association] = api["FunctionAssociations"]
    assert association["EventType"] == "viewer-request"
    assert _function_code(template, association) == edge.STRIP_API_PREFIX_JS.read_text()
    # Its origin is the REST API's stage: its host, the stage as origin path, HTTPS only
    [origin] = [o for o in config["Origins"] if o["Id"] == api["TargetOriginId"]]
    rest_api_id = _one(template, "AWS::ApiGateway::RestApi")[0]
    assert f"https://<{rest_api_id}>.execute-api." in _flatten(
        origin["DomainName"]["Fn::Select"][1]["Fn::Split"][1]
    )
    assert origin["OriginPath"]["Fn::Join"][1][0] == "/"
    assert origin["CustomOriginConfig"] == {
        "OriginProtocolPolicy": "https-only",
        "OriginSSLProtocols": ["TLSv1.2"],
    }


def test_functions_run_on_cloudfront_js_2(prod_stack: Any) -> None:
    functions = _template(prod_stack).find_resources("AWS::CloudFront::Function")
    assert len(functions) == 2
    for function in functions.values():
        assert function["Properties"]["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
        assert function["Properties"]["AutoPublish"] is True


def _policy_headers(policy: dict[str, Any]) -> dict[str, str]:
    """The headers a response headers policy sends, as a viewer sees them."""
    config = policy["ResponseHeadersPolicyConfig"]
    security = config["SecurityHeadersConfig"]
    hsts = security["StrictTransportSecurity"]
    headers = {
        "Strict-Transport-Security": f"max-age={hsts['AccessControlMaxAgeSec']}"
        + ("; includeSubDomains" if hsts["IncludeSubdomains"] else "")
        + ("; preload" if hsts["Preload"] else ""),
        "Content-Security-Policy": _flatten(security["ContentSecurityPolicy"]["ContentSecurityPolicy"]),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": security["FrameOptions"]["FrameOption"],
        "Referrer-Policy": security["ReferrerPolicy"]["ReferrerPolicy"],
    }
    for item in config["CustomHeadersConfig"]["Items"]:
        assert item["Override"] is True
        headers[item["Header"]] = item["Value"]
    for name in ("StrictTransportSecurity", "ContentSecurityPolicy", "ContentTypeOptions", "FrameOptions"):
        assert security[name]["Override"] is True, name
    return headers


def test_both_behaviors_send_the_security_headers_the_local_stand_in_sends(prod_stack: Any) -> None:
    template = _template(prod_stack)
    policy_id, policy = _one(template, "AWS::CloudFront::ResponseHeadersPolicy")
    config = _distribution(prod_stack)
    for behavior in (config["DefaultCacheBehavior"], *config["CacheBehaviors"]):
        assert behavior["ResponseHeadersPolicyId"] == {"Ref": policy_id}
    # The devices bucket (uploads and photos), by both of its names; the stack's WebSocket API (the
    # real-time capability's, in prod a nested stack of its own: its id comes out of that stack)
    photos = [
        k for k, v in template.find_resources("AWS::S3::Bucket").items() if "DeviceStoragePhotos" in k and v
    ]
    assert len(photos) == 1
    storage = [f"https://<{photos[0]}.DomainName>", f"https://<{photos[0]}.RegionalDomainName>"]
    websocket = re.findall(r"wss://\S+", _policy_headers(policy)["Content-Security-Policy"])
    assert len(websocket) == 1
    assert re.fullmatch(
        r"wss://<RealtimeStack\S*\.Outputs\.\S+>\.execute-api\.sa-east-1\.<AWS::URLSuffix>", websocket[0]
    ), websocket
    assert _policy_headers(policy) == security_headers(websocket=websocket, storage=storage)
    csp = _policy_headers(policy)["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "connect-src 'self' wss://" in csp


def test_the_rendered_headers_are_the_same_in_the_cdk_app_and_the_stand_in() -> None:
    for websocket, storage in (([], []), (["wss://x.execute-api.sa-east-1.amazonaws.com"], ["https://b.s3"])):
        assert edge.security_headers(websocket=websocket, storage=storage) == security_headers(
            websocket=websocket, storage=storage
        )


def test_config_json_is_deployed_no_cache_and_the_cache_invalidated(prod_stack: Any) -> None:
    template = _template(prod_stack)
    deployments = template.find_resources("Custom::CDKBucketDeployment")
    files = [d["Properties"] for d in deployments.values() if d["Properties"].get("Exclude") == ["assets/*"]]
    assert len(files) == 1
    assert files[0]["SystemMetadata"] == {"cache-control": "no-cache"}
    assert files[0]["Prune"] is False
    assert files[0]["DistributionPaths"] == ["/*"]
    # Its config.json, as staged into the cloud assembly
    assembly = Path(prod_stack[1].directory)
    staged = [json.loads(p.read_text()) for p in assembly.glob("asset.*/config.json")]
    # The stack's WebSocket stage (its API's id and the URL suffix are filled in at deploy)
    assert len(staged) == 1
    assert staged[0]["apiBase"] == "/api"
    assert re.fullmatch(
        r"wss://<<marker:\S+>>\.execute-api\.sa-east-1\.<<marker:\S+>>/v1", staged[0]["wsUrl"]
    )


def test_a_deploy_without_a_built_panel_says_so(prod_stack: Any) -> None:
    from aws_cdk.assertions import Annotations, Match

    from assistec_infra.capabilities.panel import PANEL_DIST

    warnings = Annotations.from_stack(prod_stack[0]).find_warning("*", Match.string_like_regexp("index.html"))
    deployments = _template(prod_stack).find_resources("Custom::CDKBucketDeployment")
    if (PANEL_DIST / "index.html").is_file():
        assert warnings == []
        assert len(deployments) == 2  # the hashed assets, then the rest and config.json
    else:
        assert len(warnings) == 1
        assert "cd web && npm ci && npm run build" in json.dumps(warnings[0].entry.data)
        assert len(deployments) == 1  # config.json alone


def test_the_stack_outputs_the_panels_url(prod_stack: Any) -> None:
    outputs = _template(prod_stack).to_json()["Outputs"]
    assert _flatten(outputs["PanelUrl"]["Value"]).startswith("https://<")
    assert {"PanelBucketName", "PanelDistributionId"} <= set(outputs)


# --- with a built panel and a WebSocket API (a small stack of its own) ---------------------------


@pytest.fixture(scope="module")
def panel_with_websocket(tmp_path_factory: pytest.TempPathFactory) -> Any:
    import aws_cdk as cdk
    from aws_cdk import aws_apigateway as apigw
    from aws_cdk import aws_apigatewayv2 as apigwv2
    from aws_cdk import aws_s3 as s3

    from assistec_infra.capabilities.panel import PanelHosting, find_websocket_endpoint, storage_origins
    from assistec_infra.stage_config import stage_config
    from tests.infra.conftest import cdk_context

    dist = tmp_path_factory.mktemp("dist")
    (dist / "assets").mkdir()
    (dist / "index.html").write_text("<!doctype html><title>painel</title>")
    (dist / "assets" / "index-3f9a1c.js").write_text("console.log(1)")
    app = cdk.App(context=cdk_context(stage="prod"))
    config = stage_config("prod", {})
    stack = cdk.Stack(app, "PanelTest", env=cdk.Environment(account=config.account, region=config.region))
    api = apigw.RestApi(stack, "Api", deploy_options=apigw.StageOptions(stage_name="v1"))
    api.root.add_method("ANY", apigw.MockIntegration())
    ws = apigwv2.WebSocketApi(stack, "Ws")
    apigwv2.WebSocketStage(stack, "WsStage", web_socket_api=ws, stage_name="v1", auto_deploy=True)
    bucket = s3.Bucket(stack, "Photos")
    websocket = find_websocket_endpoint(stack)
    assert websocket is not None
    PanelHosting(
        stack,
        "Panel",
        config=config,
        api=api,
        storage=storage_origins(bucket),
        websocket=websocket,
        dist=dist,
    )
    assembly = app.synth()
    return stack, assembly


def test_a_websocket_api_in_the_stack_is_in_the_csp_and_config_json(panel_with_websocket: Any) -> None:
    template = _template(panel_with_websocket)
    policy = _one(template, "AWS::CloudFront::ResponseHeadersPolicy")[1]
    csp = _policy_headers(policy)["Content-Security-Policy"]
    ws_id = _one(template, "AWS::ApiGatewayV2::Api")[0]
    connect = next(d for d in csp.split("; ") if d.startswith("connect-src "))
    assert connect.startswith(
        f"connect-src 'self' wss://<{ws_id}>.execute-api.sa-east-1.<AWS::URLSuffix> https://"
    )
    # config.json carries the stage's URL, resolved at deploy time (a marker in the staged file)
    [files] = [
        d["Properties"]
        for d in template.find_resources("Custom::CDKBucketDeployment").values()
        if d["Properties"].get("Exclude") == ["assets/*"]
    ]
    markers = json.dumps(files["SourceMarkers"])
    assert ws_id in markers
    assembly = Path(panel_with_websocket[1].directory)
    [staged] = [json.loads(p.read_text()) for p in assembly.glob("asset.*/config.json")]
    assert staged["apiBase"] == "/api"
    assert staged["wsUrl"].startswith("wss://<<marker:")
    assert staged["wsUrl"].endswith("/v1")


def test_a_built_panel_is_deployed_with_hashed_assets_kept_for_good(panel_with_websocket: Any) -> None:
    template = _template(panel_with_websocket)
    deployments = [d["Properties"] for d in template.find_resources("Custom::CDKBucketDeployment").values()]
    assert len(deployments) == 2
    [assets] = [d for d in deployments if d.get("Include") == ["assets/*"]]
    assert assets["Exclude"] == ["*"]
    assert assets["SystemMetadata"] == {"cache-control": "public, max-age=31536000, immutable"}
    assert assets["Prune"] is False
    [files] = [d for d in deployments if d.get("Exclude") == ["assets/*"]]
    assert len(files["SourceObjectKeys"]) == 2  # the build and config.json
    assert files["SystemMetadata"] == {"cache-control": "no-cache"}


def test_two_websocket_apis_are_refused() -> None:
    import aws_cdk as cdk
    from aws_cdk import aws_apigatewayv2 as apigwv2

    from assistec_infra.capabilities.panel import find_websocket_endpoint

    stack = cdk.Stack(cdk.App(), "Two")
    for name in ("A", "B"):
        apigwv2.WebSocketStage(
            stack, f"{name}Stage", web_socket_api=apigwv2.WebSocketApi(stack, name), stage_name="v1"
        )
    with pytest.raises(ValueError, match="several"):
        find_websocket_endpoint(stack)
