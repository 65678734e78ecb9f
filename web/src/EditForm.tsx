import { useEffect, useRef, useState } from "react";

import { messageOf } from "./api/errors";
import { ErrorNote, Field, Notice } from "./components";
import { type Draft, draftOf, type EditField, patchOf, saveFailure, staleVersion } from "./editing";
import { t } from "./i18n";

interface Versioned {
  version: number;
}

/** A record's edit form: opens from its "Editar" button (aria-expanded), puts the focus on the
 * first field, Esc closes it and gives the focus back to the button; sends only what changed with
 * the version read, and on a 409 explains in pt-BR and offers the current data. */
export function Editor<R extends Versioned>({
  id,
  what,
  fields,
  record,
  save,
  onSaved,
  onReload,
}: {
  id: string;
  what: string;
  fields: readonly EditField[];
  record: R;
  save: (body: Record<string, unknown> & { version: number }) => Promise<unknown>;
  onSaved: () => void;
  onReload: () => void;
}) {
  const [open, setOpen] = useState(false);
  const toggle = useRef<HTMLButtonElement>(null);
  return (
    <span className="editor">
      <button
        ref={toggle}
        type="button"
        aria-expanded={open}
        aria-controls={id}
        aria-label={t.edit.editing(what)}
        onClick={() => setOpen(!open)}
      >
        {t.edit.edit}
      </button>
      {open ? (
        <EditForm
          id={id}
          what={what}
          fields={fields}
          record={record as unknown as Record<string, unknown> & Versioned}
          save={save}
          onSaved={() => {
            onSaved();
          }}
          onReload={onReload}
          onClose={() => {
            setOpen(false);
            toggle.current?.focus();
          }}
        />
      ) : null}
    </span>
  );
}

function EditForm({
  id,
  what,
  fields,
  record,
  save,
  onSaved,
  onReload,
  onClose,
}: {
  id: string;
  what: string;
  fields: readonly EditField[];
  record: Record<string, unknown> & Versioned;
  save: (body: Record<string, unknown> & { version: number }) => Promise<unknown>;
  onSaved: () => void;
  onReload: () => void;
  onClose: () => void;
}) {
  const [draft, setDraft] = useState<Draft>(() => draftOf(fields, record));
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [stale, setStale] = useState(false);
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);

  useEffect(() => {
    form.current?.querySelector<HTMLElement>("input, select, textarea")?.focus();
  }, []);

  // The record read again (after a save or "Carregar os dados atuais"): the form starts from it.
  const version = record.version;
  const seen = useRef(version);
  useEffect(() => {
    if (seen.current === version) return;
    seen.current = version;
    setDraft(draftOf(fields, record));
    if (stale) {
      setStale(false);
      setError(null);
      setNotice(t.edit.reloaded);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [version]);

  async function submit() {
    setError(null);
    setNotice(null);
    const patch = patchOf(fields, record, draft);
    if (!patch.ok) {
      setError(patch.message);
      document.getElementById(`${id}-${patch.field}`)?.focus();
      return;
    }
    if (Object.keys(patch.body).length === 0) {
      setNotice(t.edit.nothing);
      return;
    }
    setBusy(true);
    try {
      await save({ ...patch.body, version: record.version });
      setNotice(t.edit.saved);
      onSaved();
    } catch (failure) {
      setStale(staleVersion(failure) !== undefined);
      setError(saveFailure(failure, messageOf(failure)));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form
      id={id}
      ref={form}
      className="subform edit-form"
      aria-label={t.edit.editing(what)}
      onKeyDown={(e) => {
        if (e.key === "Escape") {
          e.preventDefault();
          onClose();
        }
      }}
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      {fields.map((field) => {
        const inputId = `${id}-${field.name}`;
        const value = draft[field.name] ?? "";
        const set = (next: string) => setDraft((d) => ({ ...d, [field.name]: next }));
        return (
          <Field key={field.name} label={field.label} id={inputId}>
            {field.kind === "choice" ? (
              <select id={inputId} value={value} onChange={(e) => set(e.target.value)}>
                {(field.options ?? []).map(([v, label]) => (
                  <option key={v} value={v}>
                    {label}
                  </option>
                ))}
              </select>
            ) : field.multiline ? (
              <textarea id={inputId} maxLength={field.maxLength} value={value} onChange={(e) => set(e.target.value)} />
            ) : (
              <input
                id={inputId}
                type={field.inputType ?? "text"}
                inputMode={
                  field.kind === "int"
                    ? "numeric"
                    : field.kind === "cents" || field.kind === "percent"
                      ? "decimal"
                      : undefined
                }
                required={field.kind === "text"}
                maxLength={field.maxLength}
                value={value}
                onChange={(e) => set(e.target.value)}
              />
            )}
          </Field>
        );
      })}
      <ErrorNote message={error} />
      <Notice message={notice} />
      <span className="inline">
        <button type="submit" className="primary" disabled={busy}>
          {t.edit.save}
        </button>
        {stale ? (
          <button type="button" onClick={onReload}>
            {t.edit.reload}
          </button>
        ) : null}
        <button type="button" onClick={onClose}>
          {t.edit.close}
        </button>
      </span>
    </form>
  );
}
