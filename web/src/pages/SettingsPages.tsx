import { useEffect, useState } from "react";
import { NavLink } from "react-router";

import { call } from "../api/client";
import { Problem } from "../api/errors";
import type { components } from "../api/schema";
import { ErrorNote, Field, Loading, Notice, Section } from "../components";
import { useAction, useLoad, usePanel } from "../context";
import { explainConflict } from "../editing";
import { statusLabel, t } from "../i18n";
import { BOARD_COLUMNS, CLOSED } from "../orders";
import {
  type Edge,
  LOGO_TYPES,
  type LogoType,
  logoProblem,
  templateProblems,
  whatsappTemplates,
  workflowEdges,
} from "../settings";

const s = t.settingsPages;

/** The settings' sub-pages, as links (the current one marked by NavLink's aria-current). */
export function SettingsNav() {
  const links: [string, string][] = [
    ["/configuracoes", s.general],
    ["/configuracoes/documentos", s.documents],
    ["/configuracoes/emails", s.emails],
    ["/configuracoes/whatsapp", s.whatsapp],
    ["/configuracoes/orcamento", s.quote],
    ["/configuracoes/fluxo", s.workflow],
    ["/configuracoes/pagamentos", s.payments],
    ["/configuracoes/agendamentos", s.scheduling],
    ["/configuracoes/google", s.google],
    ["/configuracoes/servidor-email", s.smtp],
    ["/configuracoes/emails-bloqueados", s.suppressions],
  ];
  return (
    <nav aria-label={s.nav} className="subnav">
      <ul>
        {links.map(([to, label]) => (
          <li key={to}>
            <NavLink to={to} end>
              {label}
            </NavLink>
          </li>
        ))}
      </ul>
    </nav>
  );
}

// --- Documents: address, terms and the logo ---------------------------------------------------------

export function DocumentSettingsPage() {
  const { api } = usePanel();
  const docs = useLoad(() => call(api.GET("/settings/documents")), [api]);
  const [address, setAddress] = useState("");
  const [intake, setIntake] = useState("");
  const [warranty, setWarranty] = useState("");
  const [saved, setSaved] = useState<string | null>(null);
  useEffect(() => {
    const d = docs.data;
    if (!d) return;
    setAddress(d.address ?? "");
    setIntake(d.intake_terms ?? "");
    setWarranty(d.warranty_terms ?? "");
  }, [docs.data]);
  const save = useAction(async () => {
    const d = docs.data;
    if (!d) return;
    await explainConflict(
      call(
        api.PUT("/settings/documents", {
          body: {
            version: d.version,
            address: address.trim() || null,
            intake_terms: intake.trim() || null,
            warranty_terms: warranty.trim() || null,
          },
        }),
      ),
    );
    setSaved(t.settings.saved);
    docs.reload();
  });
  const d = docs.data;
  return (
    <div>
      <h1>{s.documentsTitle}</h1>
      <SettingsNav />
      <ErrorNote message={docs.error} />
      <Loading when={docs.loading && !d} />
      {d ? (
        <div className="two-columns">
          <Section title={s.printed} id="doc-texts">
            <form
              onSubmit={(e) => {
                e.preventDefault();
                setSaved(null);
                void save.run();
              }}
            >
              <Field label={s.address} id="doc-address">
                <input id="doc-address" maxLength={300} value={address} onChange={(e) => setAddress(e.target.value)} />
              </Field>
              <Field label={s.intakeTerms} id="doc-intake">
                <textarea id="doc-intake" maxLength={4000} value={intake} onChange={(e) => setIntake(e.target.value)} />
              </Field>
              <Field label={s.warrantyTerms} id="doc-warranty">
                <textarea
                  id="doc-warranty"
                  maxLength={4000}
                  value={warranty}
                  onChange={(e) => setWarranty(e.target.value)}
                />
              </Field>
              <ErrorNote message={save.error} />
              <Notice message={saved} />
              <button type="submit" className="primary" disabled={save.busy}>
                {t.save}
              </button>
            </form>
          </Section>
          <Logo docs={d} onChanged={docs.reload} />
        </div>
      ) : null}
    </div>
  );
}

/** The logo goes from the browser straight to S3 with the presigned form (PNG/JPEG, 512 KB), then
 * PUT /settings/logo confirms it; the API never carries the file. */
function Logo({ docs, onChanged }: { docs: components["schemas"]["DocumentSettingsOut"]; onChanged: () => void }) {
  const { api } = usePanel();
  const [done, setDone] = useState<string | null>(null);
  const upload = useAction(async (file: File) => {
    setDone(null);
    const early = logoProblem(file, Number.MAX_SAFE_INTEGER);
    if (early) throw new Problem(early);
    const form = await call(api.POST("/settings/logo", { body: { content_type: file.type as LogoType } }));
    const tooBig = logoProblem(file, form.max_bytes);
    if (tooBig) throw new Problem(tooBig);
    const body = new FormData();
    for (const [name, value] of Object.entries(form.upload_fields)) body.append(name, value);
    body.append("file", file);
    // The bucket need not answer CORS: its answer is not readable here; the PUT checks the file.
    await fetch(form.upload_url, { method: "POST", body, mode: "no-cors" });
    await call(api.PUT("/settings/logo", { body: { key: form.key } }));
    setDone(s.logoSaved);
    onChanged();
  });
  const remove = useAction(async () => {
    setDone(null);
    await call(api.DELETE("/settings/logo"));
    setDone(s.logoRemoved);
    onChanged();
  });
  return (
    <Section title={s.logo} id="doc-logo">
      {docs.logo_url ? (
        <p>
          <img className="logo-preview" src={docs.logo_url} alt={s.logoAlt} />
        </p>
      ) : (
        <p className="muted">{s.noLogo}</p>
      )}
      <Field label={docs.has_logo ? s.replaceLogo : s.addLogo} id="logo-file" hint={s.logoHint}>
        <input
          id="logo-file"
          type="file"
          accept={LOGO_TYPES.join(",")}
          aria-describedby="logo-file-hint"
          disabled={upload.busy}
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (file) void upload.run(file).then(() => (e.target.value = ""));
          }}
        />
      </Field>
      {docs.has_logo ? (
        <button type="button" disabled={remove.busy} onClick={() => void remove.run()}>
          {s.removeLogo}
        </button>
      ) : null}
      <ErrorNote message={upload.error ?? remove.error} />
      <Notice message={done} />
      <Loading when={upload.busy} />
    </Section>
  );
}

// --- E-mail templates ------------------------------------------------------------------------------

type EmailTemplate = components["schemas"]["assistec__api__schemas__email__TemplateOut"];

export function EmailTemplatesPage() {
  const { api } = usePanel();
  const list = useLoad(() => call(api.GET("/settings/email/templates")), [api]);
  return (
    <div>
      <h1>{s.emailsTitle}</h1>
      <SettingsNav />
      <p className="muted">{s.emailsHelp}</p>
      <ErrorNote message={list.error} />
      <Loading when={list.loading && !list.data} />
      {(list.data?.items ?? []).map((template) => (
        <EmailTemplate key={template.name} template={template} onChanged={list.reload} />
      ))}
    </div>
  );
}

function EmailTemplate({ template, onChanged }: { template: EmailTemplate; onChanged: () => void }) {
  const { api } = usePanel();
  const [subject, setSubject] = useState(template.subject ?? "");
  const [intro, setIntro] = useState(template.intro ?? "");
  const [saved, setSaved] = useState<string | null>(null);
  const [preview, setPreview] = useState<components["schemas"]["PreviewOut"] | null>(null);
  useEffect(() => {
    setSubject(template.subject ?? "");
    setIntro(template.intro ?? "");
  }, [template.version, template.subject, template.intro]);
  const path = { params: { path: { name: template.name } } };
  const save = useAction(async () => {
    setSaved(null);
    await explainConflict(
      call(
        api.PUT("/settings/email/templates/{name}", {
          ...path,
          body: { version: template.version, subject: subject.trim() || null, intro: intro.trim() || null },
        }),
      ),
    );
    setSaved(t.settings.saved);
    onChanged();
  });
  const reset = useAction(async () => {
    setSaved(null);
    await call(api.DELETE("/settings/email/templates/{name}", path));
    setSaved(s.resetDone);
    setPreview(null);
    onChanged();
  });
  const show = useAction(async () => {
    setPreview(
      await call(
        api.POST("/settings/email/templates/{name}/preview", {
          ...path,
          body: { subject: subject.trim() || null, intro: intro.trim() || null },
        }),
      ),
    );
  });
  const id = `mail-${template.name}`;
  return (
    <Section title={template.description} id={id}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void save.run();
        }}
      >
        <Field label={s.subject} id={`${id}-subject`} hint={s.defaultWhenEmpty}>
          <input
            id={`${id}-subject`}
            maxLength={200}
            aria-describedby={`${id}-subject-hint`}
            value={subject}
            onChange={(e) => setSubject(e.target.value)}
          />
        </Field>
        <Field label={s.intro} id={`${id}-intro`}>
          <textarea id={`${id}-intro`} maxLength={4000} value={intro} onChange={(e) => setIntro(e.target.value)} />
        </Field>
        <Variables variables={template.variables} label={s.variables} />
        <ErrorNote message={save.error ?? reset.error ?? show.error} />
        <Notice message={saved} />
        <span className="inline">
          <button type="submit" className="primary" disabled={save.busy}>
            {t.save}
          </button>
          <button type="button" disabled={show.busy} onClick={() => void show.run()}>
            {s.preview}
          </button>
          {template.version > 0 ? (
            <button type="button" disabled={reset.busy} onClick={() => void reset.run()}>
              {s.reset}
            </button>
          ) : null}
        </span>
      </form>
      {preview ? (
        <div className="subform" aria-live="polite">
          <h3>{s.previewTitle}</h3>
          <p>
            <strong>{s.subject}:</strong> {preview.subject}
          </p>
          <pre className="preview">{preview.text}</pre>
        </div>
      ) : null}
    </Section>
  );
}

function Variables({ variables, label }: { variables: Record<string, string>; label: string }) {
  const entries = Object.entries(variables);
  if (entries.length === 0) return null;
  return (
    <details>
      <summary>{label}</summary>
      <dl className="facts small">
        {entries.map(([name, meaning]) => (
          <div key={name}>
            <dt>
              <code>{name.startsWith("{{") ? name : `{{ ${name} }}`}</code>
            </dt>
            <dd>{meaning}</dd>
          </div>
        ))}
      </dl>
    </details>
  );
}

// --- The WhatsApp bot's texts ---------------------------------------------------------------------

export function WhatsappBotSettingsPage() {
  const { api } = usePanel();
  const settings = useLoad(() => call(api.GET("/settings/whatsapp")), [api]);
  const [texts, setTexts] = useState<Record<string, string>>({});
  const [enabled, setEnabled] = useState(true);
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState<string | null>(null);
  useEffect(() => {
    const w = settings.data;
    if (!w) return;
    setTexts({ ...w.templates });
    setEnabled(w.bot_enabled);
  }, [settings.data]);
  const keys = Object.keys(settings.data?.templates ?? {});
  const save = useAction(async () => {
    const w = settings.data;
    if (!w) return;
    setProblems({});
    setSaved(null);
    try {
      await explainConflict(
        call(
          api.PUT("/settings/whatsapp", {
            body: { version: w.version, bot_enabled: enabled, templates: whatsappTemplates(keys, texts) },
          }),
        ),
      );
    } catch (failure) {
      setProblems(templateProblems(failure));
      throw failure;
    }
    setSaved(t.settings.saved);
    settings.reload();
  });
  const w = settings.data;
  return (
    <div>
      <h1>{s.whatsappTitle}</h1>
      <SettingsNav />
      <ErrorNote message={settings.error} />
      <Loading when={settings.loading && !w} />
      {w ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void save.run();
          }}
        >
          <Section title={s.bot} id="bot">
            <label className="check">
              <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} /> {s.botEnabled}
            </label>
            <p className="small muted">{s.botHelp}</p>
            {keys.map((key) => {
              const id = `wa-${key}`;
              const own = key in w.overrides;
              return (
                <Field
                  key={key}
                  label={`${s.templateLabel(key)}${own ? ` (${s.own})` : ""}`}
                  id={id}
                  hint={problems[key]}
                >
                  <textarea
                    id={id}
                    maxLength={4000}
                    aria-invalid={problems[key] ? true : undefined}
                    aria-describedby={problems[key] ? `${id}-hint` : undefined}
                    value={texts[key] ?? ""}
                    onChange={(e) => setTexts({ ...texts, [key]: e.target.value })}
                  />
                </Field>
              );
            })}
          </Section>
          <ErrorNote message={save.error} />
          <Notice message={saved} />
          <button type="submit" className="primary" disabled={save.busy}>
            {t.save}
          </button>
        </form>
      ) : null}
    </div>
  );
}

// --- The quote's message -------------------------------------------------------------------------

export function QuoteTemplatePage() {
  const { api } = usePanel();
  const template = useLoad(() => call(api.GET("/settings/quote-template")), [api]);
  const [body, setBody] = useState("");
  const [days, setDays] = useState("");
  const [saved, setSaved] = useState<string | null>(null);
  useEffect(() => {
    const q = template.data;
    if (!q) return;
    setBody(q.body);
    setDays(String(q.validity_days));
  }, [template.data]);
  const save = useAction(async () => {
    const q = template.data;
    if (!q) return;
    setSaved(null);
    const validity = Number.parseInt(days, 10);
    if (!/^\d+$/.test(days.trim()) || validity < 1 || validity > 90) throw new Problem(s.badValidity);
    await explainConflict(
      call(
        api.PUT("/settings/quote-template", {
          body: { version: q.version, body: body.trim(), validity_days: validity },
        }),
      ),
    );
    setSaved(t.settings.saved);
    template.reload();
  });
  const q = template.data;
  return (
    <div>
      <h1>{s.quoteTitle}</h1>
      <SettingsNav />
      <ErrorNote message={template.error} />
      <Loading when={template.loading && !q} />
      {q ? (
        <Section title={s.quoteMessage} id="quote-template">
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void save.run();
            }}
          >
            <Field label={s.quoteBody} id="qt-body">
              <textarea
                id="qt-body"
                required
                minLength={10}
                maxLength={4000}
                rows={10}
                value={body}
                onChange={(e) => setBody(e.target.value)}
              />
            </Field>
            <Field label={s.validity} id="qt-days">
              <input
                id="qt-days"
                type="number"
                min={1}
                max={90}
                required
                value={days}
                onChange={(e) => setDays(e.target.value)}
              />
            </Field>
            <Variables variables={q.placeholders} label={s.placeholders} />
            <ErrorNote message={save.error} />
            <Notice message={saved} />
            <button type="submit" className="primary" disabled={save.busy}>
              {t.save}
            </button>
          </form>
        </Section>
      ) : null}
    </div>
  );
}

// --- The status machine ---------------------------------------------------------------------------

export function WorkflowSettingsPage() {
  const { api } = usePanel();
  const workflow = useLoad(() => call(api.GET("/settings/order-workflow")), [api]);
  const [off, setOff] = useState<Set<string>>(new Set());
  const [saved, setSaved] = useState<string | null>(null);
  useEffect(() => {
    if (workflow.data) setOff(new Set(workflow.data.disabled_transitions.map(([a, b]) => `${a}>${b}`)));
  }, [workflow.data]);
  const w = workflow.data;
  const edges: Edge[] = w ? workflowEdges([...BOARD_COLUMNS, ...CLOSED], w.transitions, w.disabled_transitions) : [];
  const save = useAction(async () => {
    if (!w) return;
    setSaved(null);
    const disabled = edges.filter(([a, b]) => off.has(`${a}>${b}`)).map(([a, b]) => [a, b]);
    await explainConflict(
      call(
        api.PUT("/settings/order-workflow", {
          body: {
            version: w.version,
            warranty_days: w.warranty_days,
            disabled_transitions: disabled as components["schemas"]["WorkflowIn"]["disabled_transitions"],
          },
        }),
      ),
    );
    setSaved(t.settings.saved);
    workflow.reload();
  });
  return (
    <div>
      <h1>{s.workflowTitle}</h1>
      <SettingsNav />
      <p className="muted">{s.workflowHelp}</p>
      <ErrorNote message={workflow.error} />
      <Loading when={workflow.loading && !w} />
      {w ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void save.run();
          }}
        >
          <fieldset className="card">
            <legend>{s.allowedMoves}</legend>
            <ul className="rows">
              {edges.map(([from, to]) => {
                const key = `${from}>${to}`;
                return (
                  <li key={key}>
                    <label className="check">
                      <input
                        type="checkbox"
                        checked={!off.has(key)}
                        onChange={(e) => {
                          const next = new Set(off);
                          if (e.target.checked) next.delete(key);
                          else next.add(key);
                          setOff(next);
                        }}
                      />{" "}
                      {statusLabel[from as keyof typeof statusLabel] ?? from} →{" "}
                      {statusLabel[to as keyof typeof statusLabel] ?? to}
                    </label>
                  </li>
                );
              })}
            </ul>
          </fieldset>
          <ErrorNote message={save.error} />
          <Notice message={saved} />
          <button type="submit" className="primary" disabled={save.busy}>
            {t.save}
          </button>
        </form>
      ) : null}
    </div>
  );
}

// --- Payments: the shop's Asaas account ------------------------------------------------------------

type AsaasEnvironment = components["schemas"]["PaymentAccountIn"]["environment"];

/** The shop's own Asaas account, where its customers' charges are paid: connected or not, where its
 * webhooks arrive; the key is typed, sent once and never shown again. */
export function PaymentSettingsPage() {
  const { api } = usePanel();
  const account = useLoad(() => call(api.GET("/settings/payments")), [api]);
  const [key, setKey] = useState("");
  const [environment, setEnvironment] = useState<AsaasEnvironment>("production");
  const [saved, setSaved] = useState<string | null>(null);
  const connect = useAction(async () => {
    setSaved(null);
    await call(api.PUT("/settings/payments", { body: { api_key: key.trim(), environment } }));
    setKey("");
    setSaved(s.paymentsConnected);
    account.reload();
  });
  const a = account.data;
  return (
    <div>
      <h1>{s.paymentsTitle}</h1>
      <SettingsNav />
      <ErrorNote message={account.error} />
      <Loading when={account.loading && !a} />
      {a ? (
        <div className="two-columns">
          <Section title={s.paymentsState} id="asaas-state">
            <p data-testid="asaas-state">
              {a.connected ? s.paymentsOn(a.environment === "sandbox" ? s.sandbox : s.production) : s.paymentsOff}
            </p>
            {a.webhook_url ? (
              <dl className="facts small">
                <dt>{s.webhookUrl}</dt>
                <dd>
                  <code>{a.webhook_url}</code>
                </dd>
              </dl>
            ) : null}
          </Section>
          <Section title={a.connected ? s.paymentsReplace : s.paymentsConnect} id="asaas-connect">
            <form
              onSubmit={(e) => {
                e.preventDefault();
                void connect.run();
              }}
            >
              <Field label={s.apiKey} id="asaas-key" hint={s.apiKeyHint}>
                <input
                  id="asaas-key"
                  type="password"
                  autoComplete="off"
                  spellCheck={false}
                  required
                  minLength={20}
                  maxLength={300}
                  aria-describedby="asaas-key-hint"
                  value={key}
                  onChange={(e) => setKey(e.target.value)}
                />
              </Field>
              <Field label={s.environment} id="asaas-env">
                <select
                  id="asaas-env"
                  value={environment}
                  onChange={(e) => setEnvironment(e.target.value as AsaasEnvironment)}
                >
                  <option value="production">{s.production}</option>
                  <option value="sandbox">{s.sandbox}</option>
                </select>
              </Field>
              <ErrorNote message={connect.error} />
              <Notice message={saved} />
              <button type="submit" className="primary" disabled={connect.busy}>
                {a.connected ? s.paymentsReplace : s.paymentsConnect}
              </button>
            </form>
          </Section>
        </div>
      ) : null}
    </div>
  );
}
