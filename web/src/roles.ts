import type { Role } from "./api/session";

/** Charges and payments: the counter and the managers; a technician works on the bench only. */
export function seesMoney(role: Role | null): boolean {
  return role === "owner" || role === "admin" || role === "attendant";
}

/** The shop's own subscription to assistec (plan, invoices) and its users: owners and admins. */
export function managesShop(role: Role | null): boolean {
  return role === "owner" || role === "admin";
}
