// The signed-in staff member and their access token, kept in memory only (never localStorage):
// a reload signs in again from the HttpOnly refresh cookie (POST /auth/web/refresh), which
// JavaScript cannot read. The cookie routes need the X-Requested-With header (CSRF).

import type { components } from "./schema";

export const API = "/api/v1";
export const CSRF_HEADER = { "X-Requested-With": "homeplans-admin" } as const;

export type Role = "admin" | "support" | "customer" | "technician";

export interface StaffUser {
  id: string;
  name: string | null;
  email: string | null;
  roles: Role[];
}

export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail: string;
  errors?: { field: string; in?: string | null; message: string; type?: string | null }[];
}

// The answer of /auth/web/login and /auth/web/refresh, as the API's OpenAPI document says.
type WebSession = components["schemas"]["WebSessionOut"];

type Listener = (user: StaffUser | null) => void;

let accessToken: string | null = null;
let currentUser: StaffUser | null = null;
let refreshing: Promise<boolean> | null = null;
const listeners = new Set<Listener>();

function normalise(user: WebSession["user"]): StaffUser {
  return { id: user.id, name: user.name, email: user.email, roles: [...(user.roles ?? [])] as Role[] };
}

function set(session: WebSession | null): void {
  accessToken = session?.access_token ?? null;
  currentUser = session ? normalise(session.user) : null;
  listeners.forEach((l) => l(currentUser));
}

export function token(): string | null {
  return accessToken;
}

export function user(): StaffUser | null {
  return currentUser;
}

export function onChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** A problem+json body, or one made up from the status when the body is not one. */
export async function problemOf(response: Response): Promise<Problem> {
  try {
    const body = await response.clone().json();
    if (body && typeof body === "object" && "detail" in body) return body as Problem;
  } catch {
    // not JSON: fall through
  }
  return {
    title: response.statusText || "Error",
    status: response.status,
    detail: `The server answered ${response.status}. Try again; if it goes on, check the API's log.`,
  };
}

export async function signIn(
  identifier: string,
  password: string,
): Promise<{ ok: true; user: StaffUser } | { ok: false; problem: Problem }> {
  const response = await fetch(`${API}/auth/web/login`, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", ...CSRF_HEADER },
    body: JSON.stringify({ identifier, password }),
  });
  if (!response.ok) return { ok: false, problem: await problemOf(response) };
  set((await response.json()) as WebSession);
  return { ok: true, user: currentUser! };
}

/** Trade the refresh cookie for a new access token (the cookie rotates). One at a time: every
 * caller that meets a 401 meanwhile waits for the same answer. False when signed out. */
export function refresh(): Promise<boolean> {
  refreshing ??= (async () => {
    try {
      const response = await fetch(`${API}/auth/web/refresh`, {
        method: "POST",
        credentials: "same-origin",
        headers: { ...CSRF_HEADER },
      });
      if (!response.ok) {
        set(null);
        return false;
      }
      set((await response.json()) as WebSession);
      return true;
    } catch {
      set(null);
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

export async function signOut(): Promise<void> {
  try {
    await fetch(`${API}/auth/web/logout`, {
      method: "POST",
      credentials: "same-origin",
      headers: { ...CSRF_HEADER, ...(accessToken ? { Authorization: `Bearer ${accessToken}` } : {}) },
    });
  } finally {
    set(null);
  }
}

/** fetch with the bearer token; on a 401, refresh once and try again; still 401 -> signed out
 * (the app then shows the sign-in page). */
export async function authedFetch(input: Request): Promise<Response> {
  const retry = input.clone();
  const withToken = (request: Request): Request => {
    const headers = new Headers(request.headers);
    if (accessToken) headers.set("Authorization", `Bearer ${accessToken}`);
    return new Request(request, { headers });
  };
  const first = await fetch(withToken(input));
  if (first.status !== 401) return first;
  if (!(await refresh())) return first;
  const second = await fetch(withToken(retry));
  if (second.status === 401) set(null);
  return second;
}

export function toQuery(params: Record<string, unknown>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "") continue;
    search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}
