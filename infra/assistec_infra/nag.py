"""cdk-nag 3 acknowledgements (CDK's Validations API): every one carries its reason."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct


def acknowledge(construct: IConstruct, rule_id: str, reason: str) -> None:
    """Accept one finding (``AwsSolutions-X`` or ``AwsSolutions-X[Finding]``) on a construct and below."""
    Validations.of(construct).acknowledge(Acknowledgment(id=rule_id, reason=reason))
