// Settings pages for routes the panel lacked: scheduling rules, the shop's SMTP server, the e-mail
// suppressions and the Google Calendar connection. Writes are the owners' and admins' (the API's
// settings:write); the suppressions are readable by every staff member (customers:read).
import { useEffect, useState } from "react";

import { call } from "../api/client";
import { Problem } from "../api/errors";
import type { components } from "../api/schema";
import { ErrorNote, Field, Loading, Notice, Section } from "../components";
import { useAction, useLoad, usePanel, useTokens } from "../context";
import { explainConflict } from "../editing";
import { formatDateTime } from "../format";
import { WEEKDAYS } from "../hours";
import { t } from "../i18n";
import { managesShop } from "../roles";
import {
  addressPath,
  brDate,
  parseBookingHours,
  parseClosedDates,
  parseReminders,
  remindersToText,
  type SmtpDraft,
  smtpBody,
  writableCalendars,
} from "../settings";
import { SettingsNav } from "./SettingsPages";

const m = t.settingsMore;
type S = components["schemas"];
type AppointmentType = S["AppointmentIn"]["type"];
const TYPES: AppointmentType[] = ["drop_off", "pickup", "visit"];
type RuleDraft = { duration: string; buffer: string; capacity: string; enabled: boolean };

/** A whole number within [min, max] typed in a field, or an Error naming the field. */
function whole(text: string, label: string, min: number, max: number): number {
  const value = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || value < min || value > max) throw new Problem(m.badNumber(label, min, max));
  return value;
}

// --- Scheduling rules -----------------------------------------------------------------------------

export function SchedulingSettingsPage() {
  const { api } = usePanel();
  const rules = useLoad(() => call(api.GET("/settings/scheduling")), [api]);
  const [types, setTypes] = useState<Record<string, RuleDraft>>({});
  const [step, setStep] = useState("");
  const [notice, setNotice] = useState("");
  const [horizon, setHorizon] = useState("");
  const [closed, setClosed] = useState("");
  const [optional, setOptional] = useState(false);
  const [reminders, setReminders] = useState("");
  const [ownHours, setOwnHours] = useState(false);
  const [hours, setHours] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState<string | null>(null);
  useEffect(() => {
    const r = rules.data;
    if (!r) return;
    const drafts: Record<string, RuleDraft> = {};
    for (const [name, rule] of Object.entries(r.types))
      drafts[name] = {
        duration: String(rule.duration_min),
        buffer: String(rule.buffer_min),
        capacity: String(rule.capacity),
        enabled: rule.enabled,
      };
    setTypes(drafts);
    setStep(String(r.step_min));
    setNotice(String(r.min_notice_min));
    setHorizon(String(r.horizon_days));
    setClosed(r.closed_dates.map(brDate).join("\n"));
    setOptional(r.observe_optional_holidays);
    setReminders(remindersToText(r.reminder_offsets));
    setOwnHours(r.booking_hours !== null && r.booking_hours !== undefined);
    const shown = (r.booking_hours ?? r.hours) as Record<string, string[][] | undefined>;
    setHours(Object.fromEntries(WEEKDAYS.map((d) => [d, (shown[d] ?? []).map(([a, b]) => `${a}-${b}`).join(", ")])));
  }, [rules.data]);

  const save = useAction(async () => {
    const r = rules.data;
    if (!r) return;
    setSaved(null);
    const body: S["SchedulingSettingsIn"] = {
      version: r.version,
      types: {},
      step_min: whole(step, m.step, 5, 240),
      min_notice_min: whole(notice, m.notice, 0, 10080),
      horizon_days: whole(horizon, m.horizon, 1, 180),
      closed_dates: [],
      observe_optional_holidays: optional,
      reminder_offsets: [],
      booking_hours: null,
    };
    for (const type of TYPES) {
      const d = types[type];
      if (!d) continue;
      const kind = t.agenda.kinds[type];
      body.types[type] = {
        duration_min: whole(d.duration, `${kind}: ${m.duration}`, 5, 480),
        buffer_min: whole(d.buffer, `${kind}: ${m.buffer}`, 0, 240),
        capacity: whole(d.capacity, `${kind}: ${m.capacity}`, 1, 50),
        enabled: d.enabled,
      };
    }
    const dates = parseClosedDates(closed);
    if ("bad" in dates) throw new Problem(m.badDate(dates.bad));
    body.closed_dates = dates.dates;
    const offsets = parseReminders(reminders);
    if (offsets === null) throw new Problem(m.badReminders);
    body.reminder_offsets = offsets;
    if (ownHours) {
      const booking: Record<string, string[][]> = {};
      for (const day of WEEKDAYS) {
        const parsed = parseBookingHours(hours[day] ?? "");
        if (parsed === null) throw new Problem(m.badHours(t.settings.weekdays[day]));
        booking[day] = parsed;
      }
      body.booking_hours = booking;
    }
    await explainConflict(call(api.PUT("/settings/scheduling", { body })));
    setSaved(t.settings.saved);
    rules.reload();
  });

  const r = rules.data;
  return (
    <div>
      <h1>{m.schedulingTitle}</h1>
      <SettingsNav />
      <ErrorNote message={rules.error} />
      <Loading when={rules.loading && !r} />
      {r ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void save.run();
          }}
        >
          <p className="muted">{m.schedulingHelp(r.timezone)}</p>
          <Section title={m.typesTitle} id="sched-types">
            {TYPES.filter((type) => types[type]).map((type) => {
              const d = types[type] as RuleDraft;
              const set = (patch: Partial<RuleDraft>) => setTypes({ ...types, [type]: { ...d, ...patch } });
              const id = `sched-${type}`;
              return (
                <fieldset key={type} className="subform">
                  <legend>{t.agenda.kinds[type]}</legend>
                  <label className="check">
                    <input
                      id={`${id}-enabled`}
                      type="checkbox"
                      checked={d.enabled}
                      onChange={(e) => set({ enabled: e.target.checked })}
                    />{" "}
                    {m.typeOffered}
                  </label>
                  <div className="inline">
                    <Field label={m.duration} id={`${id}-duration`}>
                      <input
                        id={`${id}-duration`}
                        type="number"
                        min={5}
                        max={480}
                        required
                        value={d.duration}
                        onChange={(e) => set({ duration: e.target.value })}
                      />
                    </Field>
                    <Field label={m.buffer} id={`${id}-buffer`}>
                      <input
                        id={`${id}-buffer`}
                        type="number"
                        min={0}
                        max={240}
                        required
                        value={d.buffer}
                        onChange={(e) => set({ buffer: e.target.value })}
                      />
                    </Field>
                    <Field label={m.capacity} id={`${id}-capacity`}>
                      <input
                        id={`${id}-capacity`}
                        type="number"
                        min={1}
                        max={50}
                        required
                        value={d.capacity}
                        onChange={(e) => set({ capacity: e.target.value })}
                      />
                    </Field>
                  </div>
                </fieldset>
              );
            })}
          </Section>
          <div className="two-columns">
            <Section title={m.gridTitle} id="sched-grid">
              <Field label={m.step} id="sched-step">
                <input
                  id="sched-step"
                  type="number"
                  min={5}
                  max={240}
                  required
                  value={step}
                  onChange={(e) => setStep(e.target.value)}
                />
              </Field>
              <Field label={m.notice} id="sched-notice" hint={m.noticeHint}>
                <input
                  id="sched-notice"
                  type="number"
                  min={0}
                  max={10080}
                  required
                  aria-describedby="sched-notice-hint"
                  value={notice}
                  onChange={(e) => setNotice(e.target.value)}
                />
              </Field>
              <Field label={m.horizon} id="sched-horizon">
                <input
                  id="sched-horizon"
                  type="number"
                  min={1}
                  max={180}
                  required
                  value={horizon}
                  onChange={(e) => setHorizon(e.target.value)}
                />
              </Field>
            </Section>
            <Section title={m.closedTitle} id="sched-closed">
              <Field label={m.closedDates} id="sched-dates" hint={m.closedHint}>
                <textarea
                  id="sched-dates"
                  rows={4}
                  aria-describedby="sched-dates-hint"
                  value={closed}
                  onChange={(e) => setClosed(e.target.value)}
                />
              </Field>
              <label className="check">
                <input type="checkbox" checked={optional} onChange={(e) => setOptional(e.target.checked)} />{" "}
                {m.optionalHolidays}
              </label>
              <Field label={m.reminders} id="sched-reminders" hint={m.remindersHint}>
                <input
                  id="sched-reminders"
                  aria-describedby="sched-reminders-hint"
                  value={reminders}
                  onChange={(e) => setReminders(e.target.value)}
                />
              </Field>
            </Section>
          </div>
          <Section title={m.hoursTitle} id="sched-hours">
            <label className="check">
              <input type="checkbox" checked={ownHours} onChange={(e) => setOwnHours(e.target.checked)} /> {m.ownHours}
            </label>
            {ownHours ? (
              <>
                <p className="small muted" id="sched-hours-help">
                  {m.ownHoursHint}
                </p>
                {WEEKDAYS.map((day) => (
                  <Field key={day} label={t.settings.weekdays[day]} id={`sched-hours-${day}`}>
                    <input
                      id={`sched-hours-${day}`}
                      aria-describedby="sched-hours-help"
                      value={hours[day] ?? ""}
                      onChange={(e) => setHours({ ...hours, [day]: e.target.value })}
                    />
                  </Field>
                ))}
              </>
            ) : null}
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

// --- The shop's SMTP server -----------------------------------------------------------------------

const EMPTY_SMTP: SmtpDraft = {
  host: "",
  port: "587",
  security: "starttls",
  username: "",
  password: "",
  from_address: "",
};

export function SmtpSettingsPage() {
  const { api } = usePanel();
  const settings = useLoad(() => call(api.GET("/settings/email")), [api]);
  const [draft, setDraft] = useState<SmtpDraft>(EMPTY_SMTP);
  const [done, setDone] = useState<string | null>(null);
  const [tested, setTested] = useState<string | null>(null);
  useEffect(() => {
    const smtp = settings.data?.smtp;
    setDraft(
      smtp
        ? {
            host: smtp.host,
            port: String(smtp.port),
            security: smtp.security,
            username: smtp.username ?? "",
            password: "",
            from_address: smtp.from_address,
          }
        : EMPTY_SMTP,
    );
  }, [settings.data]);
  const set = (patch: Partial<SmtpDraft>) => setDraft({ ...draft, ...patch });
  const current = settings.data?.smtp ?? null;
  const save = useAction(async () => {
    setDone(null);
    setTested(null);
    const body = smtpBody(draft, current?.version ?? 0);
    if ("problem" in body) throw new Problem(body.problem);
    await explainConflict(call(api.PUT("/settings/email/smtp", { body })));
    setDone(m.smtpSaved);
    settings.reload();
  });
  const test = useAction(async () => {
    setDone(null);
    setTested(null);
    const outcome = await call(api.POST("/settings/email/smtp/test"));
    settings.reload();
    if (outcome.status === "sent") setTested(m.smtpTested(outcome.to));
    else if (outcome.status === "suppressed") throw new Problem(m.smtpTestSuppressed(outcome.to));
    else throw new Problem(m.smtpTestFailed(outcome.reason ?? ""));
  });
  const remove = useAction(async () => {
    if (!window.confirm(m.smtpRemoveConfirm)) return;
    setDone(null);
    setTested(null);
    await call(api.DELETE("/settings/email/smtp"));
    setDone(m.smtpRemoved);
    settings.reload();
  });
  const e = settings.data;
  return (
    <div>
      <h1>{m.smtpTitle}</h1>
      <SettingsNav />
      <ErrorNote message={settings.error} />
      <Loading when={settings.loading && !e} />
      {e ? (
        <div className="two-columns">
          <Section title={m.smtpState} id="smtp-state">
            <p data-testid="smtp-state">
              {current ? m.smtpOwn(`${current.host}:${current.port}`, current.from_address) : m.smtpSes(e.sender)}
            </p>
            {current?.verified_at ? (
              <p className="small">{m.smtpVerified(formatDateTime(current.verified_at))}</p>
            ) : null}
            {current?.last_error ? <p className="small error">{m.smtpLastError(current.last_error)}</p> : null}
            {current ? (
              <span className="inline">
                <button type="button" disabled={test.busy} onClick={() => void test.run()}>
                  {m.smtpTest}
                </button>
                <button type="button" disabled={remove.busy} onClick={() => void remove.run()}>
                  {m.smtpRemove}
                </button>
              </span>
            ) : null}
            <ErrorNote message={test.error ?? remove.error} />
            <Notice message={tested} />
          </Section>
          <Section title={m.smtpForm} id="smtp-form">
            <form
              onSubmit={(ev) => {
                ev.preventDefault();
                void save.run();
              }}
            >
              <Field label={m.smtpHost} id="smtp-host">
                <input
                  id="smtp-host"
                  required
                  maxLength={253}
                  autoComplete="off"
                  spellCheck={false}
                  placeholder="smtp.exemplo.com.br"
                  value={draft.host}
                  onChange={(ev) => set({ host: ev.target.value })}
                />
              </Field>
              <Field label={m.smtpPort} id="smtp-port">
                <input
                  id="smtp-port"
                  type="number"
                  min={1}
                  max={65535}
                  required
                  value={draft.port}
                  onChange={(ev) => set({ port: ev.target.value })}
                />
              </Field>
              <Field label={m.smtpSecurity} id="smtp-security">
                <select
                  id="smtp-security"
                  value={draft.security}
                  onChange={(ev) => set({ security: ev.target.value as SmtpDraft["security"] })}
                >
                  <option value="starttls">{m.starttls}</option>
                  <option value="tls">{m.tls}</option>
                </select>
              </Field>
              <Field label={m.smtpUser} id="smtp-user" hint={m.smtpUserHint}>
                <input
                  id="smtp-user"
                  maxLength={320}
                  autoComplete="off"
                  aria-describedby="smtp-user-hint"
                  value={draft.username}
                  onChange={(ev) => set({ username: ev.target.value })}
                />
              </Field>
              <Field
                label={m.smtpPassword}
                id="smtp-password"
                hint={current?.has_password ? m.smtpPasswordKeep : m.smtpPasswordNew}
              >
                <input
                  id="smtp-password"
                  type="password"
                  maxLength={500}
                  autoComplete="new-password"
                  aria-describedby="smtp-password-hint"
                  value={draft.password}
                  onChange={(ev) => set({ password: ev.target.value })}
                />
              </Field>
              <Field label={m.smtpFrom} id="smtp-from">
                <input
                  id="smtp-from"
                  type="email"
                  required
                  maxLength={320}
                  value={draft.from_address}
                  onChange={(ev) => set({ from_address: ev.target.value })}
                />
              </Field>
              <ErrorNote message={save.error} />
              <Notice message={done} />
              <button type="submit" className="primary" disabled={save.busy}>
                {t.save}
              </button>
            </form>
          </Section>
        </div>
      ) : null}
    </div>
  );
}

// --- Suppressed addresses -------------------------------------------------------------------------

type Suppression = S["SuppressionOut"];

export function SuppressionsPage() {
  const { api } = usePanel();
  const role = useTokens()?.role ?? null;
  const [items, setItems] = useState<Suppression[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const first = useLoad(() => call(api.GET("/email/suppressions", { params: { query: { limit: 50 } } })), [api]);
  useEffect(() => {
    if (!first.data) return;
    setItems(first.data.items);
    setCursor(first.data.next_cursor);
  }, [first.data]);
  const more = useAction(async () => {
    if (!cursor) return;
    const page = await call(api.GET("/email/suppressions", { params: { query: { limit: 50, cursor } } }));
    setItems([...items, ...page.items]);
    setCursor(page.next_cursor);
  });
  const lift = useAction(async (address: string) => {
    if (!window.confirm(m.liftConfirm(address))) return;
    setDone(null);
    await call(
      api.DELETE("/email/suppressions/{address}", { params: { path: { address } }, pathSerializer: addressPath }),
    );
    setItems(items.filter((s) => s.address !== address));
    setDone(m.lifted(address));
  });
  return (
    <div>
      <h1>{m.suppressionsTitle}</h1>
      {managesShop(role) ? <SettingsNav /> : null}
      <p className="muted">{m.suppressionsHelp}</p>
      <ErrorNote message={first.error ?? more.error ?? lift.error} />
      <Notice message={done} />
      <Loading when={first.loading && !first.data} />
      {first.data && items.length === 0 ? <p className="muted">{m.none}</p> : null}
      {items.length > 0 ? (
        <div className="table-wrap">
          <table>
            <caption className="sr-only">{m.suppressionsTitle}</caption>
            <thead>
              <tr>
                <th scope="col">{m.address}</th>
                <th scope="col">{m.reason}</th>
                <th scope="col">{m.detail}</th>
                <th scope="col">{m.since}</th>
                {managesShop(role) ? (
                  <th scope="col">
                    <span className="sr-only">{m.liftLabel}</span>
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {items.map((s) => (
                <tr key={s.address}>
                  <td>{s.address}</td>
                  <td>{s.reason === "bounce" ? m.bounce : m.complaint}</td>
                  <td>{s.detail}</td>
                  <td>{formatDateTime(s.created_at)}</td>
                  {managesShop(role) ? (
                    <td>
                      <button
                        type="button"
                        aria-label={m.lift(s.address)}
                        disabled={lift.busy}
                        onClick={() => void lift.run(s.address)}
                      >
                        {m.liftLabel}
                      </button>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {cursor ? (
        <button type="button" disabled={more.busy} onClick={() => void more.run()}>
          {m.more}
        </button>
      ) : null}
    </div>
  );
}

// --- Google Calendar ------------------------------------------------------------------------------

export function GoogleSettingsPage() {
  const { api } = usePanel();
  const connection = useLoad(() => call(api.GET("/integrations/google")), [api]);
  const g = connection.data;
  const [hint, setHint] = useState("");
  const [consent, setConsent] = useState<{ url: string; blocked: boolean } | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const connect = useAction(async () => {
    setDone(null);
    const started = await call(api.POST("/integrations/google/connect", { body: { login_hint: hint.trim() || null } }));
    const tab = window.open(started.authorization_url, "_blank", "noopener");
    setConsent({ url: started.authorization_url, blocked: tab === null });
  });
  const disconnect = useAction(async () => {
    if (!window.confirm(m.disconnectConfirm)) return;
    setDone(null);
    await call(api.DELETE("/integrations/google"));
    setDone(m.disconnected);
    connection.reload();
  });
  return (
    <div>
      <h1>{m.googleTitle}</h1>
      <SettingsNav />
      <p className="muted">{m.googleHelp}</p>
      <ErrorNote message={connection.error} />
      <Loading when={connection.loading && !g} />
      {g ? (
        <div className="two-columns">
          <Section title={m.googleState} id="google-state">
            <p data-testid="google-state">
              {g.status === "connected"
                ? m.googleOn(g.account_email ?? "Google")
                : g.status === "reconnect"
                  ? m.googleReconnect
                  : m.googleOff}
            </p>
            {g.synced_at ? <p className="small">{m.googleSynced(formatDateTime(g.synced_at))}</p> : null}
            {g.last_error ? <p className="small error">{m.googleError(g.last_error)}</p> : null}
            {g.status !== "connected" ? (
              <form
                onSubmit={(e) => {
                  e.preventDefault();
                  void connect.run();
                }}
              >
                <Field label={m.loginHint} id="google-hint">
                  <input
                    id="google-hint"
                    type="email"
                    maxLength={320}
                    value={hint}
                    onChange={(e) => setHint(e.target.value)}
                  />
                </Field>
                <button type="submit" className="primary" disabled={connect.busy}>
                  {g.status === "reconnect" ? m.reconnect : m.connect}
                </button>
              </form>
            ) : null}
            {consent ? (
              <p className="notice" role="status">
                {consent.blocked ? m.connectBlocked : m.connectOpened}{" "}
                {consent.blocked ? (
                  <a href={consent.url} target="_blank" rel="noopener noreferrer">
                    {m.openConsent}
                  </a>
                ) : null}
              </p>
            ) : null}
            <span className="inline">
              <button type="button" onClick={connection.reload}>
                {m.refresh}
              </button>
              {g.connected || g.status === "reconnect" ? (
                <button type="button" disabled={disconnect.busy} onClick={() => void disconnect.run()}>
                  {m.disconnect}
                </button>
              ) : null}
            </span>
            <ErrorNote message={connect.error ?? disconnect.error} />
            <Notice message={done} />
          </Section>
          {g.status === "connected" ? <Calendars connection={g} onChanged={connection.reload} /> : null}
        </div>
      ) : null}
    </div>
  );
}

function Calendars({ connection, onChanged }: { connection: S["GoogleConnectionOut"]; onChanged: () => void }) {
  const { api } = usePanel();
  const list = useLoad(() => call(api.GET("/integrations/google/calendars")), [api, connection.version]);
  const [target, setTarget] = useState(connection.calendar_id ?? "");
  const [busy, setBusy] = useState<Set<string>>(new Set(connection.busy_calendar_ids));
  const [saved, setSaved] = useState<string | null>(null);
  useEffect(() => {
    setTarget(connection.calendar_id ?? "");
    setBusy(new Set(connection.busy_calendar_ids));
  }, [connection]);
  const save = useAction(async () => {
    setSaved(null);
    await explainConflict(
      call(
        api.PUT("/integrations/google", {
          body: { version: connection.version, calendar_id: target, busy_calendar_ids: [...busy] },
        }),
      ),
    );
    setSaved(m.calendarsSaved);
    onChanged();
  });
  const calendars = list.data?.items ?? [];
  const label = (c: S["GoogleCalendarOut"]) => (c.primary ? `${c.name} (${m.primary})` : c.name);
  return (
    <Section title={m.calendars} id="google-calendars">
      <ErrorNote message={list.error} />
      <Loading when={list.loading && !list.data} />
      {list.data ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void save.run();
          }}
        >
          <Field label={m.target} id="google-target">
            <select id="google-target" required value={target} onChange={(e) => setTarget(e.target.value)}>
              {target === "" ? <option value="">—</option> : null}
              {writableCalendars(calendars).map((c) => (
                <option key={c.id} value={c.id}>
                  {label(c)}
                </option>
              ))}
            </select>
          </Field>
          <fieldset>
            <legend>{m.busy}</legend>
            <ul className="rows">
              {calendars.map((c) => (
                <li key={c.id}>
                  <label className="check">
                    <input
                      type="checkbox"
                      checked={busy.has(c.id)}
                      onChange={(e) => {
                        const next = new Set(busy);
                        if (e.target.checked) next.add(c.id);
                        else next.delete(c.id);
                        setBusy(next);
                      }}
                    />{" "}
                    {label(c)}
                  </label>
                </li>
              ))}
            </ul>
          </fieldset>
          <ErrorNote message={save.error} />
          <Notice message={saved} />
          <button type="submit" className="primary" disabled={save.busy || target === ""}>
            {t.save}
          </button>
        </form>
      ) : null}
    </Section>
  );
}
