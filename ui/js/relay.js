// relay.js — the playground's HTTP transport: every MCP request goes to the admin server's relay
// (/ui/api/relay) with the target in MCPGate-Endpoint and the user's Authorization value in
// MCPGate-Authorization, so a route's CORS policy never matters. The admin token is added by api.js.

import { adminFetch } from "./api.js";

/** A `send(httpMethod, headers, body, signal)` → Response for MCP requests to `endpoint` through the relay. */
export function relayTransport(endpoint, authorization) {
  return (httpMethod, headers, body, signal) => {
    const h = new Headers(headers);
    h.set("MCPGate-Endpoint", endpoint);
    if (authorization) h.set("MCPGate-Authorization", authorization);
    return adminFetch("/ui/api/relay", { method: httpMethod, headers: h, body, signal });
  };
}
