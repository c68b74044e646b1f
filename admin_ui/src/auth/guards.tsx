import type { ReactNode } from "react";
import { Navigate, useLocation } from "react-router";
import type { Role } from "../api/session";
import { Loading, NotAllowed } from "../components/States";
import { can, useAuth } from "./AuthProvider";

export function RequireSignIn({ children }: { children: ReactNode }) {
  const { ready, user } = useAuth();
  const location = useLocation();
  if (!ready) return <Loading what="your session" />;
  if (!user) {
    const next = location.pathname + location.search;
    return <Navigate to={`/signin${next !== "/" ? `?next=${encodeURIComponent(next)}` : ""}`} replace />;
  }
  return <>{children}</>;
}

/** A screen the role may not open says so (a direct URL too); the API refuses it as well. */
export function RequireRole({ roles, children }: { roles: Role[]; children: ReactNode }) {
  const { user } = useAuth();
  if (!can(user, ...roles)) {
    return <NotAllowed detail={`This screen is for: ${roles.join(" or ")}.`} />;
  }
  return <>{children}</>;
}
