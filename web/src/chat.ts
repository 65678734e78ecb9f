// The shop's internal staff chat, on the same WebSocket as the live updates: `chat.history` is
// asked for each time the socket opens (first connection and every reconnection: what was said
// while away arrives then), `chat.send` answers `chat.sent` to the sender and pushes
// `chat.message` to the others. The socket, its ticket and its reconnection are realtime.ts's;
// this module only keeps the log and writes on the open socket.
import { type RealtimeEvent, type RealtimeOptions, type RealtimeState, startRealtime } from "./realtime";

export interface ChatMessage {
  id: string;
  user_id: string;
  author_name: string;
  text: string;
  created_at: string;
}

export interface Pending {
  requestId: string;
  text: string;
  error: string | null;
}

export interface ChatLog {
  messages: ChatMessage[];
  pending: Pending[];
}

export const EMPTY_LOG: ChatLog = { messages: [], pending: [] };
export const HISTORY_LIMIT = 100;
export const CHAT_MAX_CHARS = 2000;

function isMessage(value: unknown): value is ChatMessage {
  if (value === null || typeof value !== "object") return false;
  const m = value as Record<string, unknown>;
  return (
    typeof m.id === "string" &&
    typeof m.user_id === "string" &&
    typeof m.author_name === "string" &&
    typeof m.text === "string" &&
    typeof m.created_at === "string"
  );
}

/** The log with `incoming` added once each (by id), oldest first. */
export function mergeMessages(messages: readonly ChatMessage[], incoming: readonly ChatMessage[]): ChatMessage[] {
  const byId = new Map(messages.map((m) => [m.id, m]));
  for (const m of incoming) byId.set(m.id, m);
  return [...byId.values()].sort((a, b) => {
    const at = Date.parse(a.created_at) - Date.parse(b.created_at);
    return at !== 0 ? at : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
}

/** The log after one of the socket's events; anything that is not the chat's leaves it as it is. */
export function applyChatEvent(log: ChatLog, event: RealtimeEvent): ChatLog {
  switch (event.type) {
    case "chat.history": {
      const messages = Array.isArray(event.messages) ? event.messages.filter(isMessage) : [];
      return { ...log, messages: mergeMessages(log.messages, messages) };
    }
    case "chat.message":
      return isMessage(event.message) ? { ...log, messages: mergeMessages(log.messages, [event.message]) } : log;
    case "chat.sent": {
      const pending = log.pending.filter((p) => p.requestId !== event.request_id);
      const messages = isMessage(event.message) ? mergeMessages(log.messages, [event.message]) : log.messages;
      return { messages, pending };
    }
    case "error": {
      if (typeof event.request_id !== "string" || !log.pending.some((p) => p.requestId === event.request_id)) {
        return log;
      }
      const error = typeof event.message === "string" ? event.message : "Mensagem não enviada.";
      return {
        ...log,
        pending: log.pending.map((p) => (p.requestId === event.request_id ? { ...p, error } : p)),
      };
    }
    default:
      return log;
  }
}

/** A message typed by a person, as the socket takes it, or the pt-BR reason it cannot go. */
export function chatText(text: string): { ok: true; text: string } | { ok: false; message: string } {
  const trimmed = text.trim();
  if (trimmed === "") return { ok: false, message: "Escreva a mensagem." };
  if (trimmed.length > CHAT_MAX_CHARS) {
    return { ok: false, message: `A mensagem passa de ${CHAT_MAX_CHARS} caracteres; divida-a em partes.` };
  }
  return { ok: true, text: trimmed };
}

export interface ChatChannel {
  /** Sends `text`; its request id, or null when the socket is not open. */
  send: (text: string) => string | null;
  stop: () => void;
}

let counter = 0;
function requestId(): string {
  counter += 1;
  return `chat-${Date.now().toString(36)}-${counter}`;
}

const OPEN = 1;

/** The live channel with a way to write on it. realtime.ts builds each socket with the
 * `WebSocketImpl` it is given; the one given here remembers the latest, so the chat writes on the
 * socket realtime.ts opened (and reopened), without a second connection. */
export function startChat(
  options: Omit<RealtimeOptions, "onEvent" | "onState"> & {
    onEvent: (event: RealtimeEvent) => void;
    onState: (state: RealtimeState) => void;
  },
): ChatChannel {
  const Base = options.WebSocketImpl ?? globalThis.WebSocket;
  let socket: WebSocket | null = null;
  const Remembered = Base
    ? class extends Base {
        constructor(url: string | URL, protocols?: string | string[]) {
          super(url, protocols);
          socket = this;
        }
      }
    : undefined;
  const write = (data: Record<string, unknown>): boolean => {
    if (!socket || socket.readyState !== OPEN) return false;
    socket.send(JSON.stringify(data));
    return true;
  };
  const channel = startRealtime({
    ...options,
    ...(Remembered ? { WebSocketImpl: Remembered } : {}),
    onEvent: options.onEvent,
    onState: (state) => {
      // Each (re)opening asks for the history: what was said while the socket was down arrives.
      if (state === "live") write({ action: "chat.history", limit: HISTORY_LIMIT, request_id: requestId() });
      options.onState(state);
    },
  });
  return {
    send(text: string) {
      const id = requestId();
      return write({ action: "chat.send", text, request_id: id }) ? id : null;
    },
    stop() {
      channel.stop();
      socket = null;
    },
  };
}

// --- Unread messages (the header's badge) ----------------------------------------------------------

/** The newest message's time, or null for an empty log. */
export function latestAt(messages: readonly ChatMessage[]): string | null {
  let latest: string | null = null;
  for (const m of messages) if (latest === null || Date.parse(m.created_at) > Date.parse(latest)) latest = m.created_at;
  return latest;
}

/** How many of the others' messages came after `seenAt` (the newest one the user saw); none
 * before the first look (a null `seenAt`: the history is what was there before, not news). */
export function unreadCount(messages: readonly ChatMessage[], me: string | null, seenAt: string | null): number {
  if (seenAt === null) return 0;
  const seen = Date.parse(seenAt);
  return messages.filter((m) => m.user_id !== me && Date.parse(m.created_at) > seen).length;
}

/** Where the badge starts counting in a browser that never looked at the chat: after the first
 * history it receives (what was said before is not news); after nothing when that history is empty. */
export function historyBaseline(event: RealtimeEvent): string {
  const messages = Array.isArray(event.messages) ? event.messages.filter(isMessage) : [];
  return latestAt(messages) ?? new Date(0).toISOString();
}

/** Where the newest message seen is kept between reloads, per user of the browser. */
export function seenKey(userId: string): string {
  return `assistec.chat.seen.${userId}`;
}
