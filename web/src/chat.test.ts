import { describe, expect, it } from "vitest";

import {
  applyChatEvent,
  type ChatLog,
  type ChatMessage,
  chatText,
  EMPTY_LOG,
  historyBaseline,
  latestAt,
  mergeMessages,
  seenKey,
  startChat,
  unreadCount,
} from "./chat";
import type { RealtimeEvent, RealtimeState } from "./realtime";

const message = (id: string, at: string, text = `texto ${id}`): ChatMessage => ({
  id,
  user_id: "u1",
  author_name: "Maria",
  text,
  created_at: at,
});

// The browser's WebSocket as realtime.ts uses it, plus what the chat needs: readyState and send.
class FakeSocket {
  static made: FakeSocket[] = [];
  readyState = 0;
  sent: unknown[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((m: { data: unknown }) => void) | null = null;
  onclose: (() => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.made.push(this);
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  drop() {
    this.readyState = 3;
    this.onclose?.();
  }
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.drop();
  }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
let issued = 0;
const tickets = async () => {
  issued += 1;
  return new Response(JSON.stringify({ ticket: `t-${issued}`, url: null }), { status: 200 });
};

describe("the staff chat's log", () => {
  it("keeps each message once, oldest first, whatever order they arrive in", () => {
    const a = message("a", "2026-11-30T10:00:00Z");
    const b = message("b", "2026-11-30T10:01:00Z");
    const c = message("c", "2026-11-30T10:02:00Z");
    expect(mergeMessages([c, a], [b, a]).map((m) => m.id)).toEqual(["a", "b", "c"]);
  });

  it("takes the history on (re)connect, others' messages and the answer to its own", () => {
    let log: ChatLog = { messages: [], pending: [{ requestId: "r1", text: "oi", error: null }] };
    log = applyChatEvent(log, {
      type: "chat.history",
      messages: [message("a", "2026-11-30T10:00:00Z"), { broken: true }],
    });
    log = applyChatEvent(log, { type: "chat.message", message: message("b", "2026-11-30T10:01:00Z") });
    log = applyChatEvent(log, { type: "chat.sent", request_id: "r1", message: message("c", "2026-11-30T10:02:00Z") });
    expect(log.messages.map((m) => m.id)).toEqual(["a", "b", "c"]);
    expect(log.pending).toEqual([]);
    // the same history again (a reconnection) adds nothing twice
    log = applyChatEvent(log, { type: "chat.history", messages: [message("a", "2026-11-30T10:00:00Z")] });
    expect(log.messages).toHaveLength(3);
  });

  it("marks a refused message with the API's pt-BR reason and ignores unrelated events", () => {
    const log: ChatLog = { messages: [], pending: [{ requestId: "r2", text: "oi", error: null }] };
    const refused = applyChatEvent(log, {
      type: "error",
      code: "session_ended",
      message: "Seu acesso foi encerrado. Entre de novo para usar o chat.",
      request_id: "r2",
    });
    expect(refused.pending[0]?.error).toMatch(/acesso foi encerrado/);
    expect(applyChatEvent(log, { type: "order.created" })).toBe(log);
    expect(applyChatEvent(log, { type: "error", request_id: "other" })).toBe(log);
  });

  it("refuses empty and too long messages before sending", () => {
    expect(chatText("  ")).toEqual({ ok: false, message: "Escreva a mensagem." });
    expect(chatText("x".repeat(2001)).ok).toBe(false);
    expect(chatText("  peça chegou ")).toEqual({ ok: true, text: "peça chegou" });
  });
});

describe("the chat channel", () => {
  it("asks for the history each time the socket opens and writes on the open socket only", async () => {
    FakeSocket.made = [];
    const events: RealtimeEvent[] = [];
    const states: RealtimeState[] = [];
    const chat = startChat({
      wsUrl: "wss://ws.example/v1",
      apiBase: "http://panel.test/api",
      fetch: tickets,
      WebSocketImpl: FakeSocket as unknown as typeof WebSocket,
      backoff: () => 0,
      onEvent: (e) => events.push(e),
      onState: (s) => states.push(s),
    });
    await tick();
    const first = FakeSocket.made[0];
    expect(first).toBeDefined();
    // Not open yet: nothing can be sent
    expect(chat.send("cedo demais")).toBeNull();
    first!.open();
    expect(first!.sent).toEqual([{ action: "chat.history", limit: 100, request_id: expect.any(String) }]);
    const id = chat.send("A tela do A54 chegou");
    expect(id).not.toBeNull();
    expect(first!.sent[1]).toEqual({ action: "chat.send", text: "A tela do A54 chegou", request_id: id });
    first!.onmessage?.({
      data: JSON.stringify({ type: "chat.message", message: message("m", "2026-11-30T10:00:00Z") }),
    });
    expect(events.map((e) => e.type)).toEqual(["chat.message"]);

    // The socket drops: realtime.ts reconnects with a new ticket, and the history is asked again
    first!.drop();
    await tick();
    await tick();
    const second = FakeSocket.made[1];
    expect(second).toBeDefined();
    second!.open();
    expect(second!.sent).toEqual([{ action: "chat.history", limit: 100, request_id: expect.any(String) }]);
    expect(states.filter((s) => s === "live")).toHaveLength(2);
    chat.stop();
    expect(chat.send("depois")).toBeNull();
    expect(EMPTY_LOG.messages).toEqual([]);
  });
});

describe("the unread badge", () => {
  const message = (id: string, user: string, at: string): ChatMessage => ({
    id,
    user_id: user,
    author_name: user,
    text: id,
    created_at: at,
  });
  const log = [
    message("1", "ana", "2026-11-30T10:00:00Z"),
    message("2", "me", "2026-11-30T10:05:00Z"),
    message("3", "bia", "2026-11-30T10:06:00Z"),
    message("4", "ana", "2026-11-30T10:07:00-03:00"),
  ];

  it("counts the others' messages after the newest one seen, never the user's own", () => {
    expect(unreadCount(log, "me", "2026-11-30T10:00:00Z")).toBe(2);
    expect(unreadCount(log, "me", "2026-11-30T13:07:00Z")).toBe(0);
    expect(unreadCount(log, "ana", "2026-11-30T09:00:00Z")).toBe(2);
  });

  it("shows nothing before the first look, and the newest time is compared as an instant", () => {
    expect(unreadCount(log, "me", null)).toBe(0);
    expect(latestAt(log)).toBe("2026-11-30T10:07:00-03:00");
    expect(latestAt([])).toBeNull();
    expect(seenKey("u1")).toBe("assistec.chat.seen.u1");
  });

  it("starts counting after the first history, or from the start when it is empty", () => {
    expect(historyBaseline({ type: "chat.history", messages: log })).toBe("2026-11-30T10:07:00-03:00");
    const empty = historyBaseline({ type: "chat.history", messages: [] });
    expect(unreadCount(log, "me", empty)).toBe(3);
  });
});
