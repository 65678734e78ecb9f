import { type FormEvent, useMemo, useState } from "react";
import { Link, useNavigate } from "react-router";

import { call } from "../api/client";
import { Problem } from "../api/errors";
import type { components } from "../api/schema";
import { ErrorNote, Field, Loading, Section } from "../components";
import { useAction, useLoad, usePanel } from "../context";
import { dayKey, shopRange, shopToday } from "../format";
import { t } from "../i18n";

type Appointment = components["schemas"]["AppointmentOut"];
type Kind = components["schemas"]["AppointmentIn"]["type"];
type Action = components["schemas"]["AppointmentChangeIn"]["action"];

const SHOP_TZ = "America/Sao_Paulo";
const dayTitle = new Intl.DateTimeFormat("pt-BR", {
  timeZone: SHOP_TZ,
  weekday: "long",
  day: "2-digit",
  month: "2-digit",
});
const hour = new Intl.DateTimeFormat("pt-BR", { timeZone: SHOP_TZ, hour: "2-digit", minute: "2-digit" });

export function AgendaPage() {
  const { api } = usePanel();
  const [first, setFirst] = useState(shopToday());
  const range = shopRange(first, 7);
  const appointments = useLoad(() => call(api.GET("/appointments", { params: { query: range } })), [api, first]);
  const days = useMemo(() => {
    const groups = new Map<string, Appointment[]>();
    for (const a of [...(appointments.data?.items ?? [])].sort((x, y) => x.starts_at.localeCompare(y.starts_at))) {
      const key = dayKey.format(new Date(a.starts_at));
      groups.set(key, [...(groups.get(key) ?? []), a]);
    }
    return [...groups.entries()];
  }, [appointments.data]);
  return (
    <div>
      <h1>{t.agenda.title}</h1>
      <div className="two-columns">
        <Section title={t.agenda.week} id="agenda-week">
          <Field label={t.agenda.from} id="ag-first">
            <input
              id="ag-first"
              type="date"
              value={first}
              onChange={(e) => e.target.value && setFirst(e.target.value)}
            />
          </Field>
          <ErrorNote message={appointments.error} />
          <Loading when={appointments.loading && !appointments.data} />
          {appointments.data && days.length === 0 ? <p className="muted">{t.agenda.none}</p> : null}
          {days.map(([day, items]) => (
            <div key={day}>
              <h3>{dayTitle.format(new Date(`${day}T12:00:00-03:00`))}</h3>
              <ul className="rows">
                {items.map((a) => (
                  <AppointmentRow key={a.id} appointment={a} onChanged={appointments.reload} />
                ))}
              </ul>
            </div>
          ))}
        </Section>
        <Book first={first} onBooked={appointments.reload} />
      </div>
    </div>
  );
}

function AppointmentRow({ appointment: a, onChanged }: { appointment: Appointment; onChanged: () => void }) {
  const { api } = usePanel();
  const navigate = useNavigate();
  const customer = useLoad(
    () => call(api.GET("/customers/{customer_id}", { params: { path: { customer_id: a.customer_id } } })),
    [api, a.customer_id],
  );
  const change = useAction(async (action: Action) => {
    await call(
      api.POST("/appointments/{appointment_id}/changes", {
        params: { path: { appointment_id: a.id } },
        body: { action, version: a.version },
      }),
    );
    onChanged();
  });
  const [checking, setChecking] = useState(false);
  const [deviceId, setDeviceId] = useState(a.device_id ?? "");
  const [problem, setProblem] = useState(a.notes ?? "");
  const devices = useLoad(
    () =>
      checking
        ? call(api.GET("/customers/{customer_id}/devices", { params: { path: { customer_id: a.customer_id } } }))
        : Promise.resolve({ items: [] }),
    [api, a.customer_id, checking],
  );
  const checkIn = useAction(async () => {
    if (!deviceId) throw new Problem(t.agenda.pickDevice);
    const done = await call(
      api.POST("/appointments/{appointment_id}/check-in", {
        params: { path: { appointment_id: a.id } },
        body: { version: a.version, device_id: deviceId, reported_problem: problem.trim() || t.agenda.checkInProblem },
      }),
    );
    navigate(`/ordens/${done.order_id}`);
  });
  const formId = `checkin-${a.id}`;
  const open = a.status === "booked" || a.status === "confirmed";
  return (
    <li>
      <strong>{hour.format(new Date(a.starts_at))}</strong> · {t.agenda.kinds[a.type as Kind] ?? a.type} ·{" "}
      {customer.data ? <Link to={`/clientes/${a.customer_id}`}>{customer.data.name}</Link> : t.none} ·{" "}
      <span>{t.agenda.statuses[a.status as keyof typeof t.agenda.statuses] ?? a.status}</span>
      {a.notes ? <div className="small muted">{a.notes}</div> : null}
      {open ? (
        <div className="actions">
          {a.status === "booked" ? (
            <button type="button" disabled={change.busy} onClick={() => void change.run("confirm")}>
              {t.agenda.confirm}
            </button>
          ) : null}
          {a.type === "drop_off" ? (
            <button
              type="button"
              className="primary"
              aria-expanded={checking}
              aria-controls={formId}
              onClick={() => setChecking(!checking)}
            >
              {t.agenda.checkIn}
            </button>
          ) : null}
          <button type="button" disabled={change.busy} onClick={() => void change.run("no_show")}>
            {t.agenda.noShow}
          </button>
          <button type="button" className="danger" disabled={change.busy} onClick={() => void change.run("cancel")}>
            {t.agenda.cancel}
          </button>
        </div>
      ) : null}
      {checking ? (
        <form
          id={formId}
          className="subform"
          onSubmit={(e) => {
            e.preventDefault();
            void checkIn.run();
          }}
        >
          <Field label={t.order.device} id={`${formId}-device`}>
            <select id={`${formId}-device`} required value={deviceId} onChange={(e) => setDeviceId(e.target.value)}>
              <option value="">—</option>
              {(devices.data?.items ?? []).map((d) => (
                <option key={d.id} value={d.id}>
                  {d.brand} {d.model}
                </option>
              ))}
            </select>
          </Field>
          {devices.data && devices.data.items.length === 0 ? (
            <p className="muted">
              {t.agenda.noDevice} <Link to={`/clientes/${a.customer_id}`}>{t.agenda.addDevice}</Link>
            </p>
          ) : null}
          <Field label={t.order.problem} id={`${formId}-problem`}>
            <textarea id={`${formId}-problem`} value={problem} onChange={(e) => setProblem(e.target.value)} />
          </Field>
          <button type="submit" className="primary" disabled={checkIn.busy}>
            {t.order.create}
          </button>
        </form>
      ) : null}
      <ErrorNote message={change.error ?? checkIn.error} />
    </li>
  );
}

function Book({ first, onBooked }: { first: string; onBooked: () => void }) {
  const { api } = usePanel();
  const [kind, setKind] = useState<Kind>("drop_off");
  const [day, setDay] = useState(first);
  const [query, setQuery] = useState("");
  const [search, setSearch] = useState("");
  const [customerId, setCustomerId] = useState("");
  const [slot, setSlot] = useState("");
  const [notes, setNotes] = useState("");
  const slots = useLoad(
    () => call(api.GET("/availability", { params: { query: { ...shopRange(day, 1), type: kind } } })),
    [api, day, kind],
  );
  const customers = useLoad(
    () =>
      search.length >= 2
        ? call(api.GET("/customers", { params: { query: { q: search, limit: 20 } } }))
        : Promise.resolve({ items: [], next_cursor: null }),
    [api, search],
  );
  const book = useAction(async () => {
    if (!customerId) throw new Problem(t.agenda.pickCustomer);
    if (!slot) throw new Problem(t.agenda.pickSlot);
    await call(
      api.POST("/appointments", {
        body: { type: kind, starts_at: slot, customer_id: customerId, notes: notes.trim() || null },
      }),
    );
    setSlot("");
    setNotes("");
    slots.reload();
    onBooked();
  });
  const free = (slots.data?.slots ?? []).filter((s) => s.free > 0);
  return (
    <Section title={t.agenda.book} id="agenda-book">
      <form
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          void book.run();
        }}
      >
        <Field label={t.agenda.kind} id="bk-kind">
          <select id="bk-kind" value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
            {(Object.keys(t.agenda.kinds) as Kind[]).map((k) => (
              <option key={k} value={k}>
                {t.agenda.kinds[k]}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t.agenda.day} id="bk-day">
          <input id="bk-day" type="date" required value={day} onChange={(e) => setDay(e.target.value)} />
        </Field>
        <fieldset className="slots">
          <legend>{t.agenda.slot}</legend>
          <ErrorNote message={slots.error} />
          <Loading when={slots.loading && !slots.data} />
          {slots.data && free.length === 0 ? <p className="muted">{t.agenda.noSlots}</p> : null}
          {free.map((s) => (
            <label key={s.start} className="slot">
              <input
                type="radio"
                name="slot"
                value={s.start}
                checked={slot === s.start}
                onChange={() => setSlot(s.start)}
              />
              {hour.format(new Date(s.start))}
            </label>
          ))}
        </fieldset>
        <Field label={t.agenda.customerSearch} id="bk-customer-q">
          <span className="inline">
            <input id="bk-customer-q" type="search" value={query} onChange={(e) => setQuery(e.target.value)} />
            <button type="button" onClick={() => setSearch(query.trim())}>
              Buscar
            </button>
          </span>
        </Field>
        {customers.data && customers.data.items.length > 0 ? (
          <Field label={t.agenda.customer} id="bk-customer">
            <select id="bk-customer" value={customerId} onChange={(e) => setCustomerId(e.target.value)}>
              <option value="">—</option>
              {customers.data.items.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name} · {c.phone}
                </option>
              ))}
            </select>
          </Field>
        ) : null}
        <Field label={t.agenda.notes} id="bk-notes">
          <input id="bk-notes" maxLength={2000} value={notes} onChange={(e) => setNotes(e.target.value)} />
        </Field>
        <ErrorNote message={book.error} />
        <button type="submit" className="primary" disabled={book.busy}>
          {t.agenda.bookSubmit}
        </button>
      </form>
    </Section>
  );
}
