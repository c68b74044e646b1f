// Google sign-in through Firebase, when the server has it configured: loaded only when the
// button is pressed (the first screen does not carry Firebase's code).
import type { Problem, Schemas } from "../../api";
import { session } from "../../api";

export async function googleSignIn(
  config: Schemas["FirebaseWebConfig"],
): Promise<{ ok: true } | { ok: false; problem: Problem }> {
  try {
    const [{ initializeApp, getApps }, auth] = await Promise.all([import("firebase/app"), import("firebase/auth")]);
    const app =
      getApps()[0] ??
      initializeApp({
        apiKey: config.api_key,
        authDomain: config.auth_domain,
        projectId: config.project_id,
        appId: config.app_id,
        messagingSenderId: config.messaging_sender_id ?? undefined,
      });
    const signedIn = await auth.signInWithPopup(auth.getAuth(app), new auth.GoogleAuthProvider());
    const idToken = await signedIn.user.getIdToken();
    const result = await session.signInWith("/firebase", { id_token: idToken });
    return result.ok ? { ok: true } : result;
  } catch (error) {
    return { ok: false, problem: { title: "Google", status: 0, detail: String(error) } };
  }
}
