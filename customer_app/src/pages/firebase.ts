// Firebase's web app (Google sign-in, web push), made once from the server's public config and
// loaded only when a customer uses one of them.
import type { Schemas } from "../api";

export async function firebaseApp(config: Schemas["FirebaseWebConfig"]) {
  const { initializeApp, getApps } = await import("firebase/app");
  return (
    getApps()[0] ??
    initializeApp({
      apiKey: config.api_key,
      authDomain: config.auth_domain,
      projectId: config.project_id,
      appId: config.app_id,
      messagingSenderId: config.messaging_sender_id ?? undefined,
    })
  );
}
