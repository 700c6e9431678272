// token-form.js — the admin-token form: shown when the admin API answers 401, resolves to the typed token
// (or null when the user cancels). Concurrent 401s share one form. The token is never put in a URL.

import { el } from "./dom.js";

let pending = null;

/** Shows the form in `host` with `reason`; resolves to the token typed, or null. */
export function askForToken(host, reason) {
  if (pending) return pending;
  pending = new Promise((resolve) => {
    const input = el("input", { type: "password", id: "admin-token", autocomplete: "off", placeholder: "admin token", required: true });
    const done = (value) => {
      form.remove();
      pending = null;
      resolve(value);
    };
    const form = el("form", { class: "card token-form", id: "token-form", onsubmit: (e) => {
      e.preventDefault();
      if (input.value.trim()) done(input.value.trim());
    } },
      el("h2", {}, "Admin token"),
      el("p", {}, reason, " It is kept in this tab's session storage and sent as Authorization: Bearer."),
      el("div", { class: "row" }, input,
        el("button", { type: "submit", id: "admin-token-submit" }, "Use token"),
        el("button", { type: "button", class: "secondary", onclick: () => done(null) }, "Cancel")));
    host.prepend(form);
    input.focus();
  });
  return pending;
}
