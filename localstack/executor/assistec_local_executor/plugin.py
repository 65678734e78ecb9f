from __future__ import annotations

from typing import Any

from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin


class HostRuntimeExecutorPlugin(RuntimeExecutorPlugin):  # type: ignore[misc]
    """Selected with LAMBDA_RUNTIME_EXECUTOR=host."""

    name = "host"

    def load(self, *args: Any, **kwargs: Any) -> Any:
        from assistec_local_executor.executor import HostRuntimeExecutor

        return HostRuntimeExecutor
