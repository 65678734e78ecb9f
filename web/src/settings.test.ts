import { describe, expect, it } from "vitest";

import { messageOf, Problem, toApiError } from "./api/errors";
import {
  addressPath,
  brDate,
  logoProblem,
  parseBookingHours,
  parseClosedDates,
  parseReminders,
  remindersToText,
  smtpBody,
  templateProblems,
  whatsappTemplates,
  workflowEdges,
  writableCalendars,
} from "./settings";

describe("the WhatsApp texts' save", () => {
  it("sends every key (the PUT replaces them), an emptied one as null to go back to the default", () => {
    expect(whatsappTemplates(["welcome", "menu", "away"], { welcome: " Olá! ", menu: "" })).toEqual({
      welcome: "Olá!",
      menu: null,
      away: null,
    });
  });

  it("reads the API's per-text problems", () => {
    const refused = toApiError(422, {
      code: "validation_error",
      message: "Confira os dados.",
      details: { templates: { welcome: ["Variável desconhecida: {{NOME}}."] } },
    });
    expect(templateProblems(refused)).toEqual({ welcome: "Variável desconhecida: {{NOME}}." });
    expect(templateProblems(toApiError(409, { code: "stale", message: "x" }))).toEqual({});
  });
});

describe("the status machine's checkboxes", () => {
  it("lists allowed and disabled transitions once each, in the order the work flows", () => {
    const statuses = ["received", "diagnosing", "quote_sent", "cancelled"];
    const edges = workflowEdges(statuses, { diagnosing: ["quote_sent", "cancelled"], received: ["diagnosing"] }, [
      ["received", "cancelled"],
      ["received", "diagnosing"],
    ]);
    expect(edges).toEqual([
      ["received", "diagnosing"],
      ["received", "cancelled"],
      ["diagnosing", "quote_sent"],
      ["diagnosing", "cancelled"],
    ]);
  });
});

describe("the logo", () => {
  it("must be a PNG or JPEG within the upload form's limit", () => {
    expect(logoProblem({ type: "image/png", size: 1000 }, 524288)).toBeNull();
    expect(logoProblem({ type: "image/webp", size: 1000 }, 524288)).toMatch(/PNG ou JPEG/);
    expect(logoProblem({ type: "image/jpeg", size: 600_000 }, 524288)).toMatch(/512 KB/);
  });
});

describe("the WhatsApp texts' labels", () => {
  it("names each text in pt-BR, the status notices by their status, and an unknown key by itself", async () => {
    const { t } = await import("./i18n");
    expect(t.settingsPages.templateLabel("menu")).toBe("Menu de boas-vindas");
    expect(t.settingsPages.templateLabel("status_ready")).toBe("Aviso de situação da OS: Pronto para retirada");
    expect(t.settingsPages.templateLabel("status_nope")).toBe('Texto "status_nope"');
    expect(t.settingsPages.templateLabel("novo_texto")).toBe('Texto "novo_texto"');
  });
});

describe("the scheduling rules' fields", () => {
  it("reads booking hours, crossing midnight allowed, never an empty interval nor more than 4", () => {
    expect(parseBookingHours("")).toEqual([]);
    expect(parseBookingHours("08:00-12:00, 22:00 às 02:00")).toEqual([
      ["08:00", "12:00"],
      ["22:00", "02:00"],
    ]);
    expect(parseBookingHours("18:00-24:00")).toEqual([["18:00", "24:00"]]);
    expect(parseBookingHours("10:00-10:00")).toBeNull();
    expect(parseBookingHours("8h-12h")).toBeNull();
    expect(parseBookingHours("18:00-24:30")).toBeNull();
    expect(parseBookingHours("01:00-02:00, 03:00-04:00, 05:00-06:00, 07:00-08:00, 09:00-10:00")).toBeNull();
  });

  it("reads closed dates in either form, sorted without repeats, and names the first bad one", () => {
    expect(parseClosedDates("25/12/2026\n2026-01-01, 1/1/2026\n\n")).toEqual({
      dates: ["2026-01-01", "2026-12-25"],
    });
    expect(parseClosedDates("30/02/2026")).toEqual({ bad: "30/02/2026" });
    expect(parseClosedDates("amanhã")).toEqual({ bad: "amanhã" });
    expect(parseClosedDates("")).toEqual({ dates: [] });
    expect(brDate("2026-12-25")).toBe("25/12/2026");
  });

  it("reads reminders in hours or minutes, longest first, within 5 min..7 days, at most 4", () => {
    expect(parseReminders("2 h, 24h, 30 min, 120")).toEqual([1440, 120, 30]);
    expect(parseReminders("")).toEqual([]);
    expect(parseReminders("3 min")).toBeNull();
    expect(parseReminders("169 h")).toBeNull();
    expect(parseReminders("1h, 2h, 3h, 4h, 5h")).toBeNull();
    expect(parseReminders("amanhã")).toBeNull();
    expect(remindersToText([1440, 120, 30])).toBe("24 h, 2 h, 30 min");
    expect(parseReminders(remindersToText([1440, 90]))).toEqual([1440, 90]);
  });
});

describe("the shop's SMTP server", () => {
  const draft = {
    host: " SMTP.Example.com ",
    port: "587",
    security: "starttls" as const,
    username: "loja@example.com",
    password: "",
    from_address: " loja@example.com ",
  };

  it("keeps the stored password when the field is left empty", () => {
    expect(smtpBody(draft, 3)).toEqual({
      host: "smtp.example.com",
      port: 587,
      security: "starttls",
      username: "loja@example.com",
      from_address: "loja@example.com",
      version: 3,
    });
    expect(smtpBody({ ...draft, password: "s3nha" }, 3)).toMatchObject({ password: "s3nha" });
  });

  it("asks for the password on the first save with a user, and refuses a port out of range", () => {
    expect(smtpBody(draft, 0)).toEqual({ problem: "Informe a senha do servidor SMTP." });
    expect(smtpBody({ ...draft, username: "" }, 0)).toMatchObject({ username: null, version: 0 });
    expect(smtpBody({ ...draft, port: "70000" }, 1)).toHaveProperty("problem");
    expect(smtpBody({ ...draft, port: "5x" }, 1)).toHaveProperty("problem");
  });

  it("offers as the appointments' calendar only those the account may write", () => {
    const calendars = [
      { id: "a", access_role: "owner" },
      { id: "b", access_role: "reader" },
      { id: "c", access_role: "writer" },
      { id: "d", access_role: "freeBusyReader" },
    ];
    expect(writableCalendars(calendars).map((c) => c.id)).toEqual(["a", "c"]);
  });
});

describe("a form's own refusal", () => {
  it("is shown as written, while any other Error's text stays out of sight", () => {
    expect(messageOf(new Problem("Lembretes inválidos."))).toBe("Lembretes inválidos.");
    expect(messageOf(new Error("Cannot read properties of undefined"))).not.toContain("Cannot read");
    expect(messageOf(toApiError(409, { code: "conflict", message: "Outra pessoa alterou." }))).toBe(
      "Outra pessoa alterou.",
    );
  });
});

describe("a suppressed address in the path", () => {
  it("keeps the @ and encodes what a path segment cannot carry", () => {
    expect(addressPath("/email/suppressions/{address}", { address: "ana.souza@exemplo.com.br" })).toBe(
      "/email/suppressions/ana.souza@exemplo.com.br",
    );
    expect(addressPath("/email/suppressions/{address}", { address: "a/b?c#d%e@x.com" })).toBe(
      "/email/suppressions/a%2Fb%3Fc%23d%25e@x.com",
    );
  });
});
