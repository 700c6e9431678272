/*
 * jwt -- the bundled mcpgate JWT authentication filter (`policies.jwtAuth`).
 *
 * - Verifies `Authorization: Bearer <JWT>` on every request (HS/RS/PS/ES 256-512, EdDSA) against a
 *   JWKS from a file, inline, or a URL refreshed by a background thread (never on the request path);
 *   checks exp / nbf / iat with leeway, iss, aud and required claims. Missing token: 401 with
 *   `WWW-Authenticate: Bearer resource_metadata="..."`; bad token: 401 with error="invalid_token".
 * - Sets `mcpgate.principal` (the `sub` claim), `mcpgate.claims` (the payload) and `mcpgate.scopes`.
 * - Requires scopes per tool on `tools/call` (403, error="insufficient_scope").
 * - Serves RFC 9728 protected-resource metadata at /.well-known/oauth-protected-resource[/<path>].
 *
 * Config and behaviour: README.md. Built against mcpgate/filter.h, jansson and OpenSSL 3 only.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/opensslv.h>

#include "jwt_internal.h"
#include "mcpgate/filter.h"

#define WELL_KNOWN_PRM "/.well-known/oauth-protected-resource"
#define MAX_JWKS_BYTES (1024 * 1024)
#define MAX_URL 2048

typedef enum auth_mode { MODE_STRICT, MODE_OPTIONAL, MODE_PERMISSIVE } auth_mode;
typedef enum jwks_source { SOURCE_INLINE, SOURCE_FILE, SOURCE_URL } jwks_source;

typedef struct string_list {
    char **items;
    size_t count;
} string_list;

/* toolScopes entry: a tool name or "prefix*" and the scopes a call needs. */
typedef struct tool_scope {
    char *pattern;
    string_list scopes;
} tool_scope;

/* The instance. Everything but `keys` (swapped under keys_lock) and the refresher's own fields is
 * immutable after config_new returns. */
typedef struct jwt_config {
    const mcpgate_host_api *api;
    mcpgate_instance *inst;
    auth_mode mode;
    string_list issuers;
    string_list audiences;
    string_list required_claims;
    int64_t leeway_s;
    uint32_t allowed_algs;
    char *principal_claim;
    string_list required_scopes;
    char *required_scopes_joined; /* for the 401 challenge's scope="..." (NULL: none) */
    tool_scope *tool_scopes;
    size_t tool_scope_count;

    /* protected-resource metadata */
    json_t *prm;         /* the document without "resource" when it is derived per request */
    char *resource;      /* configured resourceMetadata.resource, or NULL (derived from Host) */
    char *prm_url;       /* resource_metadata URL when resource is configured */
    char *prm_body;      /* the whole document when resource is configured */

    /* keys */
    pthread_mutex_t keys_lock;
    jwt_keyset *keys; /* NULL until a first successful load */
    jwks_source source;
    char *path;
    char *url;
    char *ca_file;
    int64_t refresh_ms;     /* 0: never (inline, or a file without refreshInterval) */
    int64_t min_refresh_ms; /* least time between two fetches asked for by unknown kids */
    int64_t timeout_ms;

    /* refresher thread */
    pthread_t thread;
    int thread_started;
    int wake[2]; /* pipe: hooks and config_destroy write, the refresher polls */
    atomic_int stop;

    mcpgate_metric *requests;        /* jwt_requests_total{result} */
    mcpgate_metric *refreshes;       /* jwt_jwks_refreshes_total{result} */
    mcpgate_metric *key_count;       /* jwt_jwks_keys */
} jwt_config;

/* Per request. Strings handed to the host in decisions must outlive the hook: they live here. */
typedef struct jwt_request {
    int authenticated;
    char *scopes;  /* the token's scopes, space-separated, or NULL */
    char *prm_url; /* the derived resource_metadata URL, or NULL */
    char *body;    /* a derived protected-resource metadata document */
    char message[320];
} jwt_request;

/* ------------------------------------------------------------------------------------------------ */
/* small helpers */

static void list_free(string_list *l) {
    for (size_t i = 0; i < l->count; i++) {
        free(l->items[i]);
    }
    free(l->items);
    l->items = NULL;
    l->count = 0;
}

static int list_push(string_list *l, const char *s) {
    char **grown = realloc(l->items, (l->count + 1) * sizeof *grown);
    if (grown == NULL) {
        return -1;
    }
    l->items = grown;
    l->items[l->count] = strdup(s);
    if (l->items[l->count] == NULL) {
        return -1;
    }
    l->count++;
    return 0;
}

static int list_has(const string_list *l, const char *s) {
    for (size_t i = 0; i < l->count; i++) {
        if (strcmp(l->items[i], s) == 0) {
            return 1;
        }
    }
    return 0;
}

/* "a b c" (NULL when empty; *oom on allocation failure). */
static char *list_join(const string_list *l, int *oom) {
    size_t total = 1;
    for (size_t i = 0; i < l->count; i++) {
        total += strlen(l->items[i]) + 1;
    }
    if (l->count == 0) {
        return NULL;
    }
    char *out = malloc(total);
    if (out == NULL) {
        *oom = 1;
        return NULL;
    }
    out[0] = '\0';
    for (size_t i = 0; i < l->count; i++) {
        if (i > 0) {
            strcat(out, " ");
        }
        strcat(out, l->items[i]);
    }
    return out;
}

/* A scope token for a WWW-Authenticate quoted string: %x21 / %x23-5B / %x5D-7E (RFC 6749 §3.3). */
static int scope_token(const char *s) {
    if (*s == '\0') {
        return 0;
    }
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x21 || c > 0x7e || c == '"' || c == '\\') {
            return 0;
        }
    }
    return 1;
}

/* A string or a list of strings into l. 0 ok (also when absent), -1 with err filled. */
static int read_strings(const json_t *value, const char *where, string_list *l, int (*check)(const char *),
                        const char *expected, char *err, size_t err_len) {
    if (value == NULL || json_is_null(value)) {
        return 0;
    }
    if (json_is_string(value)) {
        if (json_string_length(value) == 0 || (check != NULL && !check(json_string_value(value)))) {
            snprintf(err, err_len, "%s: expected %s", where, expected);
            return -1;
        }
        return list_push(l, json_string_value(value)) == 0 ? 0 : (snprintf(err, err_len, "out of memory"), -1);
    }
    if (!json_is_array(value)) {
        snprintf(err, err_len, "%s: expected a list of %s", where, expected);
        return -1;
    }
    size_t i;
    const json_t *item;
    json_array_foreach(value, i, item) {
        if (!json_is_string(item) || json_string_length(item) == 0 ||
            strlen(json_string_value(item)) != json_string_length(item) ||
            (check != NULL && !check(json_string_value(item)))) {
            snprintf(err, err_len, "%s[%zu]: expected %s", where, i, expected);
            return -1;
        }
        if (list_push(l, json_string_value(item)) != 0) {
            snprintf(err, err_len, "out of memory");
            return -1;
        }
    }
    return 0;
}

/* Milliseconds from seconds (integer) or a duration string ("500ms", "30s", "15m", "1h"). -1 on error. */
static int64_t parse_duration_ms(const json_t *value) {
    if (json_is_integer(value)) {
        json_int_t s = json_integer_value(value);
        return s >= 0 && s < 100000000 ? (int64_t)s * 1000 : -1;
    }
    if (!json_is_string(value)) {
        return -1;
    }
    const char *s = json_string_value(value);
    if (*s < '0' || *s > '9') {
        return -1;
    }
    char *end = NULL;
    long long n = strtoll(s, &end, 10);
    if (n < 0 || n > 100000000LL) {
        return -1;
    }
    if (*end == '\0' || strcmp(end, "s") == 0) {
        return n * 1000;
    }
    if (strcmp(end, "ms") == 0) {
        return n;
    }
    if (strcmp(end, "m") == 0) {
        return n * 60000;
    }
    if (strcmp(end, "h") == 0) {
        return n * 3600000;
    }
    return -1;
}

static int64_t monotonic_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void count(mcpgate_metric *metric, const mcpgate_host_api *api, const char *label) {
    mcpgate_str value = mcpgate_str_from_cstr(label);
    api->metric_record(metric, &value, 1, 1);
}

/* ------------------------------------------------------------------------------------------------ */
/* keys: loading, swapping, the refresher thread */

typedef struct skip_context {
    const jwt_config *c;
    const char *source;
} skip_context;

static void log_skipped(void *ctx, size_t index, const char *kid, const char *reason) {
    const skip_context *s = ctx;
    MCPGATE_LOGF(s->c->api, s->c->inst, MCPGATE_LOG_WARN, "%s: key %zu (kid %s) skipped: %s", s->source, index,
                 kid != NULL ? kid : "none", reason);
}

static char *read_file(const char *path, size_t max, size_t *len_out, char *err, size_t err_len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, err_len, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(max + 1);
    size_t n = buf != NULL ? fread(buf, 1, max + 1, f) : 0;
    int failed = buf == NULL || ferror(f);
    fclose(f);
    if (failed || n > max) {
        snprintf(err, err_len, failed ? "cannot read %s" : "%s is larger than 1 MiB", path);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len_out = n;
    return buf;
}

/* Loads the configured JWKS once (file or URL). Blocking: config_new and the refresher only. */
static jwt_keyset *load_keys(const jwt_config *c, char *err, size_t err_len) {
    char *text = NULL;
    size_t len = 0;
    char where[MAX_URL + 16];
    if (c->source == SOURCE_FILE) {
        text = read_file(c->path, MAX_JWKS_BYTES, &len, err, err_len);
        snprintf(where, sizeof where, "jwks file %s", c->path);
    } else {
        char fetch_err[384];
        if (jwt_http_get(c->url, c->ca_file, c->timeout_ms, c->wake[0], &c->stop, MAX_JWKS_BYTES, &text, &len,
                         fetch_err, sizeof fetch_err) != 0) {
            snprintf(err, err_len, "GET %.200s: %.250s", c->url, fetch_err);
            text = NULL;
        }
        snprintf(where, sizeof where, "jwks %s", c->url);
    }
    if (text == NULL) {
        return NULL;
    }
    skip_context skip = {c, where};
    char parse_err[256];
    jwt_keyset *set = jwt_keyset_from_text(text, len, log_skipped, &skip, parse_err, sizeof parse_err);
    if (set == NULL) {
        snprintf(err, err_len, "%.200s: %.250s", where, parse_err);
    }
    free(text);
    return set;
}

static void swap_keys(jwt_config *c, jwt_keyset *fresh) {
    pthread_mutex_lock(&c->keys_lock);
    jwt_keyset *old = c->keys;
    c->keys = fresh;
    pthread_mutex_unlock(&c->keys_lock);
    jwt_keyset_release(old);
    c->api->metric_record(c->key_count, NULL, 0, fresh != NULL ? (double)fresh->count : 0);
}

/* The current keys with a reference the caller releases (NULL if none were ever loaded). The lock is
 * held only to copy a pointer and bump a count: hooks never wait on I/O. */
static jwt_keyset *acquire_keys(jwt_config *c) {
    pthread_mutex_lock(&c->keys_lock);
    jwt_keyset *set = c->keys;
    if (set != NULL) {
        jwt_keyset_retain(set);
    }
    pthread_mutex_unlock(&c->keys_lock);
    return set;
}

/* Asks the refresher for an early fetch (an unknown kid may mean the issuer rotated keys). Never
 * blocks: the pipe is non-blocking and a full pipe already holds a request. */
static void request_refresh(jwt_config *c) {
    if (c->thread_started) {
        ssize_t ignored = write(c->wake[1], "r", 1);
        (void)ignored;
    }
}

/* 1 if woken through the pipe, 0 on timeout. */
static int sleep_until_woken(jwt_config *c, int64_t timeout_ms) {
    struct pollfd pfd = {.fd = c->wake[0], .events = POLLIN};
    int n = poll(&pfd, 1, timeout_ms > 0x7fffffff ? 0x7fffffff : (int)(timeout_ms < 0 ? 0 : timeout_ms));
    if (n > 0 && (pfd.revents & POLLIN)) {
        char drain[64];
        while (read(c->wake[0], drain, sizeof drain) > 0) {
        }
        return 1;
    }
    return 0;
}

static void *refresher_main(void *arg) {
    jwt_config *c = arg;
    const int64_t max_backoff = c->refresh_ms < 300000 ? (c->refresh_ms < 100 ? 100 : c->refresh_ms) : 300000;
    const int64_t first_backoff = c->min_refresh_ms < 100 ? 100 : c->min_refresh_ms < 1000 ? c->min_refresh_ms : 1000;
    int64_t backoff = first_backoff;
    int64_t last_fetch = monotonic_ms();
    pthread_mutex_lock(&c->keys_lock);
    int have_keys = c->keys != NULL;
    pthread_mutex_unlock(&c->keys_lock);
    int64_t next_at = last_fetch + (have_keys ? c->refresh_ms : backoff);
    while (!atomic_load(&c->stop)) {
        int woken = sleep_until_woken(c, next_at - monotonic_ms());
        if (atomic_load(&c->stop)) {
            break;
        }
        int64_t now = monotonic_ms();
        if (woken && now - last_fetch < c->min_refresh_ms) {
            continue; /* an unknown kid asked too soon after the last fetch */
        }
        if (!woken && now < next_at) {
            continue;
        }
        char err[512];
        jwt_keyset *fresh = load_keys(c, err, sizeof err);
        if (atomic_load(&c->stop)) {
            jwt_keyset_release(fresh);
            break;
        }
        last_fetch = monotonic_ms();
        if (fresh != NULL) {
            swap_keys(c, fresh);
            count(c->refreshes, c->api, "ok");
            MCPGATE_LOGF(c->api, c->inst, MCPGATE_LOG_DEBUG, "jwks refreshed: %zu keys", fresh->count);
            backoff = first_backoff;
            next_at = last_fetch + c->refresh_ms;
        } else {
            count(c->refreshes, c->api, "error");
            MCPGATE_LOGF(c->api, c->inst, MCPGATE_LOG_ERROR, "jwks refresh failed, keeping the last good keys: %s",
                         err);
            next_at = last_fetch + backoff;
            backoff = backoff * 2 > max_backoff ? max_backoff : backoff * 2;
        }
    }
    ERR_clear_error();
    return NULL;
}

static int start_refresher(jwt_config *c, char *err, size_t err_len) {
    if (pipe(c->wake) != 0) {
        snprintf(err, err_len, "pipe: %s", strerror(errno));
        c->wake[0] = c->wake[1] = -1;
        return -1;
    }
    for (int i = 0; i < 2; i++) {
        fcntl(c->wake[i], F_SETFL, fcntl(c->wake[i], F_GETFL) | O_NONBLOCK);
        fcntl(c->wake[i], F_SETFD, FD_CLOEXEC);
    }
    return 0;
}

static int spawn_refresher(jwt_config *c, char *err, size_t err_len) {
    /* The thread takes no signals (SIGPIPE from a TLS write, SIGTERM meant for the gateway...). */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&c->thread, NULL, refresher_main, c);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        snprintf(err, err_len, "cannot start the JWKS refresher thread: %s", strerror(rc));
        return -1;
    }
    c->thread_started = 1;
    return 0;
}

/* ------------------------------------------------------------------------------------------------ */
/* config */

static void config_free(jwt_config *c) {
    if (c == NULL) {
        return;
    }
    if (c->thread_started) {
        atomic_store(&c->stop, 1);
        ssize_t ignored = write(c->wake[1], "s", 1);
        (void)ignored;
        pthread_join(c->thread, NULL);
    }
    if (c->wake[0] >= 0) {
        close(c->wake[0]);
        close(c->wake[1]);
    }
    jwt_keyset_release(c->keys);
    pthread_mutex_destroy(&c->keys_lock);
    list_free(&c->issuers);
    list_free(&c->audiences);
    list_free(&c->required_claims);
    list_free(&c->required_scopes);
    free(c->required_scopes_joined);
    for (size_t i = 0; i < c->tool_scope_count; i++) {
        free(c->tool_scopes[i].pattern);
        list_free(&c->tool_scopes[i].scopes);
    }
    free(c->tool_scopes);
    free(c->principal_claim);
    json_decref(c->prm);
    free(c->resource);
    free(c->prm_url);
    free(c->prm_body);
    free(c->path);
    free(c->url);
    free(c->ca_file);
    free(c);
}

static const char *const config_keys[] = {"mode",           "issuer",         "audiences",     "jwks",
                                          "leeway",         "algorithms",     "principalClaim", "requiredScopes",
                                          "toolScopes",     "resourceMetadata", "jwtValidationOptions"};

static int check_keys(const json_t *object, const char *const *keys, size_t n, const char *where, char *err,
                      size_t err_len) {
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)object, key, value) {
        int known = 0;
        for (size_t i = 0; i < n; i++) {
            known |= strcmp(key, keys[i]) == 0;
        }
        if (!known) {
            char list[512] = "";
            for (size_t i = 0; i < n; i++) {
                if (strlen(list) + strlen(keys[i]) + 3 < sizeof list) {
                    strcat(list, i > 0 ? ", " : "");
                    strcat(list, keys[i]);
                }
            }
            snprintf(err, err_len, "%s%s: unknown setting (expected one of %s)", where, key, list);
            return -1;
        }
    }
    return 0;
}

/* jwks: "<JSON text>" | {keys: [...]} | {inline: ...} | {file: path[, refreshInterval]} |
 *       {url: https://...[, refreshInterval, minRefreshInterval, timeout, caFile]} */
static int read_jwks(jwt_config *c, const json_t *jwks, char *err, size_t err_len) {
    const json_t *inline_doc = NULL;
    const char *inline_text = NULL;
    if (jwks == NULL) {
        snprintf(err, err_len, "jwks: required ({file: ...}, {url: ...} or an inline JWKS)");
        return -1;
    }
    if (json_is_string(jwks)) {
        inline_text = json_string_value(jwks);
    } else if (json_is_object(jwks) && json_object_get(jwks, "keys") != NULL) {
        inline_doc = jwks;
    } else if (json_is_object(jwks)) {
        static const char *const keys[] = {"file", "url", "inline", "refreshInterval", "minRefreshInterval",
                                           "timeout", "caFile"};
        if (check_keys(jwks, keys, sizeof keys / sizeof keys[0], "jwks.", err, err_len) != 0) {
            return -1;
        }
        const json_t *file = json_object_get(jwks, "file");
        const json_t *url = json_object_get(jwks, "url");
        const json_t *in = json_object_get(jwks, "inline");
        if ((file != NULL) + (url != NULL) + (in != NULL) != 1) {
            snprintf(err, err_len, "jwks: expected exactly one of file, url or inline");
            return -1;
        }
        if (in != NULL) {
            if (json_is_string(in)) {
                inline_text = json_string_value(in);
            } else {
                inline_doc = in;
            }
        } else if (file != NULL) {
            if (!json_is_string(file) || json_string_length(file) == 0) {
                snprintf(err, err_len, "jwks.file: expected a path");
                return -1;
            }
            c->source = SOURCE_FILE;
            c->path = strdup(json_string_value(file));
        } else {
            const char *u = json_string_value(url);
            if (u == NULL || (strncasecmp(u, "https://", 8) != 0 && strncasecmp(u, "http://", 7) != 0) ||
                strlen(u) > MAX_URL) {
                snprintf(err, err_len, "jwks.url: expected an https:// (or http://) URL");
                return -1;
            }
            c->source = SOURCE_URL;
            c->url = strdup(u);
            c->refresh_ms = 15 * 60000; /* agentgateway's JWKS TTL */
        }
        const json_t *v;
        if ((v = json_object_get(jwks, "refreshInterval")) != NULL) {
            c->refresh_ms = parse_duration_ms(v);
            if (c->refresh_ms < 100 || c->source == SOURCE_INLINE) {
                snprintf(err, err_len, c->source == SOURCE_INLINE ? "jwks.refreshInterval: only for file or url"
                                                                  : "jwks.refreshInterval: expected a duration of at "
                                                                    "least 100ms (\"15m\")");
                return -1;
            }
        }
        c->min_refresh_ms = c->refresh_ms < 30000 ? c->refresh_ms : 30000;
        if ((v = json_object_get(jwks, "minRefreshInterval")) != NULL) {
            c->min_refresh_ms = parse_duration_ms(v);
            if (c->min_refresh_ms < 0) {
                snprintf(err, err_len, "jwks.minRefreshInterval: expected a duration (\"30s\")");
                return -1;
            }
        }
        c->timeout_ms = 5000;
        if ((v = json_object_get(jwks, "timeout")) != NULL) {
            c->timeout_ms = parse_duration_ms(v);
            if (c->timeout_ms <= 0) {
                snprintf(err, err_len, "jwks.timeout: expected a duration (\"5s\")");
                return -1;
            }
        }
        if ((v = json_object_get(jwks, "caFile")) != NULL) {
            if (!json_is_string(v) || c->source != SOURCE_URL) {
                snprintf(err, err_len, "jwks.caFile: expected a PEM file path (with url)");
                return -1;
            }
            c->ca_file = strdup(json_string_value(v));
        }
        if ((c->source == SOURCE_FILE && c->path == NULL) || (c->source == SOURCE_URL && c->url == NULL) ||
            (json_object_get(jwks, "caFile") != NULL && c->ca_file == NULL)) {
            snprintf(err, err_len, "out of memory");
            return -1;
        }
    } else {
        snprintf(err, err_len, "jwks: expected {file: path}, {url: https://...} or an inline JWKS");
        return -1;
    }

    char load_err[512];
    skip_context skip = {c, "inline jwks"};
    if (inline_doc != NULL) {
        c->keys = jwt_keyset_from_json(inline_doc, log_skipped, &skip, load_err, sizeof load_err);
    } else if (inline_text != NULL) {
        c->keys = jwt_keyset_from_text(inline_text, strlen(inline_text), log_skipped, &skip, load_err,
                                       sizeof load_err);
    } else {
        if ((c->refresh_ms > 0 && start_refresher(c, err, err_len) != 0)) {
            return -1;
        }
        c->keys = load_keys(c, load_err, sizeof load_err);
        if (c->keys == NULL && c->source == SOURCE_URL) {
            /* The issuer may be down right now: start anyway (requests get 503) and keep trying. */
            count(c->refreshes, c->api, "error");
            MCPGATE_LOGF(c->api, c->inst, MCPGATE_LOG_ERROR, "jwks: first fetch failed, retrying in the background: %s",
                         load_err);
            return 0;
        }
        if (c->keys != NULL) {
            count(c->refreshes, c->api, "ok");
        }
    }
    if (c->keys == NULL) {
        snprintf(err, err_len, "jwks: %.400s", load_err);
        return -1;
    }
    return 0;
}

/* "resourceDocumentation" -> "resource_documentation" (RFC 9728 member names). */
static void camel_to_snake(const char *in, char *out, size_t cap) {
    size_t at = 0;
    for (; *in != '\0' && at + 2 < cap; in++) {
        if (*in >= 'A' && *in <= 'Z') {
            out[at++] = '_';
            out[at++] = (char)(*in - 'A' + 'a');
        } else {
            out[at++] = *in;
        }
    }
    out[at] = '\0';
}

/* scheme://authority of an absolute http(s) URL, and its path (without a trailing '/'). */
static int split_url(const char *url, size_t *origin_len, const char **path) {
    const char *rest;
    if (strncasecmp(url, "https://", 8) == 0) {
        rest = url + 8;
    } else if (strncasecmp(url, "http://", 7) == 0) {
        rest = url + 7;
    } else {
        return -1;
    }
    size_t authority = strcspn(rest, "/?#");
    if (authority == 0 || strchr(url, '#') != NULL || strchr(url, '?') != NULL) {
        return -1;
    }
    for (const char *p = url; *p != '\0'; p++) {
        if ((unsigned char)*p <= 0x20 || *p == '"' || *p == '\\' || (unsigned char)*p >= 0x7f) {
            return -1;
        }
    }
    *origin_len = (size_t)(rest + authority - url);
    *path = rest + authority;
    return 0;
}

static int read_resource_metadata(jwt_config *c, const json_t *rm, char *err, size_t err_len) {
    if (rm != NULL && !json_is_object(rm)) {
        snprintf(err, err_len, "resourceMetadata: expected a mapping of RFC 9728 fields");
        return -1;
    }
    c->prm = json_object();
    if (c->prm == NULL) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)rm, key, value) {
        if (strcmp(key, "resource") == 0) {
            size_t origin_len;
            const char *path;
            if (!json_is_string(value) || split_url(json_string_value(value), &origin_len, &path) != 0) {
                snprintf(err, err_len, "resourceMetadata.resource: expected the MCP endpoint's absolute URL "
                                       "(https://mcp.example.com/mcp) without query or fragment");
                return -1;
            }
            c->resource = strdup(json_string_value(value));
            size_t path_len = strlen(path);
            while (path_len > 0 && path[path_len - 1] == '/') {
                path_len--;
            }
            size_t n = origin_len + strlen(WELL_KNOWN_PRM) + path_len + 1;
            c->prm_url = malloc(n);
            if (c->resource == NULL || c->prm_url == NULL) {
                snprintf(err, err_len, "out of memory");
                return -1;
            }
            snprintf(c->prm_url, n, "%.*s%s%.*s", (int)origin_len, c->resource, WELL_KNOWN_PRM, (int)path_len, path);
            continue;
        }
        char name[128];
        camel_to_snake(key, name, sizeof name);
        json_object_set_new(c->prm, name, json_deep_copy(value));
    }
    if (json_object_get(c->prm, "authorization_servers") == NULL && c->issuers.count > 0) {
        json_t *servers = json_array();
        for (size_t i = 0; i < c->issuers.count; i++) {
            json_array_append_new(servers, json_string(c->issuers.items[i]));
        }
        json_object_set_new(c->prm, "authorization_servers", servers);
    }
    if (json_object_get(c->prm, "authorization_servers") == NULL) {
        MCPGATE_LOGF(c->api, c->inst, MCPGATE_LOG_WARN,
                     "protected-resource metadata has no authorization_servers (set issuer or "
                     "resourceMetadata.authorizationServers): MCP clients cannot find where to get a token");
    }
    if (json_object_get(c->prm, "scopes_supported") == NULL &&
        (c->required_scopes.count > 0 || c->tool_scope_count > 0)) {
        json_t *scopes = json_array();
        string_list seen = {0};
        for (size_t i = 0; i < c->required_scopes.count; i++) {
            if (!list_has(&seen, c->required_scopes.items[i]) && list_push(&seen, c->required_scopes.items[i]) == 0) {
                json_array_append_new(scopes, json_string(c->required_scopes.items[i]));
            }
        }
        for (size_t t = 0; t < c->tool_scope_count; t++) {
            for (size_t i = 0; i < c->tool_scopes[t].scopes.count; i++) {
                const char *s = c->tool_scopes[t].scopes.items[i];
                if (!list_has(&seen, s) && list_push(&seen, s) == 0) {
                    json_array_append_new(scopes, json_string(s));
                }
            }
        }
        list_free(&seen);
        json_object_set_new(c->prm, "scopes_supported", scopes);
    }
    if (json_object_get(c->prm, "bearer_methods_supported") == NULL) {
        json_object_set_new(c->prm, "bearer_methods_supported", json_pack("[s]", "header"));
    }
    if (c->resource != NULL) {
        json_t *doc = json_pack("{s:s}", "resource", c->resource);
        json_object_update(doc, c->prm);
        c->prm_body = json_dumps(doc, JSON_COMPACT);
        json_decref(doc);
        if (c->prm_body == NULL) {
            snprintf(err, err_len, "out of memory");
            return -1;
        }
    }
    return 0;
}

static int read_tool_scopes(jwt_config *c, const json_t *ts, char *err, size_t err_len) {
    if (ts == NULL) {
        return 0;
    }
    if (!json_is_object(ts)) {
        snprintf(err, err_len, "toolScopes: expected a mapping of tool name (or \"prefix*\") to scopes");
        return -1;
    }
    c->tool_scopes = calloc(json_object_size(ts) + 1, sizeof *c->tool_scopes);
    if (c->tool_scopes == NULL) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)ts, key, value) {
        tool_scope *t = &c->tool_scopes[c->tool_scope_count++];
        t->pattern = strdup(key);
        char where[160];
        snprintf(where, sizeof where, "toolScopes.%.100s", key);
        if (t->pattern == NULL ||
            read_strings(value, where, &t->scopes, scope_token, "scope names", err, err_len) != 0) {
            if (t->pattern == NULL) {
                snprintf(err, err_len, "out of memory");
            }
            return -1;
        }
    }
    return 0;
}

static mcpgate_status jwt_init(const mcpgate_host_api *api, void **plugin_out, char *err, size_t err_len) {
    (void)err;
    (void)err_len;
    *plugin_out = (void *)api; /* the plugin's only state: handed to every config */
    return MCPGATE_OK;
}

static mcpgate_status jwt_config_new(void *plugin, mcpgate_instance *inst, const json_t *config, mcpgate_str raw,
                                     void **config_out, char *err, size_t err_len) {
    (void)raw;
    const mcpgate_host_api *api = plugin;
    if (!json_is_object(config)) {
        snprintf(err, err_len, "jwtAuth: expected a mapping of settings");
        return MCPGATE_ERR_BAD_ARGUMENT;
    }
    if (json_object_get(config, "providers") != NULL) {
        snprintf(err, err_len, "providers: several issuers on one route are not supported yet; give jwtAuth one "
                               "issuer, audiences and jwks");
        return MCPGATE_ERR_BAD_ARGUMENT;
    }
    if (check_keys(config, config_keys, sizeof config_keys / sizeof config_keys[0], "", err, err_len) != 0) {
        return MCPGATE_ERR_BAD_ARGUMENT;
    }
    jwt_config *c = calloc(1, sizeof *c);
    if (c == NULL) {
        snprintf(err, err_len, "out of memory");
        return MCPGATE_ERR_INTERNAL;
    }
    c->api = api;
    c->inst = inst;
    c->wake[0] = c->wake[1] = -1;
    c->leeway_s = 60;
    c->allowed_algs = JWT_ALG_ALL;
    atomic_init(&c->stop, 0);
    pthread_mutex_init(&c->keys_lock, NULL);
    int oom = 0;

    static const char *const result_label[] = {"result"};
    if (api->metric_define(inst, MCPGATE_METRIC_COUNTER, "jwt_requests_total",
                           "requests by authentication result (ok, missing, invalid, insufficient_scope, unavailable, "
                           "anonymous)",
                           result_label, 1, NULL, 0, &c->requests) != MCPGATE_OK ||
        api->metric_define(inst, MCPGATE_METRIC_COUNTER, "jwt_jwks_refreshes_total",
                           "JWKS loads from a file or URL by result (ok, error)", result_label, 1, NULL, 0,
                           &c->refreshes) != MCPGATE_OK ||
        api->metric_define(inst, MCPGATE_METRIC_GAUGE, "jwt_jwks_keys", "usable keys in the current JWKS", NULL, 0,
                           NULL, 0, &c->key_count) != MCPGATE_OK) {
        snprintf(err, err_len, "cannot define the JWT metrics");
        goto fail;
    }

    const json_t *mode = json_object_get(config, "mode");
    if (mode != NULL) {
        const char *m = json_string_value(mode);
        if (m != NULL && strcmp(m, "strict") == 0) {
            c->mode = MODE_STRICT;
        } else if (m != NULL && strcmp(m, "optional") == 0) {
            c->mode = MODE_OPTIONAL;
        } else if (m != NULL && strcmp(m, "permissive") == 0) {
            c->mode = MODE_PERMISSIVE;
        } else {
            snprintf(err, err_len, "mode: expected strict, optional or permissive");
            goto fail;
        }
    }
    if (read_strings(json_object_get(config, "issuer"), "issuer", &c->issuers, NULL, "issuer URLs", err, err_len) !=
            0 ||
        read_strings(json_object_get(config, "audiences"), "audiences", &c->audiences, NULL, "audience strings", err,
                     err_len) != 0 ||
        read_strings(json_object_get(config, "requiredScopes"), "requiredScopes", &c->required_scopes, scope_token,
                     "scope names", err, err_len) != 0 ||
        read_tool_scopes(c, json_object_get(config, "toolScopes"), err, err_len) != 0) {
        goto fail;
    }
    if (c->audiences.count == 0) {
        MCPGATE_LOGF(api, inst, MCPGATE_LOG_WARN,
                     "no audiences configured: tokens issued for any resource are accepted (MCP requires checking "
                     "that tokens were issued for this server)");
    }
    const json_t *options = json_object_get(config, "jwtValidationOptions");
    if (options != NULL) {
        static const char *const keys[] = {"requiredClaims"};
        if (!json_is_object(options) ||
            check_keys(options, keys, 1, "jwtValidationOptions.", err, err_len) != 0) {
            if (!json_is_object(options)) {
                snprintf(err, err_len, "jwtValidationOptions: expected a mapping");
            }
            goto fail;
        }
    }
    const json_t *required = json_object_get(options, "requiredClaims");
    if (required != NULL) {
        if (read_strings(required, "jwtValidationOptions.requiredClaims", &c->required_claims, NULL, "claim names",
                         err, err_len) != 0) {
            goto fail;
        }
    } else if (list_push(&c->required_claims, "exp") != 0) {
        oom = 1;
    }
    const json_t *leeway = json_object_get(config, "leeway");
    if (leeway != NULL) {
        int64_t ms = parse_duration_ms(leeway);
        if (ms < 0 || ms > 86400000) {
            snprintf(err, err_len, "leeway: expected seconds or a duration up to 24h (\"60s\")");
            goto fail;
        }
        c->leeway_s = ms / 1000;
    }
    const json_t *algorithms = json_object_get(config, "algorithms");
    if (algorithms != NULL) {
        string_list names = {0};
        int bad = read_strings(algorithms, "algorithms", &names, NULL, "algorithm names", err, err_len);
        c->allowed_algs = 0;
        for (size_t i = 0; bad == 0 && i < names.count; i++) {
            int a = jwt_alg_from_name(names.items[i], strlen(names.items[i]));
            if (a < 0) {
                snprintf(err, err_len,
                         "algorithms[%zu]: expected HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, "
                         "ES256, ES384, ES512, EdDSA, Ed25519 or Ed448 (never none)",
                         i);
                bad = -1;
            } else {
                c->allowed_algs |= JWT_ALG_BIT(a);
            }
        }
        list_free(&names);
        if (bad != 0 || c->allowed_algs == 0) {
            if (bad == 0) {
                snprintf(err, err_len, "algorithms: expected at least one algorithm");
            }
            goto fail;
        }
    }
    const json_t *claim = json_object_get(config, "principalClaim");
    if (claim != NULL && (!json_is_string(claim) || json_string_length(claim) == 0)) {
        snprintf(err, err_len, "principalClaim: expected a claim name (default sub)");
        goto fail;
    }
    c->principal_claim = strdup(claim != NULL ? json_string_value(claim) : "sub");
    c->required_scopes_joined = list_join(&c->required_scopes, &oom);
    if (c->principal_claim == NULL || oom) {
        snprintf(err, err_len, "out of memory");
        goto fail;
    }
    if (read_resource_metadata(c, json_object_get(config, "resourceMetadata"), err, err_len) != 0 ||
        read_jwks(c, json_object_get(config, "jwks"), err, err_len) != 0) {
        goto fail;
    }
    if (c->keys != NULL) {
        api->metric_record(c->key_count, NULL, 0, (double)c->keys->count);
    }
    if (c->wake[0] >= 0 && spawn_refresher(c, err, err_len) != 0) {
        goto fail;
    }
    MCPGATE_LOGF(api, inst, MCPGATE_LOG_INFO, "jwtAuth: %s, %zu keys from %s%s, issuer %s, %zu audiences",
                 c->mode == MODE_STRICT ? "strict" : c->mode == MODE_OPTIONAL ? "optional" : "permissive",
                 c->keys != NULL ? c->keys->count : 0,
                 c->source == SOURCE_URL ? c->url : c->source == SOURCE_FILE ? c->path : "inline JWKS",
                 c->refresh_ms > 0 ? " (refreshed in the background)" : "",
                 c->issuers.count > 0 ? c->issuers.items[0] : "(any)", c->audiences.count);
    *config_out = c;
    return MCPGATE_OK;

fail:
    config_free(c);
    return MCPGATE_ERR_BAD_ARGUMENT;
}

static void jwt_config_destroy(void *config) { config_free(config); }

static mcpgate_status jwt_request_new(void *config, mcpgate_request *req, void **state_out) {
    (void)config;
    (void)req;
    jwt_request *r = calloc(1, sizeof *r);
    if (r == NULL) {
        return MCPGATE_ERR_INTERNAL;
    }
    *state_out = r;
    return MCPGATE_OK;
}

static void jwt_request_destroy(void *config, void *state) {
    (void)config;
    jwt_request *r = state;
    if (r != NULL) {
        free(r->scopes);
        free(r->prm_url);
        free(r->body);
    }
    free(r);
}

/* ------------------------------------------------------------------------------------------------ */
/* the request path */

/* "/.well-known/oauth-protected-resource[/<path>]" (query ignored): 1 and *suffix ("" or "/mcp"). */
static int is_metadata_path(mcpgate_str path, mcpgate_str *suffix) {
    size_t len = 0;
    while (len < path.len && path.ptr[len] != '?') {
        len++;
    }
    size_t n = strlen(WELL_KNOWN_PRM);
    if (len < n || memcmp(path.ptr, WELL_KNOWN_PRM, n) != 0 || (len > n && path.ptr[n] != '/')) {
        return 0;
    }
    suffix->ptr = path.ptr + n;
    suffix->len = len - n;
    while (suffix->len > 0 && suffix->ptr[suffix->len - 1] == '/') {
        suffix->len--;
    }
    return 1;
}

/* scheme://host from X-Forwarded-Proto (http or https, default http) and Host. 0 ok. */
static int request_origin(const jwt_config *c, mcpgate_request *req, char *out, size_t cap) {
    mcpgate_str host, proto;
    if (c->api->header_get(req, MCPGATE_HEADERS_REQUEST, "Host", 0, &host) != MCPGATE_OK || host.len == 0 ||
        host.len > 255) {
        return -1;
    }
    for (size_t i = 0; i < host.len; i++) {
        char ch = host.ptr[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
              ch == '-' || ch == ':' || ch == '[' || ch == ']' || ch == '_')) {
            return -1;
        }
    }
    const char *scheme = "http";
    if (c->api->header_get(req, MCPGATE_HEADERS_REQUEST, "X-Forwarded-Proto", 0, &proto) == MCPGATE_OK &&
        mcpgate_str_equals(proto, "https")) {
        scheme = "https";
    }
    int n = snprintf(out, cap, "%s://%.*s", scheme, (int)host.len, host.ptr);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* A path safe to put in a URL inside a quoted string (no quotes, spaces, controls). */
static int plain_path(mcpgate_str p) {
    for (size_t i = 0; i < p.len; i++) {
        unsigned char ch = (unsigned char)p.ptr[i];
        if (ch <= 0x20 || ch >= 0x7f || ch == '"' || ch == '\\') {
            return 0;
        }
    }
    return p.len < MAX_URL;
}

/* The resource_metadata URL for this request: configured, or derived from Host and the path. */
static const char *metadata_url(const jwt_config *c, jwt_request *r, mcpgate_request *req,
                                const mcpgate_http_request *http) {
    if (c->prm_url != NULL) {
        return c->prm_url;
    }
    if (r->prm_url != NULL) {
        return r->prm_url;
    }
    char origin[300];
    mcpgate_str path = http->path;
    size_t len = 0;
    while (len < path.len && path.ptr[len] != '?') {
        len++;
    }
    path.len = len;
    while (path.len > 0 && path.ptr[path.len - 1] == '/') {
        path.len--;
    }
    if (request_origin(c, req, origin, sizeof origin) != 0 || !plain_path(path)) {
        return NULL;
    }
    size_t n = strlen(origin) + strlen(WELL_KNOWN_PRM) + path.len + 1;
    r->prm_url = malloc(n);
    if (r->prm_url != NULL) {
        snprintf(r->prm_url, n, "%s%s%.*s", origin, WELL_KNOWN_PRM, (int)path.len, path.ptr);
    }
    return r->prm_url;
}

/* Queues `WWW-Authenticate: Bearer ...` on the response (RFC 6750 §3, RFC 9728 §5.1). */
static void challenge(const jwt_config *c, mcpgate_request *req, const char *url, const char *error,
                      const char *description, const char *scope) {
    char value[4096];
    size_t at = (size_t)snprintf(value, sizeof value, "Bearer");
    const char *sep = " ";
    if (error != NULL) {
        at += (size_t)snprintf(value + at, sizeof value - at, "%serror=\"%s\"", sep, error);
        sep = ", ";
    }
    if (scope != NULL && at < sizeof value) {
        at += (size_t)snprintf(value + at, sizeof value - at, "%sscope=\"%s\"", sep, scope);
        sep = ", ";
    }
    if (url != NULL && at < sizeof value) {
        at += (size_t)snprintf(value + at, sizeof value - at, "%sresource_metadata=\"%s\"", sep, url);
        sep = ", ";
    }
    if (description != NULL && at < sizeof value) {
        snprintf(value + at, sizeof value - at, "%serror_description=\"%s\"", sep, description);
    }
    c->api->header_edit(req, MCPGATE_HEADERS_RESPONSE, MCPGATE_HEADER_SET, "WWW-Authenticate",
                        mcpgate_str_from_cstr(value));
}

static mcpgate_action reject(const jwt_config *c, jwt_request *r, mcpgate_decision *d, uint32_t status,
                             const char *error, const char *description, const char *result) {
    count(c->requests, c->api, result);
    if (error != NULL) {
        snprintf(r->message, sizeof r->message, "%s: %s", status == 403 ? "Forbidden" : "Unauthorized",
                 description != NULL ? description : error);
        d->data = json_pack("{s:s, s:s}", "error", error, "error_description", description != NULL ? description : "");
    } else {
        snprintf(r->message, sizeof r->message, "Unauthorized: a bearer token is required");
    }
    return mcpgate_reject(d, status, status >= 500 ? -32603 : -32600, r->message);
}

/* GET /.well-known/oauth-protected-resource[/<path>]: the RFC 9728 document. */
static mcpgate_action serve_metadata(const jwt_config *c, jwt_request *r, mcpgate_request *req,
                                     const mcpgate_http_request *http, mcpgate_str suffix, mcpgate_decision *d) {
    c->api->header_edit(req, MCPGATE_HEADERS_RESPONSE, MCPGATE_HEADER_SET, "Access-Control-Allow-Origin",
                        mcpgate_str_from_cstr("*"));
    int head = mcpgate_str_equals(http->method, "HEAD");
    if (!head && !mcpgate_str_equals(http->method, "GET")) {
        c->api->header_edit(req, MCPGATE_HEADERS_RESPONSE, MCPGATE_HEADER_SET, "Allow",
                            mcpgate_str_from_cstr("GET, HEAD, OPTIONS"));
        d->http_status = mcpgate_str_equals(http->method, "OPTIONS") ? 204 : 405;
        return MCPGATE_RESPOND;
    }
    const char *body = c->prm_body;
    if (body == NULL) {
        char origin[300];
        if (request_origin(c, req, origin, sizeof origin) != 0 || !plain_path(suffix)) {
            return mcpgate_reject(d, 400, -32600, "Bad Request: no usable Host header to name the resource");
        }
        char resource[MAX_URL + 300];
        snprintf(resource, sizeof resource, "%s%.*s", origin, (int)suffix.len, suffix.ptr);
        json_t *doc = json_pack("{s:s}", "resource", resource);
        json_object_update(doc, c->prm);
        free(r->body);
        r->body = json_dumps(doc, JSON_COMPACT);
        json_decref(doc);
        if (r->body == NULL) {
            return MCPGATE_ERROR;
        }
        body = r->body;
    }
    c->api->header_edit(req, MCPGATE_HEADERS_RESPONSE, MCPGATE_HEADER_SET, "Cache-Control",
                        mcpgate_str_from_cstr("max-age=300"));
    d->http_status = 200;
    d->content_type = mcpgate_str_from_cstr("application/json");
    d->body = head ? mcpgate_str_from_cstr("") : mcpgate_str_from_cstr(body);
    return MCPGATE_RESPOND;
}

/* The token's scopes ("scope": "a b", or "scp": "a b" / ["a", "b"]) as "a b", or NULL. */
static char *token_scopes(const json_t *payload) {
    const json_t *scope = json_object_get(payload, "scope");
    if (json_is_string(scope)) {
        return strdup(json_string_value(scope));
    }
    const json_t *scp = json_object_get(payload, "scp");
    if (json_is_string(scp)) {
        return strdup(json_string_value(scp));
    }
    if (!json_is_array(scp)) {
        return NULL;
    }
    string_list l = {0};
    size_t i;
    const json_t *s;
    json_array_foreach(scp, i, s) {
        if (json_is_string(s) && strchr(json_string_value(s), ' ') == NULL) {
            list_push(&l, json_string_value(s));
        }
    }
    int oom = 0;
    char *joined = list_join(&l, &oom);
    list_free(&l);
    return joined;
}

static int has_scope(const char *scopes, const char *scope) {
    size_t n = strlen(scope);
    for (const char *p = scopes; p != NULL && *p != '\0';) {
        while (*p == ' ') {
            p++;
        }
        size_t len = strcspn(p, " ");
        if (len == n && memcmp(p, scope, n) == 0) {
            return 1;
        }
        p += len;
    }
    return 0;
}

/* The scopes from `needed` the token lacks; 0 if it has them all. */
static int missing_scopes(const jwt_request *r, const string_list *needed) {
    for (size_t i = 0; i < needed->count; i++) {
        if (!has_scope(r->scopes, needed->items[i])) {
            return 1;
        }
    }
    return 0;
}

static mcpgate_action jwt_on_http_request_headers(void *config, void *state, mcpgate_request *req,
                                                  const mcpgate_http_request *http, mcpgate_decision *decision) {
    jwt_config *c = config;
    jwt_request *r = state;
    const mcpgate_host_api *api = c->api;
    mcpgate_str suffix;
    if (is_metadata_path(http->path, &suffix)) {
        return serve_metadata(c, r, req, http, suffix, decision); /* public, before authentication */
    }
    /* The resource_metadata URL is built only when a challenge needs it (or a later tools/call may). */
    if (c->tool_scope_count > 0) {
        metadata_url(c, r, req, http);
    }

    mcpgate_str authorization, second;
    int present = api->header_get(req, MCPGATE_HEADERS_REQUEST, "Authorization", 0, &authorization) == MCPGATE_OK;
    if (present && api->header_get(req, MCPGATE_HEADERS_REQUEST, "Authorization", 1, &second) == MCPGATE_OK) {
        challenge(c, req, metadata_url(c, r, req, http), "invalid_request", "more than one Authorization header", NULL);
        return reject(c, r, decision, 400, "invalid_request", "more than one Authorization header", "invalid");
    }
    /* RFC 6750 §2.1: "Bearer" (any case), one or more spaces, the token. Another scheme counts as none. */
    const char *token = NULL;
    size_t token_len = 0;
    if (present && authorization.len > 7 && strncasecmp(authorization.ptr, "Bearer ", 7) == 0) {
        token = authorization.ptr + 7;
        token_len = authorization.len - 7;
        while (token_len > 0 && *token == ' ') {
            token++;
            token_len--;
        }
        while (token_len > 0 && token[token_len - 1] == ' ') {
            token_len--;
        }
    }
    if (token == NULL || token_len == 0) {
        if (c->mode != MODE_STRICT) {
            count(c->requests, api, "anonymous");
            return MCPGATE_CONTINUE;
        }
        challenge(c, req, metadata_url(c, r, req, http), NULL, NULL, c->required_scopes_joined);
        return reject(c, r, decision, 401, NULL, NULL, "missing");
    }

    jwt_keyset *keys = acquire_keys(c);
    if (keys == NULL) {
        if (c->mode == MODE_PERMISSIVE) {
            count(c->requests, api, "anonymous");
            return MCPGATE_CONTINUE;
        }
        request_refresh(c);
        count(c->requests, api, "unavailable");
        snprintf(r->message, sizeof r->message, "Service Unavailable: the token signing keys could not be loaded");
        return mcpgate_reject(decision, 503, -32603, r->message);
    }
    jwt_claims_policy policy = {
        .issuers = (const char *const *)c->issuers.items,
        .issuer_count = c->issuers.count,
        .audiences = (const char *const *)c->audiences.items,
        .audience_count = c->audiences.count,
        .required = (const char *const *)c->required_claims.items,
        .required_count = c->required_claims.count,
        .now = api->wall_unix_ns(c->inst) / 1000000000,
        .leeway = c->leeway_s,
    };
    json_t *payload = NULL;
    jwt_status status = jwt_verify(token, token_len, keys, c->allowed_algs, &policy, &payload);
    jwt_keyset_release(keys);
    const json_t *principal = payload != NULL ? json_object_get(payload, c->principal_claim) : NULL;
    const char *description = jwt_status_text(status);
    if (status == JWT_OK && (!json_is_string(principal) || json_string_length(principal) == 0 ||
                             strlen(json_string_value(principal)) != json_string_length(principal))) {
        status = JWT_MISSING_CLAIM;
        description = "the token names no principal (sub)";
    }
    if (status != JWT_OK) {
        json_decref(payload);
        if (status == JWT_UNKNOWN_KID) {
            request_refresh(c);
        }
        MCPGATE_LOGF(api, c->inst, MCPGATE_LOG_DEBUG, "token refused: %s", description);
        if (c->mode == MODE_PERMISSIVE) {
            count(c->requests, api, "anonymous");
            return MCPGATE_CONTINUE;
        }
        challenge(c, req, metadata_url(c, r, req, http), "invalid_token", description, NULL);
        return reject(c, r, decision, 401, "invalid_token", description, "invalid");
    }

    /* Authenticated: attributes for the router (session binding), later filters and the access log. */
    r->authenticated = 1;
    r->scopes = token_scopes(payload);
    if (api->attr_set(req, MCPGATE_ATTR_PRINCIPAL,
                      (mcpgate_str){json_string_value(principal), json_string_length(principal)},
                      MCPGATE_ATTR_READONLY) != MCPGATE_OK) {
        json_decref(payload);
        MCPGATE_LOGF(api, c->inst, MCPGATE_LOG_ERROR, "cannot set %s (set by an earlier filter?)",
                     MCPGATE_ATTR_PRINCIPAL);
        return MCPGATE_ERROR;
    }
    if (r->scopes != NULL) {
        api->attr_set(req, MCPGATE_ATTR_SCOPES, mcpgate_str_from_cstr(r->scopes), MCPGATE_ATTR_READONLY);
    }
    api->attr_set_json_new(req, MCPGATE_ATTR_CLAIMS, payload, MCPGATE_ATTR_READONLY); /* payload handed over */
    if (missing_scopes(r, &c->required_scopes)) {
        challenge(c, req, metadata_url(c, r, req, http), "insufficient_scope", "the token lacks a required scope",
                  c->required_scopes_joined);
        return reject(c, r, decision, 403, "insufficient_scope", "the token lacks a required scope",
                      "insufficient_scope");
    }
    count(c->requests, api, "ok");
    return MCPGATE_CONTINUE;
}

static int tool_matches(const char *pattern, mcpgate_str name) {
    size_t n = strlen(pattern);
    if (n > 0 && pattern[n - 1] == '*') {
        return name.len >= n - 1 && memcmp(pattern, name.ptr, n - 1) == 0;
    }
    return mcpgate_str_equals(name, pattern);
}

/* tools/call: the tool's scopes (every matching toolScopes entry, plus requiredScopes). */
static mcpgate_action jwt_on_rpc_message(void *config, void *state, mcpgate_request *req,
                                         const mcpgate_rpc_message *message, mcpgate_decision *decision) {
    jwt_config *c = config;
    jwt_request *r = state;
    if (c->tool_scope_count == 0 || message->kind != MCPGATE_RPC_REQUEST ||
        message->target_kind != MCPGATE_TARGET_TOOL) {
        return MCPGATE_CONTINUE;
    }
    string_list needed = {0};
    int oom = 0;
    for (size_t i = 0; i < c->required_scopes.count; i++) {
        oom |= list_push(&needed, c->required_scopes.items[i]) != 0;
    }
    for (size_t t = 0; t < c->tool_scope_count; t++) {
        if (!tool_matches(c->tool_scopes[t].pattern, message->target)) {
            continue;
        }
        for (size_t i = 0; i < c->tool_scopes[t].scopes.count; i++) {
            if (!list_has(&needed, c->tool_scopes[t].scopes.items[i])) {
                oom |= list_push(&needed, c->tool_scopes[t].scopes.items[i]) != 0;
            }
        }
    }
    if (oom) {
        list_free(&needed);
        return MCPGATE_ERROR;
    }
    if (needed.count == 0 || (r->authenticated && !missing_scopes(r, &needed))) {
        list_free(&needed);
        return MCPGATE_CONTINUE;
    }
    char *scope = list_join(&needed, &oom);
    list_free(&needed);
    const char *url = c->prm_url != NULL ? c->prm_url : r->prm_url;
    mcpgate_action action;
    if (!r->authenticated) {
        /* optional / permissive mode without a valid token: this tool needs one. */
        challenge(c, req, url, NULL, NULL, scope);
        action = reject(c, r, decision, 401, NULL, NULL, "missing");
    } else {
        char description[128];
        snprintf(description, sizeof description, "tool %.*s needs more scopes",
                 (int)(message->target.len > 64 ? 64 : message->target.len), message->target.ptr);
        for (char *p = description; *p != '\0'; p++) {
            if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f) {
                *p = '?';
            }
        }
        challenge(c, req, url, "insufficient_scope", description, scope);
        action = reject(c, r, decision, 403, "insufficient_scope", description, "insufficient_scope");
    }
    free(scope);
    return action;
}

static const mcpgate_plugin jwt_descriptor = {
    MCPGATE_PLUGIN_HEADER,
    .name = "jwt",
    .version = "1.0.0",
    .description = "JWT bearer authentication, OAuth protected-resource metadata, scopes per tool",
    .init = jwt_init,
    .config_new = jwt_config_new,
    .config_destroy = jwt_config_destroy,
    .request_new = jwt_request_new,
    .request_destroy = jwt_request_destroy,
    .on_http_request_headers = jwt_on_http_request_headers,
    .on_rpc_message = jwt_on_rpc_message,
};

MCPGATE_DEFINE_PLUGIN(jwt_descriptor)
