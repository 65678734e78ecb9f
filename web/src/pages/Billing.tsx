import { useState } from "react";

import { call } from "../api/client";
import type { PaymentRequired } from "../api/session";
import { ErrorNote, Field, Loading, Section } from "../components";
import { useAction, useLoad, usePanel, useTokens } from "../context";
import { explainConflict } from "../editing";
import { formatCents, formatDate } from "../format";
import { invoiceStatusLabel, t } from "../i18n";
import { cancelsSubscription, managesShop } from "../roles";

/** The shop's subscription to assistec. A suspended (402) shop lands here: what happened, and the
 * open invoice's payment link, which is the way back in. */
export function BillingPage({ blocked }: { blocked: PaymentRequired | null }) {
  const { api } = usePanel();
  const role = useTokens()?.role ?? null;
  const billing = useLoad(() => (managesShop(role) ? call(api.GET("/billing")) : Promise.resolve(null)), [api, role]);
  const b = billing.data;
  const status = b?.status ?? (blocked?.code === "subscription_cancelled" ? "cancelled" : blocked ? "suspended" : null);
  const forbidden = billing.error && !b;
  return (
    <div>
      <h1>{t.billing.title}</h1>
      {status === "suspended" ? (
        <div className="alert" role="alert" data-testid="suspended">
          <h2>{t.billing.suspendedTitle}</h2>
          <p>{t.billing.suspendedText}</p>
          {blocked?.message ? <p className="muted">{blocked.message}</p> : null}
        </div>
      ) : null}
      {status === "cancelled" ? (
        <div className="alert" role="alert" data-testid="cancelled">
          <h2>{t.billing.cancelledTitle}</h2>
          <p>{t.billing.cancelledText}</p>
        </div>
      ) : null}
      {!managesShop(role) ? <p className="notice">{t.billing.askOwner}</p> : null}
      {forbidden ? <ErrorNote message={billing.error} /> : null}
      <Loading when={billing.loading && !b} />
      {b ? (
        <>
          <Section title={t.billing.plan} id="plan">
            <dl className="facts">
              <dt>{t.billing.plan}</dt>
              <dd>
                {b.plan.name} · {formatCents(b.plan.price_cents)}/mês
              </dd>
              <dt>{t.billing.status}</dt>
              <dd>{b.status_label}</dd>
              {b.status === "trial" ? (
                <>
                  <dt>{t.billing.trialEnds}</dt>
                  <dd>{formatDate(b.trial_ends_on)}</dd>
                </>
              ) : null}
              <dt>{t.billing.nextDue}</dt>
              <dd>{formatDate(b.next_due_date)}</dd>
            </dl>
            {b.status !== "suspended" && b.status !== "cancelled" && !b.cancel_on ? (
              <ChangePlan current={b.plan.code} version={b.version} onChanged={billing.reload} />
            ) : null}
            {b.cancel_on && b.status !== "cancelled" ? (
              <p className="notice" role="status" data-testid="cancel-on">
                {t.billing.cancelScheduled(formatDate(b.cancel_on))}
              </p>
            ) : null}
            {cancelsSubscription(role, b) ? (
              <CancelSubscription version={b.version} onCancelled={billing.reload} />
            ) : null}
          </Section>
          <Section title={t.billing.invoices} id="invoices">
            {b.invoices.length === 0 ? <p className="muted">{t.billing.noInvoices}</p> : null}
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Vencimento</th>
                    <th scope="col" className="num">
                      Valor
                    </th>
                    <th scope="col">Situação</th>
                    <th scope="col">
                      <span className="sr-only">Ação</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {b.invoices.map((invoice) => (
                    <tr key={invoice.id}>
                      <td>{formatDate(invoice.due_date)}</td>
                      <td className="num">{formatCents(invoice.value_cents)}</td>
                      <td>
                        {invoiceStatusLabel[invoice.status]}
                        {invoice.paid_on ? ` em ${formatDate(invoice.paid_on)}` : ""}
                      </td>
                      <td>
                        {invoice.invoice_url && (invoice.status === "pending" || invoice.status === "overdue") ? (
                          <a className="button primary" href={invoice.invoice_url} target="_blank" rel="noreferrer">
                            {t.billing.pay}
                          </a>
                        ) : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </Section>
        </>
      ) : null}
    </div>
  );
}

function ChangePlan({ current, version, onChanged }: { current: string; version: number; onChanged: () => void }) {
  const { api } = usePanel();
  const plans = useLoad(() => call(api.GET("/billing/plans")), [api]);
  const [plan, setPlan] = useState(current);
  const change = useAction(async () => {
    await call(api.PUT("/billing/plan", { body: { plan, version } }));
    onChanged();
  });
  if (!plans.data || plans.data.items.length < 2) return null;
  return (
    <form
      className="subform"
      onSubmit={(e) => {
        e.preventDefault();
        void change.run();
      }}
    >
      <Field label={t.billing.changePlan} id="b-plan">
        <select id="b-plan" value={plan} onChange={(e) => setPlan(e.target.value)}>
          {plans.data.items.map((p) => (
            <option key={p.code} value={p.code}>
              {p.name} · {formatCents(p.price_cents)}/mês
            </option>
          ))}
        </select>
      </Field>
      <ErrorNote message={change.error} />
      <button type="submit" className="primary" disabled={change.busy || plan === current}>
        {t.billing.changePlanSubmit}
      </button>
    </form>
  );
}

/** The owner cancels: asked once more, with what it means (access until the paid period ends, data
 * kept), before POST /billing/cancel. */
function CancelSubscription({ version, onCancelled }: { version: number; onCancelled: () => void }) {
  const { api } = usePanel();
  const [asking, setAsking] = useState(false);
  const cancel = useAction(async () => {
    await explainConflict(call(api.POST("/billing/cancel", { body: { version } })));
    setAsking(false);
    onCancelled();
  });
  return (
    <div className="subform">
      <button type="button" aria-expanded={asking} aria-controls="b-cancel" onClick={() => setAsking(!asking)}>
        {t.billing.cancel}
      </button>
      {asking ? (
        <div id="b-cancel" role="group" aria-labelledby="b-cancel-title">
          <h3 id="b-cancel-title">{t.billing.cancelTitle}</h3>
          <p>{t.billing.cancelText}</p>
          <ErrorNote message={cancel.error} />
          <span className="inline">
            <button type="button" className="danger" disabled={cancel.busy} onClick={() => void cancel.run()}>
              {t.billing.cancelConfirm}
            </button>
            <button type="button" onClick={() => setAsking(false)}>
              {t.billing.cancelKeep}
            </button>
          </span>
        </div>
      ) : null}
    </div>
  );
}
