"""The admin UI (issue 13) in a real headless Chromium, against the gateway in front of the example SDK server
(servers/upstream.py), in both protocol eras where it applies: the overview shows the configured target, its
replica and the route's endpoint; Connect lists the tools; a tool runs with arguments typed into the form
generated from its inputSchema; `slow`'s progress and log messages are on the page before its result; an
elicitation is answered from the page; a deep link runs a tool with no clicks; a JWT-protected route shows
the 401 without a token and works with a typed `Bearer` token; a gateway with `adminToken` asks for it.

Every test fails on a SEVERE entry in the browser console, except the network entries Chromium itself logs
for the HTTP errors a test provokes on purpose (`console.expect_http(401)`). Screenshots go to
Tests/e2e/.artifacts/ui/ (gitignored); with UPDATE_UI_SCREENSHOT=1 the playground one is also copied to
docs/images/ui-playground.png.

The gateway serves its compiled-in UI, or the files under $MCPGATE_UI_DIR when that is set (the harness passes
the environment through), so UI work needs no rebuild.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

import harness
from browser import Browser, browser_missing, publish
from jwt_issuer import Issuer, jwt_plugin_missing

pytestmark = [pytest.mark.skipif(browser_missing() is not None, reason=browser_missing() or ""), pytest.mark.timeout(60)]

ERAS = ["handshake", "2026-07-28"]
ADMIN_TOKEN = "ui-test-admin-token-0123456789"
DOC_SCREENSHOT = harness.REPO_ROOT / "docs" / "images" / "ui-playground.png"


@pytest.fixture(scope="module")
def up(mprocs):
    return mprocs.upstream("ui-up")


@pytest.fixture(scope="module")
def gw(mprocs, up):
    return mprocs.gateway({"example": [up.url]}, name="gw-ui")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    b = Browser()
    try:
        yield b
    finally:
        b.quit()


class Console:
    """The SEVERE browser console entries of one test, minus the HTTP errors the test provokes on purpose."""

    def __init__(self, browser: Browser):
        self.browser = browser
        self.expected_statuses: set[int] = set()

    def expect_http(self, status: int) -> None:
        """Chromium logs every fetch answered with `status` as a SEVERE network entry; this test expects them."""
        self.expected_statuses.add(status)

    def unexpected(self) -> list[dict[str, Any]]:
        def expected(e: dict[str, Any]) -> bool:
            m = re.search(r"status of (\d{3})", e.get("message", ""))
            return e.get("source") == "network" and m is not None and int(m.group(1)) in self.expected_statuses

        return [e for e in self.browser.console_problems() if not expected(e)]


@pytest.fixture(autouse=True)
def console(request, browser) -> Iterator[Console]:
    """Clears the console log before the test; after it, saves a screenshot and fails on console errors."""
    browser.console_problems()
    c = Console(browser)
    yield c
    browser.screenshot(re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name))
    problems = c.unexpected()
    assert not problems, f"errors in the browser console: {json.dumps(problems, indent=1)}"


def admin(gw: harness.Gateway, path: str = "/ui/") -> str:
    return f"http://127.0.0.1:{gw.admin_port}{path}"


def deep_link(gw: harness.Gateway, **params: str) -> str:
    return admin(gw, "/ui/playground?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items()))


def connect(browser: Browser, gw: harness.Gateway, era: str, endpoint: str | None = None, authorization: str = "") -> None:
    """Opens the playground, fills the connect form and presses Connect."""
    browser.get(admin(gw, "/ui/playground"))
    browser.find("#connect")
    if endpoint is not None:
        browser.type("#endpoint", endpoint)
    browser.select("#era", era)
    if authorization:
        browser.type("#authorization", authorization)
    browser.click("#connect")


def connected(browser: Browser, era: str) -> None:
    """Waits for the connection and the tool list; checks the era, version and session id shown."""
    browser.text_of("#connection", "Protocol version")
    version = browser.find("#conn-version").text
    session = browser.find("#conn-session").text
    if era == "handshake":
        assert version == harness.HANDSHAKE_VERSION and "sessionless" not in session and len(session) > 16, (version, session)
    else:
        assert version == harness.MODERN_VERSION and "sessionless" in session, (version, session)
    browser.find('#list-tools [data-tool="add"]')


def run_tool(browser: Browser, name: str, fields: dict[str, str] | None = None) -> None:
    browser.click(f'#list-tools [data-tool="{name}"]')
    browser.text_of("#tool-name", name)
    for path, value in (fields or {}).items():
        browser.type(f'#tool-form [data-path="{path}"]', value)
    browser.click("#run-tool")


# ------------------------------------------------------------------------------------------------


def test_overview_shows_target_replica_and_route_endpoint(browser, gw, up):
    browser.get(admin(gw, "/ui/"))
    browser.text_of("#overview-body", "example")
    replica = browser.find(f'.target[data-target="example"] tr.replica[data-url="{up.url}"]')
    assert "reachable" in replica.text, replica.text
    assert browser.find("code.endpoint").text == gw.url
    assert str(gw.config_path) in browser.find("#gateway-card").text

    browser.click("#reload-config")
    browser.text_of("#reload-output", "reloaded")

    browser.click(f'[data-try="{gw.url}"]')
    browser.text_of("#connection", "Protocol version")
    assert browser.find("#endpoint").get_attribute("value") == gw.url
    browser.find('#list-tools [data-tool="add"]')


@pytest.mark.parametrize("era", [*ERAS, "auto"])
def test_connect_lists_tools_and_runs_add_from_the_form(browser, gw, era):
    connect(browser, gw, era)  # the endpoint defaults to the gateway's route, from the overview
    connected(browser, "2026-07-28" if era == "auto" else era)
    if era == "auto":
        assert "chosen by auto" in browser.find("#conn-era").text
    names = [e.get_attribute("data-tool") for e in browser.all("#list-tools [data-tool]")]
    assert {"add", "slow", "greet", "weather"} <= set(names), names

    run_tool(browser, "add", {"a": "20", "b": "22"})
    text = browser.text_of('#run-result [data-kind="tool-result"]', "42")
    assert '"result": 42' in text, text
    assert browser.all("#request-log-rows tr"), "the request log is empty"
    if era == "handshake":
        browser.driver.execute_script("window.scrollTo(0, 0)")
        shot = browser.screenshot("playground-add")
        if os.environ.get("UPDATE_UI_SCREENSHOT") == "1":
            publish(shot, DOC_SCREENSHOT)


@pytest.mark.parametrize("era", ERAS)
def test_images_resource_links_and_embedded_resources_are_shown(browser, gw, era):
    connect(browser, gw, era)
    connected(browser, era)
    run_tool(browser, "media")
    result = '#run-result [data-kind="tool-result"]'
    browser.text_of(result, "media follows")
    image = browser.find(f"{result} img.content.image")
    assert image.get_attribute("src").startswith("data:image/png;base64,iVBOR")
    # Decoded and drawn: the CSP lets data: images through (a blocked one has no natural size).
    assert browser.driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image) == 1
    link = browser.find(f"{result} .content.resource-link")
    assert "test://static-text" in link.text and "static_text" in link.text, link.text
    embedded = browser.find(f"{result} .content.resource")
    assert "test://embedded" in embedded.text and "embedded text" in embedded.text, embedded.text


@pytest.mark.parametrize("era", ERAS)
def test_progress_and_log_messages_are_shown_before_the_result(browser, gw, era):
    connect(browser, gw, era)
    connected(browser, era)
    run_tool(browser, "slow", {"steps": "4"})
    first = browser.find('#run-events [data-kind="progress"]')
    assert not browser.all('#run-result [data-kind="tool-result"]'), "the result was on the page with the first progress event"
    assert "step 1" in first.text, first.text
    browser.text_of('#run-result [data-kind="tool-result"]', "done 4")

    progress = browser.all('#run-events [data-kind="progress"]')
    logs = browser.all('#run-events [data-kind="log"]')
    result = browser.find('#run-result [data-kind="tool-result"]')
    assert [p.text.split("\n")[-1].strip() for p in progress] == [f"step {i}" for i in range(1, 5)]
    assert [l.text.split("\n")[-1].strip() for l in logs] == [f"did step {i}" for i in range(1, 5)]
    result_seq, result_at = int(result.get_attribute("data-seq")), int(result.get_attribute("data-at"))
    for e in progress + logs:
        assert int(e.get_attribute("data-seq")) < result_seq
    # the steps are 0.15 s apart: events that arrived as they were sent are spread out, not delivered with the result
    first_at = int(progress[0].get_attribute("data-at"))
    assert result_at - first_at >= 300, f"first progress at {first_at} ms, result at {result_at} ms"


@pytest.mark.parametrize(
    "era, tool, expected",
    [("handshake", "ask_name_legacy", "zoe"), ("handshake", "greet", "hello zoe"), ("2026-07-28", "greet", "hello zoe")],
)
def test_elicitation_is_answered_from_the_page(browser, gw, era, tool, expected):
    connect(browser, gw, era)
    connected(browser, era)
    run_tool(browser, tool)
    browser.find("#elicitation .elicitation-message")
    browser.type('#elicitation [data-path="name"]', "zoe")
    browser.click('#elicitation [data-action="accept"]')
    text = browser.text_of('#run-result [data-kind="tool-result"]', expected)
    assert "isError" not in text, text


@pytest.mark.parametrize("era", ERAS)
def test_deep_link_runs_a_tool_without_clicks(browser, gw, era):
    browser.get(deep_link(gw, endpoint=gw.url, tool="add", arguments='{"a": 5, "b": 7}', run="1", era=era))
    browser.text_of('#run-result [data-kind="tool-result"]', "12")
    assert browser.find('#tool-form [data-path="a"]').get_attribute("value") == "5"
    assert browser.find("#conn-version").text == (harness.HANDSHAKE_VERSION if era == "handshake" else harness.MODERN_VERSION)

    # Copy link builds the same kind of link for what is on the page now
    browser.type('#tool-form [data-path="b"]', "8")
    browser.click("#copy-link")
    link = browser.find("#share-link").get_attribute("value")
    assert "tool=add" in link and "run=1" in link, link
    browser.get(link)
    browser.text_of('#run-result [data-kind="tool-result"]', "13")


@pytest.mark.parametrize("era", ERAS)
def test_prompt_resource_and_template(browser, gw, era):
    connect(browser, gw, era)
    connected(browser, era)
    browser.click("#tab-prompts")
    browser.click('#list-prompts [data-prompt="review"]')
    browser.type('#prompt-args [data-arg="code"]', "x = 1")
    browser.click("#get-prompt")
    browser.text_of('#prompt-result [data-kind="prompt-result"]', "Please review:\nx = 1")

    browser.click("#tab-resources")
    browser.click('#list-resources [data-resource="test://static-text"]')
    browser.click("#read-resource")
    browser.text_of('#resource-result [data-kind="read-result"]', "static text")

    browser.click("#tab-templates")
    browser.click('#list-templates [data-template="greeting://{name}"]')
    browser.type('[data-var="name"]', "ann")
    browser.click("#read-resource")
    browser.text_of('#resource-result [data-kind="read-result"]', "Hello, ann!")

    browser.click("#disconnect")
    browser.text_of("#connection", "Not connected")
    assert not browser.all("#list-tools [data-tool]")
    if era == "handshake":  # the session is ended, not just forgotten
        browser.text_of("#request-log-rows tr:first-child", "DELETE")
        assert browser.find("#request-log-rows tr:first-child td.status").text == "200"


@pytest.mark.parametrize("era", ERAS)
def test_tool_list_follows_next_cursor(browser, mprocs, era):
    paged = harness.PagedUpstream("ui-paged", mprocs.logdir)  # tools/list two tools per page
    mprocs.started.append(paged)
    paged.spawn().wait_ready()
    g = mprocs.gateway({"paged": [paged.url]}, name=f"gw-ui-paged-{era}")
    connect(browser, g, era)
    connected(browser, era)
    names = {e.get_attribute("data-tool") for e in browser.all("#list-tools [data-tool]")}
    assert harness.UPSTREAM_TOOLS <= names, names


def test_auto_falls_back_to_the_handshake_when_discover_is_refused(browser, gw, mprocs, console):
    legacy = harness.ScriptedHostile("ui-legacy-only", mprocs.logdir, "status", "400")  # initialize works; anything else: 400, no body
    mprocs.started.append(legacy)
    legacy.start()
    console.expect_http(400)
    connect(browser, gw, "auto", endpoint=legacy.url)  # any endpoint, through the relay
    era = browser.text_of("#conn-era", "handshake")
    assert "chosen by auto" in era, era
    assert browser.find("#conn-session").text == "upstream-secret-session"
    probes = [r for r in legacy.received("POST") if '"server/discover"' in json.dumps(r)]
    assert probes, f"auto did not probe server/discover first: {legacy.received()}"
    browser.text_of('#list-tools [data-kind="error"]', "HTTP 400")


def test_relay_failure_is_shown_as_such(browser, gw, console):
    console.expect_http(502)
    nothing = f"http://127.0.0.1:{harness.free_port()}/mcp"
    connect(browser, gw, "handshake", endpoint=nothing)
    error = browser.find('#connect-error [data-kind="error"]')
    assert "Relay error" in error.text and "127.0.0.1" in error.text, error.text
    assert error.get_attribute("data-status") == "502"


NESTED_SCHEMA = {
    "type": "object",
    "required": ["name", "size"],
    "properties": {
        "name": {"type": "string", "description": "who"},
        "size": {"type": "integer", "default": 3},
        "ratio": {"type": "number"},
        "color": {"enum": ["red", "green"]},
        "loud": {"type": "boolean", "default": False},
        "tags": {"type": "array", "items": {"type": "string"}},
        "where": {"$ref": "#/$defs/Place"},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
    },
    "$defs": {"Place": {"type": "object", "required": ["city"], "properties": {"city": {"type": "string"}, "zip": {"type": "integer"}}}},
}

SCHEMA_FORM_SCRIPT = """
const [schema, done] = arguments;
import("/ui/js/schema-form.js").then(({ schemaForm }) => {
  const form = schemaForm(schema);
  document.body.append(form.element);
  const out = {};
  try { form.read(); } catch (e) { out.missing = e.message; }
  const set = (path, v) => { const i = form.element.querySelector(`[data-path="${path}"]`); i.value = v; };
  set("name", "ann"); set("ratio", "0.5"); set("where.city", "Oslo");
  form.element.querySelector('[data-path="color"]').value = "1";
  form.element.querySelector('[data-path="loud"]').checked = true;
  form.element.querySelector('[data-add="tags"]').click();
  form.element.querySelector('[data-add="tags"]').click();
  set("tags.0", "a"); set("tags.1", "b");
  out.value = form.read();
  form.write({ name: "bob", size: 9, tags: ["x"] });
  out.rewritten = form.read();
  out.unsupported = schemaForm({ type: "object", properties: { x: { anyOf: [{ type: "string" }, { type: "integer" }] } } }) === null;
  form.element.remove();
  done(out);
}).catch((e) => done({ error: String(e) }));
"""


def test_schema_form_builds_nested_objects_arrays_enums_and_defaults(browser, gw):
    browser.get(admin(gw, "/ui/playground"))
    browser.find("#connect")
    out = browser.driver.execute_async_script(SCHEMA_FORM_SCRIPT, NESTED_SCHEMA)
    assert "error" not in out, out
    assert out["missing"] == "name is required", out  # `where` is optional: its required city only counts once it is used
    assert out["value"] == {
        "name": "ann", "size": 3, "ratio": 0.5, "color": "green", "loud": True, "tags": ["a", "b"], "where": {"city": "Oslo"},
    }, out
    assert out["rewritten"] == {"name": "bob", "size": 9, "loud": False, "tags": ["x"]}, out
    assert out["unsupported"], "a schema the generator cannot handle must fall back to raw JSON"


@pytest.fixture(scope="module")
def jwt_gw(mprocs, up, tmp_path_factory):
    reason = jwt_plugin_missing()
    if reason:
        pytest.skip(reason)
    issuer = Issuer(tmp_path_factory.mktemp("ui-jwks"))
    g = mprocs.gateway({"example": [up.url]}, name="gw-ui-jwt", policies={"jwtAuth": issuer.policy()})
    return g, issuer


@pytest.mark.parametrize("era", ERAS)
def test_jwt_route_shows_401_then_works_with_a_typed_bearer_token(browser, jwt_gw, console, era):
    g, issuer = jwt_gw
    console.expect_http(401)
    connect(browser, g, era, endpoint=g.url)
    error = browser.find('#connect-error [data-kind="error"]')
    assert error.get_attribute("data-status") == "401", error.text
    assert "WWW-Authenticate" in error.text and "Bearer" in error.text, error.text

    browser.type("#authorization", f"Bearer {issuer.token('ui-user')}")
    browser.click("#connect")
    connected(browser, era)
    run_tool(browser, "add", {"a": "1", "b": "2"})
    browser.text_of('#run-result [data-kind="tool-result"]', "3")


def test_admin_token_is_asked_for_and_used(browser, procs, up, console):
    g = harness.tuned_gateway(procs, {"example": [up.url]}, name="gw-ui-token", settings={"adminToken": ADMIN_TOKEN})
    console.expect_http(401)
    browser.get(admin(g, "/ui/"))
    browser.type("#admin-token", "not-the-token-0123456789")
    browser.click("#admin-token-submit")
    browser.text_of("#token-form", "refused")
    browser.type("#admin-token", ADMIN_TOKEN)
    browser.click("#admin-token-submit")
    browser.text_of("#overview-body", "example")
    assert not browser.all("#token-form")

    # the playground's relay calls carry the token too
    browser.click("#nav-playground")
    browser.select("#era", "2026-07-28")
    browser.click("#connect")
    connected(browser, "2026-07-28")
    assert browser.driver.execute_script("return sessionStorage.getItem('mcpgate.adminToken')") == ADMIN_TOKEN
    assert ADMIN_TOKEN not in browser.driver.current_url
