"""E-mail through SES: one sender address per stage (config.mail_sender), verified in SES."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_

from assistec_infra.stage_config import StageConfig


def allow_mail(function: lambda_.Function, config: StageConfig) -> None:
    """Let the function send as the stage's sender, and only as it."""
    stack = Stack.of(function)
    function.add_to_role_policy(
        iam.PolicyStatement(
            actions=["ses:SendEmail"],
            # The sender verified as an address or through its domain: either identity.
            resources=[
                f"arn:{stack.partition}:ses:{stack.region}:{stack.account}:identity/{identity}"
                for identity in (config.mail_sender, config.mail_sender.split("@", 1)[1])
            ],
            conditions={"StringEquals": {"ses:FromAddress": config.mail_sender}},
        )
    )
    function.add_environment("MAIL_SENDER", config.mail_sender)
