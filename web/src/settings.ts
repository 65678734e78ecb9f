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

// --- Scheduling rules ------------------------------------------------------------------------------

/** Booking hours of one weekday as typed ("08:00-12:00, 22:00-02:00"): unlike the business hours an
 * interval may cross midnight (its end before its start), but never end where it starts; at most 4.
 * Null when the text does not read so. */
export function parseBookingHours(text: string): string[][] | null {
  const trimmed = text.trim();
  if (trimmed === "") return [];
  const intervals: string[][] = [];
  for (const part of trimmed.split(/[,;]/)) {
    const match = /^\s*([01]\d|2[0-3]):([0-5]\d)\s*(?:-|–|a|às)\s*([01]\d|2[0-3]|24):([0-5]\d)\s*$/.exec(part);
    if (!match) return null;
    if (match[3] === "24" && match[4] !== "00") return null;
    const from = `${match[1]}:${match[2]}`;
    const to = `${match[3]}:${match[4]}`;
    if (from === to) return null;
    intervals.push([from, to]);
  }
  return intervals.length > 4 ? null : intervals;
}

/** Closed dates typed one per line or separated by commas, as DD/MM/AAAA or AAAA-MM-DD: the ISO dates,
 * sorted and without repeats, or the first entry that is not a real date. */
export function parseClosedDates(text: string): { dates: string[] } | { bad: string } {
  const dates = new Set<string>();
  for (const raw of text.split(/[\n,;]/)) {
    const entry = raw.trim();
    if (entry === "") continue;
    const br = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(entry);
    const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(entry);
    const [y, m, d] = br ? [br[3], br[2], br[1]] : iso ? [iso[1], iso[2], iso[3]] : [];
    if (!y || !m || !d) return { bad: entry };
    const year = Number(y);
    const month = Number(m);
    const day = Number(d);
    const check = new Date(Date.UTC(year, month - 1, day));
    if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day)
      return { bad: entry };
    dates.add(`${y}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`);
  }
  return { dates: [...dates].sort() };
}

/** An ISO date as staff read it (DD/MM/AAAA). */
export function brDate(iso: string): string {
  const [y, m, d] = iso.split("-");
  return `${d}/${m}/${y}`;
}

/** Reminder offsets typed as "24 h, 2 h, 30 min" (a bare number is minutes): minutes, longest first,
 * without repeats; null when an entry does not read, falls outside 5 min..7 days, or there are more
 * than 4. */
export function parseReminders(text: string): number[] | null {
  const minutes = new Set<number>();
  for (const raw of text.split(/[,;]/)) {
    const entry = raw.trim().toLowerCase();
    if (entry === "") continue;
    const match = /^(\d{1,5})\s*(h|hs|hora|horas|min|m|minutos?)?$/.exec(entry);
    if (!match) return null;
    const unit = match[2] ?? "min";
    const value = Number(match[1]) * (unit.startsWith("h") ? 60 : 1);
    if (value < 5 || value > 10080) return null;
    minutes.add(value);
  }
  if (minutes.size > 4) return null;
  return [...minutes].sort((a, b) => b - a);
}

/** Minutes as the reminders field shows them: whole hours in h, the rest in min. */
export function remindersToText(offsets: readonly number[]): string {
  return offsets.map((m) => (m % 60 === 0 ? `${m / 60} h` : `${m} min`)).join(", ");
}

// --- The shop's SMTP server ------------------------------------------------------------------------

export type SmtpDraft = {
  host: string;
  port: string;
  security: "starttls" | "tls";
  username: string;
  password: string;
  from_address: string;
};

export type SmtpBody = {
  host: string;
  port: number;
  security: "starttls" | "tls";
  username: string | null;
  password?: string;
  from_address: string;
  version: number;
};

/** PUT /settings/email/smtp's body: an empty password is left out (the stored one is kept), an empty
 * user is null (a server without login); the port a whole number 1..65535, or a pt-BR problem. */
export function smtpBody(draft: SmtpDraft, version: number): SmtpBody | { problem: string } {
  const port = draft.port.trim();
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535)
    return { problem: "A porta vai de 1 a 65535 (587 para STARTTLS, 465 para TLS)." };
  const body: SmtpBody = {
    host: draft.host.trim().toLowerCase(),
    port: Number(port),
    security: draft.security,
    username: draft.username.trim() || null,
    from_address: draft.from_address.trim(),
    version,
  };
  if (draft.password !== "") body.password = draft.password;
  if (version === 0 && body.username && body.password === undefined)
    return { problem: "Informe a senha do servidor SMTP." };
  return body;
}

/** Google calendars a shop can write its appointments into (owner or writer). */
export function writableCalendars<C extends { access_role: string }>(calendars: readonly C[]): C[] {
  return calendars.filter((c) => c.access_role === "owner" || c.access_role === "writer");
}

/** The path of one suppressed address: percent-encoded as a path segment, except the @, which a
 * segment may carry as is (RFC 3986 pchar) and which older gateways passed on still encoded. */
export function addressPath(pathname: string, params: Record<string, unknown>): string {
  const address = String(params.address ?? "");
  return pathname.replace("{address}", encodeURIComponent(address).replace(/%40/g, "@"));
}
