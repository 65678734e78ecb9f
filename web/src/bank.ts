// The shop's own bank (convênios, boletos, remessas, the bank's files, reconciliation): what the
// pages compute without the API. Rates are basis points (1% = 100), money integer centavos.
import type { components } from "./api/schema";
import { parseReais } from "./format";
import { t } from "./i18n";

type S = components["schemas"];
export type Boleto = S["BoletoOut"];
export type BoletoStatus = Boleto["status"];

/** The banks the API takes (FEBRABAN code → the name the staff know). */
export const BANKS: readonly (readonly [S["AgreementIn"]["bank_code"], string])[] = [
  ["001", "Banco do Brasil"],
  ["033", "Santander"],
  ["104", "Caixa"],
  ["237", "Bradesco"],
  ["341", "Itaú"],
  ["748", "Sicredi"],
  ["756", "Sicoob"],
  ["085", "Ailos"],
  ["208", "BTG Pactual"],
  ["077", "Inter"],
];

export function bankName(code: string): string {
  return BANKS.find(([c]) => c === code)?.[1] ?? code;
}

/** Basis points as a pt-BR percentage without the sign: 250 → "2,5", 200 → "2", 5 → "0,05". */
export function bpText(bp: number): string {
  const whole = Math.trunc(bp / 100);
  const rest = String(Math.abs(bp % 100))
    .padStart(2, "0")
    .replace(/0+$/, "");
  return rest ? `${whole},${rest}` : String(whole);
}

/** "2", "2,5", "0,05", "1%" → basis points; null when it is not a percentage (at most 2 decimals). */
export function parsePercent(text: string): number | null {
  const match = /^(\d{1,4})(?:[.,](\d{1,2}))?$/.exec(text.replace(/%/g, "").replace(/\s/g, ""));
  if (!match) return null;
  return Number(match[1]) * 100 + Number(((match[2] ?? "") + "00").slice(0, 2));
}

/** A boleto still owed: it can be sent to the customer and instructed (baixa, new due date). */
export function boletoOpen(status: BoletoStatus): boolean {
  return status === "issued" || status === "registered";
}

/** The boletos a new remessa would carry: issued here, not yet sent to the bank. */
export function waitingForRemessa(boletos: readonly Boleto[]): Boleto[] {
  return boletos.filter((b) => b.status === "issued" && !b.remessa_id);
}

/** The first day of `today`'s month to `today` (YYYY-MM-DD): the reconciliation's default period. */
export function monthSoFar(today: string): { from: string; to: string } {
  return { from: `${today.slice(0, 7)}-01`, to: today };
}

/** The auto-match rate (10000 = 100%) as pt-BR: 8750 → "87,5%". */
export function rateText(bp: number): string {
  return `${bpText(bp)}%`;
}

/** The bank file's counts in one pt-BR phrase. */
export function fileCounts(f: { occurrence_count: number; duplicate_count: number; unmatched_count: number }): string {
  const parts = [`${f.occurrence_count} ocorrência(s)`];
  if (f.duplicate_count) parts.push(`${f.duplicate_count} repetida(s)`);
  if (f.unmatched_count) parts.push(`${f.unmatched_count} sem boleto`);
  return parts.join(" · ");
}

/** What the counter reads after "Enviar": the channel the API used and what became of it. */
export function sendOutcome(answer: S["BoletoSendOut"]): string {
  if (answer.channel === "whatsapp") return "Enviado por WhatsApp (na fila de envio).";
  const to = answer.to ? ` para ${answer.to}` : "";
  if (answer.status === "sent") return `Enviado por e-mail${to}.`;
  if (answer.status === "suppressed") return `E-mail não enviado${to}: o endereço foi bloqueado antes.`;
  return `O e-mail${to} falhou${answer.reason ? `: ${answer.reason}` : ""}.`;
}

/** Whether the file chosen fits the presigned form (the bucket refuses larger, silently here). */
export function fitsUpload(size: number, maxBytes: number): boolean {
  return size > 0 && size <= maxBytes;
}

/** The agreement a free boleto goes under unless the person picks another: the shop's only active
 * one; "" when there are several (they choose) or none. */
export function defaultAgreement(agreements: readonly { id: string; active: boolean }[]): string {
  const active = agreements.filter((a) => a.active);
  return active.length === 1 ? (active[0]?.id ?? "") : "";
}

/** What the "Emitir boleto avulso" form holds, as typed. */
export interface FreeBoletoDraft {
  customerId: string;
  agreementId: string;
  amount: string;
  due: string;
  description: string;
}

/** The form as the API's body (the amount typed in reais → integer centavos), or the pt-BR reason
 * it is not sent. The description goes as typed: the API trims it and says when nothing is left. */
export function freeBoletoBody(
  draft: FreeBoletoDraft,
): { body: S["FreeBoletoIn"]; problem?: undefined } | { body?: undefined; problem: string } {
  if (!draft.customerId) return { problem: t.bank.pickCustomer };
  if (!draft.agreementId) return { problem: t.bank.pickAgreement };
  const cents = parseReais(draft.amount);
  if (cents === null || cents <= 0) return { problem: t.errors.money };
  if (!draft.due) return { problem: t.bank.pickDue };
  if (!draft.description.trim()) return { problem: t.bank.describeCharge };
  return {
    body: {
      customer_id: draft.customerId,
      agreement_id: draft.agreementId,
      amount_cents: cents,
      due_date: draft.due,
      description: draft.description,
    },
  };
}
