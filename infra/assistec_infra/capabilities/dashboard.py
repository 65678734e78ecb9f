"""The stage's CloudWatch dashboard (``assistec-<stage>``): one page for ops.

Top to bottom: every alarm's state, the REST API, every function (errors, p99 duration, throttles),
the flows' failed executions, the queues (the main queues' oldest message, the dead-letter queues'
messages) and the app's own metrics (backlogs, providers' errors, dunning, reconciliation, activity,
the backups' age and failures).

Built last, once everything exists. The alarms and the functions come from Monitoring (what it
alarms on is what the dashboard shows); the state machines and the queues from the stack's construct
tree (a dead-letter queue is one another queue sends its failures to). A plain
``AWS::CloudWatch::Dashboard``, no custom resource: the same in both stages, though LocalStack's
CloudFormation has no provider for the type and skips it, so `make up` puts the synthesized body,
its references resolved, through CloudWatch's API (localstack/devctl/dashboard.py; README, how the
local stage differs).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import batched

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct, IConstruct

from assistec_infra import constants
from assistec_infra.capabilities.monitoring import Monitoring
from assistec_infra.stage_config import StageConfig

PERIOD = Duration.minutes(5)
# An alarm status widget holds at most 100 alarms (CloudWatch's limit); more go to another widget.
ALARMS_PER_STATUS_WIDGET = 100
# The dashboard's grid is 24 units wide: three graphs a row.
WIDTH = 8
HEIGHT = 6

# The app's metrics (Powertools, constants.METRICS_NAMESPACE, service dimension), per widget:
# (metric, statistic, label). A provider's errors are labelled with the provider (or the providers
# and parts a failure counted together may come from).
BACKLOGS = ((constants.OUTBOX_BACKLOG_METRIC, "Maximum", "Outbox: oldest pending event (s)"),)
REQUEUED = (
    (constants.INBOX_REQUEUED_METRIC, "Sum", "Webhook inbox: stranded deliveries requeued"),
    (constants.WHATSAPP_REPLIES_REQUEUED_METRIC, "Sum", "WhatsApp: stranded replies requeued"),
)
PROVIDER_ERRORS = (
    (constants.RECONCILIATION_ERRORS_METRIC, "Sum", "Asaas or database: shops reconciliation failed"),
    (constants.DUNNING_ERRORS_METRIC, "Sum", "Asaas, SES or database: shops dunning skipped"),
    (constants.PROVISIONING_REFUSED_METRIC, "Sum", "Asaas: subscriptions refused"),
    (constants.WHATSAPP_SEND_FAILURES_METRIC, "Sum", "Evolution: sends failed or unknown"),
    (constants.WHATSAPP_DISCONNECTED_METRIC, "Sum", "Evolution: numbers disconnected"),
    (constants.CALENDAR_SYNC_FAILURES_METRIC, "Sum", "Google: mirrors failed"),
    (constants.CALENDAR_PASS_FAILURES_METRIC, "Sum", "Google: calendars not read back"),
    (constants.MAIL_BOUNCES_METRIC, "Sum", "SES: permanent bounces (addresses suppressed)"),
    (constants.MAIL_COMPLAINTS_METRIC, "Sum", "SES: complaints (addresses suppressed)"),
    (constants.MAIL_EVENTS_UNREADABLE_METRIC, "Sum", "SES: events the mail function could not read"),
)
DUNNING = (
    (constants.DUNNING_NOTICES_METRIC, "Sum", "Notices e-mailed"),
    (constants.SHOPS_PAST_DUE_METRIC, "Sum", "Shops past due"),
    (constants.SHOPS_SUSPENDED_METRIC, "Sum", "Shops suspended"),
    (constants.SHOPS_REACTIVATED_METRIC, "Sum", "Shops reactivated"),
    (constants.DUNNING_ERRORS_METRIC, "Sum", "Shops not checked (errors)"),
    (constants.PROVISIONING_REFUSED_METRIC, "Sum", "Subscriptions refused"),
)
RECONCILIATION = (
    (constants.RECONCILIATION_ENQUEUED_METRIC, "Sum", "Shops enqueued"),
    (constants.RECONCILIATION_SHOPS_METRIC, "Sum", "Shops reconciled"),
    (constants.RECONCILIATION_MISMATCHES_METRIC, "Sum", "Charges repaired (mismatches)"),
    (constants.RECONCILIATION_ERRORS_METRIC, "Sum", "Shops failed"),
)
ACTIVITY = (
    (constants.OUTBOX_PUBLISHED_METRIC, "Sum", "Domain events published by the relay"),
    (constants.WHATSAPP_BOT_ANSWERS_METRIC, "Sum", "WhatsApp bot answers"),
    (constants.REMINDERS_SENT_METRIC, "Sum", "Reminders sent"),
    (constants.REMINDER_FAILURES_METRIC, "Sum", "Reminders failed"),
    (constants.RETENTION_PURGED_METRIC, "Sum", "Rows purged by the retention job"),
    (constants.RETENTION_BEHIND_METRIC, "Sum", "Retention runs cut short"),
    (constants.DATA_EXPORTS_READY_METRIC, "Sum", "Owners' data exports made"),
    (constants.DATA_EXPORT_FAILURES_METRIC, "Sum", "Owners' data exports failed"),
)
BACKUP_AGE = ((constants.BACKUP_AGE_METRIC, "Maximum", "Newest backup's age (hours)"),)
BACKUP_FAILURES = (
    (constants.BACKUP_FAILURES_METRIC, "Sum", "Shops not backed up (nightly)"),
    (constants.RESTORE_TEST_FAILURES_METRIC, "Sum", "Shops not restored (weekly test)"),
)
# The weekly ops report reads the providers' errors from this graph, by its title's start
# (functions/assistec/domain/ops_reports.py, PROVIDERS_WIDGET; tests/infra/test_ops_reports.py).
PROVIDERS_TITLE = "Providers' errors (Asaas, Evolution, Google)"


def dashboard_name(config: StageConfig) -> str:
    """The stage's dashboard's name (``assistec-<stage>``), known before the dashboard is built: the
    ops reports read the dashboard, and are drawn on it."""
    return config.resource_name()


def path_under_stack(construct: IConstruct) -> str:
    """A construct's path under its stack (``Payments/EventsDlq``): how the dashboard names it."""
    return construct.node.path.removeprefix(f"{Stack.of(construct).node.path}/")


class OpsDashboard(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        monitoring: Monitoring,
        api: apigw.RestApi,
    ) -> None:
        super().__init__(scope, construct_id)
        tree = Stack.of(self).node.find_all()
        machines = [c for c in tree if isinstance(c, sfn.StateMachine)]
        queues = [c for c in tree if isinstance(c, sqs.Queue)]
        dead_letter = {q.dead_letter_queue.queue.node.path for q in queues if q.dead_letter_queue}
        dlqs = [q for q in queues if q.node.path in dead_letter]
        main_queues = [q for q in queues if q.node.path not in dead_letter]
        functions = monitoring.functions
        self.dlqs = dlqs  # /health reads their depth (stack.py)

        self.dashboard = cloudwatch.Dashboard(
            self,
            "Resource",
            dashboard_name=dashboard_name(config),
            default_interval=Duration.hours(24),
        )
        self.dashboard.add_widgets(
            cloudwatch.TextWidget(
                markdown=(
                    f"# assistec {config.stage}\n"
                    "Each alarm's description ends with `[runbook: <key>]`: README.md, section "
                    "*Runbook: alarms*, says what it means and what to do first."
                ),
                width=24,
                height=2,
            )
        )
        for number, alarms in enumerate(
            batched(monitoring.alarms, ALARMS_PER_STATUS_WIDGET, strict=False), start=1
        ):
            self.dashboard.add_widgets(
                cloudwatch.AlarmStatusWidget(
                    title="Alarms" if number == 1 else f"Alarms ({number})",
                    alarms=list(alarms),
                    sort_by=cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
                    width=24,
                    height=HEIGHT,
                )
            )
        self.dashboard.add_widgets(
            _graph(
                "API latency (ms)",
                [
                    api.metric_latency(period=PERIOD, statistic="p50", label="Latency p50"),
                    api.metric_latency(period=PERIOD, statistic="p99", label="Latency p99"),
                    api.metric_integration_latency(
                        period=PERIOD, statistic="p50", label="Integration latency p50"
                    ),
                    api.metric_integration_latency(
                        period=PERIOD, statistic="p99", label="Integration latency p99"
                    ),
                ],
            ),
            _graph("API requests", [api.metric_count(period=PERIOD, statistic="Sum", label="Requests")]),
            _graph(
                "API errors",
                [
                    api.metric_client_error(period=PERIOD, statistic="Sum", label="4XX"),
                    api.metric_server_error(period=PERIOD, statistic="Sum", label="5XX"),
                ],
            ),
        )
        self.dashboard.add_widgets(
            _graph(
                "Functions: errors",
                [w.function.metric_errors(period=PERIOD, statistic="Sum", label=w.label) for w in functions],
                height=2 * HEIGHT,
            ),
            _graph(
                "Functions: duration p99 (ms)",
                [
                    w.function.metric_duration(period=PERIOD, statistic="p99", label=w.label)
                    for w in functions
                ],
                height=2 * HEIGHT,
            ),
            _graph(
                "Functions: throttles",
                [
                    w.function.metric_throttles(period=PERIOD, statistic="Sum", label=w.label)
                    for w in functions
                ],
                height=2 * HEIGHT,
            ),
        )
        self.dashboard.add_widgets(
            _graph(
                "Flows: executions failed, timed out, aborted",
                [
                    metric
                    for machine in machines
                    for metric in (
                        machine.metric_failed(
                            period=PERIOD, statistic="Sum", label=f"{_owner(machine)} failed"
                        ),
                        machine.metric_timed_out(
                            period=PERIOD, statistic="Sum", label=f"{_owner(machine)} timed out"
                        ),
                        machine.metric_aborted(
                            period=PERIOD, statistic="Sum", label=f"{_owner(machine)} aborted"
                        ),
                    )
                ],
            ),
            _graph(
                "Queues: oldest message (s)",
                [
                    q.metric_approximate_age_of_oldest_message(
                        period=PERIOD, statistic="Maximum", label=path_under_stack(q)
                    )
                    for q in main_queues
                ],
            ),
            _graph(
                "Dead-letter queues: messages waiting",
                [
                    q.metric_approximate_number_of_messages_visible(
                        period=PERIOD, statistic="Maximum", label=path_under_stack(q)
                    )
                    for q in dlqs
                ],
            ),
        )
        self.dashboard.add_widgets(
            _graph(
                "Backlogs: outbox (s, left), requeued deliveries and replies (right)",
                _app_metrics(BACKLOGS, PERIOD),
                right=_app_metrics(REQUEUED, PERIOD),
            ),
            _graph(PROVIDERS_TITLE, _app_metrics(PROVIDER_ERRORS, PERIOD)),
            _graph("Activity", _app_metrics(ACTIVITY, PERIOD)),
        )
        self.dashboard.add_widgets(
            # The daily and hourly runs, over two weeks
            _graph("Dunning (daily)", _app_metrics(DUNNING, Duration.days(1)), start="-P14D"),
            _graph("Reconciliation (hourly)", _app_metrics(RECONCILIATION, Duration.hours(1)), start="-P14D"),
            _graph(
                "Backups: age (hours, left), failures (right)",
                _app_metrics(BACKUP_AGE, Duration.hours(1)),
                right=_app_metrics(BACKUP_FAILURES, Duration.days(1)),
                start="-P14D",
            ),
        )


def _owner(construct: IConstruct) -> str:
    """The capability a construct belongs to (``PaymentFlow`` for its state machine)."""
    return path_under_stack(construct).split("/")[0]


def _app_metrics(metrics: Sequence[tuple[str, str, str]], period: Duration) -> list[cloudwatch.IMetric]:
    return [
        Monitoring.app_metric(name, period=period, statistic=statistic).with_(label=label)
        for name, statistic, label in metrics
    ]


def _graph(
    title: str,
    left: Sequence[cloudwatch.IMetric],
    *,
    right: Sequence[cloudwatch.IMetric] | None = None,
    height: int = HEIGHT,
    start: str | None = None,
) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(
        title=title, left=list(left), right=list(right or []), width=WIDTH, height=height, start=start
    )
