import { useState } from "react";

import { call } from "../api/client";
import { ErrorNote, Field, Loading, Section } from "../components";
import { useLoad, usePanel, useTokens } from "../context";
import { formatCents, formatDate } from "../format";
import { type OrderStatus, statusLabel, t } from "../i18n";
import { managesShop } from "../roles";

type Period = "day" | "week" | "month";

/** Owners' and admins' figures: orders by status, revenue of delivered orders, turnaround. */
export function ReportsPage() {
  const role = useTokens()?.role ?? null;
  return managesShop(role) ? <Reports /> : <p className="notice">{t.errors.forbidden}</p>;
}

function Reports() {
  const { api } = usePanel();
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [period, setPeriod] = useState<Period>("month");
  const range = { ...(from ? { from } : {}), ...(to ? { to } : {}) };
  const users = useLoad(() => call(api.GET("/users", { params: { query: { limit: 100 } } })), [api]);
  const name = (key: string | null) =>
    key === null ? t.reports.everyone : (users.data?.items.find((u) => u.id === key)?.name ?? key);
  const orders = useLoad(
    () => call(api.GET("/reports/orders", { params: { query: { group_by: "status", ...range } } })),
    [api, from, to],
  );
  const revenue = useLoad(
    () => call(api.GET("/reports/revenue", { params: { query: { period, ...range } } })),
    [api, from, to, period],
  );
  const turnaround = useLoad(() => call(api.GET("/reports/turnaround", { params: { query: range } })), [api, from, to]);
  return (
    <div>
      <h1>{t.reports.title}</h1>
      <form className="filters" aria-label={t.board.filters} onSubmit={(e) => e.preventDefault()}>
        <Field label={t.reports.from} id="r-from">
          <input id="r-from" type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
        </Field>
        <Field label={t.reports.to} id="r-to">
          <input id="r-to" type="date" value={to} onChange={(e) => setTo(e.target.value)} />
        </Field>
        <Field label={t.reports.period} id="r-period">
          <select id="r-period" value={period} onChange={(e) => setPeriod(e.target.value as Period)}>
            <option value="day">Dia</option>
            <option value="week">Semana</option>
            <option value="month">Mês</option>
          </select>
        </Field>
      </form>
      {orders.data ? (
        <p className="muted">
          {formatDate(orders.data.start)} a {formatDate(orders.data.end)}
        </p>
      ) : null}
      <div className="two-columns">
        <Section title={t.reports.orders} id="r-orders">
          <ErrorNote message={orders.error} />
          <Loading when={orders.loading && !orders.data} />
          <div className="table-wrap">
            <table>
              <tbody>
                {(orders.data?.rows ?? []).map((row) => (
                  <tr key={row.key}>
                    <th scope="row">{statusLabel[row.key as OrderStatus] ?? row.key}</th>
                    <td className="num">{row.orders}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </Section>
        <Section title={t.reports.revenue} id="r-revenue">
          <ErrorNote message={revenue.error} />
          <Loading when={revenue.loading && !revenue.data} />
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">{t.reports.periodColumn}</th>
                  <th scope="col" className="num">
                    {t.reports.delivered}
                  </th>
                  <th scope="col" className="num">
                    {t.reports.amount}
                  </th>
                </tr>
              </thead>
              <tbody>
                {(revenue.data?.rows ?? []).map((row) => (
                  <tr key={row.key}>
                    <td>{row.key}</td>
                    <td className="num">{row.orders}</td>
                    <td className="num">{formatCents(row.revenue_cents)}</td>
                  </tr>
                ))}
              </tbody>
              {revenue.data ? (
                <tfoot>
                  <tr>
                    <th scope="row" colSpan={2}>
                      {t.quote.total}
                    </th>
                    <td className="num">{formatCents(revenue.data.total_cents)}</td>
                  </tr>
                </tfoot>
              ) : null}
            </table>
          </div>
        </Section>
        <Section title={t.reports.turnaround} id="r-turnaround">
          <ErrorNote message={turnaround.error} />
          <Loading when={turnaround.loading && !turnaround.data} />
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">{t.board.technician}</th>
                  <th scope="col" className="num">
                    {t.reports.delivered}
                  </th>
                  <th scope="col" className="num">
                    {t.reports.averageHours}
                  </th>
                </tr>
              </thead>
              <tbody>
                {(turnaround.data?.rows ?? []).map((row) => (
                  <tr key={row.key ?? "all"}>
                    <td>{name(row.key)}</td>
                    <td className="num">{row.orders}</td>
                    <td className="num">{row.average_hours.toLocaleString("pt-BR", { maximumFractionDigits: 1 })} h</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </Section>
      </div>
    </div>
  );
}
