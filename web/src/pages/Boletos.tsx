import { useState } from "react";

import { call } from "../api/client";
import { ApiError, Problem } from "../api/errors";
import { type Boleto, boletoOpen, sendOutcome } from "../bank";
import { ErrorNote, Field, Loading, Notice, Section } from "../components";
import { useAction, useLoad, usePanel } from "../context";
import { formatCents, formatDate, parseReais, shopToday } from "../format";
import { boletoStatusLabel, t } from "../i18n";

// The shop's own boletos where the counter meets them (the order page: attendants too) and where
// the managers' Banco page lists them.

/** A boleto's due date: a day of the shop's calendar, from its today on. */
export function DueDate({
  label,
  id,
  value,
  onChange,
}: {
  label: string;
  id: string;
  value: string;
  onChange: (day: string) => void;
}) {
  return (
    <Field label={label} id={id}>
      <input id={id} type="date" required min={shopToday()} value={value} onChange={(e) => onChange(e.target.value)} />
    </Field>
  );
}

export function BoletoList({
  loaded,
  items,
  onChanged,
}: {
  loaded: { error: string | null; loading: boolean };
  items: readonly Boleto[] | undefined;
  onChanged: () => void;
}) {
  return (
    <>
      <ErrorNote message={loaded.error} />
      <Loading when={loaded.loading && !items} />
      {items && items.length === 0 ? <p className="muted">{t.bank.noBoletos}</p> : null}
      <ul className="rows">
        {(items ?? []).map((b) => (
          <BoletoRow key={b.id} boleto={b} onChanged={onChanged} />
        ))}
      </ul>
    </>
  );
}

/** One boleto: its facts, the PDF, sending it to the customer and the instructions to the bank. */
function BoletoRow({ boleto: b, onChanged }: { boleto: Boleto; onChanged: () => void }) {
  const { api } = usePanel();
  const path = { params: { path: { boleto_id: b.id } } };
  const [sent, setSent] = useState<string | null>(null);
  const [instructing, setInstructing] = useState(false);
  const [instruction, setInstruction] = useState<"write_off" | "change_due_date">("write_off");
  const [due, setDue] = useState("");
  const [instructed, setInstructed] = useState<string | null>(null);
  const pdf = useAction(async () => {
    const doc = await call(api.GET("/banking/boletos/{boleto_id}/pdf", path));
    window.open(doc.url, "_blank", "noopener");
  });
  const send = useAction(async () => {
    setSent(null);
    setSent(sendOutcome(await call(api.POST("/banking/boletos/{boleto_id}/send", path))));
  });
  const instruct = useAction(async () => {
    const answer = await call(
      api.POST("/banking/boletos/{boleto_id}/instructions", {
        ...path,
        body: { instruction, due_date: instruction === "change_due_date" ? due : null },
      }),
    );
    setInstructed(answer.outcome === "cancelled" ? t.bank.instructionCancelled : t.bank.instructionSent);
    setInstructing(false);
    onChanged();
  });
  const formId = `instr-${b.id}`;
  const open = boletoOpen(b.status);
  return (
    <li className="charge" data-testid="boleto">
      <strong>{formatCents(b.amount_cents)}</strong> · {t.bank.nossoNumero} {b.nosso_numero_printed} · vence{" "}
      {formatDate(b.due_date)} · <span className={`boleto-${b.status}`}>{boletoStatusLabel[b.status]}</span>
      {b.paid_on ? ` · pago ${formatCents(b.paid_cents)} em ${formatDate(b.paid_on)}` : ""}
      {b.description ? <div className="small muted">{b.description}</div> : null}
      {b.digitable_line_formatted ? (
        <Field label={t.bank.line} id={`line-${b.id}`}>
          <input id={`line-${b.id}`} readOnly value={b.digitable_line_formatted} onFocus={(e) => e.target.select()} />
        </Field>
      ) : null}
      <div className="actions">
        <button type="button" disabled={pdf.busy} onClick={() => void pdf.run()}>
          {t.bank.pdf}
          <span className="sr-only"> do boleto {b.nosso_numero_printed}</span>
        </button>
        {open ? (
          <>
            <button type="button" disabled={send.busy} onClick={() => void send.run()}>
              {t.bank.send}
            </button>
            <button
              type="button"
              aria-expanded={instructing}
              aria-controls={formId}
              onClick={() => setInstructing(!instructing)}
            >
              {t.bank.instruct}
            </button>
          </>
        ) : null}
      </div>
      <Notice message={sent ?? instructed} />
      <ErrorNote message={pdf.error ?? send.error} />
      {instructing ? (
        <form
          id={formId}
          className="subform"
          onSubmit={(e) => {
            e.preventDefault();
            void instruct.run();
          }}
        >
          <Field label={t.bank.instruct} id={`${formId}-kind`}>
            <select
              id={`${formId}-kind`}
              value={instruction}
              onChange={(e) => setInstruction(e.target.value as "write_off" | "change_due_date")}
            >
              <option value="write_off">{t.bank.writeOff}</option>
              <option value="change_due_date">{t.bank.changeDue}</option>
            </select>
          </Field>
          {instruction === "change_due_date" ? (
            <DueDate label={t.bank.newDue} id={`${formId}-due`} value={due} onChange={setDue} />
          ) : null}
          <ErrorNote message={instruct.error} />
          <button type="submit" className={instruction === "write_off" ? "danger" : "primary"} disabled={instruct.busy}>
            {t.save}
          </button>
        </form>
      ) : null}
    </li>
  );
}

/** The order's boletos and "Emitir boleto" (the counter and the managers; a shop with no
 * agreement is told where to register one). */
export function OrderBoletos({ orderId, version }: { orderId: string; version: number }) {
  const { api } = usePanel();
  const path = { params: { path: { order_id: orderId } } };
  const boletos = useLoad(() => call(api.GET("/orders/{order_id}/boletos", path)), [api, orderId, version]);
  // Only managers may list agreements: for the counter (403) the API itself says when there is none.
  const agreements = useLoad(
    () =>
      call(api.GET("/banking/agreements")).then(
        (a) => a.items.filter((x) => x.active).length,
        (e: unknown) => {
          if (e instanceof ApiError && e.status === 403) return null;
          throw e;
        },
      ),
    [api],
  );
  const [due, setDue] = useState("");
  const [amount, setAmount] = useState("");
  const [done, setDone] = useState<string | null>(null);
  const issue = useAction(async () => {
    setDone(null);
    let cents: number | null = null;
    if (amount.trim()) {
      cents = parseReais(amount);
      if (cents === null || cents <= 0) throw new Problem(t.errors.money);
    }
    await call(api.POST("/orders/{order_id}/boletos", { ...path, body: { due_date: due, amount_cents: cents } }));
    setAmount("");
    setDone(t.bank.issued);
    boletos.reload();
  });
  const none = agreements.data === 0;
  return (
    <Section title={t.bank.orderBoletos} id="order-boletos">
      <BoletoList loaded={boletos} items={boletos.data?.items} onChanged={boletos.reload} />
      {none ? <p className="muted">{t.bank.noAgreementForOrder}</p> : null}
      {!none && !agreements.loading ? (
        <form
          className="subform"
          aria-labelledby="issue-boleto-title"
          onSubmit={(e) => {
            e.preventDefault();
            void issue.run();
          }}
        >
          <h3 id="issue-boleto-title">{t.bank.issue}</h3>
          <div className="filters">
            <DueDate label={t.bank.due} id="bo-due" value={due} onChange={setDue} />
            <Field label={t.bank.amountOptional} id="bo-amount" hint={t.bank.issueHint}>
              <input
                id="bo-amount"
                inputMode="decimal"
                placeholder="0,00"
                aria-describedby="bo-amount-hint"
                value={amount}
                onChange={(e) => setAmount(e.target.value)}
              />
            </Field>
          </div>
          <ErrorNote message={issue.error} />
          <Notice message={done} />
          <button type="submit" className="primary" disabled={issue.busy}>
            {t.bank.issue}
          </button>
        </form>
      ) : null}
    </Section>
  );
}
