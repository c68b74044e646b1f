// The admin panel's session: the shared cookie session (web_common/src/session.ts) on the admin
// panel's own routes (/auth/web) and CSRF header. Staff only: the API refuses anyone else.
import { createSession, type SessionUser } from "@homeplans/web-common/session";

export { API, toQuery, type Role } from "@homeplans/web-common/session";
export { problemOf, type Problem } from "@homeplans/web-common/problems";

export type StaffUser = SessionUser;

export const session = createSession({ routes: "/auth/web", csrf: "homeplans-admin" });

export const signIn = session.signIn;
export const refresh = session.refresh;
export const signOut = session.signOut;
export const authedFetch = session.authedFetch;
export const user = session.user;
export const token = session.token;
export const onChange = session.onChange;
