// The person's own case, status only (never notes or referrals): a line on the person's
// past-alerts page (#/sos/history), shown only when the person opens it.

import { api } from "../api.js";
import { h } from "../dom.js";
import { t } from "../i18n.js";

/** A <p> that fills itself with the newest case's status, or stays hidden when there is none. */
export function myCaseLine() {
  const line = h("p", { class: "my-case small", id: "my-case", role: "status", hidden: true });
  api("/api/cases/mine").then(({ cases }) => {
    const open = cases.find((c) => c.status !== "closed") || cases[0];
    if (!open) return;
    line.textContent = t("mycase.status", { status: t(`case.status.${open.status}`) });
    line.hidden = false;
  }).catch(() => { /* offline: the SOS screen needs nothing from here */ });
  return line;
}
