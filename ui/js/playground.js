// playground.js — the Playground page: pick a route of this gateway or type an endpoint URL, choose the era
// (auto, handshake, 2026-07-28) and an optional Authorization value, Connect (showing the era chosen, the
// negotiated version, the session id and the server), then browse tools, prompts, resources and resource
// templates and open one in its panel. Disconnect ends the session. Deep links connect and run on load.

import { el, replace } from "./dom.js";
import { McpClient } from "./mcp-client.js";
import { relayTransport } from "./relay.js";
import { errorView } from "./result-view.js";
import { createRequestLog } from "./request-log.js";
import { createToolPanel } from "./tool-panel.js";
import { createPromptPanel } from "./prompt-panel.js";
import { createResourcePanel } from "./resource-panel.js";

const TABS = [
  { id: "tools", label: "Tools", method: "tools/list", key: "tools", capability: "tools" },
  { id: "prompts", label: "Prompts", method: "prompts/list", key: "prompts", capability: "prompts" },
  { id: "resources", label: "Resources", method: "resources/list", key: "resources", capability: "resources" },
  { id: "templates", label: "Templates", method: "resources/templates/list", key: "resourceTemplates", capability: "resources" },
];

export function createPlayground() {
  let client = null;
  let connection = null; // {endpoint, era} the client was made for
  const lists = new Map(); // tab id → items

  const log = createRequestLog();
  const context = () => ({ client, endpoint: connection?.endpoint ?? endpointInput.value.trim(), era: eraSelect.value });
  const toolPanel = createToolPanel(context);
  const promptPanel = createPromptPanel(context);
  const resourcePanel = createResourcePanel(context);

  const routeSelect = el("select", { id: "route-select", onchange: () => { if (routeSelect.value) endpointInput.value = routeSelect.value; } },
    el("option", { value: "" }, "— type an endpoint URL —"));
  const endpointInput = el("input", { type: "url", id: "endpoint", required: true, placeholder: "http://127.0.0.1:3000/mcp", spellcheck: "false" });
  const eraSelect = el("select", { id: "era" },
    el("option", { value: "auto" }, "auto (2026-07-28, else handshake)"),
    el("option", { value: "handshake" }, "handshake (2025-11-25)"),
    el("option", { value: "2026-07-28" }, "2026-07-28"));
  const authInput = el("input", { type: "text", id: "authorization", placeholder: "Bearer eyJ… (optional)", autocomplete: "off", spellcheck: "false" });
  const connectButton = el("button", { type: "submit", id: "connect" }, "Connect");
  const disconnectButton = el("button", { type: "button", class: "secondary", id: "disconnect", disabled: true, onclick: () => disconnect() }, "Disconnect");
  const status = el("div", { id: "connection", class: "connection", "data-state": "disconnected" }, "Not connected.");
  const connectError = el("div", { id: "connect-error" });

  const tabButtons = new Map(TABS.map((t) => [t.id, el("button", { type: "button", class: "tab", id: `tab-${t.id}`, "data-tab": t.id, onclick: () => selectTab(t.id) }, t.label)]));
  const tabBodies = new Map(TABS.map((t) => [t.id, el("div", { class: "tab-body", id: `list-${t.id}`, hidden: true })]));

  const element = el("section", { id: "page-playground", class: "page" },
    el("div", { class: "page-head" }, el("h1", {}, "Playground")),
    el("form", { class: "card connect", id: "connect-form", onsubmit: (e) => { e.preventDefault(); connect(); } },
      el("div", { class: "grid-form" },
        el("label", { for: "route-select" }, "Route"), routeSelect,
        el("label", { for: "endpoint" }, "Endpoint"), endpointInput,
        el("label", { for: "era" }, "Protocol"), eraSelect,
        el("label", { for: "authorization" }, "Authorization"), authInput),
      el("div", { class: "row" }, connectButton, disconnectButton),
      status, connectError),
    el("div", { class: "workbench" },
      el("section", { class: "card catalog" }, el("div", { class: "tabs", role: "tablist" }, [...tabButtons.values()]), [...tabBodies.values()]),
      el("section", { class: "card detail", id: "detail" },
        el("p", { class: "muted", id: "detail-empty" }, "Connect, then pick a tool, prompt or resource."),
        toolPanel.element, promptPanel.element, resourcePanel.element)),
    log.element);

  selectTab("tools");

  /** Fills the route select from the overview's routes ([{label, endpoint}]); the first becomes the default endpoint. */
  function setRoutes(routes) {
    replace(routeSelect, el("option", { value: "" }, "— type an endpoint URL —"),
      routes.map((r) => el("option", { value: r.endpoint }, `${r.label} — ${r.endpoint}`)));
    if (!endpointInput.value && routes.length) endpointInput.value = routes[0].endpoint;
    routeSelect.value = routes.some((r) => r.endpoint === endpointInput.value) ? endpointInput.value : "";
  }

  function selectTab(id) {
    for (const [tab, button] of tabButtons) {
      button.classList.toggle("active", tab === id);
      button.setAttribute("aria-selected", String(tab === id));
      tabBodies.get(tab).hidden = tab !== id;
    }
  }

  function showDetail(which, item) {
    document.getElementById("detail-empty")?.remove();
    for (const panel of [toolPanel, promptPanel, resourcePanel]) if (panel !== which) panel.hide();
    if (which === toolPanel) toolPanel.show(item);
    else if (which === promptPanel) promptPanel.show(item);
    else if (item.uriTemplate) resourcePanel.showTemplate(item);
    else resourcePanel.showResource(item);
    for (const b of element.querySelectorAll(".item.selected")) b.classList.remove("selected");
  }

  /** Connects with the form's values; resolves to true when connected and the lists are loaded. */
  async function connect() {
    if (client) await disconnect();
    replace(connectError);
    const endpoint = endpointInput.value.trim();
    const era = eraSelect.value;
    const mine = new McpClient({ send: relayTransport(endpoint, authInput.value.trim()), onExchange: (e) => log.add(e) });
    setStatus("connecting", `Connecting to ${endpoint}…`);
    connectButton.disabled = true;
    try {
      const info = await mine.connect(era);
      client = mine;
      connection = { endpoint, era };
      disconnectButton.disabled = false;
      setStatus("connected", null, info, era);
      await loadLists();
      return true;
    } catch (e) {
      console.info("connect failed:", e.message);
      setStatus("failed", "Not connected.");
      replace(connectError, errorView(e));
      return false;
    } finally {
      connectButton.disabled = false;
    }
  }

  async function disconnect() {
    const old = client;
    client = null;
    connection = null;
    disconnectButton.disabled = true;
    for (const body of tabBodies.values()) replace(body);
    lists.clear();
    for (const panel of [toolPanel, promptPanel, resourcePanel]) panel.hide();
    setStatus("disconnected", "Not connected.");
    try {
      await old?.disconnect();
    } catch (e) {
      console.info("disconnect:", e.message);
    }
  }

  function setStatus(state, text, info, era) {
    status.dataset.state = state;
    if (!info) return replace(status, text);
    const server = info.serverInfo ? `${info.serverInfo.name ?? "?"} ${info.serverInfo.version ?? ""}`.trim() : "—";
    replace(status, el("dl", { class: "facts" },
      el("dt", {}, "Era"), el("dd", { id: "conn-era" }, info.era, era === "auto" ? el("span", { class: "muted" }, " (chosen by auto)") : null),
      el("dt", {}, "Protocol version"), el("dd", { id: "conn-version" }, info.protocolVersion ?? "—"),
      el("dt", {}, "Session id"), el("dd", {}, el("code", { id: "conn-session", title: info.sessionId ?? "" }, info.sessionId ?? "none (sessionless)")),
      el("dt", {}, "Server"), el("dd", { id: "conn-server" }, server)),
      info.instructions ? el("p", { class: "instructions muted", id: "conn-instructions" }, info.instructions) : null);
  }

  async function loadLists() {
    const offered = client.capabilities || {};
    await Promise.all(TABS.map(async (tab) => {
      const body = tabBodies.get(tab.id);
      if (!offered[tab.capability]) {
        replace(body, el("p", { class: "muted" }, `The server does not offer ${tab.capability}.`));
        return;
      }
      try {
        const items = await client.list(tab.method, tab.key);
        lists.set(tab.id, items);
        tabButtons.get(tab.id).textContent = `${tab.label} (${items.length})`;
        replace(body, items.length ? el("ul", { class: "items" }, items.map((item) => el("li", {}, itemButton(tab.id, item)))) : el("p", { class: "muted" }, "None."));
      } catch (e) {
        console.info(`${tab.method} failed:`, e.message);
        replace(body, errorView(e));
      }
    }));
    element.dataset.loaded = "true";
  }

  function itemButton(tab, item) {
    const name = tab === "resources" ? item.uri : tab === "templates" ? item.uriTemplate : item.name;
    const panel = tab === "tools" ? toolPanel : tab === "prompts" ? promptPanel : resourcePanel;
    const button = el("button", { type: "button", class: "item", [`data-${tab.replace(/s$/, "")}`]: name, onclick: () => {
      showDetail(panel, item);
      button.classList.add("selected");
    } },
      el("span", { class: "item-name" }, item.title || item.name || name),
      tab === "resources" || tab === "templates" ? el("code", { class: "item-uri" }, item.uri ?? item.uriTemplate) : null,
      item.description ? el("small", { class: "hint" }, item.description) : null);
    return button;
  }

  /** Follows a deep link ({endpoint, era, tool, args, argsError, run}): connect, select the tool, fill, run. */
  async function open(link) {
    endpointInput.value = link.endpoint;
    eraSelect.value = link.era;
    routeSelect.value = [...routeSelect.options].some((o) => o.value === link.endpoint) ? link.endpoint : "";
    if (!(await connect()) || !link.tool) return;
    const tool = (lists.get("tools") || []).find((t) => t.name === link.tool);
    if (!tool) {
      replace(connectError, errorView(new Error(`the deep link names the tool "${link.tool}", which this server does not list`)));
      return;
    }
    selectTab("tools");
    tabBodies.get("tools").querySelector(`[data-tool="${CSS.escape(tool.name)}"]`)?.click();
    if (link.argsError) {
      replace(connectError, errorView(new Error(link.argsError)));
      return;
    }
    if (link.args !== undefined) toolPanel.fill(link.args);
    if (link.run) await toolPanel.run();
  }

  return { element, setRoutes, open };
}
