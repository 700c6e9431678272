// mcp-headers.js — the request headers MCP 2026-07-28 mirrors from the body: the value encoding shared by
// Mcp-Name and Mcp-Param-* (plain printable ASCII, else the =?base64?…?= sentinel), and the Mcp-Param-*
// headers of a tools/call from the tool's `x-mcp-header` annotations (mcp-2026.md §1.4).

const SENTINEL = /^=\?base64\?.*\?=$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_TYPES = new Set(["string", "integer", "boolean"]);

/** `value` (a string) as a header value: as is when printable ASCII without outer whitespace, else base64 of its UTF-8. */
export function encodeHeaderValue(value) {
  const plain = /^[\x20-\x7E]*$/.test(value) && value.trim() === value && !SENTINEL.test(value);
  if (plain) return value;
  const bytes = new TextEncoder().encode(value);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return `=?base64?${btoa(binary)}?=`;
}

/** Every `x-mcp-header` annotation of `schema` reachable through `properties` keys only: [{token, path, type}]. */
function annotations(schema, path = [], out = []) {
  for (const [name, prop] of Object.entries(schema?.properties || {})) {
    if (!prop || typeof prop !== "object") continue;
    if (prop["x-mcp-header"] !== undefined) out.push({ token: prop["x-mcp-header"], path: [...path, name], type: prop.type });
    annotations(prop, [...path, name], out);
  }
  return out;
}

/** Why the tool's annotations are invalid (clients must then drop the tool), or null when they are fine. */
export function invalidHeaderAnnotation(inputSchema) {
  const seen = new Set();
  for (const { token, type } of annotations(inputSchema)) {
    if (typeof token !== "string" || !TOKEN.test(token)) return `x-mcp-header ${JSON.stringify(token)} is not a header token`;
    if (!HEADER_TYPES.has(type)) return `x-mcp-header ${token} is on a ${type} property`;
    if (seen.has(token.toLowerCase())) return `x-mcp-header ${token} appears twice`;
    seen.add(token.toLowerCase());
  }
  return null;
}

/** The Mcp-Param-* headers of a tools/call of the tool with `inputSchema` and `args`. */
export function paramHeaders(inputSchema, args) {
  const headers = {};
  for (const { token, path } of annotations(inputSchema)) {
    let value = args;
    for (const key of path) value = value && typeof value === "object" ? value[key] : undefined;
    if (value === undefined || value === null) continue;
    if (typeof value === "boolean") headers[`Mcp-Param-${token}`] = value ? "true" : "false";
    else if (typeof value === "number") headers[`Mcp-Param-${token}`] = String(value);
    else if (typeof value === "string") headers[`Mcp-Param-${token}`] = encodeHeaderValue(value);
  }
  return headers;
}
