// Accounts: sign up, verify the emailed code, log in, settings (profile, language, SOS PINs), log out.

import { api, session } from "../api.js";
import { bus } from "../state.js";
import { announce, field, formValues, h, select } from "../dom.js";
import { getLang, setLang, t } from "../i18n.js";
import { busy, countryOptions, errorBox, heading, LANGUAGES } from "./common.js";

// The password typed at sign-up, kept in memory only, so the person is signed in right after
// verifying the code (a reload forgets it: then they log in).
let signupSecret = null;

function afterLogin(tokens, next) {
  session.save(tokens);
  if (!localStorage.getItem("hubchat.lang") && tokens.user?.language) setLang(tokens.user.language, false);
  bus.emit("session:started", tokens.user);
  location.hash = next || (["officer", "admin"].includes(tokens.user?.role) ? "#/console" : "#/chat");
}

export function login(main, { query }) {
  if (session.signedIn) { location.replace("#/chat"); return; }
  const err = errorBox();
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true,
    value: query.get("email") || "" });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const button = h("button", { type: "submit", class: "primary" }, t("auth.login"));
  const next = query.get("next") ? `#${query.get("next")}` : null;
  const form = h("form", { class: "card form", novalidate: false }, field(t("auth.email"), email),
    field(t("auth.password"), password), err.el, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    err.show(null);
    const values = formValues(form);
    await busy(button, async () => {
      try {
        const tokens = await api("/api/auth/login", { method: "POST", auth: false,
          body: { email: values.email, password: values.password } });
        afterLogin(tokens, next);
      } catch (e) {
        if (e.code === "email_unverified") { location.hash = `#/verify?email=${encodeURIComponent(values.email)}`; return; }
        err.show(e);
      }
    });
  });
  main.append(h("section", { class: "narrow" }, heading(t("auth.loginTitle")), form,
    h("p", null, t("auth.noAccount"), " ", h("a", { href: "#/signup" }, t("auth.signup")))));
}

export function signup(main) {
  if (session.signedIn) { location.replace("#/chat"); return; }
  const err = errorBox();
  const button = h("button", { type: "submit", class: "primary" }, t("auth.signup"));
  const form = h("form", { class: "card form" },
    field(t("auth.displayName"), h("input", { name: "display_name", autocomplete: "name", required: true, maxlength: 80 })),
    field(t("auth.email"), h("input", { type: "email", name: "email", autocomplete: "email", required: true })),
    field(t("auth.password"), h("input", { type: "password", name: "password", autocomplete: "new-password",
      required: true, minlength: 10, maxlength: 256 }), t("auth.passwordHint")),
    field(t("auth.language"), select({ name: "language" }, LANGUAGES(), getLang())),
    field(t("auth.country"), select({ name: "country", required: true }, countryOptions(), "IN"),
      t("auth.countryHint")),
    field(t("auth.city"), h("input", { name: "city", autocomplete: "address-level2", required: true, maxlength: 100 })),
    field(t("auth.phone"), h("input", { type: "tel", name: "phone", autocomplete: "tel", pattern: "\\+[0-9]{7,15}",
      placeholder: "+919812345678" }), t("auth.phoneHint")),
    err.el, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    err.show(null);
    const v = formValues(form);
    const body = { email: v.email, password: v.password, display_name: v.display_name, language: v.language,
      country: v.country, city: v.city };
    if (v.phone) body.phone = v.phone.replace(/[\s().-]/g, "");
    await busy(button, async () => {
      try {
        await api("/api/auth/register", { method: "POST", auth: false, body });
        signupSecret = { email: v.email, password: v.password };
        location.hash = `#/verify?email=${encodeURIComponent(v.email)}`;
      } catch (e) {
        err.show(e);
      }
    });
  });
  main.append(h("section", { class: "narrow" }, heading(t("auth.signupTitle")), h("p", null, t("auth.signupIntro")),
    form, h("p", null, t("auth.haveAccount"), " ", h("a", { href: "#/login" }, t("auth.login")))));
}

export function verify(main, { query }) {
  const err = errorBox();
  const info = h("p", { role: "status", class: "ok", hidden: true });
  const email = query.get("email") || "";
  const button = h("button", { type: "submit", class: "primary" }, t("auth.verify"));
  const resend = h("button", { type: "button", class: "secondary" }, t("auth.resend"));
  const form = h("form", { class: "card form" },
    field(t("auth.email"), h("input", { type: "email", name: "email", value: email, required: true, autocomplete: "email" })),
    field(t("auth.code"), h("input", { name: "code", inputmode: "numeric", autocomplete: "one-time-code",
      pattern: "[0-9]{6}", maxlength: 6, required: true }), t("auth.codeHint")),
    err.el, info, h("div", { class: "row" }, button, resend));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    err.show(null);
    const v = formValues(form);
    await busy(button, async () => {
      try {
        await api("/api/auth/verify", { method: "POST", auth: false, body: { email: v.email, code: v.code } });
        if (signupSecret && signupSecret.email === v.email) {
          const tokens = await api("/api/auth/login", { method: "POST", auth: false, body: signupSecret });
          signupSecret = null;
          afterLogin(tokens, "#/settings?welcome=1");
        } else {
          location.hash = `#/login?email=${encodeURIComponent(v.email)}`;
        }
      } catch (e) {
        err.show(e);
      }
    });
  });
  resend.addEventListener("click", async () => {
    const v = formValues(form);
    if (!v.email) return;
    await busy(resend, async () => {
      try {
        await api("/api/auth/resend-code", { method: "POST", auth: false, body: { email: v.email } });
        info.hidden = false;
        info.textContent = t("auth.resent");
      } catch (e) {
        err.show(e);
      }
    });
  });
  main.append(h("section", { class: "narrow" }, heading(t("auth.verifyTitle")), h("p", null, t("auth.verifyIntro")), form));
}

export function settings(main, { query }) {
  const user = session.user || {};
  const profileErr = errorBox();
  const profileOk = h("p", { role: "status", class: "ok" });
  const saveProfile = h("button", { type: "submit", class: "primary" }, t("settings.save"));
  const profile = h("form", { class: "card form", "aria-labelledby": "profile-h" },
    h("h2", { id: "profile-h" }, t("settings.profile")),
    field(t("auth.displayName"), h("input", { name: "display_name", value: user.display_name || "", required: true,
      maxlength: 80, autocomplete: "name" })),
    field(t("settings.language"), select({ name: "language", id: "pref-language" }, LANGUAGES(), user.language || getLang()),
      t("settings.languageHint")),
    field(t("auth.city"), h("input", { name: "city", value: user.city || "", required: true, maxlength: 100 })),
    field(t("auth.phone"), h("input", { type: "tel", name: "phone", value: user.phone || "", pattern: "\\+[0-9]{7,15}" }),
      t("auth.phoneHint")),
    profileErr.el, profileOk, saveProfile);
  profile.addEventListener("submit", async (event) => {
    event.preventDefault();
    profileErr.show(null);
    profileOk.textContent = "";
    const v = formValues(profile);
    const body = {};
    for (const name of ["display_name", "language", "city", "phone"]) {
      if (v[name] !== (user[name] || "") && !(name === "phone" && !v[name])) body[name] = v[name];
    }
    if (!Object.keys(body).length) { profileOk.textContent = t("settings.saved"); return; }
    await busy(saveProfile, async () => {
      try {
        const res = await api("/api/me", { method: "PATCH", body });
        session.setUser(res.user);
        profileOk.textContent = t("settings.saved");
        announce(t("settings.saved"));
        if (body.language && body.language !== getLang()) setLang(body.language);
      } catch (e) {
        profileErr.show(e);
      }
    });
  });

  const pinErr = errorBox();
  const pinOk = h("p", { role: "status", class: "ok" }, user.sos_pins_set ? t("settings.pinsAreSet") : "");
  const savePins = h("button", { type: "submit", class: "primary" }, t("settings.savePins"));
  const pins = h("form", { class: "card form", "aria-labelledby": "pins-h", id: "pins-form" },
    h("h2", { id: "pins-h" }, t("settings.pins")),
    h("p", null, t("settings.pinsIntro")),
    h("p", { class: "note" }, t("settings.duressIntro")),
    field(t("settings.sosPin"), h("input", { type: "password", name: "sos_pin", inputmode: "numeric", pattern: "[0-9]{4,8}",
      minlength: 4, maxlength: 8, required: true, autocomplete: "off" }), t("settings.pinHint")),
    field(t("settings.duressPin"), h("input", { type: "password", name: "duress_pin", inputmode: "numeric",
      pattern: "[0-9]{4,8}", minlength: 4, maxlength: 8, required: true, autocomplete: "off" }), t("settings.duressHint")),
    field(t("settings.currentPassword"), h("input", { type: "password", name: "password", required: true,
      autocomplete: "current-password" })),
    pinErr.el, pinOk, savePins);
  pins.addEventListener("submit", async (event) => {
    event.preventDefault();
    pinErr.show(null);
    const v = formValues(pins);
    if (v.sos_pin === v.duress_pin) { pinErr.show(t("err.pins_equal")); return; }
    await busy(savePins, async () => {
      try {
        const res = await api("/api/me/sos-pins", { method: "PUT",
          body: { password: v.password, sos_pin: v.sos_pin, duress_pin: v.duress_pin } });
        session.setUser(res.user);
        pins.reset();
        pinOk.textContent = t("settings.pinsSaved");
        announce(t("settings.pinsSaved"));
      } catch (e) {
        pinErr.show(e);
      }
    });
  });

  const logout = h("button", { type: "button", class: "secondary", id: "logout" }, t("settings.logout"));
  logout.addEventListener("click", () => bus.emit("session:logout"));
  const welcome = query.get("welcome") ? h("p", { class: "ok", role: "status" }, t("settings.welcome")) : null;
  main.append(h("section", { class: "narrow" }, heading(t("settings.title")), welcome,
    h("p", { class: "muted" }, `${user.email || ""} · ${t(`role.${user.role || "member"}`)}`),
    profile, pins, h("div", { class: "card" }, logout)));
}
