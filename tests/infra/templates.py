"""Reading a synthesized stack's CloudFormation template (the test_stacks_*.py modules share these)."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Template


def _template(stack_and_assembly: Any) -> Template:
    return Template.from_stack(stack_and_assembly[0])


def _functions(template: Template) -> dict[str, Any]:
    return template.find_resources("AWS::Lambda::Function")


def _function(template: Template, handler: str) -> dict[str, Any]:
    matches = [f for f in _functions(template).values() if f["Properties"]["Handler"] == handler]
    assert len(matches) == 1, handler
    return matches[0]["Properties"]
