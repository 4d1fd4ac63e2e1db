// Channels between associations (kind "inter"): an office bearer creates one for their approved
// association (#/channels/new), invites other associations found by name and leaves it
// (#/channels/{id}); an association's pending invitations are answered on its page by its office
// bearers (invitationsCard).  The server checks every step (docs/api.md, "channel:*").

import { api, session } from "../api.js";
import { call } from "../socket.js";
import { announce, clear, field, h, select } from "../dom.js";
import { t } from "../i18n.js";
import { busy, errorBox, errorText, heading } from "./common.js";
import { bus } from "../state.js";

const names = new Map(); // association id -> name (approved associations are visible to anyone)

async function associationName(id) {
  if (!names.has(id)) {
    names.set(id, api(`/api/associations/${id}`).then((r) => r.association.name).catch(() => t("chan.unknownAssociation")));
  }
  return names.get(id);
}

async function bearerOf() {
  const { memberships } = await api("/api/me/associations");
  return memberships.filter((m) => m.role === "office_bearer" && m.status === "active"
    && m.association.status === "approved").map((m) => m.association);
}

async function loadChannel(id) {
  const { channels } = await api("/api/channels");
  return channels.find((c) => c.id === id && c.kind === "inter") || null;
}

export async function create(main) {
  const err = errorBox();
  const section = h("section", { class: "narrow" }, heading(t("chan.newTitle")), h("p", null, t("chan.newIntro")), err.el);
  main.append(section);
  let mine = [];
  try { mine = await bearerOf(); } catch (e) { err.show(e); return; }
  if (!mine.length) { section.append(h("p", { class: "note" }, t("chan.notBearer"))); return; }
  const name = h("input", { name: "name", required: true, maxlength: 80 });
  const from = select({ name: "association_id" }, mine.map((a) => [a.id, a.name]), mine[0].id);
  const submit = h("button", { type: "submit", class: "primary" }, t("chan.create"));
  const form = h("form", { class: "card form", id: "new-channel" }, field(t("chan.name"), name),
    field(t("chan.forAssociation"), from), submit);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, async () => {
      try {
        const { channel } = await call("channel:create", { kind: "inter", name: name.value.trim(), association_id: from.value });
        announce(t("chan.created"));
        location.hash = `#/channels/${channel.id}`;
      } catch (e) {
        err.show(e);
      }
    });
  });
  section.append(form);
}

export async function manage(main, { params: [id] }) {
  const err = errorBox();
  const section = h("section", { class: "narrow manage-channel" }, h("p", { class: "muted" }, t("common.loading")));
  main.append(section);
  let channel;
  let mine = [];
  try {
    [channel, mine] = await Promise.all([loadChannel(id), bearerOf()]);
  } catch (e) {
    clear(section).append(heading(t("chan.manage")), h("p", { class: "error" }, errorText(e)));
    return;
  }
  if (!channel) { clear(section).append(heading(t("chan.manage")), h("p", null, t("chan.notMember"))); return; }
  const members = h("ul", { class: "list", id: "channel-associations" });
  const invited = h("ul", { class: "list", id: "channel-invited" });
  const results = h("ul", { class: "list", id: "invite-results", "aria-live": "polite" });
  const leaveSlot = h("div", { class: "row" });
  clear(section).append(heading(channel.name || t("chan.manage")),
    h("p", null, h("a", { href: `#/chat/${id}`, class: "button secondary" }, t("chan.open"))), err.el,
    h("h2", null, t("chan.members")), members, h("h2", null, t("chan.invited")), invited,
    h("h2", null, t("chan.invite")), inviteForm(), results, leaveSlot);

  async function draw() {
    const line = async (aid) => h("li", null, await associationName(aid));
    clear(members).append(...await Promise.all(channel.association_ids.map(line)));
    const pending = channel.invited_association_ids || [];
    clear(invited).append(...(pending.length ? await Promise.all(pending.map(line))
      : [h("li", { class: "muted" }, t("chan.noneInvited"))]));
    clear(leaveSlot);
    for (const a of mine.filter((m) => channel.association_ids.includes(m.id))) {
      const leave = h("button", { type: "button", class: "secondary danger" }, t("chan.leave", { name: a.name }));
      leave.addEventListener("click", () => {
        if (!window.confirm(t("chan.leaveConfirm", { name: a.name }))) return;
        busy(leave, async () => {
          try {
            await call("channel:leave", { channel_id: id, association_id: a.id });
            announce(t("chan.left"));
            location.hash = "#/chat";
          } catch (e) { err.show(e); }
        });
      });
      leaveSlot.append(leave);
    }
  }

  function inviteForm() {
    const q = h("input", { name: "q", type: "search", maxlength: 100, required: true });
    const go = h("button", { type: "submit", class: "secondary" }, t("dir.search"));
    const form = h("form", { class: "row", role: "search", id: "invite-search" }, field(t("chan.findAssociation"), q), go);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(go, async () => {
        try {
          const res = await api(`/api/associations?${new URLSearchParams({ q: q.value.trim(), limit: "10" })}`);
          const open = res.associations.filter((a) => !channel.association_ids.includes(a.id)
            && !(channel.invited_association_ids || []).includes(a.id));
          clear(results).append(...(open.length ? open.map(resultRow) : [h("li", null, t("dir.none"))]));
        } catch (e) { err.show(e); }
      });
    });
    return form;
  }

  function resultRow(a) {
    names.set(a.id, Promise.resolve(a.name));
    const invite = h("button", { type: "button", class: "primary small", "aria-label": t("chan.inviteName", { name: a.name }) },
      t("chan.inviteButton"));
    invite.addEventListener("click", () => busy(invite, async () => {
      try {
        channel = { ...channel, ...(await call("channel:invite", { channel_id: id, association_id: a.id })).channel };
        announce(t("chan.invitedNotice", { name: a.name }));
        invite.closest("li")?.remove();
        await draw();
      } catch (e) { err.show(e); }
    }));
    return h("li", null, h("span", null, a.name), invite);
  }

  await draw();
}

/** The pending invitations of an association, for its office bearers (on the association page). */
export function invitationsCard(association) {
  const err = errorBox();
  const list = h("ul", { class: "list", id: "channel-invitations" });
  const box = h("div", { class: "card" }, h("h2", null, t("chan.invitations")), err.el, list);
  async function load() {
    try {
      const { invitations } = await api(`/api/associations/${association.id}/channel-invitations`);
      const rows = await Promise.all(invitations.map(row));
      clear(list).append(...(rows.length ? rows : [h("li", { class: "muted" }, t("chan.noInvitations"))]));
    } catch (e) { err.show(e); }
  }
  async function row({ channel }) {
    const by = await associationName(channel.association_id);
    const answer = (event, label) => {
      const button = h("button", { type: "button", class: event === "channel:accept" ? "primary small" : "secondary small",
        "aria-label": `${label}: ${channel.name}` }, label);
      button.addEventListener("click", () => busy(button, async () => {
        try {
          await call(event, { channel_id: channel.id, association_id: association.id });
          announce(event === "channel:accept" ? t("chan.accepted", { name: channel.name }) : t("chan.declined"));
          await load();
        } catch (e) { err.show(e); }
      }));
      return button;
    };
    return h("li", { dataset: { channelId: channel.id } }, h("strong", null, channel.name),
      h("span", { class: "muted small" }, t("chan.invitedBy", { name: by })),
      h("div", { class: "row" }, answer("channel:accept", t("dir.accept")), answer("channel:decline", t("dir.decline"))));
  }
  if (session.signedIn) load();
  // A new invitation while the page is open shows at once (the listener ends with the page).
  const off = bus.on("channel:invited", (event) => {
    if (!box.isConnected) off();
    else if (event.association_id === association.id) load();
  });
  return box;
}
