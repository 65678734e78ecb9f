import { t } from "../i18n";

/** What the API answered when it refused: the HTTP status, the stable code and its pt-BR message. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;

  constructor(status: number, code: string, message: string, details: unknown = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

function fallbackMessage(status: number): string {
  if (status === 0) return t.errors.network;
  if (status === 401) return t.errors.unauthorized;
  if (status === 402) return t.errors.paymentRequired;
  if (status === 403) return t.errors.forbidden;
  if (status === 404) return t.errors.notFound;
  if (status === 409) return t.errors.conflict;
  if (status === 422) return t.errors.invalid;
  if (status === 429) return t.errors.tooMany;
  return t.errors.server;
}

/** A field the API names ("items.0.quantity"), in the forms' words: "Quantidade (item 1)". */
export function fieldLabel(field: string): string {
  const parts = field.split(".");
  const name = [...parts].reverse().find((p) => !/^\d+$/.test(p)) ?? field;
  const positions = parts.filter((p) => /^\d+$/.test(p)).map((p) => Number(p) + 1);
  const label = t.fields[name] ?? name;
  return positions.length ? `${label} (item ${positions.join(".")})` : label;
}

/** What a 422 says of each field it refused (details: [{field, message}]): "Vencimento: data inválida". */
export function invalidFields(details: unknown): string[] {
  if (!Array.isArray(details)) return [];
  const seen = new Set<string>();
  for (const detail of details as unknown[]) {
    if (detail === null || typeof detail !== "object") continue;
    const { field, message } = detail as Record<string, unknown>;
    if (typeof message !== "string" || !message) continue;
    seen.add(typeof field === "string" && field ? `${fieldLabel(field)}: ${message}` : message);
  }
  return [...seen];
}

/** The API's error body ({code, message, details}) or FastAPI-style validation errors, as an ApiError.
 * A validation error's message names the fields it refused, which the API's message asks to check. */
export function toApiError(status: number, body: unknown): ApiError {
  if (body !== null && typeof body === "object") {
    const b = body as Record<string, unknown>;
    if (typeof b.code === "string" && typeof b.message === "string") {
      const named = b.code === "validation_error" ? invalidFields(b.details) : [];
      const message = named.length ? `${b.message} ${named.join("; ")}.` : b.message;
      return new ApiError(status, b.code, message, b.details ?? null);
    }
    if (Array.isArray(b.detail)) {
      const first = b.detail[0] as Record<string, unknown> | undefined;
      const where = Array.isArray(first?.loc) ? first.loc.slice(1).join(".") : "";
      const why = typeof first?.msg === "string" ? first.msg : "";
      return new ApiError(status, "validation_error", `${t.errors.invalid}${where ? ` (${where}: ${why})` : ""}`);
    }
  }
  return new ApiError(status, `http_${status}`, fallbackMessage(status));
}

/** A form's own refusal, in pt-BR, before anything is sent (a field that does not read): shown as is,
 * unlike any other Error, whose text is not meant for the person at the counter. */
export class Problem extends Error {
  constructor(message: string) {
    super(message);
    this.name = "Problem";
  }
}

export function messageOf(error: unknown): string {
  if (error instanceof ApiError || error instanceof Problem) return error.message;
  if (error instanceof TypeError) return t.errors.network;
  return t.errors.server;
}

/** The statuses a refused transition names as allowed (409 details.allowed), if any. */
export function allowedFromConflict(error: unknown): string[] {
  if (!(error instanceof ApiError) || error.status !== 409) return [];
  const details = error.details as Record<string, unknown> | null;
  const allowed = details?.allowed;
  return Array.isArray(allowed) ? allowed.filter((s): s is string => typeof s === "string") : [];
}
