import { describe, expect, it } from "vitest";

import { allowedFromConflict, ApiError, toApiError } from "./api/errors";
import { parseConfig } from "./config";
import { formatCents, formatDate, parseReais, shopRange, shopToday } from "./format";
import { hoursToText, parseHours } from "./hours";
import { groupByStatus, matchesCard, staffTargets } from "./orders";
import { cancelsSubscription, managesShop, seesMoney } from "./roles";

describe("money", () => {
  it("reads what a person types as integer centavos", () => {
    expect(parseReais("389,90")).toBe(38990);
    expect(parseReais("R$ 1.234,5")).toBe(123450);
    expect(parseReais("12")).toBe(1200);
    expect(parseReais("0,07")).toBe(7);
    // 0.1 + 0.2 in floats is not 0.3: string arithmetic never goes through them
    expect(parseReais("1.000.000,30")).toBe(100000030);
  });

  it("refuses what is not an amount", () => {
    for (const text of ["", "abc", "1,234", "12.5", "-3", "1.2.3", "1,2,3"]) expect(parseReais(text)).toBeNull();
  });

  it("shows centavos as reais in pt-BR", () => {
    expect(formatCents(38990)).toBe("R$ 389,90");
    expect(formatCents(123456789)).toBe("R$ 1.234.567,89");
    expect(formatCents(0)).toBe("R$ 0,00");
  });

  it("shows a calendar date without shifting it by the time zone", () => {
    expect(formatDate("2026-03-01")).toBe("01/03/2026");
    expect(formatDate(null)).toBe("—");
  });
});

describe("the shop's calendar", () => {
  it("is Brasília's, whatever the browser's time zone", () => {
    // 23:30 in São Paulo on Feb 28th is already March 1st in UTC
    expect(shopToday(new Date("2026-03-01T02:30:00Z"))).toBe("2026-02-28");
    expect(shopToday(new Date("2026-03-01T03:00:00Z"))).toBe("2026-03-01");
  });

  it("bounds whole shop days", () => {
    expect(shopRange("2026-03-01", 1)).toEqual({ from: "2026-03-01T03:00:00.000Z", to: "2026-03-02T03:00:00.000Z" });
    expect(shopRange("2026-12-31", 7).to).toBe("2027-01-07T03:00:00.000Z");
  });
});

describe("run-time configuration", () => {
  it("takes the API base and the WebSocket URL from /config.json", () => {
    expect(parseConfig({ apiBase: "https://x.example/v1/", wsUrl: "wss://ws.example/v1" })).toEqual({
      apiBase: "https://x.example/v1",
      wsUrl: "wss://ws.example/v1",
    });
  });

  it("falls back to the build's base and no live updates", () => {
    expect(parseConfig(null, "/api")).toEqual({ apiBase: "/api", wsUrl: null });
    expect(parseConfig({ apiBase: "", wsUrl: "http://not-a-socket" }, "/api")).toEqual({
      apiBase: "/api",
      wsUrl: null,
    });
  });
});

describe("API errors", () => {
  it("keeps the stable code and the pt-BR message", () => {
    const error = toApiError(402, {
      code: "subscription_suspended",
      message: "Acesso suspenso por falta de pagamento.",
    });
    expect(error).toBeInstanceOf(ApiError);
    expect([error.status, error.code, error.message]).toEqual([
      402,
      "subscription_suspended",
      "Acesso suspenso por falta de pagamento.",
    ]);
  });

  it("says something useful for a bodiless answer or a validation error", () => {
    expect(toApiError(503, null).message).toMatch(/servidor/);
    expect(toApiError(422, { detail: [{ loc: ["body", "phone"], msg: "invalid" }] }).message).toMatch(/phone/);
  });

  it("names the fields a validation error refused, in the forms' words", () => {
    const error = toApiError(422, {
      code: "validation_error",
      message: "Dados inválidos. Verifique os campos indicados.",
      details: [
        { field: "due_date", type: "date_from_datetime_parsing", message: "data inválida (AAAA-MM-DD)" },
        { field: "items.0.quantity", type: "int_type", message: "deve ser um número inteiro" },
        { field: "items.0.quantity", type: "int_type", message: "deve ser um número inteiro" },
        { field: "fancy_new_field", type: "missing", message: "campo obrigatório" },
        { field: "", type: "model_attributes_type", message: "deve ser um objeto JSON" },
      ],
    });
    expect(error.code).toBe("validation_error");
    expect(error.message).toBe(
      "Dados inválidos. Verifique os campos indicados. Vencimento: data inválida (AAAA-MM-DD); " +
        "Quantidade (item 1): deve ser um número inteiro; fancy_new_field: campo obrigatório; " +
        "deve ser um objeto JSON.",
    );
    // Another refusal keeps its message as the API wrote it; details without messages add nothing
    expect(toApiError(409, { code: "conflict", message: "Já existe.", details: [{ field: "name" }] }).message).toBe(
      "Já existe.",
    );
    expect(
      toApiError(422, { code: "validation_error", message: "Dados inválidos.", details: { field: "x" } }).message,
    ).toBe("Dados inválidos.");
  });

  it("reads the allowed targets a refused transition lists", () => {
    const refused = toApiError(409, {
      code: "conflict",
      message: "Não é possível…",
      details: { from: "received", to: "ready", allowed: ["diagnosing", "cancelled"] },
    });
    expect(allowedFromConflict(refused)).toEqual(["diagnosing", "cancelled"]);
    expect(allowedFromConflict(toApiError(404, null))).toEqual([]);
  });
});

describe("order status machine", () => {
  const transitions = {
    received: ["diagnosing", "cancelled"],
    quote_sent: ["approved", "rejected", "cancelled"],
    delivered: [],
  };

  it("offers the shop's allowed targets", () => {
    expect(staffTargets("received", transitions)).toEqual(["diagnosing", "cancelled"]);
    expect(staffTargets("delivered", transitions)).toEqual([]);
  });

  it("leaves the quote's decision to the quote", () => {
    expect(staffTargets("quote_sent", transitions)).toEqual(["cancelled"]);
  });

  it("groups orders into the board's columns", () => {
    const groups = groupByStatus([
      { id: "a", status: "received" as const },
      { id: "b", status: "ready" as const },
      { id: "c", status: "received" as const },
    ]);
    expect(groups.get("received")?.map((o) => o.id)).toEqual(["a", "c"]);
    expect(groups.get("ready")?.map((o) => o.id)).toEqual(["b"]);
    expect(groups.get("repairing")).toEqual([]);
  });
});

describe("roles", () => {
  it("keeps money away from the technician", () => {
    expect(seesMoney("technician")).toBe(false);
    expect(seesMoney("attendant")).toBe(true);
    expect(managesShop("attendant")).toBe(false);
    expect(managesShop("owner")).toBe(true);
    expect(managesShop(null)).toBe(false);
  });
});

describe("business hours", () => {
  it("reads the intervals staff type, and writes them back the same", () => {
    expect(parseHours("08:00-12:00, 13:00-18:00")).toEqual([
      ["08:00", "12:00"],
      ["13:00", "18:00"],
    ]);
    expect(parseHours("09:00 às 13:00")).toEqual([["09:00", "13:00"]]);
    expect(parseHours("  ")).toEqual([]);
    expect(
      hoursToText([
        ["08:00", "12:00"],
        ["13:00", "18:00"],
      ]),
    ).toBe("08:00-12:00, 13:00-18:00");
  });

  it("refuses what is not an opening interval", () => {
    for (const text of ["8-12", "18:00-08:00", "12:00-12:00", "25:00-26:00", "08:00-12:00,", "abc"]) {
      expect(parseHours(text)).toBeNull();
    }
  });
});

describe("the board's quick filter", () => {
  const card = {
    number: 42,
    customer_name: "José Antônio da Conceição",
    device_label: "Samsung Galaxy A54",
    reported_problem: "Tela quebrada",
  };

  it("finds a card by customer, device, problem or number, ignoring accents and case", () => {
    expect(matchesCard(card, "jose")).toBe(true);
    expect(matchesCard(card, "CONCEICAO a54")).toBe(true);
    expect(matchesCard(card, "tela")).toBe(true);
    expect(matchesCard(card, "0042")).toBe(true);
    expect(matchesCard(card, "  ")).toBe(true);
  });

  it("needs every word typed", () => {
    expect(matchesCard(card, "jose iphone")).toBe(false);
    expect(matchesCard(card, "maria")).toBe(false);
  });
});

describe("cancelling the subscription", () => {
  it("is the owner's, once", () => {
    expect(cancelsSubscription("owner", { status: "active", cancel_on: null })).toBe(true);
    expect(cancelsSubscription("owner", { status: "past_due", cancel_on: null })).toBe(true);
    expect(cancelsSubscription("admin", { status: "active", cancel_on: null })).toBe(false);
    expect(cancelsSubscription("owner", { status: "active", cancel_on: "2026-12-30" })).toBe(false);
    expect(cancelsSubscription("owner", { status: "cancelled", cancel_on: "2026-11-01" })).toBe(false);
    expect(cancelsSubscription("owner", null)).toBe(false);
  });
});
