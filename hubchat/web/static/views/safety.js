// The person's safety profile (view, edit, share, export, delete) and trusted contacts (add,
// remove, location flag, confirmation state); and the officers' console section that shows a
// profile only when the officer asks for it (each view is recorded in the alert's audit log).

import { api } from "../api.js";
import { announce, append, clear, field, formValues, h, select } from "../dom.js";
import { t } from "../i18n.js";
import { busy, errorBox, errorText, heading, LANGUAGES } from "./common.js";

const PASSPORT = ["with_me", "held_by_employer", "held_by_agent", "held_by_other", "lost", "unknown"];
const VISA = ["valid", "expiring", "expired", "none", "unknown"];
const TEXT_FIELDS = ["employer", "workplace_address", "recruiting_agent", "passport_held_by", "visa_notes", "medical_notes"];
const MULTILINE = new Set(["workplace_address", "recruiting_agent", "medical_notes"]);
const LIMITS = { employer: 200, passport_held_by: 200, visa_notes: 200, workplace_address: 500, recruiting_agent: 500,
  medical_notes: 1000 };

/** "name, phone, relation" per line <-> [{name, phone, relation}] */
function contactsText(list) {
  return (list || []).map((c) => [c.name, c.phone || "", c.relation || ""].join(", ").replace(/(, )+$/, "")).join("\n");
}

function parseContacts(text) {
  return text.split("\n").map((line) => line.split(",").map((p) => p.trim())).filter((p) => p[0])
    .map(([name, phone, ...rest]) => ({ name, phone: phone || undefined, relation: rest.join(", ") || undefined }));
}

async function saveFile(data, filename) {
  const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
  const link = h("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}

export async function render(main) {
  main.append(heading(t("safety.title")), h("p", null, t("safety.intro")));
  const profileBox = h("section", { "aria-labelledby": "safety-profile-h", id: "safety-profile" });
  const contactsBox = h("section", { "aria-labelledby": "contacts-h", id: "trusted-contacts" });
  main.append(profileBox, contactsBox);
  await Promise.all([renderProfile(profileBox), renderContacts(contactsBox)]);
}

// ---------------------------------------------------------------- the profile
async function renderProfile(box) {
  const err = errorBox();
  let data = { profile: null, shared: false, share_until: null };
  try {
    data = await api("/api/me/safety-profile");
  } catch (e) {
    err.show(e);
  }
  const p = data.profile || {};
  clear(box);
  const done = h("p", { class: "ok", role: "status", id: "safety-saved" });
  const inputs = {};
  for (const name of TEXT_FIELDS) {
    inputs[name] = MULTILINE.has(name)
      ? h("textarea", { name, rows: 3, maxlength: LIMITS[name] }, p[name] || "")
      : h("input", { name, maxlength: LIMITS[name], value: p[name] || "" });
  }
  const home = h("textarea", { name: "emergency_contacts_home", rows: 2 }, contactsText(p.emergency_contacts_home));
  const abroad = h("textarea", { name: "emergency_contacts_abroad", rows: 2 }, contactsText(p.emergency_contacts_abroad));
  const languages = h("input", { name: "languages", value: (p.languages || []).join(", ") });
  const passport = select({ name: "passport_status" }, [["", "—"], ...PASSPORT.map((v) => [v, t(`safety.passport.${v}`)])],
    p.passport_status || "");
  const visa = select({ name: "visa_status" }, [["", "—"], ...VISA.map((v) => [v, t(`safety.visa.${v}`)])], p.visa_status || "");
  const save = h("button", { type: "submit", class: "primary" }, t("safety.save"));
  const form = h("form", { class: "form", id: "safety-form" },
    field(t("safety.homeContacts"), home, t("safety.contactsHint")),
    field(t("safety.abroadContacts"), abroad, t("safety.contactsHint")),
    field(t("safety.employer"), inputs.employer), field(t("safety.workplace"), inputs.workplace_address),
    field(t("safety.agent"), inputs.recruiting_agent),
    field(t("safety.passport"), passport), field(t("safety.passportHeldBy"), inputs.passport_held_by),
    field(t("safety.visa"), visa), field(t("safety.visaNotes"), inputs.visa_notes),
    field(t("safety.medical"), inputs.medical_notes), field(t("safety.languages"), languages, t("safety.languagesHint")),
    err.el, save, done);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(save, async () => {
      err.show(null);
      done.textContent = "";
      const v = formValues(form);
      const body = {};
      for (const name of [...TEXT_FIELDS, "passport_status", "visa_status"]) if (v[name]) body[name] = v[name];
      const homeList = parseContacts(v.emergency_contacts_home || "");
      const abroadList = parseContacts(v.emergency_contacts_abroad || "");
      if (homeList.length) body.emergency_contacts_home = homeList;
      if (abroadList.length) body.emergency_contacts_abroad = abroadList;
      const langs = (v.languages || "").split(",").map((s) => s.trim()).filter(Boolean);
      if (langs.length) body.languages = langs;
      try {
        await api("/api/me/safety-profile", { method: "PUT", body });
        done.textContent = t("safety.saved");
        announce(t("safety.saved"));
        await renderProfile(box);
        box.querySelector("#safety-saved").textContent = t("safety.saved");
      } catch (e) {
        err.show(e);
      }
    });
  });

  // sharing, export, delete
  const shareErr = errorBox();
  const shareState = h("p", { id: "share-state" }, data.shared
    ? (data.share_until ? t("safety.sharedUntil", { until: new Date(data.share_until).toLocaleString() }) : t("safety.shared"))
    : t("safety.notShared"));
  const hours = select({ name: "hours", id: "share-hours" }, [["", t("safety.shareUntilOff")], ["24", t("safety.share24h")],
    ["168", t("safety.share7d")]], "");
  const shareButton = h("button", { type: "button", class: "secondary", id: "share-toggle" },
    data.shared ? t("safety.stopSharing") : t("safety.share"));
  shareButton.addEventListener("click", () => busy(shareButton, async () => {
    shareErr.show(null);
    const body = data.shared ? { shared: false } : { shared: true };
    if (!data.shared && hours.value) body.hours = Number(hours.value);
    try {
      await api("/api/me/safety-profile/share", { method: "PUT", body });
      await renderProfile(box);
    } catch (e) {
      shareErr.show(e);
    }
  }));
  const exportButton = h("button", { type: "button", class: "secondary", id: "safety-export" }, t("safety.export"));
  exportButton.addEventListener("click", () => busy(exportButton, async () => {
    try {
      await saveFile(await api("/api/me/safety-profile/export"), "safety-profile.json");
    } catch (e) {
      err.show(e);
    }
  }));
  const deleteButton = h("button", { type: "button", class: "secondary", id: "safety-delete" }, t("safety.delete"));
  const confirmDelete = h("button", { type: "button", class: "secondary", id: "safety-delete-confirm", hidden: true },
    t("safety.deleteConfirm"));
  deleteButton.addEventListener("click", () => { confirmDelete.hidden = false; confirmDelete.focus(); });
  confirmDelete.addEventListener("click", () => busy(confirmDelete, async () => {
    try {
      await api("/api/me/safety-profile", { method: "DELETE" });
      announce(t("safety.deleted"));
      await renderProfile(box);
      box.querySelector("#safety-saved").textContent = t("safety.deleted");
    } catch (e) {
      err.show(e);
    }
  }));
  append(box, [h("h2", { id: "safety-profile-h" }, t("safety.profile")), h("p", { class: "hint" }, t("safety.who")), form,
    h("h3", null, t("safety.sharing")), shareState,
    data.profile && !data.shared ? field(t("safety.shareFor"), hours) : null,
    data.profile ? shareButton : null, shareErr.el,
    data.profile ? h("div", { class: "row" }, exportButton, deleteButton, confirmDelete) : null]);
}

// ---------------------------------------------------------------- trusted contacts
async function renderContacts(box) {
  const err = errorBox();
  let data = { contacts: [], max: 5 };
  try {
    data = await api("/api/trusted-contacts");
  } catch (e) {
    err.show(e);
  }
  clear(box);
  const list = h("ul", { class: "plain", id: "contact-list" }, data.contacts.map((c) => {
    const state = h("span", { class: "small" }, c.confirmed ? t("contacts.confirmed") : t("contacts.waiting"));
    const where = h("button", { type: "button", class: "secondary small", "aria-pressed": String(c.may_receive_location) },
      c.may_receive_location ? t("contacts.locationOn") : t("contacts.locationOff"));
    where.addEventListener("click", () => busy(where, async () => {
      try {
        await api(`/api/trusted-contacts/${c.id}`, { method: "PATCH", body: { may_receive_location: !c.may_receive_location } });
        await renderContacts(box);
      } catch (e) { err.show(e); }
    }));
    const remove = h("button", { type: "button", class: "secondary small", "aria-label": t("contacts.removeNamed", { name: c.name }) },
      t("contacts.remove"));
    remove.addEventListener("click", () => busy(remove, async () => {
      try {
        await api(`/api/trusted-contacts/${c.id}`, { method: "DELETE" });
        await renderContacts(box);
      } catch (e) { err.show(e); }
    }));
    return h("li", { dataset: { contact: c.email } }, h("strong", null, c.name), ` · ${c.email}`,
      c.relation ? ` · ${c.relation}` : "", " · ", state, " ", where, " ", remove);
  }));
  const add = h("button", { type: "submit", class: "primary" }, t("contacts.add"));
  const form = h("form", { class: "form", id: "contact-form" },
    field(t("contacts.name"), h("input", { name: "name", required: true, maxlength: 120 })),
    field(t("contacts.email"), h("input", { name: "email", type: "email", required: true, maxlength: 254 })),
    field(t("contacts.relation"), h("input", { name: "relation", maxlength: 200 })),
    field(t("contacts.language"), select({ name: "language" }, LANGUAGES(), "en")),
    h("div", { class: "field" }, h("label", null, h("input", { type: "checkbox", name: "may_receive_location" }), " ",
      t("contacts.mayReceiveLocation"))),
    err.el, add);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(add, async () => {
      err.show(null);
      const v = formValues(form);
      const body = { name: v.name, email: v.email, language: v.language, may_receive_location: v.may_receive_location === "on" };
      if (v.relation) body.relation = v.relation;
      try {
        await api("/api/trusted-contacts", { method: "POST", body });
        announce(t("contacts.added"));
        await renderContacts(box);
      } catch (e) {
        err.show(e);
      }
    });
  });
  append(box, [h("h2", { id: "contacts-h" }, t("contacts.title")), h("p", { class: "hint" }, t("contacts.intro")), list,
    data.contacts.length < data.max ? form : [h("p", null, t("contacts.full", { n: data.max })), err.el]]);
}

// ---------------------------------------------------------------- the officers' console
const SHOWN = ["employer", "workplace_address", "recruiting_agent", "passport_status", "passport_held_by", "visa_status",
  "visa_notes", "medical_notes", "languages", "emergency_contacts_home", "emergency_contacts_abroad"];

function shown(name, value) {
  if (name === "passport_status") return t(`safety.passport.${value}`);
  if (name === "visa_status") return t(`safety.visa.${value}`);
  if (name === "languages") return value.join(", ");
  if (name.startsWith("emergency_contacts")) {
    return value.map((c) => [c.name, c.phone, c.email, c.relation].filter(Boolean).join(", ")).join("; ");
  }
  return value;
}

/** The detail pane's section: nothing is fetched until the officer asks (an audited act). */
export function consoleSection(alertId) {
  const box = h("div", { id: "safety-profile-box" });
  const button = h("button", { type: "button", class: "secondary small", id: "show-safety-profile" }, t("safety.show"));
  button.addEventListener("click", () => busy(button, async () => {
    clear(box);
    try {
      const res = await api(`/api/sos/alerts/${alertId}/safety-profile`);
      box.append(h("dl", { class: "facts", id: "safety-facts" }, SHOWN.filter((n) => res.profile[n] !== undefined)
        .flatMap((n) => [h("dt", null, t(`safety.field.${n}`)), h("dd", null, shown(n, res.profile[n]))])));
    } catch (e) {
      box.append(h("p", { class: "hint" }, e.code === "safety_profile_unavailable" ? t("safety.none") : errorText(e)));
    }
  }));
  return h("div", null, h("h3", null, t("safety.profile")), h("p", { class: "hint" }, t("safety.audited")), button, box);
}
