import { useState } from "react";

import { call } from "../api/client";
import { Problem } from "../api/errors";
import type { components } from "../api/schema";
import { ErrorNote, Field, Loading, Section } from "../components";
import { useAction, useLoad, usePanel, useTokens } from "../context";
import { formatCents, parseReais } from "../format";
import { deviceTypeLabel, t } from "../i18n";
import { managesShop } from "../roles";

type DeviceType = components["schemas"]["PriceRuleIn"]["device_type"];

/** Service prices (type × brand × model, the most specific wins) and loyalty discounts. */
export function PricesPage() {
  const role = useTokens()?.role ?? null;
  return managesShop(role) ? <Prices /> : <p className="notice">{t.errors.forbidden}</p>;
}

function Prices() {
  const { api } = usePanel();
  const rules = useLoad(() => call(api.GET("/price-rules")), [api]);
  const discounts = useLoad(() => call(api.GET("/discount-rules")), [api]);
  const remove = useAction(async (id: string) => {
    await call(api.DELETE("/price-rules/{rule_id}", { params: { path: { rule_id: id } } }));
    rules.reload();
  });
  return (
    <div>
      <h1>{t.prices.title}</h1>
      <div className="two-columns">
        <Section title={t.prices.rules} id="price-rules">
          <ErrorNote message={rules.error ?? remove.error} />
          <Loading when={rules.loading && !rules.data} />
          {rules.data && rules.data.items.length === 0 ? <p className="muted">{t.prices.none}</p> : null}
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">{t.prices.service}</th>
                  <th scope="col">{t.prices.appliesTo}</th>
                  <th scope="col" className="num">
                    {t.stock.price}
                  </th>
                  <th scope="col">
                    <span className="sr-only">{t.prices.remove}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {(rules.data?.items ?? []).map((r) => (
                  <tr key={r.id}>
                    <td>{r.service}</td>
                    <td>
                      {[deviceTypeLabel[r.device_type as DeviceType] ?? r.device_type, r.brand, r.model]
                        .filter(Boolean)
                        .join(" · ")}
                    </td>
                    <td className="num">{formatCents(r.price_cents)}</td>
                    <td>
                      <button
                        type="button"
                        className="danger"
                        disabled={remove.busy}
                        aria-label={`${t.prices.remove}: ${r.service}`}
                        onClick={() => void remove.run(r.id)}
                      >
                        {t.prices.remove}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <NewRule onCreated={rules.reload} />
        </Section>
        <Section title={t.prices.discounts} id="discount-rules">
          <ErrorNote message={discounts.error} />
          {discounts.data && discounts.data.items.length === 0 ? <p className="muted">{t.prices.noDiscounts}</p> : null}
          <ul className="rows">
            {(discounts.data?.items ?? []).map((d) => (
              <li key={d.id}>
                <strong>{d.name}</strong>: {d.percent.toLocaleString("pt-BR")}% {t.prices.forCustomersOf(d.min_days)}
                {d.active ? "" : ` (${t.users.inactive})`}
              </li>
            ))}
          </ul>
          <NewDiscount onCreated={discounts.reload} />
        </Section>
      </div>
    </div>
  );
}

function NewRule({ onCreated }: { onCreated: () => void }) {
  const { api } = usePanel();
  const [service, setService] = useState("");
  const [type, setType] = useState<DeviceType>("phone");
  const [brand, setBrand] = useState("");
  const [model, setModel] = useState("");
  const [price, setPrice] = useState("");
  const create = useAction(async () => {
    const cents = parseReais(price);
    if (cents === null) throw new Problem(t.errors.money);
    await call(
      api.POST("/price-rules", {
        body: {
          service: service.trim(),
          device_type: type,
          brand: brand.trim() || null,
          model: model.trim() || null,
          price_cents: cents,
        },
      }),
    );
    setService("");
    setBrand("");
    setModel("");
    setPrice("");
    onCreated();
  });
  return (
    <form
      className="subform"
      aria-labelledby="new-rule-title"
      onSubmit={(e) => {
        e.preventDefault();
        void create.run();
      }}
    >
      <h3 id="new-rule-title">{t.prices.newRule}</h3>
      <Field label={t.prices.service} id="pr-service">
        <input id="pr-service" required minLength={2} value={service} onChange={(e) => setService(e.target.value)} />
      </Field>
      <Field label={t.devices.type} id="pr-type">
        <select id="pr-type" value={type} onChange={(e) => setType(e.target.value as DeviceType)}>
          {(Object.keys(deviceTypeLabel) as DeviceType[]).map((k) => (
            <option key={k} value={k}>
              {deviceTypeLabel[k]}
            </option>
          ))}
        </select>
      </Field>
      <Field label={t.prices.brandAny} id="pr-brand">
        <input id="pr-brand" value={brand} onChange={(e) => setBrand(e.target.value)} />
      </Field>
      <Field label={t.prices.modelAny} id="pr-model">
        <input id="pr-model" value={model} onChange={(e) => setModel(e.target.value)} />
      </Field>
      <Field label={t.quote.price} id="pr-price">
        <input id="pr-price" required inputMode="decimal" value={price} onChange={(e) => setPrice(e.target.value)} />
      </Field>
      <ErrorNote message={create.error} />
      <button type="submit" className="primary" disabled={create.busy}>
        {t.prices.createRule}
      </button>
    </form>
  );
}

function NewDiscount({ onCreated }: { onCreated: () => void }) {
  const { api } = usePanel();
  const [name, setName] = useState("");
  const [days, setDays] = useState("365");
  const [percent, setPercent] = useState("5");
  const create = useAction(async () => {
    // The API takes the percentage as a decimal string too: no float round trip for "7,5".
    await call(
      api.POST("/discount-rules", {
        body: { name: name.trim(), min_days: Number.parseInt(days, 10), percent: percent.replace(",", ".") },
      }),
    );
    setName("");
    onCreated();
  });
  return (
    <form
      className="subform"
      aria-labelledby="new-discount-title"
      onSubmit={(e) => {
        e.preventDefault();
        void create.run();
      }}
    >
      <h3 id="new-discount-title">{t.prices.newDiscount}</h3>
      <Field label={t.prices.discountName} id="dr-name">
        <input id="dr-name" required minLength={2} value={name} onChange={(e) => setName(e.target.value)} />
      </Field>
      <Field label={t.prices.minDays} id="dr-days">
        <input id="dr-days" type="number" min={1} required value={days} onChange={(e) => setDays(e.target.value)} />
      </Field>
      <Field label={t.prices.percent} id="dr-percent">
        <input
          id="dr-percent"
          inputMode="decimal"
          required
          value={percent}
          onChange={(e) => setPercent(e.target.value)}
        />
      </Field>
      <ErrorNote message={create.error} />
      <button type="submit" className="primary" disabled={create.busy}>
        {t.prices.createDiscount}
      </button>
    </form>
  );
}
