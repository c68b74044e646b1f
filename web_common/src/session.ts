// The signed-in user and their access token, kept in memory only (never localStorage): a reload
// signs in again from the app's HttpOnly refresh cookie, which JavaScript cannot read. The
// routes that act on the cookie need the app's X-Requested-With header (CSRF). Each app (the
// admin panel, the customer app) makes one session with its own routes and header.
import type { components } from "./schema";
import { problemOf, type Problem } from "./problems";

export const API = "/api/v1";

/** An account's role, as the API's OpenAPI document says. */
export type Role = components["schemas"]["Role"];

export interface SessionUser {
  id: string;
  name: string | null;
  email: string | null;
  roles: Role[];
}

// The answer of a cookie sign-in and of its refresh, as the API's OpenAPI document says.
export type WebSession = components["schemas"]["WebSessionOut"];

export interface SessionConfig {
  /** Where the app's cookie routes are: `/auth/web` (admin panel), `/auth/app` (customer app). */
  routes: string;
  /** The value of X-Requested-With the API expects from this app. */
  csrf: string;
}

type Listener = (user: SessionUser | null) => void;

export interface Session {
  csrfHeader: Record<string, string>;
  token(): string | null;
  user(): SessionUser | null;
  onChange(listener: Listener): () => void;
  /** Take the session an answer of a cookie route carries (sign-in, sign-up, phone code). */
  adopt(session: WebSession): SessionUser;
  /** POST a sign-in body to one of the app's cookie routes (`/login`, `/register`, ...). */
  signInWith<T extends WebSession>(
    path: string,
    body: unknown,
  ): Promise<{ ok: true; session: T; user: SessionUser } | { ok: false; problem: Problem }>;
  signIn(
    identifier: string,
    password: string,
  ): Promise<{ ok: true; user: SessionUser } | { ok: false; problem: Problem }>;
  refresh(): Promise<boolean>;
  signOut(): Promise<void>;
  /** fetch with the bearer token; on a 401, refresh once and try again. */
  authedFetch(input: Request): Promise<Response>;
}

export function createSession(config: SessionConfig): Session {
  const csrfHeader = { "X-Requested-With": config.csrf };
  let accessToken: string | null = null;
  let currentUser: SessionUser | null = null;
  let refreshing: Promise<boolean> | null = null;
  const listeners = new Set<Listener>();

  const set = (session: WebSession | null): void => {
    accessToken = session?.access_token ?? null;
    currentUser = session
      ? {
          id: session.user.id,
          name: session.user.name,
          email: session.user.email,
          roles: [...(session.user.roles ?? [])],
        }
      : null;
    listeners.forEach((l) => l(currentUser));
  };

  const post = (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${API}${config.routes}${path}`, {
      method: "POST",
      credentials: "same-origin",
      ...init,
      headers: { ...csrfHeader, ...(init.headers ?? {}) },
    });

  const session: Session = {
    csrfHeader,
    token: () => accessToken,
    user: () => currentUser,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    adopt(next) {
      set(next);
      return currentUser!;
    },
    async signInWith<T extends WebSession>(path: string, body: unknown) {
      const response = await post(path, {
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      if (!response.ok) return { ok: false as const, problem: await problemOf(response) };
      const answer = (await response.json()) as T;
      set(answer);
      return { ok: true as const, session: answer, user: currentUser! };
    },
    async signIn(identifier, password) {
      const done = await session.signInWith("/login", { identifier, password });
      return done.ok ? { ok: true, user: done.user } : done;
    },
    /** Trade the refresh cookie for a new access token (the cookie rotates). One at a time:
     * every caller that meets a 401 meanwhile waits for the same answer. False: signed out. */
    refresh() {
      refreshing ??= (async () => {
        try {
          const response = await post("/refresh");
          // 204: no session cookie (a signed-out load); 401: one that no longer works.
          if (!response.ok || response.status === 204) {
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
    },
    async signOut() {
      try {
        await post("/logout", accessToken ? { headers: { Authorization: `Bearer ${accessToken}` } } : {});
      } finally {
        set(null);
      }
    },
    async authedFetch(input) {
      const retry = input.clone();
      const withToken = (request: Request): Request => {
        const headers = new Headers(request.headers);
        if (accessToken) headers.set("Authorization", `Bearer ${accessToken}`);
        return new Request(request, { headers });
      };
      const first = await fetch(withToken(input));
      if (first.status !== 401) return first;
      if (!(await session.refresh())) return first;
      const second = await fetch(withToken(retry));
      if (second.status === 401) set(null);
      return second;
    },
  };
  return session;
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
