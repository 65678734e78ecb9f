// The staff chat everywhere in the panel: one chat channel for the signed-in session (started by
// the shell, so the log and the socket outlive page changes), the header's button with the unread
// badge, and the drawer that opens beside any page. The /chat page shows the same panel full size.
import {
  createContext,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useReducer,
  useRef,
  useState,
} from "react";

import {
  applyChatEvent,
  type ChatChannel,
  type ChatLog,
  chatText,
  EMPTY_LOG,
  historyBaseline,
  latestAt,
  seenKey,
  startChat,
  unreadCount,
} from "./chat";
import { ErrorNote, Field } from "./components";
import { usePanel, useTokens } from "./context";
import { formatDateTime } from "./format";
import { t } from "./i18n";
import type { RealtimeEvent, RealtimeState } from "./realtime";

type Action =
  | { kind: "event"; event: RealtimeEvent }
  | { kind: "pending"; requestId: string; text: string }
  | { kind: "forget"; requestId: string };

function reduce(log: ChatLog, action: Action): ChatLog {
  switch (action.kind) {
    case "event":
      return applyChatEvent(log, action.event);
    case "pending":
      return { ...log, pending: [...log.pending, { requestId: action.requestId, text: action.text, error: null }] };
    case "forget":
      return { ...log, pending: log.pending.filter((p) => p.requestId !== action.requestId) };
  }
}

interface Chat {
  log: ChatLog;
  state: RealtimeState;
  me: string | null;
  unread: number;
  /** Whether the first history arrived (the badge counts from then on). */
  loaded: boolean;
  /** Sends the text typed; the pt-BR reason when it cannot go now. */
  send: (text: string) => string | null;
  forget: (requestId: string) => void;
  /** Everything in the log has been read (the drawer or the page is showing it). */
  markSeen: () => void;
  /** The same socket's other events for a page (the board's live updates): one connection a tab. */
  subscribe: (listener: LiveListener) => () => void;
}

export interface LiveListener {
  onEvent: (event: RealtimeEvent) => void;
  /** Back after a drop: what was pushed meanwhile is lost, the page reads again. */
  onReconnect?: () => void;
}

const ChatContext = createContext<Chat | null>(null);

export function useChat(): Chat {
  const chat = useContext(ChatContext);
  if (!chat) throw new Error("useChat outside ChatProvider");
  return chat;
}

function readSeen(me: string | null): string | null {
  if (!me) return null;
  try {
    return window.localStorage.getItem(seenKey(me));
  } catch {
    return null;
  }
}

export function ChatProvider({ children }: { children: ReactNode }) {
  const { config, session } = usePanel();
  const me = useTokens()?.user_id ?? null;
  const [log, dispatch] = useReducer(reduce, EMPTY_LOG);
  const [state, setState] = useState<RealtimeState>("connecting");
  const [seenAt, setSeenAt] = useState<string | null>(() => readSeen(me));
  const channel = useRef<ChatChannel | null>(null);
  const started = useRef(false);
  const listeners = useRef(new Set<LiveListener>());
  const [loaded, setLoaded] = useState(false);

  useEffect(() => {
    const chat = startChat({
      wsUrl: config.wsUrl,
      apiBase: config.apiBase,
      fetch: session.fetch,
      onState: setState,
      onReconnect: () => {
        for (const listener of listeners.current) listener.onReconnect?.();
      },
      onEvent: (event) => {
        for (const listener of listeners.current) listener.onEvent(event);
        dispatch({ kind: "event", event });
        if (event.type === "chat.history" && !started.current) {
          started.current = true;
          setSeenAt((seen) => seen ?? historyBaseline(event));
          setLoaded(true);
        }
      },
    });
    channel.current = chat;
    return () => {
      chat.stop();
      channel.current = null;
    };
  }, [config, session]);

  const subscribe = useCallback((listener: LiveListener) => {
    listeners.current.add(listener);
    return () => {
      listeners.current.delete(listener);
    };
  }, []);

  const markSeen = useCallback(() => {
    const latest = latestAt(log.messages);
    if (!latest || !me || (seenAt && Date.parse(seenAt) >= Date.parse(latest))) return;
    setSeenAt(latest);
    try {
      window.localStorage.setItem(seenKey(me), latest);
    } catch {
      // a private window without storage: the badge just starts over on reload
    }
  }, [log.messages, me, seenAt]);

  const value = useMemo<Chat>(
    () => ({
      log,
      state,
      me,
      unread: unreadCount(log.messages, me, seenAt),
      loaded,
      send(text: string) {
        const checked = chatText(text);
        if (!checked.ok) return checked.message;
        const requestId = channel.current?.send(checked.text) ?? null;
        if (!requestId) return t.chat.offline;
        dispatch({ kind: "pending", requestId, text: checked.text });
        return null;
      },
      forget: (requestId: string) => dispatch({ kind: "forget", requestId }),
      markSeen,
      subscribe,
    }),
    [log, state, me, seenAt, loaded, markSeen, subscribe],
  );
  return <ChatContext.Provider value={value}>{children}</ChatContext.Provider>;
}

/** The log and the form; `prefix` keeps the ids apart when the drawer and the page both exist. */
export function ChatPanel({ prefix, autoFocus = false }: { prefix: string; autoFocus?: boolean }) {
  const { log, state, me, send, forget, markSeen } = useChat();
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const end = useRef<HTMLLIElement>(null);
  const input = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    end.current?.scrollIntoView?.({ block: "nearest" });
    markSeen();
  }, [log.messages.length, markSeen]);

  useEffect(() => {
    if (autoFocus) input.current?.focus();
  }, [autoFocus]);

  function submit(value: string): boolean {
    const problem = send(value);
    setError(problem);
    return problem === null;
  }

  const id = `${prefix}-text`;
  return (
    <section className="card chat" aria-labelledby={`${prefix}-log-title`}>
      <h2 id={`${prefix}-log-title`} className="sr-only">
        {t.chat.messages}
      </h2>
      {log.messages.length === 0 && log.pending.length === 0 ? <p className="muted">{t.chat.empty}</p> : null}
      <ol className="chat-log" role="log" aria-live="polite" aria-label={t.chat.messages} data-testid={`${prefix}-log`}>
        {log.messages.map((m) => (
          <li key={m.id} className={m.user_id === me ? "mine" : undefined}>
            <span className="chat-author">{m.user_id === me ? t.chat.you : m.author_name}</span>{" "}
            <time className="muted small" dateTime={m.created_at}>
              {formatDateTime(m.created_at)}
            </time>
            <p className="chat-text">{m.text}</p>
          </li>
        ))}
        {log.pending.map((p) => (
          <li key={p.requestId} className="mine pending">
            <span className="chat-author">{t.chat.you}</span>{" "}
            <span className="muted small">{p.error ? t.chat.failed : t.chat.sending}</span>
            <p className="chat-text">{p.text}</p>
            {p.error ? (
              <>
                <ErrorNote message={p.error} />
                <button
                  type="button"
                  onClick={() => {
                    forget(p.requestId);
                    submit(p.text);
                  }}
                >
                  {t.chat.retry}
                </button>{" "}
                <button type="button" onClick={() => forget(p.requestId)}>
                  {t.chat.discard}
                </button>
              </>
            ) : null}
          </li>
        ))}
        <li ref={end} aria-hidden="true" className="chat-end" />
      </ol>
      <form
        className="chat-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (submit(text)) setText("");
        }}
      >
        <Field label={t.chat.message} id={id} hint={t.chat.hint}>
          <textarea
            id={id}
            ref={input}
            rows={2}
            maxLength={2000}
            aria-describedby={`${id}-hint`}
            value={text}
            onChange={(e) => setText(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
                e.preventDefault();
                if (submit(text)) setText("");
              }
            }}
          />
        </Field>
        <ErrorNote message={error} />
        <button type="submit" className="primary" disabled={state !== "live"}>
          {t.chat.send}
        </button>
      </form>
    </section>
  );
}

/** The header's button: opens and closes the drawer; its name says how many messages are unread. */
export function ChatButton({ open, onToggle }: { open: boolean; onToggle: () => void }) {
  const { unread, loaded } = useChat();
  return (
    <button
      type="button"
      className="chat-button"
      aria-expanded={open}
      aria-controls="chat-drawer"
      aria-label={t.chat.button(unread)}
      data-testid="chat-button"
      data-history={loaded ? "loaded" : "waiting"}
      onClick={onToggle}
    >
      {t.chat.title}
      {unread > 0 ? (
        <span className="badge unread" aria-hidden="true" data-testid="chat-unread">
          {unread > 99 ? "99+" : unread}
        </span>
      ) : null}
    </button>
  );
}

/** The drawer beside the page: Esc or the close button shuts it and gives the focus back. */
export function ChatDrawer({ onClose }: { onClose: () => void }) {
  const { state } = useChat();
  return (
    <aside
      id="chat-drawer"
      className="chat-drawer"
      aria-labelledby="chat-drawer-title"
      onKeyDown={(e) => {
        if (e.key === "Escape") {
          e.stopPropagation();
          onClose();
        }
      }}
    >
      <div className="page-head">
        <h2 id="chat-drawer-title">{t.chat.title}</h2>
        <span className="muted small" role="status">
          {t.chat.states[state]}
        </span>
        <button type="button" onClick={onClose} aria-label={t.chat.close}>
          ×
        </button>
      </div>
      <ChatPanel prefix="dock-chat" autoFocus />
    </aside>
  );
}
