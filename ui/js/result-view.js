// result-view.js — MCP results as DOM: tool results (text, images and audio as data: URLs, embedded
// resources, resource links, structuredContent as pretty JSON, isError as an error), prompt messages,
// resource contents, and every failure (HTTP status with WWW-Authenticate, JSON-RPC error, relay error).
// All data goes in as text or as data: URLs; nothing is parsed as HTML.

import { el, pretty } from "./dom.js";
import { McpHttpError, McpRpcError } from "./mcp-errors.js";

/** A tools/call result. */
export function toolResult(result) {
  const content = Array.isArray(result?.content) ? result.content : [];
  return el("div", { class: `result${result?.isError ? " error" : ""}`, "data-kind": "tool-result", "data-is-error": result?.isError ? "true" : "false" },
    result?.isError ? el("div", { class: "result-title" }, "The tool reported an error (isError)") : null,
    content.map(contentBlock),
    result?.structuredContent !== undefined
      ? el("div", { class: "structured" }, el("div", { class: "label" }, "structuredContent"), el("pre", { class: "json" }, pretty(result.structuredContent)))
      : null,
    content.length || result?.structuredContent !== undefined ? null : el("p", { class: "muted" }, "(no content)"));
}

/** One content block of a tool result or prompt message. */
export function contentBlock(block) {
  switch (block?.type) {
    case "text":
      return el("pre", { class: "content text" }, block.text ?? "");
    case "image":
      return el("img", { class: "content image", src: dataUrl(block.mimeType, block.data), alt: "image content" });
    case "audio":
      return el("a", { class: "content audio", href: dataUrl(block.mimeType, block.data), download: "audio" }, `audio (${block.mimeType}) — download`);
    case "resource":
      return el("div", { class: "content resource" }, el("div", { class: "label" }, "embedded resource"), resourceContents(block.resource));
    case "resource_link":
      return el("div", { class: "content resource-link" },
        el("div", { class: "label" }, "resource link"),
        el("code", {}, block.uri ?? ""),
        block.name ? el("span", {}, ` — ${block.name}`) : null,
        block.description ? el("small", { class: "hint" }, block.description) : null);
    default:
      return el("pre", { class: "content json" }, pretty(block));
  }
}

/** One entry of resources/read `contents` (or an embedded resource): text, or a blob (an image shown, else a download). */
export function resourceContents(c) {
  const head = el("div", { class: "resource-head" }, el("code", {}, c?.uri ?? ""), c?.mimeType ? el("span", { class: "muted" }, ` ${c.mimeType}`) : null);
  if (typeof c?.text === "string") return el("div", { class: "resource-body" }, head, el("pre", { class: "content text" }, c.text));
  if (typeof c?.blob === "string") {
    const url = dataUrl(c.mimeType || "application/octet-stream", c.blob);
    const body = (c.mimeType || "").startsWith("image/")
      ? el("img", { class: "content image", src: url, alt: c.uri || "blob" })
      : el("a", { href: url, download: "resource" }, `blob, ${Math.floor((c.blob.length * 3) / 4)} bytes — download`);
    return el("div", { class: "resource-body" }, head, body);
  }
  return el("pre", { class: "json" }, pretty(c));
}

/** A prompts/get result. */
export function promptResult(result) {
  return el("div", { class: "result", "data-kind": "prompt-result" },
    result?.description ? el("p", { class: "muted" }, result.description) : null,
    (result?.messages || []).map((m) => el("div", { class: "message" }, el("div", { class: "label" }, m.role), contentBlock(m.content))));
}

/** A resources/read result. */
export function readResult(result) {
  return el("div", { class: "result", "data-kind": "read-result" }, (result?.contents || []).map(resourceContents));
}

/** Any failure of an MCP exchange, with what a bug report needs. */
export function errorView(error) {
  const rows = [];
  if (error instanceof McpHttpError) {
    rows.push(el("div", { class: "result-title" }, error.relay ? `Relay error (HTTP ${error.status})` : `HTTP ${error.status}${error.statusText ? " " + error.statusText : ""}`));
    if (error.relay) rows.push(el("p", {}, error.message));
    if (error.wwwAuthenticate) rows.push(challenge(error.wwwAuthenticate));
    if (error.body && !error.relay) rows.push(el("pre", { class: "content text" }, error.body));
  } else if (error instanceof McpRpcError) {
    if (error.status >= 400) rows.push(el("div", { class: "result-title" }, `HTTP ${error.status}`));
    rows.push(el("div", { class: error.status >= 400 ? "" : "result-title" }, `JSON-RPC error ${error.code}: ${error.message}`));
    if (error.wwwAuthenticate) rows.push(challenge(error.wwwAuthenticate));
    if (error.data !== undefined) rows.push(el("pre", { class: "json" }, pretty(error.data)));
  } else {
    rows.push(el("div", { class: "result-title" }, "Error"), el("p", {}, String(error?.message || error)));
  }
  const status = error?.status ?? "";
  return el("div", { class: "result error", role: "alert", "data-kind": "error", "data-status": String(status) }, rows);
}

function challenge(value) {
  return el("div", { class: "www-authenticate" }, el("span", { class: "header-name" }, "WWW-Authenticate: "), el("code", {}, value));
}

function dataUrl(mimeType, base64) {
  return `data:${mimeType || "application/octet-stream"};base64,${base64 || ""}`;
}
