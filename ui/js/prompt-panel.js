// prompt-panel.js — the playground's selected prompt: one input per argument (required marked),
// Get prompt, and the messages it returns.

import { el, replace } from "./dom.js";
import { promptResult, errorView } from "./result-view.js";

/** `context()` → {client} of the current connection. */
export function createPromptPanel(context) {
  let prompt = null;
  let inputs = [];
  const title = el("h3", { id: "prompt-name" });
  const description = el("p", { class: "muted" });
  const fields = el("div", { id: "prompt-args" });
  const resultHost = el("div", { id: "prompt-result" });
  const element = el("form", { class: "panel", id: "prompt-panel", hidden: true, onsubmit: (e) => { e.preventDefault(); get(); } },
    title, description, fields,
    el("div", { class: "row" }, el("button", { type: "submit", id: "get-prompt" }, "Get prompt")),
    resultHost);

  function show(p) {
    prompt = p;
    element.hidden = false;
    title.textContent = p.title || p.name;
    description.textContent = p.description || "";
    inputs = (p.arguments || []).map((a) => {
      const input = el("input", { type: "text", "data-arg": a.name, name: a.name, id: `prompt-arg-${a.name}`, required: !!a.required });
      return { name: a.name, input, node: el("div", { class: "field" },
        el("label", { for: input.id }, a.title || a.name, a.required ? el("span", { class: "required" }, " *") : null),
        input, a.description ? el("small", { class: "hint" }, a.description) : null) };
    });
    replace(fields, inputs.length ? inputs.map((i) => i.node) : el("p", { class: "muted" }, "No arguments."));
    replace(resultHost);
  }

  async function get() {
    const { client } = context();
    if (!prompt || !client) return;
    const args = {};
    for (const { name, input } of inputs) if (input.value !== "") args[name] = input.value;
    replace(resultHost, el("p", { class: "muted" }, "Getting…"));
    try {
      replace(resultHost, promptResult(await client.request("prompts/get", { name: prompt.name, arguments: args })));
    } catch (e) {
      console.info("prompts/get failed:", e.message);
      replace(resultHost, errorView(e));
    }
  }

  return { element, show, hide: () => { element.hidden = true; } };
}
