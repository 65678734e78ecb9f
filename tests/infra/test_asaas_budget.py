"""The API's time on Asaas (issue 10 §2): what one request may spend there (the Asaas client's
budget) fits well within the API function's timeout as deployed, and a charge's claim outlives the
request holding it."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Template

from assistec_infra import constants


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_a_requests_asaas_budget_fits_well_within_the_api_functions_timeout(
    stage: str, local_stack: Any, prod_stack: Any
) -> None:
    from assistec.integrations.asaas import BUDGET_S
    from assistec.services.payments.charges import CLAIM_S

    # Given the API function in the stage's template
    template = Template.from_stack((local_stack if stage == "local" else prod_stack)[0])
    (api,) = [
        f["Properties"]
        for f in template.find_resources("AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == constants.API_HANDLER
    ]
    # Then a request's whole Asaas exchange takes at most about half of its timeout
    assert api["Timeout"] / 1.8 >= BUDGET_S
    # And a charge's claim outlives the request holding it (it never runs out under a live one)
    assert api["Timeout"] < CLAIM_S
