"""The WhatsApp bot's rules, pure: what a customer's message means, which price rule answers it, whether
the shop is open, and what the bot says (the shop's templates over pt-BR defaults). No I/O.

The service persists the conversation and does the lookups; this module decides:

1. Merge a burst (``merge_burst``), then ``next_turn`` with the conversation's state.
2. ``Turn.reply_key`` ``None``: stay silent (a person has the conversation). ``handoff``: tell staff
   and persist ``next_state``.
3. ``"price"``: ``match_price`` over the question (after ``awaiting_device``: the question that was
   asked plus the answer). ``rule`` → ``"price"``; ``missing`` → ``"ask_device"``/``"ask_problem"``/
   ``"ask_device_and_problem"`` and state ``awaiting_device``; neither (no rule for the device named,
   or several equally good ones) → ``"price_unknown"`` and a handoff. Never a made-up price.
4. ``"orders"``: the customer's orders plus those ``order_numbers`` names, through ``order_lines``
   (``"no_orders"`` when none). ``"parts"``: search stock for ``part_query`` (``"no_parts"``).
5. An ``unknown`` intent gets the menu; the service counts them and hands the second in a row to a
   person (``"handoff"``). With a quote pending it goes to a person at once (``"quote_unclear"``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Literal
from zoneinfo import ZoneInfo

from assistec.domain.orders import Status

Intent = Literal[
    "menu", "price", "order_status", "parts", "book", "human", "opt_out", "approve", "reject", "unknown"
]
ConversationState = Literal[
    "bot", "awaiting_device", "awaiting_part", "waiting_staff", "with_staff", "awaiting_slot"
]

_INT4_MAX = 2_147_483_647
_BURST_MAX = 2000
_TEMPLATE_MAX = 1000
_MAX_ORDER_REFS = 5
_MAX_CANDIDATES = 5


# --- text ---------------------------------------------------------------------------------------
_NON_WORD = re.compile(r"[\W_]+")
_LETTER_DIGIT = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text).lower()
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalize(text: str) -> str:
    """Lowercase, accents removed, anything but letters and digits turned to spaces, spaces collapsed."""
    return " ".join(_NON_WORD.sub(" ", _fold(text)).split())


def _phrases(*texts: str) -> tuple[tuple[str, ...], ...]:
    # Longest first: removal is greedy
    return tuple(sorted((tuple(t.split()) for t in texts), key=len, reverse=True))


def _without(tokens: list[str], phrases: tuple[tuple[str, ...], ...]) -> list[str]:
    kept, i = [], 0
    while i < len(tokens):
        hit = next((p for p in phrases if tuple(tokens[i : i + len(p)]) == p), None)
        if hit:
            i += len(hit)
        else:
            kept.append(tokens[i])
            i += 1
    return kept


def _within_one(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance of at most 1 (one insertion, deletion, substitution or swap)."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        i, j = [*diff, 0, 0][:2]
        return len(diff) == 1 or (len(diff) == 2 and j == i + 1 and a[i] == b[j] and a[j] == b[i])
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long[i]:
        i += 1
    return short[i:] == long[i + 1 :]


# Real words one typo away from a keyword ("quando" is not "quanto", "marca" is not "marcar").
_NOT_TYPOS = frozenset({"quando", "marca", "marcas", "pessoal", "vista", "preso", "valer", "calor"})


def _like(token: str, word: str) -> bool:
    """Keyword equality with one typo allowed in words of five letters or more."""
    return token == word or (len(word) >= 5 and token not in _NOT_TYPOS and _within_one(token, word))


def _has(tokens: Sequence[str], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(all(_like(tokens[i + j], w) for j, w in enumerate(phrase)) for i in range(len(tokens) - n + 1))


# --- intents ------------------------------------------------------------------------------------
_COURTESY = _phrases(
    "por favor", "porfavor", "pf", "pfv", "pfvr", "obrigado", "obrigada", "obg", "valeu", "vlw"
)  # fmt: skip
_GREETINGS = _phrases(
    "oi", "oie", "ola", "opa", "bom dia", "boa tarde", "boa noite", "menu", "inicio", "e ai", "eai",
    "tudo bem", "td bem",
)  # fmt: skip
_FILLER = _phrases(*(" ".join(p) for p in _COURTESY + _GREETINGS))
_OPT_OUT = frozenset({
    "parar", "pare", "para", "sair", "quero sair", "stop", "descadastrar", "descadastre", "descadastro",
    "me descadastre", "me descadastra", "parar de receber", "parar de receber mensagens",
    "nao quero receber mensagens", "nao quero mais receber mensagens", "sair da lista",
    "me tira da lista", "me tire da lista",
})  # fmt: skip
_APPROVE = frozenset({
    "1", "opcao 1", "sim", "sim pode", "sim pode fazer", "pode", "pode sim", "pode fazer", "ok pode",
    "ok pode fazer", "aprovo", "aprovado", "aprovar", "aceito", "quero fazer",
})  # fmt: skip
_REJECT = frozenset({
    "2", "opcao 2", "nao", "nao quero", "nao quero fazer", "nao pode fazer", "nao aprovo", "recuso",
    "recusado", "recusar",
})  # fmt: skip
_MENU_CHOICE = re.compile(r"(?:(?:opcao|op|numero|n)\s)?([1-5])")
_MENU: dict[str, Intent] = {"1": "price", "2": "order_status", "3": "parts", "4": "book", "5": "human"}
_STATUS_WORDS = _phrases(
    "status", "situacao", "andamento", "meu pedido", "minha os", "ordem de servico", "ficou pronto",
    "esta pronto", "ta pronto", "fica pronto",
)  # fmt: skip
_PRICE_WORDS = _phrases(
    "quanto custa", "preco", "precos", "valor", "valores", "orcamento", "quanto fica", "quanto e",
    "quanto sai", "custa",
)  # fmt: skip
# Precedence after opt-out, quote answers and menu numbers: the first intent whose phrase appears.
_KEYWORDS: tuple[tuple[Intent, tuple[tuple[str, ...], ...]], ...] = (
    ("human", _phrases("atendente", "humano", "pessoa", "falar com alguem", "falar com um atendente")),
    ("order_status", _STATUS_WORDS),
    ("price", _PRICE_WORDS),
    ("parts", _phrases("peca", "pecas", "estoque", "tem disponivel", "voces tem", "vcs tem")),
    ("book", _phrases("agendar", "agendamento", "marcar", "horario", "visita")),
    ("menu", _GREETINGS),
)


def _core(text: str) -> str:
    return " ".join(_without(normalize(text).split(), _COURTESY))


def _menu_choice(text: str) -> str | None:
    match = _MENU_CHOICE.fullmatch(_core(text))
    return match.group(1) if match else None


def classify(text: str, *, menu_shown: bool, quote_pending: bool = False) -> Intent:
    """What the customer wants. Precedence: ``opt_out`` (the whole message is an opt-out phrase, "por
    favor" aside) > quote answers (whole message, only with ``quote_pending``: "1"/"sim" approve,
    "2"/"não" reject) > a menu number (whole message, only with ``menu_shown``) > keywords anywhere,
    one typo allowed in words of 5+ letters: human > order_status (also any ``order_numbers``) >
    price > parts > book > a greeting (``menu``) > ``unknown``."""
    core = _core(text)
    if core in _OPT_OUT:
        return "opt_out"
    if quote_pending and core in _APPROVE:
        return "approve"
    if quote_pending and core in _REJECT:
        return "reject"
    if menu_shown and (choice := _menu_choice(text)) is not None:
        return _MENU[choice]
    tokens = normalize(text).split()
    for intent, phrases in _KEYWORDS:
        if intent == "order_status" and order_numbers(text):
            return intent
        if any(_has(tokens, phrase) for phrase in phrases):
            return intent
    return "unknown"


def _only_greeting(text: str) -> bool:
    tokens = normalize(text).split()
    return bool(tokens) and not _without(tokens, _FILLER)


# "OS 1234", "O.S.: 1234", "ordem de serviço nº 1.234", "#1234", read over the folded (accent-free) text.
_ORDER_REF = re.compile(
    r"(?P<marker>#|(?<![a-z0-9])(?:o\s?\.\s?s(?![a-z])\.?|os|ordem(?:\s+de\s+servico)?)(?![a-z]))"
    r"(?P<sep>\s*(?:(?:numero|nro|num|n\s?[o°]|n)(?![a-z])\.?)?\s*[:#\-]?)\s*"
    r"(?P<number>[0-9]{1,3}(?:\.[0-9]{3})+(?![0-9])|[0-9]+(?![0-9]))"
)
_NEXT_WORD = re.compile(r"\s+([a-z]+)")


def order_numbers(text: str) -> list[int]:
    """Order numbers the customer referenced with a marker (OS, O.S., ordem [de serviço] [nº], #); bare
    numbers (phones, "iphone 11") are not. A bare "os" (no dots, colon or nº) is also the article: "os 2
    celulares" (a plural word after the number) is not an order. Deduplicated, in order, at most 5."""
    folded = _fold(text)
    found: list[int] = []
    for match in _ORDER_REF.finditer(folded):
        if match["marker"] == "os" and not match["sep"].strip():
            after = _NEXT_WORD.match(folded, match.end())
            if after and len(after.group(1)) >= 3 and after.group(1).endswith("s"):
                continue
        number = int(match["number"].replace(".", ""))
        if 1 <= number <= _INT4_MAX and number not in found:
            found.append(number)
    return found[:_MAX_ORDER_REFS]


_PART_WORDS = ("peca", "pecas", "estoque", "disponivel", "disponiveis")
_PART_NOISE = frozenset({
    "a", "o", "as", "os", "e", "de", "da", "do", "das", "dos", "um", "uma", "uns", "umas", "em", "no",
    "na", "nos", "nas", "para", "pra", "pro", "com", "me", "se", "que", "qual", "quais", "tem", "tens",
    "teria", "ter", "voces", "vcs", "vc", "voce", "ai", "ainda", "algum", "alguma", "quero", "queria",
    "gostaria", "preciso", "precisava", "saber", "vende", "vendem", "comprar", "sim",
})  # fmt: skip


def part_query(text: str) -> str | None:
    """What to search the stock for: the text without greetings, the parts keywords and filler words
    ("vocês têm tela do iPhone 11?" → "tela iphone 11"); ``None`` when nothing is left."""
    tokens = _without(normalize(text).split(), _FILLER)
    rest = [t for t in tokens if t not in _PART_NOISE and not any(_like(t, w) for w in _PART_WORDS)]
    return " ".join(rest) or None


def merge_burst(texts: Sequence[str]) -> str:
    """Messages sent in a burst (oldest first) as one text: blank ones dropped, joined by new lines, cut
    at 2000 characters (the oldest text is kept)."""
    return "\n".join(t.strip() for t in texts if t.strip())[:_BURST_MAX]


# --- prices -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PriceRuleView:
    """A row of the shop's price_rules, as the service reads it."""

    id: str
    service: str
    device_type: str  # phone | tablet | computer | other
    brand: str | None
    model: str | None
    price_cents: int


@dataclass(frozen=True, slots=True)
class PriceMatch:
    """``rule``: the one rule that answers, or ``None``. ``missing``: what to ask before a rule can be
    chosen (subset of ``("device", "problem")``, in that order). ``candidates``: several equally good
    rules (at most 5). ``None`` with nothing missing and no candidates: no rule for the device named."""

    rule: PriceRuleView | None
    missing: tuple[str, ...] = ()
    candidates: tuple[PriceRuleView, ...] = ()


_SERVICE_STOPWORDS = frozenset({
    "a", "o", "as", "os", "e", "de", "da", "do", "das", "dos", "em", "no", "na", "nos", "nas", "para",
    "pra", "pro", "com", "um", "uma", "por",
})  # fmt: skip
_ACTIONS = frozenset({
    "troca", "trocar", "substituicao", "substituir", "conserto", "consertar", "reparo", "reparar",
    "arrumar", "manutencao", "servico", "instalacao", "instalar",
})  # fmt: skip
_ALIASES = {
    "iphone": "apple", "ipad": "apple", "macbook": "apple", "imac": "apple", "galaxy": "samsung",
    "redmi": "xiaomi", "poco": "xiaomi", "moto": "motorola",
}  # fmt: skip
_KNOWN_BRANDS = frozenset({
    "apple", "samsung", "motorola", "xiaomi", "lg", "asus", "lenovo", "nokia", "huawei", "realme", "oppo",
    "sony", "dell", "hp", "acer", "multilaser", "infinix", "oneplus", "tcl", "philco",
})  # fmt: skip
_DEVICE_WORDS = {
    "celular": "phone", "smartphone": "phone", "telefone": "phone", "iphone": "phone", "moto": "phone",
    "redmi": "phone", "poco": "phone", "tablet": "tablet", "tab": "tablet", "ipad": "tablet",
    "notebook": "computer", "computador": "computer", "pc": "computer", "laptop": "computer",
    "macbook": "computer", "imac": "computer", "desktop": "computer",
}  # fmt: skip
# A word after a model that makes it another model: "iphone 11 pro" is not an "iPhone 11".
_MODEL_VARIANTS = frozenset({
    "pro", "max", "plus", "mini", "lite", "ultra", "fe", "neo", "prime", "power", "play", "edge", "xl"
})  # fmt: skip


def _device_tokens(text: str) -> list[str]:
    # Letters and digits apart, so "iphone11", "s20" and "galaxy s 20" read alike
    return _LETTER_DIGIT.sub(" ", normalize(text)).split()


def _starts(tokens: Sequence[str], phrase: Sequence[str]) -> list[int]:
    n = len(phrase)
    return [i for i in range(len(tokens) - n + 1) if n and list(tokens[i : i + n]) == list(phrase)]


def _same_stem(rule_word: str, word: str) -> bool:
    short, long = sorted((rule_word, word), key=len)
    return (len(short) >= 4 and long.startswith(short)) or (len(short) >= 5 and _within_one(short, long))


def _service_fit(service: str, words: Sequence[str]) -> tuple[int, int, int] | None:
    """How well the text names the service: ``None`` unless its main word (the first that is not a
    stopword or an action like "troca") is there; else (main words found, minus main words absent,
    action words found), higher is better."""
    tokens = [t for t in normalize(service).split() if t not in _SERVICE_STOPWORDS]
    main = [t for t in tokens if t not in _ACTIONS] or tokens
    if not main:
        return None
    found = [any(_same_stem(t, w) for w in words) for t in main]
    if not found[0]:
        return None
    actions = sum(any(_same_stem(t, w) for w in words) for t in tokens if t not in main)
    return sum(found), sum(found) - len(main), actions


def _model_length(rule: PriceRuleView, tokens: Sequence[str], brands_by_name: set[str]) -> int:
    """The model's length in words when the text names it (0 when not). The model's line name may be
    left out when the brand is written: "samsung s20" names "Galaxy S20"."""
    model = _device_tokens(rule.model or "")
    spellings = [model]
    if len(model) > 1 and _ALIASES.get(model[0]) in brands_by_name & {normalize(rule.brand or "")}:
        spellings.append(model[1:])
    for spelling in spellings:
        for i in _starts(tokens, spelling):
            after = tokens[i + len(spelling)] if i + len(spelling) < len(tokens) else ""
            if after not in _MODEL_VARIANTS:
                return len(model)
    return 0


def _pick(rules: Sequence[PriceRuleView], device_named: bool) -> PriceMatch:
    if len(rules) == 1:
        return PriceMatch(rules[0])
    return PriceMatch(None, () if device_named else ("device",), tuple(rules[:_MAX_CANDIDATES]))


def match_price(text: str, rules: Sequence[PriceRuleView]) -> PriceMatch:
    """The price rule that answers a question, never a guess.

    Service: the rules whose service fits the text best (``_service_fit``: "trocar a tela", "tela
    quebrada" fit "Troca de tela"). Device: a rule with a model applies when the text names that model
    (whole words; the longest model named wins, "iphone 11 pro" never reads as "iPhone 11"); a rule with
    a brand only, when the text names the brand (or "iphone"/"ipad"/"macbook" → Apple, "galaxy" →
    Samsung, "redmi"/"poco" → Xiaomi, "moto" → Motorola) and the device type fits; a rule with neither,
    for its device type (when the text says which: "celular", "notebook"…). Model > brand > generic;
    equally good rules are ambiguous (``candidates``).

    Missing: "problem" when no rule's service fits; "device" when the text names no brand or model and
    the choice depends on it — also when a generic rule exists, as a model rule may price it otherwise
    ("troca de tela" asks the device when the shop prices iPhone screens apart; with only a generic
    rule it answers).
    """
    words = list(dict.fromkeys(normalize(text).split()))
    tokens = _device_tokens(text)
    names = {normalize(r.brand) for r in rules if r.brand} | _KNOWN_BRANDS
    by_name = {b for b in names if b and _starts(tokens, _device_tokens(b))}
    brands = by_name | {brand for alias, brand in _ALIASES.items() if alias in tokens}
    device_named = bool(brands) or any(_model_length(r, tokens, by_name) for r in rules if r.model)

    fits = [(rule, fit) for rule in rules if (fit := _service_fit(rule.service, words)) is not None]
    if not fits:
        return PriceMatch(None, ("problem",) if device_named else ("device", "problem"))
    best = max(fit for _, fit in fits)
    pool = [rule for rule, fit in fits if fit == best]

    by_model = [(n, r) for r in pool if r.model and (n := _model_length(r, tokens, by_name))]
    if by_model:
        longest = max(n for n, _ in by_model)
        return _pick([r for n, r in by_model if n == longest], device_named=True)

    types = {_DEVICE_WORDS[t] for t in tokens if t in _DEVICE_WORDS}
    pool = [r for r in pool if not types or r.device_type in types]
    by_brand = [r for r in pool if r.brand and not r.model and normalize(r.brand) in brands]
    if by_brand:
        return _pick(by_brand, device_named)
    if not device_named and any(r.brand for r in pool):
        return PriceMatch(None, ("device",))
    generic = [r for r in pool if not r.brand]
    if generic:
        return _pick(generic, device_named)
    return PriceMatch(None, () if device_named else ("device",))


# --- opening hours ------------------------------------------------------------------------------
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"([01][0-9]|2[0-4]):([0-5][0-9])")


def _minutes(hhmm: str) -> int | None:
    match = _HHMM.fullmatch(hhmm)
    value = int(match.group(1)) * 60 + int(match.group(2)) if match else None
    return value if value is not None and value <= 24 * 60 else None


def is_open(business_hours: Mapping[str, Sequence[Sequence[str]]], timezone: str, now: datetime) -> bool:
    """Whether ``now`` (aware) falls in one of the day's ``["HH:MM", "HH:MM"]`` intervals in the shop's
    time zone: start inclusive, end exclusive, "24:00" allowed as an end. A day absent is closed;
    malformed intervals are ignored. Raises ``ValueError`` for a naive ``now``."""
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    local = now.astimezone(ZoneInfo(timezone))
    minute = local.hour * 60 + local.minute
    for interval in business_hours.get(_DAYS[local.weekday()], ()):
        if len(interval) == 2:
            start, end = _minutes(interval[0]), _minutes(interval[1])
            if start is not None and end is not None and start <= minute < end:
                return True
    return False


# --- texts --------------------------------------------------------------------------------------
_BOT_TEMPLATES: dict[str, str] = {
    "menu": (
        "Olá! Este é o atendimento automático de {{LOJA}}. Responda com o número do que você precisa:\n"
        "1. Preço de um conserto\n2. Andamento da minha OS\n3. Peças e acessórios\n"
        "4. Agendar a entrega do aparelho\n5. Falar com um atendente"
    ),
    "out_of_hours": (
        "Olá! {{LOJA}} está fora do horário de atendimento agora. Deixe sua mensagem que responderemos "
        "assim que abrirmos."
    ),
    "ask_device": "Qual é o aparelho (marca e modelo)? Por exemplo: iPhone 11, Galaxy A52, Moto G8.",
    "ask_problem": "Qual é o problema ou o serviço de que você precisa? Por exemplo: troca de tela, bateria.",
    "ask_device_and_problem": (
        "Para passar o valor, me diga o aparelho (marca e modelo) e o problema. "
        "Por exemplo: tela quebrada do iPhone 11."
    ),
    "price": (
        "{{SERVICO}} ({{APARELHO}}): *{{VALOR}}*\n{{DESCONTO}}\n"
        "O valor final é confirmado na avaliação do aparelho.\n"
        "Quer deixar o aparelho com a gente? Responda *agendar* para combinar a entrega ou *atendente* "
        "para abrir a ordem de serviço."
    ),
    "price_unknown": (
        "Esse serviço precisa de uma avaliação para termos o valor certo. Um atendente vai responder "
        "por aqui assim que possível."
    ),
    "orders": "Suas ordens de serviço:\n{{PEDIDOS}}",
    "no_orders": (
        "Não encontrei ordens de serviço para este número. Se a OS está em outro telefone, envie o "
        "número dela (ex.: OS 1234) ou responda *atendente*."
    ),
    "parts": "Encontrei estas peças:\n{{PECAS}}\nPara reservar ou saber o valor, responda *atendente*.",
    "no_parts": "Não encontrei essa peça no estoque agora. Responda *atendente* para verificarmos.",
    "ask_part": "Qual peça você procura? Diga também o aparelho (marca e modelo). Ex.: tela do iPhone 11.",
    "handoff": "Certo! Um atendente vai continuar a conversa por aqui assim que possível.",
    "book": "Ótimo! Um atendente vai combinar com você por aqui o melhor dia e horário.",
    "opt_out": (
        "Pronto, você não vai mais receber mensagens automáticas. Se escrever de novo, voltamos a responder."
    ),
    "quote_approved": "Orçamento aprovado! Vamos começar o reparo e avisamos por aqui quando estiver pronto.",
    "quote_rejected": (
        "Tudo bem, registramos que o orçamento foi recusado. Avisaremos quando o aparelho puder ser retirado."
    ),
    "quote_unclear": "Não entendi sua resposta sobre o orçamento. Um atendente vai falar com você por aqui.",
    "quote_reminder": (
        "Lembrete: o orçamento da OS {{OS}} aguarda sua resposta. Responda *1* para aprovar ou *2* para "
        "recusar, ou abra o link: {{LINK}}"
    ),
    "quote_expired": (
        "O orçamento da OS {{OS}} venceu sem resposta. Se ainda quiser o reparo, responda *atendente*."
    ),
    "book_offer": (
        "Estes são os próximos horários livres para {{TIPO}}:\n{{HORARIOS}}\n"
        "Responda com o número do horário que preferir, ou *atendente* para combinar outro."
    ),
    "book_done": (
        "Agendado! {{TIPO}} na {{LOJA}}: {{QUANDO}}.\n"
        "Para confirmar, cancelar ou remarcar, responda *confirmo*, *cancelar* ou *remarcar*, ou use o "
        "link: {{LINK}}"
    ),
    "book_moved": "Remarcado! {{TIPO}} na {{LOJA}}: {{QUANDO}}. {{LINK}}",
    "book_taken": "Esse horário acabou de ser ocupado. Veja os horários livres agora:\n{{HORARIOS}}",
    "book_none": "Não há horários livres nos próximos dias. Um atendente vai combinar com você por aqui.",
    "appointment_reminder": (
        "Lembrete: {{TIPO}} na {{LOJA}} {{QUANDO}}. Responda *confirmo* para confirmar, *cancelar* para "
        "cancelar ou *remarcar* para mudar o horário. {{LINK}}"
    ),
    "appointment_confirmed": "Obrigado! Seu horário de {{QUANDO}} está confirmado.",
    "appointment_cancelled": (
        "Pronto, cancelamos o horário de {{QUANDO}}. Se quiser marcar outro, responda *agendar*."
    ),
}  # fmt: skip
# What the customer reads when their order moves (``status_<status>``), if the shop has that status on.
_STATUS_TEMPLATES: dict[str, str] = {
    f"status_{Status.RECEIVED.value}": (
        "Olá, {{CLIENTE}}! Recebemos seu {{APARELHO}} na {{LOJA}} (OS {{OS}}). Acompanhe por aqui: {{LINK}}"
    ),
    f"status_{Status.DIAGNOSING.value}": "Olá, {{CLIENTE}}! Seu {{APARELHO}} (OS {{OS}}) está em avaliação.",
    f"status_{Status.QUOTE_SENT.value}": "Olá, {{CLIENTE}}! O orçamento da OS {{OS}} está pronto: {{LINK}}",
    f"status_{Status.APPROVED.value}": (
        "Olá, {{CLIENTE}}! Orçamento da OS {{OS}} aprovado: vamos começar o reparo."
    ),
    f"status_{Status.REJECTED.value}": (
        "Olá, {{CLIENTE}}! Registramos que o orçamento da OS {{OS}} foi recusado."
    ),
    f"status_{Status.WAITING_PARTS.value}": (
        "Olá, {{CLIENTE}}! O reparo do seu {{APARELHO}} (OS {{OS}}) aguarda a chegada de peças. "
        "Avisaremos assim que chegarem."
    ),
    f"status_{Status.REPAIRING.value}": "Olá, {{CLIENTE}}! Seu {{APARELHO}} (OS {{OS}}) está em reparo.",
    f"status_{Status.QUALITY_CHECK.value}": (
        "Olá, {{CLIENTE}}! Seu {{APARELHO}} (OS {{OS}}) está nos testes finais."
    ),
    f"status_{Status.READY.value}": (
        "Olá, {{CLIENTE}}! Seu {{APARELHO}} está pronto para retirada na {{LOJA}} (OS {{OS}}). {{LINK}}"
    ),
    f"status_{Status.DELIVERED.value}": (
        "Olá, {{CLIENTE}}! Seu {{APARELHO}} foi entregue (OS {{OS}}). Obrigado pela confiança! "
        "A garantia vale 90 dias: guarde este número."
    ),
    f"status_{Status.CANCELLED.value}": (
        "Olá, {{CLIENTE}}! A OS {{OS}} foi cancelada. Fale com a gente por aqui."
    ),
}  # fmt: skip
# The statuses a shop tells its customers about until it chooses its own.
DEFAULT_STATUS_MESSAGES: tuple[str, ...] = (
    Status.RECEIVED.value,
    Status.WAITING_PARTS.value,
    Status.READY.value,
    Status.DELIVERED.value,
)
DEFAULT_TEMPLATES: Mapping[str, str] = MappingProxyType({**_BOT_TEMPLATES, **_STATUS_TEMPLATES})
TEMPLATE_KEYS: tuple[str, ...] = tuple(DEFAULT_TEMPLATES)
_EXTRA_PLACEHOLDERS = {
    "price": {"SERVICO", "APARELHO", "VALOR", "DESCONTO"},
    "orders": {"PEDIDOS"},
    "parts": {"PECAS"},
    "quote_approved": {"OS"},
    "quote_rejected": {"OS"},
    "quote_unclear": {"OS"},
    "quote_reminder": {"OS", "LINK"},
    "quote_expired": {"OS"},
    "book_offer": {"TIPO", "HORARIOS"},
    "book_done": {"TIPO", "QUANDO", "LINK"},
    "book_moved": {"TIPO", "QUANDO", "LINK"},
    "book_taken": {"HORARIOS"},
    "appointment_reminder": {"TIPO", "QUANDO", "LINK", "CLIENTE"},
    "appointment_confirmed": {"QUANDO"},
    "appointment_cancelled": {"QUANDO"},
    **{key: {"CLIENTE", "OS", "APARELHO", "LINK"} for key in _STATUS_TEMPLATES},
}
TEMPLATE_PLACEHOLDERS: Mapping[str, frozenset[str]] = MappingProxyType(
    {key: frozenset({"LOJA", *_EXTRA_PLACEHOLDERS.get(key, ())}) for key in TEMPLATE_KEYS}
)
_PLACEHOLDER = re.compile(r"\{\{([^{}]*)\}\}")


def validate_template(key: str, text: str) -> list[str]:
    """Problems with a shop's text for ``key`` (pt-BR), empty when it may be saved."""
    if key not in TEMPLATE_PLACEHOLDERS:
        return [f"Mensagem desconhecida: {key}."]
    problems = []
    if not text.strip():
        problems.append("A mensagem não pode ficar vazia.")
    if len(text) > _TEMPLATE_MAX:
        problems.append(f"A mensagem pode ter no máximo {_TEMPLATE_MAX} caracteres.")
    allowed = TEMPLATE_PLACEHOLDERS[key]
    accepted = ", ".join(f"{{{{{name}}}}}" for name in sorted(allowed))
    for name in sorted({n.strip() for n in _PLACEHOLDER.findall(text)} - allowed):
        problems.append(f"Campo desconhecido: {{{{{name}}}}}. Campos aceitos: {accepted}.")
    rest = _PLACEHOLDER.sub("", text)
    if "{{" in rest or "}}" in rest:
        problems.append("Há chaves {{ }} sem par.")
    return problems


def render_template(key: str, overrides: Mapping[str, str], values: Mapping[str, str]) -> str:
    """The shop's text for ``key`` (its override, else the default) with the placeholders filled. A
    placeholder without a value (or not allowed for the key) renders empty, and a line left blank by
    that is dropped: a customer never sees ``{{X}}``. Raises ``KeyError`` for an unknown key."""
    allowed = TEMPLATE_PLACEHOLDERS[key]
    override = overrides.get(key, "")
    template = override if override.strip() else DEFAULT_TEMPLATES[key]

    def fill(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        return values.get(name, "") if name in allowed else ""

    lines = []
    for line in template.split("\n"):
        filled = _PLACEHOLDER.sub(fill, line).replace("{{", "").replace("}}", "")
        if filled.strip() or not _PLACEHOLDER.search(line):
            lines.append(filled)
    return "\n".join(lines)


STATUS_TEXT: Mapping[str, str] = MappingProxyType({
    Status.RECEIVED.value: "Recebido, aguardando avaliação",
    Status.DIAGNOSING.value: "Em avaliação pelo técnico",
    Status.QUOTE_SENT.value: "Orçamento enviado, aguardando sua resposta",
    Status.APPROVED.value: "Orçamento aprovado, o reparo vai começar",
    Status.REJECTED.value: "Orçamento recusado",
    Status.WAITING_PARTS.value: "Aguardando a chegada de peças",
    Status.REPAIRING.value: "Em reparo",
    Status.QUALITY_CHECK.value: "Em testes finais",
    Status.READY.value: "Pronto para retirada",
    Status.DELIVERED.value: "Entregue",
    Status.CANCELLED.value: "Cancelado",
})  # fmt: skip


_DASH = " \u2013 "  # an en dash, as Brazilian texts set it apart


def order_lines(orders: Sequence[tuple[int, str, str, str | None]]) -> str:
    """One line per (number, status, device, tracking link), parts apart by en dashes: "OS 1234 <dash>
    iPhone 11: Pronto para retirada <dash> <link>"; the device and the link only when present."""
    lines = []
    for number, status, device, link in orders:
        head = f"OS {number}{_DASH}{device.strip()}" if device.strip() else f"OS {number}"
        tail = f"{_DASH}{link}" if link else ""
        lines.append(f"{head}: {STATUS_TEXT.get(status, 'Em andamento')}{tail}")
    return "\n".join(lines)


# --- the conversation ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Turn:
    """The router's decision for one inbound text: ``reply_key`` ``None`` means stay silent."""

    intent: Intent
    reply_key: str | None
    next_state: ConversationState
    handoff: bool


_REPLIES: dict[Intent, tuple[str, ConversationState, bool]] = {
    "menu": ("menu", "bot", False),
    "price": ("price", "bot", False),
    "order_status": ("orders", "bot", False),
    "book": ("book", "waiting_staff", True),
    "human": ("handoff", "waiting_staff", True),
    "approve": ("quote_approved", "bot", False),
    "reject": ("quote_rejected", "bot", False),
}
# What still counts as itself while the bot waits for an answer (anything else is the answer).
_AWAITING_OVERRIDES = frozenset({"human", "order_status", "approve", "reject"})


def next_turn(
    state: ConversationState,
    text: str,
    *,
    menu_shown: bool,
    quote_pending: bool,
    state_age_s: float,
    timeout_s: float = 1800,
) -> Turn:
    """The router's decision for one (merged) inbound text, before any lookup.

    Opt-out works in any state. A state older than ``timeout_s`` counts as ``bot``. With a person
    (``waiting_staff``/``with_staff``) the bot stays silent. After the bot asked for the device or
    the part, the text is the answer (``price``/``parts``) unless it is plainly something else: a
    person, an order, a quote answer or a bare greeting. ``next_state`` for ``price`` is ``bot``: the
    service moves to ``awaiting_device`` when ``match_price`` makes it ask.
    """
    intent = classify(text, menu_shown=menu_shown, quote_pending=quote_pending)
    if intent == "opt_out":
        return Turn("opt_out", "opt_out", "bot", False)
    if state_age_s > timeout_s:
        state = "bot"
    if state in ("waiting_staff", "with_staff"):
        return Turn(intent, None, state, False)
    answering = state in ("awaiting_device", "awaiting_part") and intent not in _AWAITING_OVERRIDES
    if answering and not (intent == "menu" and _only_greeting(text)):
        intent = "price" if state == "awaiting_device" else "parts"
    if intent == "parts":
        ask = (menu_shown and _menu_choice(text) is not None) or part_query(text) is None
        return Turn("parts", "ask_part" if ask else "parts", "awaiting_part" if ask else "bot", False)
    if intent == "unknown":
        if quote_pending:
            return Turn("unknown", "quote_unclear", "waiting_staff", True)
        return Turn("unknown", "menu", "bot", False)
    reply, next_state, handoff = _REPLIES[intent]
    return Turn(intent, reply, next_state, handoff)


# --- appointments -------------------------------------------------------------------------------
AppointmentReply = Literal["confirm", "cancel", "move"]
_APPOINTMENT_REPLIES: dict[AppointmentReply, tuple[tuple[str, ...], ...]] = {
    "confirm": _phrases(
        "confirmo", "confirmado", "confirmada", "confirmar", "confirma", "confirmo sim", "sim confirmo",
        "pode confirmar", "estarei ai", "vou sim",
    ),
    "cancel": _phrases(
        "cancelar", "cancela", "cancelo", "quero cancelar", "pode cancelar", "desmarcar", "desmarca",
        "nao vou", "nao vou poder", "nao posso ir",
    ),
    "move": _phrases(
        "remarcar", "remarca", "reagendar", "quero remarcar", "mudar horario", "mudar o horario",
        "trocar horario", "trocar o horario", "outro horario", "outro dia",
    ),
}  # fmt: skip


def appointment_reply(text: str) -> AppointmentReply | None:
    """What a whole message says about the customer's appointment: confirm, cancel or move (None:
    something else). Only asked while the customer has an appointment ahead."""
    core = tuple(_core(text).split())
    for reply, phrases in _APPOINTMENT_REPLIES.items():
        if core in phrases:
            return reply
    return None


_SLOT_CHOICE = re.compile(r"(?:(?:opcao|op|numero|n|horario)\s)?([1-9])")


def slot_choice(text: str, offered: int) -> int | None:
    """The slot a whole message picks from ``offered`` numbered ones (1-based), or None."""
    match = _SLOT_CHOICE.fullmatch(_core(text))
    if match is None:
        return None
    choice = int(match.group(1))
    return choice if 1 <= choice <= offered else None


_WEEKDAYS = ("seg", "ter", "qua", "qui", "sex", "sáb", "dom")


def when_text(moment: datetime, timezone: str) -> str:
    """``moment`` as a customer reads it in the shop's time zone: "ter., 01/12 às 09:00"."""
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{_WEEKDAYS[local.weekday()]}., {local:%d/%m} às {local:%H:%M}"


def slot_lines(moments: Sequence[datetime], timezone: str) -> str:
    return "\n".join(f"{i}. {when_text(m, timezone)}" for i, m in enumerate(moments, start=1))
