import { createContext, useCallback, useContext, useEffect, useState, useSyncExternalStore } from "react";

import type { Api } from "./api/client";
import { messageOf } from "./api/errors";
import type { Session, Tokens } from "./api/session";
import type { RuntimeConfig } from "./config";

export interface Panel {
  config: RuntimeConfig;
  session: Session;
  api: Api;
}

const PanelContext = createContext<Panel | null>(null);
export const PanelProvider = PanelContext.Provider;

export function usePanel(): Panel {
  const panel = useContext(PanelContext);
  if (!panel) throw new Error("PanelProvider missing");
  return panel;
}

export function useTokens(): Tokens | null {
  const { session } = usePanel();
  return useSyncExternalStore(
    (listener) => session.onChange(listener),
    () => session.current,
  );
}

export interface Loaded<T> {
  data: T | undefined;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` when `deps` change (and on reload()), keeping the last data while reloading. */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setLoading(true);
    load().then(
      (value) => {
        if (!live) return;
        setData(value);
        setError(null);
        setLoading(false);
      },
      (failure: unknown) => {
        if (!live) return;
        setError(messageOf(failure));
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { data, error, loading, reload };
}

/** A form's submit: busy while it runs, the API's pt-BR message when it fails. */
export function useAction<A extends unknown[]>(
  action: (...args: A) => Promise<void>,
): {
  run: (...args: A) => Promise<boolean>;
  busy: boolean;
  error: string | null;
  setError: (e: string | null) => void;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (...args: A) => {
    setBusy(true);
    setError(null);
    try {
      await action(...args);
      return true;
    } catch (failure) {
      setError(messageOf(failure));
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { run, busy, error, setError };
}
