"""The simulator: instances behind one entry point (``handle``), reached through an httpx transport in
tests or the HTTP server (``python -m evolution_sim``), plus the control calls that stand in for the
phone and the customer (pair, disconnect, write, read)."""

from __future__ import annotations

import base64
import copy
import fnmatch
import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from evolution_sim import payloads, webhooks
from evolution_sim.payloads import Answer, error
from evolution_sim.state import Instance
from evolution_sim.webhooks import Deliver, Delivery

# The global key of the local stage's Evolution (AUTHENTICATION_API_KEY); not a secret: it opens
# only this simulator, on 127.0.0.1.
DEFAULT_API_KEY = "assistec-local-evolution-key"
INTEGRATIONS = ("WHATSAPP-BAILEYS", "WHATSAPP-BUSINESS", "EVOLUTION")
# Evolution's event names in configuration form (event.controller.ts); an enabled webhook with no
# events gets them all.
EVENTS = (
    "APPLICATION_STARTUP", "QRCODE_UPDATED", "MESSAGES_SET", "MESSAGES_UPSERT", "MESSAGES_EDITED",
    "MESSAGES_UPDATE", "MESSAGES_DELETE", "SEND_MESSAGE", "SEND_MESSAGE_UPDATE", "CONTACTS_SET",
    "CONTACTS_UPSERT", "CONTACTS_UPDATE", "PRESENCE_UPDATE", "CHATS_SET", "CHATS_UPSERT", "CHATS_UPDATE",
    "CHATS_DELETE", "GROUPS_UPSERT", "GROUP_UPDATE", "GROUP_PARTICIPANTS_UPDATE", "CONNECTION_UPDATE",
    "LABELS_EDIT", "LABELS_ASSOCIATION", "CALL", "TYPEBOT_START", "TYPEBOT_CHANGE_STATUS",
    "REMOVE_INSTANCE", "LOGOUT_INSTANCE", "INSTANCE_CREATE", "INSTANCE_DELETE", "STATUS_INSTANCE",
)  # fmt: skip
MEDIA_TYPES = ("image", "document", "video", "audio")
VERSIONS = ("2.3.6", "2.3.0")

# A route's work: (instance, body, query, events to deliver) -> answer
Handler = Callable[[Instance, dict[str, Any], dict[str, str], list[Delivery]], Answer]


class SimulatorError(Exception):
    """A control call that cannot be done (unknown instance: ``KeyError`` instead)."""


class EvolutionSimulator:
    def __init__(
        self,
        api_key: str = DEFAULT_API_KEY,
        *,
        deliver: Deliver = webhooks.http_deliver,
        sleep: Callable[[float], None] = time.sleep,
        server_url: str = "http://127.0.0.1:4598",
        background: bool = False,
        max_attempts: int = webhooks.MAX_ATTEMPTS,
        jitter: float = webhooks.JITTER,
        expose_apikey: bool = True,
    ) -> None:
        self.api_key = api_key
        self.server_url = server_url
        self.instances: dict[str, Instance] = {}
        self._lock = threading.RLock()
        self._deliver = deliver
        self._sleep = sleep
        # Deliveries in threads of their own (the HTTP server: a retry schedule runs for minutes)
        # or before the call that caused them answers (tests: deterministic).
        self._background = background
        self._max_attempts = max_attempts
        self._jitter = jitter
        self._expose_apikey = expose_apikey
        self.sent: list[dict[str, Any]] = []  # our sends: instance, route, the exact body, the answer
        self.read: list[dict[str, Any]] = []  # what was marked as read: instance and the body's items
        self.deliveries: list[Delivery] = []  # every webhook delivery, with its attempts
        # Every API call received, (method, path), failed ones included (bounded: it runs for days)
        self.calls: deque[tuple[str, str]] = deque(maxlen=10_000)
        self.fail_next: list[int] = []  # statuses answered instead of doing the work, once each
        # Answers lost after the work was done, once each: "POST /message/sendText/*" (fnmatch on
        # method and path). The transport raises httpx.ReadTimeout; the HTTP server drops the
        # connection. What a client sees when WhatsApp took the message and the answer died.
        self.lose_answers: list[str] = []
        self.not_on_whatsapp: set[str] = set()  # numbers (digits) WhatsApp does not know
        # The files of the media messages customers sent (inject_media): id -> (mimetype, bytes)
        self.media: dict[str, tuple[str, bytes]] = {}

    # --- plumbing ------------------------------------------------------------------------------
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._httpx)

    def _httpx(self, request: httpx.Request) -> httpx.Response:
        try:
            body = json.loads(request.content) if request.content else None
        except ValueError:
            status, answer = error(400, "invalid JSON body")
            return httpx.Response(status, json=answer)
        status, answer = self.handle(
            request.method, request.url.path, body, request.headers.get("apikey"), dict(request.url.params)
        )
        if self.answer_lost(request.method, request.url.path):
            raise httpx.ReadTimeout("simulated: the answer was lost after the work was done", request=request)
        return httpx.Response(status, json=answer)

    def answer_lost(self, method: str, path: str) -> bool:
        """Whether this call's answer is to be lost (and, if so, one fewer to lose)."""
        call = f"{method} {path}"
        with self._lock:
            for i, pattern in enumerate(self.lose_answers):
                if fnmatch.fnmatchcase(call, pattern):
                    del self.lose_answers[i]
                    return True
        return False

    def handle(
        self, method: str, path: str, body: Any, apikey: str | None, params: dict[str, str] | None = None
    ) -> Answer:
        """Answer one call as Evolution would: ``(status, JSON body)``. Webhook deliveries it causes
        are made before it returns (in the background with ``background``)."""
        path = "/" + path.strip("/")
        if path.startswith("/_sim/"):
            return self._control(method, path, body, params or {})
        events: list[Delivery] = []
        with self._lock:
            self.calls.append((method, path))
            if self.fail_next:
                return error(self.fail_next.pop(0), "falha simulada")
            answer = self._route(
                method, path, body if isinstance(body, dict) else {}, apikey, params or {}, events
            )
        self._deliver_all(events)
        return answer

    def _route(
        self,
        method: str,
        path: str,
        body: dict[str, Any],
        apikey: str | None,
        params: dict[str, str],
        events: list[Delivery],
    ) -> Answer:
        parts = [unquote(p) for p in path.split("/") if p]
        if method == "POST" and parts == ["instance", "create"]:
            if apikey != self.api_key:  # only the global key creates (no instance in the path)
                return payloads.unauthorized()
            return self._create(body, events)
        handler = self._routes().get((method, *parts[:2])) if len(parts) == 3 else None
        if handler is None:
            return error(404, f"Cannot {method} {path}")
        instance = self.instances.get(parts[2])
        if instance is None:
            return error(404, f'The "{parts[2]}" instance does not exist')
        if not apikey or apikey not in (self.api_key, instance.token):
            return payloads.unauthorized()
        return handler(instance, body, params, events)

    def _routes(self) -> dict[tuple[str, ...], Handler]:
        return {
            ("GET", "instance", "connect"): self._connect,
            ("GET", "instance", "connectionState"): self._connection_state,
            ("POST", "instance", "restart"): self._restart,
            ("DELETE", "instance", "logout"): self._logout,
            ("DELETE", "instance", "delete"): self._delete,
            ("POST", "webhook", "set"): self._set_webhook,
            ("GET", "webhook", "find"): self._find_webhook,
            ("POST", "message", "sendText"): self._send_text,
            ("POST", "message", "sendMedia"): self._send_media,
            ("POST", "chat", "markMessageAsRead"): self._mark_as_read,
            ("POST", "chat", "getBase64FromMediaMessage"): self._media_base64,
        }

    # --- events --------------------------------------------------------------------------------
    def _event(self, instance: Instance, event: str, data: Any, events: list[Delivery]) -> None:
        """Queue ``event`` for the instance's webhook when it is enabled and subscribed to it."""
        hook = instance.webhook
        if not hook or not hook.get("enabled") or _config_name(event) not in (hook.get("events") or []):
            return
        envelope = payloads.envelope(
            instance,
            event,
            copy.deepcopy(data),
            server_url=self.server_url,
            expose_apikey=self._expose_apikey,
        )
        events.append(Delivery(webhooks.target(hook, event), webhooks.headers_for(hook), envelope))

    def _deliver_all(self, events: list[Delivery]) -> None:
        for delivery in events:
            with self._lock:
                self.deliveries.append(delivery)
            if self._background:
                threading.Thread(target=self._deliver_one, args=(delivery,), daemon=True).start()
            else:
                self._deliver_one(delivery)

    def _deliver_one(self, delivery: Delivery) -> None:
        webhooks.deliver_with_retries(
            delivery, self._deliver, sleep=self._sleep, max_attempts=self._max_attempts, jitter=self._jitter
        )

    # --- instances -----------------------------------------------------------------------------
    def _create(self, body: dict[str, Any], events: list[Delivery]) -> Answer:
        name = body.get("instanceName")
        if not isinstance(name, str) or not name.strip():
            return error(400, 'instance requires property "instanceName"')
        integration = body.get("integration") or "WHATSAPP-BAILEYS"
        if integration not in INTEGRATIONS:
            return error(400, "Invalid integration")
        if integration == "WHATSAPP-BUSINESS" and not body.get("number"):
            return error(400, "number is required")
        webhook = body.get("webhook")
        if webhook is not None and not (isinstance(webhook, dict) and _is_url(webhook.get("url"))):
            return error(400, 'Invalid "url" property')
        if name in self.instances:
            return error(403, f'This name "{name}" is already in use.')
        settings = {
            "rejectCall": body.get("rejectCall") is True,
            "msgCall": body.get("msgCall") or "",
            "groupsIgnore": body.get("groupsIgnore") is True,
            "alwaysOnline": body.get("alwaysOnline") is True,
            "readMessages": body.get("readMessages") is True,
            "readStatus": body.get("readStatus") is True,
            "syncFullHistory": body.get("syncFullHistory") is True,
        }
        token = body.get("token") or str(uuid.uuid4()).upper()
        instance = Instance(name=name, token=str(token), integration=integration, settings=settings)
        if isinstance(webhook, dict):
            instance.webhook = _webhook_record(instance, {**webhook, "enabled": True}, None)
        self.instances[name] = instance
        answer: dict[str, Any] = {
            "instance": {
                "instanceName": name,
                "instanceId": instance.instance_id,
                "integration": integration,
                "webhookWaBusiness": None,
                "accessTokenWaBusiness": "",
                "status": "created",
            },
            "hash": instance.token,
            "webhook": {
                "webhookUrl": (webhook or {}).get("url"),
                "webhookHeaders": (webhook or {}).get("headers"),
                "webhookByEvents": (webhook or {}).get("byEvents"),
                "webhookBase64": (webhook or {}).get("base64"),
            },
            "websocket": {"enabled": False},
            "rabbitmq": {"enabled": False},
            "nats": {"enabled": False},
            "sqs": {"enabled": False},
            "settings": settings,
        }
        if body.get("qrcode") is True and integration == "WHATSAPP-BAILEYS":
            answer["qrcode"] = self._start_pairing(instance, body.get("number"), events)
        return 201, answer

    def _start_pairing(self, instance: Instance, number: Any, events: list[Delivery]) -> dict[str, Any]:
        instance.state, instance.status_reason = "connecting", 200
        instance.pairing_number = str(number) if number else None
        qr = payloads.qrcode(instance)
        instance.qr = qr
        self._event(instance, "connection.update", payloads.connection_data(instance), events)
        self._event(instance, "qrcode.updated", payloads.qrcode_data(instance, qr), events)
        return qr

    def _connect(
        self, instance: Instance, body: dict[str, Any], params: dict[str, str], events: list[Delivery]
    ) -> Answer:
        if instance.state == "open":
            return self._connection_state(instance, body, params, events)
        if instance.state == "connecting" and instance.qr is not None:
            return 200, instance.qr
        return 200, self._start_pairing(instance, params.get("number"), events)

    def _connection_state(
        self, instance: Instance, body: dict[str, Any], params: dict[str, str], events: list[Delivery]
    ) -> Answer:
        return 200, {"instance": {"instanceName": instance.name, "state": instance.state}}

    def _restart(
        self, instance: Instance, body: dict[str, Any], params: dict[str, str], events: list[Delivery]
    ) -> Answer:
        if instance.state == "close":
            # Evolution catches its own BadRequestException here and answers 200 with the error
            return 200, {"error": True, "message": f'The "{instance.name}" instance is not connected'}
        return self._connect(instance, body, params, events)

    def _logout(
        self, instance: Instance, body: dict[str, Any], params: dict[str, str], events: list[Delivery]
    ) -> Answer:
        if instance.state == "close":
            return error(400, f'The "{instance.name}" instance is not connected')
        self._close(instance, 401, events)  # Baileys' loggedOut
        return 200, {"status": "SUCCESS", "error": False, "response": {"message": "Instance logged out"}}

    def _delete(
        self, instance: Instance, body: dict[str, Any], params: dict[str, str], events: list[Delivery]
    ) -> Answer:
        if instance.state == "open":
            return error(400, f'The "{instance.name}" instance needs to be disconnected')
        if instance.state == "connecting":
            self._close(instance, 401, events)
        del self.instances[instance.name]
        return 200, {"status": "SUCCESS", "error": False, "response": {"message": "Instance deleted"}}

    def _close(self, instance: Instance, status_reason: int, events: list[Delivery]) -> None:
        instance.state, instance.status_reason, instance.qr = "close", status_reason, None
        self._event(instance, "connection.update", payloads.connection_data(instance), events)

    # --- webhook -------------------------------------------------------------------------------
    def _set_webhook(
        self, instance: Instance, body: dict[str, Any], params: dict[str, str], events: list[Delivery]
    ) -> Answer:
        webhook = body.get("webhook")
        if not isinstance(webhook, dict) or not isinstance(webhook.get("enabled"), bool):
            return error(400, 'instance requires property "webhook.enabled"')
        if not _is_url(webhook.get("url")):
            return error(400, 'Invalid "url" property')
        unknown = [e for e in webhook.get("events") or [] if e not in EVENTS]
        if unknown:
            return error(400, f"webhook.events contains unknown events: {', '.join(map(str, unknown))}")
        instance.webhook = _webhook_record(instance, webhook, instance.webhook)
        return 201, instance.webhook

    def _find_webhook(
        self, instance: Instance, body: dict[str, Any], params: dict[str, str], events: list[Delivery]
    ) -> Answer:
        return 200, instance.webhook

    # --- messages ------------------------------------------------------------------------------
    def _send_text(
        self, instance: Instance, body: dict[str, Any], params: dict[str, str], events: list[Delivery]
    ) -> Answer:
        refused = _missing(body, "number", "text") or self._unsendable(instance, body)
        if refused is not None:
            return refused
        text = str(body["text"])
        return self._record_send(
            instance,
            "sendText",
            body,
            payloads.text_content(text),
            "conversation",
            {"conversation": text},
            events,
        )

    def _send_media(
        self, instance: Instance, body: dict[str, Any], params: dict[str, str], events: list[Delivery]
    ) -> Answer:
        refused = _missing(body, "number", "mediatype", "media") or self._unsendable(instance, body)
        if refused is not None:
            return refused
        if body["mediatype"] not in MEDIA_TYPES:
            return error(400, f"mediatype must be one of {', '.join(MEDIA_TYPES)}")
        message_type, content = payloads.media_content(body)
        return self._record_send(instance, "sendMedia", body, content, message_type, content, events)

    def _unsendable(self, instance: Instance, body: dict[str, Any]) -> Answer | None:
        if instance.state != "open":
            return error(400, "Error: Connection Closed")
        number = str(body["number"])
        jid = payloads.create_jid(number)
        if {number, jid.split("@")[0]} & self.not_on_whatsapp:
            return error(400, {"jid": jid, "exists": False, "number": number})
        return None

    def _record_send(
        self,
        instance: Instance,
        route: str,
        body: dict[str, Any],
        sent_message: dict[str, Any],
        echo_type: str,
        echo_message: dict[str, Any],
        events: list[Delivery],
    ) -> Answer:
        jid = payloads.create_jid(str(body["number"]))
        message_id = payloads.sent_id()
        answer = payloads.send_answer(jid, message_id, sent_message)
        self.sent.append(
            {
                "instance": instance.name,
                "route": route,
                "body": copy.deepcopy(body),
                "response": answer,
                "row_id": str(uuid.uuid4()),
            }
        )
        # The fromMe echo Evolution posts for every message the number sends (ours included)
        data = payloads.upsert_data(
            instance,
            dict(answer["key"]),
            echo_message,
            echo_type,
            push_name=instance.profile_name,
            status="SERVER_ACK",
            source="web",
        )
        self._event(instance, "send.message", data, events)
        self._event(instance, "messages.upsert", data, events)
        return 201, answer

    def _mark_as_read(
        self, instance: Instance, body: dict[str, Any], params: dict[str, str], events: list[Delivery]
    ) -> Answer:
        items = body.get("readMessages")
        if (
            not isinstance(items, list)
            or not items
            or not all(isinstance(i, dict) and i.get("remoteJid") and i.get("id") for i in items)
        ):
            return error(400, 'instance requires property "readMessages"')
        self.read.append({"instance": instance.name, "readMessages": copy.deepcopy(items)})
        return 200, {"message": "Read messages", "read": "success"}

    # --- what the phone and the customer do ----------------------------------------------------
    def connect_by_name(
        self, name: str, *, number: str | None = None, profile_name: str | None = None
    ) -> Instance:
        """The shop scanned the QR (or typed the pairing code): the instance is open, with
        ``number`` (default: one derived from the name) as its own."""
        events: list[Delivery] = []
        with self._lock:
            instance = self.instances[name]
            instance.number = number or instance.pairing_number or instance.number or _number_for(name)
            instance.profile_name = profile_name or instance.profile_name or "Assistência (simulador)"
            instance.state, instance.status_reason, instance.qr = "open", 200, None
            self._event(instance, "connection.update", payloads.connection_data(instance), events)
        self._deliver_all(events)
        return instance

    def close_by_name(self, name: str, *, status_reason: int = 401) -> Instance:
        """The number dropped (401: logged out on the phone; 408/428/515: connection lost)."""
        events: list[Delivery] = []
        with self._lock:
            instance = self.instances[name]
            self._close(instance, status_reason, events)
        self._deliver_all(events)
        return instance

    def inject_message(
        self,
        name: str,
        phone: str | None,
        text: str,
        *,
        lid: str | None = None,
        version: str = "2.3.6",
        addressing: str = "lid",
        push_name: str | None = "Cliente",
        message_id: str | None = None,
    ) -> dict[str, Any]:
        """A customer writes ``text`` from ``phone`` (E.164 digits, as the JID spells it: pass
        ``558197088404`` for an old account). With ``lid`` the message comes addressed by the Linked
        ID, as ``version`` shapes it (2.3.6: ``remoteJidAlt`` + ``addressingMode``, ``addressing``
        "lid" or "pn"; 2.3.0: ``senderPn``); ``phone`` None: the phone is not given at all.
        Returns the ``messages.upsert`` envelope (delivered when the webhook wants it)."""
        if version not in VERSIONS:
            raise ValueError(f"version must be one of {VERSIONS}")
        events: list[Delivery] = []
        with self._lock:
            instance = self.instances[name]
            if instance.state != "open":
                raise SimulatorError(f"instance {name} is {instance.state}: nothing reaches it")
            key = payloads.incoming_key(
                phone, message_id or payloads.phone_id(), lid=lid, version=version, addressing=addressing
            )
            data = payloads.upsert_data(
                instance,
                key,
                {"conversation": text},
                "conversation",
                push_name=push_name,
                status="DELIVERY_ACK",
                source="android",
            )
            envelope = payloads.envelope(
                instance,
                "messages.upsert",
                data,
                server_url=self.server_url,
                expose_apikey=self._expose_apikey,
            )
            self._event(instance, "messages.upsert", data, events)
        self._deliver_all(events)
        return envelope

    def inject_media(
        self,
        name: str,
        phone: str,
        kind: str,
        content: bytes,
        *,
        mimetype: str,
        caption: str | None = None,
        file_name: str | None = None,
        push_name: str | None = "Cliente",
    ) -> dict[str, Any]:
        """A customer sends a photo, an audio or a document (``kind``: image, audio, document): the
        ``messages.upsert`` Evolution 2.3 posts (no file in it, ``base64`` off), the file kept for
        ``/chat/getBase64FromMediaMessage``. Returns the envelope."""
        if kind not in ("image", "audio", "document", "video"):
            raise ValueError("kind must be image, audio, document or video")
        events: list[Delivery] = []
        with self._lock:
            instance = self.instances[name]
            if instance.state != "open":
                raise SimulatorError(f"instance {name} is {instance.state}: nothing reaches it")
            message_id = payloads.phone_id()
            key = payloads.incoming_key(phone, message_id, lid=None, version="2.3.6", addressing="pn")
            media: dict[str, Any] = {
                "url": "https://mmg.whatsapp.net/o1/v/t62.7118-24/SIMULATED",
                "mimetype": mimetype,
                "fileLength": str(len(content)),
                "mediaKey": "c2ltdWxhdGVkLWtleQ==",
                "mediaKeyTimestamp": str(int(time.time())),
            }
            if caption:
                media["caption"] = caption
            if kind == "document":
                media["fileName"] = file_name or "documento"
            if kind == "audio":
                media.update(seconds=len(content) % 60 + 1, ptt=True)
            message_type = f"{kind}Message"
            data = payloads.upsert_data(
                instance,
                key,
                {message_type: media},
                message_type,
                push_name=push_name,
                status="DELIVERY_ACK",
                source="android",
            )
            self.media[message_id] = (mimetype, content)
            envelope = payloads.envelope(
                instance,
                "messages.upsert",
                data,
                server_url=self.server_url,
                expose_apikey=self._expose_apikey,
            )
            self._event(instance, "messages.upsert", data, events)
        self._deliver_all(events)
        return envelope

    def _media_base64(
        self, instance: Instance, body: dict[str, Any], params: dict[str, str], events: list[Delivery]
    ) -> Answer:
        """Evolution's ``getBase64FromMediaMessage``: the file of a received media message by its
        key (``{"message": {"key": {"id": ...}}}``): ``{mediaType, fileName, size, mimetype, base64}``."""
        message = body.get("message")
        key = message.get("key") if isinstance(message, dict) else None
        found = self.media.get(str(key.get("id"))) if isinstance(key, dict) else None
        if found is None:
            return error(400, "Message not found or has no media")
        mimetype, content = found
        return 201, {
            "mediaType": mimetype.split("/", 1)[0],
            "fileName": None,
            "size": {"fileLength": str(len(content))},
            "mimetype": mimetype,
            "base64": base64.b64encode(content).decode(),
            "buffer": None,
        }

    def receipt(self, name: str, message_id: str, status: str = "DELIVERY_ACK") -> dict[str, Any]:
        """The customer's phone got (``DELIVERY_ACK``) or read (``READ``) one of our sends: the
        ``messages.update`` event's ``data``."""
        if status not in payloads.DELIVERY_STATUSES:
            raise ValueError(f"status must be one of {payloads.DELIVERY_STATUSES}")
        events: list[Delivery] = []
        with self._lock:
            instance = self.instances[name]
            found = [
                s for s in self.sent if s["instance"] == name and s["response"]["key"]["id"] == message_id
            ]
            if not found:
                raise KeyError(message_id)
            data = payloads.update_data(instance, found[-1], status)
            self._event(instance, "messages.update", data, events)
        self._deliver_all(events)
        return data

    # --- control over HTTP ---------------------------------------------------------------------
    def _control(self, method: str, path: str, body: Any, params: dict[str, str]) -> Answer:
        body = body if isinstance(body, dict) else {}
        parts = [unquote(p) for p in path.split("/") if p][1:]
        try:
            if method == "POST" and parts == ["behaviour"]:
                with self._lock:
                    self.fail_next = [int(s) for s in body.get("fail_next") or []]
                    self.lose_answers = [str(p) for p in body.get("lose_answers") or []]
                    self.not_on_whatsapp = {str(n) for n in body.get("not_on_whatsapp") or []}
                return 200, {"fail_next": self.fail_next, "lose_answers": self.lose_answers}
            if method == "GET" and parts == ["sent"]:
                wanted = params.get("instance")
                return 200, [s for s in self.sent if wanted in (None, s["instance"])]
            if method == "GET" and parts == ["deliveries"]:
                return 200, [_described(d) for d in self.deliveries]
            if method == "POST" and len(parts) == 3 and parts[0] == "instances":
                return self._control_instance(parts[1], parts[2], body)
        except KeyError as exc:
            return error(404, f"not found: {exc.args[0]}")
        except SimulatorError as exc:
            return error(409, str(exc))
        except (ValueError, TypeError) as exc:
            return error(400, str(exc))
        return error(404, f"Cannot {method} {path}")

    def _control_instance(self, name: str, action: str, body: dict[str, Any]) -> Answer:
        if action == "open":
            instance = self.connect_by_name(
                name, number=body.get("number"), profile_name=body.get("profileName")
            )
            return 200, {
                "instance": {"instanceName": name, "state": instance.state, "number": instance.number}
            }
        if action == "close":
            instance = self.close_by_name(name, status_reason=int(body.get("statusReason") or 401))
            return 200, {"instance": {"instanceName": name, "state": instance.state}}
        if action == "messages":
            if not isinstance(body.get("text"), str) or not (body.get("phone") or body.get("lid")):
                raise ValueError("informe text e phone (ou lid)")
            envelope = self.inject_message(
                name,
                str(body["phone"]) if body.get("phone") else None,
                body["text"],
                lid=str(body["lid"]) if body.get("lid") else None,
                version=str(body.get("version") or "2.3.6"),
                addressing=str(body.get("addressing") or "lid"),
                push_name=body.get("pushName", "Cliente"),
                message_id=body.get("id"),
            )
            return 200, envelope
        if action == "media":
            if not isinstance(body.get("base64"), str) or not body.get("phone"):
                raise ValueError("informe phone, kind, mimetype e base64")
            envelope = self.inject_media(
                name,
                str(body["phone"]),
                str(body.get("kind") or "image"),
                base64.b64decode(body["base64"]),
                mimetype=str(body.get("mimetype") or "image/jpeg"),
                caption=body.get("caption"),
                file_name=body.get("fileName"),
            )
            return 200, envelope
        if action == "receipts":
            return 200, self.receipt(name, str(body.get("id")), str(body.get("status") or "DELIVERY_ACK"))
        raise KeyError(action)


def _config_name(event: str) -> str:
    """``messages.upsert`` → ``MESSAGES_UPSERT`` (how a webhook's ``events`` names it)."""
    return event.replace(".", "_").replace("-", "_").upper()


def _is_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _missing(body: dict[str, Any], *names: str) -> Answer | None:
    for name in names:
        if not isinstance(body.get(name), str) or not body[name]:
            return error(400, f'instance requires property "{name}"')
    return None


def _webhook_record(
    instance: Instance, webhook: dict[str, Any], previous: dict[str, Any] | None
) -> dict[str, Any]:
    """The webhook as Evolution stores and answers it (Prisma's Webhook row)."""
    enabled = webhook.get("enabled") is True
    events = [str(e) for e in webhook.get("events") or []]
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "id": (previous or {}).get("id") or uuid.uuid4().hex[:25],
        "url": webhook["url"],
        "headers": dict(webhook.get("headers") or {}),
        "enabled": enabled,
        "events": (events or list(EVENTS)) if enabled else [],
        "webhookByEvents": webhook.get("byEvents") is True,
        "webhookBase64": webhook.get("base64") is True,
        "createdAt": (previous or {}).get("createdAt") or now,
        "updatedAt": now,
        "instanceId": instance.instance_id,
    }


def _number_for(name: str) -> str:
    """A stable São Paulo mobile for an instance paired without saying its number."""
    return "55119" + str(uuid.uuid5(uuid.NAMESPACE_URL, name).int % 10**8).rjust(8, "0")


def _described(delivery: Delivery) -> dict[str, Any]:
    """A delivery for GET /_sim/deliveries (headers left out: they carry the shop's secret)."""
    return {
        "url": delivery.url,
        "event": delivery.event,
        "attempts": delivery.attempts,
        "waits": delivery.waits,
        "delivered": delivery.delivered,
        "gave_up": delivery.gave_up,
        "envelope": delivery.envelope,
    }
