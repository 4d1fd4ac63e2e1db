// The duty officer console: on/off-duty switch, the live alert feed (beep + flash on a new
// alert), a map with markers (Leaflet, loaded only here; tiles only when a tile URL is
// configured — markers show on a plain background otherwise), the list by urgency and age, a
// detail pane (timeline, notes, acknowledge / responding / resolved / false-alarm, audit log),
// and the queue of associations awaiting approval.

import { loadConfig } from "../config.js";
import { api, session } from "../api.js";
import { call } from "../socket.js";
import { Subscriptions } from "../state.js";
import { announce, clear, field, fmtTime, formValues, h, select } from "../dom.js";
import { getLang, t } from "../i18n.js";
import { busy, countryName, countryOptions, errorBox, errorText, heading } from "./common.js";
import { consoleSection as safetyProfileSection } from "./safety.js";

const URGENCY = { open: 0, acknowledged: 1, responding: 2 };
const OPEN = ["open", "acknowledged", "responding"];
const CATEGORIES = ["medical", "violence", "exploitation", "detention", "stranded", "other"];
const COLORS = { open: "#b00020", acknowledged: "#8a4b00", responding: "#0b4f8a", duress: "#5c0011" };
const ACTIONS = {
  open: [["acknowledge", "primary"]],
  acknowledged: [["respond", "primary"]],
  responding: [["resolve", "primary"], ["false_alarm", "secondary"]],
};


let leafletPromise = null;
function loadLeaflet() {
  if (window.L) return Promise.resolve(window.L);
  leafletPromise ||= new Promise((resolve, reject) => {
    const base = new URL("../vendor/leaflet/", import.meta.url);
    const css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = new URL("leaflet.css", base).href;
    document.head.append(css);
    const script = document.createElement("script");
    script.src = new URL("leaflet.js", base).href;
    script.onload = () => resolve(window.L);
    script.onerror = () => { leafletPromise = null; reject(new Error("leaflet failed to load")); };
    document.head.append(script);
  });
  return leafletPromise;
}

// ---------------------------------------------------------------- sound
let audio = null;
let beeps = 0;
function unlockAudio() {
  try {
    audio ||= new (window.AudioContext || window.webkitAudioContext)();
    if (audio.state === "suspended") audio.resume().catch(() => {});
  } catch { /* no audio on this device */ }
}

function beep() {
  unlockAudio();
  if (!audio) return;
  beeps += 1;
  window.hubchat = Object.assign(window.hubchat || {}, { beeps });
  const now = audio.currentTime;
  for (const offset of [0, 0.3, 0.6]) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = "square";
    osc.frequency.value = offset === 0.3 ? 660 : 880;
    gain.gain.setValueAtTime(0.0001, now + offset);
    gain.gain.exponentialRampToValueAtTime(0.25, now + offset + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + offset + 0.22);
    osc.connect(gain).connect(audio.destination);
    osc.start(now + offset);
    osc.stop(now + offset + 0.25);
  }
}

// ---------------------------------------------------------------- a console in the background
// A new alert while the tab is hidden: a desktop notification (permission is asked when the
// officer goes on duty, a user gesture), the title shows how many alerts wait, and the alarm
// repeats every REPEAT_MS until the tab is seen again or no open alert waits for acknowledgement.
const REPEAT_MS = 15_000;
let notified = 0;

function askNotificationPermission() {
  if ("Notification" in window && Notification.permission === "default") {
    Notification.requestPermission().catch(() => {});
  }
}

function notify(a, onOpen) {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  try {
    const n = new Notification(t("console.newAlert", { name: a.person?.display_name || a.person?.label || "",
      category: t(`sos.cat.${a.category}`) }), { body: t("console.notifyBody"), tag: `sos-${a.id}`, requireInteraction: true });
    n.onclick = () => { window.focus(); onOpen(a.id); n.close(); };
    notified += 1;
    window.hubchat = Object.assign(window.hubchat || {}, { notified });
  } catch { /* notifications unavailable here: the sound and the title still tell */ }
}

/** Saves what an authenticated GET answers as a file (exports need the bearer token, so a plain
 * link cannot fetch them). */
async function download(path, filename, type) {
  const data = await api(path);
  const text = typeof data === "string" ? data : JSON.stringify(data, null, 2);
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = h("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}

function age(iso) {
  const secs = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
  if (secs < 60) return t("time.secs", { n: Math.floor(secs) });
  if (secs < 3600) return t("time.mins", { n: Math.floor(secs / 60) });
  if (secs < 86400) return t("time.hours", { n: Math.floor(secs / 3600) });
  return t("time.days", { n: Math.floor(secs / 86400) });
}

function urgencySort(a, b) {
  return (b.duress ? 1 : 0) - (a.duress ? 1 : 0) || (URGENCY[a.status] ?? 3) - (URGENCY[b.status] ?? 3)
    || new Date(a.created_at) - new Date(b.created_at) || (a.id < b.id ? -1 : 1);
}

export function render(main, { params: [selectedParam] }) {
  const subs = new Subscriptions();
  const alerts = new Map();
  let selected = selectedParam || null;
  let onDuty = false;
  let officers = [];
  let map = null;
  let markers = new Map();
  let fitted = false;
  let flashTimer = null;

  const root = h("section", { class: "console" });
  const banner = h("div", { class: "console-banner", id: "new-alert-banner", role: "alert", hidden: true });
  const dutySwitch = h("button", { type: "button", role: "switch", id: "duty-switch", "aria-checked": "false",
    class: "switch" }, h("span", { class: "switch-track", "aria-hidden": "true" }, h("span", { class: "switch-thumb" })),
  h("span", { class: "switch-label" }, t("console.onDuty")));
  const dutyState = h("p", { class: "small", id: "duty-state", role: "status" });
  const dutyList = h("p", { class: "small muted", id: "duty-list" });
  const dutyAway = h("p", { class: "small", id: "duty-away", role: "status", hidden: true });
  const listCount = h("span", { class: "count-label" });
  const list = h("ul", { class: "alert-list", id: "alert-list" });
  const mapEl = h("div", { class: "map", id: "map", role: "region", "aria-label": t("console.map") });
  const detail = h("section", { class: "detail", id: "alert-detail", "aria-labelledby": "detail-h" });
  const queue = h("section", { class: "card approvals", id: "approvals", "aria-labelledby": "approvals-h" });
  const historyPane = h("section", { class: "card history", id: "history", "aria-labelledby": "history-h" });
  const err = errorBox();

  root.append(
    h("div", { class: "console-head" }, heading(t("console.title")),
      h("div", { class: "duty" }, dutySwitch, dutyState), dutyList, dutyAway),
    banner, err.el,
    h("div", { class: "console-grid" },
      h("section", { class: "list-pane", "aria-labelledby": "alerts-h" },
        h("h2", { id: "alerts-h" }, t("console.openAlerts"), " ", listCount), list),
      h("section", { class: "map-pane", "aria-labelledby": "map-h" },
        h("h2", { id: "map-h", class: "visually-hidden" }, t("console.map")), mapEl,
        h("p", { class: "small muted", id: "map-note" })),
      detail),
    historyPane,
    queue);
  main.append(root);
  root.addEventListener("pointerdown", unlockAudio, { passive: true });
  root.addEventListener("keydown", unlockAudio);

  // ---------------------------------------------------------------- duty
  function renderDuty() {
    dutySwitch.setAttribute("aria-checked", String(onDuty));
    dutySwitch.classList.toggle("on", onDuty);
    dutyState.textContent = onDuty ? t("console.youAreOn") : t("console.youAreOff");
    // Text only: every name and time goes in through textContent.
    dutyList.textContent = officers.length
      ? t("console.onDutyNow", { names: officers.map(officerLabel).join(", ") }) : t("console.nobodyOnDuty");
    const away = officers.filter((o) => o.connected === false);
    dutyList.dataset.disconnected = away.map((o) => o.id).join(" ");
    dutyAway.hidden = !away.length;
    dutyAway.textContent = away.length ? t("console.unreachableNote") : "";
  }
  function officerLabel(o) {
    if (o.connected !== false) return o.display_name;
    const state = o.last_seen_at
      ? t("console.notConnectedSince", { time: fmtTime(o.last_seen_at, getLang()) }) : t("console.notConnected");
    return `${o.display_name} (${state})`;
  }
  // Closing or reloading the page while on duty: the browser's own "leave this page?" prompt.
  // (Staying away longer than the server's grace period makes an SOS email the Cell at once.)
  function warnOnLeave(event) {
    if (!onDuty) return;
    event.preventDefault();
    event.returnValue = "";
  }
  window.addEventListener("beforeunload", warnOnLeave);

  let savedTitle = null; // the page's own title while the alarm shows its count
  let repeatTimer = null;
  const waiting = () => Array.from(alerts.values()).filter((a) => a.status === "open").length;
  function restoreTitle() {
    if (savedTitle !== null) document.title = savedTitle;
    savedTitle = null;
  }
  function backgroundAlarm() {
    clearTimeout(repeatTimer);
    const n = waiting();
    if (!document.hidden || !n) { restoreTitle(); return; }
    savedTitle ??= document.title;
    document.title = t("console.waitingTitle", { n });
    const every = window.hubchat?.alarmRepeatMs || REPEAT_MS; // a test may shorten it
    repeatTimer = setTimeout(() => { if (document.hidden && waiting()) beep(); backgroundAlarm(); }, every);
  }
  document.addEventListener("visibilitychange", backgroundAlarm);

  dutySwitch.addEventListener("click", () => busy(dutySwitch, async () => {
    unlockAudio();
    askNotificationPermission();
    try {
      const res = await call("duty:set", { on_duty: !onDuty });
      onDuty = res.duty.on_duty;
      officers = res.officers;
      renderDuty();
      announce(dutyState.textContent);
      if (onDuty) await loadFeed();
    } catch (e) {
      err.show(e);
    }
  }));

  // ---------------------------------------------------------------- feed
  let feedRun = 0;
  async function loadFeed() {
    const run = ++feedRun;
    try {
      const res = await call("sos:feed", {});
      if (run !== feedRun) return;
      alerts.clear();
      for (const a of res.alerts) alerts.set(a.id, a);
      officers = res.on_duty;
      onDuty = res.live;
      err.show(null);
      renderDuty();
      renderList();
      renderMarkers();
      if (selected) selectAlert(selected, false);
      else renderDetail();
    } catch (e) {
      if (e.code !== "offline") err.show(e);
    }
  }

  function sorted() {
    return Array.from(alerts.values()).filter((a) => OPEN.includes(a.status)).sort(urgencySort);
  }

  function renderList() {
    const items = sorted();
    listCount.textContent = `(${items.length})`;
    const focusedId = list.contains(document.activeElement) ? document.activeElement.dataset.id : null;
    clear(list);
    if (!items.length) {
      list.append(h("li", { class: "muted empty" }, onDuty ? t("console.noAlerts") : t("console.goOnDuty")));
      return;
    }
    for (const a of items) {
      const name = a.person?.display_name || a.person?.label || "?";
      const button = h("button", { type: "button", class: "alert-item", "aria-pressed": String(a.id === selected),
        dataset: { id: a.id, status: a.status } },
      h("span", { class: `status-pill status-${a.duress ? "duress" : a.status}` },
        a.duress ? t("console.duress") : t(`status.${a.status}`)),
      h("span", { class: "alert-name" }, name),
      h("span", { class: "alert-meta" }, `${t(`sos.cat.${a.category}`)} · ${age(a.created_at)} · `
        + `${[a.area?.city, a.area?.country].filter(Boolean).join(", ")}`),
      a.location_known ? null : h("span", { class: "alert-meta" }, t("console.noLocation")),
      originBadge(a));
      button.addEventListener("click", () => selectAlert(a.id));
      list.append(h("li", { class: a.id === selected ? "selected" : null }, button));
      if (a.id === focusedId) button.focus({ preventScroll: true });
    }
  }

  // ---------------------------------------------------------------- map
  async function initMap() {
    const note = root.querySelector("#map-note");
    try {
      const [L, config] = await Promise.all([loadLeaflet(), loadConfig()]);
      if (!root.isConnected) return;
      map = L.map(mapEl, { attributionControl: Boolean(config.tile_url), zoomSnap: 0.5, worldCopyJump: true });
      if (config.tile_url) {
        L.tileLayer(config.tile_url, { attribution: config.tile_attribution || "", maxZoom: 19, crossOrigin: false })
          .addTo(map);
      } else {
        note.textContent = t("console.noTiles");
      }
      map.setView([22, 80], 3);
      renderMarkers();
    } catch {
      note.textContent = t("console.mapFailed");
    }
  }

  function renderMarkers() {
    if (!map || !window.L) return;
    const L = window.L;
    const keep = new Set();
    for (const a of sorted()) {
      if (a.lat === null || a.lat === undefined) continue;
      keep.add(a.id);
      const color = a.duress ? COLORS.duress : COLORS[a.status] || "#333";
      let marker = markers.get(a.id);
      if (!marker) {
        marker = L.circleMarker([a.lat, a.lon], { radius: 11, weight: 3, color: "#ffffff", fillColor: color,
          fillOpacity: 0.95, className: "alert-marker" });
        marker.on("click", () => selectAlert(a.id));
        marker.addTo(map);
        markers.set(a.id, marker);
      } else {
        marker.setLatLng([a.lat, a.lon]);
        marker.setStyle({ fillColor: color });
      }
      marker.unbindTooltip();
      // A DOM node, never a string: Leaflet puts string content into innerHTML, and the name is
      // whatever the person typed.
      marker.bindTooltip(h("span", null, `${a.person?.display_name || ""} · ${t(`status.${a.status}`)}`));
      if (a.id === selected) marker.setStyle({ radius: 15, weight: 4, color: "#000000" });
      else marker.setStyle({ radius: 11, weight: 3, color: "#ffffff" });
    }
    for (const [id, marker] of markers) {
      if (!keep.has(id)) { marker.remove(); markers.delete(id); }
    }
    if (!fitted && markers.size) {
      fitted = true;
      const bounds = L.latLngBounds(Array.from(markers.values()).map((m) => m.getLatLng()));
      map.fitBounds(bounds.pad(0.5), { maxZoom: 12 });
    }
  }

  // ---------------------------------------------------------------- detail
  async function selectAlert(id, focus = true) {
    selected = id;
    history.replaceState(null, "", `#/console/${id}`);
    renderList();
    renderMarkers();
    renderDetail(true);
    try {
      const [got, timeline] = await Promise.all([
        call("sos:get", { alert_id: id }),
        call("sos:timeline", { alert_id: id }),
      ]);
      // After the reads, which are audited themselves: the log then shows this view too.
      const audit = await call("sos:audit", { alert_id: id }).catch(() => ({ entries: [] }));
      if (selected !== id) return;
      alerts.set(id, got.alert);
      detailData = { id, timeline: timeline.events, audit: audit.entries, version: Date.now() };
      renderList();
      renderMarkers();
      renderDetail();
      if (focus) detail.querySelector("h2")?.focus({ preventScroll: false });
      const m = markers.get(id);
      if (m && map) map.panTo(m.getLatLng());
    } catch (e) {
      if (selected === id) { pane = null; clear(detail).append(h("p", { class: "error" }, errorText(e))); }
    }
  }

  let detailData = null;
  // The pane is built once per selected alert; updates (1 a second while the person moves)
  // refresh its parts in place, so a note being typed, focus and screen-reader position survive.
  let pane = null;

  function buildPane(a) {
    clear(detail);
    const title = h("h2", { id: "detail-h", tabindex: "-1" });
    const duress = h("p", { class: "duress-flag", role: "alert", hidden: true });
    const facts = h("dl", { class: "facts", id: "alert-facts" });
    const actionErr = errorBox();
    const actions = h("div", { class: "row actions", id: "alert-actions" });
    const noteErr = errorBox();
    const noteInput = h("textarea", { name: "note", rows: 2, maxlength: 1000, id: "note-input" });
    const noteButton = h("button", { type: "submit", class: "secondary" }, t("console.addNote"));
    const noteForm = h("form", { class: "form", id: "note-form" }, field(t("console.note"), noteInput), noteErr.el, noteButton);
    noteForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = noteInput.value.trim();
      if (!body) return;
      await busy(noteButton, async () => {
        noteErr.show(null);
        try {
          const res = await call("sos:note", { alert_id: a.id, body });
          noteInput.value = "";
          addTimeline(a.id, res.event);
        } catch (e) {
          noteErr.show(e);
        }
      });
    });
    const exportErr = errorBox();
    const exports = h("div", { class: "row small" }, [["json", "application/json"], ["cap", "application/cap+xml"]]
      .map(([kind, type]) => {
        const b = h("button", { type: "button", class: "secondary small", dataset: { export: kind } },
          t(`console.export.${kind}`));
        b.addEventListener("click", () => busy(b, async () => {
          exportErr.show(null);
          try {
            await download(`/api/sos/alerts/${a.id}/export.${kind}`, `sos-${a.id}.${kind === "cap" ? "cap.xml" : "json"}`, type);
          } catch (e) {
            exportErr.show(e);
          }
        }));
        return b;
      }));
    const caseErr = errorBox();
    const caseButton = h("button", { type: "button", class: "secondary small", id: "open-case" }, t("cases.fromAlert"));
    caseButton.addEventListener("click", () => busy(caseButton, async () => {
      caseErr.show(null);
      try {
        await (await import("./cases.js")).openCaseFromAlert(a.id);
      } catch (e) {
        caseErr.show(e);
      }
    }));
    const timeline = h("div", { id: "timeline-box" });
    const audit = h("div", { id: "audit-box" });
    detail.append(title, duress, facts, actions, actionErr.el, noteForm,
      h("h3", null, t("console.timeline")), timeline, h("h3", null, t("console.audit")), audit,
      h("h3", null, t("console.export")), exports, exportErr.el, safetyProfileSection(a.id),
      h("h3", null, t("cases.title")), caseButton, caseErr.el);
    pane = { id: a.id, title, duress, facts, actions, actionErr, noteForm, timeline, audit, status: null, data: null };
  }

  function renderDetail(loading = false) {
    const a = selected ? alerts.get(selected) : null;
    if (!a) {
      pane = null;
      clear(detail).append(h("h2", { id: "detail-h", tabindex: "-1" }, t("console.detail")),
        h("p", { class: "muted" }, loading ? t("common.loading") : t("console.pickAlert")));
      return;
    }
    if (!pane || pane.id !== a.id) buildPane(a);
    const p = a.person || {};
    const loc = a.location;
    pane.title.textContent = p.display_name || p.label || t("console.detail");
    if (pane.duress.hidden === Boolean(a.duress)) {
      pane.duress.hidden = !a.duress;
      pane.duress.textContent = !a.duress ? ""
        : a.duress_person_sees === "checked_in" ? t("console.duressCheckin") : t("console.duressLong");
    }
    const rows = [
      [t("console.status"), a.duress ? `${t(`status.${a.status}`)} · ${t("console.duress")}` : t(`status.${a.status}`)],
      [t("console.category"), t(`sos.cat.${a.category}`)],
      [t("console.raised"), `${fmtTime(a.created_at, getLang())} (${age(a.created_at)})`],
      [t("console.ackBy"), a.acknowledged_by ? a.acknowledged_by.display_name : "—"],
      [t("dir.phone"), p.phone ? h("a", { href: `tel:${p.phone}` }, p.phone) : "—"],
      [t("dir.email"), p.email ? h("a", { href: `mailto:${p.email}` }, p.email) : "—"],
      [t("console.location"), loc ? `${loc.lat.toFixed(5)}, ${loc.lon.toFixed(5)}`
        + (loc.accuracy_m ? ` ± ${Math.round(loc.accuracy_m)} m` : "") + (loc.at ? ` · ${age(loc.at)}` : "")
        : t("console.noLocation")],
      [t("console.area"), [a.area?.city, countryName(a.area?.country)].filter(Boolean).join(", ") || "—"],
      [t("console.battery"), a.battery_pct !== null && a.battery_pct !== undefined ? `${a.battery_pct}%` : "—"],
      [t("sos.note"), a.note || "—"],
      [t("console.escalation"), String(a.escalation?.level ?? 0)],
    ];
    if (a.checkin) rows.splice(1, 0, [t("console.origin"), originText(a)]);
    clear(pane.facts).append(...rows.flatMap(([k, v]) => [h("dt", null, k), h("dd", null, v)]));

    // An association's acknowledgement does not stop the Cell's escalation: the Cell takes over
    // with its own "acknowledge" (status unchanged) until an officer has.
    const takeOver = a.status !== "open" && OPEN.includes(a.status) && !a.cell_acknowledged_by;
    const paneKey = `${a.status}:${takeOver}`;
    if (pane.status !== paneKey) {
      pane.status = paneKey;
      clear(pane.actions);
      for (const [action, style] of [...(takeOver ? [["acknowledge", "secondary"]] : []), ...(ACTIONS[a.status] || [])]) {
        const b = h("button", { type: "button", class: style, dataset: { action } }, t(`console.action.${action}`));
        b.addEventListener("click", () => busy(b, async () => {
          pane?.actionErr.show(null);
          try {
            const res = await call("sos:transition", { alert_id: a.id, action });
            alerts.set(a.id, res.alert);
            announce(t(`status.${res.alert.status}`));
            await selectAlert(a.id, false);
            // Keyboard users keep their place: the next step's button (or the heading once closed).
            if (pane?.id === a.id) (pane.actions.querySelector("button") || pane.title).focus();
          } catch (e) {
            pane?.actionErr.show(e);
            if (e.code === "invalid_transition" || e.code === "alert_closed") selectAlert(a.id, false);
          }
        }));
        pane.actions.append(b);
      }
      pane.noteForm.hidden = !OPEN.includes(a.status);
    }

    const data = detailData && detailData.id === a.id ? detailData : null;
    if (pane.data !== data || (data && data.version !== pane.dataVersion)) {
      pane.data = data;
      pane.dataVersion = data?.version;
      clear(pane.timeline);
      clear(pane.audit);
      if (!data) {
        pane.timeline.append(h("p", { class: "muted" }, t("common.loading")));
      } else {
        pane.timeline.append(h("ol", { class: "timeline", id: "timeline" }, data.timeline.map((e) => h("li", null,
          h("time", { datetime: e.at }, fmtTime(e.at, getLang())), " ",
          h("strong", null, t(`event.${e.type}`, { to: e.data?.to ? t(`status.${e.data.to}`) : "" })),
          e.actor ? ` · ${e.actor.display_name}` : "",
          e.note ? h("span", { class: "timeline-note" }, e.note) : null))));
        pane.audit.append(h("ul", { class: "audit plain small", id: "audit-log" }, data.audit.map((e) => h("li", null,
          `${fmtTime(e.at, getLang())} · ${e.viewer.display_name} (${e.viewer.role}) · ${t(`audit.${e.action}`)}`))));
      }
    }
  }

  function addTimeline(alertId, event) {
    if (detailData && detailData.id === alertId && !detailData.timeline.some((e) => e.seq === event.seq && e.type === event.type && e.at === event.at)) {
      detailData.timeline.push(event);
      detailData.version = (detailData.version || 0) + 1;
      if (selected === alertId) renderDetail();
    }
  }

  // ---------------------------------------------------------------- live events
  function flash(a) {
    root.classList.remove("flash");
    void root.offsetWidth; // restart the animation
    root.classList.add("flash");
    clearTimeout(flashTimer);
    flashTimer = setTimeout(() => root.classList.remove("flash"), 4000);
    banner.hidden = false;
    banner.textContent = t("console.newAlert", { name: a.person?.display_name || a.person?.label || "",
      category: t(`sos.cat.${a.category}`) });
  }

  subs.on("sos:new", (a) => {
    if (a.view !== "full") return;
    const known = alerts.has(a.id);
    alerts.set(a.id, a);
    renderList();
    renderMarkers();
    if (!known) {
      beep();
      flash(a);
      if (document.hidden) notify(a, (id) => { location.hash = `#/console/${id}`; });
      backgroundAlarm();
    }
    if (selected === a.id) renderDetail();
  });
  let timelineTimer = null;
  async function refreshTimeline(id) {
    try {
      const timeline = await call("sos:timeline", { alert_id: id });
      if (detailData && detailData.id === id && selected === id) {
        detailData.timeline = timeline.events;
        detailData.version = (detailData.version || 0) + 1;
        renderDetail();
      }
    } catch { /* the next update or a reselect reads it again */ }
  }
  subs.on("sos:updated", (a) => {
    if (a.view !== "full") return;
    alerts.set(a.id, a);
    renderList();
    renderMarkers();
    backgroundAlarm();
    if (selected === a.id) {
      renderDetail();
      clearTimeout(timelineTimer);
      timelineTimer = setTimeout(() => refreshTimeline(a.id), 300);
    }
  });
  subs.on("sos:location", ({ alert_id, location }) => {
    const a = alerts.get(alert_id);
    if (!a || !location) return;
    a.location = location;
    a.lat = location.lat;
    a.lon = location.lon;
    a.accuracy_m = location.accuracy_m;
    a.location_known = true;
    renderMarkers();
    if (selected === alert_id) renderDetail();
  });
  subs.on("sos:note", ({ alert_id, event }) => addTimeline(alert_id, event));
  subs.on("duty:updated", ({ officers: list }) => {
    officers = list;
    onDuty = list.some((o) => o.id === session.user?.id);
    renderDuty();
  });
  subs.on("socket:ready", () => { loadFeed(); loadQueue(); });

  // ---------------------------------------------------------------- approvals
  let queueRun = 0;
  async function loadQueue() {
    const run = ++queueRun;
    try {
      const { associations } = await api("/api/associations/pending?limit=100");
      if (run !== queueRun) return; // a newer load (reconnect, decision) is on its way
      clear(queue).append(h("h2", { id: "approvals-h" }, t("console.approvals")));
      if (!associations.length) { queue.append(h("p", { class: "muted" }, t("console.noPending"))); return; }
      queue.append(h("ul", { class: "list", id: "pending-list" }, associations.map((a) => pendingItem(a))));
    } catch (e) {
      if (run !== queueRun) return;
      clear(queue).append(h("h2", { id: "approvals-h" }, t("console.approvals")),
        h("p", { class: "error" }, errorText(e)));
    }
  }

  function pendingItem(a) {
    const li = h("li", { dataset: { id: a.id } });
    const qErr = errorBox();
    const approve = h("button", { type: "button", class: "primary small", "aria-label": `${t("console.approve")}: ${a.name}` },
      t("console.approve"));
    const reject = h("button", { type: "button", class: "secondary small", "aria-label": `${t("console.reject")}: ${a.name}` },
      t("console.reject"));
    const rejectSlot = h("div");
    approve.addEventListener("click", () => busy(approve, async () => {
      try {
        await api(`/api/associations/${a.id}/approve`, { method: "POST" });
        announce(t("console.approved", { name: a.name }));
        loadQueue();
      } catch (e) { qErr.show(e); }
    }));
    reject.addEventListener("click", () => {
      clear(rejectSlot);
      const reason = h("textarea", { rows: 2, maxlength: 500, required: true, id: `reason-${a.id}` });
      const send = h("button", { type: "submit", class: "primary small" }, t("console.rejectConfirm"));
      const form = h("form", { class: "form" }, field(t("console.reason"), reason), send);
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        if (!reason.value.trim()) return;
        await busy(send, async () => {
          try {
            await api(`/api/associations/${a.id}/reject`, { method: "POST", body: { reason: reason.value.trim() } });
            announce(t("console.rejected", { name: a.name }));
            loadQueue();
          } catch (e) { qErr.show(e); }
        });
      });
      rejectSlot.append(form);
      reason.focus();
    });
    li.append(h("a", { href: `#/associations/${a.id}`, class: "item-title" }, a.name),
      h("span", { class: "muted" }, `${a.city}, ${countryName(a.country)} · ${a.contact_email}`),
      a.description ? h("span", { class: "small" }, a.description) : null,
      h("span", { class: "small muted" }, `${t("console.registered")} ${fmtTime(a.created_at, getLang())}`),
      h("div", { class: "row" }, approve, reject), rejectSlot, qErr.el);
    return li;
  }

  // ---------------------------------------------------------------- history of closed alerts
  // Filters (status, category, country, days) as GET /api/sos/alerts takes them, newest first,
  // a page at a time; choosing one opens it in the detail pane (timeline and audit log).
  function renderHistory() {
    const herr = errorBox();
    const results = h("ul", { class: "history-list", id: "history-list", "aria-live": "polite" });
    const more = h("button", { type: "button", class: "secondary small", id: "history-more", hidden: true },
      t("console.historyMore"));
    const statuses = [["", t("console.allClosed")], ...["resolved", "false_alarm", "cancelled"]
      .map((s) => [s, t(`status.${s}`)])];
    const categories = [["", t("console.anyCategory")], ...CATEGORIES.map((c) => [c, t(`sos.cat.${c}`)])];
    const form = h("form", { class: "form history-filters", role: "search", "aria-label": t("console.historyFilters") },
      h("div", { class: "grid3" },
        field(t("console.status"), select({ name: "status" }, statuses, "")),
        field(t("sos.category"), select({ name: "category" }, categories, "")),
        field(t("auth.country"), select({ name: "country" }, countryOptions(true), "")),
        field(t("console.since"), h("input", { type: "date", name: "since" })),
        field(t("console.until"), h("input", { type: "date", name: "until" }))),
      herr.el, h("button", { type: "submit", class: "primary" }, t("console.historySearch")));
    let filters = {};
    let before = null;
    async function load(reset) {
      herr.show(null);
      if (reset) { before = null; clear(results); }
      const query = new URLSearchParams(Object.entries({ ...filters, ...(before ? { before } : {}) })
        .filter(([, v]) => v));
      try {
        const page = await api(`/api/sos/alerts?${query}`);
        for (const a of page.alerts) {
          const item = h("button", { type: "button", class: "link history-item", dataset: { id: a.id } },
            `${a.person?.display_name || "?"} · ${t(`sos.cat.${a.category}`)} · ${t(`status.${a.status}`)}`
            + ` · ${fmtTime(a.created_at, getLang())} · ${countryName(a.person?.country)}`);
          item.addEventListener("click", () => selectAlert(a.id));
          results.append(h("li", null, item));
        }
        if (reset && !page.alerts.length) results.append(h("li", { class: "muted" }, t("console.historyNone")));
        before = page.next_before;
        more.hidden = !before;
      } catch (e) {
        herr.show(e);
      }
    }
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      filters = formValues(form);
      busy(form.querySelector("button[type=submit]"), () => load(true));
    });
    more.addEventListener("click", () => busy(more, () => load(false)));
    clear(historyPane).append(h("h2", { id: "history-h" }, t("console.history")), form, results, more);
  }

  // ---------------------------------------------------------------- start
  queue.append(h("h2", { id: "approvals-h" }, t("console.approvals")), h("p", { class: "muted" }, t("common.loading")));
  renderDuty();
  renderHistory();
  renderList();
  renderDetail();
  initMap();
  loadFeed();
  loadQueue();
  const ticker = setInterval(() => { renderList(); }, 15_000);
  return () => {
    window.removeEventListener("beforeunload", warnOnLeave);
    document.removeEventListener("visibilitychange", backgroundAlarm);
    clearTimeout(repeatTimer);
    restoreTitle();
    clearInterval(ticker);
    clearTimeout(flashTimer);
    subs.close();
    if (map) map.remove();
    markers = new Map();
  };
}

// ---------------------------------------------------------------- check-in origin (issue 14)
function originText(a) {
  const c = a.checkin;
  const what = c.reason === "duress" ? t("console.fromCheckinDuress") : t("console.fromCheckin");
  return `${what} · ${t("console.checkinDue", { time: fmtTime(c.due_at, getLang()) })}`;
}

function originBadge(a) {
  if (!a.checkin) return null;
  return h("span", { class: "alert-meta alert-origin", dataset: { origin: a.checkin.reason } },
    checkinNote(a.checkin) ? `${originText(a)} · “${checkinNote(a.checkin)}”` : originText(a));
}

function checkinNote(c) {
  return c.note ? (c.note.length > 80 ? `${c.note.slice(0, 79)}…` : c.note) : "";
}
