// The panel's run-time configuration: /config.json, served beside index.html by whatever hosts the
// panel (CloudFront in prod, the local edge stand-in), so one build runs on every stage. Anything
// missing falls back to the build-time default: the API same-origin under /api, no live updates.

export interface RuntimeConfig {
  /** Where the REST API answers, without a trailing slash ("/api", or an absolute URL in dev). */
  apiBase: string;
  /** The WebSocket API's URL (wss://…), or null when this stage has none (the board then polls). */
  wsUrl: string | null;
}

export const BUILD_API_BASE: string = import.meta.env?.VITE_API_BASE ?? "/api";

function trimSlash(value: string): string {
  return value.replace(/\/+$/, "");
}

export function parseConfig(raw: unknown, fallbackApiBase: string = BUILD_API_BASE): RuntimeConfig {
  const object = raw !== null && typeof raw === "object" ? (raw as Record<string, unknown>) : {};
  const apiBase =
    typeof object.apiBase === "string" && object.apiBase.trim() !== "" ? object.apiBase.trim() : fallbackApiBase;
  const ws = object.wsUrl;
  const wsUrl = typeof ws === "string" && /^wss?:\/\//.test(ws.trim()) ? ws.trim() : null;
  return { apiBase: trimSlash(apiBase) || "", wsUrl };
}

export async function loadConfig(fetchImpl: typeof fetch = fetch): Promise<RuntimeConfig> {
  try {
    const response = await fetchImpl("/config.json", { cache: "no-store" });
    if (!response.ok) return parseConfig(null);
    return parseConfig(await response.json());
  } catch {
    return parseConfig(null);
  }
}
