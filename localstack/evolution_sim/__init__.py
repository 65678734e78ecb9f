"""An offline Evolution API v2 (WhatsApp) for `make dev`, the e2e suite and the tests.

It implements the endpoints assistec calls (instance create, connect, connection state, restart,
logout, delete; webhook set and find; sendText, sendMedia; markMessageAsRead) with Evolution
2.3.x's answer and error shapes, and auth as Evolution's guard does it: the global key everywhere,
an instance's token on that instance's routes. State is kept in memory.

Control calls do what the phone and the customer would, and fire the webhook events Evolution
would, in the payload shapes of its real deliveries (tests/fixtures/evolution):

- pair the number: ``connect_by_name(name)`` / ``POST /_sim/instances/{name}/open`` (connecting →
  open, ``connection.update``); drop it: ``close_by_name`` / ``POST /_sim/instances/{name}/close``
  (``statusReason`` 401 by default);
- a customer writes: ``inject_message(name, phone, text, lid=…, version=…)`` /
  ``POST /_sim/instances/{name}/messages`` (``messages.upsert``, with or without ``@lid``);
- a customer's phone receives or reads one of our sends: ``receipt`` /
  ``POST /_sim/instances/{name}/receipts`` (``messages.update``, DELIVERY_ACK or READ).

Every send is recorded (``sent``: the exact body and the answer) and echoed as a ``messages.upsert``
with ``fromMe`` true, as Evolution does for whatever the number sends. Deliveries go to the
instance's webhook URL with its custom headers and follow Evolution's retry rules (``webhooks``);
each is recorded with its attempts and waits (``deliveries``; the sleep is injectable).

Run it: ``python -m evolution_sim --port 4598`` (binds 127.0.0.1). In tests,
``EvolutionSimulator(deliver=…, sleep=…)`` gives an httpx transport and a deliver callback instead
of sockets.

Failure knobs (attributes in tests; ``POST /_sim/behaviour`` on the server): ``fail_next``
(statuses answered instead of doing the work), ``lose_answers`` (``"POST /message/sendText/*"``:
the work is done, then the answer is lost: httpx.ReadTimeout from the transport, a dropped
connection from the server) and ``not_on_whatsapp`` (numbers a send is refused for, as
Evolution does: 400 with ``exists: false``). ``calls`` lists the calls received.

The modules, one thing each:

- ``simulator``: ``EvolutionSimulator``, the entry point (routing, auth, the lock, control calls);
- ``state``: the ``Instance``;
- ``payloads``: Evolution's shapes (errors, JIDs, send answers, event data, the envelope);
- ``webhooks``: deliveries, their headers (``jwt_key``) and the retry schedule;
- ``server``: the HTTP server ``python -m evolution_sim`` runs (``serve(sim, port)`` in tests).
"""

from __future__ import annotations

from evolution_sim.server import serve
from evolution_sim.simulator import DEFAULT_API_KEY, EvolutionSimulator, SimulatorError
from evolution_sim.state import Instance
from evolution_sim.webhooks import Deliver, Delivery

__all__ = [
    "DEFAULT_API_KEY",
    "Deliver",
    "Delivery",
    "EvolutionSimulator",
    "Instance",
    "SimulatorError",
    "serve",
]
