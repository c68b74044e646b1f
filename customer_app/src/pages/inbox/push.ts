// Web push through FCM, when the server has it configured: the phone's FCM token (made against
// this app's service worker) registered with the API (PUT /me/devices). Firebase's code is
// loaded only when the customer turns push on.
import { api, type Schemas } from "../../api";
import { t } from "../../strings";
import { firebaseApp } from "../firebase";

export async function enablePush(config: Schemas["FirebaseWebConfig"]): Promise<string> {
  if (!("Notification" in window) || !("serviceWorker" in navigator)) return t("prefs.pushCannot");
  if ((await Notification.requestPermission()) !== "granted") return t("prefs.pushDenied");
  const [app, messaging] = await Promise.all([firebaseApp(config), import("firebase/messaging")]);
  const token = await messaging.getToken(messaging.getMessaging(app), {
    vapidKey: config.vapid_key ?? undefined,
    serviceWorkerRegistration: await navigator.serviceWorker.ready,
  });
  const { error } = await api.PUT("/api/v1/me/devices", { body: { token, platform: "web" } });
  return error ? t("prefs.pushFailed") : t("prefs.pushDone");
}
