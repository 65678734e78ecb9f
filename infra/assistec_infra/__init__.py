"""The assistec CDK app: one stack per stage, one construct per capability."""
