"""Routes reachable without a token. The CDK app keeps the same list (a test compares them)."""

from __future__ import annotations

PUBLIC_ROUTES: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/health"),
        ("POST", "/signup"),
        ("POST", "/auth/login"),
        ("POST", "/auth/refresh"),
        ("POST", "/auth/logout"),
        # Google's consent sends the browser back here: the signed state is the credential.
        ("GET", "/integrations/google/callback"),
    }
)
# Swagger UI: served in the local stage only.
LOCAL_ONLY_PUBLIC_ROUTES: frozenset[tuple[str, str]] = frozenset({("GET", "/docs")})
# The customer's links (quote approval, order tracking) and the providers' webhooks: everything
# under these prefixes, any method. Their credential is in the path (and a header for webhooks).
PUBLIC_PREFIX = "/public/"
WEBHOOK_PREFIX = "/webhooks/"


def is_public_path(path: str) -> bool:
    return path.startswith((PUBLIC_PREFIX, WEBHOOK_PREFIX))
