import createClient from "openapi-fetch";

import { ApiError, toApiError } from "./errors";
import type { paths } from "./schema";
import type { Session } from "./session";

export type Api = ReturnType<typeof createApi>;

/** The typed client generated from the committed OpenAPI: a path or body the API no longer has
 * fails `tsc`, and so the build. */
export function createApi(session: Session) {
  return createClient<paths>({ baseUrl: session.apiBase, fetch: session.fetch });
}

interface Answer<D> {
  data?: D;
  error?: unknown;
  response: Response;
}

/** The answer's data, or the API's refusal thrown as an ApiError (a dropped connection is status 0). */
export async function call<D>(pending: Promise<Answer<D>>): Promise<D> {
  let answer: Answer<D>;
  try {
    answer = await pending;
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw toApiError(0, null);
  }
  if (!answer.response.ok || answer.error !== undefined) throw toApiError(answer.response.status, answer.error);
  return answer.data as D;
}
