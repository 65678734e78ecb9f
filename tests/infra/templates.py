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


def _nested(stack_and_assembly: Any) -> dict[str, Template]:
    """The stack's nested stacks' templates, by the logical id of each one's
    ``AWS::CloudFormation::Stack`` in the parent (prod nests the real-time capability)."""
    from aws_cdk import NestedStack, Stack

    parent = stack_and_assembly[0]
    return {
        Stack.of(parent).get_logical_id(nested.nested_stack_resource): Template.from_stack(nested)
        for nested in parent.node.find_all()
        if isinstance(nested, NestedStack) and nested.nested_stack_resource is not None
    }


def _nested_reference(rendered: str, nested_id: str, logical_id: str) -> bool:
    """Whether a reference the parent renders (``${<nested>.Outputs.<...>}``) names ``logical_id`` of
    that nested stack: CDK names the output after the resource's path, which ends in its logical id
    without the nested stack's hash (the last 8 characters)."""
    return rendered.startswith(f"${{{nested_id}.Outputs.") and logical_id[:-8] in rendered
