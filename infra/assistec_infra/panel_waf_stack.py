"""The prod stage's panel web ACL: AWS WAF for the panel's CloudFront distribution
(capabilities/panel.py). A web ACL of scope CLOUDFRONT must be made in us-east-1, so it is a stack of
its own there (as the backups' copy vault is, copy_stack.py). The main stack reads its ARN through a
CDK cross-region reference and deploys after it: the CDK's export writer (a custom resource in this
stack) puts the ARN in an SSM parameter in the main stack's region, the export reader there reads it,
and the writer refuses to change or delete an ARN the main stack still reads (so the web ACL's name,
which a replacement would change, stays put).

It counts the panel's viewers by their own address, which the REST API's regional web ACL cannot see
through CloudFront (there every request has an edge server's address): the same AWS common rules
and the same per-address limits as the regional web ACL (capabilities/waf.py), for callers without
a token and as a ceiling for everyone; webhooks aside, as there. Per token and per webhook URL
stay on the regional web ACL, for every caller."""

from __future__ import annotations

from aws_cdk import Environment, Stack
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from assistec_infra import constants, edge
from assistec_infra.capabilities import waf
from assistec_infra.stage_config import CLOUDFRONT_WAF_REGION, StageConfig


def panel_webhook_paths() -> list[str]:
    """The webhooks' paths as a viewer of the panel's distribution sends them (``/api/webhooks/...``:
    CloudFront's web ACL sees the viewer's request, before the function that strips ``/api``)."""
    return [f"{edge.settings()['api_prefix']}{constants.WEBHOOK_PREFIX}/"]


class PanelWafStack(Stack):
    def __init__(self, scope: Construct, config: StageConfig) -> None:
        super().__init__(
            scope,
            config.panel_waf_stack_name,
            env=Environment(account=config.account, region=CLOUDFRONT_WAF_REGION),
            description=f"assistec ({config.stage}): the panel's CloudFront web ACL",
            cross_region_references=True,
        )
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=config.panel_waf_stack_name,
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            scope="CLOUDFRONT",
            rules=[
                waf.common_rules(0),
                *waf.per_ip_rules((1, 2), webhook_paths=panel_webhook_paths()),
            ],
            visibility_config=waf.waf_metrics(config.panel_waf_stack_name),
            custom_response_bodies=waf.throttled_response_bodies(),
        )
