"""The alarm topic ops subscribe to, and the helpers that put alarms next to what they watch.

Monitoring keeps what it watches (every alarm made through it, every function it watches) for the
stage's dashboard, so that the dashboard and the alarms name the same things. Every alarm's
description ends with its runbook key, the alarm's construct path under the stack
(``[runbook: Payments/Consumer/ErrorsAlarm]``): README's "Runbook: alarms" has one line per key,
and ops reading the alarm's e-mail find that line by it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from assistec_infra import constants
from assistec_infra.stage_config import StageConfig

# Lambda's metrics every function is watched on, and what a breach means.
_FUNCTION_ALARMS = {
    "Errors": "the function raised errors (unhandled exceptions, timeouts, crashes)",
    "Throttles": "invocations were throttled (concurrency limit reached)",
}

# An alarm's usual comparison: the metric at or above its threshold.
AT_LEAST = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD

# How an alarm's description ends: its runbook key (README, "Runbook: alarms").
RUNBOOK_KEY = re.compile(r"\[runbook: (?P<key>[^\]]+)\]$")


def runbook_key(scope: Construct, construct_id: str) -> str:
    """The runbook key of the construct ``construct_id`` made in ``scope``: its path under the stack."""
    return f"{scope.node.path}/{construct_id}".removeprefix(f"{Stack.of(scope).node.path}/")


@dataclass(frozen=True)
class WatchedFunction:
    """A function Monitoring watches (errors, throttles), by the label its alarms carry."""

    label: str
    function: lambda_.Function


@dataclass(frozen=True)
class AppAlarm:
    """An alarm on one of the app's own metrics (``Monitoring.app_metric``), beside what publishes it."""

    construct_id: str
    metric_name: str
    statistic: str
    period: Duration
    threshold: float
    description: str
    evaluation_periods: int = 1
    # A metric published once a day or a week says "nothing ran" by its absence: such an alarm treats
    # missing data as breaching and alarms only when every period of its window breached.
    missing_data_breaches: bool = False
    comparison: cloudwatch.ComparisonOperator = AT_LEAST


class Monitoring(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        # A customer-managed key: CloudWatch alarms cannot publish to a topic under the AWS-managed SNS key.
        key = kms.Key(
            self,
            "AlarmTopicKey",
            enable_key_rotation=True,
            removal_policy=config.removal_policy,
            description="Encrypts the assistec alarm topic",
        )
        key.grant_encrypt_decrypt(iam.ServicePrincipal("cloudwatch.amazonaws.com"))
        self.topic = sns.Topic(
            self, "AlarmTopic", master_key=key, enforce_ssl=True, display_name="assistec alarms"
        )
        if config.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
        self._action = cw_actions.SnsAction(self.topic)
        # Everything watched, in the order it was made: the dashboard lists these.
        self.alarms: list[cloudwatch.Alarm] = []
        self.functions: list[WatchedFunction] = []

    @staticmethod
    def app_metric(name: str, *, period: Duration, statistic: str) -> cloudwatch.Metric:
        """A metric the functions publish through Powertools (the app's namespace and service)."""
        return cloudwatch.Metric(
            namespace=constants.METRICS_NAMESPACE,
            metric_name=name,
            dimensions_map={"service": constants.SERVICE_NAME},
            period=period,
            statistic=statistic,
        )

    def alarm(
        self,
        scope: Construct,
        construct_id: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float,
        description: str,
        evaluation_periods: int = 1,
        missing_data_breaches: bool = False,
        comparison: cloudwatch.ComparisonOperator = AT_LEAST,
    ) -> cloudwatch.Alarm:
        """An alarm that tells the topic when it fires and when it clears; its description ends
        with its runbook key. Missing data breaches only if asked: then every one of the
        ``evaluation_periods`` must breach (one good datapoint in the window keeps it OK)."""
        alarm = cloudwatch.Alarm(
            scope,
            construct_id,
            metric=metric,
            threshold=threshold,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=evaluation_periods if missing_data_breaches else None,
            comparison_operator=comparison,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING
            if missing_data_breaches
            else cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=f"{description} [runbook: {runbook_key(scope, construct_id)}]",
        )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        self.alarms.append(alarm)
        return alarm

    def app_alarm(self, scope: Construct, alarm: AppAlarm) -> cloudwatch.Alarm:
        metric = self.app_metric(alarm.metric_name, period=alarm.period, statistic=alarm.statistic)
        return self.alarm(
            scope,
            alarm.construct_id,
            metric,
            threshold=alarm.threshold,
            evaluation_periods=alarm.evaluation_periods,
            description=alarm.description,
            missing_data_breaches=alarm.missing_data_breaches,
            comparison=alarm.comparison,
        )

    def watch_function(self, function: lambda_.Function, label: str) -> None:
        """Errors and throttles of one function, each its own alarm; the function is on the dashboard."""
        self.functions.append(WatchedFunction(label, function))
        for metric_name, what in _FUNCTION_ALARMS.items():
            self.alarm(
                function,
                f"{metric_name}Alarm",
                function.metric(metric_name, period=Duration.minutes(5), statistic="Sum"),
                threshold=1,
                description=f"{label}: {what}",
            )
