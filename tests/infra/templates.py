"""Reading a synthesized stack's CloudFormation template (the test_stacks_*.py modules share these)."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Template


def _template(stack_and_assembly: Any) -> Template:
    return Template.from_stack(stack_and_assembly[0])


def _functions(template: Template) -> dict[str, Any]:
    return template.find_resources("AWS::Lambda::Function")


# The handler of the CDK's own custom resource providers (the VPC's default security group, the
# cross-region reference's reader): several share it, none is one of the app's functions.
CDK_PROVIDER_HANDLER = "__entrypoint__.handler"


def _app_handlers(template: Template) -> set[str]:
    """The app's functions' handlers (the CDK's providers aside)."""
    return {f["Properties"]["Handler"] for f in _functions(template).values()} - {CDK_PROVIDER_HANDLER}


def _function(template: Template, handler: str) -> dict[str, Any]:
    matches = [f for f in _functions(template).values() if f["Properties"]["Handler"] == handler]
    assert len(matches) == 1, handler
    return matches[0]["Properties"]
