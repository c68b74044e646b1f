// The typed client: openapi-fetch over the paths generated from the API's OpenAPI document
// (src/api/schema.d.ts, `make openapi`), so a changed API breaks `npm run build`.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";
import { authedFetch, type Problem } from "./session";

export const api = createClient<paths>({ baseUrl: "", fetch: authedFetch });

export type Schemas = components["schemas"];

/** The data of an openapi-fetch answer, or throw its problem (TanStack Query shows it). */
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call;
  if (error !== undefined || !response.ok) {
    const problem = (error ?? {}) as Partial<Problem>;
    throw {
      title: problem.title ?? response.statusText,
      status: problem.status ?? response.status,
      detail: problem.detail ?? `The server answered ${response.status}.`,
      errors: problem.errors,
    } satisfies Problem;
  }
  return data as T;
}

/** The JSON answer of a route that can also answer a CSV file (`format=csv`, which the screens
 * download instead): its schema types the data as either. */
export function json<T extends object>(data: T | string): T {
  if (typeof data === "string") throw new Error("expected JSON, got text: ask without format=csv");
  return data;
}
