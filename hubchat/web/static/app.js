// The shell and the hash router: header (navigation, language switch, connection state), the
// SOS button on every screen, and one view at a time in <main>.
//
// Routes: #/login #/signup #/verify #/settings #/chat #/chat/{id} #/associations
// #/associations/new #/associations/{id} #/sos #/checkin #/console #/console/{alert id}
// #/sos/history (the person's past alerts) #/channels/new #/channels/{id} (between associations)

import { api, session } from "./api.js";
import { connect, disconnect } from "./socket.js";
import { bus } from "./state.js";
import { loadConfig } from "./config.js";
import { clear, h } from "./dom.js";
import { getLang, onLangChange, setLang, t } from "./i18n.js";
import { forgetChat, startChat, stopChat } from "./chatstore.js";
import { forgetSos, sos, startSos, stopSos } from "./sosstore.js";
import { mountResponder, startResponder, stopResponder } from "./views/responder.js";
import * as auth from "./views/auth.js";
import * as directory from "./views/directory.js";
import * as chatView from "./views/chat.js";
import * as sosView from "./views/sos.js";
import * as historyView from "./views/history.js";
import * as channelsView from "./views/channels.js";
import * as safetyView from "./views/safety.js";
import { listenForNotificationClicks, mountPushSettings } from "./views/push.js";

// The officers' console (and Leaflet, which it loads) is fetched only when an officer opens it.
const consoleView = { render: (...args) => import("./views/console.js").then((m) => m.render(...args)) };
// The check-in timer screen, fetched when first opened (it is not on the SOS path).
const checkinView = { render: (...args) => import("./views/checkin.js").then((m) => m.render(...args)) };
// Cases and reports (and Chart.js, which reports load) likewise.
const casesView = { render: (...args) => import("./views/cases.js").then((m) => m.render(...args)) };
const reportsView = { render: (...args) => import("./views/reports.js").then((m) => m.render(...args)) };

const ROUTES = [
  [/^\/login$/, auth.login, { public: true }],
  [/^\/signup$/, auth.signup, { public: true }],
  [/^\/verify$/, auth.verify, { public: true }],
  [/^\/settings$/, settingsPage],
  [/^\/chat$/, chatView.render],
  [/^\/chat\/([0-9a-f]{24})$/, chatView.render],
  [/^\/associations$/, directory.search],
  [/^\/associations\/new$/, directory.register],
  [/^\/associations\/([0-9a-f]{24})$/, directory.page],
  [/^\/sos$/, sosView.render, { public: true }],
  [/^\/sos\/([0-9a-f]{24})$/, sosLink],
  [/^\/checkin$/, checkinView.render],
  [/^\/console$/, consoleView.render, { officer: true }],
  [/^\/console\/([0-9a-f]{24})$/, consoleView.render, { officer: true }],
  [/^\/sos\/history$/, historyView.render],
  [/^\/channels\/new$/, channelsView.create],
  [/^\/channels\/([0-9a-f]{24})$/, channelsView.manage],
  [/^\/safety$/, safetyView.render],
  [/^\/cases$/, casesView.render, { officer: true }],
  [/^\/cases\/([0-9a-f]{24})$/, casesView.render, { officer: true }],
  [/^\/reports$/, reportsView.render, { officer: true }],
];

// The settings page with its notifications card (views/push.js).
function settingsPage(main, context) {
  const done = auth.settings(main, context);
  mountPushSettings(main.querySelector("section.narrow") || main);
  return done;
}

// Escalation emails link to #/sos/{alert id}: officers open it in the console, others get the SOS screen.
function sosLink(_main, { params: [id] }) {
  location.replace(session.isOfficer ? `#/console/${id}` : "#/sos");
}

let main;
let nav;
let sosButton;
let statusBadge;
let langButton;
let cleanup = null;
let lastPath = null;

function buildShell() {
  const root = document.getElementById("app");
  clear(root);
  statusBadge = h("span", { class: "conn", id: "conn-status", role: "status" });
  langButton = h("button", { type: "button", class: "lang-switch", id: "lang-switch", onclick: toggleLang });
  nav = h("nav", { class: "nav", "aria-label": t("nav.label") });
  sosButton = h("a", { href: "#/sos", class: "sos-fab", id: "sos-fab" },
    h("span", { class: "sos-fab-text", "aria-hidden": "true" }, "SOS"),
    h("span", { class: "visually-hidden" }, t("sos.fab")));
  main = h("main", { id: "main", tabindex: "-1" });
  const responder = h("section", { id: "responder", class: "responder", "aria-label": t("resp.region"),
    "aria-live": "polite", hidden: true });
  root.append(
    h("a", { href: "#main", class: "skip-link", onclick: skipToMain }, t("nav.skip")),
    h("header", { class: "topbar" },
      h("a", { href: "#/chat", class: "brand" }, "hubchat"),
      nav,
      h("div", { class: "topbar-tools" }, statusBadge, langButton),
      sosButton),
    responder,
    main,
    h("div", { id: "live-polite", class: "visually-hidden", "aria-live": "polite" }),
    h("div", { id: "live-assertive", class: "visually-hidden", "aria-live": "assertive" }),
  );
  mountResponder(responder);
  renderChrome();
}

function skipToMain(event) {
  event.preventDefault();
  (main.querySelector("h1") || main).focus();
}

function renderChrome() {
  document.documentElement.lang = getLang();
  langButton.textContent = getLang() === "lus" ? "English" : "Mizo";
  langButton.setAttribute("lang", getLang() === "lus" ? "en" : "lus");
  langButton.setAttribute("aria-label", t("lang.switch"));
  sosButton.querySelector(".visually-hidden").textContent = t("sos.fab");
  document.querySelector(".skip-link").textContent = t("nav.skip");
  nav.setAttribute("aria-label", t("nav.label"));
  clear(nav);
  if (session.signedIn) {
    const links = [["#/chat", t("nav.chat")], ["#/associations", t("nav.associations")]];
    links.push(["#/checkin", t("nav.checkin")]);
    if (session.isOfficer) links.push(["#/console", t("nav.console")]);
    links.push(["#/safety", t("nav.safety")]);
    if (session.isOfficer) links.push(["#/cases", t("nav.cases")], ["#/reports", t("nav.reports")]);
    links.push(["#/settings", t("nav.settings")]);
    const here = location.hash || "#/chat";
    nav.append(h("ul", null, links.map(([href, label]) => h("li", null,
      h("a", { href, "aria-current": here.startsWith(href) ? "page" : null }, label)))));
  } else {
    nav.append(h("ul", null, h("li", null, h("a", { href: "#/login" }, t("nav.login"))),
      h("li", null, h("a", { href: "#/signup" }, t("nav.signup")))));
  }
  renderStatus();
  sosButton.classList.toggle("sos-active", sos.active);
}

function renderStatus(state) {
  const s = state || (window.hubchat?.connection?.state ?? "offline");
  statusBadge.dataset.state = session.signedIn ? s : "none";
  statusBadge.textContent = !session.signedIn ? "" : t(`conn.${s}`);
}

function toggleLang() {
  setLang(getLang() === "lus" ? "en" : "lus");
}

async function route() {
  const path = (location.hash || "").replace(/^#/, "") || (session.signedIn ? "/chat" : "/login");
  const pathOnly = path.split("?")[0];
  let match = null;
  for (const [pattern, view, opts = {}] of ROUTES) {
    const m = pathOnly.match(pattern);
    if (m) { match = { view, opts, params: m.slice(1) }; break; }
  }
  if (!match) { location.replace(session.signedIn ? "#/chat" : "#/login"); return; }
  if (!match.opts.public && !session.signedIn) { location.replace(`#/login?next=${encodeURIComponent(path)}`); return; }
  if (cleanup) { try { cleanup(); } catch (err) { console.error(err); } cleanup = null; }
  clear(main);
  renderChrome();
  document.body.dataset.route = pathOnly.split("/")[1] || "";
  sosButton.hidden = pathOnly === "/sos";
  if (match.opts.officer && !session.isOfficer) {
    main.append(h("h1", { tabindex: "-1" }, t("console.only")));
  } else {
    const query = new URLSearchParams(path.includes("?") ? path.slice(path.indexOf("?") + 1) : "");
    cleanup = (await match.view(main, { params: match.params, query, path: pathOnly })) || null;
  }
  const heading = main.querySelector("h1");
  document.title = heading ? `${heading.textContent} · hubchat` : "hubchat";
  if (lastPath !== null && lastPath !== pathOnly && heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: true });
  }
  lastPath = pathOnly;
}

export function startSession(user) {
  startChat(user);
  startSos(user);
  startResponder(user);
  connect();
}

export async function endSession({ callServer = true } = {}) {
  const userId = session.user?.id;
  disconnect(); // first: the server's logout closes this session's sockets, which must not look like a drop
  if (callServer && session.signedIn) {
    try { await api("/api/auth/logout", { method: "POST" }); } catch { /* signed out locally anyway */ }
  }
  stopChat();
  stopSos();
  stopResponder();
  // An explicit logout forgets this person's data on the device.  A session that ended by itself
  // (revoked, expired) keeps it: a pending SOS and unsent messages go out after the next login.
  if (userId && callServer) { forgetChat(userId); forgetSos(userId); }
  session.clear();
  renderChrome();
  location.hash = "#/login";
}

async function boot() {
  loadConfig(); // kept for the SOS screen offline
  buildShell();
  onLangChange(() => { renderChrome(); route(); });
  bus.on("connection", (state) => renderStatus(state));
  bus.on("sos:changed", () => sosButton.classList.toggle("sos-active", sos.active));
  bus.on("session:ended", () => { if (!session.signedIn) endSession({ callServer: false }); });
  bus.on("session:started", (user) => { startSession(user); renderChrome(); });
  bus.on("session:logout", () => endSession());
  window.addEventListener("hashchange", route);
  if (session.signedIn) {
    startSession(session.user);
    api("/api/me").then(({ user }) => session.setUser(user)).catch(() => {});
  }
  await route();
  // The app shell from the service worker's cache when there is no network (hubchat/web/sw.js).
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(() => {});
  listenForNotificationClicks(); // a clicked push notification opens its view here
}

boot();
