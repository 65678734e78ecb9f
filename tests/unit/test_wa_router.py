"""The WhatsApp bot's pure rules: intents in pt-BR (accents, case, typos), order numbers, price rules,
opening hours, the shop's templates and the conversation's next turn."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistec.domain.orders import Status
from assistec.domain.quotes import brl
from assistec.domain.wa_router import (
    DEFAULT_TEMPLATES,
    STATUS_TEXT,
    TEMPLATE_KEYS,
    TEMPLATE_PLACEHOLDERS,
    PriceRuleView,
    classify,
    is_open,
    match_price,
    merge_burst,
    next_turn,
    normalize,
    order_lines,
    order_numbers,
    part_query,
    render_template,
    validate_template,
)

SP = ZoneInfo("America/Sao_Paulo")

IPHONE_11 = PriceRuleView("r1", "Troca de tela", "phone", "Apple", "iPhone 11", 45000)
IPHONE_11_PRO = PriceRuleView("r2", "Troca de tela", "phone", "Apple", "iPhone 11 Pro", 65000)
APPLE_BATTERY = PriceRuleView("r3", "Troca de bateria", "phone", "Apple", None, 25000)
ANY_PHONE_SCREEN = PriceRuleView("r4", "Troca de tela", "phone", None, None, 30000)
RULES = [IPHONE_11, IPHONE_11_PRO, APPLE_BATTERY, ANY_PHONE_SCREEN]

WORDS = [
    "oi", "quanto", "custa", "tela", "bateria", "iphone", "11", "pro", "galaxy", "s20", "troca", "de", "do",
    "samsung", "placa", "os", "1234", "sim", "não", "parar", "atendente", "peça", "agendar", "?", "!", "é",
]  # fmt: skip
texts = st.lists(st.sampled_from(WORDS), max_size=8).map(" ".join)


# --- normalize ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("Orçamento!!", "orcamento"),
        ("  Olá,   TUDO bem? ", "ola tudo bem"),
        ("iPhone 11 \u2013 tela", "iphone 11 tela"),
        ("ordem nº 12", "ordem no 12"),
        ("1️⃣", "1"),
        ("AÇÃO_já", "acao ja"),
        ("", ""),
    ],
)
def test_normalize_drops_case_accents_and_punctuation(raw: str, normal: str) -> None:
    assert normalize(raw) == normal


@given(st.text(max_size=60))
def test_normalize_is_idempotent_and_tidy(raw: str) -> None:
    normal = normalize(raw)
    assert normalize(normal) == normal
    assert "  " not in normal
    assert normal == normal.strip()


# --- classify -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    ["orçamento", "ORCAMENTO", "orcamneto", "Qual o preço?", "quanto custa a tela", "quanto é o conserto"],
)
def test_price_questions_read_through_accents_case_and_typos(text: str) -> None:
    assert classify(text, menu_shown=False) == "price"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("status do meu pedido", "order_status"),
        ("Minha OS já está pronta?", "order_status"),
        ("e a OS 1234?", "order_status"),
        ("#1234", "order_status"),
        ("como está o andamento", "order_status"),
        ("já ficou pronto?", "order_status"),
        ("Vocês têm tela de iPhone 11?", "parts"),
        ("tem peça pro moto g8 em estoque", "parts"),
        ("quero agendar", "book"),
        ("posso marcar um horário?", "book"),
        ("quero falar com um atendente", "human"),
        ("falar com alguém", "human"),
        ("ATENDENTE", "human"),
        ("oi", "menu"),
        ("Olá!", "menu"),
        ("Boa noite!!", "menu"),
        ("menu", "menu"),
        ("asdf", "unknown"),
        ("kkkk", "unknown"),
        ("", "unknown"),
    ],
)
def test_keywords_pick_the_intent(text: str, intent: str) -> None:
    assert classify(text, menu_shown=False) == intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("qual a marca?", "unknown"),  # "marca" is a word, not a typo of "marcar"
        ("quando fica pronto?", "order_status"),  # "quando" is not "quanto"
        ("pagamento à vista", "unknown"),  # "vista" is not "visita"
        ("oi pessoal", "menu"),  # "pessoal" is not "pessoa"
        ("botão preso", "unknown"),  # "preso" is not "preço"
    ],
)
def test_real_words_are_not_read_as_typos_of_keywords(text: str, intent: str) -> None:
    assert classify(text, menu_shown=False) == intent


@pytest.mark.parametrize(
    "text",
    ["PARAR", "Sair", "sair.", "parar de receber", "descadastrar", "stop", "Parar, por favor", "pf sair"],
)
def test_opt_out_phrases_stop_the_bot(text: str) -> None:
    assert classify(text, menu_shown=True, quote_pending=True) == "opt_out"


@pytest.mark.parametrize(
    "text",
    [
        "quando sai meu celular",
        "vou sair mais cedo, quanto custa a tela?",
        "meu celular parou de carregar",
        "não consigo sair do app",
    ],
)
def test_opt_out_needs_the_whole_message(text: str) -> None:
    assert classify(text, menu_shown=False) != "opt_out"


@pytest.mark.parametrize(
    "text", ["1", "sim", "Sim!", "aprovo", "Aprovado", "pode fazer", "ok, pode fazer", "sim por favor"]
)
def test_a_pending_quote_is_approved(text: str) -> None:
    assert classify(text, menu_shown=True, quote_pending=True) == "approve"


@pytest.mark.parametrize("text", ["2", "não", "NÃO", "nao", "recuso", "não quero", "não, obrigado"])
def test_a_pending_quote_is_rejected(text: str) -> None:
    assert classify(text, menu_shown=True, quote_pending=True) == "reject"


def test_quote_answers_need_a_pending_quote_and_the_whole_message() -> None:
    # Given no quote waits, "sim" means nothing and "1" is the menu's first item
    assert classify("sim", menu_shown=False) == "unknown"
    assert classify("1", menu_shown=True) == "price"
    # Given a quote waits, a "não" inside a question is no rejection
    assert classify("não sei quanto custa", menu_shown=False, quote_pending=True) == "price"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("1", "price"),
        ("2", "order_status"),
        ("3", "parts"),
        ("4", "book"),
        ("5", "human"),
        ("1.", "price"),
        ("2)", "order_status"),
        ("opção 3", "parts"),
        ("Opcao 4", "book"),
        ("5️⃣", "human"),
    ],
)
def test_menu_numbers_pick_the_menu_item(text: str, intent: str) -> None:
    assert classify(text, menu_shown=True) == intent


@pytest.mark.parametrize("text", ["1", "opção 3", "6", "0"])
def test_bare_numbers_mean_nothing_without_the_menu(text: str) -> None:
    assert classify(text, menu_shown=False) == "unknown"
    assert classify("6", menu_shown=True) == "unknown"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("bom dia, quero falar com um atendente sobre a OS 1234", "human"),
        ("quanto ficou o orçamento da OS 1234?", "order_status"),
        ("quanto custa a peça da tela?", "price"),
        ("quero agendar a troca de tela, quanto custa?", "price"),
        ("bom dia! quanto custa a tela?", "price"),
    ],
)
def test_intent_precedence(text: str, intent: str) -> None:
    assert classify(text, menu_shown=False) == intent


@given(texts, st.booleans(), st.booleans())
def test_classify_always_answers_an_intent(text: str, menu_shown: bool, quote_pending: bool) -> None:
    intent = classify(text, menu_shown=menu_shown, quote_pending=quote_pending)
    assert intent in {
        "menu", "price", "order_status", "parts", "book", "human", "opt_out", "approve", "reject", "unknown",
    }  # fmt: skip
    if not quote_pending:
        assert intent not in {"approve", "reject"}


# --- order numbers ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "OS 1234",
        "os: 1234",
        "O.S. 1234",
        "o.s.1234",
        "ordem 1234",
        "ordem de serviço nº 1234",
        "Ordem de Servico numero 1234",
        "#1234",
        "OS1234",
        "a os 1.234 já está pronta?",
    ],
)
def test_order_numbers_follow_a_marker(text: str) -> None:
    assert order_numbers(text) == [1234]


@pytest.mark.parametrize(
    "text",
    [
        "iphone 11",
        "+55 11 98765-4321",
        "meu número é 11987654321",
        "quero consertar os 2 celulares",  # "os" the article
        "todos 3",
        "OS 99999999999",  # beyond an order number's range
        "OS 0",
    ],
)
def test_numbers_without_a_marker_are_not_orders(text: str) -> None:
    assert order_numbers(text) == []


def test_order_numbers_are_deduplicated_in_order_and_capped() -> None:
    assert order_numbers("OS 7, #3 e a OS 7 de novo") == [7, 3]
    assert order_numbers(" ".join(f"#{n}" for n in range(1, 9))) == [1, 2, 3, 4, 5]


@given(st.text(alphabet="0123456789 +-()", max_size=40))
def test_phone_like_text_never_names_an_order(text: str) -> None:
    assert order_numbers(text) == []


# --- price rules --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("quanto custa trocar a tela do iphone 11", IPHONE_11),
        ("Quanto custa a troca da tela do iPhone11?", IPHONE_11),
        ("tela do iphone 11 pro", IPHONE_11_PRO),
        ("bateria do iphone 8", APPLE_BATTERY),
        ("trocar baterias iphone x", APPLE_BATTERY),
        ("bateira do iphone 8", APPLE_BATTERY),  # a typo in the service
        ("tela quebrada do moto g8", ANY_PHONE_SCREEN),  # a device with no rule of its own
        ("tela do iphone 11 pro max", ANY_PHONE_SCREEN),  # no Pro Max rule: never the Pro's price
    ],
)
def test_the_most_specific_matching_rule_answers(text: str, rule: PriceRuleView) -> None:
    match = match_price(text, RULES)
    assert (match.rule, match.missing, match.candidates) == (rule, (), ())


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        ("quanto custa?", ("device", "problem")),
        ("conserto de placa do galaxy s20", ("problem",)),
        ("meu iphone 11 está com defeito", ("problem",)),
        # The shop prices iPhone screens apart: "troca de tela" alone asks which device
        ("troca de tela", ("device",)),
        ("tela quebrada do celular", ("device",)),
        ("bateria", ("device",)),
    ],
)
def test_what_to_ask_when_no_rule_can_be_chosen(text: str, missing: tuple[str, ...]) -> None:
    match = match_price(text, RULES)
    assert (match.rule, match.missing) == (None, missing)


def test_a_generic_rule_alone_answers_without_asking_the_device() -> None:
    # Given the shop prices screens only generically
    match = match_price("troca de tela", [APPLE_BATTERY, ANY_PHONE_SCREEN])
    assert match.rule == ANY_PHONE_SCREEN


def test_a_device_without_any_rule_gets_no_price() -> None:
    # Given battery prices for Apple only, a Samsung battery is priced by a person
    match = match_price("bateria do galaxy s20", RULES)
    assert (match.rule, match.missing, match.candidates) == (None, (), ())


def test_model_numbers_match_whole_words() -> None:
    iphone_1 = PriceRuleView("x", "Troca de tela", "phone", "Apple", "iPhone 1", 10000)
    assert match_price("tela do iphone 11", [iphone_1]).rule is None
    assert match_price("tela do iphone 1", [iphone_1]).rule == iphone_1


def test_brand_aliases_and_model_without_its_line_name() -> None:
    samsung = PriceRuleView("s", "Troca de bateria", "phone", "Samsung", None, 20000)
    s20 = PriceRuleView("s20", "Troca de tela", "phone", "Samsung", "Galaxy S20", 80000)
    redmi = PriceRuleView("x", "Troca de conector", "phone", "Xiaomi", None, 15000)
    assert match_price("bateria do galaxy a52", [samsung]).rule == samsung
    assert match_price("tela do samsung s20", [s20]).rule == s20
    assert match_price("conector do redmi note 8", [redmi]).rule == redmi


def test_the_device_type_picks_the_generic_rule() -> None:
    phone = ANY_PHONE_SCREEN
    notebook = PriceRuleView("n", "Troca de tela", "computer", None, None, 90000)
    assert match_price("tela do notebook", [phone, notebook]).rule == notebook
    assert match_price("tela do celular", [phone, notebook]).rule == phone


def test_equally_good_rules_are_ambiguous() -> None:
    # Given generic screen prices for phones and tablets, "troca de tela" could be either
    tablet = PriceRuleView("t", "Troca de tela", "tablet", None, None, 50000)
    match = match_price("troca de tela", [ANY_PHONE_SCREEN, tablet])
    assert (match.rule, match.missing, match.candidates) == (None, ("device",), (ANY_PHONE_SCREEN, tablet))


def test_the_best_fitting_service_wins() -> None:
    rear = PriceRuleView("r", "Troca de câmera traseira", "phone", None, None, 20000)
    front = PriceRuleView("f", "Troca de câmera frontal", "phone", None, None, 15000)
    assert match_price("câmera frontal quebrou", [rear, front]).rule == front
    assert match_price("a camera traseira não foca", [rear, front]).rule == rear


def test_candidates_are_capped() -> None:
    rules = [PriceRuleView(str(n), f"Troca de tela {n}", "phone", None, None, 100) for n in range(8)]
    assert len(match_price("tela", rules).candidates) == 5


@given(texts)
def test_a_price_always_comes_from_the_shops_rules(text: str) -> None:
    match = match_price(text, RULES)
    assert match.rule is None or match.rule in RULES
    assert set(match.candidates) <= set(RULES)
    if match.rule is not None:
        assert (match.missing, match.candidates) == ((), ())
    assert match.missing in {(), ("device",), ("problem",), ("device", "problem")}


# --- opening hours ------------------------------------------------------------------------------
HOURS = {
    "mon": [["08:00", "12:00"], ["13:00", "18:00"]],
    "tue": [["08:00", "18:00"]],
    "wed": [["08:00", "18:00"]],
    "thu": [["08:00", "18:00"]],
    "fri": [["00:00", "24:00"]],
    "sat": [["09:00", "13:00"]],
    "sun": [],
}


def _sp(day: int, hour: int, minute: int = 0, month: int = 6) -> datetime:
    # June 2025: the 2nd is a Monday
    return datetime(2025, month, day, hour, minute, tzinfo=SP)


@pytest.mark.parametrize(
    ("now", "open_"),
    [
        (_sp(2, 8), True),  # start inclusive
        (_sp(2, 7, 59), False),
        (_sp(2, 11, 59), True),
        (_sp(2, 12), False),  # end exclusive: the lunch break
        (_sp(2, 13), True),
        (_sp(2, 18), False),
        (_sp(6, 23, 59), True),  # Friday until 24:00
        (_sp(6, 0), True),
        (_sp(7, 12, 59), True),
        (_sp(7, 13), False),
        (_sp(8, 10), False),  # Sunday closed
    ],
)
def test_is_open_in_the_shops_intervals(now: datetime, open_: bool) -> None:
    assert is_open(HOURS, "America/Sao_Paulo", now) is open_


def test_is_open_converts_to_the_shops_time_zone() -> None:
    # São Paulo keeps UTC-3 all year (no daylight saving since 2019), in January as in June
    assert is_open(HOURS, "America/Sao_Paulo", datetime(2025, 6, 3, 11, 0, tzinfo=UTC))  # Tue 08:00
    assert not is_open(HOURS, "America/Sao_Paulo", datetime(2025, 6, 3, 10, 59, tzinfo=UTC))
    assert is_open(HOURS, "America/Sao_Paulo", datetime(2025, 1, 14, 11, 0, tzinfo=UTC))  # Tue 08:00
    assert not is_open(HOURS, "America/Sao_Paulo", datetime(2025, 1, 14, 10, 59, tzinfo=UTC))
    # Monday 01:00 UTC is still Sunday 22:00 in São Paulo
    monday_utc = datetime(2025, 6, 2, 1, tzinfo=UTC)
    assert not is_open({"mon": [["00:00", "24:00"]]}, "America/Sao_Paulo", monday_utc)


def test_a_missing_day_or_a_malformed_interval_is_closed() -> None:
    monday = _sp(2, 10)
    assert not is_open({"tue": [["08:00", "18:00"]]}, "America/Sao_Paulo", monday)
    assert not is_open({"mon": [["8h", "18h"], ["08:00"]]}, "America/Sao_Paulo", monday)


def test_is_open_refuses_a_naive_now() -> None:
    with pytest.raises(ValueError, match="aware"):
        is_open(HOURS, "America/Sao_Paulo", datetime(2025, 6, 2, 10))  # noqa: DTZ001


# --- bursts -------------------------------------------------------------------------------------
def test_a_burst_becomes_one_text() -> None:
    assert merge_burst(["oi", "  ", "", "quanto custa a tela?", " do iphone 11 "]) == (
        "oi\nquanto custa a tela?\ndo iphone 11"
    )
    assert merge_burst([]) == ""


@given(st.lists(st.text(max_size=700), max_size=6))
def test_a_burst_is_at_most_2000_characters(texts_: list[str]) -> None:
    assert len(merge_burst(texts_)) <= 2000


# --- parts --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("Vocês têm tela do iPhone 11?", "tela iphone 11"),
        ("bom dia, tem bateria pro moto g8 em estoque?", "bateria moto g8"),
        ("conector de carga samsung a52", "conector carga samsung a52"),
        ("tem peça?", None),
        ("vcs tem peças em estoque? obrigado", None),
    ],
)
def test_part_query_keeps_what_to_search(text: str, query: str | None) -> None:
    assert part_query(text) == query


# --- templates ----------------------------------------------------------------------------------
REQUIRED_KEYS = {
    "menu", "out_of_hours", "ask_device", "ask_problem", "ask_device_and_problem", "price", "price_unknown",
    "orders", "no_orders", "parts", "no_parts", "ask_part", "handoff", "book", "opt_out", "quote_approved",
    "quote_rejected", "quote_unclear",
}  # fmt: skip


def test_every_key_has_a_valid_pt_br_default() -> None:
    assert set(TEMPLATE_KEYS) == set(DEFAULT_TEMPLATES) == set(TEMPLATE_PLACEHOLDERS) >= REQUIRED_KEYS
    for key in TEMPLATE_KEYS:
        assert validate_template(key, DEFAULT_TEMPLATES[key]) == [], key
    assert {"SERVICO", "APARELHO", "VALOR", "DESCONTO", "LOJA"} <= TEMPLATE_PLACEHOLDERS["price"]
    assert "{{PEDIDOS}}" in DEFAULT_TEMPLATES["orders"]
    assert "{{PECAS}}" in DEFAULT_TEMPLATES["parts"]


def test_the_menu_lists_five_numbered_options() -> None:
    menu = render_template("menu", {}, {"LOJA": "Conserta Já"})
    assert "Conserta Já" in menu
    for n in range(1, 6):
        assert f"\n{n}. " in menu


def test_the_price_reply_shows_the_money_and_drops_an_empty_discount() -> None:
    values = {"SERVICO": "Troca de tela", "APARELHO": "iPhone 11", "VALOR": brl(45000), "LOJA": "Loja"}
    text = render_template("price", {}, {**values, "DESCONTO": ""})
    assert "Troca de tela (iPhone 11): *R$ 450,00*" in text
    assert "\n\n" not in text
    with_discount = render_template("price", {}, {**values, "DESCONTO": f"Com desconto: {brl(40500)}"})
    assert "Com desconto: R$ 405,00" in with_discount


def test_the_shops_override_wins_and_a_blank_one_falls_back() -> None:
    overrides = {"handoff": "Já chamo alguém da {{LOJA}}!", "book": "   "}
    assert render_template("handoff", overrides, {"LOJA": "Cell Fix"}) == "Já chamo alguém da Cell Fix!"
    assert render_template("book", overrides, {}) == DEFAULT_TEMPLATES["book"]


def test_placeholders_never_leak_to_the_customer() -> None:
    overrides = {"handoff": "Oi {{LOJA}}, {{ LOJA }}, {{PEDIDOS}} {{x}} {{LOJA", "orders": "{{PEDIDOS}}\nfim"}
    # Given no value, a placeholder not allowed for the key, a malformed one and a value with braces
    text = render_template("handoff", overrides, {"LOJA": "{{VALOR}}", "PEDIDOS": "secret"})
    assert "{{" not in text
    assert "}}" not in text
    assert "secret" not in text
    # A line left empty by a placeholder without value disappears
    assert render_template("orders", overrides, {}) == "fim"


@given(st.text(max_size=80), st.dictionaries(st.sampled_from(["LOJA", "VALOR", "X"]), st.text(max_size=20)))
def test_rendering_never_shows_braces_pairs(template: str, values: dict[str, str]) -> None:
    text = render_template("price", {"price": template}, values)
    assert "{{" not in text
    assert "}}" not in text


def test_render_refuses_an_unknown_key() -> None:
    with pytest.raises(KeyError):
        render_template("nope", {}, {})


@pytest.mark.parametrize(
    ("key", "text", "problem"),
    [
        ("nope", "Olá", "Mensagem desconhecida: nope."),
        ("menu", "   ", "A mensagem não pode ficar vazia."),
        ("menu", "x" * 1001, "A mensagem pode ter no máximo 1000 caracteres."),
        ("menu", "Olá {{VALOR}}", "Campo desconhecido: {{VALOR}}. Campos aceitos: {{LOJA}}."),
        ("menu", "Olá {{loja}}", "Campo desconhecido: {{loja}}. Campos aceitos: {{LOJA}}."),
        ("menu", "Olá {{LOJA}", "Há chaves {{ }} sem par."),
    ],
)
def test_validate_template_names_each_problem(key: str, text: str, problem: str) -> None:
    assert problem in validate_template(key, text)


def test_validate_template_accepts_the_keys_placeholders() -> None:
    assert validate_template("price", "{{SERVICO}} {{ APARELHO }} {{VALOR}} {{DESCONTO}} {{LOJA}}") == []
    assert validate_template("orders", "x" * 1000) == []


# --- order status -------------------------------------------------------------------------------
def test_every_order_status_reads_in_plain_portuguese() -> None:
    assert set(STATUS_TEXT) == {s.value for s in Status}
    assert STATUS_TEXT["received"] == "Recebido, aguardando avaliação"
    assert STATUS_TEXT["ready"] == "Pronto para retirada"


def test_order_lines() -> None:
    lines = order_lines([
        (1234, "ready", "iPhone 11", "https://x.example/t/abc"),
        (7, "repairing", "", None),
        (8, "from_the_future", "Moto G8", None),
    ])  # fmt: skip
    assert lines.split("\n") == [
        "OS 1234 – iPhone 11: Pronto para retirada – https://x.example/t/abc",  # noqa: RUF001
        "OS 7: Em reparo",
        "OS 8 – Moto G8: Em andamento",  # noqa: RUF001
    ]
    assert order_lines([]) == ""


# --- next turn ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "intent", "reply", "state", "handoff"),
    [
        ("oi", "menu", "menu", "bot", False),
        ("quanto custa a tela do iphone 11?", "price", "price", "bot", False),
        ("minha OS 1234", "order_status", "orders", "bot", False),
        ("tem tela do iphone 11 no estoque?", "parts", "parts", "bot", False),
        ("tem peça?", "parts", "ask_part", "awaiting_part", False),
        ("3", "parts", "ask_part", "awaiting_part", False),  # the menu's item, nothing to search yet
        ("quero agendar", "book", "book", "waiting_staff", True),
        ("atendente", "human", "handoff", "waiting_staff", True),
        ("blá blá", "unknown", "menu", "bot", False),
        ("parar", "opt_out", "opt_out", "bot", False),
    ],
)
def test_next_turn_from_the_bot(text: str, intent: str, reply: str, state: str, handoff: bool) -> None:
    turn = next_turn("bot", text, menu_shown=True, quote_pending=False, state_age_s=0)
    assert (turn.intent, turn.reply_key, turn.next_state, turn.handoff) == (intent, reply, state, handoff)


@pytest.mark.parametrize(
    ("text", "intent", "reply"), [("sim", "approve", "quote_approved"), ("não", "reject", "quote_rejected")]
)
def test_next_turn_records_a_quote_answer(text: str, intent: str, reply: str) -> None:
    turn = next_turn("bot", text, menu_shown=False, quote_pending=True, state_age_s=0)
    assert (turn.intent, turn.reply_key, turn.next_state, turn.handoff) == (intent, reply, "bot", False)


def test_an_unclear_message_with_a_quote_pending_goes_to_a_person() -> None:
    turn = next_turn("bot", "e quanto tempo demora?", menu_shown=False, quote_pending=True, state_age_s=0)
    assert (turn.reply_key, turn.next_state, turn.handoff) == ("quote_unclear", "waiting_staff", True)


@pytest.mark.parametrize("state", ["waiting_staff", "with_staff"])
def test_the_bot_stays_silent_while_a_person_has_the_chat(state: str) -> None:
    turn = next_turn(state, "quanto custa a tela?", menu_shown=True, quote_pending=False, state_age_s=60)
    assert (turn.intent, turn.reply_key, turn.next_state, turn.handoff) == ("price", None, state, False)


@pytest.mark.parametrize("state", ["waiting_staff", "with_staff", "awaiting_device", "awaiting_part", "bot"])
def test_opt_out_works_in_every_state(state: str) -> None:
    turn = next_turn(state, "SAIR", menu_shown=False, quote_pending=True, state_age_s=5)
    assert (turn.intent, turn.reply_key, turn.next_state) == ("opt_out", "opt_out", "bot")


def test_a_person_who_never_answered_gives_the_chat_back_to_the_bot() -> None:
    stale = timedelta(minutes=31).total_seconds()
    turn = next_turn("waiting_staff", "oi", menu_shown=False, quote_pending=False, state_age_s=stale)
    assert (turn.reply_key, turn.next_state) == ("menu", "bot")
    fresh = next_turn("waiting_staff", "oi", menu_shown=False, quote_pending=False, state_age_s=1800)
    assert fresh.reply_key is None


@pytest.mark.parametrize(
    ("text", "intent", "reply"),
    [
        ("iPhone 11", "price", "price"),
        ("bom dia, é um galaxy s20", "price", "price"),
        ("sei lá", "price", "price"),
        ("quero falar com um atendente", "human", "handoff"),
        ("minha OS 1234 ficou pronta?", "order_status", "orders"),
        ("oi", "menu", "menu"),
    ],
)
def test_after_asking_the_device_the_text_is_the_answer(text: str, intent: str, reply: str) -> None:
    turn = next_turn("awaiting_device", text, menu_shown=True, quote_pending=False, state_age_s=30)
    assert (turn.intent, turn.reply_key) == (intent, reply)


def test_an_old_question_about_the_device_is_forgotten() -> None:
    turn = next_turn("awaiting_device", "sei lá", menu_shown=False, quote_pending=False, state_age_s=4000)
    assert (turn.intent, turn.reply_key) == ("unknown", "menu")


@pytest.mark.parametrize(
    ("text", "reply", "state"),
    [
        ("tela do iphone 11", "parts", "bot"),
        ("bateria moto g8", "parts", "bot"),
        ("peça", "ask_part", "awaiting_part"),
    ],
)
def test_after_asking_the_part_the_text_is_the_part(text: str, reply: str, state: str) -> None:
    turn = next_turn("awaiting_part", text, menu_shown=False, quote_pending=False, state_age_s=30)
    assert (turn.intent, turn.reply_key, turn.next_state) == ("parts", reply, state)


@given(
    st.sampled_from(["bot", "awaiting_device", "awaiting_part", "waiting_staff", "with_staff"]),
    texts,
    st.booleans(),
    st.booleans(),
    st.floats(min_value=0, max_value=10_000),
)
def test_next_turn_replies_only_with_known_templates(
    state: str, text: str, menu_shown: bool, quote_pending: bool, age: float
) -> None:
    turn = next_turn(state, text, menu_shown=menu_shown, quote_pending=quote_pending, state_age_s=age)
    assert turn.reply_key is None or turn.reply_key in DEFAULT_TEMPLATES
    assert turn.handoff == (turn.next_state == "waiting_staff" and turn.reply_key is not None)
