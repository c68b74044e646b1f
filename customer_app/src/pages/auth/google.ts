// Google sign-in through Firebase, when the server has it configured: loaded only when the
// button is pressed (the first screen does not carry Firebase's code).
import type { Problem, Schemas } from "../../api";
import { session } from "../../api";
import { firebaseApp } from "../firebase";

export async function googleSignIn(
  config: Schemas["FirebaseWebConfig"],
): Promise<{ ok: true } | { ok: false; problem: Problem }> {
  try {
    const [app, auth] = await Promise.all([firebaseApp(config), import("firebase/auth")]);
    const signedIn = await auth.signInWithPopup(auth.getAuth(app), new auth.GoogleAuthProvider());
    const idToken = await signedIn.user.getIdToken();
    const result = await session.signInWith("/firebase", { id_token: idToken });
    return result.ok ? { ok: true } : result;
  } catch (error) {
    return { ok: false, problem: { title: "Google", status: 0, detail: String(error) } };
  }
}
