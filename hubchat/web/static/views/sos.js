// The SOS screen.  Confirm step: press and hold the big button for one second (mouse, touch, or
// Space/Enter held down).  A tap, a brush or a pocket press shorter than that sends nothing and
// says so.  Then: received → acknowledged by NAME → responding → resolved, live location
// sharing, and cancel with the PIN (the duress PIN shows the same "cancelled" screen).

import { session } from "../api.js";
import { connection } from "../socket.js";
import { Subscriptions } from "../state.js";
import { announce, clear, field, fmtTime, h, randomId } from "../dom.js";
import { getLang, t } from "../i18n.js";
import { addNote, cancelAlert, dismiss, sos, trigger, warmUpLocation } from "../sosstore.js";
import { busy, errorBox, errorText, heading } from "./common.js";
import { cachedConfig, loadConfig } from "../config.js";

const HOLD_MS = 1000;
const CATEGORIES = ["medical", "violence", "exploitation", "detention", "stranded", "other"];

/** Call or text the Cell's emergency number (when one is configured): offered at once while an
 * SOS cannot be sent, and to someone who is not signed in.  The text carries the location. */
function cellContact() {
  const phone = cachedConfig().cell_phone;
  if (!phone) return null;
  const f = sos.fix;
  const where = f
    ? `${f.lat.toFixed(5)},${f.lon.toFixed(5)} (±${Math.round(f.accuracy_m)} m) `
      + `https://www.openstreetmap.org/?mlat=${f.lat.toFixed(5)}&mlon=${f.lon.toFixed(5)}#map=17/${f.lat.toFixed(5)}/${f.lon.toFixed(5)}`
    : t("sos.smsNoLocation");
  const name = session.user?.display_name || "";
  const body = t("sos.smsBody", { name, where });
  return h("div", { class: "sos-direct", id: "sos-direct" },
    h("p", { class: "small" }, t("sos.directIntro")),
    h("div", { class: "row" },
      h("a", { href: `tel:${phone}`, class: "button primary", id: "sos-call" }, t("sos.callCell", { phone })),
      h("a", { href: `sms:${phone}?body=${encodeURIComponent(body)}`, class: "button secondary", id: "sos-sms" },
        t("sos.textCell"))));
}

export function render(main) {
  const subs = new Subscriptions();
  const root = h("section", { class: "sos-screen" });
  main.append(root);
  if (!session.signedIn) {
    const direct = h("div");
    root.append(heading(t("sos.title")), h("p", null, t("sos.signInFirst")), direct,
      h("p", { class: "emergency-numbers" }, t("sos.localNumbers")),
      h("a", { href: "#/login?next=/sos", class: "button primary" }, t("auth.login")));
    loadConfig().then(() => { clear(direct); const c = cellContact(); if (c) direct.append(c); });
    return () => subs.close();
  }
  let mode = null;
  let category = "other";
  let lastStatus = sos.alert?.status || null;

  function draw() {
    const next = sos.pending ? "sending" : sos.alert ? "alert" : "start";
    if (next === "start") warmUpLocation();
    if (next === mode && next !== "start") { update(); return; }
    if (next === mode && next === "start") { updateStart(); return; }
    mode = next;
    clear(root);
    if (mode === "start") drawStart();
    else if (mode === "sending") drawSending();
    else drawAlert();
  }

  // ---------------------------------------------------------------- start: hold to send
  let locLine = null;
  function drawStart() {
    const hint = h("p", { class: "hold-hint", id: "hold-hint", "aria-live": "polite" }, t("sos.holdHint"));
    const hold = h("button", { type: "button", class: "sos-hold", id: "sos-hold", "aria-describedby": "hold-hint" },
      h("span", { class: "sos-hold-fill", "aria-hidden": "true" }),
      h("span", { class: "sos-hold-label" }, t("sos.hold")));
    const note = h("textarea", { name: "note", rows: 2, maxlength: 500, id: "sos-note" });
    const cats = h("fieldset", { class: "categories" }, h("legend", null, t("sos.category")),
      h("div", { class: "chips" }, CATEGORIES.map((c) => {
        const id = `cat-${c}`;
        const radio = h("input", { type: "radio", name: "category", value: c, id, checked: c === category });
        radio.addEventListener("change", () => { category = c; });
        return h("label", { for: id, class: "chip" }, radio, t(`sos.cat.${c}`));
      })));
    locLine = h("p", { class: "small muted", id: "sos-location-state" });
    const confirmSlot = h("div", { class: "confirm-slot" });
    root.append(heading(t("sos.title")), h("p", { class: "lead" }, t("sos.intro")), hold, hint,
      confirmSlot, locLine,
      h("details", { class: "sos-details" }, h("summary", null, t("sos.addDetails")), cats,
        field(t("sos.note"), note)),
      h("p", { class: "small muted" }, t("sos.localNumbers")), historyLink());
    updateStart();
    const send = () => {
      if (navigator.vibrate) navigator.vibrate(200);
      announce(t("sos.sending"), true);
      trigger({ category, note: note.value.trim() });
    };
    // A short tap (or assistive technology's "activate") offers a second, differently placed
    // button instead: two deliberate taps in two places also send, one stray tap never does.
    let hideTimer = null;
    const offerConfirm = () => {
      clear(confirmSlot);
      const confirm = h("button", { type: "button", class: "sos-confirm", id: "sos-confirm" }, t("sos.confirmSend"));
      confirm.addEventListener("click", send);
      confirmSlot.append(confirm);
      clearTimeout(hideTimer);
      hideTimer = setTimeout(() => clear(confirmSlot), 10_000);
    };
    armHold(hold, hint, send, offerConfirm);
  }

  function updateStart() {
    if (!locLine) return;
    locLine.textContent = t(`sos.loc.${sos.locationState}`);
  }

  // ---------------------------------------------------------------- sending (not yet stored)
  function drawSending() {
    root.append(heading(t("sos.sendingTitle")),
      h("p", { class: "status-big", role: "status", id: "sos-sending" }, t("sos.sending")),
      h("p", { id: "sos-sending-detail", class: "muted" }),
      h("div", { id: "sos-direct-slot" }),
      h("p", { class: "small muted" }, t("sos.localNumbers")));
    update();
  }

  // ---------------------------------------------------------------- the alert
  function drawAlert() {
    const err = errorBox();
    const steps = h("ol", { class: "sos-steps", id: "sos-steps" });
    const status = h("p", { class: "status-big", id: "sos-status", role: "status", "aria-live": "polite" });
    const loc = h("p", { class: "small", id: "sos-loc" });
    const meta = h("p", { class: "small muted", id: "sos-meta" });
    const footer = h("div", { class: "sos-footer", id: "sos-footer" });
    const noteForm = drawNoteForm();
    root.append(heading(t("sos.alertTitle")), status, steps, loc, meta, err.el, noteForm, footer);
    root._parts = { steps, status, loc, meta, footer, err, noteForm };
    update();
  }

  // A note to the responders while the alert is open (socket, or HTTP when the socket is down;
  // one client_id per note, kept while it is retried, so it is stored once).
  function drawNoteForm() {
    const err = errorBox();
    const text = h("textarea", { name: "note", rows: 2, maxlength: 1000, id: "sos-add-note" });
    const submit = h("button", { type: "submit", class: "secondary", id: "sos-add-note-send" }, t("console.addNote"));
    const form = h("form", { class: "form", id: "sos-note-form" }, field(t("sos.note"), text), err.el, submit);
    let clientId = null;
    let sentText = null;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = text.value.trim();
      if (!body) return;
      if (body !== sentText) { clientId = null; sentText = body; }
      clientId ||= randomId("note-");
      err.show(null);
      await busy(submit, async () => {
        try {
          await addNote(body, clientId);
          text.value = "";
          clientId = null;
          sentText = null;
        } catch (e) {
          err.show(errorText(e));
        }
      });
    });
    return form;
  }

  function update() {
    if (mode === "sending") {
      const detail = root.querySelector("#sos-sending-detail");
      const p = sos.pending;
      if (detail && p) {
        detail.textContent = connection.online ? t("sos.sendingOnline") : t("sos.sendingOffline");
        if (p.attempts) detail.textContent += ` ${t("sos.attempts", { n: p.attempts })}`;
      }
      // Not stored yet: the Cell's number, with the freshest location in the text, right away.
      const slot = root.querySelector("#sos-direct-slot");
      if (slot) {
        const direct = cellContact();
        const sms = direct?.querySelector("#sos-sms")?.getAttribute("href");
        if (sms !== slot.querySelector("#sos-sms")?.getAttribute("href")) { clear(slot); if (direct) slot.append(direct); }
      }
      return;
    }
    if (mode !== "alert" || !root._parts) return;
    const a = sos.alert;
    const { steps, status, loc, meta, footer } = root._parts;
    const order = ["open", "acknowledged", "responding", "resolved"];
    const closed = ["resolved", "false_alarm", "cancelled"].includes(a.status);
    const reached = a.status === "false_alarm" ? 3 : order.indexOf(a.status);
    clear(steps);
    if (a.status !== "cancelled") {
      const ackName = a.acknowledged_by?.display_name;
      const labels = [
        t("sos.step.received"),
        ackName ? t("sos.step.acknowledgedBy", { name: ackName }) : t("sos.step.acknowledged"),
        t("sos.step.responding"),
        a.status === "false_alarm" ? t("sos.step.closed") : t("sos.step.resolved"),
      ];
      labels.forEach((label, i) => {
        const done = i <= reached;
        steps.append(h("li", { class: `${done ? "done" : "todo"}${i === reached ? " current" : ""}`,
          "aria-current": i === reached ? "step" : null },
        h("span", { class: "step-mark", "aria-hidden": "true" }, done ? "✓" : String(i + 1)),
        h("span", null, label), done ? h("span", { class: "visually-hidden" }, ` (${t("sos.done")})`) : null));
      });
    }
    status.textContent = t(`sos.status.${a.status}`, { name: a.acknowledged_by?.display_name || "" });
    status.dataset.status = a.status;
    if (lastStatus !== a.status) {
      announce(status.textContent, true);
      lastStatus = a.status;
    }
    root.classList.toggle("closed", closed);
    root._parts.noteForm.hidden = closed;
    if (closed) loc.textContent = "";
    else if (sos.locationState === "sharing") loc.textContent = t("sos.sharing");
    else if (sos.locationState === "denied") loc.textContent = t("sos.locDenied");
    else if (a.location_known) loc.textContent = t("sos.locSent");
    else loc.textContent = t("sos.locNone");
    meta.textContent = `${t(`sos.cat.${a.category}`)} · ${fmtTime(a.created_at, getLang())}`
      + (sos.via === "http" ? ` · ${t("sos.viaHttp")}` : "");
    drawFooter(footer, a, closed);
  }

  let footerState = null; // what the person asked for: "open" or "pin"
  let footerDrawn = null; // what the footer shows now
  function drawFooter(footer, a, closed) {
    const want = closed ? "closed" : footerState === "pin" ? "pin" : "open";
    if (want === footerDrawn && footer.childElementCount) return;
    footerDrawn = want;
    clear(footer);
    if (want === "closed") {
      const done = h("button", { type: "button", class: "primary", id: "sos-done" }, t("sos.close"));
      done.addEventListener("click", () => { dismiss(); location.hash = "#/chat"; });
      footer.append(done);
    } else if (want === "open") {
      const cancel = h("button", { type: "button", class: "secondary", id: "sos-cancel" }, t("sos.cancel"));
      cancel.addEventListener("click", () => {
        footerState = "pin";
        drawFooter(footer, a, false);
        footer.querySelector("input")?.focus();
      });
      footer.append(h("p", { class: "small muted" }, t("sos.keepOpen")), cancel);
    } else {
      const err = errorBox();
      const pin = h("input", { type: "password", name: "pin", inputmode: "numeric", pattern: "[0-9]{4,8}", minlength: 4,
        maxlength: 8, required: true, autocomplete: "off", id: "sos-pin" });
      const confirm = h("button", { type: "submit", class: "primary", id: "sos-cancel-confirm" }, t("sos.cancelConfirm"));
      const back = h("button", { type: "button", class: "secondary" }, t("sos.keep"));
      const form = h("form", { class: "card form", id: "sos-cancel-form" }, field(t("sos.pin"), pin, t("sos.pinHint")),
        err.el, h("div", { class: "row" }, confirm, back));
      back.addEventListener("click", () => { footerState = "open"; drawFooter(footer, sos.alert, false); });
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        err.show(null);
        await busy(confirm, async () => {
          try {
            await cancelAlert(pin.value.trim());
          } catch (e) {
            err.show(e.code === "offline" ? t("sos.cancelOffline") : errorText(e));
            pin.value = "";
            pin.focus();
          }
        });
      });
      footer.append(form);
    }
  }

  subs.on("sos:changed", draw);
  subs.on("connection", () => { if (mode === "sending") update(); });
  draw();
  return () => subs.close();
}

/** Press-and-hold: pointer or Space/Enter held for HOLD_MS fires ``done`` once; shorter does nothing. */
function armHold(button, hint, done, onShortTap) {
  let timer = null;
  let started = 0;
  let fired = false;
  const start = (event) => {
    if (timer || fired) return;
    if (event.type === "pointerdown") {
      if (event.button !== 0) return;
      button.setPointerCapture?.(event.pointerId);
    }
    started = performance.now();
    button.classList.add("holding");
    hint.textContent = t("sos.keepHolding");
    timer = setTimeout(() => {
      timer = null;
      fired = true;
      button.classList.remove("holding");
      button.classList.add("fired");
      done();
    }, HOLD_MS);
  };
  const stop = () => {
    if (!timer) return;
    clearTimeout(timer);
    timer = null;
    button.classList.remove("holding");
    const held = Math.round(performance.now() - started);
    hint.textContent = held < HOLD_MS ? t("sos.tooShort") : t("sos.holdHint");
  };
  button.addEventListener("pointerdown", start);
  button.addEventListener("pointerup", stop);
  button.addEventListener("pointercancel", stop);
  button.addEventListener("lostpointercapture", stop);
  button.addEventListener("contextmenu", (event) => event.preventDefault());
  button.addEventListener("keydown", (event) => {
    if ((event.key === " " || event.key === "Enter") && !event.repeat) { event.preventDefault(); start(event); }
    else if (event.key === " " || event.key === "Enter") event.preventDefault();
  });
  button.addEventListener("keyup", (event) => { if (event.key === " " || event.key === "Enter") stop(); });
  button.addEventListener("blur", stop);
  // A click alone (a tap, or assistive technology's "activate") never sends.
  button.addEventListener("click", (event) => {
    event.preventDefault();
    if (!fired && !timer) {
      hint.textContent = t("sos.tooShort");
      onShortTap();
    }
  });
}

/** The person's own past alerts, one tap away from the SOS screen (loaded only when opened). */
function historyLink() {
  return h("p", { class: "small" }, h("a", { href: "#/sos/history", id: "sos-history-link" }, t("mine.link")));
}
