// request-log.js — the playground's request/response log pane: one row per HTTP exchange (time, JSON-RPC
// method, HTTP method, status, duration, error), newest first, at most 200 rows. Useful for bug reports.

import { el, replace } from "./dom.js";

const MAX_ROWS = 200;

export function createRequestLog() {
  const body = el("tbody", { id: "request-log-rows" });
  const element = el("section", { class: "card log" },
    el("div", { class: "card-head" }, el("h2", {}, "Requests"),
      el("button", { type: "button", class: "small secondary", onclick: () => replace(body) }, "Clear")),
    el("table", { class: "table compact", id: "request-log" },
      el("thead", {}, el("tr", {}, ["time", "method", "HTTP", "status", "ms", "error"].map((h) => el("th", {}, h)))),
      body));
  return {
    element,
    /** Adds an exchange {method, httpMethod, status, ms, error?}. */
    add(entry) {
      const failed = entry.error || !entry.status || entry.status >= 400;
      body.prepend(el("tr", { class: failed ? "bad" : "" },
        el("td", {}, new Date().toLocaleTimeString()),
        el("td", {}, el("code", {}, entry.method)),
        el("td", {}, entry.httpMethod),
        el("td", { class: "status" }, entry.status ?? "—"),
        el("td", { class: "num" }, String(entry.ms)),
        el("td", {}, entry.error || "")));
      while (body.rows.length > MAX_ROWS) body.lastElementChild.remove();
    },
  };
}
