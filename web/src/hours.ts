// Business hours as staff type them, one line per weekday: "08:00-12:00, 13:00-18:00", empty when
// closed. The API keeps, per weekday (mon..sun), a list of ["HH:MM", "HH:MM"] intervals.

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];
export type Hours = Partial<Record<string, string[][]>>;

export function hoursToText(intervals: string[][] | undefined): string {
  return (intervals ?? []).map(([from, to]) => `${from}-${to}`).join(", ");
}

/** The intervals typed, or null when the text is not "HH:MM-HH:MM[, …]" with each start before its end. */
export function parseHours(text: string): string[][] | null {
  const trimmed = text.trim();
  if (trimmed === "") return [];
  const intervals: string[][] = [];
  for (const part of trimmed.split(/[,;]/)) {
    const match = /^\s*([01]\d|2[0-3]):([0-5]\d)\s*(?:-|–|a|às)\s*([01]\d|2[0-3]|24):([0-5]\d)\s*$/.exec(part);
    if (!match) return null;
    const from = `${match[1]}:${match[2]}`;
    const to = `${match[3]}:${match[4]}`;
    if (to <= from || (match[3] === "24" && match[4] !== "00")) return null;
    intervals.push([from, to]);
  }
  return intervals;
}
