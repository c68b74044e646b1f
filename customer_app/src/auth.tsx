// Who is signed in. On load the app's refresh cookie is traded for an access token (a reload
// keeps the session without storing a token anywhere a script could read it); until that
// answers, the app shows its loader.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import type { SessionUser } from "@homeplans/web-common/session";
import { createContext, useContext, useEffect, useState, type ReactNode } from "react";
import { Navigate, useLocation } from "react-router";
import { api, publicApi, session, unwrap } from "./api";
import { Loading } from "./ui";

interface AuthState {
  ready: boolean;
  user: SessionUser | null;
}

const AuthContext = createContext<AuthState>({ ready: false, user: null });

export function AuthProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<AuthState>({ ready: false, user: session.user() });
  const queries = useQueryClient();
  useEffect(() => {
    const off = session.onChange((user) => {
      setState({ ready: true, user });
      if (!user) queries.removeQueries({ predicate: (q) => q.queryKey[0] !== "catalog" });
    });
    void session.refresh().finally(() => setState({ ready: true, user: session.user() }));
    return () => {
      off();
    };
  }, [queries]);
  return <AuthContext.Provider value={state}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  return useContext(AuthContext);
}

export const isTechnician = (user: SessionUser | null) => !!user?.roles.includes("technician");

/** The page only for someone signed in; others go to sign in, and come back after. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const { ready, user } = useAuth();
  const location = useLocation();
  if (!ready) return <Loading />;
  if (!user) return <Navigate to={`/sign-in?next=${encodeURIComponent(location.pathname + location.search)}`} replace />;
  return <>{children}</>;
}

/** The account as the API has it (contacts confirmed or not). */
export function useMe() {
  const { user } = useAuth();
  return useQuery({
    queryKey: ["me", user?.id],
    queryFn: () => unwrap(api.GET("/api/v1/me")),
    enabled: !!user,
  });
}

/** The server's public configuration: the business's zone, currency, providers. */
export function useConfig() {
  return useQuery({
    queryKey: ["catalog", "config"],
    queryFn: () => unwrap(publicApi.GET("/api/v1/app/config")),
    staleTime: 5 * 60_000,
  });
}

/** The zone times are shown in: the customer's own (their notification settings), else the
 * business's. */
export function useZone(): string {
  const { user } = useAuth();
  const config = useConfig();
  const settings = useQuery({
    queryKey: ["notification-settings", user?.id],
    queryFn: () => unwrap(api.GET("/api/v1/me/notification-settings")),
    enabled: !!user,
    staleTime: 5 * 60_000,
  });
  return settings.data?.time_zone ?? config.data?.time_zone ?? "Asia/Kolkata";
}
