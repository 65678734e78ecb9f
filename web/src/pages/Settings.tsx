import { type ReactNode, useEffect, useState } from "react";

import { call } from "../api/client";
import { Problem } from "../api/errors";
import { ErrorNote, Field, Loading, Notice, Section } from "../components";
import { useAction, useLoad, usePanel, useTokens } from "../context";
import { explainConflict } from "../editing";
import { hoursToText, parseHours, WEEKDAYS } from "../hours";
import { t } from "../i18n";
import { managesShop } from "../roles";
import { SettingsNav } from "./SettingsPages";

/** The shop's hours and the bot's greeting (GET/PUT /settings) and the warranty length. */
export function SettingsPage() {
  return (
    <ManagersOnly>
      <Settings />
    </ManagersOnly>
  );
}

/** The settings are the owners' and admins' (the API refuses the others with 403 anyway). */
export function ManagersOnly({ children }: { children: ReactNode }) {
  const role = useTokens()?.role ?? null;
  return managesShop(role) ? children : <p className="notice">{t.errors.forbidden}</p>;
}

function Settings() {
  const { api } = usePanel();
  const settings = useLoad(() => call(api.GET("/settings")), [api]);
  const workflow = useLoad(() => call(api.GET("/settings/order-workflow")), [api]);
  const [hours, setHours] = useState<Record<string, string>>({});
  const [welcome, setWelcome] = useState("");
  const [away, setAway] = useState("");
  const [warranty, setWarranty] = useState("");
  const [saved, setSaved] = useState<string | null>(null);
  useEffect(() => {
    const s = settings.data;
    if (!s) return;
    setHours(Object.fromEntries(WEEKDAYS.map((d) => [d, hoursToText(s.business_hours[d])])));
    setWelcome(s.welcome_message);
    setAway(s.out_of_hours_message);
  }, [settings.data]);
  useEffect(() => {
    if (workflow.data) setWarranty(String(workflow.data.warranty_days));
  }, [workflow.data]);

  const save = useAction(async () => {
    const s = settings.data;
    const w = workflow.data;
    if (!s || !w) return;
    const business: Record<string, string[][]> = {};
    for (const day of WEEKDAYS) {
      const parsed = parseHours(hours[day] ?? "");
      if (parsed === null) throw new Problem(`${t.settings.badHours} (${t.settings.weekdays[day]})`);
      business[day] = parsed;
    }
    await explainConflict(
      call(
        api.PUT("/settings", {
          body: {
            version: s.version,
            timezone: s.timezone,
            logo_url: s.logo_url,
            business_hours: business,
            welcome_message: welcome.trim(),
            out_of_hours_message: away.trim(),
          },
        }),
      ),
    );
    const days = Number.parseInt(warranty, 10);
    if (days !== w.warranty_days) {
      await call(
        api.PUT("/settings/order-workflow", {
          body: { version: w.version, disabled_transitions: w.disabled_transitions, warranty_days: days },
        }),
      );
    }
    setSaved(t.settings.saved);
    settings.reload();
    workflow.reload();
  });

  return (
    <div>
      <h1>{t.settings.title}</h1>
      <SettingsNav />
      <ErrorNote message={settings.error ?? workflow.error} />
      <Loading when={(settings.loading && !settings.data) || (workflow.loading && !workflow.data)} />
      {settings.data && workflow.data ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            setSaved(null);
            void save.run();
          }}
        >
          <div className="two-columns">
            <Section title={t.settings.hours} id="hours">
              <p className="small muted">{t.settings.hoursHelp}</p>
              {WEEKDAYS.map((day) => (
                <Field key={day} label={t.settings.weekdays[day]} id={`h-${day}`}>
                  <input
                    id={`h-${day}`}
                    placeholder={t.settings.closed}
                    value={hours[day] ?? ""}
                    onChange={(e) => setHours({ ...hours, [day]: e.target.value })}
                  />
                </Field>
              ))}
            </Section>
            <Section title={t.settings.messages} id="messages">
              <Field label={t.settings.welcome} id="s-welcome">
                <textarea
                  id="s-welcome"
                  required
                  maxLength={1000}
                  value={welcome}
                  onChange={(e) => setWelcome(e.target.value)}
                />
              </Field>
              <Field label={t.settings.away} id="s-away">
                <textarea
                  id="s-away"
                  required
                  maxLength={1000}
                  value={away}
                  onChange={(e) => setAway(e.target.value)}
                />
              </Field>
              <Field label={t.settings.warranty} id="s-warranty">
                <input
                  id="s-warranty"
                  type="number"
                  min={0}
                  max={3650}
                  required
                  value={warranty}
                  onChange={(e) => setWarranty(e.target.value)}
                />
              </Field>
            </Section>
          </div>
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
