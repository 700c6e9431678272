// tool-panel.js — the playground's selected tool: a form from its inputSchema (or raw JSON, by toggle or
// when the schema is beyond the generator), Run Tool / Cancel, every progress and log notification as it
// arrives, elicitation forms, then the result; and "Copy link" (a deep link that runs this tool with these
// arguments). Every event and the result carry data-seq (arrival order) and data-at (ms since Run).

import { el, replace, pretty } from "./dom.js";
import { schemaForm, FormError } from "./schema-form.js";
import { toolResult, errorView } from "./result-view.js";
import { askElicitation } from "./elicitation-form.js";
import { playgroundLink } from "./deep-link.js";

/** `context()` → {client, endpoint, era} of the current connection. */
export function createToolPanel(context) {
  let tool = null;
  let form = null;
  let running = null; // the AbortController of the run in progress

  const title = el("h3", { id: "tool-name" });
  const description = el("p", { class: "muted", id: "tool-description" });
  const formHost = el("div", { id: "tool-form" });
  const rawToggle = el("input", { type: "checkbox", id: "raw-toggle", onchange: () => toggleRaw() });
  const rawArgs = el("textarea", { id: "raw-args", class: "raw-json", rows: 6, spellcheck: "false", hidden: true });
  const problem = el("p", { class: "form-problem", id: "tool-form-problem", hidden: true });
  const runButton = el("button", { type: "submit", id: "run-tool" }, "Run Tool");
  const cancelButton = el("button", { type: "button", class: "secondary", id: "cancel-run", disabled: true, onclick: () => running?.abort() }, "Cancel");
  const shareLink = el("input", { type: "text", id: "share-link", readOnly: true, hidden: true });
  const events = el("ol", { class: "events", id: "run-events" });
  const elicitationHost = el("div", { id: "elicitation-host" });
  const resultHost = el("div", { id: "run-result" });

  const element = el("form", { class: "panel", id: "tool-panel", hidden: true, onsubmit: (e) => { e.preventDefault(); run(); } },
    title, description,
    el("label", { class: "toggle" }, rawToggle, " Raw JSON arguments"),
    formHost, rawArgs, problem,
    el("div", { class: "row" }, runButton, cancelButton,
      el("button", { type: "button", class: "secondary", id: "copy-link", onclick: () => copyLink() }, "Copy link")),
    shareLink,
    events, elicitationHost, resultHost);

  /** Shows `t` (a tool from tools/list) with a fresh form. */
  function show(t) {
    running?.abort();
    tool = t;
    element.hidden = false;
    element.dataset.tool = t.name;
    title.textContent = t.title || t.name;
    description.textContent = t.description || "";
    form = schemaForm(t.inputSchema);
    replace(formHost, form ? form.element : el("p", { class: "muted" }, "This schema needs raw JSON."));
    rawToggle.checked = !form;
    rawToggle.disabled = !form;
    rawArgs.hidden = !!form;
    rawArgs.value = "{}";
    problem.hidden = true;
    shareLink.hidden = true;
    replace(events);
    replace(elicitationHost);
    replace(resultHost);
  }

  function hide() {
    running?.abort();
    tool = null;
    element.hidden = true;
  }

  /** The arguments now in the form (or the raw JSON); throws FormError / SyntaxError. */
  function readArgs() {
    return rawToggle.checked ? JSON.parse(rawArgs.value || "{}") : form.read();
  }

  /** Puts `args` into the form (or the raw JSON box). */
  function fill(args) {
    rawArgs.value = pretty(args ?? {});
    if (form && !rawToggle.checked) form.write(args);
  }

  function toggleRaw() {
    problem.hidden = true;
    try {
      if (rawToggle.checked) rawArgs.value = pretty(form.read());
      else form.write(JSON.parse(rawArgs.value || "{}"));
    } catch (e) {
      if (!(e instanceof FormError || e instanceof SyntaxError)) throw e;
      if (!rawToggle.checked) rawToggle.checked = true;
      showProblem(e.message);
    }
    rawArgs.hidden = !rawToggle.checked;
    formHost.hidden = rawToggle.checked;
  }

  function showProblem(message) {
    problem.hidden = false;
    problem.textContent = message;
  }

  /** Runs the tool with the current arguments; resolves when the result (or error) is shown. */
  async function run() {
    const { client } = context();
    if (!tool || !client) return;
    let args;
    try {
      args = readArgs();
      problem.hidden = true;
    } catch (e) {
      if (!(e instanceof FormError || e instanceof SyntaxError)) throw e;
      showProblem(e.message);
      return;
    }
    running?.abort();
    const controller = new AbortController();
    running = controller;
    const started = performance.now();
    let seq = 0;
    const stamp = (node) => {
      node.dataset.seq = String(++seq);
      node.dataset.at = String(Math.round(performance.now() - started));
      return node;
    };
    replace(events);
    replace(elicitationHost);
    replace(resultHost, el("p", { class: "muted", id: "run-pending" }, "Running…"));
    runButton.disabled = true;
    cancelButton.disabled = false;
    try {
      const result = await client.callTool(tool.name, args, {
        signal: controller.signal,
        onNotification: (m) => events.append(stamp(notificationItem(m))),
        onInputRequest: (request) => askElicitation(elicitationHost, request.params),
      });
      if (running === controller) replace(resultHost, stamp(toolResult(result)));
    } catch (e) {
      if (running !== controller) return;
      console.info("tools/call failed:", e.message);
      replace(resultHost, stamp(controller.signal.aborted ? el("p", { class: "muted", "data-kind": "cancelled" }, "Cancelled.") : errorView(e)));
    } finally {
      if (running === controller) {
        running = null;
        runButton.disabled = false;
        cancelButton.disabled = true;
      }
    }
  }

  async function copyLink() {
    const { endpoint, era } = context();
    let args;
    try {
      args = readArgs();
    } catch (e) {
      showProblem(e.message);
      return;
    }
    const url = new URL(playgroundLink({ endpoint, era, tool: tool?.name, args, run: true }), location.origin).href;
    shareLink.hidden = false;
    shareLink.value = url;
    shareLink.select();
    try {
      await navigator.clipboard.writeText(url);
      shareLink.title = "copied to the clipboard";
    } catch (e) {
      console.info("clipboard not available; the link is shown instead:", e.message);
    }
  }

  return { element, show, hide, fill, run };
}

/** One notification of a run: progress (a bar and its message), a log message, or anything else as JSON. */
function notificationItem(m) {
  const p = m.params || {};
  if (m.method === "notifications/progress") {
    const bar = el("progress", { max: p.total ?? 1 });
    if (typeof p.progress === "number" && typeof p.total === "number") bar.value = p.progress;
    return el("li", { class: "event progress", "data-kind": "progress" },
      bar, el("span", {}, ` ${p.progress ?? "?"}${p.total !== undefined ? " / " + p.total : ""}`),
      p.message ? el("span", { class: "event-message" }, ` ${p.message}`) : null);
  }
  if (m.method === "notifications/message") {
    return el("li", { class: `event log level-${p.level}`, "data-kind": "log" },
      el("span", { class: "badge" }, p.level ?? "log"), p.logger ? el("span", { class: "muted" }, ` ${p.logger}`) : null,
      el("span", { class: "event-message" }, ` ${typeof p.data === "string" ? p.data : JSON.stringify(p.data)}`));
  }
  return el("li", { class: "event other", "data-kind": m.method === "playground/error" ? "error" : "other" },
    el("code", {}, m.method), el("span", { class: "event-message" }, ` ${p.message ?? JSON.stringify(p)}`));
}
