// The typed client: openapi-fetch over the paths generated from the API's OpenAPI document
// (web_common/src/schema.d.ts, `make openapi`), so a changed API breaks `npm run build`.
import type { components, paths } from "@homeplans/web-common/schema";
import createClient from "openapi-fetch";
import { authedFetch } from "./session";

export { unwrap } from "@homeplans/web-common/problems";

export const api = createClient<paths>({ baseUrl: "", fetch: authedFetch });

export type Schemas = components["schemas"];

/** The JSON answer of a route that can also answer a CSV file (`format=csv`, which the screens
 * download instead): its schema types the data as either. */
export function json<T extends object>(data: T | string): T {
  if (typeof data === "string") throw new Error("expected JSON, got text: ask without format=csv");
  return data;
}
