import { afterEach, describe, expect, it, vi } from "vitest";

import {
  defaultBackoff,
  fetchTicket,
  HEARTBEAT_MS,
  PONG_TIMEOUT_MS,
  isBoardEvent,
  parseEvent,
  type RealtimeEvent,
  type RealtimeState,
  startRealtime,
} from "./realtime";

// A stand-in for the browser's WebSocket: records the URL, lets the test open, message and close it.
class FakeSocket {
  static made: FakeSocket[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((m: { data: unknown }) => void) | null = null;
  onclose: (() => void) | null = null;
  onerror: (() => void) | null = null;
  closed = false;
  readyState = 0; // CONNECTING
  sent: string[] = [];
  constructor(readonly url: string) {
    FakeSocket.made.push(this);
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  send(data: string) {
    if (this.readyState !== 1) throw new Error("not open");
    this.sent.push(data);
  }
  close() {
    if (this.closed) return;
    this.closed = true;
    this.readyState = 3;
    this.onclose?.();
  }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

function ticketServer(status = 200) {
  let issued = 0;
  return {
    get issued() {
      return issued;
    },
    fetch: async (request: Request) => {
      expect(new URL(request.url).pathname).toBe("/api/realtime/ticket");
      expect(request.method).toBe("POST");
      issued += 1;
      // As the API answers: url null where the deployment does not say it (then /config.json's wsUrl)
      return new Response(JSON.stringify({ ticket: `t-${issued}`, expires_at: "2026-11-30T12:00:00Z", url: null }), {
        status,
      });
    },
  };
}

describe("realtime", () => {
  it("reads the events it understands and ignores the rest", () => {
    expect(parseEvent('{"type":"OrderStatusChanged","order_id":"o1"}')).toEqual({
      type: "OrderStatusChanged",
      order_id: "o1",
    });
    expect(parseEvent('{"detail-type":"QuoteDecided"}')?.type).toBe("QuoteDecided");
    expect(parseEvent("not json")).toBeNull();
    expect(parseEvent('{"no":"type"}')).toBeNull();
    expect(parseEvent(42)).toBeNull();
  });

  it("reloads the board for work events, not for chat", () => {
    for (const type of ["order.created", "order.status_changed", "quote.decided", "payment.received"]) {
      expect(isBoardEvent({ type })).toBe(true);
    }
    for (const type of ["chat.message", "pong", "whatsapp.waiting", "orderly"])
      expect(isBoardEvent({ type })).toBe(false);
  });

  it("treats an API without the ticket route as no live updates", async () => {
    const gone = async () => new Response('{"code":"not_found","message":"x"}', { status: 404 });
    expect(await fetchTicket("http://panel.test/api", gone)).toBe("unsupported");
  });

  it("opens the socket with a one-time ticket, delivers events and reconnects with a new ticket", async () => {
    FakeSocket.made = [];
    const server = ticketServer();
    const events: RealtimeEvent[] = [];
    const states: RealtimeState[] = [];
    const channel = startRealtime({
      wsUrl: "wss://ws.example/v1",
      apiBase: "http://panel.test/api",
      fetch: server.fetch,
      onEvent: (e) => events.push(e),
      onState: (s) => states.push(s),
      WebSocketImpl: FakeSocket as unknown as typeof WebSocket,
      backoff: () => 0,
    });
    await tick();
    const [first] = FakeSocket.made;
    expect(first?.url).toBe("wss://ws.example/v1?ticket=t-1");
    first?.onopen?.();
    first?.onmessage?.({ data: '{"type":"order.created","event_id":"e1","data":{"order_id":"o9"}}' });
    expect(events).toEqual([{ type: "order.created", event_id: "e1", data: { order_id: "o9" } }]);
    expect(states).toContain("live");

    // The socket drops: a new ticket (tickets are good once) and a new socket
    first?.close();
    await tick();
    await tick();
    expect(server.issued).toBe(2);
    expect(FakeSocket.made[1]?.url).toBe("wss://ws.example/v1?ticket=t-2");

    channel.stop();
    expect(FakeSocket.made[1]?.closed).toBe(true);
    expect(states.at(-1)).toBe("off");
  });

  it("opens the socket where the ticket's answer says, when it says", async () => {
    FakeSocket.made = [];
    const channel = startRealtime({
      wsUrl: null,
      apiBase: "http://panel.test/api",
      fetch: async () => new Response(JSON.stringify({ ticket: "abc/+=", url: "wss://rt.example/prod" })),
      onEvent: () => undefined,
      WebSocketImpl: FakeSocket as unknown as typeof WebSocket,
    });
    await tick();
    expect(FakeSocket.made.map((s) => s.url)).toEqual(["wss://rt.example/prod?ticket=abc%2F%2B%3D"]);
    channel.stop();
  });

  it("stays off, without a socket, when the API has no tickets to give", async () => {
    FakeSocket.made = [];
    const states: RealtimeState[] = [];
    startRealtime({
      wsUrl: "wss://ws.example/v1",
      apiBase: "http://panel.test/api",
      fetch: async () => new Response("{}", { status: 404 }),
      onEvent: () => undefined,
      onState: (s) => states.push(s),
      WebSocketImpl: FakeSocket as unknown as typeof WebSocket,
    });
    await tick();
    expect(FakeSocket.made).toEqual([]);
    expect(states.at(-1)).toBe("off");
  });
});

describe("realtime keeps the socket open and comes back after a drop", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  // The ticket's fetch is a promise: let it and the socket's creation settle under fake timers.
  const settle = async () => {
    for (let i = 0; i < 5; i += 1) await vi.advanceTimersByTimeAsync(0);
  };

  function start(overrides: Partial<Parameters<typeof startRealtime>[0]> = {}) {
    FakeSocket.made = [];
    const server = ticketServer();
    const states: RealtimeState[] = [];
    let reconnects = 0;
    const channel = startRealtime({
      wsUrl: "wss://ws.example/v1",
      apiBase: "http://panel.test/api",
      fetch: server.fetch,
      onEvent: () => undefined,
      onState: (s) => states.push(s),
      onReconnect: () => {
        reconnects += 1;
      },
      WebSocketImpl: FakeSocket as unknown as typeof WebSocket,
      ...overrides,
    });
    return {
      server,
      states,
      channel,
      get reconnects() {
        return reconnects;
      },
    };
  }

  it("pings on the ping action every five minutes while open, and never once stopped", async () => {
    vi.useFakeTimers();
    const { channel } = start();
    await settle();
    const [socket] = FakeSocket.made;
    socket?.open();
    await vi.advanceTimersByTimeAsync(HEARTBEAT_MS - 1);
    expect(socket?.sent).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(socket?.sent.map((m) => JSON.parse(m) as unknown)).toEqual([{ action: "ping", request_id: "hb-1" }]);
    socket?.onmessage?.({ data: '{"type":"pong","request_id":"hb-1","at":"2026-11-30T12:00:00Z"}' });
    await vi.advanceTimersByTimeAsync(HEARTBEAT_MS);
    expect(socket?.sent).toHaveLength(2);
    expect(socket?.closed).toBe(false);
    channel.stop();
    await vi.advanceTimersByTimeAsync(3 * HEARTBEAT_MS);
    expect(socket?.sent).toHaveLength(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("drops a socket whose ping goes unanswered and opens another with a fresh ticket", async () => {
    vi.useFakeTimers();
    const { server, channel, states } = start();
    await settle();
    const [first] = FakeSocket.made;
    first?.open();
    await vi.advanceTimersByTimeAsync(HEARTBEAT_MS + PONG_TIMEOUT_MS - 1);
    expect(first?.closed).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    // No answer to the ping: taken for dead, and a new socket after the first backoff
    expect(first?.closed).toBe(true);
    expect(states.at(-1)).toBe("connecting");
    await vi.advanceTimersByTimeAsync(defaultBackoff(1));
    await settle();
    expect(server.issued).toBe(2);
    expect(FakeSocket.made.map((s) => s.url)).toEqual([
      "wss://ws.example/v1?ticket=t-1",
      "wss://ws.example/v1?ticket=t-2",
    ]);
    channel.stop();
  });

  it("reconnects after a close with a growing backoff and a new ticket each time, then refetches", async () => {
    vi.useFakeTimers();
    const channel = start();
    await settle();
    FakeSocket.made[0]?.open();
    expect(channel.reconnects).toBe(0); // the first open is not a reconnect
    // The socket drops and the next tries are refused before they open (a network down)
    FakeSocket.made[0]?.close();
    for (const [attempt, wait] of [
      [1, 1_000],
      [2, 2_000],
      [3, 4_000],
    ] as const) {
      expect(defaultBackoff(attempt)).toBe(wait);
      await vi.advanceTimersByTimeAsync(wait - 1);
      expect(FakeSocket.made).toHaveLength(attempt); // not before the wait is over
      await vi.advanceTimersByTimeAsync(1);
      await settle();
      expect(FakeSocket.made).toHaveLength(attempt + 1);
      if (attempt < 3) FakeSocket.made[attempt]?.close();
    }
    expect(channel.server.issued).toBe(4);
    expect(new Set(FakeSocket.made.map((s) => s.url)).size).toBe(4);
    // Open again: the page is told to refetch what it shows (events pushed meanwhile are lost)
    FakeSocket.made[3]?.open();
    expect(channel.reconnects).toBe(1);
    expect(channel.states.at(-1)).toBe("live");
    // A socket that stayed open a while starts the backoff over when it drops
    await vi.advanceTimersByTimeAsync(60_000);
    FakeSocket.made[3]?.onmessage?.({ data: '{"type":"pong"}' });
    FakeSocket.made[3]?.close();
    await vi.advanceTimersByTimeAsync(defaultBackoff(1));
    await settle();
    expect(FakeSocket.made).toHaveLength(5);
    FakeSocket.made[4]?.open();
    expect(channel.reconnects).toBe(2);
    expect(defaultBackoff(10)).toBe(30_000); // capped
    channel.channel.stop();
    expect(FakeSocket.made[4]?.closed).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("keeps trying when the ticket cannot be had (the API down), and stops when told", async () => {
    vi.useFakeTimers();
    let calls = 0;
    const { channel } = start({
      fetch: async () => {
        calls += 1;
        return new Response("{}", { status: 503 });
      },
    });
    await settle();
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1_000);
    await settle();
    expect(calls).toBe(2);
    await vi.advanceTimersByTimeAsync(2_000);
    await settle();
    expect(calls).toBe(3);
    expect(FakeSocket.made).toEqual([]);
    channel.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toBe(3);
  });
});
