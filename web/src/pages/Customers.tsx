import { type FormEvent, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";

import { call } from "../api/client";
import type { components } from "../api/schema";
import { ErrorNote, Field, Loading, Section } from "../components";
import { Editor } from "../EditForm";
import type { EditField } from "../editing";
import { useAction, useLoad, usePanel } from "../context";
import { deviceTypeLabel, type Priority, priorityLabel, t } from "../i18n";

type DeviceType = components["schemas"]["DeviceIn"]["type"];
type CustomerPatch = components["schemas"]["CustomerPatch"];
type DevicePatch = components["schemas"]["DevicePatch"];

const CUSTOMER_FIELDS: readonly EditField[] = [
  { name: "name", label: t.customers.name, kind: "text", maxLength: 120 },
  { name: "phone", label: t.customers.phone, kind: "text", inputType: "tel" },
  { name: "email", label: t.customers.email, kind: "optional", inputType: "email" },
  { name: "document", label: t.customers.document, kind: "optional" },
  { name: "notes", label: t.edit.notes, kind: "optional", multiline: true, maxLength: 2000 },
];

const DEVICE_FIELDS: readonly EditField[] = [
  {
    name: "type",
    label: t.devices.type,
    kind: "choice",
    options: Object.entries(deviceTypeLabel) as [string, string][],
  },
  { name: "brand", label: t.devices.brand, kind: "text", maxLength: 60 },
  { name: "model", label: t.devices.model, kind: "text", maxLength: 120 },
  { name: "serial", label: t.edit.serial, kind: "optional", maxLength: 60 },
  { name: "imei", label: t.devices.imei, kind: "optional" },
  { name: "condition", label: t.devices.condition, kind: "optional", multiline: true, maxLength: 2000 },
];

export function CustomersPage() {
  const { api } = usePanel();
  const navigate = useNavigate();
  const [query, setQuery] = useState("");
  const [search, setSearch] = useState("");
  const list = useLoad(
    () =>
      call(api.GET("/customers", { params: { query: { limit: 50, ...(search.length >= 2 ? { q: search } : {}) } } })),
    [api, search],
  );
  const [name, setName] = useState("");
  const [phone, setPhone] = useState("");
  const [email, setEmail] = useState("");
  const [documentNumber, setDocumentNumber] = useState("");
  const create = useAction(async () => {
    const customer = await call(
      api.POST("/customers", {
        body: {
          name: name.trim(),
          phone: phone.trim(),
          email: email.trim() || null,
          document: documentNumber.trim() || null,
        },
      }),
    );
    navigate(`/clientes/${customer.id}`);
  });

  return (
    <div className="two-columns">
      <Section title={t.customers.title} id="customers">
        <form
          role="search"
          onSubmit={(e: FormEvent) => {
            e.preventDefault();
            setSearch(query.trim());
          }}
        >
          <Field label={t.customers.search} id="c-search">
            <span className="inline">
              <input id="c-search" type="search" value={query} onChange={(e) => setQuery(e.target.value)} />
              <button type="submit">Buscar</button>
            </span>
          </Field>
        </form>
        <ErrorNote message={list.error} />
        <Loading when={list.loading && !list.data} />
        {list.data && list.data.items.length === 0 ? <p className="muted">{t.customers.empty}</p> : null}
        <ul className="rows">
          {(list.data?.items ?? []).map((c) => (
            <li key={c.id}>
              <Link to={`/clientes/${c.id}`}>{c.name}</Link> <span className="muted">{c.phone}</span>
            </li>
          ))}
        </ul>
      </Section>
      <Section title={t.customers.new} id="new-customer">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void create.run();
          }}
        >
          <Field label={t.customers.name} id="c-name">
            <input id="c-name" required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />
          </Field>
          <Field label={t.customers.phone} id="c-phone">
            <input
              id="c-phone"
              type="tel"
              required
              autoComplete="tel"
              value={phone}
              onChange={(e) => setPhone(e.target.value)}
            />
          </Field>
          <Field label={t.customers.email} id="c-email">
            <input id="c-email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} />
          </Field>
          <Field label={t.customers.document} id="c-doc">
            <input id="c-doc" value={documentNumber} onChange={(e) => setDocumentNumber(e.target.value)} />
          </Field>
          <ErrorNote message={create.error} />
          <button type="submit" className="primary" disabled={create.busy}>
            {t.customers.create}
          </button>
        </form>
      </Section>
    </div>
  );
}

export function CustomerPage() {
  const { customerId = "" } = useParams();
  const { api } = usePanel();
  const customer = useLoad(
    () => call(api.GET("/customers/{customer_id}", { params: { path: { customer_id: customerId } } })),
    [api, customerId],
  );
  const devices = useLoad(
    () => call(api.GET("/customers/{customer_id}/devices", { params: { path: { customer_id: customerId } } })),
    [api, customerId],
  );
  const c = customer.data;
  return (
    <div>
      <p>
        <Link to="/clientes">← {t.customers.title}</Link>
      </p>
      <ErrorNote message={customer.error} />
      <Loading when={customer.loading && !c} />
      {c ? (
        <>
          <h1>{c.name}</h1>
          <dl className="facts">
            <dt>{t.customers.phone}</dt>
            <dd>{c.phone}</dd>
            <dt>E-mail</dt>
            <dd>{c.email ?? t.none}</dd>
            <dt>CPF/CNPJ</dt>
            <dd>{c.document ?? t.none}</dd>
            {c.notes ? (
              <>
                <dt>{t.edit.notesShort}</dt>
                <dd>{c.notes}</dd>
              </>
            ) : null}
          </dl>
          <Editor
            id={`edit-customer-${c.id}`}
            what={`o cliente ${c.name}`}
            fields={CUSTOMER_FIELDS}
            record={c}
            save={(body) =>
              call(
                api.PATCH("/customers/{customer_id}", {
                  params: { path: { customer_id: c.id } },
                  body: body as CustomerPatch,
                }),
              )
            }
            onSaved={customer.reload}
            onReload={customer.reload}
          />
        </>
      ) : null}
      <div className="two-columns">
        <Section title={t.customers.devices} id="devices">
          <ErrorNote message={devices.error} />
          {devices.data && devices.data.items.length === 0 ? <p className="muted">{t.customers.noDevices}</p> : null}
          <ul className="rows">
            {(devices.data?.items ?? []).map((d) => (
              <li key={d.id}>
                <DeviceRow device={d} onChanged={devices.reload} />
              </li>
            ))}
          </ul>
        </Section>
        <NewDevice customerId={customerId} onCreated={devices.reload} />
      </div>
    </div>
  );
}

function DeviceRow({ device, onChanged }: { device: components["schemas"]["DeviceOut"]; onChanged: () => void }) {
  const { api } = usePanel();
  const navigate = useNavigate();
  const [open, setOpen] = useState(false);
  const [photosOpen, setPhotosOpen] = useState(false);
  const [problem, setProblem] = useState("");
  const [priority, setPriority] = useState<Priority>("normal");
  const create = useAction(async () => {
    const order = await call(
      api.POST("/orders", {
        body: { customer_id: device.customer_id, device_id: device.id, reported_problem: problem.trim(), priority },
      }),
    );
    navigate(`/ordens/${order.id}`);
  });
  const formId = `order-${device.id}`;
  return (
    <div>
      <strong>
        {device.brand} {device.model}
      </strong>{" "}
      <span className="muted">
        {deviceTypeLabel[device.type]}
        {device.imei ? ` · IMEI ${device.imei}` : ""}
      </span>{" "}
      <button type="button" aria-expanded={open} aria-controls={formId} onClick={() => setOpen(!open)}>
        {t.devices.openOrder}
      </button>{" "}
      <button
        type="button"
        aria-expanded={photosOpen}
        aria-controls={`photos-${device.id}`}
        onClick={() => setPhotosOpen(!photosOpen)}
      >
        {t.photos.title}
      </button>{" "}
      <Editor
        id={`edit-device-${device.id}`}
        what={`o aparelho ${device.brand} ${device.model}`}
        fields={DEVICE_FIELDS}
        record={device}
        save={(body) =>
          call(
            api.PATCH("/devices/{device_id}", {
              params: { path: { device_id: device.id } },
              body: body as DevicePatch,
            }),
          )
        }
        onSaved={onChanged}
        onReload={onChanged}
      />
      {photosOpen ? <Photos deviceId={device.id} /> : null}
      {open ? (
        <form
          id={formId}
          className="subform"
          onSubmit={(e) => {
            e.preventDefault();
            void create.run();
          }}
        >
          <Field label={t.order.problem} id={`${formId}-problem`}>
            <textarea
              id={`${formId}-problem`}
              required
              maxLength={2000}
              value={problem}
              onChange={(e) => setProblem(e.target.value)}
            />
          </Field>
          <Field label={t.order.priority} id={`${formId}-priority`}>
            <select
              id={`${formId}-priority`}
              value={priority}
              onChange={(e) => setPriority(e.target.value as Priority)}
            >
              {(Object.keys(priorityLabel) as Priority[]).map((p) => (
                <option key={p} value={p}>
                  {priorityLabel[p]}
                </option>
              ))}
            </select>
          </Field>
          <ErrorNote message={create.error} />
          <button type="submit" className="primary" disabled={create.busy}>
            {t.order.create}
          </button>
        </form>
      ) : null}
    </div>
  );
}

function NewDevice({ customerId, onCreated }: { customerId: string; onCreated: () => void }) {
  const { api } = usePanel();
  const [type, setType] = useState<DeviceType>("phone");
  const [brand, setBrand] = useState("");
  const [model, setModel] = useState("");
  const [imei, setImei] = useState("");
  const [condition, setCondition] = useState("");
  const create = useAction(async () => {
    await call(
      api.POST("/customers/{customer_id}/devices", {
        params: { path: { customer_id: customerId } },
        body: {
          type,
          brand: brand.trim(),
          model: model.trim(),
          imei: imei.trim() || null,
          condition: condition.trim() || null,
        },
      }),
    );
    setBrand("");
    setModel("");
    setImei("");
    setCondition("");
    onCreated();
  });
  return (
    <Section title={t.devices.new} id="new-device">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void create.run();
        }}
      >
        <Field label={t.devices.type} id="d-type">
          <select id="d-type" value={type} onChange={(e) => setType(e.target.value as DeviceType)}>
            {(Object.keys(deviceTypeLabel) as DeviceType[]).map((k) => (
              <option key={k} value={k}>
                {deviceTypeLabel[k]}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t.devices.brand} id="d-brand">
          <input id="d-brand" required value={brand} onChange={(e) => setBrand(e.target.value)} />
        </Field>
        <Field label={t.devices.model} id="d-model">
          <input id="d-model" required value={model} onChange={(e) => setModel(e.target.value)} />
        </Field>
        <Field label={t.devices.imei} id="d-imei">
          <input id="d-imei" inputMode="numeric" value={imei} onChange={(e) => setImei(e.target.value)} />
        </Field>
        <Field label={t.devices.condition} id="d-condition">
          <input id="d-condition" value={condition} onChange={(e) => setCondition(e.target.value)} />
        </Field>
        <ErrorNote message={create.error} />
        <button type="submit" className="primary" disabled={create.busy}>
          {t.devices.create}
        </button>
      </form>
    </Section>
  );
}

const PHOTO_TYPES = ["image/jpeg", "image/png", "image/webp", "image/heic"] as const;
type PhotoType = (typeof PHOTO_TYPES)[number];

/** The device's photos. A photo goes from the browser straight to S3 with the presigned form the
 * API gives (10 MB, images only); the API never carries the file. */
function Photos({ deviceId }: { deviceId: string }) {
  const { api } = usePanel();
  const photos = useLoad(
    () => call(api.GET("/devices/{device_id}/photos", { params: { path: { device_id: deviceId } } })),
    [api, deviceId],
  );
  const upload = useAction(async (file: File) => {
    const type = file.type as PhotoType;
    if (!PHOTO_TYPES.includes(type)) throw new Error(t.photos.wrongType);
    const form = await call(
      api.POST("/devices/{device_id}/photos", {
        params: { path: { device_id: deviceId } },
        body: { content_type: type },
      }),
    );
    if (file.size > form.max_bytes) throw new Error(t.photos.tooBig);
    const body = new FormData();
    for (const [name, value] of Object.entries(form.upload_fields)) body.append(name, value);
    body.append("file", file);
    // A form POST to the bucket: the bucket need not answer CORS, so its answer is not readable
    // here; the photo shows (or says it is unavailable) once listed again.
    await fetch(form.upload_url, { method: "POST", body, mode: "no-cors" });
    photos.reload();
  });
  const inputId = `photo-file-${deviceId}`;
  return (
    <div id={`photos-${deviceId}`} className="subform">
      <Field label={t.photos.add} id={inputId} hint={t.photos.hint}>
        <input
          id={inputId}
          type="file"
          accept={PHOTO_TYPES.join(",")}
          capture="environment"
          aria-describedby={`${inputId}-hint`}
          disabled={upload.busy}
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (file) void upload.run(file).then(() => (e.target.value = ""));
          }}
        />
      </Field>
      <ErrorNote message={upload.error ?? photos.error} />
      <Loading when={upload.busy || (photos.loading && !photos.data)} />
      <ul className="photos">
        {(photos.data?.items ?? []).map((p, i) => (
          <li key={p.id}>
            <a href={p.url} target="_blank" rel="noreferrer">
              <img src={p.url} alt={t.photos.alt(i + 1)} loading="lazy" />
            </a>
          </li>
        ))}
      </ul>
    </div>
  );
}
