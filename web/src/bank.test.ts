import { describe, expect, it } from "vitest";

import {
  bankName,
  boletoOpen,
  bpText,
  defaultAgreement,
  fileCounts,
  freeBoletoBody,
  fitsUpload,
  monthSoFar,
  parsePercent,
  rateText,
  sendOutcome,
  waitingForRemessa,
  type Boleto,
} from "./bank";
import { draftOf, type EditField, patchOf } from "./editing";

describe("percentages as basis points", () => {
  it("reads what a person types in pt-BR", () => {
    expect(parsePercent("2")).toBe(200);
    expect(parsePercent("2,5")).toBe(250);
    expect(parsePercent("0,05")).toBe(5);
    expect(parsePercent("1.25 %")).toBe(125);
    expect(parsePercent("0")).toBe(0);
  });

  it("refuses what is not a percentage", () => {
    for (const bad of ["", "abc", "-1", "2,555", "1,2,3"]) expect(parsePercent(bad)).toBeNull();
  });

  it("writes basis points back the way they are typed", () => {
    expect(bpText(200)).toBe("2");
    expect(bpText(250)).toBe("2,5");
    expect(bpText(5)).toBe("0,05");
    expect(bpText(0)).toBe("0");
    expect(rateText(8750)).toBe("87,5%");
    expect(rateText(10000)).toBe("100%");
    for (const bp of [0, 1, 10, 99, 100, 133, 2000]) expect(parsePercent(bpText(bp))).toBe(bp);
  });

  it("edits a percent field: the draft reads 2,5, the patch sends 300 for 3", () => {
    const fields: EditField[] = [{ name: "fine_bp", label: "Multa (%)", kind: "percent" }];
    const record = { fine_bp: 250 };
    expect(draftOf(fields, record)).toEqual({ fine_bp: "2,5" });
    expect(patchOf(fields, record, { fine_bp: "3" })).toEqual({ ok: true, body: { fine_bp: 300 } });
    expect(patchOf(fields, record, { fine_bp: "2,50" })).toEqual({ ok: true, body: {} });
    const bad = patchOf(fields, record, { fine_bp: "dois" });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.message).toContain("Multa (%)");
  });
});

function boleto(status: Boleto["status"], remessa_id: string | null = null): Boleto {
  return { status, remessa_id } as Boleto;
}

describe("boletos", () => {
  it("only an issued or registered boleto is still owed", () => {
    expect(boletoOpen("issued")).toBe(true);
    expect(boletoOpen("registered")).toBe(true);
    for (const closed of ["settled", "written_off", "cancelled"] as const) expect(boletoOpen(closed)).toBe(false);
  });

  it("a remessa carries the issued boletos not sent yet", () => {
    const waiting = boleto("issued");
    expect(waitingForRemessa([waiting, boleto("issued", "r1"), boleto("registered", "r1")])).toEqual([waiting]);
  });

  it("names the channel the API answered", () => {
    const base = { message_id: null, reason: null, to: null };
    expect(sendOutcome({ ...base, channel: "whatsapp", status: "queued" })).toContain("WhatsApp");
    expect(sendOutcome({ ...base, channel: "email", status: "sent", to: "ana@exemplo.com.br" })).toBe(
      "Enviado por e-mail para ana@exemplo.com.br.",
    );
    expect(sendOutcome({ ...base, channel: "email", status: "suppressed", to: "x@y.com" })).toContain("bloqueado");
    expect(sendOutcome({ ...base, channel: "email", status: "failed", reason: "SMTP fora" })).toContain("SMTP fora");
  });

  it("names the bank, or shows the code it does not know", () => {
    expect(bankName("341")).toBe("Itaú");
    expect(bankName("999")).toBe("999");
  });
});

describe("bank files and reconciliation", () => {
  it("the reconciliation starts at the first of the shop's month", () => {
    expect(monthSoFar("2026-11-30")).toEqual({ from: "2026-11-01", to: "2026-11-30" });
    expect(monthSoFar("2026-01-01")).toEqual({ from: "2026-01-01", to: "2026-01-01" });
  });

  it("a file's counts say only what happened", () => {
    expect(fileCounts({ occurrence_count: 5, duplicate_count: 0, unmatched_count: 0 })).toBe("5 ocorrência(s)");
    expect(fileCounts({ occurrence_count: 5, duplicate_count: 2, unmatched_count: 1 })).toBe(
      "5 ocorrência(s) · 2 repetida(s) · 1 sem boleto",
    );
  });

  it("an empty or too large file does not go to the bucket", () => {
    expect(fitsUpload(0, 100)).toBe(false);
    expect(fitsUpload(101, 100)).toBe(false);
    expect(fitsUpload(100, 100)).toBe(true);
  });
});

describe("the free boleto form", () => {
  const draft = {
    customerId: "c1",
    agreementId: "a1",
    amount: "R$ 1.234,5",
    due: "2026-12-07",
    description: "  Manutenção preventiva  ",
  };

  it("sends the amount as integer centavos and the rest as typed", () => {
    expect(freeBoletoBody(draft)).toEqual({
      body: {
        customer_id: "c1",
        agreement_id: "a1",
        amount_cents: 123450,
        due_date: "2026-12-07",
        description: "  Manutenção preventiva  ",
      },
    });
    expect(freeBoletoBody({ ...draft, amount: "0,01" }).body?.amount_cents).toBe(1);
    expect(freeBoletoBody({ ...draft, amount: "389,90" }).body?.amount_cents).toBe(38990);
  });

  it("refuses, in pt-BR, what cannot be sent", () => {
    expect(freeBoletoBody({ ...draft, customerId: "" })).toEqual({ problem: "Escolha o cliente." });
    expect(freeBoletoBody({ ...draft, agreementId: "" })).toEqual({ problem: "Escolha o convênio." });
    expect(freeBoletoBody({ ...draft, due: "" })).toEqual({ problem: "Informe o vencimento." });
    for (const description of ["", "   "]) {
      expect(freeBoletoBody({ ...draft, description })).toEqual({ problem: "Informe o que está sendo cobrado." });
    }
    for (const amount of ["", "0", "0,00", "-5", "12,345", "abc", "1.2"]) {
      expect(freeBoletoBody({ ...draft, amount })).toEqual({ problem: "Valor inválido: use por exemplo 389,90." });
    }
  });

  it("goes under the shop's only active agreement unless one is picked", () => {
    expect(defaultAgreement([{ id: "a1", active: true }])).toBe("a1");
    expect(
      defaultAgreement([
        { id: "a1", active: false },
        { id: "a2", active: true },
      ]),
    ).toBe("a2");
    expect(
      defaultAgreement([
        { id: "a1", active: true },
        { id: "a2", active: true },
      ]),
    ).toBe("");
    expect(defaultAgreement([{ id: "a1", active: false }])).toBe("");
    expect(defaultAgreement([])).toBe("");
  });
});
