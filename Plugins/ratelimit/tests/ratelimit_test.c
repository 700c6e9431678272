/* Unit tests of the bundled rate limit filter with the mcpgate C test host and its fake clock.
 * `make test` builds and runs this (`make test SANITIZE=1` under ASan/UBSan). */
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

/* One request (or notification when id < 0) by `principal` ("" = anonymous) in `session`. */
static mcpgate_testhost_result send(mcpgate_testhost *th, const char *principal, const char *session,
                                    const char *method, const char *tool, int id) {
    char text[1024];
    char attrs[128] = "";
    char headers[128] = "";
    char params[128] = "";
    char ident[32] = "";
    if (principal[0] != '\0') {
        snprintf(attrs, sizeof attrs, "\"attributes\":{\"mcpgate.principal\":\"%s\"}", principal);
    }
    if (session[0] != '\0') {
        snprintf(headers, sizeof headers, "\"headers\":{\"Mcp-Session-Id\":\"%s\"}%s", session,
                 attrs[0] != '\0' ? "," : "");
    }
    if (tool != NULL) {
        snprintf(params, sizeof params, ",\"params\":{\"%s\":\"%s\"}",
                 strcmp(method, "resources/read") == 0 ? "uri" : "name", tool);
    }
    if (id >= 0) {
        snprintf(ident, sizeof ident, "\"id\":%d,", id);
    }
    snprintf(text, sizeof text, "{\"request\":{%s%s},\"messages\":[{\"jsonrpc\":\"2.0\",%s\"method\":\"%s\"%s}]}",
             headers, attrs, ident, method, params);
    mcpgate_testhost_result r;
    if (mcpgate_testhost_run_exchange_text(th, text, &r) != 0) {
        fprintf(stderr, "bad exchange: %s\n", text);
        failures++;
        memset(&r, 0, sizeof r);
    }
    return r;
}

static mcpgate_testhost_result call(mcpgate_testhost *th, const char *principal, const char *tool) {
    return send(th, principal, "", "tools/call", tool, 1);
}

static void test_config_errors(void) {
    const char *bad[] = {
        "[]",
        "\"x\"",
        "[{\"fillInterval\":\"1s\"}]",
        "[{\"maxTokens\":0,\"fillInterval\":\"1s\"}]",
        "[{\"maxTokens\":5}]",
        "[{\"maxTokens\":5,\"fillInterval\":\"1x\"}]",
        "[{\"maxTokens\":5,\"fillInterval\":\"0s\"}]",
        "[{\"maxTokens\":5,\"fillInterval\":\"1s\",\"tokensPerFill\":-1}]",
        "[{\"maxTokens\":5,\"fillInterval\":\"1s\",\"type\":\"tokens\"}]",
        "[{\"maxTokens\":5,\"fillInterval\":\"1s\",\"key\":[\"user\"]}]",
        "[{\"maxTokens\":5,\"fillInterval\":\"1s\",\"key\":[\"ip\",\"ip\"]}]",
        "[{\"maxTokens\":5,\"fillInterval\":\"1s\",\"burst\":3}]",
        "[{\"maxTokens\":5,\"fillInterval\":\"1s\",\"tools\":[]}]",
        "[{\"maxTokens\":5,\"fillInterval\":\"1s\",\"overrides\":{\"rm\":{\"maxTokens\":\"2\"}}}]",
        "[{\"maxTokens\":5,\"fillInterval\":\"1s\",\"overrides\":{\"rm\":{\"burst\":2}}}]",
        ("[{\"maxTokens\":5,\"fillInterval\":\"1s\",\"name\":\"a\"},{\"maxTokens\":5,\"fillInterval\":\"1s\","
         "\"name\":\"a\"}]"),
        "{\"limits\":[{\"maxTokens\":5,\"fillInterval\":\"1s\"}],\"headers\":\"x\"}",
        "{\"limits\":[{\"maxTokens\":5,\"fillInterval\":\"1s\"}],\"status\":200}",
        "{\"limits\":[{\"maxTokens\":5,\"fillInterval\":\"1s\"}],\"extra\":1}",
        "{\"conditional\":[]}",
    };
    const char *messages[] = {
        "localRateLimit: expected at least one limit",
        "localRateLimit: expected a list of limits [{maxTokens, tokensPerFill, fillInterval, key}] or a mapping "
        "{limits: [...]}",
        "localRateLimit[0].maxTokens: required (the bucket size, a whole number >= 1)",
        "localRateLimit[0].maxTokens: expected a whole number >= 1",
        "localRateLimit[0].fillInterval: required (a duration such as 1s, 500ms, 1m)",
        "localRateLimit[0].fillInterval: expected a duration greater than zero (1s, 500ms, 1m, 1h30m)",
        "localRateLimit[0].fillInterval: expected a duration greater than zero (1s, 500ms, 1m, 1h30m)",
        "localRateLimit[0].tokensPerFill: expected a whole number >= 1",
        "localRateLimit[0].type: only \"requests\" is supported (each JSON-RPC message takes one token); \"tokens\" "
        "counts LLM tokens, which MCP traffic does not carry",
        "localRateLimit[0].key[0]: expected one of: principal, ip, target, tool, session, method",
        "localRateLimit[0].key[1]: \"ip\" is listed twice",
        "localRateLimit[0].burst: unknown key (expected one of: maxTokens, tokensPerFill, fillInterval, type, name, "
        "key, methods, tools, overrides)",
        "localRateLimit[0].tools: expected a non-empty list of tool or prompt names, resource URIs, or prefixes "
        "ending in *",
        "localRateLimit[0].overrides.rm.maxTokens: expected a whole number >= 1",
        "localRateLimit[0].overrides.rm.burst: unknown key (expected one of: maxTokens, tokensPerFill, fillInterval)",
        "localRateLimit[1].name: \"a\" is already the name of localRateLimit[0]",
        "localRateLimit.headers: expected \"ratelimit\", \"draft\" or \"none\"",
        "localRateLimit.status: expected an HTTP error status (400-599)",
        "localRateLimit.extra: unknown key (expected one of: limits, headers, failureMode, status)",
        "localRateLimit[0].conditional: agentgateway's CEL-conditional limits are not supported; select requests "
        "with methods, tools and key instead",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[512] = "";
        mcpgate_testhost *th = mcpgate_testhost_new();
        CHECK(mcpgate_testhost_load(th, mcpgate_plugin_v1(), bad[i], err, sizeof err) != 0);
        CHECK_STR(err, messages[i]);
        mcpgate_testhost_free(th);
    }
    /* Every duration form the gateway's config accepts. */
    const char *good[] = {"1s", "500ms", "1.5s", "15m", "1h", "1h30m", "0.5", "2"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char config[128];
        snprintf(config, sizeof config, "[{\"maxTokens\":1,\"fillInterval\":\"%s\"}]", good[i]);
        mcpgate_testhost *th = load(config);
        mcpgate_testhost_free(th);
    }
    mcpgate_testhost_free(load("[{\"maxTokens\":1,\"fillInterval\":30}]"));
}

/* agentgateway's shape, with our key: 3 per second per principal; refill on the fake clock. */
static void test_bucket_per_principal_and_refill(void) {
    mcpgate_testhost *th = load("[{\"maxTokens\":3,\"tokensPerFill\":3,\"fillInterval\":\"1s\",\"key\":[\"principal\"]}]");
    if (th == NULL) {
        return;
    }
    for (int i = 0; i < 3; i++) {
        mcpgate_testhost_result r = call(th, "alice", "search");
        CHECK(r.action == MCPGATE_CONTINUE);
    }
    CHECK_STR(mcpgate_testhost_response_edits(th),
              "set RateLimit-Limit: 3\nset RateLimit-Remaining: 0\nset RateLimit-Reset: 1\n");
    mcpgate_testhost_result r = call(th, "alice", "search");
    CHECK(r.action == MCPGATE_REJECT);
    CHECK(r.http_status == 429);
    CHECK(r.rpc_code == -32029);
    CHECK_STR(r.hook, "on_rpc_message");
    CHECK_STR(r.message, "Rate limit exceeded: localRateLimit[0] (3 per 1000 ms)");
    CHECK_STR(r.data, "{\"limit\":\"localRateLimit[0]\",\"retryAfterMs\":1000,\"maxTokens\":3,\"tokensPerFill\":3,"
                      "\"fillIntervalMs\":1000}");
    CHECK_STR(mcpgate_testhost_response_edits(th),
              "set Retry-After: 1\nset RateLimit-Limit: 3\nset RateLimit-Remaining: 0\nset RateLimit-Reset: 1\n");

    /* bob has his own bucket; anonymous requests share one. */
    CHECK(call(th, "bob", "search").action == MCPGATE_CONTINUE);
    CHECK_STR(mcpgate_testhost_response_edits(th),
              "set RateLimit-Limit: 3\nset RateLimit-Remaining: 2\nset RateLimit-Reset: 1\n");
    for (int i = 0; i < 3; i++) {
        CHECK(call(th, "", "search").action == MCPGATE_CONTINUE);
    }
    CHECK(call(th, "", "search").action == MCPGATE_REJECT);

    /* 999 ms later nothing has refilled; at 1 s the bucket is full again. */
    mcpgate_testhost_advance_ms(th, 600);
    r = call(th, "alice", "search");
    CHECK(r.action == MCPGATE_REJECT);
    CHECK_STR(r.data, "{\"limit\":\"localRateLimit[0]\",\"retryAfterMs\":400,\"maxTokens\":3,\"tokensPerFill\":3,"
                      "\"fillIntervalMs\":1000}");
    CHECK(strstr(mcpgate_testhost_response_edits(th), "set Retry-After: 1\n") != NULL);
    mcpgate_testhost_advance_ms(th, 399);
    CHECK(call(th, "alice", "search").action == MCPGATE_REJECT);
    mcpgate_testhost_advance_ms(th, 1);
    for (int i = 0; i < 3; i++) {
        CHECK(call(th, "alice", "search").action == MCPGATE_CONTINUE);
    }
    CHECK(call(th, "alice", "search").action == MCPGATE_REJECT);

    mcpgate_testhost_stats stats = mcpgate_testhost_get_stats(th);
    CHECK(stats.requests_created == stats.requests_destroyed);
    CHECK(stats.plugin_failures == 0);
    CHECK(mcpgate_testhost_metric(th, "ratelimit_decisions_total") == 15);
    mcpgate_testhost_free(th);
}

/* tokensPerFill below maxTokens: partial refills, and Retry-After for several intervals. */
static void test_partial_refill(void) {
    mcpgate_testhost *th = load("[{\"maxTokens\":4,\"tokensPerFill\":1,\"fillInterval\":\"2s\"}]");
    if (th == NULL) {
        return;
    }
    for (int i = 0; i < 4; i++) {
        CHECK(call(th, "alice", "a").action == MCPGATE_CONTINUE);
    }
    mcpgate_testhost_result r = call(th, "bob", "b"); /* no key: one bucket for everyone */
    CHECK(r.action == MCPGATE_REJECT);
    CHECK(strstr(r.data, "\"retryAfterMs\":2000") != NULL);
    CHECK_STR(mcpgate_testhost_response_edits(th),
              "set Retry-After: 2\nset RateLimit-Limit: 4\nset RateLimit-Remaining: 0\nset RateLimit-Reset: 2\n");
    mcpgate_testhost_advance_ms(th, 2000);
    CHECK(call(th, "bob", "b").action == MCPGATE_CONTINUE);
    /* one token back and taken: 4 missing, so the bucket is full again in 4 intervals (8 s) at most */
    CHECK_STR(mcpgate_testhost_response_edits(th),
              "set RateLimit-Limit: 4\nset RateLimit-Remaining: 0\nset RateLimit-Reset: 8\n");
    CHECK(call(th, "bob", "b").action == MCPGATE_REJECT);
    mcpgate_testhost_advance_ms(th, 5500);
    /* 2 more intervals passed (at 4 s and 6 s after the anchor) */
    CHECK(call(th, "bob", "b").action == MCPGATE_CONTINUE);
    CHECK(call(th, "bob", "b").action == MCPGATE_CONTINUE);
    r = call(th, "bob", "b");
    CHECK(r.action == MCPGATE_REJECT);
    CHECK(strstr(r.data, "\"retryAfterMs\":500") != NULL);
    mcpgate_testhost_free(th);
}

/* Two limits at once: 10 per minute per principal, and 2 per minute per principal for delete_repo
 * (a `tools` filter); and the same with a per-tool override inside one limit. */
static void test_several_limits_and_overrides(void) {
    mcpgate_testhost *th = load("[{\"name\":\"per-user\",\"maxTokens\":10,\"fillInterval\":\"1m\",\"key\":[\"principal\"]},"
                                " {\"name\":\"deletes\",\"maxTokens\":2,\"fillInterval\":\"1m\",\"key\":[\"principal\"],"
                                "  \"tools\":[\"delete_*\"]}]");
    if (th == NULL) {
        return;
    }
    CHECK(call(th, "alice", "delete_repo").action == MCPGATE_CONTINUE);
    CHECK_STR(mcpgate_testhost_response_edits(th), /* the tighter limit's headers */
              "set RateLimit-Limit: 2\nset RateLimit-Remaining: 1\nset RateLimit-Reset: 60\n");
    CHECK(call(th, "alice", "delete_branch").action == MCPGATE_CONTINUE);
    mcpgate_testhost_result r = call(th, "alice", "delete_repo");
    CHECK(r.action == MCPGATE_REJECT);
    CHECK_STR(r.message, "Rate limit exceeded: deletes (2 per 60000 ms)");
    CHECK(strstr(r.data, "\"limit\":\"deletes\"") != NULL);
    CHECK(call(th, "bob", "delete_repo").action == MCPGATE_CONTINUE);
    /* alice still has per-user tokens for other tools: 3 taken (the refused delete took one too) */
    for (int i = 0; i < 7; i++) {
        CHECK(call(th, "alice", "search").action == MCPGATE_CONTINUE);
    }
    r = call(th, "alice", "search");
    CHECK(r.action == MCPGATE_REJECT);
    CHECK_STR(r.message, "Rate limit exceeded: per-user (10 per 60000 ms)");
    mcpgate_testhost_free(th);

    th = load("[{\"maxTokens\":5,\"fillInterval\":\"1m\",\"key\":[\"principal\"],\"methods\":[\"tools/call\"],"
              "  \"overrides\":{\"delete_repo\":{\"maxTokens\":2},\"slow_*\":{\"fillInterval\":\"1h\"}}}]");
    if (th == NULL) {
        return;
    }
    CHECK(call(th, "alice", "delete_repo").action == MCPGATE_CONTINUE);
    CHECK(call(th, "alice", "delete_repo").action == MCPGATE_CONTINUE);
    r = call(th, "alice", "delete_repo");
    CHECK(r.action == MCPGATE_REJECT);
    CHECK_STR(r.message, "Rate limit exceeded: localRateLimit[0] (2 per 60000 ms) for delete_repo");
    CHECK_STR(r.data, "{\"limit\":\"localRateLimit[0]\",\"retryAfterMs\":60000,\"maxTokens\":2,\"tokensPerFill\":2,"
                      "\"fillIntervalMs\":60000}");
    /* an overridden tool has its own bucket: the limit's own bucket is untouched */
    for (int i = 0; i < 5; i++) {
        CHECK(call(th, "alice", "search").action == MCPGATE_CONTINUE);
    }
    CHECK(call(th, "alice", "search").action == MCPGATE_REJECT);
    /* the override inherits maxTokens 5 and changes only the interval; each slow_ tool has its own */
    for (int i = 0; i < 5; i++) {
        CHECK(call(th, "alice", "slow_a").action == MCPGATE_CONTINUE);
    }
    r = call(th, "alice", "slow_a");
    CHECK(r.action == MCPGATE_REJECT);
    CHECK(strstr(r.data, "\"retryAfterMs\":3600000") != NULL);
    CHECK(call(th, "alice", "slow_b").action == MCPGATE_CONTINUE);
    /* methods: [tools/call] leaves every other method alone */
    for (int i = 0; i < 8; i++) {
        CHECK(send(th, "alice", "", "tools/list", NULL, 3).action == MCPGATE_CONTINUE);
    }
    CHECK_STR(mcpgate_testhost_response_edits(th), "");
    mcpgate_testhost_free(th);
}

/* key: [session, method] and [tool] (resource URIs and prompt names count as the tool). */
static void test_session_method_and_target_keys(void) {
    mcpgate_testhost *th = load("{\"limits\":[{\"maxTokens\":2,\"fillInterval\":\"1h\",\"key\":[\"session\",\"method\"]}],"
                                " \"headers\":\"none\"}");
    if (th == NULL) {
        return;
    }
    CHECK(send(th, "", "s-1", "tools/list", NULL, 1).action == MCPGATE_CONTINUE);
    CHECK(send(th, "", "s-1", "tools/list", NULL, 2).action == MCPGATE_CONTINUE);
    mcpgate_testhost_result r = send(th, "", "s-1", "tools/list", NULL, 3);
    CHECK(r.action == MCPGATE_REJECT);
    CHECK_STR(mcpgate_testhost_response_edits(th), "set Retry-After: 3600\n");
    CHECK(send(th, "", "s-1", "prompts/list", NULL, 4).action == MCPGATE_CONTINUE);
    CHECK(send(th, "", "s-2", "tools/list", NULL, 5).action == MCPGATE_CONTINUE);
    mcpgate_testhost_free(th);

    th = load("[{\"maxTokens\":1,\"fillInterval\":\"1h\",\"key\":[\"tool\"]}]");
    if (th == NULL) {
        return;
    }
    CHECK(send(th, "", "", "resources/read", "file:///a", 1).action == MCPGATE_CONTINUE);
    CHECK(send(th, "", "", "resources/read", "file:///a", 2).action == MCPGATE_REJECT);
    CHECK(send(th, "", "", "resources/read", "file:///b", 3).action == MCPGATE_CONTINUE);
    CHECK(send(th, "", "", "prompts/get", "file:///a", 4).action == MCPGATE_CONTINUE); /* another kind */
    CHECK(send(th, "", "", "tools/list", NULL, 5).action == MCPGATE_CONTINUE);         /* untargeted bucket */
    CHECK(send(th, "", "", "tools/list", NULL, 6).action == MCPGATE_REJECT);
    mcpgate_testhost_free(th);
}

/* The bucket key is what the README says, so operators can reason about it (and a shared KV store
 * sees the same keys from every replica). */
static void test_key_layout_with_ip(void) {
    mcpgate_testhost *th = load("[{\"name\":\"by-ip\",\"maxTokens\":1,\"fillInterval\":\"1s\",\"key\":[\"ip\",\"principal\"]}]");
    if (th == NULL) {
        return;
    }
    /* the test host's peer is 127.0.0.1:50000; the host names the route */
    const char *exchange = "{\"request\":{\"attributes\":{\"mcpgate.principal\":\"alice\",\"mcpgate.route\":\"main\"}},"
                           "\"messages\":[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"x\"}}]}";
    mcpgate_testhost_result r;
    CHECK(mcpgate_testhost_run_exchange_text(th, exchange, &r) == 0 && r.action == MCPGATE_CONTINUE);
    const mcpgate_host_api *api = mcpgate_testhost_api();
    const char *key = "rl1|R4:main|L5:by-ip|B8:1/1/1000|p5:alice|i9:127.0.0.1";
    size_t len = 0;
    char buf[8];
    /* a bucket reads as MCPGATE_ERR_WRONG_TYPE: present, and not bytes */
    CHECK(api->kv_get(mcpgate_testhost_instance(th), mcpgate_str_from_cstr(key), buf, sizeof buf, &len, NULL) ==
          MCPGATE_ERR_WRONG_TYPE);
    CHECK(mcpgate_testhost_run_exchange_text(th, exchange, &r) == 0 && r.action == MCPGATE_REJECT);
    /* without mcpgate.route the bucket is this instance's own (one route), not the host-named one */
    CHECK(call(th, "alice", "x").action == MCPGATE_CONTINUE);
    CHECK(call(th, "alice", "x").action == MCPGATE_REJECT);
    mcpgate_testhost_free(th);
}

/* Notifications are limited too (the host answers them with an id-less error); a client's response to
 * a server request never is. */
static void test_notifications_and_client_responses(void) {
    mcpgate_testhost *th = load("[{\"maxTokens\":1,\"fillInterval\":\"1s\"}]");
    if (th == NULL) {
        return;
    }
    CHECK(send(th, "", "", "notifications/cancelled", NULL, -1).action == MCPGATE_CONTINUE);
    mcpgate_testhost_result r = send(th, "", "", "notifications/cancelled", NULL, -1);
    CHECK(r.action == MCPGATE_REJECT);
    CHECK(r.http_status == 429);
    mcpgate_testhost_result answer;
    CHECK(mcpgate_testhost_run_exchange_text(
              th, "{\"messages\":[{\"jsonrpc\":\"2.0\",\"id\":\"srv-1\",\"result\":{\"action\":\"accept\"}}]}",
              &answer) == 0);
    CHECK(answer.action == MCPGATE_CONTINUE);
    mcpgate_testhost_free(th);
}

/* The IETF draft pair instead of RateLimit-Limit/-Remaining/-Reset, and a custom status. */
static void test_draft_headers(void) {
    mcpgate_testhost *th = load("{\"limits\":[{\"name\":\"calls\",\"maxTokens\":10,\"tokensPerFill\":5,"
                                "\"fillInterval\":\"30s\"}],\"headers\":\"draft\",\"status\":503}");
    if (th == NULL) {
        return;
    }
    CHECK(call(th, "a", "t").action == MCPGATE_CONTINUE);
    CHECK_STR(mcpgate_testhost_response_edits(th),
              "set RateLimit-Policy: \"calls\";q=10;w=60\nset RateLimit: \"calls\";r=9;t=30\n");
    for (int i = 0; i < 9; i++) {
        CHECK(call(th, "a", "t").action == MCPGATE_CONTINUE);
    }
    mcpgate_testhost_result r = call(th, "a", "t");
    CHECK(r.action == MCPGATE_REJECT);
    CHECK(r.http_status == 503);
    CHECK_STR(mcpgate_testhost_response_edits(th),
              "set Retry-After: 30\nset RateLimit-Policy: \"calls\";q=10;w=60\nset RateLimit: \"calls\";r=0;t=30\n");
    mcpgate_testhost_free(th);
}

/* A store failure (here: the bucket key holds bytes, so rate_limit reports WRONG_TYPE) refuses the
 * request with 503 by default, and lets it through with failureMode: failOpen. */
static void test_store_failure(void) {
    const char *key = "rl1|R1:r|L17:localRateLimit[0]|B8:1/1/1000";
    const char *exchange = "{\"request\":{\"attributes\":{\"mcpgate.route\":\"r\"}},"
                           "\"messages\":[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"t\"}}]}";
    const char *configs[] = {"[{\"maxTokens\":1,\"fillInterval\":\"1s\"}]",
                             "{\"limits\":[{\"maxTokens\":1,\"fillInterval\":\"1s\"}],\"failureMode\":\"failOpen\"}"};
    for (int open = 0; open < 2; open++) {
        mcpgate_testhost *th = load(configs[open]);
        if (th == NULL) {
            return;
        }
        CHECK(mcpgate_testhost_api()->kv_set(mcpgate_testhost_instance(th), mcpgate_str_from_cstr(key),
                                             mcpgate_str_from_cstr("junk"), 0, NULL) == MCPGATE_OK);
        mcpgate_testhost_result r;
        CHECK(mcpgate_testhost_run_exchange_text(th, exchange, &r) == 0);
        if (open) {
            CHECK(r.action == MCPGATE_CONTINUE);
        } else {
            CHECK(r.action == MCPGATE_REJECT);
            CHECK(r.http_status == 503);
            CHECK(r.rpc_code == -32603);
        }
        CHECK(strstr(mcpgate_testhost_logs(th), "WARN rate limit store failed for localRateLimit[0]") != NULL);
        mcpgate_testhost_free(th);
    }
}

/* One mapping instead of a list is one limit. */
static void test_single_mapping(void) {
    mcpgate_testhost *th = load("{\"maxTokens\":1,\"fillInterval\":\"250ms\"}");
    if (th == NULL) {
        return;
    }
    CHECK(call(th, "a", "t").action == MCPGATE_CONTINUE);
    CHECK(call(th, "a", "t").action == MCPGATE_REJECT);
    mcpgate_testhost_advance_ms(th, 250);
    CHECK(call(th, "a", "t").action == MCPGATE_CONTINUE);
    mcpgate_testhost_free(th);
}

int main(void) {
    test_config_errors();
    test_bucket_per_principal_and_refill();
    test_partial_refill();
    test_several_limits_and_overrides();
    test_session_method_and_target_keys();
    test_key_layout_with_ip();
    test_notifications_and_client_responses();
    test_draft_headers();
    test_store_failure();
    test_single_mapping();
    printf("ratelimit_test: %d checks, %d failed\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
