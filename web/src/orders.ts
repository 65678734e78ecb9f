import type { OrderStatus } from "./i18n";

/** The board's columns, in the order the work flows. */
export const BOARD_COLUMNS: readonly OrderStatus[] = [
  "received",
  "diagnosing",
  "quote_sent",
  "approved",
  "rejected",
  "waiting_parts",
  "repairing",
  "quality_check",
  "ready",
];

export const CLOSED: readonly OrderStatus[] = ["delivered", "cancelled"];

// The customer's decision moves these; staff record it on the quote, not as a transition.
const QUOTE_DECISIONS = new Set(["quote_sent>approved", "quote_sent>rejected"]);

/** The statuses staff may move an order to from `from`, given the shop's machine as
 * GET /settings/order-workflow returns it (`transitions`: status → allowed targets). */
export function staffTargets(
  from: OrderStatus,
  transitions: Partial<Record<string, readonly string[]>> | undefined,
): OrderStatus[] {
  const targets = (transitions?.[from] ?? []) as readonly OrderStatus[];
  return targets.filter((to) => !QUOTE_DECISIONS.has(`${from}>${to}`));
}

export function groupByStatus<T extends { status: OrderStatus }>(orders: readonly T[]): Map<OrderStatus, T[]> {
  const groups = new Map<OrderStatus, T[]>();
  for (const status of [...BOARD_COLUMNS, ...CLOSED]) groups.set(status, []);
  for (const order of orders) groups.get(order.status)?.push(order);
  return groups;
}

/** Lower case without accents: "José" and "jose" meet. */
export function fold(text: string): string {
  return text
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase();
}

/** The board's quick filter: every word typed appears in the card's customer, device, problem or
 * number (accents and case ignored); an empty filter keeps every card. */
export function matchesCard(
  order: { number: number; customer_name: string; device_label: string; reported_problem: string },
  query: string,
): boolean {
  const words = fold(query).split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const haystack = fold(
    `${order.customer_name} ${order.device_label} ${order.reported_problem} ${String(order.number).padStart(4, "0")}`,
  );
  return words.every((word) => haystack.includes(word));
}
