"""The ops console: the platform operator's command line (``python -m assistec_ops``, ``make ops``).

It is not shipped to Lambda (the functions' asset is functions/): it runs on the operator's machine
with the operator's AWS credentials, finds the stage's resources from its CloudFormation outputs, and
runs the privileged commands in the stack's ops function (the database of a real stage is in the
VPC); what it does itself (a DLQ replay, a backup started) it records through that function too.
"""
