import { type FormEvent, useEffect, useMemo, useRef, useState } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";

import { call } from "../api/client";
import type { components } from "../api/schema";
import { ErrorNote, Field, Loading } from "../components";
import { useLoad, usePanel } from "../context";
import { formatDate, orderNumber } from "../format";
import { type OrderStatus, type Priority, priorityLabel, statusLabel, t } from "../i18n";
import { BOARD_COLUMNS, CLOSED, groupByStatus, matchesCard } from "../orders";
import { useChat } from "../ChatDock";
import { isBoardEvent } from "../realtime";

type Order = components["schemas"]["OrderListItem"];

const PAGE = 100;
const MAX_PAGES = 10;
const POLL_MS = 30_000;

export function BoardPage() {
  const { api } = usePanel();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const status = (params.get("situacao") as OrderStatus | null) ?? null;
  const technician = params.get("tecnico");
  const priority = (params.get("prioridade") as Priority | null) ?? null;
  const [number, setNumber] = useState("");
  const [who, setWho] = useState("");
  const [numberError, setNumberError] = useState<string | null>(null);
  // The shell's live channel (the chat's socket): one connection a tab, its state shown here.
  const { state: live, subscribe } = useChat();

  const users = useLoad(
    () => call(api.GET("/users", { params: { query: { role: "technician", limit: 100 } } })),
    [api],
  );

  const columns: readonly OrderStatus[] = status ? [status] : BOARD_COLUMNS;
  const orders = useLoad(async () => {
    // Each column on its own, all at once; a column follows its cursor up to MAX_PAGES pages.
    const columnOrders = await Promise.all(
      columns.map(async (s) => {
        const items: Order[] = [];
        let cursor: string | null = null;
        for (let page = 0; page < MAX_PAGES; page += 1) {
          const answer: components["schemas"]["OrderPage"] = await call(
            api.GET("/orders", {
              params: {
                query: {
                  status: [s],
                  limit: PAGE,
                  ...(technician ? { technician_id: technician } : {}),
                  ...(cursor ? { cursor } : {}),
                },
              },
            }),
          );
          items.push(...answer.items);
          cursor = answer.next_cursor;
          if (!cursor) return { items, more: false };
        }
        return { items, more: true };
      }),
    );
    return { items: columnOrders.flatMap((c) => c.items), more: columnOrders.some((c) => c.more) };
  }, [api, status, technician]);

  // Live updates: an event about an order, quote or payment reloads the board (debounced); without them, polling.
  const reloadRef = useRef(orders.reload);
  reloadRef.current = orders.reload;
  useEffect(() => {
    let pending: ReturnType<typeof setTimeout> | null = null;
    const unsubscribe = subscribe({
      // Back after a drop: what was pushed meanwhile is lost, so the board is read again.
      onReconnect: () => reloadRef.current(),
      onEvent: (event) => {
        if (!isBoardEvent(event)) return;
        if (pending) clearTimeout(pending);
        pending = setTimeout(() => reloadRef.current(), 250);
      },
    });
    return () => {
      if (pending) clearTimeout(pending);
      unsubscribe();
    };
  }, [subscribe]);
  useEffect(() => {
    if (live === "live") return;
    const timer = setInterval(() => reloadRef.current(), POLL_MS);
    return () => clearInterval(timer);
  }, [live]);

  const visible = useMemo(
    () => (orders.data?.items ?? []).filter((o) => (!priority || o.priority === priority) && matchesCard(o, who)),
    [orders.data, priority, who],
  );
  const groups = useMemo(() => groupByStatus(visible), [visible]);

  function setFilter(key: string, value: string) {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  }

  async function findNumber(event: FormEvent) {
    event.preventDefault();
    setNumberError(null);
    const n = Number.parseInt(number, 10);
    if (!Number.isSafeInteger(n) || n < 1) {
      setNumberError("Informe o número da OS.");
      return;
    }
    try {
      const page = await call(api.GET("/orders", { params: { query: { number: n, limit: 1 } } }));
      const found = page.items[0];
      if (found) navigate(`/ordens/${found.id}`);
      else setNumberError(`A OS ${orderNumber(n)} não existe.`);
    } catch (failure) {
      setNumberError((failure as Error).message);
    }
  }

  return (
    <div className="board-page">
      <div className="page-head">
        <h1>{t.board.title}</h1>
        <p className="muted" role="status" aria-live="polite">
          {orders.data ? t.board.count(visible.length) : null}
          {orders.data?.more ? ` (${t.board.more})` : null}
          {" · "}
          <span className={live === "live" ? "live" : undefined}>
            {live === "live" ? t.board.live : t.board.polling}
          </span>
        </p>
        <Link className="button" to="/clientes">
          {t.board.newOrder}
        </Link>
      </div>
      <form className="filters" aria-label={t.board.filters} onSubmit={(e) => void findNumber(e)}>
        <Field label={t.board.status} id="f-status">
          <select id="f-status" value={status ?? ""} onChange={(e) => setFilter("situacao", e.target.value)}>
            <option value="">{t.board.allOpen}</option>
            {[...BOARD_COLUMNS, ...CLOSED].map((s) => (
              <option key={s} value={s}>
                {statusLabel[s]}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t.board.technician} id="f-tech">
          <select id="f-tech" value={technician ?? ""} onChange={(e) => setFilter("tecnico", e.target.value)}>
            <option value="">{t.board.anyTechnician}</option>
            {(users.data?.items ?? []).map((u) => (
              <option key={u.id} value={u.id}>
                {u.name}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t.order.priority} id="f-priority">
          <select id="f-priority" value={priority ?? ""} onChange={(e) => setFilter("prioridade", e.target.value)}>
            <option value="">Todas</option>
            {(Object.keys(priorityLabel) as Priority[]).map((p) => (
              <option key={p} value={p}>
                {priorityLabel[p]}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t.board.who} id="f-who">
          <input id="f-who" type="search" value={who} onChange={(e) => setWho(e.target.value)} />
        </Field>
        <Field label={t.board.number} id="f-number">
          <span className="inline">
            <input id="f-number" inputMode="numeric" value={number} onChange={(e) => setNumber(e.target.value)} />
            <button type="submit">Abrir</button>
          </span>
        </Field>
        <button type="button" onClick={orders.reload}>
          {t.refresh}
        </button>
      </form>
      <ErrorNote message={numberError ?? orders.error} />
      <Loading when={orders.loading && !orders.data} />
      <div className="board" data-testid="board">
        {columns.map((s) => {
          const items = groups.get(s) ?? [];
          return (
            <section
              key={s}
              className={items.length ? "column" : "column empty"}
              aria-labelledby={`col-${s}`}
              data-status={s}
            >
              <h2 id={`col-${s}`}>
                {statusLabel[s]} <span className="badge">{items.length}</span>
              </h2>
              {items.length === 0 ? (
                <p className="muted small">{t.board.empty}</p>
              ) : (
                <ul>
                  {items.map((o) => (
                    <OrderCard key={o.id} order={o} />
                  ))}
                </ul>
              )}
            </section>
          );
        })}
      </div>
    </div>
  );
}

function OrderCard({ order }: { order: Order }) {
  return (
    <li className={`order-card priority-${order.priority}`}>
      <Link to={`/ordens/${order.id}`}>
        <strong>OS {orderNumber(order.number)}</strong>
        <span className="who">
          <span className="customer">{order.customer_name}</span>
          <span className="device muted">{order.device_label}</span>
        </span>
        <span className="problem">{order.reported_problem}</span>
        <span className="meta">
          {order.priority !== "normal" ? <span className="tag">{priorityLabel[order.priority]}</span> : null}
          {order.promised_at ? <span>Prometido: {formatDate(order.promised_at)}</span> : null}
        </span>
      </Link>
    </li>
  );
}
