// The Cell's cases (officers): a filtered list a page at a time, and one case's detail — status,
// owner, notes, follow-up reminders, referrals to partner agencies (with the alert's export
// attached by the server), closing with an outcome.  Routes #/cases and #/cases/{id}; an alert
// becomes a case from the console's detail pane (openCaseFromAlert).

import { api, session } from "../api.js";
import { clear, field, fmtTime, formValues, h, select } from "../dom.js";
import { getLang, t } from "../i18n.js";
import { busy, countryName, countryOptions, errorBox, heading } from "./common.js";

const STATUSES = ["open", "in_progress", "referred", "closed"];
const NOTE_KINDS = ["call", "visit", "referral", "other"];
const OUTCOMES = ["safe", "repatriated", "legal_action", "referred_elsewhere", "no_contact", "declined_help",
  "duplicate", "other"];
const AGENCY_KINDS = ["mission", "police", "ngo", "other"];

/** From the console's alert pane: the alert's case (made now unless it exists), then its page. */
export async function openCaseFromAlert(alertId) {
  const { case: c } = await api("/api/cases/from-alert", { method: "POST", body: { alert_id: alertId } });
  location.hash = `#/cases/${c.id}`;
}

export function render(main, { params: [caseId] }) {
  const root = h("section", { class: "cases" });
  main.append(root);
  if (caseId) renderCase(root, caseId);
  else renderList(root);
}

// ---------------------------------------------------------------- the list
function renderList(root) {
  const err = errorBox();
  const rows = h("tbody", { id: "cases-rows" });
  const more = h("button", { type: "button", class: "secondary", id: "cases-more", hidden: true }, t("cases.more"));
  const form = h("form", { class: "form filters", id: "cases-filters" },
    field(t("cases.status"), select({ name: "status" },
      [["", t("cases.any")], ...STATUSES.map((s) => [s, t(`case.status.${s}`)])], "")),
    field(t("cases.country"), select({ name: "country" }, countryOptions(true), "")),
    field(t("cases.search"), h("input", { name: "q", maxlength: 60, type: "search" })),
    field(t("cases.since"), h("input", { name: "since", type: "date" })),
    field(t("cases.until"), h("input", { name: "until", type: "date" })),
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "mine", value: "1" }), t("cases.mine")),
    h("button", { type: "submit" }, t("cases.filter")));
  let next = null;
  let filters = {};

  async function load(append) {
    err.show(null);
    const query = new URLSearchParams({ ...filters, limit: "50" });
    if (append && next) query.set("before", next);
    try {
      const page = await api(`/api/cases?${query}`);
      if (!append) clear(rows);
      for (const c of page.cases) {
        rows.append(h("tr", { dataset: { caseId: c.id } },
          h("td", null, h("a", { href: `#/cases/${c.id}` }, c.person.display_name || c.person.id)),
          h("td", null, countryName(c.person.country)),
          h("td", null, h("span", { class: `case-status case-${c.status}` }, t(`case.status.${c.status}`))),
          h("td", null, c.owner.display_name || ""),
          h("td", null, h("time", { datetime: c.created_at }, fmtTime(c.created_at, getLang())))));
      }
      if (!rows.children.length) rows.append(h("tr", null, h("td", { colspan: 5, class: "muted" }, t("cases.none"))));
      next = page.next_before;
      more.hidden = !next;
    } catch (e) {
      err.show(e);
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const values = formValues(form);
    filters = {};
    for (const key of ["status", "country", "q", "since", "until"]) if (values[key]) filters[key] = values[key];
    if (values.mine) filters.owner_id = session.user?.id;
    load(false);
  });
  more.addEventListener("click", () => busy(more, () => load(true)));
  root.append(heading(t("cases.title")), form, err.el,
    h("table", { class: "cases-table" }, h("thead", null, h("tr", null,
      [t("cases.person"), t("cases.country"), t("cases.status"), t("cases.owner"), t("cases.opened")]
        .map((label) => h("th", { scope: "col" }, label)))), rows), more);
  load(false);
}

// ---------------------------------------------------------------- one case
function renderCase(root, caseId) {
  const err = errorBox();
  const body = h("div", { id: "case-detail" }, h("p", { class: "muted" }, t("common.loading")));
  root.append(h("p", null, h("a", { href: "#/cases" }, t("cases.back"))), body);

  async function load() {
    try {
      const [detail, { agencies }] = await Promise.all([api(`/api/cases/${caseId}`), api("/api/partner-agencies")]);
      draw(detail, agencies);
    } catch (e) {
      clear(body);
      body.append(heading(t("cases.title")), err.el);
      err.show(e);
    }
  }

  function submitter(form, button, work) {
    const box = errorBox();
    form.append(box.el);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(button, async () => {
        box.show(null);
        try {
          await work(formValues(form));
          await load();
        } catch (e) {
          box.show(e);
        }
      });
    });
    return form;
  }

  function draw({ case: c, notes, reminders, referrals }, agencies) {
    clear(body);
    const closed = c.status === "closed";
    body.append(
      heading(t("cases.caseOf", { name: c.person.display_name || "" })),
      h("dl", { class: "facts", id: "case-facts" },
        h("dt", null, t("cases.status")), h("dd", { id: "case-status" }, t(`case.status.${c.status}`)),
        c.outcome ? [h("dt", null, t("cases.outcome")), h("dd", null, t(`case.outcome.${c.outcome}`),
          c.outcome_note ? ` · ${c.outcome_note}` : "")] : null,
        h("dt", null, t("cases.owner")), h("dd", null, c.owner.display_name || ""),
        h("dt", null, t("cases.country")), h("dd", null, countryName(c.person.country)),
        h("dt", null, t("cases.opened")), h("dd", null, fmtTime(c.created_at, getLang())),
        c.alert_id ? [h("dt", null, t("cases.alert")), h("dd", null, h("a", { href: `#/console/${c.alert_id}` },
          t("cases.openAlert")))] : null,
        c.summary ? [h("dt", null, t("cases.summary")), h("dd", null, c.summary)] : null));

    if (!closed) {
      const statusButton = h("button", { type: "submit", class: "secondary" }, t("cases.save"));
      const statusForm = h("form", { class: "form row", id: "case-status-form" },
        field(t("cases.status"), select({ name: "status" },
          STATUSES.filter((s) => s !== "closed").map((s) => [s, t(`case.status.${s}`)]), c.status)), statusButton);
      const mine = c.owner.id === session.user?.id;
      const takeButton = h("button", { type: "submit", class: "secondary", hidden: mine }, t("cases.takeOver"));
      body.append(submitter(statusForm, statusButton,
        (v) => api(`/api/cases/${caseId}`, { method: "PATCH", body: { status: v.status } })),
      submitter(h("form", { class: "form row", id: "case-take-form" }, takeButton), takeButton,
        () => api(`/api/cases/${caseId}`, { method: "PATCH", body: { owner_id: session.user.id } })));
    }

    // notes
    body.append(h("h2", null, t("cases.notes")), h("ol", { class: "timeline", id: "case-notes" }, notes.map((n) =>
      h("li", null, h("time", { datetime: n.at }, fmtTime(n.at, getLang())), " ",
        h("strong", null, t(`case.note.${n.kind}`)), ` · ${n.author.display_name}`,
        h("span", { class: "timeline-note" }, n.body)))));
    if (!closed) {
      const noteButton = h("button", { type: "submit" }, t("cases.addNote"));
      body.append(submitter(h("form", { class: "form", id: "case-note-form" },
        field(t("cases.noteKind"), select({ name: "kind" }, NOTE_KINDS.map((k) => [k, t(`case.note.${k}`)]), "call")),
        field(t("cases.noteBody"), h("textarea", { name: "body", rows: 3, maxlength: 4000, required: true })),
        noteButton), noteButton,
      (v) => api(`/api/cases/${caseId}/notes`, { method: "POST", body: { kind: v.kind, body: v.body } })));
    }

    // reminders
    body.append(h("h2", null, t("cases.reminders")), h("ul", { class: "plain", id: "case-reminders" },
      reminders.map((r) => h("li", null, `${fmtTime(r.due_at, getLang())} · ${r.note || ""} · ${t(`case.reminder.${r.state}`)}`))));
    if (!closed) {
      const remindButton = h("button", { type: "submit", class: "secondary" }, t("cases.addReminder"));
      body.append(submitter(h("form", { class: "form row", id: "case-reminder-form" },
        field(t("cases.due"), h("input", { name: "due", type: "datetime-local", required: true })),
        field(t("cases.reminderNote"), h("input", { name: "note", maxlength: 200 })), remindButton), remindButton,
      (v) => api(`/api/cases/${caseId}/reminders`, { method: "POST",
        body: { due_at: new Date(v.due).toISOString(), ...(v.note ? { note: v.note } : {}) } })));
    }

    // referrals
    body.append(h("h2", null, t("cases.referrals")), h("ul", { class: "plain", id: "case-referrals" },
      referrals.map((r) => h("li", null,
        `${fmtTime(r.at, getLang())} · ${r.agency.name} (${r.agency.email}) · ${t(`case.attach.${r.attach}`)} · ${r.by.display_name}`))));
    if (!closed && agencies.length) {
      const referButton = h("button", { type: "submit" }, t("cases.refer"));
      const attachOptions = (c.alert_id ? ["json", "cap", "none"] : ["none"]).map((a) => [a, t(`case.attach.${a}`)]);
      body.append(submitter(h("form", { class: "form", id: "case-referral-form" },
        field(t("cases.agency"), select({ name: "agency_id" },
          agencies.filter((a) => a.active).map((a) => [a.id, `${a.name} · ${countryName(a.country)}`]), "")),
        field(t("cases.attach"), select({ name: "attach" }, attachOptions, attachOptions[0][0])),
        field(t("cases.referralNote"), h("textarea", { name: "note", rows: 2, maxlength: 4000 })), referButton),
      referButton, (v) => api(`/api/cases/${caseId}/referrals`, { method: "POST",
        body: { agency_id: v.agency_id, attach: v.attach, ...(v.note ? { note: v.note } : {}) } })));
    }
    const agencyButton = h("button", { type: "submit", class: "secondary" }, t("cases.addAgency"));
    body.append(h("details", { class: "agency-add" }, h("summary", null, t("cases.newAgency")),
      submitter(h("form", { class: "form", id: "agency-form" },
        field(t("cases.agencyName"), h("input", { name: "name", maxlength: 200, required: true })),
        field(t("cases.agencyKind"), select({ name: "kind" }, AGENCY_KINDS.map((k) => [k, t(`case.agency.${k}`)]), "mission")),
        field(t("cases.agencyEmail"), h("input", { name: "email", type: "email", required: true })),
        field(t("cases.country"), select({ name: "country" }, countryOptions(false), "AE")), agencyButton),
      agencyButton, (v) => api("/api/partner-agencies", { method: "POST", body: v }))));

    // close
    if (!closed) {
      const closeButton = h("button", { type: "submit", class: "secondary" }, t("cases.close"));
      body.append(h("h2", null, t("cases.close")), submitter(h("form", { class: "form", id: "case-close-form" },
        field(t("cases.outcome"), select({ name: "outcome" }, OUTCOMES.map((o) => [o, t(`case.outcome.${o}`)]), "safe")),
        field(t("cases.outcomeNote"), h("textarea", { name: "note", rows: 2, maxlength: 4000 })), closeButton),
      closeButton, (v) => api(`/api/cases/${caseId}/close`, { method: "POST",
        body: { outcome: v.outcome, ...(v.note ? { note: v.note } : {}) } })));
    }
  }

  load();
}
