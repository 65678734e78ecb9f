import type { Role } from "./api/session";

/** Charges and payments: the counter and the managers; a technician works on the bench only. */
export function seesMoney(role: Role | null): boolean {
  return role === "owner" || role === "admin" || role === "attendant";
}

/** The shop's own subscription to assistec (plan, invoices) and its users: owners and admins. */
export function managesShop(role: Role | null): boolean {
  return role === "owner" || role === "admin";
}

/** The shop's WhatsApp conversations: the counter (the technician's pushes leave them out too). */
export function atCounter(role: Role | null): boolean {
  return role === "owner" || role === "admin" || role === "attendant";
}

/** Only the owner cancels the subscription, and only one that is not cancelled already. */
export function cancelsSubscription(
  role: Role | null,
  billing: { status: string; cancel_on?: string | null } | null | undefined,
): boolean {
  return role === "owner" && !!billing && billing.status !== "cancelled" && !billing.cancel_on;
}
