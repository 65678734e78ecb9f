"""The API's edge (issue 10, §6 and §8): what API Gateway and the WAF answer themselves, read from the
synthesized templates.

The WAF's rules are read by a small evaluator of the statements the stack uses (it refuses any other
kind, so a new rule cannot pass unread): for a request (path, token or not, CloudFront's origin
header or not) it tells which rules' scope it falls in and how that rule counts it (per address, per
token). The same evaluator reads the panel's CloudFront web ACL (its own stack, in us-east-1).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import pytest

from assistec.settings import ApiSettings
from assistec_infra import constants
from assistec_infra.capabilities import waf
from tests.infra.templates import _template


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_api_gateway_does_not_validate_bodies_itself(stage: str, local_stack: Any, prod_stack: Any) -> None:
    # Given the synthesized REST API of each stage
    template = _template(local_stack if stage == "local" else prod_stack)
    # Then no request validator checks bodies (it answered `[]`, `null`, `"x"` and text that is not
    # JSON with its own 400 outside the API's error shape): the function's models answer 422
    validators = template.find_resources("AWS::ApiGateway::RequestValidator")
    assert [v for v in validators.values() if v["Properties"].get("ValidateRequestBody")] == []
    methods = template.find_resources("AWS::ApiGateway::Method")
    assert methods
    for method in methods.values():
        validator = method["Properties"].get("RequestValidatorId")
        if validator is not None:
            assert not validators[validator["Ref"]]["Properties"].get("ValidateRequestBody")


# --- the WAF ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    path: str  # as the WAF sees it: through the stage's default URL, /v1/...
    token: bool
    # CloudFront's origin header's value, as the template spells it (_literal): the deployment's
    # secret when CloudFront sent the request, anything else when a direct caller made one up
    origin_header: str | None = None


def _literal(value: Any) -> str:
    """A template value as a comparable string: a literal as it is, a reference (the secret's dynamic
    reference, resolved only at deploy time) spelled out."""
    return value if isinstance(value, str) else "unresolved:" + json.dumps(value, sort_keys=True)


def _transform(value: str, transformations: list[dict[str, Any]]) -> str:
    for step in sorted(transformations, key=lambda t: t["Priority"]):
        kind = step["Type"]
        if kind == "URL_DECODE":
            value = unquote(value)
        elif kind == "NORMALIZE_PATH":
            parts: list[str] = []
            for part in value.split("/"):
                if part == "..":
                    if len(parts) > 1:
                        parts.pop()
                elif part != ".":
                    parts.append(part)
            value = "/".join(parts)
            while "//" in value:
                value = value.replace("//", "/")
        elif kind != "NONE":
            raise AssertionError(f"the evaluator does not know the transformation {kind}")
    return value


def _matches(statement: dict[str, Any], request: Request) -> bool:
    [(kind, body)] = statement.items()
    if kind == "AndStatement":
        return all(_matches(s, request) for s in body["Statements"])
    if kind == "OrStatement":
        return any(_matches(s, request) for s in body["Statements"])
    if kind == "NotStatement":
        return not _matches(body["Statement"], request)
    if kind == "ByteMatchStatement" and "SingleHeader" in body["FieldToMatch"]:
        # CloudFront's origin header: the whole value, byte for byte, against the secret
        assert body["FieldToMatch"] == {"SingleHeader": {"Name": waf.ORIGIN_VERIFY_HEADER}}, body
        assert body["PositionalConstraint"] == "EXACTLY", body
        assert body["TextTransformations"] == [{"Priority": 0, "Type": "NONE"}], body
        return request.origin_header == _literal(body["SearchString"])
    if kind == "ByteMatchStatement":
        assert body["FieldToMatch"] == {"UriPath": {}}, body
        path = _transform(request.path, body["TextTransformations"])
        assert body["PositionalConstraint"] == "STARTS_WITH", body
        return path.startswith(body["SearchString"])
    if kind == "SizeConstraintStatement":
        assert body["FieldToMatch"] == {"SingleHeader": {"Name": "authorization"}}, body
        assert (body["ComparisonOperator"], body["Size"]) == ("GT", 0), body
        return request.token
    raise AssertionError(f"the evaluator does not know the statement {kind}")


def _web_acl(prod_stack: Any) -> dict[str, Any]:
    [acl] = _template(prod_stack).find_resources("AWS::WAFv2::WebACL").values()
    return dict(acl["Properties"])


def _rate_rules(acl: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in acl["Rules"] if "RateBasedStatement" in r["Statement"]]


def _keys(rule: dict[str, Any]) -> list[str]:
    """What the rule counts requests by: ["ip"] or the custom keys (["header:authorization"])."""
    rate = rule["Statement"]["RateBasedStatement"]
    if rate["AggregateKeyType"] == "IP":
        return ["ip"]
    assert rate["AggregateKeyType"] == "CUSTOM_KEYS", rate
    keys = []
    for key in rate["CustomKeys"]:
        [(kind, spec)] = key.items()
        keys.append(f"{kind.lower()}:{spec['Name'].lower()}" if "Name" in spec else kind.lower())
    return keys


def _applying(acl: dict[str, Any], request: Request) -> dict[str, tuple[list[str], int]]:
    """The blocking rate rules whose scope takes the request: name -> (keys, limit per 5 minutes)."""
    found = {}
    for rule in _rate_rules(acl):
        rate = rule["Statement"]["RateBasedStatement"]
        assert "Block" in rule["Action"], rule
        assert rate.get("EvaluationWindowSec", 300) == 300, rule
        scope = rate.get("ScopeDownStatement")
        if scope is None or _matches(scope, request):
            found[rule["Name"]] = (_keys(rule), rate["Limit"])
    return found


def _common_rule_set(acl: dict[str, Any]) -> dict[str, Any]:
    [group] = [
        r["Statement"]["ManagedRuleGroupStatement"]
        for r in acl["Rules"]
        if r["Statement"].get("ManagedRuleGroupStatement", {}).get("Name") == "AWSManagedRulesCommonRuleSet"
    ]
    return dict(group)


def _counted(group: dict[str, Any]) -> set[str]:
    return {o["Name"] for o in group.get("RuleActionOverrides", []) if o["ActionToUse"] == {"Count": {}}}


def _statements(node: Any) -> list[dict[str, Any]]:
    """Every statement under a node, nested ones included."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key.endswith("Statement") and isinstance(value, dict):
                found.append({key: value})
            found += _statements(value)
    elif isinstance(node, list):
        for item in node:
            found += _statements(item)
    return found


def test_waf_lets_bodies_up_to_the_apps_own_limit_reach_the_app(prod_stack: Any) -> None:
    # Given the app's own body limit (it answers 413 in its shape past it)
    app_limit = ApiSettings.model_fields["max_body_bytes"].default
    assert app_limit > 8 * 1024
    acl = _web_acl(prod_stack)
    # Then the common rule set's 8 KB body rule only counts
    assert "SizeRestrictions_BODY" in _counted(_common_rule_set(acl))
    # And no rule of ours blocks a body by size below the app's limit
    for rule in acl["Rules"]:
        for statement in _statements(rule["Statement"]):
            size = statement.get("SizeConstraintStatement")
            if size is not None and "Body" in size["FieldToMatch"]:
                assert size["ComparisonOperator"] == "GT", rule["Name"]
                assert size["Size"] >= app_limit, rule["Name"]


def test_waf_does_not_block_free_text_with_rules_meant_for_html_forms(prod_stack: Any) -> None:
    group = _common_rule_set(_web_acl(prod_stack))
    # The body rules that match free text (a device's problem: "tela <quebrada>", "../", a link)
    assert {"CrossSiteScripting_BODY", "GenericLFI_BODY", "GenericRFI_BODY"} <= _counted(group)
    # and none of the group's rules is excluded outright (counted rules keep their metrics)
    assert "ExcludedRules" not in group


@pytest.mark.parametrize(
    "path",
    [
        "/v1/webhooks/asaas/11111111-1111-1111-1111-111111111111.abc",
        "/v1/webhooks/asaas-platform",
        "/webhooks/asaas/x",  # through a custom domain (no stage in the path)
    ],
)
def test_waf_limits_the_providers_webhooks_per_url_never_per_address(prod_stack: Any, path: str) -> None:
    # Given a delivery from Asaas (every shop's events come from a few addresses; each shop's
    # account posts to its own URL)
    applying = _applying(_web_acl(prod_stack), Request(path, token=False))
    # Then only a per-URL (per shop) rule takes it, far above a shop's real deliveries: no
    # per-address rule (it would refuse every shop's events and pause Asaas's queues) nor per token
    assert [keys for keys, _ in applying.values()] == [["uripath"]], applying
    [(_, limit)] = applying.values()
    assert limit >= 10 * 300  # at least 10 deliveries per second, sustained, per shop


def test_waf_counts_webhooks_per_normalized_url(prod_stack: Any) -> None:
    # Given the per-URL rule: the same URL spelled differently is the same bucket
    [rule] = [r for r in _rate_rules(_web_acl(prod_stack)) if _keys(r) == ["uripath"]]
    [key] = rule["Statement"]["RateBasedStatement"]["CustomKeys"]
    transformations = key["UriPath"]["TextTransformations"]
    assert _transform("/v1/webhooks/asaas/%61bc/./", transformations) == _transform(
        "/v1/webhooks/asaas/abc/", transformations
    )


def test_waf_webhook_exclusion_cannot_be_borrowed_by_other_routes(prod_stack: Any) -> None:
    # Given a path that only looks like a webhook's before normalization
    acl = _web_acl(prod_stack)
    for path in ("/v1/webhooks/../auth/login", "/v1/webhooks/%2e%2e/auth/login", "/v1/auth/login/webhooks/"):
        # Then it is rate limited per address like any anonymous call
        assert "ip" in [k for keys, _ in _applying(acl, Request(path, token=False)).values() for k in keys], (
            path
        )


def test_waf_throttles_anonymous_callers_per_address_and_authenticated_ones_per_token(
    prod_stack: Any,
) -> None:
    acl = _web_acl(prod_stack)
    # Given an anonymous call (login, signup, a customer's public link)
    for path in ("/v1/auth/login", "/v1/signup", "/v1/public/quotes/abc"):
        applying = _applying(acl, Request(path, token=False))
        # Then it is counted per address, and no token rule takes it
        assert any(keys == ["ip"] for keys, _ in applying.values()), path
        assert not any("header:authorization" in keys for keys, _ in applying.values()), path
    # Given a call with a token
    applying = _applying(acl, Request("/v1/orders", token=True))
    # Then a rule counts it per token (one shop's user cannot use up another's share) ...
    per_token = [limit for keys, limit in applying.values() if keys == ["header:authorization"]]
    assert per_token
    assert min(per_token) >= 3000  # at least 10 requests per second per user
    # ... and the per-address ceiling stays far above what one token may send (a shop's team
    # shares one NAT address)
    per_ip = [limit for keys, limit in applying.values() if keys == ["ip"]]
    assert per_ip
    assert min(per_ip) >= 3 * min(per_token)


def test_waf_throttling_answers_429_in_the_apis_error_shape(prod_stack: Any) -> None:
    acl = _web_acl(prod_stack)
    rules = _rate_rules(acl)
    assert len(rules) >= 3
    for rule in rules:
        response = rule["Action"]["Block"]["CustomResponse"]
        assert response["ResponseCode"] == 429
        body = acl["CustomResponseBodies"][response["CustomResponseBodyKey"]]
        assert body["ContentType"] == "APPLICATION_JSON"
        assert json.loads(body["Content"])["code"] == "throttled"
        assert set(json.loads(body["Content"])) == {"code", "message", "details", "correlation_id"}


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_stage_throttling_is_a_platform_ceiling_not_a_shared_50_rps(
    stage: str, local_stack: Any, prod_stack: Any
) -> None:
    template = _template(local_stack if stage == "local" else prod_stack)
    [stage_resource] = template.find_resources("AWS::ApiGateway::Stage").values()
    [settings] = stage_resource["Properties"]["MethodSettings"]
    assert settings["ThrottlingRateLimit"] >= 1000
    assert settings["ThrottlingBurstLimit"] >= settings["ThrottlingRateLimit"]


def test_the_waf_guards_the_prod_stage(prod_stack: Any) -> None:
    template = _template(prod_stack)
    [association] = template.find_resources("AWS::WAFv2::WebACLAssociation").values()
    [acl_id] = template.find_resources("AWS::WAFv2::WebACL")
    assert association["Properties"]["WebACLArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    assert constants.WEBHOOK_PREFIX == "/webhooks"  # what the rules exclude


# --- per-shop throttling: the shops' usage plan ----------------------------------------------------


def _methods(template: Any) -> list[dict[str, Any]]:
    return [m["Properties"] for m in template.find_resources("AWS::ApiGateway::Method").values()]


def test_each_shop_is_throttled_on_its_own_by_the_usage_plan(prod_stack: Any) -> None:
    template = _template(prod_stack)
    # Given the REST API: the authorizer supplies the caller's API key (its shop's)
    [api] = template.find_resources("AWS::ApiGateway::RestApi").values()
    assert api["Properties"]["ApiKeySourceType"] == "AUTHORIZER"
    # Then every method behind the authorizer requires that key (without it no plan applies) ...
    methods = _methods(template)
    protected = [m for m in methods if m["AuthorizationType"] == "CUSTOM"]
    public = [m for m in methods if m["AuthorizationType"] == "NONE"]
    assert protected
    assert public
    assert all(m.get("ApiKeyRequired") is True for m in protected)
    # ... and no public route does (signup, login, customers' links, webhooks: no shop key exists)
    assert not any(m.get("ApiKeyRequired") for m in public)
    # And one usage plan on the stage gives each key (each shop) its own rate, below the platform's
    [plan] = template.find_resources("AWS::ApiGateway::UsagePlan").values()
    [stage_id] = template.find_resources("AWS::ApiGateway::Stage")
    [api_stage] = plan["Properties"]["ApiStages"]
    assert api_stage["Stage"] == {"Ref": stage_id}
    throttle = plan["Properties"]["Throttle"]
    [stage_resource] = template.find_resources("AWS::ApiGateway::Stage").values()
    [platform] = stage_resource["Properties"]["MethodSettings"]
    assert 10 <= throttle["RateLimit"] < platform["ThrottlingRateLimit"]
    assert throttle["RateLimit"] <= throttle["BurstLimit"] < platform["ThrottlingBurstLimit"]
    assert "Quota" not in plan["Properties"]  # a rate, not a monthly allowance


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_the_api_may_add_shop_keys_to_its_plan_and_nothing_else(
    stage: str, local_stack: Any, prod_stack: Any
) -> None:
    from tests.infra.templates import _function

    template = _template(local_stack if stage == "local" else prod_stack)
    [plan] = template.find_resources("AWS::ApiGateway::UsagePlan").values()
    env = _function(template, constants.API_HANDLER)["Environment"]["Variables"]
    # Given the plan's name handed to the API (signup adds each new shop's key to it)
    assert env["USAGE_PLAN_NAME"] == plan["Properties"]["UsagePlanName"]
    # Then API Gateway's control API is open to the API function only, for keys and that step
    api_role = _function(template, constants.API_HANDLER)["Role"]["Fn::GetAtt"][0]
    allowed: dict[str, list[str]] = {}
    for policy in template.find_resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if any(a.startswith("apigateway:") for a in actions):
                assert policy["Properties"]["Roles"] == [{"Ref": api_role}], policy
                resources = statement["Resource"]
                for action in actions:
                    allowed.setdefault(action, []).extend(
                        resources if isinstance(resources, list) else [resources]
                    )
    # (read the plans and keys; make a key, put a key in a plan: no new plan, no change to the API)
    assert {action: sorted(r.rsplit("::", 1)[1] for r in rs) for action, rs in allowed.items()} == {
        "apigateway:GET": ["/apikeys", "/usageplans"],
        "apigateway:POST": ["/apikeys", "/usageplans/*/keys"],
    }


def test_the_local_stage_has_the_plan_but_no_key_requirement(local_stack: Any) -> None:
    # LocalStack runs no authorizer, so nothing could supply a key there: the local stage keeps the
    # plan and makes the keys (signup runs the same code), but requires none. What enforces the
    # per-shop rate is API Gateway's, checked above on the prod template.
    template = _template(local_stack)
    assert template.find_resources("AWS::ApiGateway::Authorizer") == {}
    assert len(template.find_resources("AWS::ApiGateway::UsagePlan")) == 1
    assert not any(m.get("ApiKeyRequired") for m in _methods(template))
