// Who is signed in. On load the refresh cookie is traded for an access token (so a reload keeps
// the session without storing a token); until that answers, the app shows a loader.
import { useQueryClient } from "@tanstack/react-query";
import { createContext, useContext, useEffect, useState, type ReactNode } from "react";
import * as session from "../api/session";
import type { Role, StaffUser } from "../api/session";

interface AuthState {
  ready: boolean;
  user: StaffUser | null;
  signIn: typeof session.signIn;
  signOut: () => Promise<void>;
}

const AuthContext = createContext<AuthState | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [ready, setReady] = useState(false);
  const [user, setUser] = useState<StaffUser | null>(session.user());
  const queries = useQueryClient();

  useEffect(() => {
    const off = session.onChange((next) => {
      setUser(next);
      if (!next) queries.clear(); // nothing of one staff member's view survives signing out
    });
    void session.refresh().finally(() => setReady(true));
    return () => {
      off();
    };
  }, [queries]);

  return (
    <AuthContext.Provider
      value={{ ready, user, signIn: session.signIn, signOut: session.signOut }}
    >
      {children}
    </AuthContext.Provider>
  );
}

export function useAuth(): AuthState {
  const state = useContext(AuthContext);
  if (!state) throw new Error("useAuth outside AuthProvider");
  return state;
}

/** What a role may see and do. The API's require_roles is the truth; this only hides what the
 * API would refuse. */
export function can(user: StaffUser | null, ...roles: Role[]): boolean {
  return !!user && user.roles.some((r) => roles.includes(r));
}

export const isAdmin = (user: StaffUser | null) => can(user, "admin");
export const isStaff = (user: StaffUser | null) => can(user, "admin", "support");
