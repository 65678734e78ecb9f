import { useEffect, useReducer, useRef, useState } from "react";

import { applyChatEvent, type ChatChannel, type ChatLog, chatText, EMPTY_LOG, startChat } from "../chat";
import { ErrorNote, Field } from "../components";
import { usePanel, useTokens } from "../context";
import { formatDateTime } from "../format";
import { t } from "../i18n";
import type { RealtimeEvent, RealtimeState } from "../realtime";

type Action =
  | { kind: "event"; event: RealtimeEvent }
  | { kind: "pending"; requestId: string; text: string }
  | {
      kind: "forget";
      requestId: string;
    };

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

/** The shop's internal chat: every signed-in user of the shop, live over the WebSocket. The
 * history comes on every (re)connection; a message typed while the socket is down is not sent. */
export function ChatPage() {
  const { config, session } = usePanel();
  const me = useTokens()?.user_id ?? null;
  const [log, dispatch] = useReducer(reduce, EMPTY_LOG);
  const [state, setState] = useState<RealtimeState>("connecting");
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const channel = useRef<ChatChannel | null>(null);
  const end = useRef<HTMLLIElement>(null);

  useEffect(() => {
    const chat = startChat({
      wsUrl: config.wsUrl,
      apiBase: config.apiBase,
      fetch: session.fetch,
      onState: setState,
      onEvent: (event) => dispatch({ kind: "event", event }),
    });
    channel.current = chat;
    return () => {
      chat.stop();
      channel.current = null;
    };
  }, [config, session]);

  useEffect(() => {
    end.current?.scrollIntoView?.({ block: "nearest" });
  }, [log.messages.length]);

  function send(value: string): boolean {
    setError(null);
    const checked = chatText(value);
    if (!checked.ok) {
      setError(checked.message);
      return false;
    }
    const requestId = channel.current?.send(checked.text) ?? null;
    if (!requestId) {
      setError(t.chat.offline);
      return false;
    }
    dispatch({ kind: "pending", requestId, text: checked.text });
    return true;
  }

  function submit() {
    if (send(text)) setText("");
  }

  return (
    <div className="chat-page">
      <div className="page-head">
        <h1>{t.chat.title}</h1>
        <p className="muted" role="status" aria-live="polite">
          <span className={state === "live" ? "live" : undefined}>{t.chat.states[state]}</span>
        </p>
      </div>
      <section className="card chat" aria-labelledby="chat-log-title">
        <h2 id="chat-log-title" className="sr-only">
          {t.chat.messages}
        </h2>
        {log.messages.length === 0 && log.pending.length === 0 ? <p className="muted">{t.chat.empty}</p> : null}
        <ol className="chat-log" role="log" aria-live="polite" aria-label={t.chat.messages} data-testid="chat-log">
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
                      dispatch({ kind: "forget", requestId: p.requestId });
                      send(p.text);
                    }}
                  >
                    {t.chat.retry}
                  </button>{" "}
                  <button type="button" onClick={() => dispatch({ kind: "forget", requestId: p.requestId })}>
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
            submit();
          }}
        >
          <Field label={t.chat.message} id="chat-text" hint={t.chat.hint}>
            <textarea
              id="chat-text"
              rows={2}
              maxLength={2000}
              aria-describedby="chat-text-hint"
              value={text}
              onChange={(e) => setText(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
                  e.preventDefault();
                  submit();
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
    </div>
  );
}
