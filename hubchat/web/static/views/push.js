// Notifications (Web Push) card of the settings page; sw.js shows pushes and handles clicks.

import { api, session } from "../api.js";
import { announce, h } from "../dom.js";
import { t } from "../i18n.js";
import { busy, errorBox } from "./common.js";

export function pushSupported() {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

function keyBytes(base64url) {
  const b64 = base64url.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (base64url.length % 4)) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

async function currentSubscription() {
  if (!pushSupported()) return null;
  const reg = await navigator.serviceWorker.getRegistration("/");
  return reg ? reg.pushManager.getSubscription() : null;
}

export async function enablePush() {
  const permission = await Notification.requestPermission();
  if (permission !== "granted") throw Object.assign(new Error(t("push.denied")), { code: "push_denied" });
  await navigator.serviceWorker.register("/sw.js");
  const reg = await navigator.serviceWorker.ready;
  const { public_key: publicKey } = await api("/api/push/key", { auth: false });
  const key = keyBytes(publicKey);
  let sub = await reg.pushManager.getSubscription();
  const had = sub?.options?.applicationServerKey && new Uint8Array(sub.options.applicationServerKey);
  if (had && had.join() !== key.join()) { await sub.unsubscribe(); sub = null; } // the server's key changed
  sub ||= await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
  await api("/api/push/subscriptions", { method: "POST", body: sub.toJSON() });
  return sub;
}

export async function disablePush() {
  const sub = await currentSubscription();
  if (!sub) return;
  const endpoint = sub.endpoint;
  await sub.unsubscribe();
  await api("/api/push/subscriptions", { method: "DELETE", body: { endpoint } });
}

/** A clicked notification's view (posted by sw.js to an open tab). */
export function listenForNotificationClicks() {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.addEventListener("message", (event) => {
    const data = event.data || {};
    if (data.type === "hubchat:open" && typeof data.url === "string" && data.url.startsWith("/#/")) {
      location.hash = data.url.slice(2);
    }
  });
}

const CHOICES = ["dms", "mentions", "previews"];

/** The card, before the settings page's last card (log out). */
export function mountPushSettings(section) {
  const err = errorBox();
  const state = h("p", { role: "status", id: "push-state" });
  const on = h("button", { type: "button", class: "primary", id: "push-on" }, t("push.turnOn"));
  const off = h("button", { type: "button", class: "secondary", id: "push-off", hidden: true }, t("push.turnOff"));
  const names = session.isOfficer ? [...CHOICES, "sos"] : CHOICES;
  const boxes = names.map((name) => h("input", { type: "checkbox", name, id: `push-${name}`, disabled: true }));
  section.insertBefore(h("section", { class: "card form", "aria-labelledby": "push-h", id: "push-card" },
    h("h2", { id: "push-h" }, t("push.title")), h("p", { class: "note" }, t("push.intro")),
    state, err.el, h("div", { class: "actions" }, on, off),
    h("fieldset", { class: "push-choices" }, h("legend", null, t("push.what")),
      boxes.map((box) => h("div", { class: "check" }, box, h("label", { for: box.id }, t(`push.${box.name}`)))))),
  section.lastElementChild);

  const show = (sub) => {
    const supported = pushSupported();
    on.hidden = !supported || Boolean(sub);
    off.hidden = !sub;
    state.textContent = t(!supported ? "push.unsupported" : Notification.permission === "denied" ? "push.denied"
      : sub ? "push.onHere" : "push.offHere");
  };
  currentSubscription().then(show, () => show(null));
  const act = (button, work) => button.addEventListener("click", () => busy(button, async () => {
    err.show(null);
    try {
      show(await work());
      announce(state.textContent);
    } catch (e) {
      err.show(e.code === "push_denied" ? t("push.denied") : (e instanceof DOMException ? t("push.failed") : e));
      show(await currentSubscription().catch(() => null));
    }
  }));
  act(on, enablePush);
  act(off, async () => { await disablePush(); return null; });

  api("/api/me/push-settings").then(({ settings }) => {
    for (const box of boxes) {
      box.checked = Boolean(settings[box.name]);
      box.disabled = false;
      box.addEventListener("change", async () => {
        err.show(null);
        try {
          await api("/api/me/push-settings", { method: "PUT", body: { [box.name]: box.checked } });
          announce(t("settings.saved"));
        } catch (e) {
          box.checked = !box.checked;
          err.show(e);
        }
      });
    }
  }, (e) => err.show(e));
}
