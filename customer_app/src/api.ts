// The app's link to the API: its cookie session (/auth/app, CSRF header homeplans-app), the
// typed client over the shared schema, and the public client for the catalog (sent without a
// token, so the service worker and the browser can cache it for everyone).
import { isProblem, unwrap, type Problem } from "@homeplans/web-common/problems";
import type { components, paths } from "@homeplans/web-common/schema";
import { createSession } from "@homeplans/web-common/session";
import createClient from "openapi-fetch";

export { unwrap, isProblem, type Problem };
export type Schemas = components["schemas"];

export const session = createSession({ routes: "/auth/app", csrf: "homeplans-app" });

export const api = createClient<paths>({ baseUrl: "", fetch: session.authedFetch });
export const publicApi = createClient<paths>({ baseUrl: "" });

/** A fresh key for a POST that must not be done twice (checkout, a visit, a renewal). */
export function idempotencyKey(): string {
  return crypto.randomUUID();
}
