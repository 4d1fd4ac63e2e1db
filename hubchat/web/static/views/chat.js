// Chat: channel list with unread counts; a conversation with history on scroll, the outbox
// (sending / waiting / failed), read receipts, typing, presence, edit and delete, and each
// message's original with its translation (toggle, and a member's correction).

import { session } from "../api.js";
import { connection } from "../socket.js";
import { Subscriptions, store } from "../state.js";
import { announce, clear, fmtTime, h, renderKeyed } from "../dom.js";
import { getLang, t } from "../i18n.js";
import {
  chat, closeChannel, correctTranslation, deleteMessage, discard, editMessage, loadOlder, openChannel, retryNow,
  send, sendTyping,
} from "../chatstore.js";
import { errorText, heading } from "./common.js";

// A message's translation that has no text to show, by status (docs/api.md, "translation").
const TR_STATES = {
  unavailable: "chat.trUnavailable",
  pending_backfill: "chat.trPending",
  failed: "chat.trFailed",
};

const LANG_NAMES = { lus: "Mizo", en: "English" };

function channelName(c) {
  if (!c) return "";
  if (c.name) return c.kind === "cell" ? `${c.name}` : c.name;
  return t(`chat.kind.${c.kind}`);
}

export function render(main, { params: [channelId] }) {
  const subs = new Subscriptions();
  const layout = h("div", { class: `chat-layout ${channelId ? "has-open" : ""}` });
  const listPane = h("nav", { class: "channel-pane", "aria-labelledby": "channels-h" });
  const convo = h("section", { class: "conversation" });
  layout.append(listPane, convo);
  main.append(layout);

  // ---------------------------------------------------------------- channel list
  function renderList() {
    clear(listPane);
    const title = channelId ? h("h2", { id: "channels-h" }, t("chat.channels")) : null;
    listPane.append(channelId ? title : heading(t("chat.title")));
    if (!channelId) listPane.querySelector("h1").id = "channels-h";
    const channels = chat.channels;
    if (!channels.length) {
      listPane.append(h("p", { class: "muted" }, chat.loaded ? t("chat.noChannels") : t("common.loading")));
      if (chat.loaded) listPane.append(h("a", { href: "#/associations", class: "button secondary" }, t("chat.findAssociation")));
      return;
    }
    listPane.append(h("ul", { class: "channel-list" }, channels.map((c) => {
      const unread = c.unread && c.id !== channelId ? c.unread : 0;
      return h("li", null, h("a", { href: `#/chat/${c.id}`, "aria-current": c.id === channelId ? "page" : null,
        class: unread ? "unread" : null },
      h("span", { class: "channel-name" }, channelName(c)),
      h("span", { class: "channel-kind" }, t(`chat.kind.${c.kind}`)),
      unread ? h("span", { class: "badge count" }, h("span", { "aria-hidden": "true" }, String(unread)),
        h("span", { class: "visually-hidden" }, t("chat.unread", { n: unread }))) : null));
    })));
    listPane.append(...interLinks(channels));
  }
  renderList();
  subs.on("chat:changed", () => renderList());

  if (!channelId) {
    convo.append(h("p", { class: "muted empty-convo" }, t("chat.pick")));
    return () => subs.close();
  }

  // ---------------------------------------------------------------- conversation
  const prefKey = "hubchat.showTranslations";
  let showAll = store.get(prefKey, true);
  const toggled = new Map(); // message id -> bool (overrides showAll)
  let editing = null;
  let correcting = null;
  const err = h("p", { class: "error", role: "alert", hidden: true });
  const title = heading("");
  const subtitle = h("p", { class: "muted small", id: "convo-sub" });
  const trToggle = h("button", { type: "button", class: "secondary small", id: "toggle-translations",
    "aria-pressed": String(showAll) }, t("chat.showTranslations"));
  trToggle.addEventListener("click", () => {
    showAll = !showAll;
    toggled.clear();
    store.set(prefKey, showAll);
    trToggle.setAttribute("aria-pressed", String(showAll));
    renderMessages();
  });
  const older = h("button", { type: "button", class: "link older", hidden: true }, t("chat.older"));
  const list = h("ol", { class: "messages-list" });
  const scroller = h("div", { class: "messages", id: "messages", role: "log", tabindex: "0",
    "aria-label": t("chat.messages"), "aria-live": "polite", "aria-relevant": "additions" }, older, list);
  const typingLine = h("p", { class: "typing muted small", "aria-live": "polite" });
  const input = h("textarea", { id: "composer", name: "body", rows: 2, maxlength: 4000,
    placeholder: t("chat.placeholder") });
  const sendButton = h("button", { type: "submit", class: "primary", id: "send" }, t("chat.send"));
  const composer = h("form", { class: "composer", "aria-label": t("chat.composer") },
    h("label", { for: "composer", class: "visually-hidden" }, t("chat.message")), input, sendButton);

  convo.append(
    h("div", { class: "convo-head" },
      h("a", { href: "#/chat", class: "back small" }, `← ${t("chat.channels")}`),
      title, subtitle, trToggle, manageLink(channelId, subs)),
    err, scroller, typingLine, composer);

  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = input.value.trim();
    if (!body) return;
    send(channelId, body);
    input.value = "";
    stickToBottom = true;
    if (!connection.online) announce(t("chat.queued"));
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });
  input.addEventListener("input", () => { if (input.value.trim()) sendTyping(channelId); });

  let stickToBottom = true;
  scroller.addEventListener("scroll", () => {
    stickToBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
  });
  const loadMore = async () => {
    const before = scroller.scrollHeight - scroller.scrollTop;
    try {
      if (await loadOlder(channelId)) scroller.scrollTop = scroller.scrollHeight - before;
    } catch (e) {
      showError(e);
    }
  };
  older.addEventListener("click", loadMore);
  const observer = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting) && !older.hidden) loadMore();
  }, { root: scroller });
  observer.observe(older);

  function showError(e) {
    err.hidden = !e;
    err.textContent = e ? errorText(e) : "";
  }

  function renderHead() {
    const c = chat.channel(channelId);
    title.textContent = c ? channelName(c) : t("common.loading");
    document.title = `${title.textContent} · hubchat`;
    const members = chat.members(channelId);
    const online = members.filter((m) => m.id !== session.user?.id && chat.online(m.id)).length;
    if (c?.kind === "dm") {
      const other = (c.members || [])[0];
      subtitle.textContent = other && chat.online(other.id) ? t("chat.online") : t("chat.offline");
    } else if (members.length) {
      subtitle.textContent = t("chat.membersOnline", { n: members.length, online });
    }
    const names = chat.typing(channelId);
    typingLine.textContent = names.length ? t("chat.typing", { names: names.join(", ") }) : "";
  }

  /** Who translated: a member's correction, the translation memory (a member's, or a similar text's),
   *  the phrasebook (flagged while no Mizo speaker has vetted the phrase), or the machine (never
   *  passed off as human; its package version is the label's title). */
  function translationSource(tr) {
    if (tr.correction) return t("chat.correctedBy", { name: tr.correction.author?.display_name || "" });
    if (tr.similar) return t("chat.similarSentence");  // the translation memory's, of a similar text
    if (tr.engine === "memory") return t("chat.byMember");
    if (tr.engine === "phrasebook") {
      return tr.unvetted ? `${t("chat.byPhrasebook")} · ${t("chat.notVetted")}` : t("chat.byPhrasebook");
    }
    return t("chat.byMachine");
  }

  function translationShown(m) {
    return toggled.has(m.id) ? toggled.get(m.id) : showAll;
  }

  function renderMessages() {
    const messages = chat.messages(channelId);
    const pending = chat.pending(channelId);
    const w = chat.window(channelId);
    older.hidden = !(w && w.hasOlder);
    const me = session.user?.id;
    const receipts = chat.receipts(channelId);
    const names = new Map(chat.members(channelId).map((m) => [m.id, m.display_name]));
    const lastMine = [...messages].reverse().find((m) => m.sender?.id === me);
    const seenBy = lastMine ? Array.from(receipts.entries()).filter(([uid, seq]) => uid !== me && seq >= lastMine.seq)
      .map(([uid]) => names.get(uid) || "?") : [];
    const items = [
      ...messages.map((m) => ({ kind: "msg", m })),
      ...pending.map((p) => ({ kind: "pending", p })),
    ];
    renderKeyed(list, items,
      (it) => (it.kind === "msg" ? `m${it.m.seq}` : `p${it.p.client_msg_id}`),
      (it) => (it.kind === "msg"
        ? [it.m.version, it.m.deleted, JSON.stringify(it.m.translation || null), translationShown(it.m),
          editing === it.m.id, correcting === it.m.id, it.m === lastMine ? seenBy.join(",") : "", getLang()].join("|")
        : [it.p.state, it.p.error, connection.online].join("|")),
      (it) => (it.kind === "msg" ? messageItem(it.m, it.m === lastMine ? seenBy : []) : pendingItem(it.p)));
    if (stickToBottom) scroller.scrollTop = scroller.scrollHeight;
  }

  function messageItem(m, seenBy) {
    const mine = m.sender?.id === session.user?.id;
    const li = h("li", { class: `msg${mine ? " mine" : ""}${m.deleted ? " deleted" : ""}`, id: `msg-${m.seq}`,
      dataset: { id: m.id, seq: String(m.seq) } });
    li.append(h("div", { class: "msg-head" },
      h("span", { class: "sender" }, mine ? t("chat.you") : m.sender?.display_name || "?"),
      h("time", { datetime: m.created_at }, fmtTime(m.created_at, getLang())),
      m.edited_at && !m.deleted ? h("span", { class: "edited" }, t("chat.edited")) : null));
    if (m.deleted) {
      li.append(h("p", { class: "body muted" }, t("chat.deleted")));
      return li;
    }
    if (editing === m.id) {
      li.append(editForm(m));
      return li;
    }
    li.append(h("p", { class: "body", lang: m.language || null }, m.body));
    const tr = m.translation;
    const trText = tr ? (tr.correction?.text || tr.text) : null;
    const hasTranslation = Boolean(trText) && tr.status !== "same_language";
    const actions = h("div", { class: "msg-actions" });
    if (hasTranslation) {
      const shown = translationShown(m);
      const trId = `tr-${m.id}`;
      if (shown) {
        li.append(h("div", { class: "translation", id: trId },
          h("p", { class: "tr-label small", title: tr.model_version || null },
            t("chat.translationTo", { lang: LANG_NAMES[tr.lang] || tr.lang || "" }), ` · ${translationSource(tr)}`),
          correcting === m.id ? correctionForm(m, trText) : h("p", { class: "tr-text", lang: tr.lang || null }, trText)));
      }
      const toggle = h("button", { type: "button", class: "link small tr-toggle", "aria-expanded": String(shown),
        "aria-controls": shown ? trId : null }, shown ? t("chat.hideTranslation") : t("chat.showTranslation"));
      toggle.addEventListener("click", () => { toggled.set(m.id, !shown); renderMessages(); });
      actions.append(toggle);
    } else if (!tr && !mine && m.language && m.language !== (session.user?.language || getLang())
      && Date.now() - new Date(m.created_at).getTime() < 30_000) {
      // A fresh message: its translation usually follows within a second or two.  (Without a
      // model, "unavailable" arrives instead and nothing is shown: the member may add one.)
      li.append(h("p", { class: "muted small tr-state" }, t("chat.translating")));
    } else if (tr && !mine && TR_STATES[tr.status]) {
      // No translation to show: say why, so "Add a translation" is not a mystery.
      li.append(h("p", { class: "muted small tr-state", dataset: { status: tr.status } }, t(TR_STATES[tr.status])));
    }
    if (correcting === m.id && !hasTranslation) li.append(correctionForm(m, ""));
    if (tr?.status !== "same_language" && correcting !== m.id) {
      const label = hasTranslation ? t("chat.correct") : t("chat.addTranslation");
      const fix = h("button", { type: "button", class: "link small", "aria-label": `${label}: ${m.body.slice(0, 40)}` },
        label);
      fix.addEventListener("click", () => { correcting = m.id; toggled.set(m.id, true); renderMessages(); focusIn(m.seq, "textarea"); });
      actions.append(fix);
    }
    if (mine) {
      const edit = h("button", { type: "button", class: "link small", "aria-label": `${t("chat.edit")}: ${m.body.slice(0, 40)}` },
        t("chat.edit"));
      edit.addEventListener("click", () => { editing = m.id; renderMessages(); focusIn(m.seq, "textarea"); });
      const del = h("button", { type: "button", class: "link small danger", "aria-label": `${t("chat.delete")}: ${m.body.slice(0, 40)}` },
        t("chat.delete"));
      del.addEventListener("click", async () => {
        if (!window.confirm(t("chat.confirmDelete"))) return;
        try { await deleteMessage(m); announce(t("chat.deletedNotice")); } catch (e) { showError(e); }
      });
      actions.append(edit, del);
    }
    li.append(actions);
    if (seenBy.length) li.append(h("p", { class: "receipt small" }, t("chat.seenBy", { names: seenBy.join(", ") })));
    return li;
  }

  function focusIn(seq, selector) {
    setTimeout(() => list.querySelector(`#msg-${seq} ${selector}`)?.focus(), 0);
  }

  function editForm(m) {
    const area = h("textarea", { rows: 2, maxlength: 4000, required: true, value: m.body, id: `edit-${m.id}` });
    const save = h("button", { type: "submit", class: "primary small" }, t("chat.save"));
    const cancel = h("button", { type: "button", class: "secondary small" }, t("common.cancel"));
    const form = h("form", { class: "inline-form" }, h("label", { for: area.id }, t("chat.editLabel")), area,
      h("div", { class: "row" }, save, cancel));
    cancel.addEventListener("click", () => { editing = null; renderMessages(); });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = area.value.trim();
      if (!body) return;
      try {
        await editMessage(m, body);
        editing = null;
        showError(null);
        renderMessages();
      } catch (e) { showError(e); }
    });
    return form;
  }

  function correctionForm(m, current) {
    const area = h("textarea", { rows: 2, maxlength: 4000, required: true, value: current, id: `fix-${m.id}` });
    const save = h("button", { type: "submit", class: "primary small" }, t("chat.saveCorrection"));
    const cancel = h("button", { type: "button", class: "secondary small" }, t("common.cancel"));
    const form = h("form", { class: "inline-form" }, h("label", { for: area.id }, t("chat.correctLabel")), area,
      h("div", { class: "row" }, save, cancel));
    cancel.addEventListener("click", () => { correcting = null; renderMessages(); });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = area.value.trim();
      if (!text) return;
      try {
        await correctTranslation(m, text);
        correcting = null;
        showError(null);
        announce(t("chat.correctionSaved"));
        renderMessages();
      } catch (e) { showError(e); }
    });
    return form;
  }

  function pendingItem(p) {
    const li = h("li", { class: "msg mine pending", dataset: { client: p.client_msg_id } });
    li.append(h("div", { class: "msg-head" }, h("span", { class: "sender" }, t("chat.you"))),
      h("p", { class: "body" }, p.body));
    let status;
    if (p.state === "failed") status = t("chat.failed", { reason: errorText({ code: p.error }) });
    else if (p.state === "sending") status = t("chat.sending");
    else status = connection.online ? t("chat.sending") : t("chat.waiting");
    const row = h("div", { class: "msg-actions" }, h("span", { class: "small pending-state", role: "status" }, status));
    if (p.state === "failed" || !connection.online) {
      const retry = h("button", { type: "button", class: "link small" }, t("chat.retry"));
      retry.addEventListener("click", () => { p.state = "queued"; retryNow(); });
      const drop = h("button", { type: "button", class: "link small danger" }, t("chat.discard"));
      drop.addEventListener("click", () => discard(p.client_msg_id));
      row.append(retry, drop);
    }
    li.append(row);
    return li;
  }

  subs.on("chat:changed", ({ channelId: changedId }) => {
    if (changedId === null || changedId === channelId) { renderHead(); renderMessages(); }
  });
  subs.on("connection", () => { renderMessages(); });
  renderHead();
  renderMessages();
  openChannel(channelId).catch((e) => { if (e.code !== "offline") showError(e); });
  if (matchMedia("(min-width: 48rem)").matches) input.focus({ preventScroll: true });

  return () => {
    observer.disconnect();
    closeChannel(channelId);
    subs.close();
  };
}

/** Office bearers (members of a cell channel) may start a channel between associations. */
function interLinks(channels) {
  if (session.isOfficer || !channels.some((c) => c.kind === "cell")) return [];
  return [h("p", { class: "small" }, h("a", { href: "#/channels/new", id: "new-inter" }, t("chan.newLink")))];
}

/** Invite, see who belongs, leave: for a channel between associations. */
function manageLink(channelId, subs) {
  const link = h("a", { href: `#/channels/${channelId}`, class: "small", id: "manage-channel", hidden: true },
    t("chan.manage"));
  const show = () => { link.hidden = chat.channel(channelId)?.kind !== "inter"; };
  show();
  subs.on("chat:changed", show);
  return link;
}
