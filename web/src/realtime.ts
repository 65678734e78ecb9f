// Live updates: a one-time ticket from the REST API (POST /realtime/ticket; no token in a URL),
// then the WebSocket with `?ticket=`. Written defensively: a stage without a WebSocket API (no
// wsUrl in /config.json), an API without the ticket route (404) or a dropped socket only mean the
// board falls back to polling; nothing here may break the panel.
//
// Keeping it open: API Gateway closes a socket after 10 minutes without a message from the client,
// so an open socket sends `{"action":"ping"}` every 5 minutes; a ping left unanswered (any message
// counts) means a dead link (a laptop woke up, the network changed) and the socket is dropped.
// A closed socket is opened again with a fresh ticket (tickets are good once) after a growing wait;
// once it is open again `onReconnect` tells the page to refetch what it shows: the events pushed
// while it was away are lost.

export interface RealtimeEvent {
  type: string;
  [key: string]: unknown;
}

export type RealtimeState = "off" | "connecting" | "live";

export interface RealtimeOptions {
  wsUrl: string | null;
  apiBase: string;
  /** The session's fetch (adds the bearer token, refreshes it). */
  fetch: (request: Request) => Promise<Response>;
  onEvent: (event: RealtimeEvent) => void;
  onState?: (state: RealtimeState) => void;
  /** The socket is open again after a drop: refetch what events may have changed meanwhile. */
  onReconnect?: () => void;
  WebSocketImpl?: typeof WebSocket;
  /** Waits before reconnecting: attempt 1, 2, … → milliseconds. */
  backoff?: (attempt: number) => number;
  /** How often an open socket pings (API Gateway's idle timeout is 10 minutes). */
  heartbeatMs?: number;
  /** How long a ping may wait for any message before the socket is taken for dead. */
  pongTimeoutMs?: number;
}

export const HEARTBEAT_MS = 5 * 60_000;
export const PONG_TIMEOUT_MS = 30_000;
/** A socket open at least this long resets the backoff when it closes; one that keeps dropping
 * sooner (refused, flapping) keeps backing off. */
export const STABLE_MS = 30_000;

export function defaultBackoff(attempt: number): number {
  return Math.min(30_000, 1_000 * 2 ** Math.max(0, attempt - 1));
}

/** Pushes that change what the board shows (the push function's `order.created`,
 * `order.status_changed`, `quote.decided`, `payment.received`, …), not chat or pongs. */
export function isBoardEvent(event: RealtimeEvent): boolean {
  return /^(order|quote|payment|charge)\./.test(event.type);
}

export function parseEvent(data: unknown): RealtimeEvent | null {
  if (typeof data !== "string") return null;
  try {
    const parsed: unknown = JSON.parse(data);
    if (parsed === null || typeof parsed !== "object") return null;
    const object = parsed as Record<string, unknown>;
    const type = object.type ?? object.event ?? object["detail-type"];
    return typeof type === "string" ? { ...object, type } : null;
  } catch {
    return null;
  }
}

/** The ticket, or null when this API has none to give (the route absent, or refused). */
export async function fetchTicket(
  apiBase: string,
  send: (request: Request) => Promise<Response>,
): Promise<{ ticket: string; url: string | null } | "unsupported" | null> {
  let response: Response;
  try {
    const url = new URL(`${apiBase}/realtime/ticket`, globalThis.location?.href ?? "http://127.0.0.1/");
    response = await send(
      new Request(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" }),
    );
  } catch {
    return null;
  }
  if (response.status === 404 || response.status === 405 || response.status === 403) return "unsupported";
  if (!response.ok) return null;
  try {
    const body = (await response.json()) as Record<string, unknown>;
    if (typeof body.ticket !== "string" || body.ticket === "") return null;
    const url = typeof body.url === "string" ? body.url : typeof body.ws_url === "string" ? body.ws_url : null;
    return { ticket: body.ticket, url };
  } catch {
    return null;
  }
}

export function startRealtime(options: RealtimeOptions): { stop: () => void } {
  const WS = options.WebSocketImpl ?? globalThis.WebSocket;
  const backoff = options.backoff ?? defaultBackoff;
  const heartbeatMs = options.heartbeatMs ?? HEARTBEAT_MS;
  const pongTimeoutMs = options.pongTimeoutMs ?? PONG_TIMEOUT_MS;
  let stopped = false;
  let socket: WebSocket | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let heartbeat: ReturnType<typeof setInterval> | null = null;
  let pongDue: ReturnType<typeof setTimeout> | null = null;
  let attempt = 0;
  let opened = false; // a socket was open before: the next open is a reconnect
  let pings = 0;
  const state = (s: RealtimeState) => options.onState?.(s);

  const quiet = () => {
    if (heartbeat) clearInterval(heartbeat);
    if (pongDue) clearTimeout(pongDue);
    heartbeat = null;
    pongDue = null;
  };

  const retry = () => {
    if (stopped) return;
    attempt += 1;
    state("connecting");
    timer = setTimeout(connect, backoff(attempt));
  };

  const ping = (ws: WebSocket) => {
    if (ws !== socket || ws.readyState !== 1 /* OPEN */) return;
    pings += 1;
    try {
      ws.send(JSON.stringify({ action: "ping", request_id: `hb-${pings}` }));
    } catch {
      ws.close();
      return;
    }
    if (!pongDue) pongDue = setTimeout(() => ws === socket && ws.close(), pongTimeoutMs);
  };

  async function connect(): Promise<void> {
    timer = null;
    if (stopped) return;
    const ticket = await fetchTicket(options.apiBase, options.fetch);
    if (stopped) return;
    if (ticket === "unsupported") {
      state("off");
      return;
    }
    const base = ticket?.url ?? options.wsUrl;
    if (ticket && !base) {
      state("off");
      return;
    }
    if (!ticket || !base || !WS) {
      retry();
      return;
    }
    const separator = base.includes("?") ? "&" : "?";
    let ws: WebSocket;
    try {
      ws = new WS(`${base}${separator}ticket=${encodeURIComponent(ticket.ticket)}`);
    } catch {
      retry();
      return;
    }
    socket = ws;
    let openedAt: number | null = null;
    ws.onopen = () => {
      if (ws !== socket) return;
      openedAt = Date.now();
      state("live");
      heartbeat = setInterval(() => ping(ws), heartbeatMs);
      if (opened) options.onReconnect?.();
      opened = true;
    };
    ws.onmessage = (message: MessageEvent) => {
      if (ws !== socket) return;
      if (pongDue) clearTimeout(pongDue); // any message shows the link is alive
      pongDue = null;
      const event = parseEvent(message.data);
      if (event) options.onEvent(event);
    };
    ws.onclose = () => {
      if (ws !== socket) return;
      socket = null;
      quiet();
      if (openedAt !== null && Date.now() - openedAt >= STABLE_MS) attempt = 0;
      retry();
    };
    ws.onerror = () => ws.close();
  }

  // Without wsUrl in /config.json the ticket's answer may still name the socket's URL.
  if (!WS) {
    state("off");
  } else {
    state("connecting");
    void connect();
  }
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      quiet();
      if (socket) {
        const ws = socket;
        socket = null;
        ws.onclose = null;
        ws.close();
      }
      state("off");
    },
  };
}
