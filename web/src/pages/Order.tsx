import { useState } from "react";
import { Link, useParams } from "react-router";

import { call } from "../api/client";
import { allowedFromConflict } from "../api/errors";
import type { components } from "../api/schema";
import { ErrorNote, Field, Loading, Notice, Section } from "../components";
import { useAction, useLoad, usePanel, useTokens } from "../context";
import { formatCents, formatDate, formatDateTime, parseReais } from "../format";
import {
  billingTypeLabel,
  chargeStatusLabel,
  deviceTypeLabel,
  documentLabel,
  type OrderStatus,
  priorityLabel,
  quoteStatusLabel,
  statusLabel,
  t,
} from "../i18n";
import { staffTargets } from "../orders";
import { OrderBoletos } from "./Boletos";
import { seesMoney } from "../roles";

type Order = components["schemas"]["OrderOut"];

const QUOTABLE: readonly OrderStatus[] = ["diagnosing", "quote_sent", "rejected"];
type Quote = components["schemas"]["QuoteOut"];
type BillingType = components["schemas"]["ChargeIn"]["billing_type"];

export function OrderPage() {
  const { orderId = "" } = useParams();
  const { api } = usePanel();
  const role = useTokens()?.role ?? null;
  const order = useLoad(
    () => call(api.GET("/orders/{order_id}", { params: { path: { order_id: orderId } } })),
    [api, orderId],
  );
  const o = order.data;
  return (
    <div>
      <p>
        <Link to="/">← {t.order.back}</Link>
      </p>
      <ErrorNote message={order.error} />
      <Loading when={order.loading && !o} />
      {o ? (
        <>
          <h1>
            {t.order.title(o.number)} <span className={`status status-${o.status}`}>{statusLabel[o.status]}</span>
          </h1>
          <div className="two-columns">
            <Facts order={o} money={seesMoney(role)} />
            <Transitions order={o} onMoved={order.reload} />
          </div>
          <Quotes order={o} onChanged={order.reload} />
          {seesMoney(role) ? <Charges order={o} /> : null}
          {seesMoney(role) ? <OrderBoletos orderId={o.id} version={o.version} /> : null}
          <div className="two-columns">
            <History order={o} />
            <Documents order={o} />
          </div>
        </>
      ) : null}
    </div>
  );
}

function Facts({ order, money }: { order: Order; money: boolean }) {
  const { api } = usePanel();
  const customer = useLoad(
    () => call(api.GET("/customers/{customer_id}", { params: { path: { customer_id: order.customer_id } } })),
    [api, order.customer_id],
  );
  const device = useLoad(
    () => call(api.GET("/devices/{device_id}", { params: { path: { device_id: order.device_id } } })),
    [api, order.device_id],
  );
  return (
    <Section title="Dados da OS" id="facts">
      <dl className="facts">
        <dt>{t.order.customer}</dt>
        <dd>
          {customer.data ? (
            <>
              <Link to={`/clientes/${customer.data.id}`}>{customer.data.name}</Link> · {customer.data.phone}
            </>
          ) : (
            t.none
          )}
        </dd>
        <dt>{t.order.device}</dt>
        <dd>
          {device.data
            ? `${deviceTypeLabel[device.data.type]} ${device.data.brand} ${device.data.model}${
                device.data.imei ? ` · IMEI ${device.data.imei}` : ""
              }`
            : t.none}
        </dd>
        <dt>{t.order.problem}</dt>
        <dd>{order.reported_problem}</dd>
        <dt>{t.order.diagnosis}</dt>
        <dd>{order.diagnosis ?? t.none}</dd>
        <dt>{t.order.priority}</dt>
        <dd>{priorityLabel[order.priority]}</dd>
        <dt>{t.order.promised}</dt>
        <dd>{formatDateTime(order.promised_at)}</dd>
        {money ? (
          <>
            <dt>{t.order.paid}</dt>
            <dd>{formatCents(order.paid_cents)}</dd>
          </>
        ) : null}
        {order.warranty_until ? (
          <>
            <dt>Garantia até</dt>
            <dd>{formatDate(order.warranty_until)}</dd>
          </>
        ) : null}
      </dl>
    </Section>
  );
}

function Transitions({ order, onMoved }: { order: Order; onMoved: () => void }) {
  const { api } = usePanel();
  const workflow = useLoad(() => call(api.GET("/settings/order-workflow")), [api]);
  const [reason, setReason] = useState("");
  const [refusedAllowed, setRefusedAllowed] = useState<string[]>([]);
  const move = useAction(async (to: OrderStatus) => {
    setRefusedAllowed([]);
    try {
      await call(
        api.POST("/orders/{order_id}/transitions", {
          params: { path: { order_id: order.id } },
          body: { to, version: order.version, reason: reason.trim() || null },
        }),
      );
    } catch (failure) {
      setRefusedAllowed(allowedFromConflict(failure));
      throw failure;
    }
    setReason("");
    onMoved();
  });
  const targets = staffTargets(order.status, workflow.data?.transitions);
  return (
    <Section title={t.order.moveTo} id="transitions">
      <ErrorNote message={workflow.error} />
      <Loading when={workflow.loading && !workflow.data} />
      {workflow.data && targets.length === 0 ? <p className="muted">{t.order.noMoves}</p> : null}
      {order.status === "quote_sent" ? <p className="muted">{t.order.quoteDecisionHint}</p> : null}
      {targets.length > 0 ? (
        <>
          <Field label={t.order.reason} id="t-reason">
            <input id="t-reason" maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} />
          </Field>
          <div className="actions" role="group" aria-label={t.order.moveTo}>
            {targets.map((to) => (
              <button
                key={to}
                type="button"
                className={to === "cancelled" ? "danger" : "primary"}
                disabled={move.busy}
                onClick={() => void move.run(to)}
              >
                {statusLabel[to]}
              </button>
            ))}
          </div>
        </>
      ) : null}
      <ErrorNote message={move.error} />
      {refusedAllowed.length > 0 ? (
        <p className="muted">
          Permitido agora: {refusedAllowed.map((s) => statusLabel[s as OrderStatus] ?? s).join(", ")}
        </p>
      ) : null}
    </Section>
  );
}

function History({ order }: { order: Order }) {
  const { api } = usePanel();
  const history = useLoad(
    () => call(api.GET("/orders/{order_id}/history", { params: { path: { order_id: order.id } } })),
    [api, order.id, order.version],
  );
  return (
    <Section title={t.order.history} id="history">
      <ErrorNote message={history.error} />
      <Loading when={history.loading && !history.data} />
      <ol className="timeline">
        {(history.data?.items ?? []).map((h, i) => (
          <li key={`${h.at}-${i}`}>
            <time dateTime={h.at}>{formatDateTime(h.at)}</time> —{" "}
            {h.from_status ? `${statusLabel[h.from_status]} → ` : ""}
            <strong>{statusLabel[h.to_status]}</strong>
            {h.actor_label ? ` · ${h.actor_label}` : ""}
            {h.reason ? <div className="muted">{h.reason}</div> : null}
          </li>
        ))}
      </ol>
    </Section>
  );
}

interface Line {
  description: string;
  price: string;
}

function Quotes({ order, onChanged }: { order: Order; onChanged: () => void }) {
  const { api } = usePanel();
  const quotes = useLoad(
    () => call(api.GET("/orders/{order_id}/quotes", { params: { path: { order_id: order.id } } })),
    [api, order.id, order.version],
  );
  const [lines, setLines] = useState<Line[]>([{ description: "", price: "" }]);
  const [deadline, setDeadline] = useState("3");
  const create = useAction(async () => {
    const body = lines.map((line) => {
      const cents = parseReais(line.price);
      if (cents === null || cents <= 0) throw new Error(t.errors.money);
      return { kind: "labour" as const, description: line.description.trim(), price_cents: cents };
    });
    await call(
      api.POST("/orders/{order_id}/quotes", {
        params: { path: { order_id: order.id } },
        body: { lines: body, deadline_days: Number.parseInt(deadline, 10) || 1 },
      }),
    );
    setLines([{ description: "", price: "" }]);
    quotes.reload();
    onChanged();
  });
  const setLine = (i: number, patch: Partial<Line>) =>
    setLines(lines.map((line, j) => (j === i ? { ...line, ...patch } : line)));
  // The API prices a new quote only while diagnosing, waiting for a decision, or after a rejection.
  const open = QUOTABLE.includes(order.status);
  return (
    <Section title={t.quote.title} id="quotes">
      <ErrorNote message={quotes.error} />
      <Loading when={quotes.loading && !quotes.data} />
      {quotes.data && quotes.data.items.length === 0 ? <p className="muted">{t.quote.none}</p> : null}
      {(quotes.data?.items ?? []).map((q) => (
        <QuoteCard key={q.id} quote={q} onChanged={() => (quotes.reload(), onChanged())} />
      ))}
      {open ? (
        <form
          className="subform"
          aria-labelledby="new-quote-title"
          onSubmit={(e) => {
            e.preventDefault();
            void create.run();
          }}
        >
          <h3 id="new-quote-title">{t.quote.new}</h3>
          {lines.map((line, i) => (
            <div className="line" key={i}>
              <Field label={t.quote.description} id={`q-desc-${i}`}>
                <input
                  id={`q-desc-${i}`}
                  required
                  maxLength={200}
                  value={line.description}
                  onChange={(e) => setLine(i, { description: e.target.value })}
                />
              </Field>
              <Field label={t.quote.price} id={`q-price-${i}`}>
                <input
                  id={`q-price-${i}`}
                  required
                  inputMode="decimal"
                  placeholder="0,00"
                  value={line.price}
                  onChange={(e) => setLine(i, { price: e.target.value })}
                />
              </Field>
              {lines.length > 1 ? (
                <button type="button" onClick={() => setLines(lines.filter((_, j) => j !== i))}>
                  {t.quote.removeLine}
                </button>
              ) : null}
            </div>
          ))}
          <div className="actions">
            <button type="button" onClick={() => setLines([...lines, { description: "", price: "" }])}>
              {t.quote.addLine}
            </button>
          </div>
          <Field label={t.quote.deadline} id="q-deadline">
            <input
              id="q-deadline"
              type="number"
              min={1}
              max={365}
              required
              value={deadline}
              onChange={(e) => setDeadline(e.target.value)}
            />
          </Field>
          <ErrorNote message={create.error} />
          <button type="submit" className="primary" disabled={create.busy}>
            {t.quote.create}
          </button>
        </form>
      ) : null}
    </Section>
  );
}

function QuoteCard({ quote, onChanged }: { quote: Quote; onChanged: () => void }) {
  const { api } = usePanel();
  const [name, setName] = useState("");
  const [sent, setSent] = useState<string | null>(null);
  const send = useAction(async () => {
    await call(api.POST("/quotes/{quote_id}/send", { params: { path: { quote_id: quote.id } }, body: {} }));
    setSent(t.quote.sent);
    onChanged();
  });
  const decide = useAction(async (decision: "approve" | "reject") => {
    await call(
      api.POST("/quotes/{quote_id}/decision", {
        params: { path: { quote_id: quote.id } },
        body: { decision, name: name.trim() },
      }),
    );
    onChanged();
  });
  return (
    <article className="quote" aria-label={`${t.quote.title}: ${t.quote.version(quote.version)}`}>
      <header>
        <strong>{t.quote.version(quote.version)}</strong> · {quoteStatusLabel[quote.status]}
        {quote.decided_name ? ` · ${quote.decided_name} (${formatDateTime(quote.decided_at)})` : ""}
      </header>
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Item</th>
              <th scope="col">Qtd.</th>
              <th scope="col" className="num">
                Valor
              </th>
            </tr>
          </thead>
          <tbody>
            {quote.lines.map((line, i) => (
              <tr key={i}>
                <td>{line.description}</td>
                <td>{line.quantity}</td>
                <td className="num">{formatCents(line.total_cents)}</td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            {quote.discount_cents > 0 ? (
              <tr>
                <td colSpan={2}>Desconto{quote.discount_rule ? ` (${quote.discount_rule})` : ""}</td>
                <td className="num">−{formatCents(quote.discount_cents)}</td>
              </tr>
            ) : null}
            <tr>
              <th scope="row" colSpan={2}>
                {t.quote.total}
              </th>
              <td className="num" data-testid="quote-total">
                {formatCents(quote.total_cents)}
              </td>
            </tr>
          </tfoot>
        </table>
      </div>
      <p className="small muted">
        Válido até {formatDate(quote.valid_until)} · prazo {quote.deadline_days} dia(s)
      </p>
      {quote.status === "pending" ? (
        <>
          <div className="actions">
            <button type="button" className="primary" disabled={send.busy} onClick={() => void send.run()}>
              {t.quote.send}
            </button>
          </div>
          <Notice message={sent} />
          <ErrorNote message={send.error} />
          <form
            className="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
            }}
          >
            <Field label={t.quote.decidedName} id={`qd-name-${quote.id}`}>
              <input id={`qd-name-${quote.id}`} value={name} onChange={(e) => setName(e.target.value)} />
            </Field>
            <div className="actions">
              <button type="button" disabled={decide.busy || !name.trim()} onClick={() => void decide.run("approve")}>
                {t.quote.approve}
              </button>
              <button
                type="button"
                className="danger"
                disabled={decide.busy || !name.trim()}
                onClick={() => void decide.run("reject")}
              >
                {t.quote.reject}
              </button>
            </div>
            <ErrorNote message={decide.error} />
          </form>
        </>
      ) : null}
    </article>
  );
}

function Charges({ order }: { order: Order }) {
  const { api } = usePanel();
  const charges = useLoad(
    () => call(api.GET("/orders/{order_id}/charges", { params: { path: { order_id: order.id } } })),
    [api, order.id, order.version],
  );
  const [type, setType] = useState<BillingType>("PIX");
  const [value, setValue] = useState("");
  const create = useAction(async () => {
    let cents: number | null = null;
    if (value.trim()) {
      cents = parseReais(value);
      if (cents === null || cents <= 0) throw new Error(t.errors.money);
    }
    await call(
      api.POST("/orders/{order_id}/charges", {
        params: { path: { order_id: order.id } },
        body: { billing_type: type, value_cents: cents },
      }),
    );
    setValue("");
    charges.reload();
  });
  return (
    <Section title={t.charge.title} id="charges">
      <ErrorNote message={charges.error} />
      <Loading when={charges.loading && !charges.data} />
      {charges.data && charges.data.items.length === 0 ? <p className="muted">{t.charge.none}</p> : null}
      <ul className="rows">
        {(charges.data?.items ?? []).map((c) => (
          <li key={c.id} className="charge">
            <strong>{billingTypeLabel[c.billing_type]}</strong> {formatCents(c.value_cents)} ·{" "}
            <span className={`charge-${c.status}`}>{chargeStatusLabel[c.status]}</span> · vence {formatDate(c.due_date)}
            {c.paid_at ? ` · paga em ${formatDateTime(c.paid_at)}` : ""}
            {c.pix_payload ? (
              <Field label={t.charge.pix} id={`pix-${c.id}`}>
                <input id={`pix-${c.id}`} readOnly value={c.pix_payload} onFocus={(e) => e.target.select()} />
              </Field>
            ) : null}
            {c.boleto_line ? (
              <Field label={t.charge.boleto} id={`boleto-${c.id}`}>
                <input id={`boleto-${c.id}`} readOnly value={c.boleto_line} onFocus={(e) => e.target.select()} />
              </Field>
            ) : null}
            <span className="links">
              {c.invoice_url ? (
                <a href={c.invoice_url} target="_blank" rel="noreferrer">
                  {t.charge.invoice}
                </a>
              ) : null}
              {c.receipt_url ? (
                <a href={c.receipt_url} target="_blank" rel="noreferrer">
                  {t.charge.receipt}
                </a>
              ) : null}
            </span>
          </li>
        ))}
      </ul>
      <form
        className="subform"
        onSubmit={(e) => {
          e.preventDefault();
          void create.run();
        }}
      >
        <h3>{t.charge.new}</h3>
        <Field label={t.charge.type} id="ch-type">
          <select id="ch-type" value={type} onChange={(e) => setType(e.target.value as BillingType)}>
            {(Object.keys(billingTypeLabel) as BillingType[]).map((k) => (
              <option key={k} value={k}>
                {billingTypeLabel[k]}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t.charge.value} id="ch-value">
          <input id="ch-value" inputMode="decimal" value={value} onChange={(e) => setValue(e.target.value)} />
        </Field>
        <ErrorNote message={create.error} />
        <button type="submit" className="primary" disabled={create.busy}>
          {t.charge.create}
        </button>
      </form>
    </Section>
  );
}

function Documents({ order }: { order: Order }) {
  const { api } = usePanel();
  const open = useAction(async (kind: keyof typeof documentLabel) => {
    // The link is short-lived: ask for it when clicked, then open it.
    const doc = await call(
      api.GET("/orders/{order_id}/documents/{kind}", { params: { path: { order_id: order.id, kind } } }),
    );
    window.open(doc.url, "_blank", "noopener");
  });
  return (
    <Section title={t.order.documents} id="documents">
      <div className="actions">
        {(Object.keys(documentLabel) as (keyof typeof documentLabel)[]).map((kind) => (
          <button key={kind} type="button" disabled={open.busy} onClick={() => void open.run(kind)}>
            {documentLabel[kind]} (PDF)
          </button>
        ))}
      </div>
      <ErrorNote message={open.error} />
    </Section>
  );
}
