"""Each bank's nosso número (with its check digit) and campo livre (barcode positions 20-44).

One small function per bank, registered in ``BANKS`` by the bank's code; ``issue_boleto`` is the one
entry point: an agreement (the shop's convênio with the bank), the boleto's sequence number, due date
and amount in, the nosso número, barcode and linha digitável out.

Verified against published examples (see tests/unit/test_banking_boleto_banks.py, which cites each):
Banco do Brasil, Itaú, Bradesco, Caixa (SIGCB), Santander, Sicoob, Sicredi, Ailos, BTG Pactual and
Banco Inter's legacy (Intermedium) layout. Bank manuals remain the authority: a bank homologates a
shop's first boletos before they go to customers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

from assistec.domain.banking.boleto import (
    BoletoError,
    barcode_to_linha,
    build_barcode,
    format_linha,
    mod10,
    mod11_remainder,
)


@dataclass(frozen=True, slots=True)
class Agreement:
    """A shop's collection agreement with one bank, as the bank wrote it down.

    ``agency`` and ``account`` are digits without their check digits; ``wallet`` is the carteira;
    ``agreement_code`` is the convênio / código do beneficiário / código do cedente, whatever the bank
    calls it. ``options`` holds what only one bank has (each bank's function documents its keys)."""

    bank_code: str
    agency: str = ""
    account: str = ""
    wallet: str = ""
    agreement_code: str = ""
    options: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class NossoNumero:
    """``digits``: the number as CNAB files carry it (without the check digit); ``check_digit``: the
    bank's DV ("" when the bank has none); ``printed``: as the boleto shows it."""

    digits: str
    check_digit: str
    printed: str


@dataclass(frozen=True, slots=True)
class IssuedBoleto:
    nosso_numero: NossoNumero
    campo_livre: str
    barcode: str
    linha_digitavel: str  # 47 digits

    @property
    def linha_digitavel_formatted(self) -> str:
        return format_linha(self.linha_digitavel)


@dataclass(frozen=True, slots=True)
class BoletoRequest:
    """What varies per boleto. ``sequence`` is the agreement's next nosso número sequence;
    ``issue_date`` matters to banks that put the year in the nosso número (Sicredi); ``document_number``
    (seu número) to the Itaú carteiras that carry it in the barcode."""

    sequence: int
    due_date: date | None
    amount_cents: int
    issue_date: date
    document_number: str = ""


@dataclass(frozen=True, slots=True)
class BankRule:
    code: str
    name: str
    build: Callable[[Agreement, BoletoRequest], tuple[NossoNumero, str]]


# --- helpers ------------------------------------------------------------------------------------


def _digits(value: str, max_len: int, field_name: str, label: str, *, min_len: int = 1) -> str:
    value = value.strip()
    if not (min_len <= len(value) <= max_len) or not value.isascii() or not value.isdigit():
        size = f"{max_len}" if min_len == max_len else f"{min_len} a {max_len}"
        raise BoletoError(
            "boleto_invalid_agreement",
            f"{label}: informe {size} dígitos numéricos.",
            field=field_name,
        )
    return value


def _sequence(request: BoletoRequest, width: int) -> str:
    if isinstance(request.sequence, bool) or not isinstance(request.sequence, int):
        raise BoletoError("boleto_invalid_sequence", "O número sequencial do boleto deve ser inteiro.")
    if not 1 <= request.sequence < 10**width:
        raise BoletoError(
            "boleto_sequence_out_of_range",
            f"O nosso número deste convênio comporta de 1 a {10**width - 1}.",
            sequence=request.sequence,
            max=10**width - 1,
        )
    return f"{request.sequence:0{width}d}"


def _option(agreement: Agreement, key: str, default: str) -> str:
    return str(agreement.options.get(key, default)).strip()


def mod11_dv(digits: str, *, weights: tuple[int, ...] = (2, 3, 4, 5, 6, 7, 8, 9)) -> int:
    """The most common bank variant: 11 - remainder, with 10 and 11 becoming 0."""
    dv = 11 - mod11_remainder(digits, weights=weights)
    return 0 if dv > 9 else dv


# --- Banco do Brasil (001) ----------------------------------------------------------------------


def bb_check_digit(digits: str) -> str:
    """BB's modulo 11 "9 a 2": weights 9,8,...,2 from the right, the remainder itself is the digit,
    10 is written X."""
    remainder = mod11_remainder(digits, weights=(9, 8, 7, 6, 5, 4, 3, 2))
    return "X" if remainder == 10 else str(remainder)


def _banco_do_brasil(agreement: Agreement, request: BoletoRequest) -> tuple[NossoNumero, str]:
    """Convênio of 4, 6, 7 or 8 digits; carteira 2 digits (17, 18, ...). With a 6-digit convênio,
    ``options["nosso_numero_17"] = "1"`` selects the 17-digit free nosso número (carteiras 16 and 18,
    service code 21)."""
    convenio = _digits(agreement.agreement_code, 8, "agreement_code", "Convênio", min_len=4)
    carteira = _digits(agreement.wallet, 2, "wallet", "Carteira", min_len=2)
    size = len(convenio)
    if size == 5:
        raise BoletoError(
            "boleto_invalid_agreement",
            "Convênio do Banco do Brasil: 4, 6, 7 ou 8 dígitos.",
            field="agreement_code",
        )
    if size in (7, 8):
        # Nosso número of 17 digits (convênio + sequence) without a check digit
        seq = _sequence(request, 17 - size)
        nn = convenio + seq
        return NossoNumero(nn, "", nn), "000000" + nn + carteira
    if size == 6 and _option(agreement, "nosso_numero_17", "") == "1":
        if carteira not in ("16", "18"):
            raise BoletoError(
                "boleto_invalid_agreement",
                "Nosso número de 17 dígitos do Banco do Brasil só nas carteiras 16 e 18.",
                field="wallet",
            )
        seq = _sequence(request, 17)
        return NossoNumero(seq, "", seq), convenio + seq + "21"
    agency = _digits(agreement.agency, 4, "agency", "Agência", min_len=4)
    account = _digits(agreement.account, 8, "account", "Conta").zfill(8)
    seq = _sequence(request, 11 - size)  # 4-digit convênio: 7; 6-digit: 5
    nn = convenio + seq
    dv = bb_check_digit(nn)
    return NossoNumero(nn, dv, f"{nn}-{dv}"), nn + agency + account + carteira


# --- Itaú (341) ---------------------------------------------------------------------------------

# The DAC covers carteira + nosso número only for these (Itaú's manual, "carteiras escriturais")
_ITAU_DAC_WITHOUT_ACCOUNT = frozenset({"126", "131", "146", "150", "168"})
# These carry seu número and the client code in the barcode instead of agência and conta
_ITAU_WITH_DOCUMENT_NUMBER = frozenset({"106", "107", "122", "142", "143", "195", "196", "198"})


def _itau(agreement: Agreement, request: BoletoRequest) -> tuple[NossoNumero, str]:
    """Carteira of 3 digits (109, 112, 175, ...), nosso número of 8 with a mod-10 DAC (Itaú's Anexo 4:
    over agência + conta + carteira + nosso número, or carteira + nosso número for the carteiras in
    ``_ITAU_DAC_WITHOUT_ACCOUNT``). The carteiras in ``_ITAU_WITH_DOCUMENT_NUMBER`` put the request's
    ``document_number`` (seu número, 7 digits) and the agreement code (código do cliente, 5 digits) in
    the barcode, with a DAC of their own over carteira + nosso número + both."""
    carteira = _digits(agreement.wallet, 3, "wallet", "Carteira", min_len=3)
    agency = _digits(agreement.agency, 4, "agency", "Agência", min_len=4)
    account = _digits(agreement.account, 5, "account", "Conta").zfill(5)
    seq = _sequence(request, 8)
    basis = carteira + seq if carteira in _ITAU_DAC_WITHOUT_ACCOUNT else agency + account + carteira + seq
    dac = str(mod10(basis))
    nosso = NossoNumero(seq, dac, f"{carteira}/{seq}-{dac}")
    if carteira in _ITAU_WITH_DOCUMENT_NUMBER:
        document = _digits(request.document_number, 7, "document_number", "Seu número").zfill(7)
        client = _digits(agreement.agreement_code, 5, "agreement_code", "Código do cliente").zfill(5)
        body = carteira + seq + document + client
        return nosso, body + str(mod10(body)) + "0"
    account_dac = str(mod10(agency + account))
    return nosso, carteira + seq + dac + agency + account + account_dac + "000"


def itau_account_dac(agency: str, account: str) -> int:
    """Itaú's agência/conta DAC (mod 10 over agência + conta), as printed on the boleto."""
    return mod10(agency + account.zfill(5))


# --- Bradesco (237) -----------------------------------------------------------------------------


def bradesco_check_digit(carteira: str, nosso_numero: str) -> str:
    """Modulo 11 "base 7" over carteira (2) + nosso número (11): remainder 0 -> 0, 1 -> P."""
    remainder = mod11_remainder(carteira + nosso_numero, weights=(2, 3, 4, 5, 6, 7))
    if remainder == 0:
        return "0"
    if remainder == 1:
        return "P"
    return str(11 - remainder)


def _bradesco_like(agreement: Agreement, request: BoletoRequest, *, with_dv: bool) -> tuple[NossoNumero, str]:
    agency = _digits(agreement.agency, 4, "agency", "Agência", min_len=4)
    carteira = _digits(agreement.wallet, 2, "wallet", "Carteira").zfill(2)
    account = _digits(agreement.account, 7, "account", "Conta").zfill(7)
    seq = _sequence(request, 11)
    if with_dv:
        dv = bradesco_check_digit(carteira, seq)
        nosso = NossoNumero(seq, dv, f"{carteira}/{seq}-{dv}")
    else:
        nosso = NossoNumero(seq, "", seq)
    return nosso, agency + carteira + seq + account + "0"


def _bradesco(agreement: Agreement, request: BoletoRequest) -> tuple[NossoNumero, str]:
    """Agência (4) + carteira (2) + nosso número (11) + conta (7) + 0."""
    return _bradesco_like(agreement, request, with_dv=True)


def _btg(agreement: Agreement, request: BoletoRequest) -> tuple[NossoNumero, str]:
    """BTG Pactual uses Bradesco's campo livre; its boleto shows the nosso número without a DV."""
    return _bradesco_like(agreement, request, with_dv=False)


# --- Caixa (104), SIGCB -------------------------------------------------------------------------

_CAIXA_WALLETS = MappingProxyType({"RG": "1", "SR": "2", "1": "1", "2": "2"})


def _caixa(agreement: Agreement, request: BoletoRequest) -> tuple[NossoNumero, str]:
    """SIGCB: código do beneficiário (6), carteira RG (registrada) or SR (sem registro), nosso número of
    17 = modality (1 or 2) + issuer (4 = the beneficiary issues; ``options["emission"]``) + 15 digits."""
    code = _digits(agreement.agreement_code, 6, "agreement_code", "Código do beneficiário").zfill(6)
    modality = _CAIXA_WALLETS.get(agreement.wallet.strip().upper())
    if modality is None:
        raise BoletoError(
            "boleto_invalid_agreement",
            "Carteira da Caixa: RG (registrada) ou SR (sem registro).",
            field="wallet",
        )
    emission = _digits(_option(agreement, "emission", "4"), 1, "options.emission", "Emissão")
    seq = _sequence(request, 15)
    nn = modality + emission + seq
    dv = str(mod11_dv(nn))
    body = code + str(mod11_dv(code)) + seq[0:3] + modality + seq[3:6] + emission + seq[6:15]
    return NossoNumero(nn, dv, f"{nn}-{dv}"), body + str(mod11_dv(body))


# --- Santander (033) ----------------------------------------------------------------------------


def santander_check_digit(nosso_numero: str) -> int:
    """Modulo 11 with weights 2-9: remainder 0 or 1 -> 0, remainder 10 -> 1, else 11 - remainder."""
    remainder = mod11_remainder(nosso_numero)
    if remainder in (0, 1):
        return 0
    return 1 if remainder == 10 else 11 - remainder


def _santander(agreement: Agreement, request: BoletoRequest) -> tuple[NossoNumero, str]:
    """9 + código do beneficiário (7) + nosso número (12) + DV + IOS (``options["ios"]``, 0 for
    companies) + carteira (3: 101, 102, ...)."""
    code = _digits(agreement.agreement_code, 7, "agreement_code", "Código do beneficiário").zfill(7)
    carteira = _digits(agreement.wallet, 3, "wallet", "Carteira", min_len=3)
    ios = _digits(_option(agreement, "ios", "0"), 1, "options.ios", "IOS")
    seq = _sequence(request, 12)
    dv = str(santander_check_digit(seq))
    return NossoNumero(seq, dv, f"{seq}-{dv}"), "9" + code + seq + dv + ios + carteira


# --- Sicoob (756) -------------------------------------------------------------------------------


def sicoob_check_digit(agency: str, client_code: str, nosso_numero: str) -> int:
    """Sicoob's "constante 3197": agência (4) + código do cliente (10) + nosso número (7), weighted
    3,1,9,7 from the left; 11 - remainder, with remainder 0 or 1 giving 0."""
    digits = agency + client_code.zfill(10) + nosso_numero
    total = sum(int(ch) * (3, 1, 9, 7)[i % 4] for i, ch in enumerate(digits))
    remainder = total % 11
    return 0 if remainder in (0, 1) else 11 - remainder


def _sicoob(agreement: Agreement, request: BoletoRequest) -> tuple[NossoNumero, str]:
    """Carteira (1) + agência (4) + modalidade (``options["modality"]``, 01 simples) + código do
    cliente (7) + nosso número (7) + DV + parcela (``options["installment"]``, 001)."""
    carteira = _digits(agreement.wallet or "1", 1, "wallet", "Carteira")
    agency = _digits(agreement.agency, 4, "agency", "Agência", min_len=4)
    client = _digits(agreement.agreement_code, 7, "agreement_code", "Código do cliente").zfill(7)
    modality = _digits(_option(agreement, "modality", "01"), 2, "options.modality", "Modalidade").zfill(2)
    installment = _digits(
        _option(agreement, "installment", "001"), 3, "options.installment", "Parcela"
    ).zfill(3)
    seq = _sequence(request, 7)
    dv = str(sicoob_check_digit(agency, client, seq))
    return NossoNumero(seq, dv, f"{seq}-{dv}"), carteira + agency + modality + client + seq + dv + installment


# --- Sicredi (748) ------------------------------------------------------------------------------


def _sicredi(agreement: Agreement, request: BoletoRequest) -> tuple[NossoNumero, str]:
    """Nosso número = ano (2, of the issue date) + byte (``options["byte"]``, 2-9) + sequence (5) + DV
    (mod 11 over agência + posto + conta + those 8). Campo livre = tipo de cobrança
    (``options["charge_type"]``: 1 com registro, 3 sem registro) + carteira 1 + nosso número (9) +
    agência (4) + posto (``options["post"]``, 2) + conta (5) + 1 when there is an amount + 0 + DV."""
    agency = _digits(agreement.agency, 4, "agency", "Agência", min_len=4)
    post = _digits(_option(agreement, "post", ""), 2, "options.post", "Posto").zfill(2)
    account = _digits(agreement.account, 5, "account", "Código do beneficiário (conta)").zfill(5)
    byte = _digits(_option(agreement, "byte", "2"), 1, "options.byte", "Byte de geração")
    if byte in ("0", "1"):
        raise BoletoError(
            "boleto_invalid_agreement",
            "Byte de geração do Sicredi: 2 a 9 (o 1 é reservado à cooperativa).",
            field="options.byte",
        )
    charge_type = _digits(
        _option(agreement, "charge_type", "1"), 1, "options.charge_type", "Tipo de cobrança"
    )
    seq = _sequence(request, 5)
    nn = f"{request.issue_date.year % 100:02d}{byte}{seq}"
    dv = str(mod11_dv(agency + post + account + nn))
    has_amount = "1" if request.amount_cents > 0 else "0"
    body = charge_type + "1" + nn + dv + agency + post + account + has_amount + "0"
    return NossoNumero(nn, dv, f"{nn[:2]}/{nn[2:]}-{dv}"), body + str(mod11_dv(body))


# --- Ailos (085) --------------------------------------------------------------------------------


def _ailos(agreement: Agreement, request: BoletoRequest) -> tuple[NossoNumero, str]:
    """Convênio (6) + nosso número (17 = conta (7) + its DV + sequence (9)) + carteira (2). The
    account's DV is modulo 11 (weights 2-9, 10 and 11 -> 0)."""
    convenio = _digits(agreement.agreement_code, 6, "agreement_code", "Convênio").zfill(6)
    account = _digits(agreement.account, 7, "account", "Conta").zfill(7)
    carteira = _digits(agreement.wallet or "1", 2, "wallet", "Carteira").zfill(2)
    seq = _sequence(request, 9)
    nn = account + str(mod11_dv(account)) + seq
    return NossoNumero(nn, "", nn), convenio + nn + carteira


# --- Banco Inter (077), legacy Intermedium layout -----------------------------------------------


def _inter(agreement: Agreement, request: BoletoRequest) -> tuple[NossoNumero, str]:
    """Banco Inter's boletos of the Intermedium era: agência 1 + produto 000 + carteira (2) + sistema 10
    + nosso número (7) + conta (10). Today Inter registers boletos through its API and returns their
    numbers; use this only for agreements that still issue in this layout."""
    carteira = _digits(agreement.wallet or "12", 2, "wallet", "Carteira").zfill(2)
    account = _digits(agreement.account, 10, "account", "Conta").zfill(10)
    seq = _sequence(request, 7)
    dv = bradesco_check_digit(carteira, seq)
    return NossoNumero(seq, dv, f"{carteira}/{seq}-{dv}"), "1" + "000" + carteira + "10" + seq + account


BANKS: Mapping[str, BankRule] = MappingProxyType(
    {
        rule.code: rule
        for rule in (
            BankRule("001", "Banco do Brasil", _banco_do_brasil),
            BankRule("033", "Santander", _santander),
            BankRule("077", "Banco Inter", _inter),
            BankRule("085", "Ailos", _ailos),
            BankRule("104", "Caixa Econômica Federal", _caixa),
            BankRule("208", "BTG Pactual", _btg),
            BankRule("237", "Bradesco", _bradesco),
            BankRule("341", "Itaú", _itau),
            BankRule("748", "Sicredi", _sicredi),
            BankRule("756", "Sicoob", _sicoob),
        )
    }
)


def bank_rule(bank_code: str) -> BankRule:
    rule = BANKS.get(bank_code)
    if rule is None:
        raise BoletoError(
            "boleto_unsupported_bank",
            f"Banco {bank_code} não é suportado para emissão de boletos.",
            bank_code=bank_code,
        )
    return rule


# The digit printed after the bank code in the boleto's header ("001-9"): modulo 11 "9 a 2" of the code
# with 10 as X, except for the banks that assigned their own.
_BANK_DIGIT_OVERRIDES = MappingProxyType({"104": "0", "085": "1", "208": "1"})


def printed_bank_code(bank_code: str) -> str:
    """The bank code as the boleto's header prints it: ``001-9``, ``237-2``, ``748-X``, ``104-0``."""
    digit = _BANK_DIGIT_OVERRIDES.get(bank_code) or bb_check_digit(bank_code)
    return f"{bank_code}-{digit}"


def nosso_numero_and_campo_livre(agreement: Agreement, request: BoletoRequest) -> tuple[NossoNumero, str]:
    """The bank's nosso número and 25-digit campo livre for this boleto."""
    nosso, campo_livre = bank_rule(agreement.bank_code).build(agreement, request)
    if len(campo_livre) != 25 or not campo_livre.isdigit():  # a bug in a rule above, never input
        raise AssertionError(f"campo livre of bank {agreement.bank_code} is not 25 digits: {campo_livre!r}")
    return nosso, campo_livre


def issue_boleto(agreement: Agreement, request: BoletoRequest) -> IssuedBoleto:
    """Nosso número, campo livre, barcode and linha digitável for one boleto of ``agreement``."""
    nosso, campo_livre = nosso_numero_and_campo_livre(agreement, request)
    barcode = build_barcode(agreement.bank_code, request.due_date, request.amount_cents, campo_livre)
    return IssuedBoleto(nosso, campo_livre, barcode, barcode_to_linha(barcode))
