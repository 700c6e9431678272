// deep-link.js — playground deep links: /ui/playground?endpoint=<url>&tool=<name>&arguments=<json>&run=1[&era=…]
// built (for "Try in playground" and "Copy link") and read back (on page load).

const ERAS = ["auto", "handshake", "2026-07-28"];

/** The path + query of a playground link; only the given parts are included. */
export function playgroundLink({ endpoint, era, tool, args, run } = {}) {
  const q = new URLSearchParams();
  if (endpoint) q.set("endpoint", endpoint);
  if (era && era !== "auto") q.set("era", era);
  if (tool) q.set("tool", tool);
  if (args !== undefined) q.set("arguments", JSON.stringify(args));
  if (run) q.set("run", "1");
  const query = q.toString();
  return `/ui/playground${query ? "?" + query : ""}`;
}

/** What a playground query asks for: {endpoint, era, tool, args, argsError, run}; null without an endpoint. */
export function readDeepLink(search) {
  const q = new URLSearchParams(search);
  const endpoint = q.get("endpoint");
  if (!endpoint) return null;
  const link = { endpoint, era: ERAS.includes(q.get("era")) ? q.get("era") : "auto", tool: q.get("tool"), args: undefined, argsError: null, run: q.get("run") === "1" };
  if (q.has("arguments")) {
    try {
      link.args = JSON.parse(q.get("arguments"));
    } catch (e) {
      link.argsError = `arguments is not JSON: ${e.message}`;
    }
  }
  return link;
}
