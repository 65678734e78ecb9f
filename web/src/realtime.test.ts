import { describe, expect, it } from "vitest";

import {
  fetchTicket,
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
  constructor(readonly url: string) {
    FakeSocket.made.push(this);
  }
  close() {
    this.closed = true;
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
