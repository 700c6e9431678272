// overview.js — the Overview page: the gateway (version, config file, start, last reload, addresses, session
// key ids — never keys), then every bind → listener → route with its endpoint ("Try in playground"),
// policies (kind, plugin path, config JSON as the server redacted it), backend, targets and replicas with
// their live state. Reload posts /reload, shows its text answer and refreshes. Data is rendered as text only.

import { el, replace, pretty, when } from "./dom.js";
import { fetchOverview, reloadConfig } from "./api.js";
import { playgroundLink } from "./deep-link.js";

/** The page in `element`; `refresh()` fetches and renders the overview. */
export function createOverview() {
  const body = el("div", { id: "overview-body" }, el("p", { class: "muted" }, "Loading…"));
  const reloadOutput = el("pre", { id: "reload-output", class: "reload-output", hidden: true });
  const element = el("section", { id: "page-overview", class: "page" },
    el("div", { class: "page-head" },
      el("h1", {}, "Overview"),
      el("div", { class: "row" },
        el("button", { type: "button", class: "secondary", id: "refresh-overview", onclick: () => refresh() }, "Refresh"),
        el("button", { type: "button", id: "reload-config", onclick: () => reload() }, "Reload config"))),
    reloadOutput,
    body);

  async function refresh() {
    try {
      const data = await fetchOverview();
      replace(body, gatewayCard(data), (data.binds || []).map(bindCard));
      element.dataset.loaded = "true";
    } catch (e) {
      console.info("overview:", e.message);
      replace(body, el("div", { class: "result error", role: "alert" }, e.message));
    }
  }

  async function reload() {
    reloadOutput.hidden = false;
    reloadOutput.textContent = "Reloading…";
    try {
      const r = await reloadConfig();
      reloadOutput.className = `reload-output ${r.ok ? "ok" : "bad"}`;
      reloadOutput.textContent = `HTTP ${r.status}: ${r.text}`;
    } catch (e) {
      reloadOutput.className = "reload-output bad";
      reloadOutput.textContent = e.message;
    }
    await refresh();
  }

  return { element, refresh };
}

/** The routes of an overview as [{label, endpoint}] (for the playground's route select). */
export function routeEndpoints(data) {
  const out = [];
  for (const bind of data?.binds || []) {
    for (const listener of bind.listeners || []) {
      for (const route of listener.routes || []) {
        if (route.endpoint) out.push({ label: route.name || route.identity || route.endpoint, endpoint: route.endpoint });
      }
    }
  }
  return out;
}

function gatewayCard(d) {
  const reload = d.lastReload;
  return el("section", { class: "card", id: "gateway-card" },
    el("h2", {}, "Gateway", d.version ? el("span", { class: "muted" }, ` ${d.version}`) : null),
    dl([
      ["Config file", el("code", {}, d.configFile ?? "—")],
      ["Started", when(d.startedAt)],
      ["Last reload", reload
        ? el("span", {}, badge(reload.ok ? "ok" : "failed", reload.ok), ` ${when(reload.at)} — ${reload.message ?? ""}`)
        : "never"],
      ["Admin", addr(d.addresses?.admin)],
      ["Stats", addr(d.addresses?.stats)],
      ["Readiness", addr(d.addresses?.readiness)],
      ["Admin token", d.adminTokenSet ? "required" : "not set (loopback only)"],
      ["Session keys", d.session
        ? el("span", {}, (d.session.keyIds || []).map((k) => el("code", { class: "key-id" }, k)),
            ` from ${d.session.keysFrom ?? "?"}, ttl ${d.session.ttlSeconds ?? "?"} s`)
        : "—"],
    ]),
    d.limits || d.upstream
      ? el("details", {}, el("summary", {}, "Limits and upstream settings"),
          el("pre", { class: "json" }, pretty({ limits: d.limits, upstream: d.upstream })))
      : null);
}

function bindCard(bind) {
  return el("section", { class: "card bind" },
    el("h2", {}, `Bind ${bind.address ?? "*"}:${bind.port}`),
    (bind.listeners || []).map((l) => el("div", { class: "listener" },
      el("h3", {}, "Listener", l.name ? ` ${l.name}` : "", l.hostname ? el("span", { class: "muted" }, ` (${l.hostname})`) : null),
      (l.routes || []).map(routeCard))));
}

function routeCard(route) {
  const backend = route.backend || {};
  return el("div", { class: "route", "data-route": route.name || route.identity || "" },
    el("h4", {}, route.name || route.identity || "route", route.name && route.identity ? el("span", { class: "muted" }, ` ${route.identity}`) : null),
    dl([
      ["Matches", (route.matches || []).length
        ? route.matches.map((m) => el("code", { class: "match" }, Object.entries(m).map(([k, v]) => `${k} ${v}`).join(", ")))
        : "every path"],
      ["Endpoint", route.endpoint
        ? el("span", {}, el("code", { class: "endpoint" }, route.endpoint), " ",
            el("a", { class: "button small", href: playgroundLink({ endpoint: route.endpoint }), "data-nav": "", "data-try": route.endpoint }, "Try in playground"))
        : "—"],
      ["Backend", `prefix mode ${backend.prefixMode ?? "—"}, failure mode ${backend.failureMode ?? "—"}`],
    ]),
    el("div", { class: "policies" }, el("h5", {}, "Policies"),
      (route.policies || []).length ? route.policies.map(policyView) : el("p", { class: "muted" }, "none")),
    el("div", { class: "targets" }, el("h5", {}, "Targets"), (backend.targets || []).map(targetView)));
}

function policyView(p) {
  return el("details", { class: "policy" },
    el("summary", {}, el("strong", {}, p.kind),
      p.plugin ? el("span", { class: "muted" }, ` ${p.plugin.name ?? ""} ${p.plugin.version ?? ""}`) : null,
      p.path ? el("code", {}, ` ${p.path}`) : null, p.failOpen ? badge("fail open", false) : null),
    el("pre", { class: "json" }, pretty(p.config ?? {})));
}

function targetView(t) {
  return el("div", { class: "target", "data-target": t.name },
    el("div", {}, el("strong", {}, t.name), t.forwardAuthorization ? el("span", { class: "muted" }, " (forwards Authorization)") : null),
    el("table", { class: "table compact" },
      el("thead", {}, el("tr", {}, ["replica", "state", "requests", "failures", "in flight", "streams", "sessions", "last ok", "last error"].map((h) => el("th", {}, h)))),
      el("tbody", {}, (t.replicas || []).map(replicaRow))));
}

function replicaRow(r) {
  return el("tr", { class: "replica", "data-url": r.url },
    el("td", {}, el("code", {}, r.url)),
    el("td", {}, reachability(r.reachable), r.probeError ? el("small", { class: "hint" }, r.probeError) : null),
    el("td", { class: "num" }, String(r.requests ?? "—")),
    el("td", { class: "num" }, String(r.failures ?? "—")),
    el("td", { class: "num" }, String(r.inFlight ?? "—")),
    el("td", { class: "num" }, String(r.openStreams ?? "—")),
    el("td", { class: "num" }, `${r.sessionsOpened ?? "—"} / ${r.sessionsClosed ?? "—"} closed`),
    el("td", {}, when(r.lastOkAt)),
    el("td", {}, r.lastError ? el("span", {}, r.lastError, el("small", { class: "hint" }, when(r.lastErrorAt))) : "—"));
}

/** The probe's verdict: reachable, unreachable, or not probed (null). */
function reachability(reachable) {
  if (reachable === true) return badge("reachable", true);
  if (reachable === false) return badge("unreachable", false);
  return el("span", { class: "badge" }, "not probed");
}

function dl(rows) {
  return el("dl", { class: "facts" }, rows.map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

function badge(text, good) {
  return el("span", { class: `badge ${good ? "good" : "bad"}` }, text);
}

function addr(a) {
  return a ? el("code", {}, a) : "—";
}
