/* Unit tests of the bundled cache filter with the mcpgate C test host and its fake clock.
 * `make test` builds and runs this (`make test SANITIZE=1` under ASan/UBSan).
 *
 * The test host runs an exchange as the gateway would: on_http_request_headers, on_rpc_message for
 * each message (a RESPOND stops there: a cache hit), on_sse_event for each event, on_rpc_response
 * for each response. So {messages, responses} is a miss followed by its fill, and {messages, events,
 * responses} is a notification arriving while the request is at the upstream. */
#include <stdio.h>
#include <string.h>

#include "mcpgate_testhost.h"

static int failures;
static int checks;

#define CHECK(cond)                                                                                      \
    do {                                                                                                 \
        checks++;                                                                                        \
        if (!(cond)) {                                                                                   \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                     \
            failures++;                                                                                  \
        }                                                                                                \
    } while (0)

#define CHECK_STR(got, want)                                                                             \
    do {                                                                                                 \
        const char *got_ = (got);                                                                        \
        checks++;                                                                                        \
        if (got_ == NULL || strcmp(got_, (want)) != 0) {                                                 \
            fprintf(stderr, "%s:%d: got \"%s\", want \"%s\"\n", __FILE__, __LINE__, got_ ? got_ : "(null)", \
                    (want));                                                                             \
            failures++;                                                                                  \
        }                                                                                                \
    } while (0)

#define CHECK_METRIC(th, name, want)                                                                     \
    do {                                                                                                 \
        double got_ = mcpgate_testhost_metric((th), (name));                                             \
        checks++;                                                                                        \
        if (got_ != (want)) {                                                                            \
            fprintf(stderr, "%s:%d: metric %s is %g, want %g\n", __FILE__, __LINE__, (name), got_,        \
                    (double)(want));                                                                     \
            failures++;                                                                                  \
        }                                                                                                \
    } while (0)

/* Requests as the two eras send them (the headers the plugin reads; the body as parsed). */
#define OLD "\"headers\":{\"MCP-Protocol-Version\":\"2025-11-25\",\"Mcp-Session-Id\":\"s-1\"}"
#define NEW "\"headers\":{\"MCP-Protocol-Version\":\"2026-07-28\"}"
#define NEW_AUTH "\"headers\":{\"MCP-Protocol-Version\":\"2026-07-28\",\"Authorization\":\"Bearer x\"}"
#define AS(who) "\"attributes\":{\"mcpgate.principal\":\"" who "\"}"

#define TOOLS_LIST "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/list\"}"
#define TOOLS_RESULT "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"tools\":[{\"name\":\"add\"}]}}"
#define HINTED(ttl, scope)                                                                               \
    "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"tools\":[{\"name\":\"add\"}],\"resultType\":\"complete\","  \
    "\"ttlMs\":" ttl ",\"cacheScope\":\"" scope "\"}}"
#define READ(uri) "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"resources/read\",\"params\":{\"uri\":\"" uri "\"}}"
#define READ_RESULT(text)                                                                                \
    "{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{\"contents\":[{\"uri\":\"x\",\"text\":\"" text "\"}]}}"
#define NOTIFY(method) "{\"event\":\"message\",\"data\":{\"jsonrpc\":\"2.0\",\"method\":\"" method "\"}}"

static mcpgate_testhost *load(const char *config) {
    char err[512] = "";
    mcpgate_testhost *th = mcpgate_testhost_new();
    if (th != NULL && mcpgate_testhost_load(th, mcpgate_plugin_v1(), config, err, sizeof err) == 0) {
        return th;
    }
    fprintf(stderr, "load failed: %s\n", err);
    mcpgate_testhost_free(th);
    failures++;
    return NULL;
}

/* Runs {request: {<request>}, messages: [<message>], events: [<events>], responses: [<response>]}. */
static mcpgate_testhost_result run(mcpgate_testhost *th, const char *request, const char *message, const char *events,
                                   const char *response) {
    static char text[8192];
    snprintf(text, sizeof text, "{\"request\":{%s},\"messages\":[%s],\"events\":[%s],\"responses\":[%s]}", request,
             message, events != NULL ? events : "", response != NULL ? response : "");
    mcpgate_testhost_result r;
    if (mcpgate_testhost_run_exchange_text(th, text, &r) != 0) {
        fprintf(stderr, "bad exchange: %s\n", text);
        failures++;
        memset(&r, 0, sizeof r);
    }
    return r;
}

/* Runs a lookup and returns what was served: the RESPOND body, or "(miss)". */
static const char *served(mcpgate_testhost *th, const char *request, const char *message) {
    static char body[sizeof ((mcpgate_testhost_result *)0)->body];
    mcpgate_testhost_result r = run(th, request, message, NULL, NULL);
    snprintf(body, sizeof body, "%s", r.action == MCPGATE_RESPOND ? r.body : "(miss)");
    return body;
}

static void check_clean(mcpgate_testhost *th) {
    mcpgate_testhost_stats stats = mcpgate_testhost_get_stats(th);
    CHECK(stats.requests_created == stats.requests_destroyed);
    CHECK(stats.plugin_failures == 0);
}

static void test_config_errors(void) {
    const char *bad[] = {
        "[]",
        "{\"ttl\":\"soon\"}",
        "{\"ttl\":-1}",
        "{\"methods\":{\"tools/call\":\"1s\"}}",
        "{\"methods\":{\"tools/list\":true}}",
        "{\"methods\":[\"tools/list\"]}",
        "{\"scope\":\"shared\"}",
        "{\"hints\":\"yes\"}",
        "{\"maxTtl\":\"0s\"}",
        "{\"maxBytes\":\"64 MiB\"}",
        "{\"maxBytes\":0}",
        "{\"maxBytes\":\"1MiB\",\"maxEntryBytes\":\"2MiB\"}",
        "{\"ttl\":\"1s\",\"size\":1}",
    };
    const char *messages[] = {
        "cache: expected a mapping {ttl, methods, scope, maxBytes, ...}",
        "cache.ttl: expected a duration (30s, 500ms, 5m, 1h; 0 caches only results with ttlMs hints)",
        "cache.ttl: expected a duration (30s, 500ms, 5m, 1h; 0 caches only results with ttlMs hints)",
        "cache.methods.tools/call: not a cacheable method (tools/list, prompts/list, resources/list, "
        "resources/templates/list, resources/read, server/discover)",
        "cache.methods.tools/list: expected a duration (30s, 5m; 0 caches only results with ttlMs hints) or false "
        "(never cache)",
        "cache.methods: expected a mapping of method -> ttl (a duration, or false to never cache the method)",
        "cache.scope: expected \"private\" or \"public\"",
        "cache.hints: expected true or false",
        "cache.maxTtl: expected a duration greater than zero (24h)",
        "cache.maxBytes: expected a size (65536, 64MiB, 100MB)",
        "cache.maxBytes: expected a size (65536, 64MiB, 100MB)",
        "cache.maxEntryBytes: must not exceed maxBytes (1048576)",
        "cache.size: unknown key (expected one of: ttl, methods, scope, hints, maxTtl, maxBytes, maxEntryBytes)",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[512] = "";
        mcpgate_testhost *th = mcpgate_testhost_new();
        CHECK(mcpgate_testhost_load(th, mcpgate_plugin_v1(), bad[i], err, sizeof err) != 0);
        CHECK_STR(err, messages[i]);
        mcpgate_testhost_free(th);
    }
    mcpgate_testhost_free(load("{}"));
    mcpgate_testhost_free(load("{\"ttl\":30,\"maxBytes\":\"64MiB\",\"maxEntryBytes\":65536,\"maxTtl\":\"1h30m\","
                               "\"methods\":{\"tools/list\":\"1.5s\",\"server/discover\":false},\"scope\":\"public\","
                               "\"hints\":false}"));
}

/* Handshake era: no hints, the configured TTL; the key includes the protocol version. */
static void test_handshake_era_ttl(void) {
    mcpgate_testhost *th = load("{\"ttl\":\"30s\",\"methods\":{\"tools/list\":\"60s\"}}");
    if (th == NULL) {
        return;
    }
    mcpgate_testhost_result r = run(th, OLD, TOOLS_LIST, NULL, TOOLS_RESULT);
    CHECK(r.action == MCPGATE_CONTINUE);
    r = run(th, OLD, TOOLS_LIST, NULL, NULL);
    CHECK(r.action == MCPGATE_RESPOND);
    CHECK(r.http_status == 200);
    CHECK_STR(r.hook, "on_rpc_message");
    CHECK_STR(r.body, "{\"tools\":[{\"name\":\"add\"}]}");
    /* another protocol version is another entry */
    r = run(th, "\"headers\":{\"MCP-Protocol-Version\":\"2025-06-18\"}", TOOLS_LIST, NULL, NULL);
    CHECK(r.action == MCPGATE_CONTINUE);
    /* the per-method TTL (60 s), not the default (30 s) */
    mcpgate_testhost_advance_ms(th, 59999);
    CHECK(run(th, OLD, TOOLS_LIST, NULL, NULL).action == MCPGATE_RESPOND);
    mcpgate_testhost_advance_ms(th, 1);
    CHECK(run(th, OLD, TOOLS_LIST, NULL, NULL).action == MCPGATE_CONTINUE);
    /* resources/read gets the default 30 s */
    CHECK(run(th, OLD, READ("file:///a"), NULL, READ_RESULT("one")).action == MCPGATE_CONTINUE);
    r = run(th, OLD, READ("file:///a"), NULL, READ_RESULT("two"));
    CHECK(r.action == MCPGATE_RESPOND);
    CHECK_STR(r.body, "{\"contents\":[{\"uri\":\"x\",\"text\":\"one\"}]}");
    mcpgate_testhost_advance_ms(th, 30000);
    CHECK(run(th, OLD, READ("file:///a"), NULL, READ_RESULT("two")).action == MCPGATE_CONTINUE);
    CHECK_STR(served(th, OLD, READ("file:///a")), "{\"contents\":[{\"uri\":\"x\",\"text\":\"two\"}]}");

    CHECK_METRIC(th, "cache_lookups_total", 9);
    CHECK_METRIC(th, "cache_stores_total", 3);
    check_clean(th);
    mcpgate_testhost_free(th);
}

/* Without a ttl only results with hints are cached. */
static void test_hints_only_by_default(void) {
    mcpgate_testhost *th = load("{}");
    if (th == NULL) {
        return;
    }
    run(th, OLD, TOOLS_LIST, NULL, TOOLS_RESULT);
    CHECK(run(th, OLD, TOOLS_LIST, NULL, NULL).action == MCPGATE_CONTINUE);
    run(th, NEW, TOOLS_LIST, NULL, HINTED("5000", "public"));
    CHECK(run(th, NEW, TOOLS_LIST, NULL, NULL).action == MCPGATE_RESPOND);
    check_clean(th);
    mcpgate_testhost_free(th);
}

/* 2026-07-28 hints: ttlMs (clamped by maxTtl) and the remaining freshness on a hit; public entries
 * are shared, private ones partitioned by principal. */
static void test_hints_and_scopes(void) {
    mcpgate_testhost *th = load("{\"ttl\":\"1h\",\"maxTtl\":\"2m\"}");
    if (th == NULL) {
        return;
    }
    run(th, NEW "," AS("alice"), TOOLS_LIST, NULL, HINTED("60000", "public"));
    mcpgate_testhost_advance_ms(th, 10000);
    mcpgate_testhost_result r = run(th, NEW "," AS("bob"), TOOLS_LIST, NULL, NULL);
    CHECK(r.action == MCPGATE_RESPOND);
    CHECK_STR(r.body, "{\"ttlMs\":50000,\"tools\":[{\"name\":\"add\"}],\"resultType\":\"complete\",\"cacheScope\":"
                      "\"public\"}");
    CHECK(run(th, NEW, TOOLS_LIST, NULL, NULL).action == MCPGATE_RESPOND); /* anonymous too */
    mcpgate_testhost_advance_ms(th, 50000);
    CHECK(run(th, NEW "," AS("bob"), TOOLS_LIST, NULL, NULL).action == MCPGATE_CONTINUE);

    /* private: alice's entry is hers alone */
    run(th, NEW "," AS("alice"), READ("mem://secret"), NULL,
        "{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{\"contents\":[],\"ttlMs\":1000000,\"cacheScope\":\"private\"}}");
    r = run(th, NEW "," AS("alice"), READ("mem://secret"), NULL, NULL);
    CHECK(r.action == MCPGATE_RESPOND);
    CHECK_STR(r.body, "{\"ttlMs\":120000,\"contents\":[],\"cacheScope\":\"private\"}"); /* maxTtl 2m */
    CHECK(run(th, NEW "," AS("bob"), READ("mem://secret"), NULL, NULL).action == MCPGATE_CONTINUE);
    CHECK(run(th, NEW, READ("mem://secret"), NULL, NULL).action == MCPGATE_CONTINUE);
    CHECK(run(th, NEW "," AS("alice2"), READ("mem://secret"), NULL, NULL).action == MCPGATE_CONTINUE);
    CHECK(run(th, NEW "," AS("alic"), READ("mem://secret"), NULL, NULL).action == MCPGATE_CONTINUE);

    /* a private result without a verified principal but with unverified credentials: not stored */
    run(th, NEW_AUTH, READ("mem://p"), NULL,
        "{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{\"contents\":[],\"ttlMs\":5000,\"cacheScope\":\"private\"}}");
    CHECK(run(th, NEW_AUTH, READ("mem://p"), NULL, NULL).action == MCPGATE_CONTINUE);
    /* ... a public one is */
    run(th, NEW_AUTH, READ("mem://q"), NULL,
        "{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{\"contents\":[],\"ttlMs\":5000,\"cacheScope\":\"public\"}}");
    CHECK(run(th, NEW_AUTH, READ("mem://q"), NULL, NULL).action == MCPGATE_RESPOND);
    /* anonymous without credentials: one anonymous partition */
    run(th, NEW, READ("mem://r"), NULL,
        "{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{\"contents\":[],\"ttlMs\":5000,\"cacheScope\":\"private\"}}");
    CHECK(run(th, NEW, READ("mem://r"), NULL, NULL).action == MCPGATE_RESPOND);
    CHECK(run(th, NEW "," AS("alice"), READ("mem://r"), NULL, NULL).action == MCPGATE_CONTINUE);

    /* a missing cacheScope is private */
    run(th, NEW "," AS("alice"), READ("mem://s"), NULL,
        "{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{\"contents\":[],\"ttlMs\":5000}}");
    CHECK(run(th, NEW "," AS("alice"), READ("mem://s"), NULL, NULL).action == MCPGATE_RESPOND);
    CHECK(run(th, NEW "," AS("bob"), READ("mem://s"), NULL, NULL).action == MCPGATE_CONTINUE);
    check_clean(th);
    mcpgate_testhost_free(th);
}

/* What is never cached: ttlMs 0, input_required, errors, retries with requestState/inputResponses,
 * methods that are not cacheable or switched off, Cache-Control: no-store. */
static void test_never_cached(void) {
    mcpgate_testhost *th = load("{\"ttl\":\"1h\",\"methods\":{\"prompts/list\":false}}");
    if (th == NULL) {
        return;
    }
    run(th, NEW, TOOLS_LIST, NULL, HINTED("0", "public"));
    CHECK(run(th, NEW, TOOLS_LIST, NULL, NULL).action == MCPGATE_CONTINUE);
    run(th, NEW, READ("x://1"), NULL,
        "{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{\"resultType\":\"input_required\",\"inputRequests\":{},"
        "\"requestState\":\"s\"}}");
    CHECK(run(th, NEW, READ("x://1"), NULL, NULL).action == MCPGATE_CONTINUE);
    run(th, OLD, READ("x://2"), NULL, "{\"jsonrpc\":\"2.0\",\"id\":9,\"error\":{\"code\":-32002,\"message\":\"nope\"}}");
    CHECK(run(th, OLD, READ("x://2"), NULL, NULL).action == MCPGATE_CONTINUE);
    /* a retry carrying requestState is neither served nor stored */
    run(th, OLD, READ("x://3"), NULL, READ_RESULT("plain"));
    CHECK(run(th, OLD, READ("x://3"), NULL, NULL).action == MCPGATE_RESPOND);
    const char *retry =
        "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"resources/read\",\"params\":{\"uri\":\"x://3\",\"requestState\":"
        "\"abc\",\"inputResponses\":{}}}";
    CHECK(run(th, OLD, retry, NULL, READ_RESULT("answered")).action == MCPGATE_CONTINUE);
    CHECK_STR(served(th, OLD, READ("x://3")), "{\"contents\":[{\"uri\":\"x\",\"text\":\"plain\"}]}");
    /* tools/call and a disabled method */
    const char *call = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"count\"}}";
    run(th, OLD, call, NULL, "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"content\":[]}}");
    CHECK(run(th, OLD, call, NULL, NULL).action == MCPGATE_CONTINUE);
    const char *prompts = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"prompts/list\"}";
    run(th, OLD, prompts, NULL, "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"prompts\":[]}}");
    CHECK(run(th, OLD, prompts, NULL, NULL).action == MCPGATE_CONTINUE);
    /* Cache-Control: no-store skips the cache both ways; no-cache refreshes the entry */
    const char *no_store = "\"headers\":{\"MCP-Protocol-Version\":\"2025-11-25\",\"Cache-Control\":\"No-Store\"}";
    const char *no_cache = "\"headers\":{\"MCP-Protocol-Version\":\"2025-11-25\",\"Cache-Control\":\"no-cache\"}";
    CHECK(run(th, no_store, READ("x://3"), NULL, READ_RESULT("fresh")).action == MCPGATE_CONTINUE);
    CHECK_STR(served(th, OLD, READ("x://3")), "{\"contents\":[{\"uri\":\"x\",\"text\":\"plain\"}]}");
    CHECK(run(th, no_cache, READ("x://3"), NULL, READ_RESULT("fresh")).action == MCPGATE_CONTINUE);
    CHECK_STR(served(th, OLD, READ("x://3")), "{\"contents\":[{\"uri\":\"x\",\"text\":\"fresh\"}]}");
    /* a response nobody asked for (no pending lookup) is ignored */
    CHECK(run(th, OLD, "", NULL, TOOLS_RESULT).action == MCPGATE_CONTINUE);
    check_clean(th);
    mcpgate_testhost_free(th);
}

/* Notifications on any stream of the route invalidate their group: all pages, versions, partitions. */
static void test_invalidation(void) {
    mcpgate_testhost *th = load("{\"ttl\":\"1h\"}");
    if (th == NULL) {
        return;
    }
    const char *prompts = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"prompts/list\"}";
    const char *resources = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"resources/list\"}";
    const char *templates = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"resources/templates/list\"}";
    const char *page2 = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/list\",\"params\":{\"cursor\":\"p2\"}}";
    const char *ok = "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}}";
    run(th, OLD "," AS("alice"), TOOLS_LIST, NULL, TOOLS_RESULT);
    run(th, OLD "," AS("alice"), page2, NULL, ok);
    run(th, NEW "," AS("bob"), TOOLS_LIST, NULL, HINTED("600000", "public"));
    run(th, OLD, prompts, NULL, ok);
    run(th, OLD, resources, NULL, ok);
    run(th, OLD, templates, NULL, ok);
    run(th, OLD, READ("file:///a"), NULL, READ_RESULT("a"));
    run(th, OLD, READ("file:///b"), NULL, READ_RESULT("b"));
    CHECK(run(th, OLD "," AS("alice"), page2, NULL, NULL).action == MCPGATE_RESPOND);

    /* tools/list_changed, seen on someone's GET stream (an exchange with only the event) */
    CHECK(run(th, OLD, "", NOTIFY("notifications/tools/list_changed"), NULL).action == MCPGATE_CONTINUE);
    CHECK(run(th, OLD "," AS("alice"), TOOLS_LIST, NULL, NULL).action == MCPGATE_CONTINUE);
    CHECK(run(th, OLD "," AS("alice"), page2, NULL, NULL).action == MCPGATE_CONTINUE);
    CHECK(run(th, NEW "," AS("bob"), TOOLS_LIST, NULL, NULL).action == MCPGATE_CONTINUE);
    CHECK(run(th, OLD, prompts, NULL, NULL).action == MCPGATE_RESPOND);
    CHECK(run(th, OLD, resources, NULL, NULL).action == MCPGATE_RESPOND);

    run(th, OLD, "", NOTIFY("notifications/prompts/list_changed"), NULL);
    CHECK(run(th, OLD, prompts, NULL, NULL).action == MCPGATE_CONTINUE);
    run(th, OLD, "", NOTIFY("notifications/resources/list_changed"), NULL);
    CHECK(run(th, OLD, resources, NULL, NULL).action == MCPGATE_CONTINUE);
    CHECK(run(th, OLD, templates, NULL, NULL).action == MCPGATE_CONTINUE);
    CHECK(run(th, OLD, READ("file:///a"), NULL, NULL).action == MCPGATE_RESPOND);

    run(th, OLD, "",
        "{\"data\":{\"jsonrpc\":\"2.0\",\"method\":\"notifications/resources/updated\",\"params\":{\"uri\":"
        "\"file:///a\"}}}",
        NULL);
    CHECK(run(th, OLD, READ("file:///a"), NULL, NULL).action == MCPGATE_CONTINUE);
    CHECK(run(th, OLD, READ("file:///b"), NULL, NULL).action == MCPGATE_RESPOND);
    /* other notifications change nothing */
    run(th, OLD, "", NOTIFY("notifications/message"), NULL);
    CHECK(run(th, OLD, READ("file:///b"), NULL, NULL).action == MCPGATE_RESPOND);
    CHECK_METRIC(th, "cache_invalidations_total", 4);
    check_clean(th);
    mcpgate_testhost_free(th);
}

/* A change notification that arrives while a list request is at the upstream: the answer may predate
 * the change, so it must not be served afterwards. */
static void test_invalidation_during_fill(void) {
    mcpgate_testhost *th = load("{\"ttl\":\"1h\"}");
    if (th == NULL) {
        return;
    }
    run(th, OLD, TOOLS_LIST, NOTIFY("notifications/tools/list_changed"), TOOLS_RESULT);
    CHECK(run(th, OLD, TOOLS_LIST, NULL, TOOLS_RESULT).action == MCPGATE_CONTINUE);
    CHECK(run(th, OLD, TOOLS_LIST, NULL, NULL).action == MCPGATE_RESPOND);
    mcpgate_testhost_free(th);
}

/* An invalid cursor drops every cached page of its list. */
static void test_invalid_cursor(void) {
    mcpgate_testhost *th = load("{\"ttl\":\"1h\"}");
    if (th == NULL) {
        return;
    }
    const char *page = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/list\",\"params\":{\"cursor\":\"old\"}}";
    run(th, OLD, TOOLS_LIST, NULL, TOOLS_RESULT);
    run(th, OLD, page, NULL, "{\"jsonrpc\":\"2.0\",\"id\":7,\"error\":{\"code\":-32602,\"message\":\"bad cursor\"}}");
    CHECK(run(th, OLD, TOOLS_LIST, NULL, NULL).action == MCPGATE_CONTINUE);
    CHECK_METRIC(th, "cache_invalidations_total", 1);
    mcpgate_testhost_free(th);
}

/* Routes never share entries: mcpgate.route when the host sets it; without it the instance (which
 * serves one route) is the route, whatever Host or path the request names. */
static void test_route_separation(void) {
    mcpgate_testhost *th = load("{\"ttl\":\"1h\"}");
    if (th == NULL) {
        return;
    }
    run(th, "\"headers\":{\"Host\":\"a.example\"}", TOOLS_LIST, NULL, TOOLS_RESULT);
    CHECK(run(th, "\"headers\":{\"Host\":\"b.example\"},\"path\":\"/mcp/x?y=1\"", TOOLS_LIST, NULL, NULL).action ==
          MCPGATE_RESPOND);
    CHECK(run(th, "\"attributes\":{\"mcpgate.route\":\"r1\"}", TOOLS_LIST, NULL, NULL).action == MCPGATE_CONTINUE);
    run(th, "\"attributes\":{\"mcpgate.route\":\"r1\"}", TOOLS_LIST, NULL, TOOLS_RESULT);
    CHECK(run(th, "\"attributes\":{\"mcpgate.route\":\"r1\"}", TOOLS_LIST, NULL, NULL).action == MCPGATE_RESPOND);
    CHECK(run(th, "\"attributes\":{\"mcpgate.route\":\"r2\"}", TOOLS_LIST, NULL, NULL).action == MCPGATE_CONTINUE);
    /* and targets, when the host names them */
    CHECK(run(th, "\"attributes\":{\"mcpgate.route\":\"r1\",\"mcpgate.target\":\"t\"}", TOOLS_LIST, NULL, NULL)
              .action == MCPGATE_CONTINUE);
    /* a notification on r2 leaves r1 (and the instance's own route) alone */
    run(th, "\"attributes\":{\"mcpgate.route\":\"r2\"}", "", NOTIFY("notifications/tools/list_changed"), NULL);
    CHECK(run(th, "\"attributes\":{\"mcpgate.route\":\"r1\"}", TOOLS_LIST, NULL, NULL).action == MCPGATE_RESPOND);
    CHECK(run(th, OLD, TOOLS_LIST, NULL, NULL).action == MCPGATE_CONTINUE); /* another version */
    CHECK(run(th, "", TOOLS_LIST, NULL, NULL).action == MCPGATE_RESPOND);
    mcpgate_testhost_free(th);
}

/* A generation the store lost comes back as a new value: the entries under the lost one are never
 * served again (an evicted generation can only cause misses). */
static void test_lost_generation(void) {
    mcpgate_testhost *th = load("{\"ttl\":\"1h\"}");
    if (th == NULL) {
        return;
    }
    run(th, "\"attributes\":{\"mcpgate.route\":\"r\"}", TOOLS_LIST, NULL, TOOLS_RESULT);
    CHECK(run(th, "\"attributes\":{\"mcpgate.route\":\"r\"}", TOOLS_LIST, NULL, NULL).action == MCPGATE_RESPOND);
    const char *group = "cg1|I5:cache|R1:r|G5:tools";
    CHECK(mcpgate_testhost_api()->kv_delete(mcpgate_testhost_instance(th), mcpgate_str_from_cstr(group)) ==
          MCPGATE_OK);
    CHECK(run(th, "\"attributes\":{\"mcpgate.route\":\"r\"}", TOOLS_LIST, NULL, NULL).action == MCPGATE_CONTINUE);
    mcpgate_testhost_free(th);
}

/* The byte cap: least recently used entries go first, the size gauges follow. */
static void test_byte_cap_eviction(void) {
    mcpgate_testhost *th = load("{\"ttl\":\"1h\",\"maxBytes\":500,\"maxEntryBytes\":300}");
    if (th == NULL) {
        return;
    }
    run(th, OLD, READ("file:///1"), NULL, READ_RESULT("one"));
    run(th, OLD, READ("file:///2"), NULL, READ_RESULT("two"));
    double per_entry = mcpgate_testhost_metric(th, "cache_size_bytes") / 2;
    CHECK(per_entry > 170 && per_entry < 250); /* so 2 fit in 500 bytes and 3 do not */
    CHECK_METRIC(th, "cache_entries", 2);
    CHECK(run(th, OLD, READ("file:///1"), NULL, NULL).action == MCPGATE_RESPOND); /* 1 is now the most recent */
    run(th, OLD, READ("file:///3"), NULL, READ_RESULT("three"));                     /* evicts 2 */
    CHECK_METRIC(th, "cache_evictions_total", 1);
    CHECK(mcpgate_testhost_metric(th, "cache_size_bytes") <= 500);
    CHECK(run(th, OLD, READ("file:///2"), NULL, NULL).action == MCPGATE_CONTINUE);
    CHECK(run(th, OLD, READ("file:///1"), NULL, NULL).action == MCPGATE_RESPOND);
    CHECK(run(th, OLD, READ("file:///3"), NULL, NULL).action == MCPGATE_RESPOND);
    /* an entry larger than maxEntryBytes is not stored */
    char big[1024];
    snprintf(big, sizeof big, READ_RESULT("%0300d"), 0);
    run(th, OLD, READ("file:///big"), NULL, big);
    CHECK(run(th, OLD, READ("file:///big"), NULL, NULL).action == MCPGATE_CONTINUE);
    /* expired entries leave the index as they are met */
    mcpgate_testhost_advance_ms(th, 3600000);
    run(th, OLD, READ("file:///4"), NULL, READ_RESULT("four"));
    CHECK_METRIC(th, "cache_entries", 1);
    CHECK(mcpgate_testhost_metric(th, "cache_size_bytes") < 300);
    check_clean(th);
    mcpgate_testhost_free(th);
}

/* A batch: each element is looked up and filled on its own. */
static void test_batch(void) {
    mcpgate_testhost *th = load("{\"ttl\":\"1h\"}");
    if (th == NULL) {
        return;
    }
    run(th, OLD, READ("b://1") "," "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"resources/read\",\"params\":{\"uri\":\"b://2\"}}",
        NULL, READ_RESULT("one") "," "{\"jsonrpc\":\"2.0\",\"id\":10,\"result\":{\"contents\":[]}}");
    CHECK_STR(served(th, OLD, READ("b://1")), "{\"contents\":[{\"uri\":\"x\",\"text\":\"one\"}]}");
    CHECK_STR(served(th, OLD, READ("b://2")), "{\"contents\":[]}");
    check_clean(th);
    mcpgate_testhost_free(th);
}

int main(void) {
    test_config_errors();
    test_handshake_era_ttl();
    test_hints_only_by_default();
    test_hints_and_scopes();
    test_never_cached();
    test_invalidation();
    test_invalidation_during_fill();
    test_invalid_cursor();
    test_route_separation();
    test_lost_generation();
    test_byte_cap_eviction();
    test_batch();
    printf("cache_test: %d checks, %d failed\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
