// Editing a record the API changes with PATCH under optimistic locking: the form holds text, the
// body carries only what changed (typed back: centavos, integers, null for an emptied optional
// field), and a 409 says in pt-BR that someone else changed the record first.
import { ApiError } from "./api/errors";
import { bpText, parsePercent } from "./bank";
import { parseReais } from "./format";
import { t } from "./i18n";

/** How a field's text becomes the API's value: `text` must not be empty; `optional` sends null
 * when emptied; `int` a whole number ≥ 0; `cents` reais typed in pt-BR; `percent` a pt-BR
 * percentage sent as basis points (2,5 → 250); `choice` as selected. */
export type FieldKind = "text" | "optional" | "int" | "cents" | "percent" | "choice";

export interface EditField {
  name: string;
  label: string;
  kind: FieldKind;
  /** For `choice`: value → label, in display order. */
  options?: readonly (readonly [string, string])[];
  inputType?: "text" | "email" | "tel";
  maxLength?: number;
  multiline?: boolean;
}

export type Draft = Record<string, string>;

function centsText(cents: number): string {
  const reais = Math.trunc(cents / 100);
  const rest = String(Math.abs(cents % 100)).padStart(2, "0");
  return `${reais},${rest}`;
}

/** The form's starting text for a record. */
export function draftOf(fields: readonly EditField[], record: Record<string, unknown>): Draft {
  const draft: Draft = {};
  for (const field of fields) {
    const value = record[field.name];
    if (value === null || value === undefined) draft[field.name] = "";
    else if (field.kind === "cents" && typeof value === "number") draft[field.name] = centsText(value);
    else if (field.kind === "percent" && typeof value === "number") draft[field.name] = bpText(value);
    else draft[field.name] = String(value);
  }
  return draft;
}

export type PatchResult = { ok: true; body: Record<string, unknown> } | { ok: false; field: string; message: string };

/** The PATCH body (without `version`): the fields whose value changed, or the first field that
 * does not read as its kind, with a pt-BR message. An empty body means nothing changed. */
export function patchOf(fields: readonly EditField[], record: Record<string, unknown>, draft: Draft): PatchResult {
  const body: Record<string, unknown> = {};
  for (const field of fields) {
    const text = (draft[field.name] ?? "").trim();
    let value: unknown;
    switch (field.kind) {
      case "text":
        if (text === "") return { ok: false, field: field.name, message: t.edit.required(field.label) };
        value = text;
        break;
      case "optional":
        value = text === "" ? null : text;
        break;
      case "int": {
        if (!/^\d+$/.test(text)) return { ok: false, field: field.name, message: t.edit.badInt(field.label) };
        value = Number.parseInt(text, 10);
        break;
      }
      case "cents": {
        const cents = parseReais(text);
        if (cents === null) return { ok: false, field: field.name, message: t.errors.money };
        value = cents;
        break;
      }
      case "percent": {
        const bp = parsePercent(text);
        if (bp === null) return { ok: false, field: field.name, message: t.bank.badPercent(field.label) };
        value = bp;
        break;
      }
      case "choice":
        value = draft[field.name];
        break;
    }
    const before = record[field.name] ?? null;
    if (value !== before) body[field.name] = value;
  }
  return { ok: true, body };
}

/** Someone else saved the record first: the version the API now has (null when it did not say). */
export function staleVersion(error: unknown): number | null | undefined {
  if (!(error instanceof ApiError) || error.status !== 409) return undefined;
  const details = error.details as Record<string, unknown> | null;
  const version = details?.current_version;
  return typeof version === "number" ? version : null;
}

/** The pt-BR sentence for a failed save: the version conflict explained, or the API's message. */
export function saveFailure(error: unknown, fallback: string): string {
  const version = staleVersion(error);
  if (version !== undefined) return t.edit.conflict(version);
  return fallback;
}

/** `pending`, its 409 rethrown with the pt-BR conflict sentence (for one-click changes). */
export async function explainConflict<T>(pending: Promise<T>): Promise<T> {
  try {
    return await pending;
  } catch (failure) {
    const version = staleVersion(failure);
    if (version === undefined || !(failure instanceof ApiError)) throw failure;
    throw new ApiError(409, failure.code, t.edit.conflict(version), failure.details);
  }
}
