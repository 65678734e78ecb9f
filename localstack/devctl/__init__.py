"""devctl: the local platform (PostgreSQL, LocalStack, the deployed stack) for `make dev/up/down/test`."""
