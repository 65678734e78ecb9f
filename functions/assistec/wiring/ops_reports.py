"""The reports to ops' composition root: the database (the definer functions), the mail module (the
platform's SES sender) and CloudWatch (the stage's dashboard and its metrics); ``OpsReportSettings``."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from assistec.wiring.base import DatabaseRoot, Installed, Mailing

if TYPE_CHECKING:
    from assistec.integrations.metrics import MetricsReader
    from assistec.services.ops_reports import OpsReports
    from assistec.settings import OpsReportSettings


class OpsReportsRoot(Mailing["OpsReportSettings"], DatabaseRoot):
    def __init__(self, settings: OpsReportSettings) -> None:
        # It publishes no events (no bus).
        super().__init__(settings, event_bus_name=None)
        self.settings = settings

    @cached_property
    def metrics(self) -> MetricsReader:
        """CloudWatch (tests put their fake here)."""
        from assistec.integrations.metrics import CloudWatchMetrics

        return CloudWatchMetrics()

    @cached_property
    def reports(self) -> OpsReports:
        from assistec.services.ops_reports import OpsReports

        # The reader and the mail module are looked up per report, so a test may swap them.
        return OpsReports(
            self.database,
            lambda: self.metrics,
            lambda: self.mail,
            dashboard_name=self.settings.dashboard_name,
            stage=self.settings.stage,
            recipient=self.settings.ops_report_email,
        )


def _from_environment() -> OpsReportsRoot:
    from assistec.settings import OpsReportSettings

    return OpsReportsRoot(OpsReportSettings())  # type: ignore[call-arg]  # values come from the environment


_root = Installed(_from_environment)
root = _root.get
install = _root.install
