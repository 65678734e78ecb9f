import { describe, expect, it } from "vitest";

import { toApiError } from "./api/errors";
import { logoProblem, templateProblems, whatsappTemplates, workflowEdges } from "./settings";

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
