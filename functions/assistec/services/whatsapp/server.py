"""Which Evolution server the deployment uses: one URL and one global API key, kept in a Secrets
Manager secret as JSON ``{"url": "https://evo.example.com", "api_key": "..."}`` (README, "WhatsApp:
the Evolution server"). The stack creates the secret empty; ops put their server in. Locally `make up`
writes the offline simulator's."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistec.errors import ServiceUnavailableError

if TYPE_CHECKING:
    from assistec.integrations.evolution import EvolutionClient


class EvolutionNotConfiguredError(ServiceUnavailableError):
    code = "whatsapp_not_configured"
    message = "O WhatsApp ainda não foi configurado nesta instalação. Fale com o suporte."


@dataclass(frozen=True, slots=True)
class EvolutionServer:
    url: str
    api_key: str


def parse(secret: str) -> EvolutionServer:
    try:
        data = json.loads(secret)
    except ValueError:
        data = {}
    data = data if isinstance(data, dict) else {}
    return EvolutionServer(url=str(data.get("url") or "").rstrip("/"), api_key=str(data.get("api_key") or ""))


def server_from_secret(secret_id: str | None) -> EvolutionServer:
    """The server the secret names (read through the secrets module's cache); an unset secret id or
    an empty secret: not configured (503 ``whatsapp_not_configured`` where it is needed)."""
    if not secret_id:
        return EvolutionServer("", "")
    from assistec.integrations.secrets import secret_string

    return parse(secret_string(secret_id))


type ClientFactory = Callable[[], EvolutionClient]


def client_factory(server: Callable[[], EvolutionServer]) -> ClientFactory:
    """Clients for the deployment's server; refuses (503) while it is not configured."""

    def build() -> EvolutionClient:
        from assistec.integrations.evolution import EvolutionClient

        found = server()
        if not found.url or not found.api_key:
            raise EvolutionNotConfiguredError()
        return EvolutionClient(found.url, found.api_key)

    return build
