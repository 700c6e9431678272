// mcp-client.js — an MCP client over Streamable HTTP for the playground, in both protocol eras:
//   handshake  initialize (2025-11-25) → Mcp-Session-Id; later requests carry the session and version
//              headers; server requests (elicitation/create) arrive on a POST's SSE stream and are
//              answered with a POSTed JSON-RPC response; disconnect() sends DELETE.
//   2026-07-28 sessionless: every request carries MCP-Protocol-Version, Mcp-Method, Mcp-Name,
//              Mcp-Param-* and the per-request _meta envelope; input_required results (MRTR) are
//              answered and the request retried with inputResponses + requestState.
//   auto       server/discover at 2026-07-28 first, the handshake when the server does not speak it
//              (what the official SDK client's auto mode does, mcp-2026.md §1.2).
// Transport is injected (`send`, see relay.js). Answers are read as JSON or as an SSE stream, parsed as it
// arrives: notifications and server requests are dispatched before the response with the matching id.

import { readEvents } from "./sse.js";
import { McpHttpError, McpRpcError } from "./mcp-errors.js";
import { encodeHeaderValue, invalidHeaderAnnotation, paramHeaders } from "./mcp-headers.js";

export const HANDSHAKE_VERSION = "2025-11-25";
export const MODERN_VERSION = "2026-07-28";
const HANDSHAKE_VERSIONS = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];
const CLIENT_INFO = { name: "mcpgate-playground", version: "1.0.0" };
const ACCEPT = "application/json, text/event-stream";
const MAX_INPUT_ROUNDS = 10; // as the SDK's input_required driver
const MAX_PAGES = 100;

export class McpClient {
  /** `send(httpMethod, headers, body, signal)` → Promise<Response>; `onExchange(entry)` sees every HTTP
   *  exchange once it ends: {method, httpMethod, status, ms, error?}. */
  constructor({ send, onExchange = () => {} }) {
    this.send = send;
    this.onExchange = onExchange;
    this.nextId = 1;
    this.era = null; // "handshake" | "2026-07-28" once connected
    this.protocolVersion = null;
    this.sessionId = null;
    this.serverInfo = null;
    this.capabilities = null;
    this.instructions = null;
    this.tools = new Map(); // name → tool, from the last tools/list (for Mcp-Param-* headers)
  }

  /** Connects in `era` ("auto" | "handshake" | "2026-07-28"); resolves to {era, protocolVersion, sessionId, serverInfo, instructions}. */
  async connect(era) {
    if (era === "handshake") await this.initialize();
    else if (era === MODERN_VERSION) await this.discover();
    else if (!(await this.probeModern())) await this.initialize();
    const { protocolVersion, sessionId, serverInfo, instructions } = this;
    return { era: this.era, protocolVersion, sessionId, serverInfo, instructions };
  }

  /** The auto probe: true when the server took server/discover at 2026-07-28, false when it should get the handshake.
   *  Transport failures, relay errors and 401/403 are not an era verdict and are thrown. */
  async probeModern() {
    try {
      await this.discover();
      if (this.supportedVersions.includes(MODERN_VERSION)) return true;
    } catch (e) {
      if (e instanceof McpHttpError && (e.relay || e.status === 401 || e.status === 403)) throw e;
      if (!(e instanceof McpHttpError || e instanceof McpRpcError)) throw e;
      const supported = e instanceof McpRpcError && e.code === -32022 ? e.data?.supported : null;
      if (Array.isArray(supported) && !supported.some((v) => HANDSHAKE_VERSIONS.includes(v))) throw e;
    }
    this.era = null;
    this.protocolVersion = null;
    return false;
  }

  async discover() {
    this.era = MODERN_VERSION;
    this.protocolVersion = MODERN_VERSION;
    const result = await this.request("server/discover");
    this.supportedVersions = Array.isArray(result?.supportedVersions) ? result.supportedVersions : [];
    this.capabilities = result?.capabilities || {};
    this.instructions = result?.instructions || null;
    this.serverInfo = result?._meta?.["io.modelcontextprotocol/serverInfo"] || null;
  }

  async initialize() {
    this.era = "handshake";
    this.protocolVersion = null;
    this.sessionId = null;
    const params = { protocolVersion: HANDSHAKE_VERSION, capabilities: { elicitation: {} }, clientInfo: CLIENT_INFO };
    const result = await this.request("initialize", params);
    this.protocolVersion = result.protocolVersion;
    this.serverInfo = result.serverInfo || null;
    this.capabilities = result.capabilities || {};
    this.instructions = result.instructions || null;
    await this.notify("notifications/initialized");
  }

  /** Ends the session (DELETE in the handshake era; nothing to end at 2026-07-28) and forgets the connection. */
  async disconnect() {
    try {
      if (this.era === "handshake" && this.sessionId) await this.exchange("DELETE", "DELETE", this.headers(), undefined);
    } finally {
      this.era = this.protocolVersion = this.sessionId = this.serverInfo = this.capabilities = null;
      this.tools = new Map();
    }
  }

  /** Every item of a paginated list (`method` e.g. "tools/list", `key` e.g. "tools"), following nextCursor. */
  async list(method, key) {
    const items = [];
    let cursor;
    for (let page = 0; page < MAX_PAGES; page++) {
      const result = await this.request(method, cursor ? { cursor } : {});
      items.push(...(result?.[key] || []));
      cursor = result?.nextCursor;
      if (!cursor) break;
    }
    if (method === "tools/list") return this.absorbTools(items);
    return items;
  }

  /** Keeps the tools for their header annotations; drops those whose annotations are invalid (as the spec requires). */
  absorbTools(tools) {
    const kept = this.era === MODERN_VERSION ? tools.filter((t) => !invalidHeaderAnnotation(t.inputSchema)) : tools;
    this.tools = new Map(kept.map((t) => [t.name, t]));
    return kept;
  }

  /** tools/call with a progress token; `handlers` as for request(). */
  callTool(name, args, handlers = {}) {
    const progressToken = `run-${this.nextId}`;
    return this.request("tools/call", { name, arguments: args, _meta: { progressToken } }, handlers);
  }

  /** Sends request `method` with `params` and resolves to its result; throws McpRpcError / McpHttpError.
   *  handlers: {signal, onNotification(msg), onInputRequest({method, params}) → result}. At 2026-07-28 an
   *  input_required result is answered through onInputRequest and the request retried. */
  async request(method, params = {}, handlers = {}) {
    let current = params;
    for (let round = 0; round <= MAX_INPUT_ROUNDS; round++) {
      const result = await this.requestOnce(method, current, handlers);
      if (this.era !== MODERN_VERSION || result?.resultType !== "input_required") return result;
      const inputResponses = {};
      for (const [key, input] of Object.entries(result.inputRequests || {})) {
        inputResponses[key] = await answerInput(input, handlers);
      }
      if (!result.inputRequests) await new Promise((r) => setTimeout(r, Math.min(250, 50 * 2 ** round)));
      current = { ...params };
      if (result.inputRequests) current.inputResponses = inputResponses;
      if (result.requestState !== undefined) current.requestState = result.requestState;
    }
    throw new Error(`${method}: still input_required after ${MAX_INPUT_ROUNDS} rounds`);
  }

  async requestOnce(method, params, handlers) {
    const id = this.nextId++;
    const message = { jsonrpc: "2.0", id, method, params: this.withMeta(params) };
    const headers = this.headers(method, params);
    return this.exchange(method, "POST", headers, JSON.stringify(message), { ...handlers, id });
  }

  /** A handshake-era notification such as notifications/initialized (202 expected, no answer read). */
  async notify(method) {
    await this.exchange(method, "POST", this.headers(method), JSON.stringify({ jsonrpc: "2.0", method }));
  }

  /** params with the 2026-07-28 _meta envelope added (merged with the caller's _meta); unchanged in the handshake era. */
  withMeta(params) {
    if (this.era !== MODERN_VERSION) return params;
    return {
      ...params,
      _meta: {
        ...(params._meta || {}),
        "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
        "io.modelcontextprotocol/clientCapabilities": { elicitation: { form: {} } },
        "io.modelcontextprotocol/clientInfo": CLIENT_INFO,
        "io.modelcontextprotocol/logLevel": "debug",
      },
    };
  }

  /** The request headers of `method` in the current era. */
  headers(method, params = {}) {
    const h = { Accept: ACCEPT, "Content-Type": "application/json" };
    if (this.era === MODERN_VERSION) {
      h["MCP-Protocol-Version"] = MODERN_VERSION;
      h["Mcp-Method"] = method;
      if ((method === "tools/call" || method === "prompts/get") && typeof params.name === "string") {
        h["Mcp-Name"] = encodeHeaderValue(params.name);
      }
      if (method === "resources/read" && typeof params.uri === "string") h["Mcp-Name"] = encodeHeaderValue(params.uri);
      if (method === "tools/call") Object.assign(h, paramHeaders(this.tools.get(params.name)?.inputSchema, params.arguments));
    } else {
      if (this.sessionId) h["Mcp-Session-Id"] = this.sessionId;
      if (this.protocolVersion) h["MCP-Protocol-Version"] = this.protocolVersion;
    }
    return h;
  }

  /** One HTTP exchange: sends, reads the answer (JSON or SSE), reports it to onExchange, returns the result of
   *  the response with `handlers.id` (undefined for notifications, responses and DELETE). */
  async exchange(method, httpMethod, headers, body, handlers = {}) {
    const started = performance.now();
    const entry = { method, httpMethod, status: null, ms: 0 };
    try {
      const response = await this.send(httpMethod, headers, body, handlers.signal);
      entry.status = response.status;
      if (method === "initialize") this.sessionId = response.headers.get("Mcp-Session-Id");
      return await this.readAnswer(response, handlers);
    } catch (e) {
      entry.error = e.message;
      throw e;
    } finally {
      entry.ms = Math.round(performance.now() - started);
      this.onExchange(entry);
    }
  }

  async readAnswer(response, handlers) {
    const type = (response.headers.get("Content-Type") || "").toLowerCase();
    if (response.status === 502 && response.headers.get("MCPGate-Relay-Error")) {
      const text = await response.text();
      throw new McpHttpError({ status: 502, relay: true, body: text, message: `relay: ${relayMessage(text)}` });
    }
    if (type.startsWith("text/event-stream") && response.ok) return this.readStream(response, handlers);
    const text = await response.text();
    const messages = parseMessages(text, type);
    const answer = handlers.id === undefined ? null : messages.find((m) => m.id === handlers.id && ("result" in m || "error" in m));
    const rpcError = answer?.error || (!response.ok && messages.find((m) => m.error)?.error);
    const wwwAuthenticate = response.headers.get("WWW-Authenticate");
    if (rpcError) throw new McpRpcError(rpcError, response.status, wwwAuthenticate);
    if (!response.ok) throw new McpHttpError({ status: response.status, statusText: response.statusText, wwwAuthenticate, body: text });
    if (handlers.id === undefined) return undefined;
    if (!answer) throw new Error(`no JSON-RPC response with id ${handlers.id} in the answer (HTTP ${response.status})`);
    return answer.result;
  }

  /** Reads an SSE answer: notifications and server requests as they arrive, until the response with handlers.id. */
  async readStream(response, handlers) {
    for await (const event of readEvents(response.body)) {
      if (!event.data.trim()) continue;
      const message = JSON.parse(event.data);
      if (message.method && message.id !== undefined) {
        this.answerServerRequest(message, handlers);
      } else if (message.method) {
        handlers.onNotification?.(message);
      } else if (message.id === handlers.id) {
        if (message.error) throw new McpRpcError(message.error, response.status);
        return message.result;
      }
    }
    if (handlers.id === undefined) return undefined;
    throw new Error(`the event stream ended without a response to request ${handlers.id}`);
  }

  /** Answers a server request of the handshake era (elicitation/create, ping) with a POSTed JSON-RPC response.
   *  Runs beside the stream reader, which keeps reading meanwhile. */
  async answerServerRequest(request, handlers) {
    let reply;
    try {
      const result = request.method === "ping" ? {} : await answerInput(request, handlers);
      reply = { jsonrpc: "2.0", id: request.id, result };
    } catch (e) {
      reply = { jsonrpc: "2.0", id: request.id, error: { code: -32601, message: e.message } };
    }
    try {
      await this.exchange(`${request.method} (response)`, "POST", this.headers(), JSON.stringify(reply));
    } catch (e) {
      handlers.onNotification?.({ method: "playground/error", params: { message: `answering ${request.method}: ${e.message}` } });
    }
  }
}

async function answerInput(input, handlers) {
  if (input.method === "elicitation/create" && handlers.onInputRequest) return handlers.onInputRequest(input);
  throw new Error(`the playground does not answer ${input.method}`);
}

function parseMessages(text, type) {
  if (!text) return [];
  try {
    const body = type.startsWith("text/event-stream")
      ? text.split(/\r?\n/).filter((l) => l.startsWith("data:")).map((l) => JSON.parse(l.slice(5)))
      : JSON.parse(text);
    return (Array.isArray(body) ? body : [body]).filter((m) => m && typeof m === "object");
  } catch {
    return [];
  }
}

function relayMessage(text) {
  try {
    return JSON.parse(text).error || text;
  } catch {
    return text;
  }
}
