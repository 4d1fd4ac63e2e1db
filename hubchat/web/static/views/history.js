// The person's own past alerts (GET /api/me/sos/alerts): when, what, how it ended as they saw it,
// and who acknowledged it.  The server sends the very person view shown live, so a duress "cancel"
// is listed as a cancel.  "Hide my past alerts" hides them from this list on every device (the
// Cell keeps them); nothing is loaded until the person opens this page.  The person's case status
// is here too, not on the SOS screen: whoever picks up the phone sees neither without asking.

import { api } from "../api.js";
import { announce, clear, fmtTime, h } from "../dom.js";
import { getLang, t } from "../i18n.js";
import { busy, errorBox, heading } from "./common.js";
import { myCaseLine } from "./mycase.js";

export function render(main) {
  const err = errorBox();
  const list = h("ul", { class: "list history-mine", id: "my-alerts" });
  const empty = h("p", { class: "muted", id: "my-alerts-empty", hidden: true }, t("mine.none"));
  const more = h("button", { type: "button", class: "secondary", id: "my-alerts-more", hidden: true }, t("mine.more"));
  const hide = h("button", { type: "button", class: "link danger", id: "my-alerts-hide" }, t("mine.hide"));
  let next = null;

  async function load(before = null) {
    const query = new URLSearchParams({ limit: "20" });
    if (before) query.set("before", before);
    try {
      const page = await api(`/api/me/sos/alerts?${query}`);
      if (!before) clear(list);
      for (const a of page.alerts) list.append(item(a));
      next = page.next_before;
      more.hidden = !next;
      empty.hidden = list.childElementCount > 0;
      err.show(null);
    } catch (e) {
      err.show(e);
    }
  }

  more.addEventListener("click", () => busy(more, () => load(next)));
  hide.addEventListener("click", () => {
    if (!window.confirm(t("mine.hideConfirm"))) return;
    busy(hide, async () => {
      try {
        await api("/api/me/sos/alerts/hide", { method: "POST" });
        announce(t("mine.hidden"));
        await load();
      } catch (e) {
        err.show(e);
      }
    });
  });

  main.append(h("section", { class: "narrow my-alerts" }, heading(t("mine.title")),
    myCaseLine(), h("p", { class: "muted small" }, t("mine.intro")), err.el, list, empty, more,
    h("p", { class: "small" }, hide), h("p", { class: "small muted" }, t("mine.hideNote")),
    h("p", null, h("a", { href: "#/sos" }, t("mine.back")))));
  load();
}

function item(a) {
  const ack = a.acknowledged_by?.display_name;
  return h("li", { class: "my-alert", dataset: { status: a.status } },
    h("strong", null, `${t(`sos.cat.${a.category}`)} · ${t(`mine.status.${a.status}`)}`),
    h("time", { datetime: a.created_at, class: "muted small" }, fmtTime(a.created_at, getLang())),
    ack ? h("span", { class: "small" }, t("sos.step.acknowledgedBy", { name: ack })) : null);
}
