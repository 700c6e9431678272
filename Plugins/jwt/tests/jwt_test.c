/* Unit tests of the JWT filter with the mcpgate C test host (the plugin is linked in, no gateway).
 *
 *   jwt_test FIXTURE_DIR
 *
 * FIXTURE_DIR is written by mint_tokens.py (PyJWT + cryptography): keys, tokens and the expected
 * outcome of each; this file never mints a token. Besides the cases it checks config errors, the
 * protected-resource metadata, the modes, and JWKS from a URL (HTTP and HTTPS, served by a thread of
 * this test) with background refresh, failed refreshes and key rotation. */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "mcpgate_testhost.h"

static int checks;
static int failures;
static const char *fixtures;

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
        const char *h_ = (haystack);                                                                     \
        checks++;                                                                                        \
        if (h_ == NULL || strstr(h_, (needle)) == NULL) {                                                \
            fprintf(stderr, "%s:%d: expected \"%s\" in:\n%s\n", __FILE__, __LINE__, (needle), h_ ? h_ : "(null)"); \
            failures++;                                                                                  \
        }                                                                                                \
    } while (0)

static char *fixture_path(const char *name) {
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", fixtures, name);
    return path;
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf != NULL) {
        buf[fread(buf, 1, (size_t)n, f)] = '\0';
    }
    fclose(f);
    return buf;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static mcpgate_testhost *load_json(const json_t *config, char *err, size_t err_len) {
    char *text = json_dumps(config, JSON_COMPACT);
    mcpgate_testhost *th = mcpgate_testhost_new();
    int rc = mcpgate_testhost_load(th, mcpgate_plugin_v1(), text, err, err_len);
    free(text);
    if (rc != 0) {
        mcpgate_testhost_free(th);
        return NULL;
    }
    return th;
}

static mcpgate_testhost *load_text(const char *config) {
    char err[512] = "";
    mcpgate_testhost *th = mcpgate_testhost_new();
    if (mcpgate_testhost_load(th, mcpgate_plugin_v1(), config, err, sizeof err) != 0) {
        fprintf(stderr, "load failed: %s\n  config: %s\n", err, config);
        failures++;
        mcpgate_testhost_free(th);
        return NULL;
    }
    mcpgate_testhost_set_time(th, 1000000000ULL, INT64_C(1700000000) * 1000000000);
    return th;
}

static void unload(mcpgate_testhost *th) {
    mcpgate_testhost_stats stats = mcpgate_testhost_get_stats(th);
    CHECK(stats.requests_created == stats.requests_destroyed);
    mcpgate_testhost_free(th);
}

/* A POST with `authorization` (NULL: none) calling `tool` (NULL: tools/list). */
static mcpgate_testhost_result request(mcpgate_testhost *th, const char *authorization, const char *tool,
                                       const char *path) {
    json_t *headers = json_pack("{s:s, s:s}", "Host", "gw.example:8443", "Content-Type", "application/json");
    if (authorization != NULL) {
        json_object_set_new(headers, "Authorization", json_string(authorization));
    }
    json_t *message = tool != NULL ? json_pack("{s:s, s:i, s:s, s:{s:s}}", "jsonrpc", "2.0", "id", 1, "method",
                                               "tools/call", "params", "name", tool)
                                   : json_pack("{s:s, s:i, s:s}", "jsonrpc", "2.0", "id", 1, "method", "tools/list");
    json_t *exchange = json_pack("{s:{s:s, s:o}, s:[o]}", "request", "path", path != NULL ? path : "/mcp", "headers",
                                 headers, "messages", message);
    mcpgate_testhost_result result;
    memset(&result, 0, sizeof result);
    CHECK(mcpgate_testhost_run_exchange(th, exchange, &result) == 0);
    json_decref(exchange);
    return result;
}

static mcpgate_testhost_result bearer(mcpgate_testhost *th, const char *token, const char *tool) {
    char *auth = malloc(strlen(token) + 8);
    sprintf(auth, "Bearer %s", token);
    mcpgate_testhost_result r = request(th, auth, tool, NULL);
    free(auth);
    return r;
}

/* ------------------------------------------------------------------------------------------------ */

static void test_config_errors(void) {
    const char *bad[][2] = {
        {"{\"issuer\":\"x\",\"audience\":[\"a\"],\"jwks\":{\"keys\":[]}}", "audience: unknown setting"},
        {"{\"mode\":\"lenient\"}", "mode: expected strict, optional or permissive"},
        {"{\"providers\":[]}", "providers: several issuers on one route are not supported"},
        {"{\"audiences\":[1]}", "audiences[0]: expected audience strings"},
        {"{\"algorithms\":[\"none\"]}", "algorithms[0]: expected HS256"},
        {"{\"algorithms\":[]}", "algorithms: expected at least one algorithm"},
        {"{\"leeway\":\"forever\"}", "leeway: expected seconds"},
        {"{\"toolScopes\":{\"add\":[\"a b\"]}}", "toolScopes.add[0]: expected scope names"},
        {"{\"requiredScopes\":[\"x\\\"y\"]}", "requiredScopes[0]: expected scope names"},
        {"{\"resourceMetadata\":{\"resource\":\"mcp.example\"}}", "resourceMetadata.resource: expected the MCP"},
        {"{\"resourceMetadata\":{\"resource\":\"https://a/mcp?x=1\"}}", "resourceMetadata.resource: expected"},
        {"{}", "jwks: required"},
        {"{\"jwks\":{\"file\":\"/nonexistent/jwks.json\"}}", "jwks: cannot open /nonexistent/jwks.json"},
        {"{\"jwks\":{\"url\":\"ftp://x/jwks\"}}", "jwks.url: expected an https://"},
        {"{\"jwks\":{\"url\":\"https://x/\",\"file\":\"y\"}}", "jwks: expected exactly one of file, url or inline"},
        {"{\"jwks\":{\"uri\":\"https://x/\"}}", "jwks.uri: unknown setting"},
        {"{\"jwks\":{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}}", "jwks: no usable key in the JWKS"},
        {"{\"jwks\":\"{not json\"}", "jwks: JWKS is not JSON"},
        {"{\"jwks\":{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]},\"jwtValidationOptions\":{\"required\":[]}}",
         "jwtValidationOptions.required: unknown setting"},
        {"{\"jwks\":{\"inline\":{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]},\"refreshInterval\":\"1m\"}}",
         "jwks.refreshInterval: only for file or url"},
        {"[1]", "jwtAuth: expected a mapping"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[512] = "";
        mcpgate_testhost *th = mcpgate_testhost_new();
        CHECK(mcpgate_testhost_load(th, mcpgate_plugin_v1(), bad[i][0], err, sizeof err) != 0);
        checks++;
        if (strncmp(err, bad[i][1], strlen(bad[i][1])) != 0) {
            fprintf(stderr, "config %s:\n  got      \"%s\"\n  expected \"%s...\"\n", bad[i][0], err, bad[i][1]);
            failures++;
        }
        mcpgate_testhost_free(th);
    }
}

/* Every case of cases.json: the outcome, the status, WWW-Authenticate and the principal. */
static void test_cases(void) {
    json_error_t error;
    json_t *doc = json_load_file(fixture_path("cases.json"), 0, &error);
    if (doc == NULL) {
        fprintf(stderr, "cannot read cases.json: %s\n", error.text);
        failures++;
        return;
    }
    json_int_t now = json_integer_value(json_object_get(doc, "now"));
    size_t g;
    const json_t *group;
    int run = 0;
    json_array_foreach(json_object_get(doc, "groups"), g, group) {
        char err[512] = "";
        mcpgate_testhost *th = load_json(json_object_get(group, "config"), err, sizeof err);
        if (th == NULL) {
            fprintf(stderr, "group %s: load failed: %s\n", json_string_value(json_object_get(group, "name")), err);
            failures++;
            continue;
        }
        mcpgate_testhost_set_time(th, 1000000000ULL, (int64_t)now * 1000000000);
        /* The loader reports what it skipped. */
        const char *logs = mcpgate_testhost_logs(th);
        CHECK_HAS(logs, "key 2 (kid rsa-small) skipped: RSA key shorter than 2048 bits");
        CHECK_HAS(logs, "(kid rsa-enc) skipped: key is not for signatures (use)");
        CHECK_HAS(logs, "(kid ec-bad) skipped: invalid EC public key");
        size_t i;
        const json_t *c;
        json_array_foreach(json_object_get(group, "cases"), i, c) {
            const char *name = json_string_value(json_object_get(c, "name"));
            const char *token = json_string_value(json_object_get(c, "token"));
            const char *tool = json_string_value(json_object_get(c, "tool"));
            mcpgate_testhost_result r = bearer(th, token, tool != NULL ? tool : "add");
            const char *edits = mcpgate_testhost_response_edits(th);
            const char *principal = mcpgate_testhost_attr(th, "mcpgate.principal");
            run++;
            int ok = 1;
            if (strcmp(json_string_value(json_object_get(c, "expect")), "ok") == 0) {
                const char *want = json_string_value(json_object_get(c, "principal"));
                ok = r.action == MCPGATE_CONTINUE && principal != NULL && strcmp(principal, want) == 0 &&
                     mcpgate_testhost_attr(th, "mcpgate.claims") != NULL;
            } else {
                int status = (int)json_integer_value(json_object_get(c, "status"));
                const char *oauth_error = json_string_value(json_object_get(c, "error"));
                const char *description = json_string_value(json_object_get(c, "description"));
                const char *scope = json_string_value(json_object_get(c, "scope"));
                char expected_error[64];
                snprintf(expected_error, sizeof expected_error, "error=\"%s\"", oauth_error);
                ok = r.action == MCPGATE_REJECT && (int)r.http_status == status && (status != 401 || principal == NULL) &&
                     strstr(edits, "set WWW-Authenticate: Bearer ") != NULL && strstr(edits, expected_error) != NULL &&
                     strstr(edits, description) != NULL && strstr(r.message, description) != NULL &&
                     strstr(edits, "resource_metadata=\"http://gw.example:8443/.well-known/oauth-protected-resource/"
                                   "mcp\"") != NULL &&
                     (scope == NULL || strstr(edits, "scope=\"") != NULL) && strstr(r.data, oauth_error) != NULL;
                if (ok && scope != NULL) {
                    char want_scope[128];
                    snprintf(want_scope, sizeof want_scope, "scope=\"%s\"", scope);
                    ok = strstr(edits, want_scope) != NULL;
                }
            }
            checks++;
            if (!ok) {
                failures++;
                fprintf(stderr, "case %s / %s: got action %d HTTP %u message \"%s\" principal %s\n  edits: %s\n",
                        json_string_value(json_object_get(group, "name")), name, r.action, r.http_status, r.message,
                        principal != NULL ? principal : "(none)", edits);
            }
        }
        unload(th);
    }
    printf("jwt_test: %d PyJWT cases run\n", run);
    CHECK(run >= 80);
    json_decref(doc);
}

static mcpgate_testhost *load_core(const char *extra) {
    char config[8192];
    snprintf(config, sizeof config,
             "{\"issuer\":\"https://issuer.example\",\"audiences\":[\"https://mcp.example/mcp\"],"
             "\"jwks\":{\"file\":\"%s\"}%s%s}",
             fixture_path("jwks.json"), extra[0] != '\0' ? "," : "", extra);
    return load_text(config);
}

static char *rs256_token(void) {
    json_t *doc = json_load_file(fixture_path("cases.json"), 0, NULL);
    char *token = strdup(json_string_value(json_object_get(doc, "rs256_token")));
    json_decref(doc);
    return token;
}

static void test_missing_token_and_modes(void) {
    mcpgate_testhost *th = load_core("\"requiredScopes\":[\"mcp\"]");
    if (th == NULL) {
        return;
    }
    mcpgate_testhost_result r = request(th, NULL, NULL, NULL);
    CHECK(r.action == MCPGATE_REJECT);
    CHECK(r.http_status == 401);
    CHECK(strcmp(r.hook, "on_http_request_headers") == 0);
    CHECK_HAS(mcpgate_testhost_response_edits(th),
              "set WWW-Authenticate: Bearer scope=\"mcp\", "
              "resource_metadata=\"http://gw.example:8443/.well-known/oauth-protected-resource/mcp\"\n");
    CHECK(strstr(mcpgate_testhost_response_edits(th), "error=") == NULL);
    /* Another scheme is no bearer token; an empty one neither. */
    r = request(th, "Basic YWxpY2U6c2VjcmV0", NULL, NULL);
    CHECK(r.http_status == 401);
    CHECK(strstr(mcpgate_testhost_response_edits(th), "error=") == NULL);
    r = request(th, "Bearer    ", NULL, NULL);
    CHECK(r.http_status == 401);
    /* A valid token without the route's required scope: 403 at once. */
    char *token = rs256_token();
    r = bearer(th, token, NULL);
    CHECK(r.action == MCPGATE_REJECT);
    CHECK(r.http_status == 403);
    CHECK_HAS(mcpgate_testhost_response_edits(th), "error=\"insufficient_scope\", scope=\"mcp\"");
    unload(th);

    /* Scheme name in any case, extra spaces. */
    th = load_core("\"resourceMetadata\":{\"resource\":\"https://mcp.example/mcp\"}");
    char auth[4096];
    snprintf(auth, sizeof auth, "bEaReR   %s  ", token);
    r = request(th, auth, NULL, NULL);
    CHECK(r.action == MCPGATE_CONTINUE);
    CHECK(mcpgate_testhost_attr(th, "mcpgate.principal") != NULL);
    /* A configured resource names the metadata URL, whatever the Host. */
    r = request(th, NULL, NULL, "/other");
    CHECK_HAS(mcpgate_testhost_response_edits(th),
              "resource_metadata=\"https://mcp.example/.well-known/oauth-protected-resource/mcp\"");
    unload(th);

    /* optional: no token passes anonymously, a bad one does not. */
    th = load_core("\"mode\":\"optional\"");
    r = request(th, NULL, NULL, NULL);
    CHECK(r.action == MCPGATE_CONTINUE);
    CHECK(mcpgate_testhost_attr(th, "mcpgate.principal") == NULL);
    r = request(th, "Bearer abc.def.ghi", NULL, NULL);
    CHECK(r.http_status == 401);
    r = bearer(th, token, NULL);
    CHECK(r.action == MCPGATE_CONTINUE);
    unload(th);

    /* optional with toolScopes: an anonymous call of a scoped tool is asked to authenticate. */
    th = load_core("\"mode\":\"optional\",\"toolScopes\":{\"add\":[\"calc\"]}");
    r = request(th, NULL, "add", NULL);
    CHECK(r.http_status == 401);
    CHECK(strcmp(r.hook, "on_rpc_message") == 0);
    CHECK_HAS(mcpgate_testhost_response_edits(th), "set WWW-Authenticate: Bearer scope=\"calc\", resource_metadata=");
    r = request(th, NULL, "echo", NULL);
    CHECK(r.action == MCPGATE_CONTINUE);
    unload(th);

    /* permissive: even a bad token passes, without a principal. */
    th = load_core("\"mode\":\"permissive\"");
    r = request(th, "Bearer abc.def.ghi", NULL, NULL);
    CHECK(r.action == MCPGATE_CONTINUE);
    CHECK(mcpgate_testhost_attr(th, "mcpgate.principal") == NULL);
    CHECK(mcpgate_testhost_metric(th, "jwt_requests_total") == 1);
    unload(th);

    /* Time moves: the same token expires (leeway 0). */
    th = load_core("\"leeway\":0");
    CHECK(bearer(th, token, NULL).action == MCPGATE_CONTINUE);
    mcpgate_testhost_advance_ms(th, 3600 * 1000);
    r = bearer(th, token, NULL);
    CHECK(r.http_status == 401);
    CHECK_HAS(r.message, "token expired");
    unload(th);

    /* principalClaim: another claim names the principal. */
    th = load_core("\"principalClaim\":\"iss\"");
    CHECK(bearer(th, token, NULL).action == MCPGATE_CONTINUE);
    CHECK(strcmp(mcpgate_testhost_attr(th, "mcpgate.principal"), "https://issuer.example") == 0);
    unload(th);
    free(token);
}

static void test_protected_resource_metadata(void) {
    mcpgate_testhost *th = load_core("\"toolScopes\":{\"add\":[\"calc\"]},\"requiredScopes\":[\"mcp\"],"
                                     "\"resourceMetadata\":{\"resourceDocumentation\":\"https://docs.example\","
                                     "\"bearerMethodsSupported\":[\"header\"],\"resource_name\":\"demo\"}");
    if (th == NULL) {
        return;
    }
    mcpgate_testhost_result r;
    const char *paths[][2] = {
        {"/.well-known/oauth-protected-resource/mcp", "\"resource\":\"http://gw.example:8443/mcp\""},
        {"/.well-known/oauth-protected-resource", "\"resource\":\"http://gw.example:8443\""},
        {"/.well-known/oauth-protected-resource/a/b/?x=1", "\"resource\":\"http://gw.example:8443/a/b\""},
    };
    for (size_t i = 0; i < 3; i++) {
        char exchange[512];
        snprintf(exchange, sizeof exchange,
                 "{\"request\":{\"method\":\"GET\",\"path\":\"%s\",\"headers\":{\"Host\":\"gw.example:8443\"}}}",
                 paths[i][0]);
        CHECK(mcpgate_testhost_run_exchange_text(th, exchange, &r) == 0);
        CHECK(r.action == MCPGATE_RESPOND);
        CHECK(r.http_status == 200);
        CHECK_HAS(r.body, paths[i][1]);
        CHECK_HAS(r.body, "\"authorization_servers\":[\"https://issuer.example\"]");
        CHECK_HAS(r.body, "\"scopes_supported\":[\"mcp\",\"calc\"]");
        CHECK_HAS(r.body, "\"bearer_methods_supported\":[\"header\"]");
        CHECK_HAS(r.body, "\"resource_documentation\":\"https://docs.example\"");
        CHECK_HAS(r.body, "\"resource_name\":\"demo\"");
        CHECK_HAS(mcpgate_testhost_response_edits(th), "set Access-Control-Allow-Origin: *\n");
    }
    /* X-Forwarded-Proto: https is honoured; other methods are refused; lookalike paths are not PRM. */
    CHECK(mcpgate_testhost_run_exchange_text(
              th,
              "{\"request\":{\"method\":\"GET\",\"path\":\"/.well-known/oauth-protected-resource/mcp\","
              "\"headers\":{\"Host\":\"gw.example\",\"X-Forwarded-Proto\":\"https\"}}}",
              &r) == 0);
    CHECK_HAS(r.body, "\"resource\":\"https://gw.example/mcp\"");
    CHECK(mcpgate_testhost_run_exchange_text(
              th,
              "{\"request\":{\"method\":\"POST\",\"path\":\"/.well-known/oauth-protected-resource\","
              "\"headers\":{\"Host\":\"gw.example\"}}}",
              &r) == 0);
    CHECK(r.http_status == 405);
    CHECK(mcpgate_testhost_run_exchange_text(
              th,
              "{\"request\":{\"method\":\"GET\",\"path\":\"/.well-known/oauth-protected-resourcex\","
              "\"headers\":{\"Host\":\"gw.example\"}}}",
              &r) == 0);
    CHECK(r.http_status == 401);
    unload(th);

    /* A configured resource: the document is fixed. */
    th = load_core("\"resourceMetadata\":{\"resource\":\"https://mcp.example/mcp/\","
                   "\"authorizationServers\":[\"https://as.example\"],\"scopesSupported\":[\"a\"]}");
    CHECK(mcpgate_testhost_run_exchange_text(
              th, "{\"request\":{\"method\":\"GET\",\"path\":\"/.well-known/oauth-protected-resource/mcp\"}}", &r) == 0);
    CHECK(strcmp(r.body, "{\"resource\":\"https://mcp.example/mcp/\",\"authorization_servers\":[\"https://as.example\"],"
                         "\"scopes_supported\":[\"a\"],\"bearer_methods_supported\":[\"header\"]}") == 0);
    unload(th);
}

/* ------------------------------------------------------------------------------------------------ */
/* a JWKS server on 127.0.0.1, plain or TLS, run by a thread of this test */

typedef struct jwks_server {
    int fd;
    int port;
    SSL_CTX *tls;
    pthread_t thread;
    atomic_int stop;
    atomic_int served;
    atomic_int served_ok; /* answers with the document */
    atomic_int mode; /* 0: 200 + document, 1: 500, 2: 200 + not JSON */
    pthread_mutex_t lock;
    char *document;
} jwks_server;

static void server_set_document(jwks_server *s, const char *path) {
    char *doc = slurp(path);
    pthread_mutex_lock(&s->lock);
    free(s->document);
    s->document = doc;
    pthread_mutex_unlock(&s->lock);
}

static void *server_main(void *arg) {
    jwks_server *s = arg;
    while (!atomic_load(&s->stop)) {
        struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
        if (poll(&pfd, 1, 50) <= 0) {
            continue;
        }
        int client = accept(s->fd, NULL, NULL);
        if (client < 0) {
            continue;
        }
        struct timeval tv = {2, 0};
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        SSL *ssl = NULL;
        if (s->tls != NULL) {
            ssl = SSL_new(s->tls);
            SSL_set_fd(ssl, client);
            if (SSL_accept(ssl) != 1) {
                SSL_free(ssl);
                close(client);
                ERR_clear_error();
                continue;
            }
        }
        char req[4096];
        size_t len = 0;
        while (len < sizeof req - 1) {
            int n = ssl != NULL ? SSL_read(ssl, req + len, (int)(sizeof req - 1 - len))
                                : (int)recv(client, req + len, sizeof req - 1 - len, 0);
            if (n <= 0) {
                break;
            }
            len += (size_t)n;
            req[len] = '\0';
            if (strstr(req, "\r\n\r\n") != NULL) {
                break;
            }
        }
        int served = atomic_load(&s->served);
        int mode = atomic_load(&s->mode);
        pthread_mutex_lock(&s->lock);
        const char *body = mode == 2 ? "<html>not json</html>" : mode == 1 ? "oops" : s->document;
        size_t body_len = strlen(body);
        size_t cap = body_len + 512;
        char *response = malloc(cap);
        int n;
        if (mode == 0 && served % 2 == 1) { /* every other answer chunked, in two chunks */
            size_t half = body_len / 2;
            n = snprintf(response, cap,
                         "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "%zx\r\n%.*s\r\n%zx\r\n%s\r\n0\r\n\r\n",
                         half, (int)half, body, body_len - half, body + half);
        } else {
            n = snprintf(response, cap, "HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                         mode == 1 ? "500 Internal Server Error" : "200 OK", body_len, body);
        }
        pthread_mutex_unlock(&s->lock);
        if (ssl != NULL) {
            SSL_write(ssl, response, n);
            SSL_shutdown(ssl);
            SSL_free(ssl);
        } else {
            send(client, response, (size_t)n, MSG_NOSIGNAL);
        }
        free(response);
        close(client);
        if (mode == 0) {
            atomic_fetch_add(&s->served_ok, 1);
        }
        atomic_fetch_add(&s->served, 1);
        ERR_clear_error();
    }
    return NULL;
}

static int server_start(jwks_server *s, int tls) {
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->lock, NULL);
    server_set_document(s, fixture_path("jwks.json"));
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    if (bind(s->fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(s->fd, 16) != 0 ||
        getsockname(s->fd, (struct sockaddr *)&addr, &len) != 0) {
        return -1;
    }
    s->port = ntohs(addr.sin_port);
    if (tls) {
        s->tls = SSL_CTX_new(TLS_server_method());
        char cert[4096];
        snprintf(cert, sizeof cert, "%s", fixture_path("tls/cert.pem"));
        if (SSL_CTX_use_certificate_file(s->tls, cert, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_use_PrivateKey_file(s->tls, fixture_path("tls/key.pem"), SSL_FILETYPE_PEM) != 1) {
            return -1;
        }
    }
    return pthread_create(&s->thread, NULL, server_main, s);
}

static void server_stop(jwks_server *s) {
    atomic_store(&s->stop, 1);
    pthread_join(s->thread, NULL);
    close(s->fd);
    SSL_CTX_free(s->tls);
    free(s->document);
    pthread_mutex_destroy(&s->lock);
}

/* Waits until the server has answered `count` requests, then gives the refresher time to swap keys
 * and log (the test host is single-threaded: it is not touched meanwhile). */
static int wait_served(jwks_server *s, int count, long timeout_ms) {
    for (long waited = 0; waited < timeout_ms; waited += 10) {
        if (atomic_load(&s->served) >= count) {
            sleep_ms(150);
            return 1;
        }
        sleep_ms(10);
    }
    return 0;
}

static char *rotated_token(void) {
    json_t *doc = json_load_file(fixture_path("cases.json"), 0, NULL);
    char *token = strdup(json_string_value(json_object_get(doc, "rotated_token")));
    json_decref(doc);
    return token;
}

static void test_jwks_url(int tls) {
    jwks_server s;
    if (server_start(&s, tls) != 0) {
        fprintf(stderr, "cannot start the JWKS test server\n");
        failures++;
        return;
    }
    char *token = rs256_token();
    char *rotated = rotated_token();
    char config[8192];
    char ca[4200];
    snprintf(ca, sizeof ca, ",\"caFile\":\"%s\"", fixture_path("tls/cert.pem"));

    /* 1. Background refresh every 200 ms; failures keep the last good keys. */
    snprintf(config, sizeof config,
             "{\"issuer\":\"https://issuer.example\",\"audiences\":[\"https://mcp.example/mcp\"],"
             "\"jwks\":{\"url\":\"%s://%s:%d/jwks.json\",\"refreshInterval\":\"200ms\",\"timeout\":\"2s\"%s}}",
             tls ? "https" : "http", tls ? "localhost" : "127.0.0.1", s.port, tls ? ca : "");
    mcpgate_testhost *th = load_text(config);
    if (th != NULL) {
        CHECK(atomic_load(&s.served) == 1); /* config_new fetched once */
        CHECK(bearer(th, token, NULL).action == MCPGATE_CONTINUE);
        CHECK(wait_served(&s, 3, 5000));
        CHECK(bearer(th, token, NULL).action == MCPGATE_CONTINUE); /* a chunked answer was parsed too */
        atomic_store(&s.mode, 1);
        int before = atomic_load(&s.served);
        CHECK(wait_served(&s, before + 2, 8000));
        CHECK_HAS(mcpgate_testhost_logs(th), "jwks refresh failed, keeping the last good keys: GET ");
        CHECK_HAS(mcpgate_testhost_logs(th), "HTTP status 500");
        CHECK(bearer(th, token, NULL).action == MCPGATE_CONTINUE);
        atomic_store(&s.mode, 2);
        before = atomic_load(&s.served);
        CHECK(wait_served(&s, before + 1, 8000));
        CHECK_HAS(mcpgate_testhost_logs(th), "JWKS is not JSON");
        CHECK(bearer(th, token, NULL).action == MCPGATE_CONTINUE);
        CHECK(mcpgate_testhost_metric(th, "jwt_jwks_refreshes_total") >= 4);
        /* Rotation: the next good document carries a new key. */
        server_set_document(&s, fixture_path("jwks_rotated.json"));
        atomic_store(&s.mode, 0);
        before = atomic_load(&s.served);
        CHECK(wait_served(&s, before + 1, 8000));
        mcpgate_testhost_result r = bearer(th, rotated, NULL);
        CHECK(r.action == MCPGATE_CONTINUE);
        CHECK(mcpgate_testhost_attr(th, "mcpgate.principal") != NULL &&
              strcmp(mcpgate_testhost_attr(th, "mcpgate.principal"), "carol") == 0);
        CHECK(mcpgate_testhost_metric(th, "jwt_jwks_keys") == 10);
        unload(th); /* joins the refresher at once, even mid-wait */
    }

    /* 2. An unknown kid asks for an early refresh (refreshInterval is an hour). */
    server_set_document(&s, fixture_path("jwks.json"));
    snprintf(config, sizeof config,
             "{\"issuer\":\"https://issuer.example\",\"audiences\":[\"https://mcp.example/mcp\"],"
             "\"jwks\":{\"url\":\"%s://127.0.0.1:%d/jwks.json\",\"refreshInterval\":\"1h\","
             "\"minRefreshInterval\":\"0s\"%s}}",
             tls ? "https" : "http", s.port, tls ? ca : "");
    int before = atomic_load(&s.served);
    th = load_text(config);
    if (th != NULL) {
        CHECK(atomic_load(&s.served) == before + 1);
        server_set_document(&s, fixture_path("jwks_rotated.json"));
        mcpgate_testhost_result r = bearer(th, rotated, NULL);
        CHECK(r.http_status == 401);
        CHECK_HAS(r.message, "unknown signing key");
        CHECK(wait_served(&s, before + 2, 5000));
        CHECK(bearer(th, rotated, NULL).action == MCPGATE_CONTINUE);
        unload(th);
    }

    /* 3. Down at start: the config loads, requests get 503, and the keys arrive later. */
    atomic_store(&s.mode, 1);
    before = atomic_load(&s.served);
    th = load_text(config);
    if (th != NULL) {
        CHECK_HAS(mcpgate_testhost_logs(th), "jwks: first fetch failed, retrying in the background");
        mcpgate_testhost_result r = bearer(th, token, NULL);
        CHECK(r.http_status == 503);
        int ok_before = atomic_load(&s.served_ok);
        atomic_store(&s.mode, 0);
        for (int waited = 0; waited < 8000 && atomic_load(&s.served_ok) == ok_before; waited += 10) {
            sleep_ms(10);
        }
        sleep_ms(150);
        CHECK(atomic_load(&s.served_ok) > ok_before);
        CHECK(atomic_load(&s.served) >= before + 2);
        CHECK(bearer(th, token, NULL).action == MCPGATE_CONTINUE);
        unload(th);
    }

    if (tls) {
        /* 4. A certificate from another CA, or a name it was not issued for, is refused. */
        snprintf(config, sizeof config,
                 "{\"jwks\":{\"url\":\"https://127.0.0.1:%d/jwks.json\",\"caFile\":\"%s\",\"timeout\":\"2s\"}}", s.port,
                 fixture_path("tls/other-ca.pem"));
        th = load_text(config);
        if (th != NULL) {
            CHECK_HAS(mcpgate_testhost_logs(th), "certificate verification failed");
            CHECK(bearer(th, token, NULL).http_status == 503);
            unload(th);
        }
        snprintf(config, sizeof config,
                 "{\"jwks\":{\"url\":\"https://127.0.0.2:%d/jwks.json\",\"caFile\":\"%s\",\"timeout\":\"2s\"}}", s.port,
                 fixture_path("tls/cert.pem"));
        th = load_text(config);
        if (th != NULL) {
            const char *logs = mcpgate_testhost_logs(th);
            CHECK(strstr(logs, "certificate verification failed") != NULL || strstr(logs, "connect") != NULL);
            unload(th);
        }
    }
    free(token);
    free(rotated);
    server_stop(&s);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s FIXTURE_DIR (written by mint_tokens.py)\n", argv[0]);
        return 2;
    }
    fixtures = argv[1];
    test_config_errors();
    test_cases();
    test_missing_token_and_modes();
    test_protected_resource_metadata();
    test_jwks_url(0);
    test_jwks_url(1);
    printf("jwt_test: %d passed, %d failed\n", checks - failures, failures);
    return failures == 0 ? 0 : 1;
}
