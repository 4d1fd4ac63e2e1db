// Bits shared by the views: error messages, busy buttons, country lists.

import { h } from "../dom.js";
import { getLang, has, t } from "../i18n.js";

export function errorText(err) {
  if (!err) return "";
  const code = err.code || "";
  if (code && has(`err.${code}`)) {
    const secs = err.data?.retry_after_secs;
    return t(`err.${code}`, { secs: secs ? Math.ceil(secs) : "" });
  }
  if (err.status === 0) return t("err.offline");
  return err.message || t("err.generic");
}

/** A polite error slot for a form; show(err) / show(null). */
export function errorBox() {
  const el = h("p", { class: "error", role: "alert", hidden: true });
  return {
    el,
    show(err) {
      el.hidden = !err;
      el.textContent = err ? (typeof err === "string" ? err : errorText(err)) : "";
    },
  };
}

/** Disables the button while the promise runs. */
export async function busy(button, work) {
  if (button.disabled) return undefined; // a double click does not run the work twice
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

// Countries where the Mizo diaspora lives (and the home country); anything else by code.
export const COUNTRIES = ["IN", "AE", "SA", "QA", "KW", "OM", "BH", "IL", "SG", "MY", "TH", "MM", "BD", "NP",
  "JP", "KR", "HK", "CN", "PH", "ID", "AU", "NZ", "GB", "IE", "DE", "FR", "NL", "US", "CA", "MV", "IQ", "JO"];

export function countryName(code) {
  if (!code) return "";
  try {
    const names = new Intl.DisplayNames([getLang() === "lus" ? "en" : getLang(), "en"], { type: "region" });
    return names.of(code) || code;
  } catch {
    return code;
  }
}

export function countryOptions(withAny = false) {
  const list = COUNTRIES.map((c) => [c, countryName(c)]).sort((a, b) => a[1].localeCompare(b[1]));
  return withAny ? [["", t("dir.anyCountry")], ...list] : list;
}

export const LANGUAGES = () => [["lus", "Mizo ṭawng"], ["en", "English"]];

export function heading(text) {
  return h("h1", { tabindex: "-1" }, text);
}
