/* Unit tests of the CORS filter with the mcpgate C test host: the plugin is linked in, no gateway.
 * `make test` builds and runs them (`make test SANITIZE=1` under ASan/UBSan). */
#include <stdio.h>
#include <string.h>

#include "mcpgate_testhost.h"

static int checks;
static int failures;

#define CHECK(cond)                                                                                      \
    do {                                                                                                 \
        checks++;                                                                                        \
        if (!(cond)) {                                                                                   \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                     \
            failures++;                                                                                  \
        }                                                                                                \
    } while (0)

#define CHECK_HAS(haystack, needle)                                                                      \
    do {                                                                                                 \
        checks++;                                                                                        \
        if (strstr((haystack), (needle)) == NULL) {                                                      \
            fprintf(stderr, "%s:%d: expected \"%s\" in:\n%s\n", __FILE__, __LINE__, (needle), (haystack)); \
            failures++;                                                                                  \
        }                                                                                                \
    } while (0)

#define CHECK_LACKS(haystack, needle)                                                                    \
    do {                                                                                                 \
        checks++;                                                                                        \
        if (strstr((haystack), (needle)) != NULL) {                                                      \
            fprintf(stderr, "%s:%d: did not expect \"%s\" in:\n%s\n", __FILE__, __LINE__, (needle), (haystack)); \
            failures++;                                                                                  \
        }                                                                                                \
    } while (0)

static mcpgate_testhost *load(const char *config) {
    char err[256] = "";
    mcpgate_testhost *th = mcpgate_testhost_new();
    if (th != NULL && mcpgate_testhost_load(th, mcpgate_plugin_v1(), config, err, sizeof err) == 0) {
        return th;
    }
    fprintf(stderr, "load failed: %s (config %s)\n", err, config);
    failures++;
    mcpgate_testhost_free(th);
    return NULL;
}

static void unload(mcpgate_testhost *th) {
    mcpgate_testhost_stats stats = mcpgate_testhost_get_stats(th);
    CHECK(stats.requests_created == stats.requests_destroyed);
    CHECK(stats.plugin_failures == 0);
    mcpgate_testhost_free(th);
}

/* A preflight from `origin` asking for POST with `request_headers` (NULL: none). */
static mcpgate_testhost_result preflight(mcpgate_testhost *th, const char *origin, const char *method,
                                         const char *request_headers) {
    json_t *headers = json_pack("{s:s, s:s}", "Origin", origin, "Access-Control-Request-Method", method);
    if (request_headers != NULL) {
        json_object_set_new(headers, "Access-Control-Request-Headers", json_string(request_headers));
    }
    json_t *exchange = json_pack("{s:{s:s, s:o}}", "request", "method", "OPTIONS", "headers", headers);
    mcpgate_testhost_result result;
    memset(&result, 0, sizeof result);
    CHECK(mcpgate_testhost_run_exchange(th, exchange, &result) == 0);
    json_decref(exchange);
    return result;
}

/* An actual POST from `origin` (NULL: no Origin) answered with `status`, by the upstream or, when
 * `gateway_error`, by the gateway itself. */
static mcpgate_testhost_result actual(mcpgate_testhost *th, const char *origin, int status, int gateway_error) {
    json_t *headers = json_pack("{s:s}", "Content-Type", "application/json");
    if (origin != NULL) {
        json_object_set_new(headers, "Origin", json_string(origin));
    }
    json_t *exchange = json_pack("{s:{s:o}, s:[{s:s, s:i, s:s}], s:{s:s, s:s}}", "request", "headers", headers,
                                 "messages", "jsonrpc", "2.0", "id", 1, "method", "tools/list", "responseHeaders",
                                 "Content-Type", "application/json", "Access-Control-Allow-Origin", "*");
    if (gateway_error) {
        json_object_set_new(exchange, "gatewayError", json_pack("{s:i}", "status", status));
    } else {
        json_object_set_new(exchange, "status", json_integer(status));
    }
    mcpgate_testhost_result result;
    memset(&result, 0, sizeof result);
    CHECK(mcpgate_testhost_run_exchange(th, exchange, &result) == 0);
    json_decref(exchange);
    return result;
}

static void test_config_errors(void) {
    const char *bad[] = {
        "{\"allowOrigin\":[\"*\"]}",
        "{\"allowOrigins\":\"*\"}",
        "{\"allowOrigins\":[\"app.example.com\"]}",
        "{\"allowOrigins\":[\"https://app.example.com/path\"]}",
        "{\"allowOrigins\":[\"https://app.*.com\"]}",
        "{\"allowOrigins\":[\"*.example.com\"]}",
        "{\"allowCredentials\":\"yes\"}",
        "{\"allowHeaders\":[\"Bad Header\"]}",
        "{\"allowMethods\":[\"GE T\"]}",
        "{\"maxAge\":-1}",
        "{\"maxAge\":\"10 minutes\"}",
        "[]",
    };
    const char *messages[] = {
        "allowOrigin: unknown CORS setting",
        "allowOrigins: expected a list of origins",
        "allowOrigins[0]: expected origins",
        "allowOrigins[0]: expected origins",
        "allowOrigins[0]: a wildcard may only stand for subdomains",
        "allowOrigins[0]: expected origins",
        "allowCredentials: expected true or false",
        "allowHeaders[0]: expected header names",
        "allowMethods[0]: expected HTTP methods",
        "maxAge: expected seconds",
        "maxAge: expected seconds",
        "cors: expected a mapping",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[256] = "";
        mcpgate_testhost *th = mcpgate_testhost_new();
        CHECK(mcpgate_testhost_load(th, mcpgate_plugin_v1(), bad[i], err, sizeof err) != 0);
        if (strncmp(err, messages[i], strlen(messages[i])) != 0) {
            fprintf(stderr, "config %s: got error \"%s\", expected \"%s...\"\n", bad[i], err, messages[i]);
            failures++;
        }
        checks++;
        mcpgate_testhost_free(th);
    }
}

static void test_preflight_exact_origin(void) {
    mcpgate_testhost *th = load("{\"allowOrigins\":[\"https://app.example\",\"http://localhost:6274/\"],"
                                "\"allowMethods\":[\"GET\",\"POST\"],\"allowHeaders\":[\"Content-Type\",\"Authorization\"],"
                                "\"maxAge\":\"10m\"}");
    if (th == NULL) {
        return;
    }
    mcpgate_testhost_result r = preflight(th, "https://app.example", "POST", "content-type,authorization");
    CHECK(r.action == MCPGATE_RESPOND);
    CHECK(r.http_status == 204);
    CHECK(strcmp(r.hook, "on_http_request_headers") == 0);
    CHECK(r.body[0] == '\0');
    const char *edits = mcpgate_testhost_response_edits(th);
    CHECK_HAS(edits, "set Access-Control-Allow-Origin: https://app.example\n");
    CHECK_HAS(edits, "add Vary: Origin\n");
    CHECK_HAS(edits, "set Access-Control-Allow-Methods: GET, POST\n");
    CHECK_HAS(edits, "set Access-Control-Allow-Headers: Content-Type, Authorization\n");
    CHECK_HAS(edits, "set Access-Control-Max-Age: 600\n");
    CHECK_LACKS(edits, "Access-Control-Allow-Credentials");
    CHECK_LACKS(edits, "Expose");

    /* The trailing '/' of a configured origin is ignored; origins compare case-insensitively. */
    r = preflight(th, "http://LOCALHOST:6274", "POST", NULL);
    CHECK(r.http_status == 204);
    CHECK_HAS(mcpgate_testhost_response_edits(th), "set Access-Control-Allow-Origin: http://LOCALHOST:6274\n");

    /* Another origin: answered (never passed on to authentication) without any CORS header. */
    r = preflight(th, "https://evil.example", "POST", "authorization");
    CHECK(r.action == MCPGATE_RESPOND);
    CHECK(r.http_status == 403);
    edits = mcpgate_testhost_response_edits(th);
    CHECK_LACKS(edits, "Access-Control-Allow");
    CHECK_HAS(edits, "add Vary: Origin\n");
    r = preflight(th, "https://app.example.evil", "POST", NULL);
    CHECK(r.http_status == 403);
    r = preflight(th, "http://app.example", "POST", NULL);
    CHECK(r.http_status == 403);
    CHECK(mcpgate_testhost_metric(th, "cors_preflights_total") == 5);
    unload(th);
}

static void test_preflight_any_origin(void) {
    mcpgate_testhost *th = load("{\"allowOrigins\":[\"*\"],\"allowHeaders\":[\"*\"],\"allowMethods\":[\"*\"]}");
    if (th == NULL) {
        return;
    }
    mcpgate_testhost_result r =
        preflight(th, "https://anyone.example", "POST", "Authorization, Content-Type, Mcp-Param-Region");
    CHECK(r.http_status == 204);
    const char *edits = mcpgate_testhost_response_edits(th);
    CHECK_HAS(edits, "set Access-Control-Allow-Origin: *\n");
    CHECK_LACKS(edits, "add Vary: Origin\n");
    /* `*` does not cover Authorization in browsers: the requested names are echoed. */
    CHECK_HAS(edits, "set Access-Control-Allow-Headers: Authorization,Content-Type,Mcp-Param-Region\n");
    CHECK_HAS(edits, "set Access-Control-Allow-Methods: POST\n");
    CHECK_HAS(edits, "add Vary: Access-Control-Request-Method, Access-Control-Request-Headers\n");
    CHECK_LACKS(edits, "Max-Age");

    /* A header list that is not made of header names is not echoed (no header injection). */
    r = preflight(th, "https://anyone.example", "POST", "content-type\r\nSet-Cookie: a=b");
    CHECK(r.http_status == 204);
    CHECK_LACKS(mcpgate_testhost_response_edits(th), "Set-Cookie");
    CHECK_LACKS(mcpgate_testhost_response_edits(th), "Access-Control-Allow-Headers");
    r = preflight(th, "https://anyone.example", "P\"ST", NULL);
    CHECK_LACKS(mcpgate_testhost_response_edits(th), "Access-Control-Allow-Methods");
    /* "null" (sandboxed documents) is an origin like any other for "*". */
    r = preflight(th, "null", "GET", NULL);
    CHECK(r.http_status == 204);
    unload(th);
}

static void test_credentials_never_with_star(void) {
    mcpgate_testhost *th = load("{\"allowOrigins\":[\"*\"],\"allowCredentials\":true,\"exposeHeaders\":[\"*\"]}");
    if (th == NULL) {
        return;
    }
    mcpgate_testhost_result r = preflight(th, "https://app.example", "DELETE", "mcp-session-id");
    CHECK(r.http_status == 204);
    const char *edits = mcpgate_testhost_response_edits(th);
    CHECK_HAS(edits, "set Access-Control-Allow-Origin: https://app.example\n");
    CHECK_LACKS(edits, "Access-Control-Allow-Origin: *");
    CHECK_HAS(edits, "add Vary: Origin\n");
    CHECK_HAS(edits, "set Access-Control-Allow-Credentials: true\n");
    CHECK_HAS(edits, "set Access-Control-Allow-Methods: GET, POST, DELETE, OPTIONS\n");

    r = actual(th, "https://app.example", 200, 0);
    CHECK(r.action == MCPGATE_CONTINUE);
    edits = mcpgate_testhost_response_edits(th);
    CHECK_HAS(edits, "set Access-Control-Allow-Origin: https://app.example\n");
    CHECK_HAS(edits, "set Access-Control-Allow-Credentials: true\n");
    /* exposeHeaders "*" is literal with credentials, so the MCP list is sent instead. */
    CHECK_HAS(edits, "set Access-Control-Expose-Headers: Mcp-Session-Id, MCP-Protocol-Version, WWW-Authenticate, "
                     "Retry-After\n");
    unload(th);
}

static void test_default_headers_and_patterns(void) {
    mcpgate_testhost *th = load("{\"allowOrigins\":[\"https://*.example.com\"]}");
    if (th == NULL) {
        return;
    }
    mcpgate_testhost_result r =
        preflight(th, "https://app.eu.example.com", "POST",
                  "content-type,authorization,mcp-protocol-version,mcp-param-region,mcp-param-city,x-not-allowed");
    CHECK(r.http_status == 204);
    const char *edits = mcpgate_testhost_response_edits(th);
    CHECK_HAS(edits, "set Access-Control-Allow-Origin: https://app.eu.example.com\n");
    CHECK_HAS(edits, "set Access-Control-Allow-Headers: "
                     "content-type,authorization,mcp-protocol-version,mcp-param-region,mcp-param-city\n");
    CHECK_HAS(edits, "add Vary: Access-Control-Request-Headers\n");
    /* Without Access-Control-Request-Headers nothing is echoed. */
    r = preflight(th, "https://app.example.com", "GET", NULL);
    CHECK(r.http_status == 204);
    CHECK_LACKS(mcpgate_testhost_response_edits(th), "Access-Control-Allow-Headers: ,");
    /* Subdomain wildcards match only subdomains of that scheme and port. */
    CHECK(preflight(th, "https://example.com", "GET", NULL).http_status == 403);
    CHECK(preflight(th, "https://evilexample.com", "GET", NULL).http_status == 403);
    CHECK(preflight(th, "http://app.example.com", "GET", NULL).http_status == 403);
    CHECK(preflight(th, "https://app.example.com:8443", "GET", NULL).http_status == 403);
    CHECK(preflight(th, "https://a/b.example.com", "GET", NULL).http_status == 403);
    unload(th);
}

static void test_actual_requests(void) {
    mcpgate_testhost *th = load("{\"allowOrigins\":[\"https://app.example\"],\"exposeHeaders\":[\"Mcp-Session-Id\"]}");
    if (th == NULL) {
        return;
    }
    /* Allowed origin: upstream 200, gateway 404 / 401 / 429 all carry the CORS headers. */
    int statuses[] = {200, 404, 401, 429, 502};
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        mcpgate_testhost_result r = actual(th, "https://app.example", statuses[i], i > 0);
        CHECK(r.action == MCPGATE_CONTINUE);
        const char *edits = mcpgate_testhost_response_edits(th);
        CHECK_HAS(edits, "set Access-Control-Allow-Origin: https://app.example\n");
        CHECK_HAS(edits, "set Access-Control-Expose-Headers: Mcp-Session-Id\n");
        CHECK_HAS(edits, "add Vary: Origin\n");
    }
    /* Disallowed origin: the upstream's CORS headers are removed. */
    actual(th, "https://evil.example", 200, 0);
    const char *edits = mcpgate_testhost_response_edits(th);
    CHECK_HAS(edits, "remove Access-Control-Allow-Origin\n");
    CHECK_LACKS(edits, "set Access-Control");
    /* No Origin: not a CORS request, nothing is touched. */
    actual(th, NULL, 200, 0);
    CHECK(strcmp(mcpgate_testhost_response_edits(th), "") == 0);
    /* OPTIONS without Access-Control-Request-Method is not a preflight. */
    mcpgate_testhost_result r;
    CHECK(mcpgate_testhost_run_exchange_text(
              th, "{\"request\":{\"method\":\"OPTIONS\",\"headers\":{\"Origin\":\"https://app.example\"}},\"status\":405}",
              &r) == 0);
    CHECK(r.action == MCPGATE_CONTINUE);
    CHECK_HAS(mcpgate_testhost_response_edits(th), "set Access-Control-Allow-Origin: https://app.example\n");
    unload(th);
}

static void test_nothing_allowed_by_default(void) {
    mcpgate_testhost *th = load("{}");
    if (th == NULL) {
        return;
    }
    CHECK(preflight(th, "https://app.example", "POST", NULL).http_status == 403);
    actual(th, "https://app.example", 200, 0);
    CHECK_LACKS(mcpgate_testhost_response_edits(th), "set Access-Control");
    unload(th);
}

int main(void) {
    test_config_errors();
    test_preflight_exact_origin();
    test_preflight_any_origin();
    test_credentials_never_with_star();
    test_default_headers_and_patterns();
    test_actual_requests();
    test_nothing_allowed_by_default();
    printf("cors_test: %d passed, %d failed\n", checks - failures, failures);
    return failures == 0 ? 0 : 1;
}
