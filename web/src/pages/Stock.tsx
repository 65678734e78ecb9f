import { type FormEvent, useState } from "react";

import { call } from "../api/client";
import { Problem } from "../api/errors";
import type { components } from "../api/schema";
import { ErrorNote, Field, Loading, Section } from "../components";
import { Editor } from "../EditForm";
import type { EditField } from "../editing";
import { useAction, useLoad, usePanel, useTokens } from "../context";
import { formatCents, parseReais } from "../format";
import { t } from "../i18n";
import { managesShop, seesMoney } from "../roles";

type Part = components["schemas"]["PartOut"];
type PartPatch = components["schemas"]["PartPatch"];

/** What the edit form offers: the catalogue data; prices only to those who see money. */
export function partFields(money: boolean): EditField[] {
  const fields: EditField[] = [
    { name: "name", label: t.stock.name, kind: "text", maxLength: 120 },
    { name: "brand", label: t.devices.brand, kind: "optional", maxLength: 60 },
    { name: "model", label: t.devices.model, kind: "optional", maxLength: 120 },
    { name: "sku", label: t.edit.sku, kind: "optional", maxLength: 60 },
    { name: "min_quantity", label: t.stock.minimum, kind: "int" },
  ];
  if (money) {
    fields.push({ name: "price_cents", label: t.stock.priceInput, kind: "cents" });
    fields.push({ name: "cost_cents", label: t.edit.cost, kind: "cents" });
  }
  return fields;
}

/** The parts catalogue and the shelf: search, low stock, receive and count; a technician sees no prices. */
export function StockPage() {
  const { api } = usePanel();
  const role = useTokens()?.role ?? null;
  const money = seesMoney(role);
  const [query, setQuery] = useState("");
  const [search, setSearch] = useState("");
  const [low, setLow] = useState(false);
  const parts = useLoad(
    () =>
      call(
        api.GET("/parts", {
          params: {
            query: { limit: 100, ...(search.length >= 2 ? { q: search } : {}), ...(low ? { low_stock: true } : {}) },
          },
        }),
      ),
    [api, search, low],
  );
  const canWrite = role !== "attendant";
  return (
    <div>
      <h1>{t.stock.title}</h1>
      <form
        role="search"
        className="filters"
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          setSearch(query.trim());
        }}
      >
        <Field label={t.stock.search} id="s-search">
          <span className="inline">
            <input id="s-search" type="search" value={query} onChange={(e) => setQuery(e.target.value)} />
            <button type="submit">Buscar</button>
          </span>
        </Field>
        <label className="check">
          <input type="checkbox" checked={low} onChange={(e) => setLow(e.target.checked)} /> {t.stock.lowOnly}
        </label>
      </form>
      <Section title={t.stock.parts} id="parts">
        <ErrorNote message={parts.error} />
        <Loading when={parts.loading && !parts.data} />
        {parts.data && parts.data.items.length === 0 ? <p className="muted">{t.stock.none}</p> : null}
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t.stock.name}</th>
                <th scope="col" className="num">
                  {t.stock.available}
                </th>
                <th scope="col" className="num">
                  {t.stock.reserved}
                </th>
                {money ? (
                  <th scope="col" className="num">
                    {t.stock.price}
                  </th>
                ) : null}
                {canWrite ? (
                  <th scope="col">
                    <span className="sr-only">{t.stock.move}</span>
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {(parts.data?.items ?? []).map((p) => (
                <PartRow key={p.id} part={p} money={money} canWrite={canWrite} onChanged={parts.reload} />
              ))}
            </tbody>
          </table>
        </div>
      </Section>
      {canWrite ? <NewPart money={money} managers={managesShop(role)} onCreated={parts.reload} /> : null}
    </div>
  );
}

function PartRow({
  part,
  money,
  canWrite,
  onChanged,
}: {
  part: Part;
  money: boolean;
  canWrite: boolean;
  onChanged: () => void;
}) {
  const { api } = usePanel();
  const [open, setOpen] = useState(false);
  const [kind, setKind] = useState<"receive" | "adjust">("receive");
  const [quantity, setQuantity] = useState("1");
  const move = useAction(async () => {
    const n = Number.parseInt(quantity, 10);
    if (!Number.isSafeInteger(n) || n < 0) throw new Problem(t.stock.badQuantity);
    await call(
      api.POST("/parts/{part_id}/movements", { params: { path: { part_id: part.id } }, body: { kind, quantity: n } }),
    );
    setOpen(false);
    onChanged();
  });
  const low = part.available <= part.min_quantity;
  const columns = 3 + (money ? 1 : 0) + (canWrite ? 1 : 0);
  const id = `move-${part.id}`;
  return (
    <>
      <tr>
        <td>
          {part.name}
          <div className="small muted">{[part.brand, part.model, part.sku].filter(Boolean).join(" · ")}</div>
        </td>
        <td className={`num${low ? " low" : ""}`}>
          {part.available}
          {low ? <span className="sr-only"> ({t.stock.low})</span> : null}
        </td>
        <td className="num">{part.reserved}</td>
        {money ? <td className="num">{formatCents(part.price_cents)}</td> : null}
        {canWrite ? (
          <td>
            <button type="button" aria-expanded={open} aria-controls={id} onClick={() => setOpen(!open)}>
              {t.stock.move}
            </button>{" "}
            <Editor
              id={`edit-part-${part.id}`}
              what={`a peça ${part.name}`}
              fields={partFields(money)}
              record={part}
              save={(body) =>
                call(
                  api.PATCH("/parts/{part_id}", {
                    params: { path: { part_id: part.id } },
                    body: body as PartPatch,
                  }),
                )
              }
              onSaved={onChanged}
              onReload={onChanged}
            />
          </td>
        ) : null}
      </tr>
      {open ? (
        <tr>
          <td colSpan={columns}>
            <form
              id={id}
              className="subform"
              onSubmit={(e) => {
                e.preventDefault();
                void move.run();
              }}
            >
              <Field label={t.stock.kind} id={`${id}-kind`}>
                <select
                  id={`${id}-kind`}
                  value={kind}
                  onChange={(e) => setKind(e.target.value as "receive" | "adjust")}
                >
                  <option value="receive">{t.stock.receive}</option>
                  <option value="adjust">{t.stock.adjust}</option>
                </select>
              </Field>
              <Field label={t.stock.quantity} id={`${id}-qty`}>
                <input
                  id={`${id}-qty`}
                  type="number"
                  min={0}
                  required
                  value={quantity}
                  onChange={(e) => setQuantity(e.target.value)}
                />
              </Field>
              <ErrorNote message={move.error} />
              <button type="submit" className="primary" disabled={move.busy}>
                {t.save}
              </button>
            </form>
          </td>
        </tr>
      ) : null}
    </>
  );
}

function NewPart({ money, managers, onCreated }: { money: boolean; managers: boolean; onCreated: () => void }) {
  const { api } = usePanel();
  const [name, setName] = useState("");
  const [brand, setBrand] = useState("");
  const [model, setModel] = useState("");
  const [quantity, setQuantity] = useState("0");
  const [minimum, setMinimum] = useState("0");
  const [price, setPrice] = useState("");
  const create = useAction(async () => {
    const cents = money ? parseReais(price) : 0;
    if (cents === null) throw new Problem(t.errors.money);
    await call(
      api.POST("/parts", {
        body: {
          name: name.trim(),
          brand: brand.trim() || null,
          model: model.trim() || null,
          quantity: Number.parseInt(quantity, 10) || 0,
          min_quantity: Number.parseInt(minimum, 10) || 0,
          price_cents: cents,
        },
      }),
    );
    setName("");
    setBrand("");
    setModel("");
    setQuantity("0");
    setPrice("");
    onCreated();
  });
  return (
    <Section title={t.stock.new} id="new-part">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void create.run();
        }}
      >
        <div className="filters">
          <Field label={t.stock.name} id="p-name">
            <input id="p-name" required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />
          </Field>
          <Field label={t.devices.brand} id="p-brand">
            <input id="p-brand" value={brand} onChange={(e) => setBrand(e.target.value)} />
          </Field>
          <Field label={t.devices.model} id="p-model">
            <input id="p-model" value={model} onChange={(e) => setModel(e.target.value)} />
          </Field>
          <Field label={t.stock.quantity} id="p-qty">
            <input id="p-qty" type="number" min={0} value={quantity} onChange={(e) => setQuantity(e.target.value)} />
          </Field>
          <Field label={t.stock.minimum} id="p-min">
            <input id="p-min" type="number" min={0} value={minimum} onChange={(e) => setMinimum(e.target.value)} />
          </Field>
          {money ? (
            <Field label={t.stock.priceInput} id="p-price">
              <input
                id="p-price"
                inputMode="decimal"
                required={managers}
                value={price}
                onChange={(e) => setPrice(e.target.value)}
              />
            </Field>
          ) : null}
        </div>
        <ErrorNote message={create.error} />
        <button type="submit" className="primary" disabled={create.busy}>
          {t.stock.create}
        </button>
      </form>
    </Section>
  );
}
