import { describe, expect, it } from "vitest";

import { call, createApi } from "./api/client";
import { ApiError } from "./api/errors";
import { type PaymentRequired, Session, type Tokens, type TokenStore } from "./api/session";

// A fake API: a tiny in-memory server answering the few routes these tests use, speaking the
// real shapes (bearer tokens, rotating refresh tokens, 402 on a suspended shop).
class FakeApi {
  access = "access-1";
  refreshToken = "refresh-1";
  refreshes = 0;
  suspended = false;
  seen: string[] = [];

  tokens(): Tokens {
    return {
      access_token: this.access,
      refresh_token: this.refreshToken,
      expires_in: 900,
      tenant_id: "t",
      user_id: "u",
      role: "owner",
      token_type: "Bearer",
    };
  }

  readonly fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = input instanceof Request ? input : new Request(input, init);
    const path = new URL(request.url).pathname.replace(/^\/api/, "");
    this.seen.push(`${request.method} ${path}`);
    const json = (status: number, body: unknown) =>
      new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
    if (path === "/auth/refresh") {
      const body = (await request.json()) as { refresh_token: string };
      if (body.refresh_token !== this.refreshToken)
        return json(401, { code: "invalid_token", message: "Sessão encerrada." });
      this.refreshes += 1;
      this.access = `access-${this.refreshes + 1}`;
      this.refreshToken = `refresh-${this.refreshes + 1}`;
      return json(200, this.tokens());
    }
    if (request.headers.get("Authorization") !== `Bearer ${this.access}`) {
      return json(401, { code: "unauthorized", message: "Token inválido." });
    }
    if (this.suspended)
      return json(402, { code: "subscription_suspended", message: "Acesso suspenso por falta de pagamento." });
    if (path === "/customers" && request.method === "POST") {
      const body = (await request.json()) as { name: string };
      return json(201, { id: "c1", name: body.name });
    }
    if (path === "/me") return json(200, { user: { name: "Dona" }, shop: { name: "Loja", billing_status: "active" } });
    return json(404, { code: "not_found", message: "Não encontrado." });
  };
}

function memoryStore(): TokenStore & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (k) => data.get(k) ?? null,
    setItem: (k, v) => void data.set(k, v),
    removeItem: (k) => void data.delete(k),
  };
}

function loggedIn(server: FakeApi, store = memoryStore()) {
  const session = new Session("http://panel.test/api", store, server.fetch);
  session.set(server.tokens());
  return { session, api: createApi(session), store };
}

describe("session", () => {
  it("sends the bearer token and keeps the tokens across a reload", async () => {
    const server = new FakeApi();
    const { api, store } = loggedIn(server);
    const me = await call(api.GET("/me"));
    expect(me.shop.name).toBe("Loja");
    expect(new Session("http://panel.test/api", store, server.fetch).current?.access_token).toBe("access-1");
  });

  it("refreshes an expired access token once for calls that failed together, and retries them with their bodies", async () => {
    // Given a session whose access token the API no longer accepts
    const server = new FakeApi();
    const { session, api } = loggedIn(server);
    server.access = "rotated-elsewhere";
    server.refreshToken = "refresh-1";
    // When three calls fail at once
    const [a, b, c] = await Promise.all([
      call(api.POST("/customers", { body: { name: "Ana", phone: "11 98765-4321" } })),
      call(api.GET("/me")),
      call(api.GET("/me")),
    ]);
    // Then one refresh served all of them (a second use of the refresh token would end the session)
    expect(server.refreshes).toBe(1);
    expect(a.name).toBe("Ana");
    expect([b.shop.name, c.shop.name]).toEqual(["Loja", "Loja"]);
    expect(session.current?.refresh_token).toBe("refresh-2");
  });

  it("logs out when the refresh token is refused", async () => {
    const server = new FakeApi();
    const { session, api } = loggedIn(server);
    server.access = "other";
    server.refreshToken = "other";
    const changes: (Tokens | null)[] = [];
    session.onChange(() => changes.push(session.current));
    await expect(call(api.GET("/me"))).rejects.toMatchObject({ status: 401 });
    expect(session.current).toBeNull();
    expect(changes.at(-1)).toBeNull();
  });

  it("never refreshes on a failed login", async () => {
    const server = new FakeApi();
    const session = new Session("http://panel.test/api", memoryStore(), server.fetch);
    const api = createApi(session);
    await expect(call(api.POST("/auth/login", { body: { email: "a@b.c", password: "x" } }))).rejects.toBeInstanceOf(
      ApiError,
    );
    expect(server.refreshes).toBe(0);
  });

  it("announces a suspended shop (402) with the API's code", async () => {
    const server = new FakeApi();
    const { session, api } = loggedIn(server);
    server.suspended = true;
    const heard: PaymentRequired[] = [];
    session.onPaymentRequired((info) => heard.push(info));
    await expect(call(api.GET("/me"))).rejects.toMatchObject({ status: 402, code: "subscription_suspended" });
    expect(heard).toEqual([{ code: "subscription_suspended", message: "Acesso suspenso por falta de pagamento." }]);
  });

  it("turns a dropped connection into a pt-BR error", async () => {
    const session = new Session("http://panel.test/api", memoryStore(), async () => {
      throw new TypeError("fetch failed");
    });
    await expect(call(createApi(session).GET("/me"))).rejects.toMatchObject({ status: 0 });
  });
});
