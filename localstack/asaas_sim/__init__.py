"""An offline Asaas (API v3) for `make dev`, the e2e suite and the integration tests.

It implements the endpoints assistec calls (customers, payments, PIX QR code, boleto line, refund,
delete, subscriptions and their payments, webhooks) with Asaas's answer and error shapes, keeps
state per API key, and has control calls under /_sim that do what a customer, the bank or the
calendar would: pay a charge, let it fall overdue (``{"days": n}`` days ago), start a
subscription's next cycle.
Each of those fires the webhooks the shop registered, with the payload shape of Asaas's real
deliveries (tests/fixtures/asaas), to the registered URL with the registered token.

Run it: ``python -m asaas_sim --port 4599`` (binds 127.0.0.1). In tests, ``AsaasSimulator()``
gives an httpx transport and a deliver callback instead of sockets.

Failure knobs (attributes in tests; ``POST /_sim/behaviour`` on the server): ``fail_next`` (statuses
answered instead of doing the work), ``delay_s`` (every call answered that much later, concurrent
calls overlapping) and ``lose_answers`` (``"POST /payments"``: the work is done, then the answer is
lost: httpx.ReadTimeout from the transport, a dropped connection from the server). ``requests``
lists the latest calls carried out.

The modules, one thing each:

- ``simulator``: ``AsaasSimulator``, the entry point (routing, the lock, /_sim control calls);
- ``state``: the per-key ``Account``, the clock, the state file kept across restarts;
- ``customers``, ``payments``, ``subscriptions``, ``webhooks``: their /v3 routes (``webhooks``
  also delivers the payment events);
- ``control``: what the customer, the bank and the calendar do to a payment (pay, overdue);
- ``answers``: Asaas's error and list shapes;
- ``server``: the HTTP server ``python -m asaas_sim`` runs.
"""

from __future__ import annotations

from asaas_sim.simulator import AsaasSimulator
from asaas_sim.state import Account
from asaas_sim.webhooks import Deliver

__all__ = ["Account", "AsaasSimulator", "Deliver"]
