"""Our CNAB 240 field maps against python-cnab's JSON specs (copied in tests/fixtures/cnab/
layout_specs_python-cnab, MIT): for every field both define (python-cnab's name mapped to ours),
the same first and last column. The few places we differ are listed with the reason (the bank's
own manual, or a fixture file that shows the spec wrong); anything else that differs fails."""

from __future__ import annotations

import json
from typing import Any

import pytest

from assistec.domain.banking.cnab import febraban240 as fb
from assistec.domain.banking.cnab.banks import CNAB240
from assistec.domain.banking.cnab.engine import Record
from tests.unit.cnab_support import FIXTURES

SPECS = FIXTURES / "layout_specs_python-cnab"

# python-cnab's field names -> ours (one meaning each).
NAMES = {
    "controle_banco": "bank_code",
    "codigo_banco": "bank_code",
    "controle_lote": "lot",
    "lote_servico": "lot",
    "controle_registro": "record_type",
    "tipo_registro": "record_type",
    "servico_numero_registro": "record_number",
    "servico_segmento": "segment",
    "servico_codigo_movimento": "movement",
    "cedente_inscricao_tipo": "company_doc_type",
    "cedente_inscricao_numero": "company_document",
    "codigo_convenio_banco": "agreement_code",
    "cedente_convenio": "agreement_code",
    "codigo_beneficiario": "agreement_code",
    "cedente_agencia": "branch",
    "cedente_agencia_dv": "branch_dv",
    "cedente_conta": "account",
    "cedente_conta_dv": "account_dv",
    "cedente_dv_ag_cc": "branch_account_dv",
    "dv_agencia_conta": "branch_account_dv",
    "cedente_nome": "company_name",
    "nome_do_banco": "bank_name",
    "arquivo_codigo": "file_kind",
    "codigo_remessa_retorno": "file_kind",
    "codigo_remessa": "file_kind",
    "arquivo_data_de_geracao": "file_date",
    "arquivo_hora_de_geracao": "file_time",
    "arquivo_sequencia": "sequence",
    "arquivo_layout": "layout_version",
    "arquivo_densidade": "density",
    "servico_operacao": "operation",
    "servico_layout": "lot_layout_version",
    "controlecob_numero": "sequence",
    "controlecob_data_gravacao": "recorded_on",
    "nosso_numero": "nosso_numero",
    "numero_documento": "document_number",
    "vencimento_titulo": "due_date",
    "valor_tarifas": "fee_cents",
    "motivo_ocorrencia": "reasons",
    "sacado_inscricao_tipo": "payer_doc_type",
    "sacado_inscricao_numero": "payer_document",
    "sacado_nome": "payer_name",
    "sacado_endereco": "payer_address",
    "sacado_bairro": "payer_district",
    "sacado_cidade": "payer_city",
    "sacado_uf": "payer_state",
    "titulo_acrescimos": "interest_cents",
    "titulo_desconto": "discount_cents",
    "titulo_abatimento": "abatement_cents",
    "titulo_iof": "iof_cents",
    "titulo_pago": "paid_cents",
    "titulo_liquido": "credited_cents",
    "outras_despesas": "other_expenses_cents",
    "outros_creditos": "other_credits_cents",
    "data_ocorrencia": "occurred_on",
    "data_credito": "credited_on",
    "quantidade_registros": "records",
    "totais_quantidade_lotes": "lots",
    "totais_quantidade_registros": "records",
    "data_emissao_titulo": "issue_date",
    "especie_titulo": "species",
    "aceite_titulo": "acceptance",
}
# valor_titulo is the title's value: title_cents in the retorno's T, amount_cents in the remessa's P.
T_NAMES = {**NAMES, "valor_titulo": "title_cents"}
P_NAMES = {**NAMES, "valor_titulo": "amount_cents"}

# (bank dir, spec file) -> the bank's record, and the names to map with.
CASES: list[tuple[str, str, Record, dict[str, str]]] = [
    ("banco_brasil", "header_arquivo", CNAB240["001"].file_header, NAMES),
    ("banco_brasil", "header_lote_cobranca", CNAB240["001"].lot_header, NAMES),
    ("banco_brasil", "segmento_t", CNAB240["001"].seg_t, T_NAMES),
    ("banco_brasil", "segmento_u", CNAB240["001"].seg_u, NAMES),
    ("banco_brasil", "segmento_p", CNAB240["001"].seg_p, P_NAMES),
    ("banco_brasil", "segmento_q", CNAB240["001"].seg_q, P_NAMES),
    ("banco_brasil", "trailer_lote_cobranca", CNAB240["001"].lot_trailer, NAMES),
    ("banco_brasil", "trailer_arquivo", CNAB240["001"].file_trailer, NAMES),
    ("cef", "header_arquivo", CNAB240["104"].file_header, NAMES),
    ("cef", "segmento_t", CNAB240["104"].seg_t, T_NAMES),
    ("cef", "segmento_u", CNAB240["104"].seg_u, NAMES),
    ("itauRetorno", "header_arquivo", CNAB240["341"].file_header, NAMES),
    ("itauRetorno", "segmento_t", CNAB240["341"].seg_t, T_NAMES),
    ("itauRetorno", "segmento_u", CNAB240["341"].seg_u, NAMES),
    ("santander", "header_arquivo_retorno", CNAB240["033"].file_header, NAMES),
    ("santander", "header_lote_cobranca_retorno", CNAB240["033"].lot_header, NAMES),
    ("santander", "segmento_t", CNAB240["033"].seg_t, T_NAMES),
    ("santander", "segmento_u", CNAB240["033"].seg_u, NAMES),
    ("santander", "trailer_lote_cobranca_retorno", CNAB240["033"].lot_trailer, NAMES),
    ("sicoob", "segmento_t", CNAB240["756"].seg_t, T_NAMES),
    ("sicoob", "segmento_u", CNAB240["756"].seg_u, NAMES),
    ("sicredi", "header_arquivo", CNAB240["748"].file_header, NAMES),
    ("sicredi", "segmento_t", CNAB240["748"].seg_t, T_NAMES),
    ("sicredi", "segmento_u", CNAB240["748"].seg_u, NAMES),
    ("bradesco", "segmento_t", fb.SEG_T, T_NAMES),  # Bradesco 240 is FEBRABAN's: the base record
    ("bradesco", "segmento_u", fb.SEG_U, NAMES),
]

# Where we deliberately differ from python-cnab, and why.
KNOWN: dict[tuple[str, str, str], str] = {
    (
        "sicoob",
        "segmento_t",
        "nosso_numero",
    ): "Sicoob's manual: 38-47 (10 digits with the DV); python-cnab cuts "
    "it at 46, dropping the DV (CNAB240SICOOB.RET shows 0000000083 + 01 + 01 + 1)",
    ("itauRetorno", "segmento_t", "nosso_numero"): "kept with its DAC, 41-49, as the remessa writes it",
    ("cef", "segmento_t", "nosso_numero"): "python-cnab splits it (modality 40-41 + number 42-56); ours is "
    "the whole 40-56",
}


def _spec(bank: str, name: str) -> list[dict[str, Any]]:
    data = json.loads((SPECS / bank / f"{name}.json").read_text())
    return list(data["campos"].values())


@pytest.mark.parametrize(("bank", "spec", "record", "names"), CASES, ids=[f"{c[0]}/{c[1]}" for c in CASES])
def test_field_positions_match_the_spec(bank: str, spec: str, record: Record, names: dict[str, str]) -> None:
    compared = 0
    mismatches: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {}
    for field in _spec(bank, spec):
        ours = names.get(field["nome"])
        if ours is None or ours not in record.by_name:
            continue
        mine = record.by_name[ours]
        compared += 1
        theirs = (field["posicao_inicio"], field["posicao_fim"])
        if (mine.start, mine.end) != theirs:
            mismatches[ours] = (theirs, (mine.start, mine.end))
    known = {f for (b, s, f) in KNOWN if (b, s) == (bank, spec)}
    assert set(mismatches) == known, mismatches
    assert compared >= 4, f"only {compared} fields compared: the name map is missing this spec's names"
