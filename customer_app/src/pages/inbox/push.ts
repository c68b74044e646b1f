// Web push through FCM, when the server has it configured: the phone's FCM token (made against
// this app's service worker) registered with the API (PUT /me/devices). Firebase's code is
// loaded only when the customer turns push on.
import { api, type Schemas } from "../../api";
import { t } from "../../strings";

export async function enablePush(config: Schemas["FirebaseWebConfig"]): Promise<string> {
  if (!("Notification" in window) || !("serviceWorker" in navigator)) return t("prefs.pushCannot");
  if ((await Notification.requestPermission()) !== "granted") return t("prefs.pushDenied");
  const [{ initializeApp, getApps }, messaging] = await Promise.all([import("firebase/app"), import("firebase/messaging")]);
  const app =
    getApps()[0] ??
    initializeApp({
      apiKey: config.api_key,
      authDomain: config.auth_domain,
      projectId: config.project_id,
      appId: config.app_id,
      messagingSenderId: config.messaging_sender_id ?? undefined,
    });
  const token = await messaging.getToken(messaging.getMessaging(app), {
    vapidKey: config.vapid_key ?? undefined,
    serviceWorkerRegistration: await navigator.serviceWorker.ready,
  });
  const { error } = await api.PUT("/api/v1/me/devices", { body: { token, platform: "web" } });
  return error ? t("prefs.pushFailed") : t("prefs.pushDone");
}
