// resource-panel.js — the playground's selected resource (Read shows its contents, text or blob) or
// resource template (one input per {variable}, expanded into a URI, then read).

import { el, replace } from "./dom.js";
import { readResult, errorView } from "./result-view.js";

const VARIABLE = /\{([+#./;?&]?)([^}]+)\}/g;

/** `context()` → {client} of the current connection. */
export function createResourcePanel(context) {
  let uriOf = () => null; // the URI to read, from the resource or the template's inputs
  const title = el("h3", { id: "resource-name" });
  const details = el("div", {});
  const resultHost = el("div", { id: "resource-result" });
  const element = el("form", { class: "panel", id: "resource-panel", hidden: true, onsubmit: (e) => { e.preventDefault(); read(); } },
    title, details,
    el("div", { class: "row" }, el("button", { type: "submit", id: "read-resource" }, "Read")),
    resultHost);

  function showResource(r) {
    element.hidden = false;
    title.textContent = r.title || r.name || r.uri;
    replace(details, el("p", {}, el("code", {}, r.uri), r.mimeType ? el("span", { class: "muted" }, ` ${r.mimeType}`) : null),
      r.description ? el("p", { class: "muted" }, r.description) : null);
    replace(resultHost);
    uriOf = () => r.uri;
  }

  function showTemplate(t) {
    element.hidden = false;
    title.textContent = t.title || t.name || t.uriTemplate;
    const names = [...new Set([...t.uriTemplate.matchAll(VARIABLE)].flatMap((m) => m[2].split(",").map((n) => n.replace(/\*$|:\d+$/, ""))))];
    const inputs = new Map(names.map((n) => [n, el("input", { type: "text", "data-var": n, id: `template-var-${n}`, required: true })]));
    replace(details, el("p", {}, el("code", {}, t.uriTemplate)),
      t.description ? el("p", { class: "muted" }, t.description) : null,
      [...inputs].map(([n, input]) => el("div", { class: "field" }, el("label", { for: input.id }, n), input)));
    replace(resultHost);
    uriOf = () => t.uriTemplate.replace(VARIABLE, (_, op, list) =>
      list.split(",").map((n) => {
        const value = inputs.get(n.replace(/\*$|:\d+$/, ""))?.value ?? "";
        return op === "+" || op === "#" ? encodeURI(value) : encodeURIComponent(value);
      }).join(","));
  }

  async function read() {
    const { client } = context();
    const uri = uriOf();
    if (!client || !uri) return;
    replace(resultHost, el("p", { class: "muted" }, `Reading ${uri}…`));
    try {
      replace(resultHost, readResult(await client.request("resources/read", { uri })));
    } catch (e) {
      console.info("resources/read failed:", e.message);
      replace(resultHost, errorView(e));
    }
  }

  return { element, showResource, showTemplate, hide: () => { element.hidden = true; } };
}
