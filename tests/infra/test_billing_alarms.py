"""CloudFormation assertions, both stages: ops hear about a shop whose Asaas subscription could not be
created (provisioning refused), from the metric the workers publish."""

from __future__ import annotations

from typing import Any

import pytest

from assistec_infra import constants
from tests.infra.templates import _template


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_refused_provisioning_has_an_alarm_on_the_workers_metric(
    stage: str, local_stack: Any, prod_stack: Any
) -> None:
    # Given the synthesized stage
    template = _template(local_stack if stage == "local" else prod_stack)
    # When its alarms are read
    alarms = [
        a["Properties"]
        for a in template.find_resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == constants.PROVISIONING_REFUSED_METRIC
    ]
    # Then one alarm watches the metric the consumer and the daily run publish (the app's namespace
    # and service), fires on the first refusal of the day and tells the alarm topic both ways
    assert len(alarms) == 1
    (alarm,) = alarms
    assert alarm["Namespace"] == constants.METRICS_NAMESPACE
    assert alarm["Dimensions"] == [{"Name": "service", "Value": constants.SERVICE_NAME}]
    assert (alarm["Statistic"], alarm["Period"], alarm["Threshold"]) == ("Sum", 86400, 1)
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"
    topic = next(iter(template.find_resources("AWS::SNS::Topic")))
    assert alarm["AlarmActions"] == [{"Ref": topic}]
    assert alarm["OKActions"] == [{"Ref": topic}]


def test_the_metric_name_is_the_one_the_workers_publish() -> None:
    # Given the handlers' source (they publish through Powertools)
    from pathlib import Path

    handlers = Path(__file__).resolve().parents[2] / "functions" / "assistec" / "handlers"
    # Then the consumer and the daily run publish the name the alarm watches
    for name in ("payments_consumer.py", "dunning.py"):
        assert f'"{constants.PROVISIONING_REFUSED_METRIC}"' in (handlers / name).read_text(), name
