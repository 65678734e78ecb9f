import { describe, expect, it } from "vitest";

import { ApiError, toApiError } from "./api/errors";
import { draftOf, type EditField, explainConflict, patchOf, saveFailure, staleVersion } from "./editing";
import { partFields } from "./pages/Stock";
import { userFields } from "./pages/Users";

const customerFields: EditField[] = [
  { name: "name", label: "Nome", kind: "text" },
  { name: "email", label: "E-mail", kind: "optional" },
  { name: "notes", label: "Observações", kind: "optional" },
];
const customer = { id: "c1", name: "Ana Souza", email: "ana@exemplo.com.br", notes: null, version: 3 };

describe("the edit form's body", () => {
  it("starts from the record, empty text for what it lacks", () => {
    expect(draftOf(customerFields, customer)).toEqual({ name: "Ana Souza", email: "ana@exemplo.com.br", notes: "" });
  });

  it("sends only what changed, trimmed, and null for an emptied optional field", () => {
    const draft = { name: "  Ana Souza Lima ", email: "", notes: "" };
    expect(patchOf(customerFields, customer, draft)).toEqual({
      ok: true,
      body: { name: "Ana Souza Lima", email: null },
    });
  });

  it("sends nothing when nothing changed", () => {
    expect(patchOf(customerFields, customer, draftOf(customerFields, customer))).toEqual({ ok: true, body: {} });
  });

  it("refuses an emptied required field, naming it", () => {
    const result = patchOf(customerFields, customer, { name: "  ", email: "", notes: "" });
    expect(result).toEqual({ ok: false, field: "name", message: "Preencha o campo Nome." });
  });

  it("reads prices as centavos and quantities as whole numbers, never through a float", () => {
    const fields = partFields(true);
    const part = {
      name: "Tela A54",
      brand: null,
      model: "A54",
      sku: null,
      min_quantity: 2,
      price_cents: 15000,
      cost_cents: 9990,
    };
    const draft = draftOf(fields, part);
    expect(draft.price_cents).toBe("150,00");
    expect(draft.cost_cents).toBe("99,90");
    expect(patchOf(fields, part, { ...draft, price_cents: "R$ 1.234,56", min_quantity: "5" })).toEqual({
      ok: true,
      body: { price_cents: 123456, min_quantity: 5 },
    });
    expect(patchOf(fields, part, { ...draft, min_quantity: "2,5" })).toMatchObject({
      ok: false,
      field: "min_quantity",
    });
    expect(patchOf(fields, part, { ...draft, price_cents: "abc" })).toMatchObject({ ok: false, field: "price_cents" });
  });

  it("offers no prices to who does not see money, and no role change for the owner", () => {
    expect(partFields(false).map((f) => f.name)).not.toContain("price_cents");
    expect(userFields({ role: "owner" }).map((f) => f.name)).toEqual(["name"]);
    expect(userFields({ role: "technician" }).map((f) => f.name)).toEqual(["name", "role"]);
  });
});

describe("a save that lost the race", () => {
  const conflict = toApiError(409, {
    code: "customer_stale",
    message: "Este cliente foi alterado por outra pessoa.",
    details: { current_version: 4 },
  });

  it("is explained in pt-BR with the version the record is at now", () => {
    expect(staleVersion(conflict)).toBe(4);
    expect(saveFailure(conflict, "x")).toMatch(/^Outra pessoa alterou este cadastro .*versão 4.*Nada foi salvo/);
  });

  it("leaves other refusals to the API's own message", () => {
    const invalid = toApiError(422, { code: "validation_error", message: "Telefone inválido." });
    expect(staleVersion(invalid)).toBeUndefined();
    expect(saveFailure(invalid, invalid.message)).toBe("Telefone inválido.");
  });

  it("is rethrown with that sentence by one-click changes", async () => {
    const failure = await explainConflict(Promise.reject(conflict)).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApiError);
    expect((failure as ApiError).message).toMatch(/Outra pessoa alterou/);
    await expect(explainConflict(Promise.resolve(7))).resolves.toBe(7);
  });
});
