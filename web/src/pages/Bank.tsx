import { useState } from "react";
import { NavLink, useParams } from "react-router";

import { call } from "../api/client";
import { Problem } from "../api/errors";
import type { components } from "../api/schema";
import {
  BANKS,
  type BoletoStatus,
  bankName,
  bpText,
  defaultAgreement,
  fileCounts,
  fitsUpload,
  freeBoletoBody,
  monthSoFar,
  parsePercent,
  rateText,
  waitingForRemessa,
} from "../bank";
import { ErrorNote, Field, Loading, Notice, Section } from "../components";
import { useAction, useLoad, usePanel } from "../context";
import { Editor } from "../EditForm";
import { type EditField, explainConflict } from "../editing";
import { formatCents, formatDate, formatDateTime, shopToday } from "../format";
import { BoletoList, DueDate } from "./Boletos";
import {
  bankFileStatusLabel,
  boletoStatusLabel,
  matchReasonLabel,
  matchStatusLabel,
  occurrenceKindLabel,
  occurrenceStatusLabel,
  t,
} from "../i18n";

type S = components["schemas"];
type Agreement = S["AgreementOut"];
type AgreementIn = S["AgreementIn"];
type BankFile = S["BankFileOut"];
type Occurrence = S["OccurrenceOut"];

const TABS = [
  ["", t.bank.agreements],
  ["boletos", t.bank.boletos],
  ["remessas", t.bank.remessas],
  ["arquivos", t.bank.files],
  ["conciliacao", t.bank.reconciliation],
] as const;

/** The shop's own bank, for owners and admins: convênios, boletos, remessas, the bank's files and
 * the reconciliation, one section a page under /banco. */
export function BankPage() {
  const { tab = "" } = useParams();
  return (
    <div>
      <h1>{t.bank.title}</h1>
      <nav className="subnav" aria-label={t.bank.sections}>
        <ul>
          {TABS.map(([path, label]) => (
            <li key={path}>
              <NavLink to={path ? `/banco/${path}` : "/banco"} end>
                {label}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      {tab === "" ? <Agreements /> : null}
      {tab === "boletos" ? <Boletos /> : null}
      {tab === "remessas" ? <Remessas /> : null}
      {tab === "arquivos" ? <Files /> : null}
      {tab === "conciliacao" ? <Reconciliation /> : null}
      {TABS.some(([path]) => path === tab) ? null : <p>{t.notFound}</p>}
    </div>
  );
}

function useAgreements() {
  const { api } = usePanel();
  return useLoad(() => call(api.GET("/banking/agreements")), [api]);
}

const LAYOUTS = [
  ["cnab400", "CNAB 400"],
  ["cnab240", "CNAB 240"],
] as const;

const AGREEMENT_FIELDS: EditField[] = [
  { name: "name", label: t.bank.name, kind: "text", maxLength: 80 },
  { name: "bank_code", label: t.bank.bankCode, kind: "choice", options: BANKS.map(([c, n]) => [c, `${c} ${n}`]) },
  { name: "branch", label: t.bank.branch, kind: "text", maxLength: 5 },
  { name: "branch_digit", label: t.bank.branchDigit, kind: "optional", maxLength: 1 },
  { name: "account", label: t.bank.account, kind: "text", maxLength: 12 },
  { name: "account_digit", label: t.bank.accountDigit, kind: "optional", maxLength: 2 },
  { name: "wallet", label: t.bank.wallet, kind: "text", maxLength: 3 },
  { name: "agreement_code", label: t.bank.agreementCode, kind: "text", maxLength: 20 },
  { name: "wallet_variation", label: t.bank.walletVariation, kind: "optional", maxLength: 3 },
  { name: "posto", label: t.bank.posto, kind: "optional", maxLength: 2 },
  { name: "layout", label: t.bank.layout, kind: "choice", options: LAYOUTS },
  { name: "interest_monthly_bp", label: t.bank.interest, kind: "percent" },
  { name: "fine_bp", label: t.bank.fine, kind: "percent" },
  { name: "discount_cents", label: t.bank.discount, kind: "cents" },
  { name: "discount_days", label: t.bank.discountDays, kind: "int" },
  { name: "next_nosso_numero", label: t.bank.nextNossoNumero, kind: "int" },
  { name: "next_remessa_sequence", label: t.bank.nextSequence, kind: "int" },
];

function Agreements() {
  const agreements = useAgreements();
  return (
    <>
      <Section title={t.bank.agreements} id="agreements">
        <ErrorNote message={agreements.error} />
        <Loading when={agreements.loading && !agreements.data} />
        {agreements.data && agreements.data.items.length === 0 ? <p className="muted">{t.bank.noAgreements}</p> : null}
        <ul className="rows">
          {(agreements.data?.items ?? []).map((a) => (
            <AgreementRow key={a.id} agreement={a} onChanged={agreements.reload} />
          ))}
        </ul>
      </Section>
      <NewAgreement onCreated={agreements.reload} />
    </>
  );
}

function AgreementRow({ agreement: a, onChanged }: { agreement: Agreement; onChanged: () => void }) {
  const { api } = usePanel();
  const patch = (body: S["AgreementPatch"]) =>
    call(api.PATCH("/banking/agreements/{agreement_id}", { params: { path: { agreement_id: a.id } }, body }));
  const toggle = useAction(async () => {
    await explainConflict(patch({ active: !a.active, version: a.version }));
    onChanged();
  });
  return (
    <li>
      <strong>{a.name}</strong> · {bankName(a.bank_code)} · ag. {a.branch}
      {a.branch_digit ? `-${a.branch_digit}` : ""} · conta {a.account}
      {a.account_digit ? `-${a.account_digit}` : ""} · carteira {a.wallet} · {a.layout.toUpperCase()} ·{" "}
      {a.active ? t.bank.active : t.bank.inactive}
      <div className="small muted">
        Juros {bpText(a.interest_monthly_bp)}% a.m. · multa {bpText(a.fine_bp)}% · próximo nosso número{" "}
        {a.next_nosso_numero} · próxima remessa {a.next_remessa_sequence}
      </div>
      <span className="inline">
        <Editor
          id={`edit-agreement-${a.id}`}
          what={`o convênio ${a.name}`}
          fields={AGREEMENT_FIELDS}
          record={a}
          save={(body) => patch(body as S["AgreementPatch"])}
          onSaved={onChanged}
          onReload={onChanged}
        />
        <button type="button" disabled={toggle.busy} onClick={() => void toggle.run()}>
          {a.active ? "Desativar" : "Ativar"}
        </button>
      </span>
      <ErrorNote message={toggle.error} />
    </li>
  );
}

const EMPTY_AGREEMENT: Record<string, string> = {
  name: "",
  bank_code: "341",
  branch: "",
  branch_digit: "",
  account: "",
  account_digit: "",
  wallet: "",
  agreement_code: "",
  wallet_variation: "",
  posto: "",
  layout: "cnab400",
  interest_monthly_bp: "0",
  fine_bp: "0",
};

function NewAgreement({ onCreated }: { onCreated: () => void }) {
  const { api } = usePanel();
  const [form, setForm] = useState(EMPTY_AGREEMENT);
  const set = (name: string) => (e: { target: { value: string } }) => setForm({ ...form, [name]: e.target.value });
  const create = useAction(async () => {
    const interest = parsePercent(form.interest_monthly_bp ?? "");
    if (interest === null) throw new Problem(t.bank.badPercent(t.bank.interest));
    const fine = parsePercent(form.fine_bp ?? "");
    if (fine === null) throw new Problem(t.bank.badPercent(t.bank.fine));
    const text = (name: string) => (form[name] ?? "").trim();
    await call(
      api.POST("/banking/agreements", {
        body: {
          name: text("name"),
          bank_code: text("bank_code") as AgreementIn["bank_code"],
          branch: text("branch"),
          branch_digit: text("branch_digit") || null,
          account: text("account"),
          account_digit: text("account_digit") || null,
          wallet: text("wallet"),
          agreement_code: text("agreement_code"),
          wallet_variation: text("wallet_variation") || null,
          posto: text("posto") || null,
          layout: text("layout") as AgreementIn["layout"],
          interest_monthly_bp: interest,
          fine_bp: fine,
        },
      }),
    );
    setForm(EMPTY_AGREEMENT);
    onCreated();
  });
  const input = (name: string, label: string, max: number, required = true) => (
    <Field label={label} id={`ag-${name}`}>
      <input id={`ag-${name}`} required={required} maxLength={max} value={form[name] ?? ""} onChange={set(name)} />
    </Field>
  );
  return (
    <Section title={t.bank.newAgreement} id="new-agreement">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void create.run();
        }}
      >
        <div className="filters">
          {input("name", t.bank.name, 80)}
          <Field label={t.bank.bankCode} id="ag-bank_code">
            <select id="ag-bank_code" value={form.bank_code} onChange={set("bank_code")}>
              {BANKS.map(([code, name]) => (
                <option key={code} value={code}>
                  {code} {name}
                </option>
              ))}
            </select>
          </Field>
          {input("branch", t.bank.branch, 5)}
          {input("branch_digit", t.bank.branchDigit, 1, false)}
          {input("account", t.bank.account, 12)}
          {input("account_digit", t.bank.accountDigit, 2, false)}
          {input("wallet", t.bank.wallet, 3)}
          {input("agreement_code", t.bank.agreementCode, 20)}
          {input("wallet_variation", t.bank.walletVariation, 3, false)}
          {input("posto", t.bank.posto, 2, false)}
          <Field label={t.bank.layout} id="ag-layout">
            <select id="ag-layout" value={form.layout} onChange={set("layout")}>
              {LAYOUTS.map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </Field>
          {input("interest_monthly_bp", t.bank.interest, 6)}
          {input("fine_bp", t.bank.fine, 6)}
        </div>
        <ErrorNote message={create.error} />
        <button type="submit" className="primary" disabled={create.busy}>
          {t.bank.createAgreement}
        </button>
      </form>
    </Section>
  );
}

function Boletos() {
  const { api } = usePanel();
  const [status, setStatus] = useState<BoletoStatus | "">("");
  const boletos = useLoad(
    () => call(api.GET("/banking/boletos", { params: { query: { limit: 100, ...(status ? { status } : {}) } } })),
    [api, status],
  );
  return (
    <>
      <Section title={t.bank.boletos} id="boletos">
        <div className="filters">
          <Field label={t.bank.status} id="b-status">
            <select id="b-status" value={status} onChange={(e) => setStatus(e.target.value as BoletoStatus | "")}>
              <option value="">{t.bank.all}</option>
              {(Object.keys(boletoStatusLabel) as BoletoStatus[]).map((s) => (
                <option key={s} value={s}>
                  {boletoStatusLabel[s]}
                </option>
              ))}
            </select>
          </Field>
        </div>
        <BoletoList loaded={boletos} items={boletos.data?.items} onChanged={boletos.reload} />
      </Section>
      <FreeBoleto onIssued={boletos.reload} />
    </>
  );
}

/** "Emitir boleto avulso": a charge not tied to an order (a customer, the agreement, an amount in
 * reais, the due date in the shop's calendar and what it charges). */
function FreeBoleto({ onIssued }: { onIssued: () => void }) {
  const { api } = usePanel();
  const agreements = useAgreements();
  const active = (agreements.data?.items ?? []).filter((a) => a.active);
  const [query, setQuery] = useState("");
  const [search, setSearch] = useState("");
  const customers = useLoad(
    () =>
      search.length >= 2
        ? call(api.GET("/customers", { params: { query: { q: search, limit: 20 } } }))
        : Promise.resolve(undefined),
    [api, search],
  );
  const [customerId, setCustomerId] = useState("");
  const find = () => {
    setCustomerId("");
    setSearch(query.trim());
  };
  const [chosenAgreement, setAgreement] = useState<string | null>(null);
  const agreementId = chosenAgreement ?? defaultAgreement(agreements.data?.items ?? []);
  const [amount, setAmount] = useState("");
  const [due, setDue] = useState("");
  const [description, setDescription] = useState("");
  const [done, setDone] = useState<string | null>(null);
  const issue = useAction(async () => {
    setDone(null);
    const read = freeBoletoBody({ customerId, agreementId, amount, due, description });
    if (read.problem !== undefined) throw new Problem(read.problem);
    await call(api.POST("/banking/boletos", { body: read.body }));
    setAmount("");
    setDescription("");
    setDone(t.bank.issued);
    onIssued();
  });
  const none = agreements.data !== undefined && active.length === 0;
  return (
    <Section title={t.bank.freeBoleto} id="free-boleto">
      <ErrorNote message={agreements.error} />
      <Loading when={agreements.loading && !agreements.data} />
      {none ? <p className="muted">{t.bank.noActiveAgreement}</p> : null}
      {agreements.data && !none ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void issue.run();
          }}
        >
          <p className="muted">{t.bank.freeHint}</p>
          <div className="filters">
            <Field label={t.bank.customerSearch} id="fb-customer-q" hint={t.bank.customerSearchHint}>
              <span className="inline">
                <input
                  id="fb-customer-q"
                  type="search"
                  aria-describedby="fb-customer-q-hint"
                  value={query}
                  onChange={(e) => setQuery(e.target.value)}
                  onKeyDown={(e) => {
                    if (e.key === "Enter") {
                      e.preventDefault();
                      find();
                    }
                  }}
                />
                <button type="button" onClick={find}>
                  {t.bank.search}
                </button>
              </span>
            </Field>
            <Field label={t.bank.customer} id="fb-customer">
              <select id="fb-customer" required value={customerId} onChange={(e) => setCustomerId(e.target.value)}>
                <option value="">—</option>
                {(customers.data?.items ?? []).map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name} · {c.phone}
                  </option>
                ))}
              </select>
            </Field>
            <Field label={t.bank.agreement} id="fb-agreement">
              <select id="fb-agreement" required value={agreementId} onChange={(e) => setAgreement(e.target.value)}>
                {active.length > 1 ? <option value="">—</option> : null}
                {active.map((a) => (
                  <option key={a.id} value={a.id}>
                    {a.name} · {bankName(a.bank_code)}
                  </option>
                ))}
              </select>
            </Field>
            <Field label={t.bank.amountReais} id="fb-amount">
              <input
                id="fb-amount"
                required
                inputMode="decimal"
                placeholder="0,00"
                value={amount}
                onChange={(e) => setAmount(e.target.value)}
              />
            </Field>
            <DueDate label={t.bank.due} id="fb-due" value={due} onChange={setDue} />
            <Field label={t.bank.description} id="fb-description" hint={t.bank.descriptionHint}>
              <input
                id="fb-description"
                required
                maxLength={200}
                aria-describedby="fb-description-hint"
                value={description}
                onChange={(e) => setDescription(e.target.value)}
              />
            </Field>
          </div>
          <ErrorNote message={customers.error} />
          {customers.data && customers.data.items.length === 0 ? <p className="muted">{t.bank.noCustomers}</p> : null}
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

function Remessas() {
  const agreements = useAgreements();
  return (
    <>
      <ErrorNote message={agreements.error} />
      <Loading when={agreements.loading && !agreements.data} />
      {agreements.data && agreements.data.items.length === 0 ? <p className="muted">{t.bank.noAgreements}</p> : null}
      {(agreements.data?.items ?? []).map((a) => (
        <AgreementRemessas key={a.id} agreement={a} />
      ))}
    </>
  );
}

function AgreementRemessas({ agreement: a }: { agreement: Agreement }) {
  const { api } = usePanel();
  const path = { params: { path: { agreement_id: a.id } } };
  const remessas = useLoad(() => call(api.GET("/banking/agreements/{agreement_id}/remessas", path)), [api, a.id]);
  const issued = useLoad(
    () => call(api.GET("/banking/boletos", { params: { query: { status: "issued", limit: 100 } } })),
    [api],
  );
  const waiting = waitingForRemessa(issued.data?.items ?? []).filter((b) => b.agreement_id === a.id).length;
  const [made, setMade] = useState<S["RemessaLinkOut"] | null>(null);
  const generate = useAction(async () => {
    setMade(null);
    setMade(await call(api.POST("/banking/agreements/{agreement_id}/remessas", path)));
    remessas.reload();
    issued.reload();
  });
  const download = useAction(async (id: string) => {
    const detail = await call(api.GET("/banking/remessas/{remessa_id}", { params: { path: { remessa_id: id } } }));
    window.open(detail.download_url, "_blank", "noopener");
  });
  return (
    <Section title={`${t.bank.remessas}: ${a.name}`} id={`remessas-${a.id}`}>
      {issued.data ? <p className="muted">{t.bank.waiting(waiting)}</p> : null}
      <div className="actions">
        <button type="button" className="primary" disabled={generate.busy} onClick={() => void generate.run()}>
          {t.bank.generate}
        </button>
      </div>
      <ErrorNote message={generate.error} />
      {made ? (
        <p className="notice" role="status">
          {t.bank.generated(made.filename)} {made.item_count} item(ns), {formatCents(made.total_cents)}.{" "}
          <a href={made.download_url} download={made.filename}>
            {t.bank.downloadNamed(made.filename)}
          </a>
        </p>
      ) : null}
      <ErrorNote message={remessas.error ?? download.error} />
      <Loading when={remessas.loading && !remessas.data} />
      {remessas.data && remessas.data.items.length === 0 ? <p className="muted">{t.bank.noRemessas}</p> : null}
      {remessas.data && remessas.data.items.length > 0 ? (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t.bank.file}</th>
                <th scope="col" className="num">
                  {t.bank.items}
                </th>
                <th scope="col" className="num">
                  {t.bank.total}
                </th>
                <th scope="col">{t.bank.created}</th>
                <th scope="col">
                  <span className="sr-only">{t.bank.download}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {remessas.data.items.map((r) => (
                <tr key={r.id}>
                  <td>
                    {r.filename} <span className="small muted">#{r.sequence}</span>
                  </td>
                  <td className="num">{r.item_count}</td>
                  <td className="num">{formatCents(r.total_cents)}</td>
                  <td>{formatDateTime(r.created_at)}</td>
                  <td>
                    <button
                      type="button"
                      aria-label={t.bank.downloadNamed(r.filename)}
                      disabled={download.busy}
                      onClick={() => void download.run(r.id)}
                    >
                      {t.bank.download}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </Section>
  );
}

function Files() {
  const { api } = usePanel();
  const files = useLoad(() => call(api.GET("/banking/files")), [api]);
  const unmatched = useLoad(() => call(api.GET("/banking/unmatched")), [api]);
  const reload = () => {
    files.reload();
    unmatched.reload();
  };
  return (
    <>
      <Upload onUploaded={reload} />
      <Section title={t.bank.files} id="bank-files">
        <div className="actions">
          <button type="button" onClick={reload}>
            {t.refresh}
          </button>
        </div>
        <ErrorNote message={files.error} />
        <Loading when={files.loading && !files.data} />
        {files.data && files.data.items.length === 0 ? <p className="muted">{t.bank.noFiles}</p> : null}
        <ul className="rows">
          {(files.data?.items ?? []).map((f) => (
            <FileRow key={f.id} file={f} />
          ))}
        </ul>
      </Section>
      <Section title={t.bank.unmatched} id="unmatched">
        <ErrorNote message={unmatched.error} />
        {unmatched.data && unmatched.data.items.length === 0 ? <p className="muted">{t.bank.noUnmatched}</p> : null}
        {unmatched.data && unmatched.data.items.length > 0 ? <Occurrences items={unmatched.data.items} /> : null}
      </Section>
    </>
  );
}

/** A retorno or statement goes from the browser straight to S3 with the presigned form the API
 * gives (20 MB); the bank files worker reads it when it lands. */
function Upload({ onUploaded }: { onUploaded: () => void }) {
  const { api } = usePanel();
  const [kind, setKind] = useState<"retorno" | "statement">("retorno");
  const [file, setFile] = useState<File | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const upload = useAction(async () => {
    setDone(null);
    if (!file) throw new Problem(t.bank.fileHint);
    const form = await call(api.POST("/banking/files", { body: { kind, filename: file.name } }));
    if (!fitsUpload(file.size, form.max_bytes)) throw new Problem(t.bank.tooBig);
    const body = new FormData();
    for (const [name, value] of Object.entries(form.upload_fields)) body.append(name, value);
    body.append("file", file);
    // The bucket need not answer CORS: its answer is not readable here; the file shows once read.
    await fetch(form.upload_url, { method: "POST", body, mode: "no-cors" });
    setDone(t.bank.uploaded);
    setFile(null);
    onUploaded();
  });
  return (
    <Section title={t.bank.upload} id="upload">
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          void upload.run().then((ok) => {
            if (ok) (e.target as HTMLFormElement).reset();
          });
        }}
      >
        <Field label={t.bank.kind} id="bf-kind">
          <select id="bf-kind" value={kind} onChange={(e) => setKind(e.target.value as "retorno" | "statement")}>
            <option value="retorno">{t.bank.retorno}</option>
            <option value="statement">{t.bank.statement}</option>
          </select>
        </Field>
        <Field label={t.bank.file} id="bf-file" hint={t.bank.fileHint}>
          <input
            id="bf-file"
            type="file"
            required
            aria-describedby="bf-file-hint"
            onChange={(e) => setFile(e.target.files?.[0] ?? null)}
          />
        </Field>
        <button type="submit" className="primary" disabled={upload.busy}>
          {t.bank.upload}
        </button>
      </form>
      <ErrorNote message={upload.error} />
      <Notice message={done} />
    </Section>
  );
}

function FileRow({ file: f }: { file: BankFile }) {
  const { api } = usePanel();
  const [open, setOpen] = useState(false);
  const detail = useLoad(
    () =>
      open
        ? call(api.GET("/banking/files/{file_id}", { params: { path: { file_id: f.id } } }))
        : Promise.resolve(undefined),
    [api, f.id, open],
  );
  const id = `file-${f.id}`;
  return (
    <li data-testid="bank-file">
      <strong>{f.filename ?? f.id.slice(0, 8)}</strong> · {f.kind === "retorno" ? t.bank.retorno : t.bank.statement}
      {f.format ? ` · ${f.format.toUpperCase()}` : ""} ·{" "}
      <span className={`file-${f.status}`}>{bankFileStatusLabel[f.status]}</span>
      <div className="small muted">
        {t.bank.received} {formatDateTime(f.received_at)} · {fileCounts(f)}
        {f.settled_cents ? ` · ${t.bank.paid} ${formatCents(f.settled_cents)}` : ""}
      </div>
      {f.error_message ? <p className="error">{f.error_message}</p> : null}
      {f.kind === "retorno" && f.occurrence_count > 0 ? (
        <button type="button" aria-expanded={open} aria-controls={id} onClick={() => setOpen(!open)}>
          {t.bank.details}
          <span className="sr-only"> de {f.filename ?? "arquivo"}</span>
        </button>
      ) : null}
      {open ? (
        <div id={id}>
          <ErrorNote message={detail.error} />
          <Loading when={detail.loading && !detail.data} />
          {detail.data ? <Occurrences items={detail.data.occurrences} /> : null}
        </div>
      ) : null}
    </li>
  );
}

function Occurrences({ items }: { items: readonly Occurrence[] }) {
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">{t.bank.lineNumber}</th>
            <th scope="col">{t.bank.occurrence}</th>
            <th scope="col">{t.bank.nossoNumero}</th>
            <th scope="col" className="num">
              {t.bank.amount}
            </th>
            <th scope="col" className="num">
              {t.bank.paid}
            </th>
            <th scope="col">{t.bank.status}</th>
          </tr>
        </thead>
        <tbody>
          {items.map((o) => (
            <tr key={o.id}>
              <td>{o.line_number}</td>
              <td>
                {o.occurrence_code ?? t.none}{" "}
                <span className="small muted">{occurrenceKindLabel[o.kind] ?? o.kind}</span>
                {o.reasons ? <div className="small muted">{o.reasons}</div> : null}
              </td>
              <td>{o.nosso_numero_text ?? o.nosso_numero ?? t.none}</td>
              <td className="num">{formatCents(o.amount_cents)}</td>
              <td className="num">{o.paid_cents ? formatCents(o.paid_cents) : t.none}</td>
              <td>{occurrenceStatusLabel[o.status]}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Reconciliation() {
  const { api } = usePanel();
  const [period, setPeriod] = useState(() => monthSoFar(shopToday()));
  const [draft, setDraft] = useState(period);
  const query = { params: { query: { from: period.from, to: period.to } } };
  const matches = useLoad(
    () =>
      call(
        api.GET("/banking/reconciliation/matches", {
          params: { query: { status: "suggested", from: period.from, to: period.to } },
        }),
      ),
    [api, period],
  );
  const report = useLoad(() => call(api.GET("/banking/reconciliation/report", query)), [api, period]);
  const [ran, setRan] = useState<string | null>(null);
  const run = useAction(async () => {
    setRan(null);
    const answer = await call(api.POST("/banking/reconciliation/run", { body: period }));
    setRan(`${t.bank.ran} ${answer.created} nova(s) sugestão(ões).`);
    matches.reload();
    report.reload();
  });
  const decide = useAction(async (id: string, decision: "confirm" | "reject") => {
    const path = { params: { path: { match_id: id } } };
    if (decision === "confirm") await call(api.POST("/banking/reconciliation/matches/{match_id}/confirm", path));
    else await call(api.POST("/banking/reconciliation/matches/{match_id}/reject", path));
    matches.reload();
    report.reload();
  });
  const file = useAction(async (kind: "csv" | "pdf") => {
    const link =
      kind === "csv"
        ? await call(api.GET("/banking/reconciliation/report.csv", query))
        : await call(api.GET("/banking/reconciliation/report.pdf", query));
    window.open(link.url, "_blank", "noopener");
  });
  const totals = report.data?.totals;
  return (
    <>
      <form
        className="filters"
        aria-label={t.bank.period}
        onSubmit={(e) => {
          e.preventDefault();
          setPeriod({ ...draft }); // (the same dates again: read again)
        }}
      >
        <Field label={t.bank.from} id="rc-from">
          <input
            id="rc-from"
            type="date"
            required
            value={draft.from}
            onChange={(e) => setDraft({ ...draft, from: e.target.value })}
          />
        </Field>
        <Field label={t.bank.to} id="rc-to">
          <input
            id="rc-to"
            type="date"
            required
            value={draft.to}
            onChange={(e) => setDraft({ ...draft, to: e.target.value })}
          />
        </Field>
        <button type="submit">{t.bank.show}</button>
        <button type="button" className="primary" disabled={run.busy} onClick={() => void run.run()}>
          {t.bank.run}
        </button>
      </form>
      <Notice message={ran} />
      <ErrorNote message={run.error} />
      <Section title={t.bank.suggestions} id="suggestions">
        <ErrorNote message={matches.error ?? decide.error} />
        <Loading when={matches.loading && !matches.data} />
        {matches.data && matches.data.items.length === 0 ? <p className="muted">{t.bank.noSuggestions}</p> : null}
        <ul className="rows">
          {(matches.data?.items ?? []).map((m) => (
            <li key={m.id}>
              <strong>{formatDate(m.posted_on)}</strong> · crédito{" "}
              {formatCents(m.lines.filter((l) => l.role === "credit").reduce((s, l) => s + l.amount_cents, 0))} ·{" "}
              {m.items.length} recebimento(s) de {formatCents(m.items.reduce((s, i) => s + i.amount_cents, 0))} ·{" "}
              {matchStatusLabel[m.status]}
              <div className="small muted">
                {t.bank.score} {m.score ?? t.none} · {m.reason ? (matchReasonLabel[m.reason] ?? m.reason) : t.none} ·{" "}
                {t.bank.difference} {formatCents(m.difference_cents)}
              </div>
              <div className="actions">
                <button
                  type="button"
                  className="primary"
                  disabled={decide.busy}
                  onClick={() => void decide.run(m.id, "confirm")}
                >
                  {t.bank.confirm}
                  <span className="sr-only"> o crédito de {formatDate(m.posted_on)}</span>
                </button>
                <button
                  type="button"
                  className="danger"
                  disabled={decide.busy}
                  onClick={() => void decide.run(m.id, "reject")}
                >
                  {t.bank.reject}
                  <span className="sr-only"> o crédito de {formatDate(m.posted_on)}</span>
                </button>
              </div>
            </li>
          ))}
        </ul>
      </Section>
      <Section title={t.bank.report} id="report">
        <ErrorNote message={report.error ?? file.error} />
        <Loading when={report.loading && !report.data} />
        {totals ? (
          <dl className="facts">
            <dt>{t.bank.autoRate}</dt>
            <dd>{rateText(totals.auto_match_rate_bp)}</dd>
            <dt>{t.bank.expected}</dt>
            <dd>
              {totals.expected_count} · {formatCents(totals.expected_cents)}
            </dd>
            <dt>{t.bank.matched}</dt>
            <dd>
              {totals.matched_count} · {formatCents(totals.matched_cents)}
            </dd>
            <dt>{t.bank.pendingExpected}</dt>
            <dd>
              {totals.unmatched_expected_count} · {formatCents(totals.unmatched_expected_cents)}
            </dd>
            <dt>{t.bank.pendingLines}</dt>
            <dd>
              {totals.unmatched_line_count} · {formatCents(totals.unmatched_line_cents)}
            </dd>
            <dt>{t.bank.fees}</dt>
            <dd>{formatCents(totals.fees_cents)}</dd>
            <dt>{t.bank.difference}</dt>
            <dd>{formatCents(totals.differences_cents)}</dd>
          </dl>
        ) : null}
        <div className="actions">
          <button type="button" disabled={file.busy} onClick={() => void file.run("csv")}>
            {t.bank.csv}
          </button>
          <button type="button" disabled={file.busy} onClick={() => void file.run("pdf")}>
            {t.bank.reportPdf}
          </button>
        </div>
      </Section>
    </>
  );
}
