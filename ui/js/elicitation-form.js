// elicitation-form.js — answers a server's elicitation/create (handshake era: a request on the SSE stream;
// 2026-07-28: an input request of an input_required result) from a form generated from its requestedSchema,
// with Accept / Decline / Cancel. Resolves to the ElicitResult to send back.

import { el } from "./dom.js";
import { schemaForm, FormError } from "./schema-form.js";

/** Shows the form in `host` for `params` ({message, requestedSchema}); resolves to {action, content?}. */
export function askElicitation(host, params) {
  return new Promise((resolve) => {
    const form = schemaForm(params?.requestedSchema || { type: "object", properties: {} });
    const raw = form ? null : el("textarea", { class: "raw-json", "data-path": "(raw)", rows: 4 }, "{}");
    const problem = el("p", { class: "form-problem", hidden: true });
    const finish = (result) => {
      card.remove();
      resolve(result);
    };
    const accept = () => {
      try {
        finish({ action: "accept", content: form ? form.read() : JSON.parse(raw.value) });
      } catch (e) {
        if (!(e instanceof FormError || e instanceof SyntaxError)) throw e;
        problem.hidden = false;
        problem.textContent = e.message;
      }
    };
    const card = el("form", { class: "elicitation", id: "elicitation", onsubmit: (e) => { e.preventDefault(); accept(); } },
      el("div", { class: "label" }, "The server asks (elicitation/create)"),
      el("p", { class: "elicitation-message" }, params?.message ?? ""),
      form ? form.element : raw,
      problem,
      el("div", { class: "row" },
        el("button", { type: "submit", "data-action": "accept" }, "Accept"),
        el("button", { type: "button", class: "secondary", "data-action": "decline", onclick: () => finish({ action: "decline" }) }, "Decline"),
        el("button", { type: "button", class: "secondary", "data-action": "cancel", onclick: () => finish({ action: "cancel" }) }, "Cancel")));
    host.append(card);
    card.querySelector("input, select, textarea")?.focus();
  });
}
