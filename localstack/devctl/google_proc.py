"""The offline Google simulator (localstack/google_sim: OAuth 2.0 + Calendar API v3) as a background
process on 127.0.0.1.

It keeps grants and calendars in memory: after a restart every refresh token it issued answers
``invalid_grant``, as a revoked one would, and the demo shop shows "reconnect Google"."""

from __future__ import annotations

import os

from devctl.simproc import Simulator

PORT = int(os.environ.get("ASSISTEC_GOOGLE_SIM_PORT", "4597"))
# The simulator's OAuth client: local only, never a real Google project's.
CLIENT_ID = "assistec-local.apps.googleusercontent.com"
CLIENT_SECRET = "assistec-local-google-secret"
SIMULATOR = Simulator(
    "google-sim",
    "google_sim",
    PORT,
    "/_sim/state",
    ("--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET),
)
URL = SIMULATOR.url
# The Secrets Manager JSON of the local stage (GoogleOAuthConfig.from_secret)
OAUTH_SECRET = {
    "client_id": CLIENT_ID,
    "client_secret": CLIENT_SECRET,
    "auth_uri": f"{URL}/o/oauth2/v2/auth",
    "token_uri": f"{URL}/token",
    "revoke_uri": f"{URL}/revoke",
    "api_base": f"{URL}/calendar/v3",
}
is_running = SIMULATOR.is_running
start = SIMULATOR.start
stop = SIMULATOR.stop
