// The logged-in session: the 15-minute access token and the rotating refresh token. Every API
// call goes through `Session.fetch`, which adds the bearer token, and on a 401 rotates the refresh
// token once (one refresh for all the calls that failed together: the API ends the session when a
// refresh token is used twice) and tries the call again. A 402 (the shop's subscription suspended
// or cancelled) is announced so the panel can show the billing page.

import type { components } from "./schema";

export type Tokens = components["schemas"]["TokensOut"];
export type Role = components["schemas"]["Role"];

export interface TokenStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface PaymentRequired {
  code: string;
  message: string;
}

const KEY = "assistec.session";

function readTokens(store: TokenStore | null): Tokens | null {
  try {
    const raw = store?.getItem(KEY);
    if (!raw) return null;
    const parsed = JSON.parse(raw) as Partial<Tokens>;
    return typeof parsed.access_token === "string" && typeof parsed.refresh_token === "string"
      ? (parsed as Tokens)
      : null;
  } catch {
    return null;
  }
}

export class Session {
  private tokens: Tokens | null;
  private refreshing: Promise<boolean> | null = null;
  private readonly changeListeners = new Set<() => void>();
  private readonly paymentListeners = new Set<(info: PaymentRequired) => void>();

  constructor(
    readonly apiBase: string,
    private readonly store: TokenStore | null,
    private readonly fetchImpl: typeof fetch = (...args) => fetch(...args),
  ) {
    this.tokens = readTokens(store);
  }

  get current(): Tokens | null {
    return this.tokens;
  }

  get role(): Role | null {
    return this.tokens?.role ?? null;
  }

  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  onPaymentRequired(listener: (info: PaymentRequired) => void): () => void {
    this.paymentListeners.add(listener);
    return () => this.paymentListeners.delete(listener);
  }

  set(tokens: Tokens | null): void {
    this.tokens = tokens;
    if (tokens) this.store?.setItem(KEY, JSON.stringify(tokens));
    else this.store?.removeItem(KEY);
    for (const listener of this.changeListeners) listener();
  }

  /** Rotates the refresh token; false (and logged out) when the API refused it. One at a time. */
  refresh(): Promise<boolean> {
    if (this.refreshing) return this.refreshing;
    const refreshToken = this.tokens?.refresh_token;
    if (!refreshToken) return Promise.resolve(false);
    this.refreshing = (async () => {
      try {
        const response = await this.fetchImpl(`${this.apiBase}/auth/refresh`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ refresh_token: refreshToken }),
        });
        if (response.ok) {
          this.set((await response.json()) as Tokens);
          return true;
        }
        if (response.status === 401) this.set(null);
        return false;
      } catch {
        return false;
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  /** Ends the session at the API (best effort) and here. */
  async logout(): Promise<void> {
    const refreshToken = this.tokens?.refresh_token;
    this.set(null);
    if (!refreshToken) return;
    try {
      await this.fetchImpl(`${this.apiBase}/auth/logout`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refresh_token: refreshToken }),
      });
    } catch {
      // Logged out here all the same; the refresh token expires on its own.
    }
  }

  private isAuthCall(request: Request): boolean {
    return new URL(request.url, "http://panel.invalid").pathname.includes("/auth/");
  }

  private withToken(request: Request): Request {
    const authorised = new Request(request);
    if (this.tokens) authorised.headers.set("Authorization", `Bearer ${this.tokens.access_token}`);
    return authorised;
  }

  /** The fetch the generated client uses (openapi-fetch hands it a Request). */
  readonly fetch = async (request: Request): Promise<Response> => {
    const spare = request.clone();
    const sentWith = this.tokens?.access_token;
    let response = await this.fetchImpl(this.withToken(request));
    if (response.status === 401 && this.tokens && sentWith && !this.isAuthCall(request)) {
      // Another call may have rotated the tokens while this one was on its way.
      const fresh = this.tokens.access_token !== sentWith || (await this.refresh());
      if (fresh) response = await this.fetchImpl(this.withToken(spare));
      else this.set(null);
    }
    if (response.status === 402) {
      let info: PaymentRequired = { code: "payment_required", message: "" };
      try {
        const body = (await response.clone().json()) as Partial<PaymentRequired>;
        info = { code: String(body.code ?? info.code), message: String(body.message ?? "") };
      } catch {
        // Not JSON: the status alone says it.
      }
      for (const listener of this.paymentListeners) listener(info);
    }
    return response;
  };
}
