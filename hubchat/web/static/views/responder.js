// Office bearers an SOS was dispatched to: a banner on every screen ("a person near you", the
// category, the distance, no name), "I can help" acknowledges it (the server then sends the full
// view: name, phone, exact location), then responding / resolved / false alarm.  Officers use
// the console instead and never see this banner.

import { session } from "../api.js";
import { call } from "../socket.js";
import { bus, store } from "../state.js";
import { clear, h } from "../dom.js";
import { t } from "../i18n.js";
import { busy, errorText } from "./common.js";

const OPEN = ["open", "acknowledged", "responding"];
const ACTIONS = {
  acknowledged: [["respond", "primary"]],
  responding: [["resolve", "primary"], ["false_alarm", "secondary"]],
};

let region = null;
let key = null;
const alerts = new Map(); // id -> latest view (limited or full)
const errors = new Map();
const offs = [];

export function mountResponder(el) {
  region = el;
  draw();
}

export function startResponder(me) {
  stopResponder();
  if (["officer", "admin"].includes(me.role)) return;
  key = `hubchat.respond.${me.id}`;
  for (const id of store.get(key, []) || []) alerts.set(id, null);
  const take = (view) => {
    if (!view || (view.view !== "limited" && view.view !== "full")) return;
    const old = alerts.get(view.id);
    if (old && (old.version || 0) > (view.version || 0)) return;
    if (!alerts.has(view.id) && !OPEN.includes(view.status)) return;
    if (!alerts.has(view.id) && navigator.vibrate) navigator.vibrate([200, 100, 200]);
    alerts.set(view.id, view);
    changed();
  };
  offs.push(bus.on("sos:new", take), bus.on("sos:updated", take));
  offs.push(bus.on("sos:location", ({ alert_id, location }) => {
    const a = alerts.get(alert_id);
    if (a && a.view === "full" && location) {
      alerts.set(alert_id, { ...a, location, lat: location.lat, lon: location.lon });
      changed();
    }
  }));
  offs.push(bus.on("socket:ready", refresh));
  offs.push(bus.on("lang:changed", draw));
}

export function stopResponder() {
  for (const off of offs.splice(0)) off();
  alerts.clear();
  errors.clear();
  key = null;
  draw();
}

function changed() {
  if (key) store.set(key, Array.from(alerts.keys()));
  draw();
}

/** After a reconnect: read every followed alert again (live events are at most once). */
async function refresh() {
  for (const id of Array.from(alerts.keys())) {
    try {
      const res = await call("sos:get", { alert_id: id });
      alerts.set(id, res.alert);
    } catch (err) {
      if (err.code === "alert_not_found") alerts.delete(id);
    }
  }
  changed();
}

function dismiss(id) {
  alerts.delete(id);
  errors.delete(id);
  changed();
}

async function act(id, action) {
  errors.delete(id);
  try {
    const res = await call("sos:transition", { alert_id: id, action });
    alerts.set(id, res.alert);
  } catch (err) {
    errors.set(id, errorText(err));
    if (err.code === "alert_closed" || err.code === "invalid_transition") refresh();
  }
  changed();
}

function draw() {
  if (!region) return;
  clear(region);
  const list = Array.from(alerts.values()).filter(Boolean);
  region.hidden = !list.length || !session.signedIn;
  for (const a of list) region.append(card(a));
}

function card(a) {
  const closed = !OPEN.includes(a.status);
  const box = h("article", { class: `responder-card${closed ? " closed" : ""}`, "aria-labelledby": `resp-${a.id}`,
    dataset: { id: a.id } });
  const category = t(`sos.cat.${a.category}`);
  if (a.view === "limited") {
    const where = [a.area?.city, a.area?.country].filter(Boolean).join(", ");
    box.append(h("h2", { id: `resp-${a.id}` }, t("resp.nearYou")),
      h("p", null, [category, a.distance_km !== null && a.distance_km !== undefined
        ? t("dir.km", { km: a.distance_km }) : null, where].filter(Boolean).join(" · ")));
    if (!closed) {
      const help = h("button", { type: "button", class: "primary" }, t("resp.help"));
      help.addEventListener("click", () => busy(help, () => act(a.id, "acknowledge")));
      box.append(h("p", { class: "small" }, t("resp.helpHint")), h("div", { class: "row" }, help, dismissButton(a)));
    } else {
      box.append(h("p", null, t(`status.${a.status}`)), dismissButton(a));
    }
  } else {
    const p = a.person || {};
    const loc = a.location;
    box.append(h("h2", { id: `resp-${a.id}` }, t("resp.helping", { name: p.display_name || "" })),
      h("p", null, `${category} · ${t(`status.${a.status}`)}`),
      p.phone ? h("p", null, `${t("dir.phone")}: `, h("a", { href: `tel:${p.phone}` }, p.phone)) : null,
      loc ? h("p", null, `${t("console.location")}: `, h("a", { href: `geo:${loc.lat},${loc.lon}` },
        `${loc.lat.toFixed(5)}, ${loc.lon.toFixed(5)}`)) : h("p", null, t("console.noLocation")));
    const row = h("div", { class: "row" });
    for (const [action, style] of ACTIONS[a.status] || []) {
      const b = h("button", { type: "button", class: style }, t(`console.action.${action}`));
      b.addEventListener("click", () => busy(b, () => act(a.id, action)));
      row.append(b);
    }
    if (closed) row.append(dismissButton(a));
    box.append(row);
  }
  if (errors.has(a.id)) box.append(h("p", { class: "error", role: "alert" }, errors.get(a.id)));
  return box;
}

function dismissButton(a) {
  const b = h("button", { type: "button", class: "secondary" }, t("resp.dismiss"));
  b.addEventListener("click", () => dismiss(a.id));
  return b;
}
