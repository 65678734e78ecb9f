// Rules of the settings pages that are worth a test: what the WhatsApp texts' PUT carries, the
// status machine's edges as checkboxes, a logo file before it is uploaded.
import { ApiError } from "./api/errors";

/** PUT /settings/whatsapp replaces the shop's texts: every key goes, with its text, or null when
 * emptied (back to the default). A text equal to the default is stored as no override by the API. */
export function whatsappTemplates(
  keys: readonly string[],
  draft: Record<string, string>,
): Record<string, string | null> {
  const body: Record<string, string | null> = {};
  for (const key of keys) {
    const text = (draft[key] ?? "").trim();
    body[key] = text === "" ? null : text;
  }
  return body;
}

/** The per-text problems of a refused save (422 details.templates: key → messages). */
export function templateProblems(error: unknown): Record<string, string> {
  if (!(error instanceof ApiError) || error.status !== 422) return {};
  const details = error.details as Record<string, unknown> | null;
  const templates = details && !Array.isArray(details) ? details.templates : null;
  if (templates === null || typeof templates !== "object") return {};
  const problems: Record<string, string> = {};
  for (const [key, messages] of Object.entries(templates as Record<string, unknown>)) {
    if (Array.isArray(messages)) problems[key] = messages.filter((m) => typeof m === "string").join(" ");
  }
  return problems;
}

export type Edge = readonly [string, string];

/** Every transition of the default machine (the allowed ones plus those the shop disabled), in the
 * order of `statuses`: each becomes a checkbox. */
export function workflowEdges(
  statuses: readonly string[],
  transitions: Partial<Record<string, readonly string[]>>,
  disabled: readonly (readonly string[])[],
): Edge[] {
  const seen = new Set<string>();
  const edges: Edge[] = [];
  const add = (from: string, to: string) => {
    const key = `${from}>${to}`;
    if (seen.has(key)) return;
    seen.add(key);
    edges.push([from, to]);
  };
  for (const [from, targets] of Object.entries(transitions)) for (const to of targets ?? []) add(from, to);
  for (const edge of disabled) if (edge.length === 2 && edge[0] && edge[1]) add(edge[0], edge[1]);
  const rank = (s: string) => {
    const i = statuses.indexOf(s);
    return i === -1 ? statuses.length : i;
  };
  return edges.sort((a, b) => rank(a[0]) - rank(b[0]) || rank(a[1]) - rank(b[1]));
}

export const LOGO_TYPES = ["image/png", "image/jpeg"] as const;
export type LogoType = (typeof LOGO_TYPES)[number];

/** Why a file cannot be the logo (pt-BR), or null when it can go to the upload form. */
export function logoProblem(file: { type: string; size: number }, maxBytes: number): string | null {
  if (!(LOGO_TYPES as readonly string[]).includes(file.type)) return "O logo deve ser uma imagem PNG ou JPEG.";
  if (file.size > maxBytes) return `O logo passa de ${Math.floor(maxBytes / 1024)} KB.`;
  return null;
}
