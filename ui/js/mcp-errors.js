// mcp-errors.js — the two ways an MCP exchange fails, as Error classes the views can tell apart:
// an HTTP-level failure (status, WWW-Authenticate, body; `relay` when the admin relay itself failed)
// and a JSON-RPC error object (code, message, data) with the HTTP status and WWW-Authenticate it came with.

export class McpHttpError extends Error {
  constructor({ status, statusText = "", wwwAuthenticate = null, body = "", relay = false, message }) {
    super(message || `HTTP ${status}${statusText ? " " + statusText : ""}`);
    this.name = "McpHttpError";
    this.status = status;
    this.statusText = statusText;
    this.wwwAuthenticate = wwwAuthenticate;
    this.body = body;
    this.relay = relay;
  }
}

export class McpRpcError extends Error {
  constructor({ code, message, data }, status = 200, wwwAuthenticate = null) {
    super(message || `JSON-RPC error ${code}`);
    this.name = "McpRpcError";
    this.code = code;
    this.data = data;
    this.status = status;
    this.wwwAuthenticate = wwwAuthenticate;
  }
}
