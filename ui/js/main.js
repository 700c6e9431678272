// main.js — the UI's entry point: the header with the two pages (Overview, Playground), client-side routing
// between /ui/, /ui/overview and /ui/playground (history API; links marked data-nav stay in the page), the
// admin-token form on a 401 from the admin API, and deep links (/ui/playground?endpoint=…) on load.

import { el, replace } from "./dom.js";
import { onTokenNeeded, adminToken, setAdminToken, fetchOverview } from "./api.js";
import { askForToken } from "./token-form.js";
import { createOverview, routeEndpoints } from "./overview.js";
import { createPlayground } from "./playground.js";
import { readDeepLink } from "./deep-link.js";

const main = document.getElementById("main");
const notices = document.getElementById("notices");
onTokenNeeded((reason) => askForToken(notices, reason));

const overview = createOverview();
const playground = createPlayground();
const pages = { overview, playground };
const navLinks = {
  overview: el("a", { href: "/ui/overview", "data-nav": "", id: "nav-overview" }, "Overview"),
  playground: el("a", { href: "/ui/playground", "data-nav": "", id: "nav-playground" }, "Playground"),
};
const forget = el("button", { type: "button", class: "small secondary", id: "forget-token", hidden: !adminToken(), onclick: () => {
  setAdminToken(null);
  forget.hidden = true;
} }, "Forget admin token");
replace(document.getElementById("nav"), navLinks.overview, navLinks.playground, forget);
replace(main, overview.element, playground.element);

let playgroundRoutesLoaded = false;
let followedLink = null; // the query of the deep link followed last: going back to it in history does not run it again

/** Shows the page for the current location; follows a playground deep link (unless `fromHistory` returns to
 *  the one followed last). */
async function route(fromHistory = false) {
  const page = location.pathname.replace(/\/+$/, "").endsWith("/playground") ? "playground" : "overview";
  for (const [name, p] of Object.entries(pages)) {
    p.element.hidden = name !== page;
    navLinks[name].classList.toggle("active", name === page);
    if (name === page) navLinks[name].setAttribute("aria-current", "page");
    else navLinks[name].removeAttribute("aria-current");
  }
  document.title = `mcpgate — ${page === "overview" ? "Overview" : "Playground"}`;
  if (page === "overview") {
    await overview.refresh();
  } else {
    if (!playgroundRoutesLoaded) await loadPlaygroundRoutes();
    const link = readDeepLink(location.search);
    if (link && !(fromHistory && location.search === followedLink)) {
      followedLink = location.search;
      await playground.open(link);
    }
  }
  forget.hidden = !adminToken();
}

async function loadPlaygroundRoutes() {
  try {
    playground.setRoutes(routeEndpoints(await fetchOverview()));
    playgroundRoutesLoaded = true;
  } catch (e) {
    console.info("routes for the playground:", e.message);
  }
}

document.addEventListener("click", (e) => {
  const a = e.target.closest?.("a[data-nav]");
  if (!a || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  history.pushState(null, "", a.getAttribute("href"));
  route();
});
window.addEventListener("popstate", () => route(true));
route();
