"""Schemathesis hooks for the e2e run (loaded through SCHEMATHESIS_HOOKS)."""

from __future__ import annotations

from typing import Any

import schemathesis

# LocalStack's API Gateway emulator answers some malformed requests itself with a 500 whose body
# starts like this (non-UTF-8 bodies, multipart without a boundary) before our Lambda is reached.
# In AWS those requests reach the function, whose answers (415, 422) the integration tests check.
LOCALSTACK_EMULATOR_ERROR = "Error in apigateway invocation"


@schemathesis.check
def no_server_error_from_our_code(ctx: Any, response: Any, case: Any) -> None:
    if response.status_code >= 500 and not response.text.startswith(LOCALSTACK_EMULATOR_ERROR):
        raise AssertionError(
            f"{case.method} {case.path} answered {response.status_code}: {response.text[:300]}"
        )
