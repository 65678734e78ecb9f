"""The conversation router: what the bot answers a customer's (merged) message, with the shop's data.

The rules (intents, keywords, the price match, templates) are pure, in ``domain/wa_router.py``; this
reads what they need in the consumer's transaction (the shop's price rules and discount, the
customer's own orders, the stock) and moves the conversation's state. It never invents a price and
never shows an order that is not the customer's: orders are looked up by the customer the phone
belongs to, never by a number typed alone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from assistec.db import customers as customers_db
from assistec.db import orders as orders_db
from assistec.db import quotes as quotes_db
from assistec.db import scheduling as scheduling_db
from assistec.db import shop_settings as settings_db
from assistec.db import stock as stock_db
from assistec.db import whatsapp as wa_db
from assistec.domain import orders as order_rules
from assistec.domain import quotes as quote_rules
from assistec.domain import scheduling
from assistec.domain import wa_router as router
from assistec.errors import AppError
from assistec.services import quote_decisions, quote_flow
from assistec.services.scheduling import availability
from assistec.services.scheduling import rules as scheduling_rules
from assistec.services.scheduling.appointments import Appointments
from assistec.services.unit_of_work import UnitOfWork
from assistec.services.whatsapp import outgoing
from assistec.services.whatsapp.inbox import BotAnswer

_DEVICE_TYPES = {"phone": "celular", "tablet": "tablet", "computer": "computador", "other": "aparelho"}
_TYPE_TEXT = {
    "drop_off": "a entrega do aparelho",
    "pickup": "a retirada do aparelho",
    "visit": "a visita técnica",
}
_SLOT_TIMEOUT_S = 1800  # an offer older than the router's state timeout is not taken
_MAX_ORDERS = 5
_MAX_PARTS = 5


class WhatsappBot:
    """Answers for the inbox (``Bot``): the replies to queue, the conversation moved."""

    def __init__(
        self,
        link_base: Callable[[], str],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        resume: quote_flow.Resume | None = None,
    ) -> None:
        self._link_base = link_base
        self._clock = clock
        self._resume = resume

    def answer(self, uow: UnitOfWork, conversation: wa_db.ConversationRow, texts: list[str]) -> BotAnswer:
        after: list[Callable[[], None]] = []
        replies = self._reply(uow, conversation, texts, after)
        return BotAnswer(replies, after, outcome="quote_decided" if after else None)

    def _reply(
        self,
        uow: UnitOfWork,
        conversation: wa_db.ConversationRow,
        texts: list[str],
        after: list[Callable[[], None]],
    ) -> list[str]:
        settings = wa_db.get_settings(uow.conn)
        templates, bot_enabled = settings.templates, settings.bot_enabled
        shop = settings_db.get_settings(uow.conn)
        shop_name = outgoing.shop_name(uow, "a loja")
        text = router.merge_burst(texts)
        now = self._clock()
        values: dict[str, str] = {"LOJA": shop_name}
        if not bot_enabled:
            if conversation.state not in ("waiting_staff", "with_staff"):
                self._handoff(uow, conversation)
            return []
        # The state's age by the database's clock (the one that wrote state_since); ``now`` (the
        # shop's hours) may be a test's.
        age = uow.conn.execute(
            "select extract(epoch from now() - %s::timestamptz)", (conversation.state_since,)
        )
        age_s = float(age.fetchone()[0])  # type: ignore[index]  # one row, always
        pending = (
            quote_flow.pending_for_customer(uow, conversation.customer_id) if conversation.customer_id else []
        )
        upcoming = (
            scheduling_db.upcoming_for_customer(uow.conn, conversation.customer_id, now=now)
            if conversation.customer_id
            else []
        )
        if conversation.state == "awaiting_slot" and age_s <= _SLOT_TIMEOUT_S:
            offered = [datetime.fromisoformat(x) for x in (conversation.booking or {}).get("offer", [])]
            choice = router.slot_choice(text, len(offered))
            if choice is not None:
                return self._take_slot(uow, conversation, offered[choice - 1], values)
        if upcoming and conversation.state not in ("waiting_staff", "with_staff"):
            said = router.appointment_reply(text)
            if said is not None:
                return self._appointment_reply(uow, conversation, upcoming, said, values)
        turn = router.next_turn(
            conversation.state,  # type: ignore[arg-type]  # the table's check constraint: the same five
            text,
            menu_shown=conversation.menu_shown,
            quote_pending=bool(pending),
            state_age_s=age_s,
        )
        render = _renderer(templates)
        if turn.intent in ("approve", "reject") and pending:
            return self._decide_quote(
                uow, conversation, pending, approve=turn.intent == "approve", after=after
            )
        if turn.intent == "opt_out":
            last_in = uow.conn.execute(
                "select id from wa_messages where conversation_id = %s and direction = 'in' "
                "order by created_at desc limit 1",
                (conversation.id,),
            ).fetchone()
            wa_db.update_conversation(
                uow.conn,
                conversation.id,
                opted_out_at=now,
                opt_out_message_id=last_in[0] if last_in else None,
                state="bot",
            )
            uow.audit("opt_out", "conversation", conversation.id)
            return [render("opt_out", values)]
        if turn.reply_key is None:
            return []  # staff have this conversation: the bot stays silent
        open_now = shop is None or router.is_open(shop.business_hours, shop.timezone, now)
        if turn.reply_key == "quote_unclear":
            # A quote waits for this customer and the answer is neither yes nor no: a person
            return self._to_person(uow, conversation, render, values, "quote_unclear", open_now, shop)
        match turn.intent:
            case "price":
                return self._price(uow, conversation, text, render, values, open_now, shop)
            case "order_status":
                return self._orders(uow, conversation, text, render, values)
            case "parts":
                return self._parts(uow, conversation, text, render, values)
            case "book":
                offer = self._offer(uow, conversation, values, moving=None)
                if offer is not None:
                    return offer
                return self._to_person(uow, conversation, render, values, "book", open_now, shop)
            case "human":
                return self._to_person(uow, conversation, render, values, turn.reply_key, open_now, shop)
            case "unknown" if conversation.unknown_count >= 1 and conversation.state == "bot":
                # The second message in a row the bot cannot place goes to a person.
                return self._to_person(uow, conversation, render, values, "handoff", open_now, shop)
            case "unknown":
                wa_db.update_conversation(
                    uow.conn,
                    conversation.id,
                    unknown_count=conversation.unknown_count + 1,
                    menu_shown=True,
                    state="bot",
                )
                return [render("menu", values)]
            case _:
                wa_db.update_conversation(
                    uow.conn, conversation.id, menu_shown=True, unknown_count=0, state="bot"
                )
                return [render("menu", values)]

    # --- appointments (issue 12) ----------------------------------------------------------------
    def _offer(
        self,
        uow: UnitOfWork,
        conversation: wa_db.ConversationRow,
        values: dict[str, str],
        *,
        moving: Any,
        taken: bool = False,
    ) -> list[str] | None:
        """Offer the next free drop-off slots (numbered); None when the bot cannot book for this
        customer (unknown number, or the shop takes no drop-offs): a person arranges it."""
        if conversation.customer_id is None:
            return None
        kind = moving.type if moving is not None else "drop_off"
        shop = scheduling_rules.load(uow)
        if not shop.types[kind].enabled:
            return None
        now = self._clock()
        found = availability.offer(
            uow,
            type_=kind,
            start=now,
            end=now + timedelta(days=min(shop.horizon_days, 14)),
            now=now,
            exclude=moving.id if moving is not None else None,
        )
        picks = scheduling.pick_offer(found.slots, limit=5, per_day=2)
        render = _renderer(wa_db.get_settings(uow.conn).templates)
        if not picks:
            self._handoff(uow, conversation)
            return [render("book_none", values)]
        booking = {
            "offer": [p.start.isoformat() for p in picks],
            "type": kind,
            "moving": str(moving.id) if moving is not None else None,
        }
        wa_db.update_conversation(
            uow.conn, conversation.id, state="awaiting_slot", booking=_jsonb(booking), unknown_count=0
        )
        lines = router.slot_lines([p.start for p in picks], found.timezone)
        key = "book_taken" if taken else "book_offer"
        return [render(key, {**values, "TIPO": _TYPE_TEXT[kind], "HORARIOS": lines})]

    def _take_slot(
        self, uow: UnitOfWork, conversation: wa_db.ConversationRow, start: datetime, values: dict[str, str]
    ) -> list[str]:
        booking = conversation.booking or {}
        kind = str(booking.get("type") or "drop_off")
        moving_id = booking.get("moving")
        shop = scheduling_rules.load(uow)
        rules = Appointments(self._clock)
        moving = scheduling_db.get_appointment(uow.conn, UUID(moving_id), lock=True) if moving_id else None
        assert conversation.customer_id is not None
        try:
            with uow.conn.transaction():  # a savepoint: a refused booking leaves the rest as it was
                if moving is not None:
                    row = rules.move(uow, shop, moving, start, via="whatsapp")
                else:
                    row = rules.book(
                        uow,
                        shop,
                        type_=kind,
                        starts_at=start,
                        customer_id=conversation.customer_id,
                        source="whatsapp",
                    )
        except AppError:
            # Taken meanwhile (or no longer bookable): the slots free now
            offer = self._offer(uow, conversation, values, moving=moving, taken=True)
            return offer or []
        wa_db.update_conversation(uow.conn, conversation.id, state="bot", booking=None, menu_shown=False)
        render = _renderer(wa_db.get_settings(uow.conn).templates)
        base = self._link_base()
        return [
            render(
                "book_moved" if moving is not None else "book_done",
                {
                    **values,
                    "TIPO": _TYPE_TEXT[row.type].capitalize(),
                    "QUANDO": router.when_text(row.starts_at, shop.timezone),
                    "LINK": f"{base}/public/appointments/{row.public_token}" if base else "",
                },
            )
        ]

    def _appointment_reply(
        self,
        uow: UnitOfWork,
        conversation: wa_db.ConversationRow,
        upcoming: list[scheduling_db.AppointmentRow],
        said: str,
        values: dict[str, str],
    ) -> list[str]:
        """ "confirmo"/"cancelar"/"remarcar" act on the customer's next appointment."""
        render = _renderer(wa_db.get_settings(uow.conn).templates)
        if len(upcoming) > 1 and said != "confirm":
            self._handoff(uow, conversation)
            return [render("handoff", values)]
        target = scheduling_db.get_appointment(uow.conn, upcoming[0].id, lock=True)
        assert target is not None
        shop = scheduling_rules.load(uow)
        when = router.when_text(target.starts_at, shop.timezone)
        rules = Appointments(self._clock)
        if said == "move":
            return self._offer(uow, conversation, values, moving=target) or []
        try:
            with uow.conn.transaction():
                if said == "confirm":
                    rules.confirm(uow, target, via="whatsapp")
                else:
                    rules.cancel(uow, target, via="whatsapp")
        except AppError:
            self._handoff(uow, conversation)
            return [render("handoff", values)]
        wa_db.update_conversation(uow.conn, conversation.id, state="bot", booking=None, unknown_count=0)
        key = "appointment_confirmed" if said == "confirm" else "appointment_cancelled"
        return [render(key, {**values, "QUANDO": when})]

    # --- intents -------------------------------------------------------------------------------
    def _decide_quote(
        self,
        uow: UnitOfWork,
        conversation: wa_db.ConversationRow,
        pending: list[tuple[Any, str]],
        *,
        approve: bool,
        after: list[Callable[[], None]],
    ) -> list[str]:
        """The customer answered the quote on WhatsApp: decided as on the link (parts reserved, the
        order moved), their message kept as the evidence; the flow tells them what comes next."""
        render = _renderer(wa_db.get_settings(uow.conn).templates)
        values = {"LOJA": outgoing.shop_name(uow, "a loja"), "OS": pending[0][1]}
        if len(pending) > 1:
            # Two quotes wait: which one "sim" means is for a person to ask
            self._handoff(uow, conversation)
            return [render("quote_unclear", values)]
        quote_id = pending[0][0]
        quote = quotes_db.get_quote(uow.conn, quote_id, lock=True)
        assert quote is not None
        customer = (
            customers_db.get_customer(uow.conn, conversation.customer_id)
            if conversation.customer_id
            else None
        )
        name = customer.name if customer else (conversation.push_name or "Cliente")
        last_in = uow.conn.execute(
            "select id from wa_messages where conversation_id = %s and direction = 'in' "
            "order by created_at desc limit 1",
            (conversation.id,),
        ).fetchone()
        try:
            with uow.conn.transaction():  # a savepoint: a refused decision leaves the rest as it was
                quote_decisions.decide(
                    uow,
                    quote,
                    approve=approve,
                    name=name,
                    via="whatsapp",
                    label=f"Cliente: {name} (WhatsApp)",
                )
        except AppError:
            # Decided meanwhile, expired, or its order moved on: a person sorts it out
            self._handoff(uow, conversation)
            return [render("quote_unclear", values)]
        uow.conn.execute(
            "update quote_flows set decision_message_id = %s where quote_id = %s",
            (last_in[0] if last_in else None, quote_id),
        )
        wa_db.update_conversation(uow.conn, conversation.id, state="bot", unknown_count=0, menu_shown=False)
        token = quote_flow.take_token(uow, quote_id)
        decision = {"decision": "approve" if approve else "reject"}
        resume = self._resume
        if token and resume is not None:
            after.append(lambda: quote_flow.hand_back(resume, [token], decision))
        return []  # the flow's next step tells the customer (the same message as for the link)

    def _price(
        self,
        uow: UnitOfWork,
        conversation: wa_db.ConversationRow,
        text: str,
        render: Callable[[str, dict[str, str]], str],
        values: dict[str, str],
        open_now: bool,
        shop: Any,
    ) -> list[str]:
        rules = [
            router.PriceRuleView(
                id=str(r.id),
                service=r.service,
                device_type=r.device_type,
                brand=r.brand,
                model=r.model,
                price_cents=r.price_cents,
            )
            for r in quotes_db.list_rules(uow.conn)
        ]
        if conversation.state == "awaiting_device":
            # The answer to "which device?" is read with the question that led to it.
            rows = uow.conn.execute(
                "select body from wa_messages where conversation_id = %s and direction = 'in' "
                "and body is not null "
                "and created_at >= %s - interval '10 minutes' order by created_at desc limit 6",
                (conversation.id, conversation.state_since),
            ).fetchall()
            text = router.merge_burst([str(r[0]) for r in reversed(rows)]) or text
        match = router.match_price(text, rules)
        if match.rule is not None:
            rule = match.rule
            discount_text = ""
            price = rule.price_cents
            if conversation.customer_id is not None:
                customer = customers_db.get_customer(uow.conn, conversation.customer_id)
                best = (
                    quotes_db.best_discount(uow.conn, customer_since=customer.created_at)
                    if customer
                    else None
                )
                if best is not None:
                    discount = quote_rules.discount_cents(price, best.percent)
                    if discount:
                        price -= discount
                        discount_text = f"já com {best.name} (-{quote_rules.brl(discount)})"
            device = " ".join(p for p in (rule.brand, rule.model) if p) or _DEVICE_TYPES.get(
                rule.device_type, ""
            )
            wa_db.update_conversation(
                uow.conn, conversation.id, state="bot", unknown_count=0, menu_shown=False
            )
            return [
                render(
                    "price",
                    {
                        **values,
                        "SERVICO": rule.service,
                        "APARELHO": device,
                        "VALOR": quote_rules.brl(price),
                        "DESCONTO": discount_text,
                    },
                )
            ]
        # The device named but no service of the shop's fits what was said ("a bateria do galaxy
        # s20" with no battery rule): a person prices it rather than asking again.
        if match.missing and match.missing != ("problem",) and conversation.state != "awaiting_device":
            key = {
                ("device",): "ask_device",
                ("problem",): "ask_problem",
                ("device", "problem"): "ask_device_and_problem",
            }.get(tuple(match.missing), "ask_device_and_problem")
            wa_db.update_conversation(uow.conn, conversation.id, state="awaiting_device", unknown_count=0)
            return [render(key, values)]
        if match.candidates and conversation.state != "awaiting_device":
            wa_db.update_conversation(uow.conn, conversation.id, state="awaiting_device", unknown_count=0)
            return [render("ask_device", values)]
        # No rule fits (or still not after asking): a person prices it; never an invented price.
        return self._to_person(uow, conversation, render, values, "price_unknown", open_now, shop)

    def _orders(
        self,
        uow: UnitOfWork,
        conversation: wa_db.ConversationRow,
        text: str,
        render: Callable[[str, dict[str, str]], str],
        values: dict[str, str],
    ) -> list[str]:
        wa_db.update_conversation(uow.conn, conversation.id, state="bot", unknown_count=0, menu_shown=False)
        if conversation.customer_id is None:
            return [render("no_orders", values)]
        wanted = set(router.order_numbers(text))
        orders = orders_db.list_orders(uow.conn, limit=50, before=None, customer_id=conversation.customer_id)
        if wanted:
            # Only this customer's orders can match: another customer's number finds nothing.
            chosen = [o for o in orders if o.number in wanted]
        else:
            chosen = [o for o in orders if o.status in order_rules.OPEN]
        if not chosen:
            return [render("no_orders", values)]
        devices = _devices(uow, [o.device_id for o in chosen[:_MAX_ORDERS]])
        base = self._link_base()
        lines = router.order_lines(
            [
                (
                    o.number,
                    o.status,
                    devices.get(o.device_id, "aparelho"),
                    f"{base}/public/orders/{o.tracking_token}" if base else None,
                )
                for o in chosen[:_MAX_ORDERS]
            ]
        )
        return [render("orders", {**values, "PEDIDOS": lines})]

    def _parts(
        self,
        uow: UnitOfWork,
        conversation: wa_db.ConversationRow,
        text: str,
        render: Callable[[str, dict[str, str]], str],
        values: dict[str, str],
    ) -> list[str]:
        query = router.part_query(text)
        if query is None:
            wa_db.update_conversation(uow.conn, conversation.id, state="awaiting_part", unknown_count=0)
            return [render("ask_part", values)]
        wa_db.update_conversation(uow.conn, conversation.id, state="bot", unknown_count=0, menu_shown=False)
        available = [p for p in stock_db.search(uow.conn, query, limit=20) if p.quantity - p.reserved > 0]
        if not available:
            return [render("no_parts", values)]
        # Never quantities nor costs: what is available and its price.
        lines = "\n".join(
            f"- {' '.join(x for x in (p.name, p.brand, p.model) if x)}: {quote_rules.brl(p.price_cents)}"
            for p in available[:_MAX_PARTS]
        )
        return [render("parts", {**values, "PECAS": lines})]

    def _to_person(
        self,
        uow: UnitOfWork,
        conversation: wa_db.ConversationRow,
        render: Callable[[str, dict[str, str]], str],
        values: dict[str, str],
        key: str,
        open_now: bool,
        shop: Any,
    ) -> list[str]:
        self._handoff(uow, conversation)
        if not open_now and shop is not None and shop.out_of_hours_message:
            return [shop.out_of_hours_message]
        return [render(key, values)]

    @staticmethod
    def _handoff(uow: UnitOfWork, conversation: wa_db.ConversationRow) -> None:
        wa_db.update_conversation(uow.conn, conversation.id, state="waiting_staff", unknown_count=0)
        uow.emit("ConversationWaitingForStaff", {"conversation_id": str(conversation.id)})


def _renderer(overrides: dict[str, str]) -> Callable[[str, dict[str, str]], str]:
    def render(key: str, values: dict[str, str]) -> str:
        return router.render_template(key, overrides, values)

    return render


def _jsonb(value: dict[str, Any]) -> Any:
    from psycopg.types.json import Jsonb

    return Jsonb(value)


def _devices(uow: UnitOfWork, ids: list[Any]) -> dict[Any, str]:
    rows = uow.conn.execute("select id, brand, model from devices where id = any(%s)", (ids,)).fetchall()
    return {r[0]: " ".join(x for x in (r[1], r[2]) if x) or "aparelho" for r in rows}
