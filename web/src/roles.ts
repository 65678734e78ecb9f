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
