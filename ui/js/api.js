// api.js — calls to the admin API (/ui/api/*, /reload) with the admin token. The token lives in
// sessionStorage only and goes in the Authorization header, never in a URL. When the admin server answers
// 401 with its own challenge (realm "mcpgate-admin"), the caller registered with onTokenNeeded is asked for
// a token and the request is retried with it.

const TOKEN_KEY = "mcpgate.adminToken";
const ADMIN_REALM = 'realm="mcpgate-admin"';

let askForToken = async () => null;

/** Registers `ask(reason)`: resolves to a new token, or null to give up (the 401 is then returned). */
export function onTokenNeeded(ask) {
  askForToken = ask;
}

export function adminToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setAdminToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** Whether `response` is the admin server refusing the admin token (not an endpoint's 401 passed through the relay). */
function isAdminChallenge(response) {
  return response.status === 401 && (response.headers.get("WWW-Authenticate") || "").includes(ADMIN_REALM);
}

/** fetch(`path`, `init`) with the admin token; asks for a token on an admin 401 and retries until one works
 *  or the user gives up. `init.body` must be replayable (a string or nothing). */
export async function adminFetch(path, init = {}) {
  for (;;) {
    const headers = new Headers(init.headers || {});
    const token = adminToken();
    if (token) headers.set("Authorization", `Bearer ${token}`);
    const response = await fetch(path, { ...init, headers, cache: "no-store" });
    if (!isAdminChallenge(response)) return response;
    const fresh = await askForToken(token ? "The admin token was refused." : "This gateway needs its admin token.");
    if (!fresh) return response;
    setAdminToken(fresh);
  }
}

/** GET /ui/api/overview as JSON; throws an Error with the status and body text when it is not 200. */
export async function fetchOverview() {
  const response = await adminFetch("/ui/api/overview");
  if (!response.ok) throw new Error(`GET /ui/api/overview: HTTP ${response.status} ${await response.text()}`);
  return response.json();
}

/** POST /reload; resolves to {ok, status, text}. */
export async function reloadConfig() {
  const response = await adminFetch("/reload", { method: "POST" });
  return { ok: response.ok, status: response.status, text: await response.text() };
}
