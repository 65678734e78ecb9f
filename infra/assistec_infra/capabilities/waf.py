"""The WAF's rules, shared by the REST API's regional web ACL (capabilities/rest_api.py) and the
panel's CloudFront web ACL (panel_waf_stack.py): the same limits, the same AWS common rules with the
same counted rules, the same 429 in the API's error shape.

**Who counts whom per address.** The regional web ACL sees the address that connected to API Gateway:
a direct caller's (a customer's link, signup from a script), or, for the panel's calls through
CloudFront, an edge server's, shared by every shop that edge serves. So its per-address rules skip
requests that carry CloudFront's origin header (``ORIGIN_VERIFY_HEADER``, a secret value generated
at deploy time, which CloudFront adds to every request it sends to the API and writes over any value
a viewer sent under that name); those requests were already counted per viewer address by the
CloudFront web ACL, which sees the viewer's own address. The per-token and per-URL rules stay on the
regional web ACL for everyone.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from aws_cdk import aws_wafv2 as wafv2

from assistec_infra import constants

THROTTLED_MESSAGE = "Muitas requisições. Tente novamente em instantes."

# What the WAF lets through to the function, and how often.
# The AWS common rule set's rules for HTML forms and small bodies, counted (metrics, samples) rather
# than blocking: SizeRestrictions_BODY blocks bodies over 8 KB, yet the API takes JSON up to its own
# limit (ApiSettings.max_body_bytes, 64 KiB) and answers 413 itself past it; the XSS, LFI and RFI body
# rules match free text (a device's problem, a note, a quote's lines) that this JSON API stores and
# never renders unescaped (the public pages escape every value).
WAF_COUNTED_COMMON_RULES = (
    "SizeRestrictions_BODY",
    "CrossSiteScripting_BODY",
    "GenericLFI_BODY",
    "GenericRFI_BODY",
)
# Requests per 5 minutes (WAF's window). Without a token, per address: signup, login and the
# customers' links (a carrier's NAT holds many customers) — the API throttles logins per e-mail itself.
WAF_ANONYMOUS_PER_IP_LIMIT = 1500
# With a token, per token (a shop's user): 20 requests per second, sustained.
WAF_PER_TOKEN_LIMIT = 6000
# Any address, webhooks aside: a shop's whole team behind one NAT stays well below it.
WAF_PER_IP_CEILING = 20000
# The providers' webhooks, per URL: each shop's Asaas account posts to its own URL (the key in the
# path), so one shop's deliveries, or someone replaying a leaked URL, cannot crowd out another's.
# Never per address: Asaas posts every shop's events from a few addresses. Far above a shop's real
# traffic (a PIX burst at the end of the month), since a refused delivery counts toward Asaas
# pausing that shop's queue.
WAF_WEBHOOK_PER_URL_LIMIT = 15000
WAF_WINDOW_S = 300
THROTTLED_BODY = "throttled"
# The origin custom header CloudFront adds to the panel's API requests (its value: a generated
# secret). Not X-Amz-* / X-Edge-* (CloudFront refuses those as origin custom headers).
ORIGIN_VERIFY_HEADER = "x-assistec-origin-verify"
_NO_TRANSFORMATION = wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")
_PATH_NORMALIZATION = [
    wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="URL_DECODE"),
    wafv2.CfnWebACL.TextTransformationProperty(priority=1, type="NORMALIZE_PATH"),
]


def waf_metrics(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric_name, sampled_requests_enabled=True
    )


def not_(statement: wafv2.CfnWebACL.StatementProperty) -> wafv2.CfnWebACL.StatementProperty:
    return wafv2.CfnWebACL.StatementProperty(
        not_statement=wafv2.CfnWebACL.NotStatementProperty(statement=statement)
    )


def all_(*statements: wafv2.CfnWebACL.StatementProperty) -> wafv2.CfnWebACL.StatementProperty:
    """Every statement (WAF's AND takes two or more; one is returned as it is)."""
    if len(statements) == 1:
        return statements[0]
    return wafv2.CfnWebACL.StatementProperty(
        and_statement=wafv2.CfnWebACL.AndStatementProperty(statements=list(statements))
    )


def path_starts_with(paths: Sequence[str]) -> wafv2.CfnWebACL.StatementProperty:
    """The request's path starts with one of the paths; decoded and normalized first, so
    ``/v1/webhooks/../orders`` is not under ``/v1/webhooks/``."""
    matches = [
        wafv2.CfnWebACL.StatementProperty(
            byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
                field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}),
                positional_constraint="STARTS_WITH",
                search_string=path,
                text_transformations=_PATH_NORMALIZATION,
            )
        )
        for path in paths
    ]
    return wafv2.CfnWebACL.StatementProperty(
        or_statement=wafv2.CfnWebACL.OrStatementProperty(statements=matches)
    )


def has_token() -> wafv2.CfnWebACL.StatementProperty:
    """The request carries an Authorization header (a staff's token)."""
    return wafv2.CfnWebACL.StatementProperty(
        size_constraint_statement=wafv2.CfnWebACL.SizeConstraintStatementProperty(
            field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(single_header={"Name": "authorization"}),
            comparison_operator="GT",
            size=0,
            text_transformations=[_NO_TRANSFORMATION],
        )
    )


def from_cloudfront(secret_value: str) -> wafv2.CfnWebACL.StatementProperty:
    """The request carries CloudFront's origin header with exactly the deployment's secret value (a
    CloudFormation dynamic reference, resolved at deploy time). A direct caller sending the header
    without the value is not from CloudFront."""
    return wafv2.CfnWebACL.StatementProperty(
        byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
            field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(single_header={"Name": ORIGIN_VERIFY_HEADER}),
            positional_constraint="EXACTLY",
            search_string=secret_value,
            text_transformations=[_NO_TRANSFORMATION],
        )
    )


def rate_rule(
    name: str,
    priority: int,
    limit: int,
    scope_down: wafv2.CfnWebACL.StatementProperty,
    *,
    custom_keys: list[wafv2.CfnWebACL.RateBasedStatementCustomKeyProperty] | None = None,
) -> wafv2.CfnWebACL.RuleProperty:
    """A rate-based rule that answers 429 in the API's error shape (not WAF's bare 403)."""
    return wafv2.CfnWebACL.RuleProperty(
        name=name,
        priority=priority,
        action=wafv2.CfnWebACL.RuleActionProperty(
            block=wafv2.CfnWebACL.BlockActionProperty(
                custom_response=wafv2.CfnWebACL.CustomResponseProperty(
                    response_code=429, custom_response_body_key=THROTTLED_BODY
                )
            )
        ),
        statement=wafv2.CfnWebACL.StatementProperty(
            rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                limit=limit,
                evaluation_window_sec=WAF_WINDOW_S,
                aggregate_key_type="CUSTOM_KEYS" if custom_keys else "IP",
                custom_keys=custom_keys,
                scope_down_statement=scope_down,
            )
        ),
        visibility_config=waf_metrics(name),
    )


def common_rules(priority: int) -> wafv2.CfnWebACL.RuleProperty:
    """AWS's common rule set, the rules meant for HTML forms and small bodies counted."""
    return wafv2.CfnWebACL.RuleProperty(
        name="aws-common",
        priority=priority,
        override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
        statement=wafv2.CfnWebACL.StatementProperty(
            managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                vendor_name="AWS",
                name="AWSManagedRulesCommonRuleSet",
                rule_action_overrides=[
                    wafv2.CfnWebACL.RuleActionOverrideProperty(
                        name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={})
                    )
                    for rule in WAF_COUNTED_COMMON_RULES
                ],
            )
        ),
        visibility_config=waf_metrics("aws-common"),
    )


def per_ip_rules(
    priorities: tuple[int, int],
    *,
    webhook_paths: Sequence[str],
    also: Sequence[wafv2.CfnWebACL.StatementProperty] = (),
) -> list[wafv2.CfnWebACL.RuleProperty]:
    """The per-address rules, webhooks aside (never per address: Asaas posts every shop's events from a
    few addresses, and a blocked delivery pauses its queue for all of them): callers without a token
    (signup, login, refresh, the customers' public links), and a ceiling for everyone (tokens made up
    to dodge the per-token rule; a whole shop behind one NAT stays far below it). ``also`` narrows
    both further (the regional web ACL: not through CloudFront)."""
    not_webhook = not_(path_starts_with(webhook_paths))
    return [
        rate_rule(
            "anonymous-per-ip",
            priorities[0],
            WAF_ANONYMOUS_PER_IP_LIMIT,
            all_(not_(has_token()), not_webhook, *also),
        ),
        rate_rule("per-ip-ceiling", priorities[1], WAF_PER_IP_CEILING, all_(not_webhook, *also)),
    ]


def throttled_response_bodies() -> dict[str, wafv2.CfnWebACL.CustomResponseBodyProperty]:
    """The 429's body, in the API's error shape."""
    return {
        THROTTLED_BODY: wafv2.CfnWebACL.CustomResponseBodyProperty(
            content_type="APPLICATION_JSON",
            content=json.dumps(
                {"code": "throttled", "message": THROTTLED_MESSAGE, "details": None, "correlation_id": None},
                ensure_ascii=False,
            ),
        )
    }


def api_webhook_paths() -> list[str]:
    """The webhooks' paths as the regional web ACL sees them: through the stage's default URL
    (``/v1/webhooks/...``) or a custom domain (``/webhooks/...``)."""
    prefix = constants.WEBHOOK_PREFIX + "/"
    return [f"/{constants.API_STAGE_NAME}{prefix}", prefix]
