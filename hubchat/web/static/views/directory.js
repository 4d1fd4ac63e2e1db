// Directory: find associations (country, city, name, near me), an association's page, register
// one, ask to join; office bearers answer join requests on the page.

import { api, session } from "../api.js";
import { announce, clear, field, formValues, h, select } from "../dom.js";
import { t } from "../i18n.js";
import { chat, openDirect } from "../chatstore.js";
import { busy, countryName, countryOptions, errorBox, errorText, heading } from "./common.js";
import { invitationsCard } from "./channels.js";
import { call } from "../socket.js";

function place(a) {
  return [a.city, countryName(a.country)].filter(Boolean).join(", ");
}

function statusBadge(status) {
  if (!status || status === "approved") return null;
  return h("span", { class: `badge badge-${status}` }, t(`dir.status.${status}`));
}

export async function search(main, { query }) {
  const err = errorBox();
  const results = h("div", { id: "results", "aria-live": "polite" });
  const mine = h("div", { class: "mine" });
  const country = select({ name: "country" }, countryOptions(true), query.get("country") || "");
  const city = h("input", { name: "city", value: query.get("city") || "", maxlength: 100, autocomplete: "off" });
  const q = h("input", { name: "q", type: "search", value: query.get("q") || "", maxlength: 100 });
  const searchButton = h("button", { type: "submit", class: "primary" }, t("dir.search"));
  const nearButton = h("button", { type: "button", class: "secondary", id: "near-me" }, t("dir.nearMe"));
  const form = h("form", { class: "card form search-form", role: "search", "aria-label": t("dir.searchLabel") },
    h("div", { class: "grid3" }, field(t("auth.country"), country), field(t("auth.city"), city), field(t("dir.name"), q)),
    err.el, h("div", { class: "row" }, searchButton, nearButton));

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const v = formValues(form);
    const params = new URLSearchParams();
    for (const k of ["country", "city", "q"]) if (v[k]) params.set(k, v[k]);
    const target = `#/associations${params.toString() ? `?${params}` : ""}`;
    if (location.hash === target) runSearch(); else location.hash = target;
  });
  nearButton.addEventListener("click", () => {
    if (location.hash === "#/associations?near=1") runNear(); else location.hash = "#/associations?near=1";
  });

  async function runSearch() {
    err.show(null);
    const params = new URLSearchParams({ limit: "50" });
    for (const k of ["country", "city", "q"]) if (query.get(k)) params.set(k, query.get(k));
    clear(results).append(h("p", { class: "muted" }, t("common.loading")));
    try {
      const res = await api(`/api/associations?${params}`);
      showResults(res.associations, res.total);
    } catch (e) {
      clear(results);
      err.show(e);
    }
  }

  function runNear() {
    err.show(null);
    if (!("geolocation" in navigator)) { err.show(t("dir.noGeo")); return; }
    clear(results).append(h("p", { class: "muted" }, t("dir.locating")));
    navigator.geolocation.getCurrentPosition(async (pos) => {
      try {
        const params = new URLSearchParams({ lat: pos.coords.latitude.toFixed(5), lon: pos.coords.longitude.toFixed(5),
          radius_km: "300", limit: "50" });
        const res = await api(`/api/associations/near?${params}`);
        showResults(res.associations, res.associations.length, true);
      } catch (e) {
        clear(results);
        err.show(e);
      }
    }, (e) => { clear(results); err.show(e.code === 1 ? t("dir.geoDenied") : t("dir.noGeo")); },
    { enableHighAccuracy: false, maximumAge: 300_000, timeout: 15_000 });
  }

  function showResults(list, total, near = false) {
    clear(results);
    const title = near ? t("dir.nearResults", { n: list.length }) : t("dir.results", { n: total });
    results.append(h("h2", null, title));
    if (!list.length) { results.append(h("p", null, t("dir.none"))); announce(title); return; }
    results.append(h("ul", { class: "list results" }, list.map((a) => h("li", null,
      h("a", { href: `#/associations/${a.id}`, class: "item-title" }, a.name),
      h("span", { class: "muted" }, place(a)),
      a.distance_km !== undefined ? h("span", { class: "distance" }, t("dir.km", { km: a.distance_km })) : null,
      a.nearest_place ? h("span", { class: "muted small" }, a.nearest_place.name) : null))));
    announce(title);
  }

  main.append(h("section", null, heading(t("dir.title")),
    h("p", null, h("a", { href: "#/associations/new", class: "button secondary" }, t("dir.registerLink"))),
    contactCell(err),
    mine, form, results));

  api("/api/me/associations").then(({ memberships }) => {
    if (!memberships.length) return;
    mine.append(h("h2", null, t("dir.mine")), h("ul", { class: "list" }, memberships.map((m) => h("li", null,
      h("a", { href: `#/associations/${m.association.id}`, class: "item-title" }, m.association.name),
      h("span", { class: "muted" }, `${t(`dir.role.${m.role}`)} · ${t(`dir.mstatus.${m.status}`)}`),
      statusBadge(m.association.status)))));
  }).catch(() => {});

  if (query.get("near")) runNear();
  else if (query.get("country") || query.get("city") || query.get("q")) runSearch();
}

/** "Message NAME": opens (or creates) the direct conversation with that user and goes there. The
 * server decides who may write to whom (dm_not_allowed is shown as an error). */
function messageButton(userId, name, err) {
  const button = h("button", { type: "button", class: "secondary small dm-button",
    "aria-label": t("dir.messageTo", { name }) }, t("dir.message"));
  button.addEventListener("click", () => busy(button, async () => {
    try {
      const channel = await openDirect(userId);
      location.hash = `#/chat/${channel.id}`;
    } catch (e) {
      err.show(e);
    }
  }));
  return button;
}

function contactLink(c) {
  const value = c.value;
  if (c.kind === "email") return h("a", { href: `mailto:${value}` }, value);
  if (c.kind === "phone" || c.kind === "whatsapp") return h("a", { href: `tel:${value}` }, value);
  return value;
}

export async function page(main, { params: [id] }) {
  const err = errorBox();
  const wrap = h("section", { class: "association" }, h("p", { class: "muted" }, t("common.loading")));
  main.append(wrap);
  let a;
  try {
    a = (await api(`/api/associations/${id}`)).association;
  } catch (e) {
    clear(wrap).append(heading(t("dir.notFound")), h("p", null, errorText(e)));
    return;
  }
  clear(wrap);
  const actions = h("div", { class: "row actions" });
  wrap.append(heading(a.name), h("p", { class: "muted" }, place(a), " ", statusBadge(a.status)));
  if (a.status === "pending") wrap.append(h("p", { class: "note" }, t("dir.pendingNote")));
  if (a.description) wrap.append(h("p", { class: "description" }, a.description));
  wrap.append(actions, err.el);

  const official = [];
  if (a.contact_email) official.push(h("li", null, `${t("dir.email")}: `, contactLink({ kind: "email", value: a.contact_email })));
  if (a.contact_phone) official.push(h("li", null, `${t("dir.phone")}: `, contactLink({ kind: "phone", value: a.contact_phone })));
  if (official.length) wrap.append(h("h2", null, t("dir.contacts")), h("ul", { class: "plain" }, official));

  wrap.append(h("h2", null, t("dir.places")));
  if (!a.gathering_places.length) wrap.append(h("p", { class: "muted" }, t("dir.noPlaces")));
  else {
    wrap.append(h("ul", { class: "list places" }, a.gathering_places.map((p) => h("li", null,
      h("strong", null, p.name), h("span", null, p.address),
      p.schedule ? h("span", { class: "muted" }, p.schedule) : null,
      h("a", { href: `geo:${p.lat},${p.lon}`, class: "small" }, t("dir.openMap"))))));
  }

  wrap.append(h("h2", null, t("dir.bearers")));
  if (!a.office_bearers.length) wrap.append(h("p", { class: "muted" }, t("dir.noBearers")));
  else {
    // Members of the association (and officers) may write to its office bearers in hubchat itself.
    const mayWrite = Boolean(a.my_role) || ["officer", "admin"].includes(session.user?.role);
    wrap.append(h("ul", { class: "list bearers" }, a.office_bearers.map((b) => h("li", null,
      h("strong", null, b.name), h("span", { class: "muted" }, b.position),
      b.contacts.length ? h("ul", { class: "plain contacts" }, b.contacts.map((c) => h("li", null,
        `${t(`dir.kind.${c.kind}`)}: `, contactLink(c)))) : null,
      mayWrite && b.user_id && b.user_id !== session.user?.id ? messageButton(b.user_id, b.name, err) : null))));
  }

  // Join / membership state.
  let membership = null;
  try {
    const { memberships } = await api("/api/me/associations");
    membership = memberships.find((m) => m.association.id === a.id) || null;
  } catch { /* the page still works */ }
  renderActions();

  function renderActions() {
    clear(actions);
    if (a.my_role) {
      actions.append(h("span", { class: "badge badge-ok" }, t(`dir.role.${a.my_role}`)));
      const channel = chat.channels.find((c) => c.kind === "association" && c.association_id === a.id);
      if (channel) actions.append(h("a", { href: `#/chat/${channel.id}`, class: "button primary" }, t("dir.openChat")));
      const leave = h("button", { type: "button", class: "secondary", id: "leave" }, t("dir.leave"));
      leave.addEventListener("click", () => {
        if (!window.confirm(t("dir.confirmLeave", { name: a.name }))) return;
        busy(leave, async () => {
          try {
            await api(`/api/associations/${a.id}/members/me`, { method: "DELETE" });
            announce(t("dir.left", { name: a.name }));
            location.hash = "#/associations";
          } catch (e) {
            err.show(e);
          }
        });
      });
      actions.append(leave);
    } else if (membership?.status === "requested") {
      actions.append(h("p", { role: "status" }, t("dir.requested")));
    } else if (a.status === "approved") {
      const join = h("button", { type: "button", class: "primary", id: "join" }, t("dir.join"));
      join.addEventListener("click", () => busy(join, async () => {
        try {
          const res = await api(`/api/associations/${a.id}/join`, { method: "POST" });
          membership = { status: res.membership.status };
          announce(t("dir.requested"));
          renderActions();
        } catch (e) {
          err.show(e);
        }
      }));
      actions.append(join);
    }
  }

  if (a.my_role === "office_bearer") wrap.append(editForm(a));
  if (a.my_role === "office_bearer" && a.status === "approved") wrap.append(invitationsCard(a));

  if (a.my_role === "office_bearer") {
    const box = h("div", { class: "card" });
    wrap.append(box);
    const loadMembers = async () => {
      clear(box).append(h("h2", null, t("dir.members")));
      try {
        const { members } = await api(`/api/associations/${a.id}/members`);
        const requests = members.filter((m) => m.status === "requested");
        const active = members.filter((m) => m.status === "active");
        box.append(h("ul", { class: "list members" }, active.map((m) => memberRow(m))));
        box.append(h("h3", null, t("dir.requests", { n: requests.length })));
        box.append(h("ul", { class: "list" }, requests.map((m) => {
          const ok = h("button", { type: "button", class: "primary small" }, t("dir.accept"));
          const no = h("button", { type: "button", class: "secondary small" }, t("dir.decline"));
          ok.setAttribute("aria-label", `${t("dir.accept")}: ${m.display_name}`);
          no.setAttribute("aria-label", `${t("dir.decline")}: ${m.display_name}`);
          ok.addEventListener("click", () => busy(ok, async () => {
            await api(`/api/associations/${a.id}/requests/${m.user_id}/approve`, { method: "POST" }).catch((e) => err.show(e));
            loadMembers();
          }));
          no.addEventListener("click", () => busy(no, async () => {
            await api(`/api/associations/${a.id}/requests/${m.user_id}/decline`, { method: "POST" }).catch((e) => err.show(e));
            loadMembers();
          }));
          return h("li", null, h("span", null, m.display_name), h("div", { class: "row" }, ok, no));
        })));
      } catch (e) {
        box.append(h("p", { class: "error" }, errorText(e)));
      }
    };
    // One member: role and position (PATCH), remove (DELETE), write to them.  The server keeps at
    // least one office bearer (last_office_bearer) and refuses a stale change (concurrent_change).
    const memberRow = (m) => {
      const rowErr = errorBox();
      const role = select({ name: "role", "aria-label": t("dir.roleOf", { name: m.display_name }) },
        [["member", t("dir.role.member")], ["office_bearer", t("dir.role.office_bearer")]], m.role);
      const position = h("input", { name: "position", maxlength: 80, value: m.position || "",
        "aria-label": t("dir.positionOf", { name: m.display_name }) });
      const save = h("button", { type: "submit", class: "secondary small" }, t("dir.saveMember"));
      save.setAttribute("aria-label", `${t("dir.saveMember")}: ${m.display_name}`);
      const remove = h("button", { type: "button", class: "link small danger" }, t("dir.removeMember"));
      remove.setAttribute("aria-label", `${t("dir.removeMember")}: ${m.display_name}`);
      const me = m.user_id === session.user?.id;
      const form = h("form", { class: "row member-form" }, role, position, save, me ? null : remove);
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        busy(save, async () => {
          rowErr.show(null);
          try {
            await api(`/api/associations/${a.id}/members/${m.user_id}`, { method: "PATCH",
              body: { role: role.value, position: position.value.trim() || null } });
            announce(t("dir.memberSaved", { name: m.display_name }));
            if (me && role.value !== "office_bearer") { location.reload(); return; }
            loadMembers();
          } catch (e) {
            rowErr.show(e);
          }
        });
      });
      remove.addEventListener("click", () => {
        if (!window.confirm(t("dir.confirmRemove", { name: m.display_name }))) return;
        busy(remove, async () => {
          try {
            await api(`/api/associations/${a.id}/members/${m.user_id}`, { method: "DELETE" });
            announce(t("dir.memberRemoved", { name: m.display_name }));
            loadMembers();
          } catch (e) {
            rowErr.show(e);
          }
        });
      });
      return h("li", { dataset: { userId: m.user_id } }, h("strong", null, m.display_name),
        me ? null : messageButton(m.user_id, m.display_name, err), form, rowErr.el);
    };
    loadMembers();
  }
}

/** The office bearers' edit form.  Name, description and contacts apply at once; on an approved
 * association a new country or city waits for a Cell officer's review (pending_changes), because
 * where the association is decides which SOS alerts its office bearers are told of. */
function editForm(a) {
  const err = errorBox();
  const name = h("input", { name: "name", required: true, maxlength: 120, value: a.name });
  const description = h("textarea", { name: "description", rows: 3, maxlength: 2000, value: a.description || "" });
  const email = h("input", { name: "contact_email", type: "email", required: true, maxlength: 254,
    value: a.contact_email || "" });
  const phone = h("input", { name: "contact_phone", type: "tel", maxlength: 32, value: a.contact_phone || "" });
  const country = select({ name: "country" }, countryOptions(false), a.country);
  const city = h("input", { name: "city", required: true, maxlength: 100, value: a.city });
  const places = placesEditor(a.pending_changes?.gathering_places || a.gathering_places);
  const pending = h("p", { class: "note", id: "pending-changes", hidden: true });
  const showPending = (page) => {
    const p = page.pending_changes;
    pending.hidden = !p;
    pending.textContent = p ? t("dir.pendingChanges", { where: [p.city, countryName(p.country)].filter(Boolean).join(", ")
      || t("dir.places") }) : "";
  };
  showPending(a);
  const save = h("button", { type: "submit", class: "primary" }, t("dir.saveAssociation"));
  const form = h("form", { class: "form", id: "edit-association" },
    field(t("dir.name"), name), field(t("dir.description"), description),
    h("div", { class: "grid2" }, field(t("dir.contactEmail"), email), field(t("dir.contactPhone"), phone),
      field(t("auth.country"), country), field(t("auth.city"), city)),
    places.el, pending, err.el, save);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(save, async () => {
      err.show(null);
      const body = { name: name.value.trim(), description: description.value.trim() || null,
        contact_email: email.value.trim(), contact_phone: phone.value.trim() || null };
      if (country.value !== a.country) body.country = country.value;
      if (city.value.trim() !== a.city) body.city = city.value.trim();
      const edited = places.value();
      if (edited === null) { err.show(t("dir.placeIncomplete")); return; }
      if (places.changed()) body.gathering_places = edited;
      try {
        const { association } = await api(`/api/associations/${a.id}`, { method: "PATCH", body });
        showPending(association);
        announce(association.pending_changes ? t("dir.savedForReview") : t("dir.saved"));
      } catch (e) {
        err.show(e);
      }
    });
  });
  return h("details", { class: "card edit-association" }, h("summary", null, t("dir.edit")), form);
}

export function register(main) {
  const user = session.user || {};
  const err = errorBox();
  const button = h("button", { type: "submit", class: "primary" }, t("dir.registerSubmit"));
  const lat = h("input", { name: "lat", inputmode: "decimal", pattern: "-?[0-9]+(\\.[0-9]+)?" });
  const lon = h("input", { name: "lon", inputmode: "decimal", pattern: "-?[0-9]+(\\.[0-9]+)?" });
  const here = h("button", { type: "button", class: "secondary" }, t("dir.useLocation"));
  here.addEventListener("click", () => {
    if (!("geolocation" in navigator)) { err.show(t("dir.noGeo")); return; }
    navigator.geolocation.getCurrentPosition((pos) => {
      lat.value = pos.coords.latitude.toFixed(5);
      lon.value = pos.coords.longitude.toFixed(5);
      announce(t("dir.locationFilled"));
    }, () => err.show(t("dir.geoDenied")), { timeout: 15_000, maximumAge: 300_000 });
  });
  const visibility = (name) => select({ name }, [["public", t("dir.vis.public")], ["members", t("dir.vis.members")],
    ["officers", t("dir.vis.officers")]], "members");
  const form = h("form", { class: "card form", id: "register-form" },
    field(t("dir.name"), h("input", { name: "name", required: true, minlength: 2, maxlength: 120 })),
    h("div", { class: "grid2" },
      field(t("auth.country"), select({ name: "country", required: true }, countryOptions(), user.country || "IN")),
      field(t("auth.city"), h("input", { name: "city", required: true, maxlength: 100, value: user.city || "" }))),
    field(t("dir.description"), h("textarea", { name: "description", rows: 3, maxlength: 2000 })),
    h("div", { class: "grid2" },
      field(t("dir.contactEmail"), h("input", { type: "email", name: "contact_email", required: true, value: user.email || "" }),
        t("dir.contactEmailHint")),
      field(t("dir.contactPhone"), h("input", { type: "tel", name: "contact_phone", autocomplete: "tel" }))),
    field(t("dir.myPosition"), h("input", { name: "my_position", value: t("dir.president"), maxlength: 80 })),
    h("fieldset", null, h("legend", null, t("dir.placeLegend")),
      field(t("dir.placeName"), h("input", { name: "place_name", maxlength: 120 })),
      field(t("dir.placeAddress"), h("input", { name: "place_address", maxlength: 300 })),
      field(t("dir.placeSchedule"), h("input", { name: "place_schedule", maxlength: 200 }), t("dir.placeScheduleHint")),
      h("div", { class: "grid2" }, field(t("dir.lat"), lat), field(t("dir.lon"), lon)), here),
    h("fieldset", null, h("legend", null, t("dir.showContacts")),
      h("p", { class: "hint" }, t("dir.showContactsHint")),
      h("div", { class: "grid2" },
        field(t("dir.myEmail"), h("input", { type: "email", name: "bearer_email", value: user.email || "" })),
        field(t("dir.visibility"), visibility("bearer_email_vis"))),
      h("div", { class: "grid2" },
        field(t("dir.myPhone"), h("input", { type: "tel", name: "bearer_phone", value: user.phone || "" })),
        field(t("dir.visibility"), visibility("bearer_phone_vis")))),
    err.el, button);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    err.show(null);
    const v = formValues(form);
    const body = { name: v.name, country: v.country, city: v.city, contact_email: v.contact_email,
      my_position: v.my_position || t("dir.president") };
    if (v.description) body.description = v.description;
    if (v.contact_phone) body.contact_phone = v.contact_phone;
    if (v.place_name || v.place_address || v.lat || v.lon) {
      const latN = Number(v.lat);
      const lonN = Number(v.lon);
      if (!v.place_name || !v.place_address || v.lat === "" || v.lon === "" || Number.isNaN(latN) || Number.isNaN(lonN)) {
        err.show(t("dir.placeIncomplete"));
        return;
      }
      body.gathering_places = [{ name: v.place_name, address: v.place_address, lat: latN, lon: lonN,
        schedule: v.place_schedule || null }];
    }
    const contacts = [];
    if (v.bearer_email) contacts.push({ kind: "email", value: v.bearer_email, visibility: v.bearer_email_vis });
    if (v.bearer_phone) contacts.push({ kind: "phone", value: v.bearer_phone, visibility: v.bearer_phone_vis });
    body.office_bearers = [{ name: user.display_name || v.name, position: body.my_position, user_id: user.id || null,
      contacts }];
    await busy(button, async () => {
      try {
        const res = await api("/api/associations", { method: "POST", body });
        announce(t("dir.registered"));
        location.hash = `#/associations/${res.association.id}`;
      } catch (e) {
        err.show(e);
      }
    });
  });
  main.append(h("section", { class: "narrow" }, heading(t("dir.registerTitle")), h("p", null, t("dir.registerIntro")), form));
}


/** Gathering places, edited as a whole list (the server replaces the list; on an approved
 * association the new list waits for the Cell's review and the places in force stay until then).
 * Starts from the list waiting for review, if any, else the one in force. */
function placesEditor(start) {
  const list = h("ul", { class: "list places-edit", id: "places-edit" });
  const add = h("button", { type: "button", class: "secondary small", id: "add-place" }, t("dir.addPlace"));
  const key = (p) => JSON.stringify([p.id || null, p.name, p.address, p.lat, p.lon, p.schedule || null]);
  const before = start.map(key).join("|");
  const row = (p = {}) => {
    const input = (name, value, props = {}) => h("input", { name, value: value ?? "", ...props });
    const fields = {
      name: input("place_name", p.name, { maxlength: 120 }), address: input("place_address", p.address, { maxlength: 300 }),
      schedule: input("place_schedule", p.schedule, { maxlength: 200 }),
      lat: input("lat", p.lat, { inputmode: "decimal" }), lon: input("lon", p.lon, { inputmode: "decimal" }),
    };
    const remove = h("button", { type: "button", class: "link small danger" }, t("dir.removePlace"));
    const li = h("li", { class: "place-edit" }, field(t("dir.placeName"), fields.name), field(t("dir.placeAddress"), fields.address),
      field(t("dir.placeSchedule"), fields.schedule), h("div", { class: "grid2" }, field(t("dir.lat"), fields.lat),
        field(t("dir.lon"), fields.lon)), remove);
    li._place = () => {
      const v = Object.fromEntries(Object.entries(fields).map(([k, el]) => [k, el.value.trim()]));
      if (!v.name || !v.address || v.lat === "" || v.lon === "" || !Number.isFinite(Number(v.lat))
        || !Number.isFinite(Number(v.lon))) return null;
      return { ...(p.id ? { id: p.id } : {}), name: v.name, address: v.address, lat: Number(v.lat), lon: Number(v.lon),
        schedule: v.schedule || null };
    };
    remove.addEventListener("click", () => { li.remove(); add.focus(); });
    return li;
  };
  for (const p of start) list.append(row(p));
  add.addEventListener("click", () => { const li = row(); list.append(li); li.querySelector("input").focus(); });
  const value = () => {
    const all = Array.from(list.children, (li) => li._place());
    return all.includes(null) ? null : all;
  };
  return {
    el: h("fieldset", { class: "places-fieldset" }, h("legend", null, t("dir.places")),
      h("p", { class: "hint" }, t("dir.placesHint")), list, add),
    value,
    changed: () => (value() || []).map(key).join("|") !== before,
  };
}

/** "Contact the Diaspora Cell": a direct conversation with an officer on duty now (dm:cell; the
 * server picks one, and says so when nobody is on duty).  Officers have their console instead. */
function contactCell(err) {
  if (session.isOfficer) return null;
  const button = h("button", { type: "button", class: "secondary", id: "contact-cell",
    "aria-describedby": "contact-cell-hint" }, t("dir.contactCell"));
  button.addEventListener("click", () => busy(button, async () => {
    try {
      const { channel } = await call("dm:cell");
      location.hash = `#/chat/${channel.id}`;
    } catch (e) {
      err.show(e);
    }
  }));
  return h("div", { class: "card contact-cell" }, button,
    h("p", { class: "hint", id: "contact-cell-hint" }, t("dir.contactCellHint")));
}
