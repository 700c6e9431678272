/*
 * cors -- the bundled mcpgate CORS filter (`policies.cors`).
 *
 * Answers CORS preflights (OPTIONS + Origin + Access-Control-Request-Method) before any
 * authentication filter runs, and adds Access-Control-* headers to every other response for an
 * allowed Origin: upstream responses, errors the gateway makes and rejections of later filters
 * (401 from jwtAuth, 429 from a rate limit...), so a browser can read them. Follows the Fetch
 * standard: `*` is never sent together with credentials (the origin is echoed with `Vary: Origin`),
 * and `allowHeaders: ["*"]` echoes Access-Control-Request-Headers (Authorization is not covered by a
 * literal `*`, and the 2026-07-28 `Mcp-Param-*` header names vary per tool).
 *
 * Config: see README.md. Built only against mcpgate/filter.h and jansson.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcpgate/filter.h"

#define CORS_MAX_ORIGIN 1024
#define CORS_MAX_REQUEST_HEADERS 8192

/* What the headers a browser may send default to when `allowHeaders` is absent: what MCP clients send
 * (reference: MCP transports, both eras). A trailing `*` is a prefix pattern. */
static const char *const default_allow_headers[] = {
    "Accept",       "Authorization", "Content-Type", "Last-Event-ID", "MCP-Protocol-Version",
    "Mcp-Session-Id", "Mcp-Method",  "Mcp-Name",     "Mcp-Param-*",
};
static const char *const default_allow_methods[] = {"GET", "POST", "DELETE", "OPTIONS"};
/* Response headers a browser may read when `exposeHeaders` is absent (and what `*` means with
 * credentials, where a literal `*` does not work). */
static const char *const default_expose_headers[] = {"Mcp-Session-Id", "MCP-Protocol-Version", "WWW-Authenticate",
                                                     "Retry-After"};

typedef struct string_list {
    char **items;
    size_t count;
} string_list;

/* The instance: immutable after config_new, read from every event loop. */
typedef struct cors_config {
    const mcpgate_host_api *api;
    mcpgate_instance *inst;
    int any_origin;
    string_list origins; /* lowercase, no trailing slash; may hold one subdomain wildcard after the scheme */
    int allow_credentials;
    int any_header;
    string_list headers;     /* allowed request header names / prefix patterns ("Mcp-Param-*") */
    int header_patterns;     /* 1 if some entry of `headers` ends in '*' */
    char *headers_joined;    /* "A, B, C" (patterns left out), or NULL */
    int any_method;
    char *methods_joined;    /* "GET, POST", or NULL */
    char *expose_joined;     /* "Mcp-Session-Id, ...", or NULL for none */
    long long max_age;       /* seconds, -1: no Access-Control-Max-Age */
    char max_age_text[24];
    uint32_t denied_status;  /* status of a preflight from a disallowed origin */
    mcpgate_metric *preflights;
} cors_config;

/* Per request: the Origin verdict, and the echoed request headers of a preflight (they must
 * outlive the hook, so they cannot live on its stack). */
typedef struct cors_request {
    int evaluated;
    int origin_present;
    int allowed;
    int preflight;
    char origin[CORS_MAX_ORIGIN + 1];
    char *echo_headers;
} cors_request;

/* ------------------------------------------------------------------------------------------------ */

static char *copy_bytes(const char *s, size_t n) {
    char *copy = malloc(n + 1);
    if (copy != NULL) {
        memcpy(copy, s, n);
        copy[n] = '\0';
    }
    return copy;
}

static char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

static int equals_nocase(const char *a, size_t a_len, const char *b, size_t b_len) {
    if (a_len != b_len) {
        return 0;
    }
    for (size_t i = 0; i < a_len; i++) {
        if (lower(a[i]) != lower(b[i])) {
            return 0;
        }
    }
    return 1;
}

/* RFC 9110 token characters: what a header name or a method may be made of. */
static int is_tchar(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
        return 1;
    }
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int is_token(const char *s, size_t n) {
    if (n == 0) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (!is_tchar(s[i])) {
            return 0;
        }
    }
    return 1;
}

static void list_free(string_list *l) {
    for (size_t i = 0; i < l->count; i++) {
        free(l->items[i]);
    }
    free(l->items);
    l->items = NULL;
    l->count = 0;
}

static int list_push(string_list *l, const char *s, size_t n) {
    char **grown = realloc(l->items, (l->count + 1) * sizeof *grown);
    if (grown == NULL) {
        return -1;
    }
    l->items = grown;
    l->items[l->count] = copy_bytes(s, n);
    if (l->items[l->count] == NULL) {
        return -1;
    }
    l->count++;
    return 0;
}

/* "A, B, C" of the entries that are not patterns (NULL when none, or on OOM: *oom set). */
static char *join(const string_list *l, int skip_patterns, int *oom) {
    size_t total = 0;
    for (size_t i = 0; i < l->count; i++) {
        total += strlen(l->items[i]) + 2;
    }
    char *out = malloc(total + 1);
    if (out == NULL) {
        *oom = 1;
        return NULL;
    }
    size_t at = 0;
    for (size_t i = 0; i < l->count; i++) {
        size_t n = strlen(l->items[i]);
        if (skip_patterns && n > 0 && l->items[i][n - 1] == '*') {
            continue;
        }
        if (at > 0) {
            memcpy(out + at, ", ", 2);
            at += 2;
        }
        memcpy(out + at, l->items[i], n);
        at += n;
    }
    out[at] = '\0';
    if (at == 0) {
        free(out);
        return NULL;
    }
    return out;
}

/* Reads an optional array of strings. Returns 1 when the key is present, 0 when absent, -1 with err
 * filled on a bad value. `star` is set when an entry is exactly "*". `check` validates each entry. */
static int read_list(const json_t *config, const char *key, string_list *out, int *star,
                     int (*check)(const char *, size_t), const char *expected, char *err, size_t err_len) {
    const json_t *array = json_object_get(config, key);
    *star = 0;
    if (array == NULL || json_is_null(array)) {
        return 0;
    }
    if (!json_is_array(array)) {
        snprintf(err, err_len, "%s: expected a list of %s", key, expected);
        return -1;
    }
    size_t i;
    const json_t *item;
    json_array_foreach(array, i, item) {
        if (!json_is_string(item) || json_string_length(item) == 0 ||
            (check != NULL && !check(json_string_value(item), json_string_length(item)))) {
            snprintf(err, err_len, "%s[%zu]: expected %s", key, i, expected);
            return -1;
        }
        const char *s = json_string_value(item);
        if (strcmp(s, "*") == 0) {
            *star = 1;
            continue;
        }
        if (list_push(out, s, json_string_length(item)) != 0) {
            snprintf(err, err_len, "out of memory");
            return -1;
        }
    }
    return 1;
}

static int header_name_or_pattern(const char *s, size_t n) {
    if (n > 1 && s[n - 1] == '*') {
        n--;
    }
    return is_token(s, n);
}

static int method_name(const char *s, size_t n) { return is_token(s, n); }

/* scheme "://" host [":" port], optionally "*." before the host; or "null". */
static int origin_text(const char *s, size_t n) {
    if ((n == 4 && memcmp(s, "null", 4) == 0) || (n == 1 && s[0] == '*')) {
        return 1;
    }
    const char *sep = strstr(s, "://");
    if (sep == NULL || sep == s || (size_t)(sep - s) + 3 >= n || n > CORS_MAX_ORIGIN) {
        return 0;
    }
    for (const char *p = sep + 3; p < s + n; p++) {
        if (*p == '/' && p == s + n - 1) {
            return 1; /* a trailing '/' is tolerated and removed */
        }
        if (*p == '/' || *p == '?' || *p == '#' || *p == ' ' || *p == '@') {
            return 0;
        }
    }
    return 1;
}

/* Seconds from an integer or a duration string ("600", "600s", "10m", "1h"). -1 on error. */
static long long parse_seconds(const json_t *value) {
    if (json_is_integer(value)) {
        return json_integer_value(value) >= 0 ? (long long)json_integer_value(value) : -1;
    }
    if (!json_is_string(value)) {
        return -1;
    }
    const char *s = json_string_value(value);
    char *end = NULL;
    if (*s < '0' || *s > '9') {
        return -1;
    }
    long long n = strtoll(s, &end, 10);
    if (n < 0 || n > 100000000LL) {
        return -1;
    }
    if (*end == '\0' || strcmp(end, "s") == 0) {
        return n;
    }
    if (strcmp(end, "m") == 0) {
        return n * 60;
    }
    if (strcmp(end, "h") == 0) {
        return n * 3600;
    }
    return -1;
}

static void config_free(cors_config *c) {
    if (c == NULL) {
        return;
    }
    list_free(&c->origins);
    list_free(&c->headers);
    free(c->headers_joined);
    free(c->methods_joined);
    free(c->expose_joined);
    free(c);
}

/* Origin matching: exact (case-insensitive), or "scheme://" "*.example.com[:port]" for any subdomain. */
static int origin_allowed(const cors_config *c, const char *origin, size_t n) {
    if (c->any_origin) {
        return 1;
    }
    for (size_t i = 0; i < c->origins.count; i++) {
        const char *pattern = c->origins.items[i];
        size_t pn = strlen(pattern);
        const char *star = strstr(pattern, "://*.");
        if (star == NULL) {
            if (equals_nocase(pattern, pn, origin, n)) {
                return 1;
            }
            continue;
        }
        size_t prefix = (size_t)(star - pattern) + 3; /* the scheme and its colon-slash-slash */
        size_t suffix = pn - prefix - 1;              /* ".example.com[:port]" */
        if (n <= prefix + suffix || !equals_nocase(pattern, prefix, origin, prefix) ||
            !equals_nocase(pattern + prefix + 1, suffix, origin + n - suffix, suffix)) {
            continue;
        }
        int ok = 1;
        for (size_t k = prefix; k < n - suffix; k++) {
            char ch = lower(origin[k]);
            if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.')) {
                ok = 0;
            }
        }
        if (ok) {
            return 1;
        }
    }
    return 0;
}

static int header_allowed(const cors_config *c, const char *name, size_t n) {
    if (c->any_header) {
        return 1;
    }
    for (size_t i = 0; i < c->headers.count; i++) {
        const char *h = c->headers.items[i];
        size_t hn = strlen(h);
        if (hn > 0 && h[hn - 1] == '*') {
            if (n >= hn - 1 && equals_nocase(h, hn - 1, name, hn - 1)) {
                return 1;
            }
        } else if (equals_nocase(h, hn, name, n)) {
            return 1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------------ */

static mcpgate_status cors_init(const mcpgate_host_api *api, void **plugin_out, char *err, size_t err_len) {
    (void)err;
    (void)err_len;
    *plugin_out = (void *)api; /* the plugin's only state: handed to every config */
    return MCPGATE_OK;
}

static const char *const config_keys[] = {"allowOrigins",     "allowHeaders", "allowMethods",         "exposeHeaders",
                                          "allowCredentials", "maxAge",       "preflightDeniedStatus"};

static mcpgate_status cors_config_new(void *plugin, mcpgate_instance *inst, const json_t *config, mcpgate_str raw,
                                      void **config_out, char *err, size_t err_len) {
    (void)raw;
    const mcpgate_host_api *api = plugin;
    if (!json_is_object(config)) {
        snprintf(err, err_len, "cors: expected a mapping of CORS settings");
        return MCPGATE_ERR_BAD_ARGUMENT;
    }
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)config, key, value) {
        int known = 0;
        for (size_t i = 0; i < sizeof config_keys / sizeof config_keys[0]; i++) {
            known |= strcmp(key, config_keys[i]) == 0;
        }
        if (!known) {
            snprintf(err, err_len,
                     "%s: unknown CORS setting (expected allowOrigins, allowHeaders, allowMethods, exposeHeaders, "
                     "allowCredentials, maxAge, preflightDeniedStatus)",
                     key);
            return MCPGATE_ERR_BAD_ARGUMENT;
        }
    }
    cors_config *c = calloc(1, sizeof *c);
    if (c == NULL) {
        snprintf(err, err_len, "out of memory");
        return MCPGATE_ERR_INTERNAL;
    }
    c->api = api;
    c->inst = inst;
    c->max_age = -1;
    c->denied_status = 403;
    int star = 0;
    int oom = 0;

    if (read_list(config, "allowOrigins", &c->origins, &c->any_origin, origin_text,
                  "origins (\"https://app.example.com\", \"https://*.example.com\" or \"*\")", err, err_len) < 0) {
        goto fail;
    }
    for (size_t i = 0; i < c->origins.count; i++) {
        char *o = c->origins.items[i];
        size_t n = strlen(o);
        if (n > 0 && o[n - 1] == '/') {
            o[n - 1] = '\0';
        }
        for (char *p = o; *p != '\0'; p++) {
            *p = lower(*p);
        }
        const char *star_at = strchr(o, '*');
        size_t star_index = star_at != NULL ? (size_t)(star_at - o) : 0;
        if (star_at != NULL &&
            (star_index < 3 || strncmp(o + star_index - 3, "://*.", 5) != 0 || strchr(star_at + 1, '*') != NULL)) {
            snprintf(err, err_len, "allowOrigins[%zu]: a wildcard may only stand for subdomains (\"https://*.example.com\")",
                     i);
            goto fail;
        }
    }

    const json_t *credentials = json_object_get(config, "allowCredentials");
    if (credentials != NULL && !json_is_boolean(credentials)) {
        snprintf(err, err_len, "allowCredentials: expected true or false");
        goto fail;
    }
    c->allow_credentials = json_is_true(credentials);

    int present = read_list(config, "allowHeaders", &c->headers, &c->any_header, header_name_or_pattern,
                            "header names (\"Mcp-Param-*\" for a prefix, \"*\" for any)", err, err_len);
    if (present < 0) {
        goto fail;
    }
    if (present == 0) {
        for (size_t i = 0; i < sizeof default_allow_headers / sizeof default_allow_headers[0]; i++) {
            if (list_push(&c->headers, default_allow_headers[i], strlen(default_allow_headers[i])) != 0) {
                oom = 1;
            }
        }
    }
    for (size_t i = 0; i < c->headers.count; i++) {
        size_t n = strlen(c->headers.items[i]);
        c->header_patterns |= c->headers.items[i][n - 1] == '*';
    }
    c->headers_joined = join(&c->headers, 1, &oom);

    string_list methods = {0};
    present = read_list(config, "allowMethods", &methods, &c->any_method, method_name, "HTTP methods (\"*\" for any)",
                        err, err_len);
    if (present < 0) {
        list_free(&methods);
        goto fail;
    }
    if (present == 0) {
        for (size_t i = 0; i < sizeof default_allow_methods / sizeof default_allow_methods[0]; i++) {
            if (list_push(&methods, default_allow_methods[i], strlen(default_allow_methods[i])) != 0) {
                oom = 1;
            }
        }
    }
    c->methods_joined = join(&methods, 0, &oom);
    list_free(&methods);

    string_list expose = {0};
    present = read_list(config, "exposeHeaders", &expose, &star, header_name_or_pattern, "header names (\"*\" for all)",
                        err, err_len);
    if (present < 0) {
        list_free(&expose);
        goto fail;
    }
    if (present == 0 || (star && c->allow_credentials)) {
        /* Absent: what MCP browser clients need. `*` with credentials is taken literally by browsers,
         * so it becomes the MCP list too. */
        for (size_t i = 0; i < sizeof default_expose_headers / sizeof default_expose_headers[0]; i++) {
            if (list_push(&expose, default_expose_headers[i], strlen(default_expose_headers[i])) != 0) {
                oom = 1;
            }
        }
    } else if (star) {
        list_free(&expose);
        if (list_push(&expose, "*", 1) != 0) {
            oom = 1;
        }
    }
    c->expose_joined = expose.count > 0 ? join(&expose, 0, &oom) : NULL;
    list_free(&expose);

    const json_t *max_age = json_object_get(config, "maxAge");
    if (max_age != NULL && !json_is_null(max_age)) {
        c->max_age = parse_seconds(max_age);
        if (c->max_age < 0) {
            snprintf(err, err_len, "maxAge: expected seconds (600) or a duration (\"600s\", \"10m\", \"1h\")");
            goto fail;
        }
        snprintf(c->max_age_text, sizeof c->max_age_text, "%lld", c->max_age);
    }
    const json_t *denied = json_object_get(config, "preflightDeniedStatus");
    if (denied != NULL) {
        if (!json_is_integer(denied) || json_integer_value(denied) < 200 || json_integer_value(denied) > 599) {
            snprintf(err, err_len, "preflightDeniedStatus: expected an HTTP status (200-599)");
            goto fail;
        }
        c->denied_status = (uint32_t)json_integer_value(denied);
    }
    if (oom) {
        snprintf(err, err_len, "out of memory");
        goto fail;
    }

    static const char *const labels[] = {"result"};
    if (api->metric_define(inst, MCPGATE_METRIC_COUNTER, "cors_preflights_total",
                           "CORS preflights answered, by result (allowed, denied)", labels, 1, NULL, 0,
                           &c->preflights) != MCPGATE_OK) {
        snprintf(err, err_len, "cannot define the metric cors_preflights_total");
        goto fail;
    }
    MCPGATE_LOGF(api, inst, MCPGATE_LOG_INFO, "origins: %s%zu listed, credentials %s", c->any_origin ? "any, " : "",
                 c->origins.count, c->allow_credentials ? "allowed" : "not allowed");
    *config_out = c;
    return MCPGATE_OK;

fail:
    config_free(c);
    return MCPGATE_ERR_BAD_ARGUMENT;
}

static void cors_config_destroy(void *config) { config_free(config); }

static mcpgate_status cors_request_new(void *config, mcpgate_request *req, void **state_out) {
    (void)config;
    (void)req;
    cors_request *state = calloc(1, sizeof *state);
    if (state == NULL) {
        return MCPGATE_ERR_INTERNAL;
    }
    *state_out = state;
    return MCPGATE_OK;
}

static void cors_request_destroy(void *config, void *state) {
    (void)config;
    cors_request *r = state;
    if (r != NULL) {
        free(r->echo_headers);
    }
    free(r);
}

/* Reads Origin once per request: present? allowed? (A second Origin header is never allowed.) */
static void evaluate_origin(const cors_config *c, cors_request *r, mcpgate_request *req) {
    if (r->evaluated) {
        return;
    }
    r->evaluated = 1;
    mcpgate_str origin;
    if (c->api->header_get(req, MCPGATE_HEADERS_REQUEST, "Origin", 0, &origin) != MCPGATE_OK) {
        return;
    }
    r->origin_present = 1;
    mcpgate_str second;
    if (origin.len == 0 || origin.len > CORS_MAX_ORIGIN ||
        c->api->header_get(req, MCPGATE_HEADERS_REQUEST, "Origin", 1, &second) == MCPGATE_OK) {
        return;
    }
    for (size_t i = 0; i < origin.len; i++) {
        if ((unsigned char)origin.ptr[i] <= 0x20 || (unsigned char)origin.ptr[i] >= 0x7f) {
            return; /* never echo something that is not a visible ASCII origin */
        }
    }
    memcpy(r->origin, origin.ptr, origin.len);
    r->origin[origin.len] = '\0';
    r->allowed = origin_allowed(c, origin.ptr, origin.len);
}

static void set_header(const cors_config *c, mcpgate_request *req, int32_t op, const char *name, const char *value) {
    c->api->header_edit(req, MCPGATE_HEADERS_RESPONSE, op, name, mcpgate_str_from_cstr(value));
}

/* Whether the response carries the literal "*" (public, no credentials) or the echoed origin. */
static void add_allow_origin(const cors_config *c, const cors_request *r, mcpgate_request *req) {
    if (c->any_origin && !c->allow_credentials) {
        set_header(c, req, MCPGATE_HEADER_SET, "Access-Control-Allow-Origin", "*");
    } else {
        set_header(c, req, MCPGATE_HEADER_SET, "Access-Control-Allow-Origin", r->origin);
    }
    if (c->allow_credentials) {
        set_header(c, req, MCPGATE_HEADER_SET, "Access-Control-Allow-Credentials", "true");
    }
}

static int origin_varies(const cors_config *c) { return !c->any_origin || c->allow_credentials; }

/* The Access-Control-Allow-Headers value for a preflight asking for `requested`: the requested names
 * when they may be echoed (a `*` or prefix patterns are configured), else the configured list. NULL
 * when nothing is to be sent. Sets *echoed. */
static const char *allow_headers_for(const cors_config *c, cors_request *r, mcpgate_str requested, int *echoed) {
    *echoed = 0;
    if (!c->any_header && !c->header_patterns) {
        return c->headers_joined;
    }
    if (requested.len == 0 || requested.len > CORS_MAX_REQUEST_HEADERS) {
        return c->any_header ? NULL : c->headers_joined;
    }
    char *out = malloc(requested.len + 1);
    if (out == NULL) {
        return c->headers_joined;
    }
    size_t at = 0;
    size_t i = 0;
    while (i < requested.len) {
        while (i < requested.len && (requested.ptr[i] == ' ' || requested.ptr[i] == '\t' || requested.ptr[i] == ',')) {
            i++;
        }
        size_t start = i;
        while (i < requested.len && requested.ptr[i] != ',' && requested.ptr[i] != ' ' && requested.ptr[i] != '\t') {
            i++;
        }
        size_t n = i - start;
        if (n == 0) {
            continue;
        }
        if (!is_token(requested.ptr + start, n)) {
            free(out); /* not a header name list: echo nothing of it */
            return c->any_header ? NULL : c->headers_joined;
        }
        if (header_allowed(c, requested.ptr + start, n)) {
            if (at > 0) {
                out[at++] = ',';
            }
            memcpy(out + at, requested.ptr + start, n);
            at += n;
        }
    }
    out[at] = '\0';
    free(r->echo_headers);
    r->echo_headers = out;
    *echoed = 1;
    return at > 0 ? out : NULL;
}

static mcpgate_action cors_on_http_request_headers(void *config, void *state, mcpgate_request *req,
                                                   const mcpgate_http_request *http, mcpgate_decision *decision) {
    cors_config *c = config;
    cors_request *r = state;
    evaluate_origin(c, r, req);
    mcpgate_str requested_method;
    if (!r->origin_present || !mcpgate_str_equals(http->method, "OPTIONS") ||
        c->api->header_get(req, MCPGATE_HEADERS_REQUEST, "Access-Control-Request-Method", 0, &requested_method) !=
            MCPGATE_OK) {
        return MCPGATE_CONTINUE; /* not a preflight: headers are added in on_response_headers */
    }

    /* A preflight is answered here, before authentication, whatever the origin. */
    r->preflight = 1;
    decision->http_status = 204;
    if (origin_varies(c)) {
        set_header(c, req, MCPGATE_HEADER_ADD, "Vary", "Origin");
    }
    mcpgate_str label;
    if (!r->allowed) {
        label = mcpgate_str_from_cstr("denied");
        c->api->metric_record(c->preflights, &label, 1, 1);
        MCPGATE_LOGF(c->api, c->inst, MCPGATE_LOG_DEBUG, "preflight from origin '%.*s' denied",
                     (int)(r->origin[0] != '\0' ? strlen(r->origin) : 0), r->origin);
        decision->http_status = c->denied_status; /* no CORS headers: the browser blocks the request */
        return MCPGATE_RESPOND;
    }
    label = mcpgate_str_from_cstr("allowed");
    c->api->metric_record(c->preflights, &label, 1, 1);
    add_allow_origin(c, r, req);

    int vary_method = 0;
    if (c->any_method) {
        if (is_token(requested_method.ptr, requested_method.len) && requested_method.len < 64) {
            char method[64];
            memcpy(method, requested_method.ptr, requested_method.len);
            method[requested_method.len] = '\0';
            set_header(c, req, MCPGATE_HEADER_SET, "Access-Control-Allow-Methods", method);
            vary_method = 1;
        }
    } else if (c->methods_joined != NULL) {
        set_header(c, req, MCPGATE_HEADER_SET, "Access-Control-Allow-Methods", c->methods_joined);
    }

    mcpgate_str requested_headers = {"", 0};
    c->api->header_get(req, MCPGATE_HEADERS_REQUEST, "Access-Control-Request-Headers", 0, &requested_headers);
    int echoed = 0;
    const char *allow_headers = allow_headers_for(c, r, requested_headers, &echoed);
    if (allow_headers != NULL) {
        set_header(c, req, MCPGATE_HEADER_SET, "Access-Control-Allow-Headers", allow_headers);
    }
    if (echoed && vary_method) {
        set_header(c, req, MCPGATE_HEADER_ADD, "Vary", "Access-Control-Request-Method, Access-Control-Request-Headers");
    } else if (echoed) {
        set_header(c, req, MCPGATE_HEADER_ADD, "Vary", "Access-Control-Request-Headers");
    } else if (vary_method) {
        set_header(c, req, MCPGATE_HEADER_ADD, "Vary", "Access-Control-Request-Method");
    }
    if (c->max_age >= 0) {
        set_header(c, req, MCPGATE_HEADER_SET, "Access-Control-Max-Age", c->max_age_text);
    }
    return MCPGATE_RESPOND;
}

static mcpgate_action cors_on_response_headers(void *config, void *state, mcpgate_request *req,
                                               const mcpgate_http_response *response) {
    (void)response;
    cors_config *c = config;
    cors_request *r = state;
    evaluate_origin(c, r, req);
    if (r->preflight || !r->origin_present) {
        return MCPGATE_CONTINUE;
    }
    if (origin_varies(c)) {
        set_header(c, req, MCPGATE_HEADER_ADD, "Vary", "Origin");
    }
    if (!r->allowed) {
        /* The gateway owns CORS on this route: drop whatever the upstream said. */
        set_header(c, req, MCPGATE_HEADER_REMOVE, "Access-Control-Allow-Origin", NULL);
        set_header(c, req, MCPGATE_HEADER_REMOVE, "Access-Control-Allow-Credentials", NULL);
        set_header(c, req, MCPGATE_HEADER_REMOVE, "Access-Control-Expose-Headers", NULL);
        return MCPGATE_CONTINUE;
    }
    add_allow_origin(c, r, req);
    if (c->expose_joined != NULL) {
        set_header(c, req, MCPGATE_HEADER_SET, "Access-Control-Expose-Headers", c->expose_joined);
    }
    return MCPGATE_CONTINUE;
}

static const mcpgate_plugin cors_descriptor = {
    MCPGATE_PLUGIN_HEADER,
    .name = "cors",
    .version = "1.0.0",
    .description = "CORS preflights and Access-Control-* headers for browser MCP clients",
    .init = cors_init,
    .config_new = cors_config_new,
    .config_destroy = cors_config_destroy,
    .request_new = cors_request_new,
    .request_destroy = cors_request_destroy,
    .on_http_request_headers = cors_on_http_request_headers,
    .on_response_headers = cors_on_response_headers,
};

MCPGATE_DEFINE_PLUGIN(cors_descriptor)
