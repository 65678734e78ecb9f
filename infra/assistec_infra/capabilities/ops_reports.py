"""Reports to ops (issue 13 §4): one function, three EventBridge rules at 09:00 in Brasília — the
daily backup status, Monday's weekly performance summary, the 1st's monthly capacity report — each
e-mailed to the stage's alarm address (``OPS_REPORT_EMAIL``; unset: the reports are logged).

The metrics are the dashboard's own: the function reads the stage's dashboard (GetDashboard on that
one dashboard) and the metrics it draws (GetMetricData, which has no resource-level permission). It is
made before the dashboard, so that the dashboard draws it too, and learns the dashboard's name, which
is the stage's (``dashboard_name``), not a token. It sends the platform's mail through SES and never
a shop's (``allow_mail(shop_mail=False)``): no SMTP passwords to decrypt.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from constructs import Construct

from assistec_infra import constants
from assistec_infra.capabilities.dashboard import dashboard_name
from assistec_infra.capabilities.functions import FunctionSpec
from assistec_infra.capabilities.mail import allow_mail
from assistec_infra.capabilities.platform import Schedule, WorkerPlatform
from assistec_infra.capabilities.settings import OPS_REPORTS
from assistec_infra.nag import acknowledge

OPS_REPORTS_FUNCTION = FunctionSpec(
    handler=constants.OPS_REPORTS_HANDLER,
    label="Ops reports",
    description="assistec ops reports: daily backups, weekly performance, monthly capacity, e-mailed to ops",
    # A few CloudWatch requests (each retried within its own budget), three database reads, one e-mail.
    timeout_s=120,
)
# Which report each rule runs (the handler reads the input's "report").
REPORTS = {
    "daily": Schedule(
        "DailySchedule", constants.OPS_DAILY_REPORT_SCHEDULE, "Ops report: every shop's latest backup"
    ),
    "weekly": Schedule(
        "WeeklySchedule", constants.OPS_WEEKLY_REPORT_SCHEDULE, "Ops report: last week's performance"
    ),
    "monthly": Schedule(
        "MonthlySchedule", constants.OPS_MONTHLY_REPORT_SCHEDULE, "Ops report: last month's capacity"
    ),
}


class OpsReports(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, platform: WorkerPlatform) -> None:
        super().__init__(scope, construct_id)
        config = platform.config
        stack = Stack.of(self)
        self.function = platform.worker(self, "Function", OPS_REPORTS_FUNCTION, OPS_REPORTS)
        allow_mail(self.function, config, shop_mail=False)
        name = dashboard_name(config)
        self.function.add_environment("DASHBOARD_NAME", name)
        if config.alarm_email:
            self.function.add_environment("OPS_REPORT_EMAIL", config.alarm_email)
        # Its own policy, so that the one acknowledgement below covers nothing else.
        cloudwatch_read = iam.Policy(
            self,
            "CloudWatchRead",
            statements=[
                # Dashboards are global: no region in the ARN.
                iam.PolicyStatement(
                    actions=["cloudwatch:GetDashboard"],
                    resources=[f"arn:{stack.partition}:cloudwatch::{stack.account}:dashboard/{name}"],
                ),
                iam.PolicyStatement(actions=["cloudwatch:GetMetricData"], resources=["*"]),
            ],
        )
        assert self.function.role is not None
        self.function.role.attach_inline_policy(cloudwatch_read)
        acknowledge(
            cloudwatch_read,
            "AwsSolutions-IAM5[Resource::*]",
            "cloudwatch:GetMetricData has no resource-level permission (IAM's service authorization "
            "reference lists no resource type for it); the function only reads metrics.",
        )
        for report, schedule in REPORTS.items():
            events.Rule(
                self,
                schedule.rule_id,
                description=schedule.description,
                schedule=schedule.expression,
                targets=[
                    targets.LambdaFunction(
                        self.function,
                        event=events.RuleTargetInput.from_object(
                            {"report": report, "time": events.EventField.time}
                        ),
                        retry_attempts=schedule.retry_attempts,
                    )
                ],
            )
