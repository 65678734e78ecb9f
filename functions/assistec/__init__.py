"""assistec: the serverless backend of Brazilian repair shops."""

__version__ = "0.1.0"
