// Tiny DOM helpers. Everything user-supplied goes in as text (textContent / attributes), never as
// HTML, so a message body or an association name can never inject markup or script.

let uid = 0;
export const nextId = (prefix = "el") => `${prefix}-${++uid}`;

const PROPS = new Set(["value", "checked", "disabled", "hidden", "selected", "multiple", "readOnly", "required"]);

/** h("button", {class: "x", onclick: fn, "aria-label": "…"}, "text", child, [more]) */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") el.className = value;
      else if (key === "text") el.textContent = value;
      else if (key === "dataset") Object.assign(el.dataset, value);
      else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
      else if (PROPS.has(key)) el[key] = value;
      else el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

/** A labelled form field: <div class=field><label for>…</label><input id aria-describedby>…hint…</div>. */
export function field(label, input, hint) {
  const id = input.id || nextId("f");
  input.id = id;
  const parts = [h("label", { for: id }, label), input];
  if (hint) {
    const hintId = `${id}-hint`;
    input.setAttribute("aria-describedby", hintId);
    parts.push(h("p", { class: "hint", id: hintId }, hint));
  }
  return h("div", { class: "field" }, parts);
}

/** A <select> from [[value, label], …]. */
export function select(props, options, current) {
  return h("select", props, options.map(([value, label]) => h("option", { value, selected: value === current }, label)));
}

/** Screen-reader announcement through the shared polite live region. */
export function announce(text, assertive = false) {
  const region = document.getElementById(assertive ? "live-assertive" : "live-polite");
  if (!region) return;
  region.textContent = "";
  // A fresh text node after a tick makes screen readers repeat identical announcements.
  setTimeout(() => { region.textContent = text; }, 30);
}

/** Keyed list reconciliation: rebuilds an item only when its signature changed, so focus and
 * inline editors inside untouched items survive re-renders. */
export function renderKeyed(container, items, keyOf, signatureOf, build) {
  const old = new Map();
  for (const child of Array.from(container.children)) {
    if (child.dataset.key) old.set(child.dataset.key, child);
  }
  let before = container.firstChild;
  const seen = new Set();
  for (const item of items) {
    const key = String(keyOf(item));
    const sig = String(signatureOf(item));
    seen.add(key);
    let el = old.get(key);
    if (!el || el.dataset.sig !== sig) {
      const fresh = build(item);
      fresh.dataset.key = key;
      fresh.dataset.sig = sig;
      if (el) {
        if (before === el) before = fresh;
        el.replaceWith(fresh);
      }
      el = fresh;
    }
    if (el !== before) container.insertBefore(el, before);
    before = el.nextSibling;
  }
  for (const [key, el] of old) if (!seen.has(key)) el.remove();
}

export function formValues(form) {
  const out = {};
  for (const [key, value] of new FormData(form).entries()) out[key] = typeof value === "string" ? value.trim() : value;
  return out;
}

export function fmtTime(iso, lang) {
  if (!iso) return "";
  const d = new Date(iso);
  const sameDay = d.toDateString() === new Date().toDateString();
  const loc = lang === "lus" ? "en-IN" : undefined;
  return sameDay ? d.toLocaleTimeString(loc, { hour: "2-digit", minute: "2-digit" })
    : d.toLocaleString(loc, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
}

export function randomId(prefix) {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return prefix + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
