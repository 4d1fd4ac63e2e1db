// The check-in timer screen (#/checkin): before a risky moment the person sets a deadline, a note
// and (if they want) shares their location; a countdown runs; they check in with the SOS PIN.
// If they do not, the Diaspora Cell is alerted with the note and the last location.  The screen
// never says anything about the duress PIN: both PINs show the same "checked in".

import { ApiError, api } from "../api.js";
import { call, connection } from "../socket.js";
import { Subscriptions } from "../state.js";
import { announce, clear, field, fmtTime, h, randomId, select } from "../dom.js";
import { getLang, t } from "../i18n.js";
import { busy, errorBox, heading } from "./common.js";

const SOCKET_TIMEOUT_MS = 4000;
const DURATIONS = [15, 30, 60, 120, 240, 480, 1440];
const REMINDERS = [0, 5, 10, 30];

/** The socket first; HTTP when there is no socket or it failed for a temporary reason. */
async function send(event, payload, path, method = "POST") {
  if (connection.online) {
    try {
      return await call(event, payload, SOCKET_TIMEOUT_MS);
    } catch (err) {
      if (!(err instanceof ApiError) || !err.temporary || err.code === "rate_limited") throw err;
    }
  }
  return api(path, method === "GET" ? {} : { method, body: payload });
}

function here() {
  return new Promise((resolve) => {
    if (!("geolocation" in navigator)) { resolve(null); return; }
    navigator.geolocation.getCurrentPosition(
      (pos) => resolve({ lat: pos.coords.latitude, lon: pos.coords.longitude,
        accuracy_m: Math.min(Math.max(pos.coords.accuracy || 0, 0), 100_000) }),
      () => resolve(null), { enableHighAccuracy: true, maximumAge: 60_000, timeout: 15_000 });
  });
}

function left(dueIso) {
  const secs = Math.max(0, Math.round((new Date(dueIso).getTime() - Date.now()) / 1000));
  const hh = Math.floor(secs / 3600);
  const mm = Math.floor((secs % 3600) / 60);
  const ss = secs % 60;
  return `${hh}:${String(mm).padStart(2, "0")}:${String(ss).padStart(2, "0")}`;
}

export function render(main) {
  const subs = new Subscriptions();
  const root = h("section", { class: "checkin-screen", id: "checkin" });
  main.append(root);
  let timer = null;
  let ticker = null;

  function draw() {
    clearInterval(ticker);
    clear(root);
    root.append(heading(t("checkin.title")));
    if (timer && timer.status === "active") drawActive();
    else drawSet();
  }

  // ---------------------------------------------------------------- set a timer
  function drawSet() {
    if (timer) {
      const ended = timer.status === "checked_in"
        ? t("checkin.checkedIn", { time: fmtTime(timer.ended_at, getLang()) })
        : t("checkin.missed");
      root.append(h("p", { class: `checkin-last checkin-${timer.status}`, id: "checkin-last", role: "status" }, ended));
    }
    root.append(h("p", { class: "hint" }, t("checkin.intro")));
    const err = errorBox();
    const minutes = select({ name: "minutes", id: "checkin-minutes" },
      DURATIONS.map((m) => [String(m), t("checkin.inMinutes", { n: m >= 60 ? `${m / 60} h` : `${m} min` })]), "60");
    const note = h("textarea", { name: "note", rows: 3, maxlength: 500, id: "checkin-note" });
    const remind = select({ name: "remind", id: "checkin-remind" },
      REMINDERS.map((m) => [String(m), m ? t("checkin.remindBefore", { n: m }) : t("checkin.noReminder")]), "10");
    const share = h("input", { type: "checkbox", name: "share", id: "checkin-share" });
    const start = h("button", { type: "submit", class: "primary", id: "checkin-start" }, t("checkin.start"));
    const form = h("form", { class: "form", id: "checkin-form" },
      field(t("checkin.deadline"), minutes),
      field(t("checkin.note"), note, t("checkin.noteHint")),
      field(t("checkin.reminder"), remind),
      h("div", { class: "field check" }, share, h("label", { for: "checkin-share" }, t("checkin.share"))),
      err.el, start);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      await busy(start, async () => {
        err.show(null);
        const body = { client_id: randomId("ci-"), minutes: Number(minutes.value) };
        if (note.value.trim()) body.note = note.value.trim();
        const lead = Number(remind.value);
        if (lead && lead < body.minutes) body.remind_before_minutes = lead;
        if (share.checked) {
          const fix = await here();
          if (fix) Object.assign(body, fix);
        }
        try {
          timer = (await send("checkin:set", body, "/api/checkin")).checkin;
          announce(t("checkin.started"));
          draw();
        } catch (e) {
          err.show(e);
        }
      });
    });
    root.append(form);
  }

  // ---------------------------------------------------------------- running
  function drawActive() {
    const countdown = h("p", { class: "checkin-countdown", id: "checkin-countdown", "aria-live": "off" }, left(timer.due_at));
    const due = h("p", { class: "hint" }, t("checkin.dueAt", { time: fmtTime(timer.due_at, getLang()) }));
    const where = h("p", { class: "small muted", id: "checkin-where" },
      timer.location ? t("checkin.locationShared") : t("checkin.noLocation"));
    const locErr = errorBox();
    const update = h("button", { type: "button", class: "secondary", id: "checkin-update-location" }, t("checkin.updateLocation"));
    update.addEventListener("click", () => busy(update, async () => {
      locErr.show(null);
      const fix = await here();
      if (!fix) { locErr.show(t("checkin.noFix")); return; }
      try {
        timer = (await send("checkin:location", { checkin_id: timer.id, ...fix }, "/api/checkin/location")).checkin;
        draw();
      } catch (e) { locErr.show(e); }
    }));
    const err = errorBox();
    const pin = h("input", { type: "password", inputmode: "numeric", autocomplete: "off", name: "pin",
      id: "checkin-pin", pattern: "[0-9]{4,8}", maxlength: 8, required: true });
    const go = h("button", { type: "submit", class: "primary", id: "checkin-go" }, t("checkin.checkIn"));
    const form = h("form", { class: "form", id: "checkin-pin-form" }, field(t("sos.pin"), pin, t("checkin.pinHint")), err.el, go);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      await busy(go, async () => {
        err.show(null);
        try {
          timer = (await send("checkin:check_in", { checkin_id: timer.id, pin: pin.value }, "/api/checkin/check-in")).checkin;
          announce(t("checkin.checkedIn", { time: fmtTime(timer.ended_at, getLang()) }));
          draw();
        } catch (e) {
          pin.value = "";
          if (e.code === "checkin_closed") { await load(); return; }
          err.show(e);
        }
      });
    });
    root.append(countdown, due,
      timer.note ? h("p", { class: "checkin-note", id: "checkin-note-shown" }, timer.note) : null,
      where, h("div", { class: "row" }, update), locErr.el, form);
    ticker = setInterval(() => { countdown.textContent = left(timer.due_at); }, 1000);
  }

  async function load() {
    try {
      timer = (await send("checkin:mine", undefined, "/api/checkin", "GET")).checkin;
    } catch {
      timer = null;
    }
    draw();
  }

  subs.on("checkin:updated", (view) => { if (!timer || view.id === timer.id || view.status === "active") { timer = view; draw(); } });
  subs.on("checkin:reminder", () => announce(t("checkin.reminderNow"), true));
  subs.on("socket:ready", () => load());
  draw();
  load();
  return () => { clearInterval(ticker); subs.close(); };
}
