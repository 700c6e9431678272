/*
 * ratelimit -- mcpgate's bundled `policies.localRateLimit` filter: MCP-aware token buckets.
 *
 * Config: agentgateway's list of buckets (`[{maxTokens, tokensPerFill, fillInterval, type}]`) plus
 * mcpgate's `key` (principal, ip, target, tool, session, method), `methods`, `tools` and per-tool
 * `overrides` (README.md). Every client JSON-RPC message (request or notification) takes one token
 * from each limit that applies to it, through the host's `rate_limit` primitive, which is atomic in
 * the host KV store: N concurrent requests against a bucket of B admit exactly min(N, B).
 *
 * Over a limit: REJECT with HTTP 429, a JSON-RPC error naming the limit, and the response headers
 * `Retry-After`, `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (or the IETF draft
 * `RateLimit` / `RateLimit-Policy` pair) queued with header_edit, so the host writes them whatever
 * answers the request. Allowed requests get the same `RateLimit-*` headers for their tightest limit.
 *
 * Threads: the config is immutable after config_new; per-request state holds the client address
 * (from on_http_request_headers) and the rejection message, which must outlive the hook.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcpgate/filter.h"

/* ============================================ config ============================================ */

/* Parts of a bucket key, in the canonical order they are written into the KV key. */
enum {
    KEY_PRINCIPAL = 1u << 0,
    KEY_IP = 1u << 1,
    KEY_TARGET = 1u << 2,
    KEY_TOOL = 1u << 3,
    KEY_SESSION = 1u << 4,
    KEY_METHOD = 1u << 5,
};
static const char *const key_part_names[] = {"principal", "ip", "target", "tool", "session", "method"};
#define KEY_PART_COUNT 6

/* Which rate-limit headers go on responses. */
enum { HEADERS_NONE = 0, HEADERS_RATELIMIT = 1, HEADERS_DRAFT = 2 };

/* One token bucket shape (agentgateway's maxTokens / tokensPerFill / fillInterval). */
typedef struct rl_bucket {
    uint64_t capacity;
    uint64_t refill_tokens;
    uint64_t interval_ms;
} rl_bucket;

/* A per-tool override inside a limit: its own bucket shape for matching tool names. */
typedef struct rl_override {
    char *pattern;
    rl_bucket bucket;
} rl_override;

/* One configured limit. */
typedef struct rl_limit {
    char *name;
    rl_bucket bucket;
    uint32_t key_parts; /* KEY_* bits */
    char **methods;     /* NULL: every method */
    size_t method_count;
    char **tools; /* NULL: every message, targeted or not */
    size_t tool_count;
    rl_override *overrides;
    size_t override_count;
} rl_limit;

/* The instance: immutable after config_new, read from every event loop. */
typedef struct rl_config {
    const mcpgate_host_api *api;
    mcpgate_instance *inst;
    rl_limit *limits;
    size_t limit_count;
    int headers;
    int fail_open;
    uint32_t status;
    int32_t rpc_code;
    mcpgate_metric *decisions;
    /* Stands for the route when the host sets no mcpgate.route: unique to this instance, which serves
     * exactly one route, so routes never share buckets (a config reload starts them afresh). */
    char local_route[64];
    size_t local_route_len;
} rl_config;

/* Per request: the client address (from the headers hook) and the rejection message. */
typedef struct rl_request {
    char ip[64];
    char message[320];
} rl_request;

/* ============================================ helpers =========================================== */

static char *copy_string(const char *s, size_t n) {
    char *copy = malloc(n + 1);
    if (copy != NULL) {
        memcpy(copy, s, n);
        copy[n] = '\0';
    }
    return copy;
}

/* "read_*" matches every name starting with "read_"; "*" matches everything; otherwise exact. */
static int pattern_matches(const char *pattern, const char *name, size_t name_len) {
    size_t n = strlen(pattern);
    if (n > 0 && pattern[n - 1] == '*') {
        return name_len >= n - 1 && memcmp(pattern, name, n - 1) == 0;
    }
    return n == name_len && memcmp(pattern, name, n) == 0;
}

static int any_matches(char *const *patterns, size_t count, const char *name, size_t name_len) {
    for (size_t i = 0; i < count; i++) {
        if (pattern_matches(patterns[i], name, name_len)) {
            return 1;
        }
    }
    return 0;
}

/* Parses a duration as the gateway's config does: a JSON number of seconds, or a string of parts
 * with units ms, s, m, h, each number possibly with a decimal fraction ("1h30m", "1.5s", "500ms").
 * Writes milliseconds (rounded, at least 1) and returns 0, or -1 when malformed or not positive. */
static int parse_duration_ms(const json_t *value, uint64_t *out) {
    double total_ms = 0;
    if (json_is_number(value)) {
        total_ms = json_number_value(value) * 1000.0;
    } else if (json_is_string(value)) {
        const char *s = json_string_value(value);
        size_t n = json_string_length(value);
        size_t i = 0;
        if (n == 0) {
            return -1;
        }
        while (i < n) {
            double number = 0;
            double scale = 0;
            int digits = 0;
            while (i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) {
                if (s[i] == '.') {
                    if (scale != 0) {
                        return -1;
                    }
                    scale = 0.1;
                } else if (scale == 0) {
                    number = number * 10 + (s[i] - '0');
                    digits++;
                } else {
                    number += (s[i] - '0') * scale;
                    scale /= 10;
                    digits++;
                }
                i++;
            }
            if (digits == 0) {
                return -1;
            }
            if (i == n) {
                /* a bare number is seconds, but only on its own ("30") */
                if (total_ms != 0) {
                    return -1;
                }
                total_ms = number * 1000.0;
                break;
            }
            if (i + 1 < n && s[i] == 'm' && s[i + 1] == 's') {
                total_ms += number;
                i += 2;
            } else if (s[i] == 'h') {
                total_ms += number * 3600000.0;
                i++;
            } else if (s[i] == 'm') {
                total_ms += number * 60000.0;
                i++;
            } else if (s[i] == 's') {
                total_ms += number * 1000.0;
                i++;
            } else {
                return -1;
            }
        }
    } else {
        return -1;
    }
    if (!(total_ms > 0) || total_ms > 1e15) {
        return -1;
    }
    uint64_t ms = (uint64_t)(total_ms + 0.5);
    *out = ms == 0 ? 1 : ms;
    return 0;
}

/* A positive integer (JSON integer) up to 2^53. */
static int parse_count(const json_t *value, uint64_t *out) {
    if (!json_is_integer(value) || json_integer_value(value) < 1 ||
        json_integer_value(value) > (json_int_t)9007199254740992LL) {
        return -1;
    }
    *out = (uint64_t)json_integer_value(value);
    return 0;
}

/* Fails with a message naming the first key of `object` that is not in `allowed`. */
static int check_keys(const json_t *object, const char *const *allowed, size_t allowed_count, const char *where,
                      char *err, size_t err_len) {
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)object, key, value) {
        (void)value;
        int known = 0;
        for (size_t i = 0; i < allowed_count; i++) {
            if (strcmp(key, allowed[i]) == 0) {
                known = 1;
                break;
            }
        }
        if (!known) {
            char list[256] = "";
            size_t used = 0;
            for (size_t i = 0; i < allowed_count && used < sizeof list; i++) {
                int w = snprintf(list + used, sizeof list - used, "%s%s", i > 0 ? ", " : "", allowed[i]);
                used += w > 0 ? (size_t)w : 0;
            }
            snprintf(err, err_len, "%s.%s: unknown key (expected one of: %s)", where, key, list);
            return -1;
        }
    }
    return 0;
}

static void free_strings(char **strings, size_t count) {
    for (size_t i = 0; i < count; i++) {
        free(strings[i]);
    }
    free(strings);
}

/* Copies an array of non-empty strings (NULL/absent gives none). */
static int parse_strings(const json_t *array, char ***out, size_t *count, const char *where, const char *what,
                         char *err, size_t err_len) {
    *out = NULL;
    *count = 0;
    if (array == NULL) {
        return 0;
    }
    if (!json_is_array(array) || json_array_size(array) == 0) {
        snprintf(err, err_len, "%s: expected a non-empty list of %s", where, what);
        return -1;
    }
    size_t n = json_array_size(array);
    *out = calloc(n, sizeof **out);
    if (*out == NULL) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *item = json_array_get(array, i);
        if (!json_is_string(item) || json_string_length(item) == 0) {
            snprintf(err, err_len, "%s[%zu]: expected a non-empty string (%s)", where, i, what);
            return -1;
        }
        if (((*out)[i] = copy_string(json_string_value(item), json_string_length(item))) == NULL) {
            snprintf(err, err_len, "out of memory");
            return -1;
        }
        (*count)++;
    }
    return 0;
}

/* maxTokens, tokensPerFill (default: maxTokens), fillInterval. With `inherit` (an override) every
 * field is optional and defaults to the limit's; otherwise maxTokens and fillInterval are required. */
static int parse_bucket(const json_t *object, rl_bucket *bucket, const rl_bucket *inherit, const char *where,
                        char *err, size_t err_len) {
    const json_t *max = json_object_get(object, "maxTokens");
    const json_t *per_fill = json_object_get(object, "tokensPerFill");
    const json_t *interval = json_object_get(object, "fillInterval");
    if (inherit != NULL) {
        *bucket = *inherit;
    } else if (max == NULL) {
        snprintf(err, err_len, "%s.maxTokens: required (the bucket size, a whole number >= 1)", where);
        return -1;
    } else if (interval == NULL) {
        snprintf(err, err_len, "%s.fillInterval: required (a duration such as 1s, 500ms, 1m)", where);
        return -1;
    }
    if (max != NULL) {
        if (parse_count(max, &bucket->capacity) != 0) {
            snprintf(err, err_len, "%s.maxTokens: expected a whole number >= 1", where);
            return -1;
        }
        bucket->refill_tokens = bucket->capacity;
    }
    if (per_fill != NULL && parse_count(per_fill, &bucket->refill_tokens) != 0) {
        snprintf(err, err_len, "%s.tokensPerFill: expected a whole number >= 1", where);
        return -1;
    }
    if (interval != NULL && parse_duration_ms(interval, &bucket->interval_ms) != 0) {
        snprintf(err, err_len, "%s.fillInterval: expected a duration greater than zero (1s, 500ms, 1m, 1h30m)",
                 where);
        return -1;
    }
    return 0;
}

static void limit_free(rl_limit *limit) {
    free(limit->name);
    free_strings(limit->methods, limit->method_count);
    free_strings(limit->tools, limit->tool_count);
    for (size_t i = 0; i < limit->override_count; i++) {
        free(limit->overrides[i].pattern);
    }
    free(limit->overrides);
}

static void config_free(rl_config *c) {
    if (c == NULL) {
        return;
    }
    for (size_t i = 0; i < c->limit_count; i++) {
        limit_free(&c->limits[i]);
    }
    free(c->limits);
    free(c);
}

static int parse_limit(const json_t *object, size_t index, rl_limit *limit, char *err, size_t err_len) {
    static const char *const allowed[] = {"maxTokens", "tokensPerFill", "fillInterval", "type", "name",
                                          "key", "methods", "tools", "overrides"};
    static const char *const override_allowed[] = {"maxTokens", "tokensPerFill", "fillInterval"};
    char where[96];
    snprintf(where, sizeof where, "localRateLimit[%zu]", index);
    if (!json_is_object(object)) {
        snprintf(err, err_len, "%s: expected a mapping {maxTokens, tokensPerFill, fillInterval, key, ...}", where);
        return -1;
    }
    if (json_object_get(object, "conditional") != NULL) {
        snprintf(err, err_len,
                 "%s.conditional: agentgateway's CEL-conditional limits are not supported; select requests with "
                 "methods, tools and key instead",
                 where);
        return -1;
    }
    if (check_keys(object, allowed, sizeof allowed / sizeof allowed[0], where, err, err_len) != 0 ||
        parse_bucket(object, &limit->bucket, NULL, where, err, err_len) != 0) {
        return -1;
    }
    const json_t *type = json_object_get(object, "type");
    if (type != NULL && !(json_is_string(type) && strcmp(json_string_value(type), "requests") == 0)) {
        snprintf(err, err_len,
                 "%s.type: only \"requests\" is supported (each JSON-RPC message takes one token); \"tokens\" "
                 "counts LLM tokens, which MCP traffic does not carry",
                 where);
        return -1;
    }
    const json_t *name = json_object_get(object, "name");
    if (name != NULL && (!json_is_string(name) || json_string_length(name) == 0 || json_string_length(name) > 64)) {
        snprintf(err, err_len, "%s.name: expected a string of 1 to 64 characters", where);
        return -1;
    }
    if (name != NULL) {
        limit->name = copy_string(json_string_value(name), json_string_length(name));
    } else {
        limit->name = copy_string(where, strlen(where));
    }
    if (limit->name == NULL) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }

    const json_t *key = json_object_get(object, "key");
    if (key != NULL) {
        if (!json_is_array(key)) {
            snprintf(err, err_len, "%s.key: expected a list of: principal, ip, target, tool, session, method", where);
            return -1;
        }
        size_t i;
        const json_t *part;
        json_array_foreach(key, i, part) {
            int found = -1;
            for (int p = 0; p < KEY_PART_COUNT && json_is_string(part); p++) {
                if (strcmp(json_string_value(part), key_part_names[p]) == 0) {
                    found = p;
                }
            }
            if (found < 0) {
                snprintf(err, err_len, "%s.key[%zu]: expected one of: principal, ip, target, tool, session, method",
                         where, i);
                return -1;
            }
            if (limit->key_parts & (1u << found)) {
                snprintf(err, err_len, "%s.key[%zu]: \"%s\" is listed twice", where, i, key_part_names[found]);
                return -1;
            }
            limit->key_parts |= 1u << found;
        }
    }

    char sub[128];
    snprintf(sub, sizeof sub, "%s.methods", where);
    if (parse_strings(json_object_get(object, "methods"), &limit->methods, &limit->method_count, sub,
                      "method names or prefixes ending in *", err, err_len) != 0) {
        return -1;
    }
    snprintf(sub, sizeof sub, "%s.tools", where);
    if (parse_strings(json_object_get(object, "tools"), &limit->tools, &limit->tool_count, sub,
                      "tool or prompt names, resource URIs, or prefixes ending in *", err, err_len) != 0) {
        return -1;
    }

    const json_t *overrides = json_object_get(object, "overrides");
    if (overrides != NULL) {
        if (!json_is_object(overrides) || json_object_size(overrides) == 0) {
            snprintf(err, err_len, "%s.overrides: expected a mapping of tool name -> {maxTokens, tokensPerFill, "
                                   "fillInterval}",
                     where);
            return -1;
        }
        limit->overrides = calloc(json_object_size(overrides), sizeof *limit->overrides);
        if (limit->overrides == NULL) {
            snprintf(err, err_len, "out of memory");
            return -1;
        }
        const char *tool;
        const json_t *shape;
        json_object_foreach((json_t *)overrides, tool, shape) {
            snprintf(sub, sizeof sub, "%s.overrides.%s", where, tool);
            if (!json_is_object(shape)) {
                snprintf(err, err_len, "%s: expected a mapping {maxTokens, tokensPerFill, fillInterval}", sub);
                return -1;
            }
            rl_override *o = &limit->overrides[limit->override_count];
            if ((o->pattern = copy_string(tool, strlen(tool))) == NULL) {
                snprintf(err, err_len, "out of memory");
                return -1;
            }
            limit->override_count++;
            if (tool[0] == '\0') {
                snprintf(err, err_len, "%s.overrides: a tool name must not be empty", where);
                return -1;
            }
            if (check_keys(shape, override_allowed, 3, sub, err, err_len) != 0) {
                return -1;
            }
            /* An override inherits what it does not set from its limit. */
            if (parse_bucket(shape, &o->bucket, &limit->bucket, sub, err, err_len) != 0) {
                return -1;
            }
        }
    }
    return 0;
}

/* ============================================ lifecycle ========================================= */

static mcpgate_status rl_init(const mcpgate_host_api *api, void **plugin_out, char *err, size_t err_len) {
    if (!MCPGATE_HOST_HAS(api, rate_limit)) {
        snprintf(err, err_len, "the host has no rate_limit service");
        return MCPGATE_ERR_UNSUPPORTED;
    }
    *plugin_out = (void *)api; /* the plugin object is the host table: no global state */
    return MCPGATE_OK;
}

static mcpgate_status rl_config_new(void *plugin, mcpgate_instance *inst, const json_t *config, mcpgate_str raw,
                                    void **config_out, char *err, size_t err_len) {
    (void)raw;
    static const char *const allowed[] = {"limits", "headers", "failureMode", "status"};
    rl_config *c = calloc(1, sizeof *c);
    if (c == NULL) {
        snprintf(err, err_len, "out of memory");
        return MCPGATE_ERR_INTERNAL;
    }
    c->api = plugin;
    c->inst = inst;
    c->headers = HEADERS_RATELIMIT;
    c->status = 429;
    c->rpc_code = -32029;
    int n = snprintf(c->local_route, sizeof c->local_route, "%" PRIx64 ".%" PRIxPTR,
                     (uint64_t)c->api->wall_unix_ns(inst), (uintptr_t)c);
    c->local_route_len = n > 0 ? (size_t)n : 0;

    /* Three shapes: agentgateway's list; {limits: [...], headers, failureMode, status}; one limit. */
    const json_t *limits = config;
    json_t *single = NULL;
    if (json_is_object(config)) {
        if (json_object_get(config, "limits") != NULL) {
            if (check_keys(config, allowed, sizeof allowed / sizeof allowed[0], "localRateLimit", err, err_len) != 0) {
                goto fail;
            }
            limits = json_object_get(config, "limits");
            const json_t *headers = json_object_get(config, "headers");
            if (headers != NULL) {
                const char *h = json_string_value(headers);
                if (h != NULL && strcmp(h, "ratelimit") == 0) {
                    c->headers = HEADERS_RATELIMIT;
                } else if (h != NULL && strcmp(h, "draft") == 0) {
                    c->headers = HEADERS_DRAFT;
                } else if (h != NULL && strcmp(h, "none") == 0) {
                    c->headers = HEADERS_NONE;
                } else {
                    snprintf(err, err_len, "localRateLimit.headers: expected \"ratelimit\", \"draft\" or \"none\"");
                    goto fail;
                }
            }
            const json_t *mode = json_object_get(config, "failureMode");
            if (mode != NULL) {
                const char *m = json_string_value(mode);
                if (m != NULL && strcmp(m, "failOpen") == 0) {
                    c->fail_open = 1;
                } else if (m == NULL || strcmp(m, "failClosed") != 0) {
                    snprintf(err, err_len, "localRateLimit.failureMode: expected \"failClosed\" or \"failOpen\"");
                    goto fail;
                }
            }
            const json_t *status = json_object_get(config, "status");
            if (status != NULL) {
                if (!json_is_integer(status) || json_integer_value(status) < 400 || json_integer_value(status) > 599) {
                    snprintf(err, err_len, "localRateLimit.status: expected an HTTP error status (400-599)");
                    goto fail;
                }
                c->status = (uint32_t)json_integer_value(status);
            }
        } else {
            single = json_array();
            if (single == NULL || json_array_append(single, (json_t *)config) != 0) {
                snprintf(err, err_len, "out of memory");
                goto fail;
            }
            limits = single;
        }
    }
    if (!json_is_array(limits)) {
        snprintf(err, err_len,
                 "localRateLimit: expected a list of limits [{maxTokens, tokensPerFill, fillInterval, key}] or a "
                 "mapping {limits: [...]}");
        goto fail;
    }
    if (json_array_size(limits) == 0) {
        snprintf(err, err_len, "localRateLimit: expected at least one limit");
        goto fail;
    }
    c->limits = calloc(json_array_size(limits), sizeof *c->limits);
    if (c->limits == NULL) {
        snprintf(err, err_len, "out of memory");
        goto fail;
    }
    size_t index;
    const json_t *limit;
    json_array_foreach(limits, index, limit) {
        c->limit_count = index + 1;
        if (parse_limit(limit, index, &c->limits[index], err, err_len) != 0) {
            goto fail;
        }
        for (size_t j = 0; j < index; j++) {
            if (strcmp(c->limits[j].name, c->limits[index].name) == 0) {
                snprintf(err, err_len, "localRateLimit[%zu].name: \"%s\" is already the name of localRateLimit[%zu]",
                         index, c->limits[index].name, j);
                goto fail;
            }
        }
    }
    json_decref(single);
    single = NULL;

    static const char *const labels[] = {"limit", "decision"};
    if (c->api->metric_define(inst, MCPGATE_METRIC_COUNTER, "ratelimit_decisions_total",
                              "JSON-RPC messages checked against each limit, by decision (allowed, limited, error)",
                              labels, 2, NULL, 0, &c->decisions) != MCPGATE_OK) {
        snprintf(err, err_len, "cannot define the metric ratelimit_decisions_total");
        goto fail;
    }
    MCPGATE_LOGF(c->api, inst, MCPGATE_LOG_INFO, "%zu rate limit%s, 429 headers: %s, %s", c->limit_count,
                 c->limit_count == 1 ? "" : "s",
                 c->headers == HEADERS_DRAFT ? "draft" : c->headers == HEADERS_NONE ? "none" : "ratelimit",
                 c->fail_open ? "failOpen" : "failClosed");
    *config_out = c;
    return MCPGATE_OK;

fail:
    json_decref(single);
    config_free(c);
    return MCPGATE_ERR_BAD_ARGUMENT;
}

static void rl_config_destroy(void *config) { config_free(config); }

static mcpgate_status rl_request_new(void *config, mcpgate_request *req, void **state_out) {
    (void)config;
    (void)req;
    rl_request *state = calloc(1, sizeof *state);
    if (state == NULL) {
        return MCPGATE_ERR_INTERNAL;
    }
    *state_out = state;
    return MCPGATE_OK;
}

static void rl_request_destroy(void *config, void *state) {
    (void)config;
    free(state);
}

/* ============================================ hooks ============================================= */

/* Keeps the client IP ("203.0.113.9", "::1") from "203.0.113.9:51234", "[::1]:51234" or a bare IP. */
static mcpgate_action rl_on_http_request_headers(void *config, void *state, mcpgate_request *req,
                                                 const mcpgate_http_request *http, mcpgate_decision *decision) {
    (void)config;
    (void)req;
    (void)decision;
    rl_request *r = state;
    const char *a = http->remote_address.ptr;
    size_t n = http->remote_address.len;
    if (a == NULL || n == 0) {
        return MCPGATE_CONTINUE;
    }
    size_t start = 0;
    size_t end = n;
    if (a[0] == '[') {
        const char *close = memchr(a, ']', n);
        start = 1;
        end = close != NULL ? (size_t)(close - a) : n;
    } else {
        const char *colon = memchr(a, ':', n);
        if (colon != NULL && memchr(colon + 1, ':', n - (size_t)(colon - a) - 1) == NULL) {
            end = (size_t)(colon - a); /* IPv4 with port; several colons is a bare IPv6 address */
        }
    }
    size_t len = end > start ? end - start : 0;
    if (len >= sizeof r->ip) {
        len = sizeof r->ip - 1;
    }
    memcpy(r->ip, a + start, len);
    r->ip[len] = '\0';
    return MCPGATE_CONTINUE;
}

/* A KV key under construction: a stack buffer that moves to the heap when it outgrows it. */
typedef struct key_buffer {
    char *data;
    size_t len;
    size_t cap;
    int failed;
    char stack[512];
} key_buffer;

static void key_init(key_buffer *k) {
    k->data = k->stack;
    k->len = 0;
    k->cap = sizeof k->stack;
    k->failed = 0;
}

static void key_append(key_buffer *k, const char *bytes, size_t n) {
    if (k->failed) {
        return;
    }
    if (k->len + n > k->cap) {
        size_t cap = k->cap * 2 > k->len + n ? k->cap * 2 : k->len + n;
        char *grown = k->data == k->stack ? malloc(cap) : realloc(k->data, cap);
        if (grown == NULL) {
            k->failed = 1;
            return;
        }
        if (k->data == k->stack) {
            memcpy(grown, k->stack, k->len);
        }
        k->data = grown;
        k->cap = cap;
    }
    memcpy(k->data + k->len, bytes, n);
    k->len += n;
}

/* Appends "<tag><length>:<bytes>", unambiguous whatever the bytes are. */
static void key_part(key_buffer *k, char tag, const char *bytes, size_t n) {
    char prefix[32];
    int w = snprintf(prefix, sizeof prefix, "|%c%zu:", tag, n);
    key_append(k, prefix, (size_t)w);
    key_append(k, bytes != NULL ? bytes : "", n);
}

static void key_release(key_buffer *k) {
    if (k->data != k->stack) {
        free(k->data);
    }
}

static const char *attr_or_empty(const rl_config *c, mcpgate_request *req, const char *key, size_t *len) {
    mcpgate_str value;
    if (c->api->attr_get(req, key, &value) == MCPGATE_OK && value.ptr != NULL) {
        *len = value.len;
        return value.ptr;
    }
    *len = 0;
    return "";
}

static void record(const rl_config *c, const rl_limit *limit, const char *decision) {
    mcpgate_str labels[2] = {mcpgate_str_from_cstr(limit->name), mcpgate_str_from_cstr(decision)};
    c->api->metric_record(c->decisions, labels, 2, 1);
}

static uint64_t ceil_seconds(uint64_t ms) { return (ms + 999) / 1000; }

/* Seconds until the bucket is full again (an upper bound: the current interval's elapsed part is not
 * known to the plugin). */
static uint64_t reset_seconds(const rl_bucket *b, uint64_t remaining) {
    if (remaining >= b->capacity) {
        return 0;
    }
    uint64_t missing = b->capacity - remaining;
    uint64_t intervals = (missing + b->refill_tokens - 1) / b->refill_tokens;
    return ceil_seconds(intervals * b->interval_ms);
}

static void set_header(const rl_config *c, mcpgate_request *req, const char *name, const char *value) {
    c->api->header_edit(req, MCPGATE_HEADERS_RESPONSE, MCPGATE_HEADER_SET, name, mcpgate_str_from_cstr(value));
}

static void queue_headers(const rl_config *c, mcpgate_request *req, const rl_limit *limit, const rl_bucket *b,
                          uint64_t remaining, uint64_t reset_s) {
    char value[192];
    if (c->headers == HEADERS_RATELIMIT) {
        snprintf(value, sizeof value, "%" PRIu64, b->capacity);
        set_header(c, req, "RateLimit-Limit", value);
        snprintf(value, sizeof value, "%" PRIu64, remaining);
        set_header(c, req, "RateLimit-Remaining", value);
        snprintf(value, sizeof value, "%" PRIu64, reset_s);
        set_header(c, req, "RateLimit-Reset", value);
    } else if (c->headers == HEADERS_DRAFT) {
        /* draft-ietf-httpapi-ratelimit-headers: structured fields naming the policy. */
        snprintf(value, sizeof value, "\"%s\";q=%" PRIu64 ";w=%" PRIu64, limit->name, b->capacity,
                 ceil_seconds(b->interval_ms * ((b->capacity + b->refill_tokens - 1) / b->refill_tokens)));
        set_header(c, req, "RateLimit-Policy", value);
        snprintf(value, sizeof value, "\"%s\";r=%" PRIu64 ";t=%" PRIu64, limit->name, remaining, reset_s);
        set_header(c, req, "RateLimit", value);
    }
}

/* Whether `limit` counts this message, and which bucket shape applies (an override or its own). */
static const rl_bucket *applicable_bucket(const rl_limit *limit, const mcpgate_rpc_message *m, int *overridden) {
    *overridden = 0;
    if (limit->methods != NULL && !any_matches(limit->methods, limit->method_count, m->method.ptr, m->method.len)) {
        return NULL;
    }
    int targeted = m->target_kind != MCPGATE_TARGET_NONE && m->target.len > 0;
    if (limit->tools != NULL && (!targeted || !any_matches(limit->tools, limit->tool_count, m->target.ptr,
                                                           m->target.len))) {
        return NULL;
    }
    for (size_t i = 0; targeted && i < limit->override_count; i++) {
        if (pattern_matches(limit->overrides[i].pattern, m->target.ptr, m->target.len)) {
            *overridden = 1;
            return &limit->overrides[i].bucket;
        }
    }
    return &limit->bucket;
}

static mcpgate_action rl_on_rpc_message(void *config, void *state, mcpgate_request *req,
                                        const mcpgate_rpc_message *message, mcpgate_decision *decision) {
    const rl_config *c = config;
    rl_request *r = state;
    if (message->kind != MCPGATE_RPC_REQUEST && message->kind != MCPGATE_RPC_NOTIFICATION) {
        return MCPGATE_CONTINUE; /* a client's answer to a server request is never limited */
    }
    size_t route_len;
    size_t principal_len;
    size_t target_len;
    mcpgate_str route_attr;
    int host_route = c->api->attr_get(req, "mcpgate.route", &route_attr) == MCPGATE_OK && route_attr.ptr != NULL;
    const char *route = host_route ? route_attr.ptr : c->local_route;
    route_len = host_route ? route_attr.len : c->local_route_len;
    const char *principal = attr_or_empty(c, req, MCPGATE_ATTR_PRINCIPAL, &principal_len);
    const char *target = attr_or_empty(c, req, "mcpgate.target", &target_len);

    const rl_limit *tightest = NULL;
    const rl_bucket *tightest_bucket = NULL;
    uint64_t tightest_remaining = 0;
    for (size_t i = 0; i < c->limit_count; i++) {
        const rl_limit *limit = &c->limits[i];
        int overridden;
        const rl_bucket *b = applicable_bucket(limit, message, &overridden);
        if (b == NULL) {
            continue;
        }
        key_buffer k;
        key_init(&k);
        char shape[96];
        int w = snprintf(shape, sizeof shape, "%" PRIu64 "/%" PRIu64 "/%" PRIu64, b->capacity, b->refill_tokens,
                         b->interval_ms);
        key_append(&k, "rl1", 3);
        key_part(&k, host_route ? 'R' : 'r', route, route_len);
        key_part(&k, 'L', limit->name, strlen(limit->name));
        key_part(&k, 'B', shape, (size_t)w);
        uint32_t parts = limit->key_parts | (overridden ? (uint32_t)KEY_TOOL : 0u);
        if (parts & KEY_PRINCIPAL) {
            key_part(&k, 'p', principal, principal_len);
        }
        if (parts & KEY_IP) {
            key_part(&k, 'i', r->ip, strlen(r->ip));
        }
        if (parts & KEY_TARGET) {
            key_part(&k, 't', target, target_len);
        }
        if (parts & KEY_TOOL) {
            char kind = (char)('0' + (message->target_kind & 7));
            key_part(&k, 'n', &kind, 1);
            key_part(&k, 'n', message->target.ptr, message->target.len);
        }
        if (parts & KEY_SESSION) {
            key_part(&k, 's', message->session_id.ptr, message->session_id.len);
        }
        if (parts & KEY_METHOD) {
            key_part(&k, 'm', message->method.ptr, message->method.len);
        }
        if (k.failed) {
            key_release(&k);
            return MCPGATE_ERROR;
        }
        mcpgate_rate_limit_result out = {.struct_size = (uint32_t)sizeof out};
        mcpgate_str key = {k.data, k.len};
        mcpgate_status status =
            c->api->rate_limit(c->inst, key, 1, b->capacity, b->refill_tokens, b->interval_ms, &out);
        key_release(&k);
        if (status != MCPGATE_OK) {
            record(c, limit, "error");
            MCPGATE_LOGF(c->api, c->inst, MCPGATE_LOG_WARN, "rate limit store failed for %s (status %d): %s",
                         limit->name, (int)status, c->fail_open ? "letting the request through" : "refusing it");
            if (c->fail_open) {
                continue;
            }
            return mcpgate_reject(decision, 503, -32603, "rate limit unavailable");
        }
        if (!out.allowed) {
            record(c, limit, "limited");
            uint64_t retry_ms = out.retry_after_ms > 0 ? out.retry_after_ms : 1;
            uint64_t retry_s = ceil_seconds(retry_ms);
            char value[32];
            snprintf(value, sizeof value, "%" PRIu64, retry_s);
            set_header(c, req, "Retry-After", value);
            queue_headers(c, req, limit, b, out.remaining, retry_s);
            snprintf(r->message, sizeof r->message, "Rate limit exceeded: %s (%" PRIu64 " per %" PRIu64 " ms)%s%.*s",
                     limit->name, b->capacity, b->interval_ms, overridden ? " for " : "",
                     overridden ? (int)(message->target.len > 128 ? 128 : message->target.len) : 0,
                     overridden ? message->target.ptr : "");
            decision->data = json_pack("{s:s, s:I, s:I, s:I, s:I}", "limit", limit->name, "retryAfterMs",
                                       (json_int_t)retry_ms, "maxTokens", (json_int_t)b->capacity, "tokensPerFill",
                                       (json_int_t)b->refill_tokens, "fillIntervalMs", (json_int_t)b->interval_ms);
            return mcpgate_reject(decision, c->status, c->rpc_code, r->message);
        }
        record(c, limit, "allowed");
        if (tightest == NULL || out.remaining < tightest_remaining) {
            tightest = limit;
            tightest_bucket = b;
            tightest_remaining = out.remaining;
        }
    }
    if (tightest != NULL) {
        queue_headers(c, req, tightest, tightest_bucket, tightest_remaining,
                      reset_seconds(tightest_bucket, tightest_remaining));
    }
    return MCPGATE_CONTINUE;
}

static const mcpgate_plugin ratelimit_descriptor = {
    MCPGATE_PLUGIN_HEADER,
    .name = "ratelimit",
    .version = "1.0.0",
    .description = "token-bucket rate limits per principal, client IP, target, tool, session or method",
    .init = rl_init,
    .config_new = rl_config_new,
    .config_destroy = rl_config_destroy,
    .request_new = rl_request_new,
    .request_destroy = rl_request_destroy,
    .on_http_request_headers = rl_on_http_request_headers,
    .on_rpc_message = rl_on_rpc_message,
};

MCPGATE_DEFINE_PLUGIN(ratelimit_descriptor)
