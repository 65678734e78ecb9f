// Money is integer centavos everywhere; reais typed by a person become centavos by string
// arithmetic, never through a float.

const brl = new Intl.NumberFormat("pt-BR", { style: "currency", currency: "BRL" });

export function formatCents(cents: number): string {
  // Intl puts a no-break space after "R$"; a plain one reads the same and compares simply.
  return brl.format(cents / 100).replace(/\u00a0/g, " ");
}

/** "389,90", "R$ 1.234,5", "12" → centavos; null when it is not an amount of money. */
export function parseReais(text: string): number | null {
  const cleaned = text.replace(/R\$/i, "").replace(/\s/g, "");
  const match = /^(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d{1,2}))?$/.exec(cleaned);
  if (!match) return null;
  const whole = Number((match[1] ?? "0").replace(/\./g, ""));
  const fraction = Number(((match[2] ?? "") + "00").slice(0, 2));
  const cents = whole * 100 + fraction;
  return Number.isSafeInteger(cents) ? cents : null;
}

const dateTime = new Intl.DateTimeFormat("pt-BR", {
  dateStyle: "short",
  timeStyle: "short",
  timeZone: "America/Sao_Paulo",
});
const dateOnly = new Intl.DateTimeFormat("pt-BR", { dateStyle: "short", timeZone: "UTC" });

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "—" : dateTime.format(date);
}

/** A calendar date (YYYY-MM-DD) as the shop reads it: no time zone shift. */
export function formatDate(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(`${iso.slice(0, 10)}T00:00:00Z`);
  return Number.isNaN(date.getTime()) ? "—" : dateOnly.format(date);
}

export function orderNumber(n: number): string {
  return String(n).padStart(4, "0");
}

const SHOP_TZ = "America/Sao_Paulo";
export const dayKey = new Intl.DateTimeFormat("en-CA", {
  timeZone: SHOP_TZ,
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
});

/** Today in the shop's calendar (YYYY-MM-DD), whatever the browser's zone. */
export function shopToday(now: Date = new Date()): string {
  return dayKey.format(now);
}

/** The ISO instants bounding `days` shop days from `first` (Brasília has no DST since 2019: -03:00). */
export function shopRange(first: string, days: number): { from: string; to: string } {
  const start = new Date(`${first}T00:00:00-03:00`);
  const end = new Date(start.getTime() + days * 86_400_000);
  return { from: start.toISOString(), to: end.toISOString() };
}
