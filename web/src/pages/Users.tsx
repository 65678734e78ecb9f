import { useState } from "react";

import { call } from "../api/client";
import type { components } from "../api/schema";
import { ErrorNote, Field, Loading, Section } from "../components";
import { Editor } from "../EditForm";
import { useAction, useLoad, usePanel, useTokens } from "../context";
import { type EditField, explainConflict } from "../editing";
import { roleLabel, t } from "../i18n";
import { managesShop } from "../roles";

type NewRole = components["schemas"]["UserCreateIn"]["role"];
type User = components["schemas"]["UserOut"];
type UserPatch = components["schemas"]["UserUpdateIn"];

const ASSIGNABLE = ["admin", "technician", "attendant"] as const;

/** The owner's role is not for the panel to change: only the name is offered for them. */
export function userFields(user: { role: string }): EditField[] {
  const fields: EditField[] = [{ name: "name", label: t.users.name, kind: "text", maxLength: 120 }];
  if (user.role !== "owner") {
    fields.push({
      name: "role",
      label: t.users.role,
      kind: "choice",
      options: ASSIGNABLE.map((r) => [r, roleLabel[r]] as const),
    });
  }
  return fields;
}

export function UsersPage() {
  const { api } = usePanel();
  const role = useTokens()?.role ?? null;
  const users = useLoad(() => call(api.GET("/users", { params: { query: { limit: 100 } } })), [api]);
  return (
    <div className="two-columns">
      <Section title={t.users.title} id="users">
        <ErrorNote message={users.error} />
        <Loading when={users.loading && !users.data} />
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t.users.name}</th>
                <th scope="col">{t.users.role}</th>
                <th scope="col">Situação</th>
                {managesShop(role) ? (
                  <th scope="col">
                    <span className="sr-only">Ação</span>
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {(users.data?.items ?? []).map((u) => (
                <UserRow key={u.id} user={u} manage={managesShop(role)} onChanged={users.reload} />
              ))}
            </tbody>
          </table>
        </div>
      </Section>
      {managesShop(role) ? <NewUser onCreated={users.reload} /> : null}
    </div>
  );
}

function UserRow({ user, manage, onChanged }: { user: User; manage: boolean; onChanged: () => void }) {
  const { api } = usePanel();
  const toggle = useAction(async () => {
    await explainConflict(
      call(
        api.PATCH("/users/{user_id}", {
          params: { path: { user_id: user.id } },
          body: { active: !user.active, version: user.version },
        }),
      ),
    );
    onChanged();
  });
  return (
    <tr>
      <td>
        {user.name}
        <div className="small muted">{user.email}</div>
      </td>
      <td>{roleLabel[user.role]}</td>
      <td>{user.active ? t.users.active : t.users.inactive}</td>
      {manage ? (
        <td>
          {user.role !== "owner" ? (
            <button type="button" disabled={toggle.busy} onClick={() => void toggle.run()}>
              {user.active ? t.users.deactivate : t.users.activate}
            </button>
          ) : null}{" "}
          <Editor
            id={`edit-user-${user.id}`}
            what={`o usuário ${user.name}`}
            fields={userFields(user)}
            record={user}
            save={(body) =>
              call(
                api.PATCH("/users/{user_id}", {
                  params: { path: { user_id: user.id } },
                  body: body as UserPatch,
                }),
              )
            }
            onSaved={onChanged}
            onReload={onChanged}
          />
          <ErrorNote message={toggle.error} />
        </td>
      ) : null}
    </tr>
  );
}

function NewUser({ onCreated }: { onCreated: () => void }) {
  const { api } = usePanel();
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState<NewRole>("technician");
  const create = useAction(async () => {
    await call(api.POST("/users", { body: { name: name.trim(), email: email.trim(), password, role } }));
    setName("");
    setEmail("");
    setPassword("");
    onCreated();
  });
  return (
    <Section title={t.users.new} id="new-user">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void create.run();
        }}
      >
        <Field label={t.users.name} id="u-name">
          <input id="u-name" required value={name} onChange={(e) => setName(e.target.value)} />
        </Field>
        <Field label={t.users.email} id="u-email">
          <input id="u-email" type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </Field>
        <Field label={t.users.role} id="u-role">
          <select id="u-role" value={role} onChange={(e) => setRole(e.target.value as NewRole)}>
            {(["admin", "technician", "attendant"] as const).map((r) => (
              <option key={r} value={r}>
                {roleLabel[r]}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t.users.password} id="u-password">
          <input
            id="u-password"
            type="password"
            autoComplete="new-password"
            required
            minLength={8}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </Field>
        <ErrorNote message={create.error} />
        <button type="submit" className="primary" disabled={create.busy}>
          {t.users.create}
        </button>
      </form>
    </Section>
  );
}
