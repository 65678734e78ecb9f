import { type FormEvent, useState } from "react";
import { useLocation, useNavigate } from "react-router";

import { call } from "../api/client";
import { ApiError } from "../api/errors";
import { ErrorNote, Field } from "../components";
import { usePanel } from "../context";
import { t } from "../i18n";

export function LoginPage() {
  const { api, session } = usePanel();
  const navigate = useNavigate();
  const location = useLocation();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const tokens = await call(api.POST("/auth/login", { body: { email: email.trim(), password } }));
      session.set(tokens);
      const from = (location.state as { from?: string } | null)?.from;
      navigate(from && from !== "/entrar" ? from : "/", { replace: true });
    } catch (failure) {
      setError(failure instanceof ApiError && failure.status === 401 ? t.login.failed : (failure as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" className="login">
      <form className="card" onSubmit={(e) => void submit(e)} aria-labelledby="login-title">
        <h1 id="login-title">{t.login.title}</h1>
        <Field label={t.login.email} id="email">
          <input
            id="email"
            type="email"
            autoComplete="username"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
        </Field>
        <Field label={t.login.password} id="password">
          <input
            id="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </Field>
        <ErrorNote message={error} />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? t.login.submitting : t.login.submit}
        </button>
      </form>
    </main>
  );
}
