import { useState } from "react";
import { Link, useParams } from "react-router";

import { call } from "../api/client";
import type { components, paths } from "../api/schema";
import { ErrorNote, Field, Loading, Notice, Section } from "../components";
import { useAction, useLoad, usePanel, useTokens } from "../context";
import { formatDateTime } from "../format";
import { t } from "../i18n";
import { managesShop } from "../roles";

type ConversationState = NonNullable<NonNullable<paths["/conversations"]["get"]["parameters"]["query"]>["state"]>;

const STATES: readonly ConversationState[] = ["waiting_staff", "with_staff", "bot", "awaiting_device", "awaiting_part"];

/** The shop's WhatsApp: its number's connection (owners and admins) and the conversations. */
export function WhatsAppPage() {
  const { conversationId } = useParams();
  const role = useTokens()?.role ?? null;
  const [changes, setChanges] = useState(0);
  return (
    <div>
      <h1>{t.whatsapp.title}</h1>
      {managesShop(role) ? <Connection /> : null}
      <div className="two-columns">
        <Conversations selected={conversationId ?? null} changes={changes} />
        {conversationId ? (
          <Conversation id={conversationId} key={conversationId} onChanged={() => setChanges((n) => n + 1)} />
        ) : null}
      </div>
    </div>
  );
}

function Connection() {
  const { api } = usePanel();
  const instance = useLoad(() => call(api.GET("/whatsapp/instance")), [api]);
  const [qr, setQr] = useState<components["schemas"]["InstanceOut"] | null>(null);
  const connect = useAction(async () => {
    setQr(await call(api.POST("/whatsapp/instance", { body: {} })));
  });
  const state = qr?.state ?? instance.data?.state;
  return (
    <Section title={t.whatsapp.connection} id="wa-connection">
      <Loading when={instance.loading && !instance.data} />
      {instance.error && !qr ? <p className="muted">{t.whatsapp.notConnected}</p> : null}
      {state ? (
        <p>
          {t.whatsapp.state}: <strong>{t.whatsapp.states[state as keyof typeof t.whatsapp.states] ?? state}</strong>
          {instance.data?.number ? ` · ${instance.data.number}` : ""}
        </p>
      ) : null}
      {state !== "open" ? (
        <button type="button" className="primary" disabled={connect.busy} onClick={() => void connect.run()}>
          {t.whatsapp.connect}
        </button>
      ) : null}
      <ErrorNote message={connect.error} />
      {qr?.qr_image ? (
        <figure className="qr">
          <img src={qr.qr_image} alt={t.whatsapp.qrAlt} width={240} height={240} />
          <figcaption>{t.whatsapp.qrHelp}</figcaption>
        </figure>
      ) : null}
      {qr?.pairing_code ? <Notice message={`${t.whatsapp.pairing}: ${qr.pairing_code}`} /> : null}
    </Section>
  );
}

function Conversations({ selected, changes }: { selected: string | null; changes: number }) {
  const { api } = usePanel();
  const [state, setState] = useState<ConversationState | "">("");
  const list = useLoad(
    () => call(api.GET("/conversations", { params: { query: { limit: 100, ...(state ? { state } : {}) } } })),
    [api, state, changes],
  );
  return (
    <Section title={t.whatsapp.conversations} id="wa-conversations">
      <Field label={t.whatsapp.filter} id="wa-state">
        <select id="wa-state" value={state} onChange={(e) => setState(e.target.value as ConversationState | "")}>
          <option value="">{t.whatsapp.all}</option>
          {STATES.map((s) => (
            <option key={s} value={s}>
              {t.whatsapp.conversationStates[s]}
            </option>
          ))}
        </select>
      </Field>
      <ErrorNote message={list.error} />
      <Loading when={list.loading && !list.data} />
      {list.data && list.data.items.length === 0 ? <p className="muted">{t.whatsapp.none}</p> : null}
      <ul className="rows">
        {(list.data?.items ?? []).map((c) => (
          <li key={c.id} aria-current={c.id === selected ? "true" : undefined}>
            <Link to={`/whatsapp/${c.id}`}>{c.push_name || c.phone || t.whatsapp.unknown}</Link>{" "}
            {c.unread > 0 ? <span className="badge">{c.unread}</span> : null}
            <div className="small muted">
              {t.whatsapp.conversationStates[c.state as ConversationState] ?? c.state} ·{" "}
              {formatDateTime(c.last_message_at)}
            </div>
          </li>
        ))}
      </ul>
    </Section>
  );
}

function Conversation({ id, onChanged }: { id: string; onChanged: () => void }) {
  const { api } = usePanel();
  const conversation = useLoad(
    () => call(api.GET("/conversations/{conversation_id}", { params: { path: { conversation_id: id } } })),
    [api, id],
  );
  const messages = useLoad(
    () =>
      call(
        api.GET("/conversations/{conversation_id}/messages", {
          params: { path: { conversation_id: id }, query: { limit: 100 } },
        }),
      ),
    [api, id],
  );
  const [text, setText] = useState("");
  const reply = useAction(async () => {
    await call(
      api.POST("/conversations/{conversation_id}/messages", {
        params: { path: { conversation_id: id } },
        body: { text: text.trim() },
      }),
    );
    setText("");
    messages.reload();
    conversation.reload();
    onChanged();
  });
  const release = useAction(async () => {
    await call(api.POST("/conversations/{conversation_id}/release", { params: { path: { conversation_id: id } } }));
    conversation.reload();
    onChanged();
  });
  const c = conversation.data;
  const ordered = [...(messages.data?.items ?? [])].sort((a, b) => a.created_at.localeCompare(b.created_at));
  return (
    <Section title={c ? c.push_name || c.phone || t.whatsapp.unknown : t.whatsapp.conversation} id="wa-conversation">
      <ErrorNote message={conversation.error ?? messages.error} />
      <Loading when={messages.loading && !messages.data} />
      {c ? (
        <p className="small muted">
          {c.phone} · {t.whatsapp.conversationStates[c.state as ConversationState] ?? c.state}
        </p>
      ) : null}
      <ol className="chat" aria-label={t.whatsapp.messages}>
        {ordered.map((m) => (
          <li key={m.id} className={`bubble ${m.direction === "in" ? "in" : "out"}`}>
            <span className="small muted">
              {t.whatsapp.authors[m.author as keyof typeof t.whatsapp.authors] ?? m.author} ·{" "}
              {formatDateTime(m.created_at)}
            </span>
            <span>{m.body ?? (m.media_url ? t.whatsapp.media : "")}</span>
          </li>
        ))}
      </ol>
      <form
        className="subform"
        onSubmit={(e) => {
          e.preventDefault();
          void reply.run();
        }}
      >
        <Field label={t.whatsapp.reply} id="wa-reply">
          <textarea id="wa-reply" required maxLength={4000} value={text} onChange={(e) => setText(e.target.value)} />
        </Field>
        <ErrorNote message={reply.error} />
        <div className="actions">
          <button type="submit" className="primary" disabled={reply.busy}>
            {t.whatsapp.send}
          </button>
          {c && c.state === "with_staff" ? (
            <button type="button" disabled={release.busy} onClick={() => void release.run()}>
              {t.whatsapp.release}
            </button>
          ) : null}
        </div>
        <ErrorNote message={release.error} />
      </form>
    </Section>
  );
}
