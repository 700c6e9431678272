/*
 * cache -- mcpgate's bundled `policies.cache` filter: a spec-aware response cache for MCP.
 *
 * Caches the results of tools/list, prompts/list, resources/list, resources/templates/list,
 * resources/read and server/discover (nothing else is idempotent) in the host KV store, so one
 * process now and N replicas over a shared store later serve the same entries.
 *
 *   on_rpc_message   lookup: a hit is answered with RESPOND (the host writes the request's own id);
 *                    a miss is remembered in the request state.
 *   on_rpc_response  fill: the final result for a remembered miss is stored, honouring the
 *                    2026-07-28 hints (ttlMs, cacheScope), or with the configured TTL when the
 *                    result has none (handshake era). input_required results and retries carrying
 *                    requestState / inputResponses are never stored.
 *   on_sse_event     invalidation: notifications/{tools,prompts,resources}/list_changed and
 *                    notifications/resources/updated move the affected group to a new generation.
 *
 * Key: route (mcpgate.route, else this instance, which serves one route), upstream target when the
 * host names it, protocol version, method, uri or cursor, generation, and the partition: `public`, or `private` + the verified principal
 * (mcpgate.principal). A private entry is never served to another principal.
 *
 * Generations: every group (tools, prompts, resources lists, one resource URI) has a generation
 * value in the KV store that is part of every entry key; invalidating moves it to a fresh unique
 * value, so all pages, versions and partitions of the group go stale at once, on every replica,
 * without enumerating keys. A generation evicted from the store comes back as a new value, never
 * an old one, so eviction can only cause misses.
 *
 * Bounded: the instance keeps an index (hash map + LRU list) of the entries it stored, with their
 * sizes; past maxBytes it evicts the least recently used with kv_delete. The index is the only
 * mutable state shared between threads and is guarded by a mutex held for O(1) work per request.
 */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcpgate/filter.h"

/* ============================================ methods =========================================== */

enum {
    M_TOOLS_LIST,
    M_PROMPTS_LIST,
    M_RESOURCES_LIST,
    M_TEMPLATES_LIST,
    M_RESOURCES_READ,
    M_DISCOVER,
    M_COUNT,
};
static const char *const method_names[M_COUNT] = {"tools/list",     "prompts/list",   "resources/list",
                                                  "resources/templates/list", "resources/read", "server/discover"};
/* The invalidation group of each method ("" = none: server/discover only expires). resources/read
 * groups per URI. */
static const char *const method_groups[M_COUNT] = {"tools", "prompts", "resources", "resources", "uri", ""};

static int method_index(mcpgate_str method) {
    for (int i = 0; i < M_COUNT; i++) {
        if (mcpgate_str_equals(method, method_names[i])) {
            return i;
        }
    }
    return -1;
}

/* TTL settings per method: a TTL for results without hints, "hints only", or never cached. */
#define TTL_HINTS_ONLY 0
#define TTL_DISABLED UINT64_MAX

/* ============================================ the index ========================================= */

/* LRU list links; the first member of an entry, so a link is its entry. */
typedef struct lru_link {
    struct lru_link *prev;
    struct lru_link *next;
} lru_link;

typedef struct cache_entry {
    lru_link lru; /* first */
    struct cache_entry *hash_next;
    uint64_t hash;
    uint64_t expires_ms; /* monotonic */
    size_t bytes;        /* key + value, as charged against maxBytes */
    size_t key_len;
    char key[];
} cache_entry;

typedef struct cache_index {
    pthread_mutex_t lock;
    cache_entry **buckets;
    size_t bucket_count;
    lru_link lru; /* sentinel: lru.next is the most recently used, lru.prev the least */
    size_t entries;
    size_t bytes;
} cache_index;

/* ============================================ config ============================================ */

typedef struct cache_config {
    const mcpgate_host_api *api;
    mcpgate_instance *inst;
    char *instance_name;
    size_t instance_name_len;
    uint64_t method_ttl_ms[M_COUNT]; /* TTL_HINTS_ONLY, TTL_DISABLED, or a TTL */
    int default_public;              /* scope assumed for results without hints */
    int honour_hints;
    uint64_t max_ttl_ms;
    size_t max_bytes;
    size_t max_entry_bytes;
    mcpgate_metric *lookups;       /* {method, result=hit|miss|bypass} */
    mcpgate_metric *stores;        /* {method, outcome=stored|uncacheable|too_large|failed} */
    mcpgate_metric *evictions;     /* {reason=capacity|expired} */
    mcpgate_metric *invalidations; /* {notification} */
    mcpgate_metric *size_bytes;
    mcpgate_metric *size_entries;
    atomic_uint_fast64_t generation_counter;
    /* Stands for the route when the host sets no mcpgate.route: unique to this instance, which serves
     * exactly one route, so entries are never served across routes (a reload starts afresh). */
    char local_route[64];
    size_t local_route_len;
    cache_index index;
} cache_config;

/* A lookup that missed, waiting for its response. */
typedef struct pending_fill {
    json_t *id;
    int method;
    int cursor; /* the request named a cursor (an invalid-cursor error drops the list's pages) */
    int no_store;
    char *public_key;
    size_t public_len;
    char *private_key; /* NULL when the request has no usable private partition */
    size_t private_len;
    char *group_key; /* NULL for server/discover */
    size_t group_len;
} pending_fill;

typedef struct cache_request {
    pending_fill *pending;
    size_t pending_count;
    size_t pending_cap;
    char *value; /* kv_get buffer; also backs a RESPOND body until the hook returns */
    size_t value_cap;
    char *body; /* a hinted hit's result with its ttlMs rewritten */
    size_t body_cap;
} cache_request;

/* ============================================ helpers =========================================== */

static uint64_t fnv1a(const char *bytes, size_t n) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ (unsigned char)bytes[i]) * 0x100000001b3ULL;
    }
    return h;
}

static uint64_t now_ms(const cache_config *c) { return c->api->monotonic_ns(c->inst) / 1000000u; }

static uint64_t wall_ms(const cache_config *c) {
    int64_t ns = c->api->wall_unix_ns(c->inst);
    return ns > 0 ? (uint64_t)ns / 1000000u : 0;
}

/* A growable byte string. */
typedef struct buffer {
    char *data;
    size_t len;
    size_t cap;
    int failed;
} buffer;

static void buf_append(buffer *b, const void *bytes, size_t n) {
    if (b->failed) {
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 128;
        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        char *grown = realloc(b->data, cap);
        if (grown == NULL) {
            b->failed = 1;
            return;
        }
        b->data = grown;
        b->cap = cap;
    }
    if (n > 0) {
        memcpy(b->data + b->len, bytes, n);
    }
    b->len += n;
    b->data[b->len] = '\0';
}

/* "|<tag><length>:<bytes>": unambiguous whatever the bytes are. */
static void buf_part(buffer *b, char tag, const char *bytes, size_t n) {
    char prefix[32];
    int w = snprintf(prefix, sizeof prefix, "|%c%zu:", tag, n);
    buf_append(b, prefix, (size_t)w);
    buf_append(b, bytes != NULL ? bytes : "", n);
}

static char *copy_bytes(const char *s, size_t n) {
    char *copy = malloc(n + 1);
    if (copy != NULL) {
        if (n > 0) {
            memcpy(copy, s, n);
        }
        copy[n] = '\0';
    }
    return copy;
}

/* Durations as the gateway's config writes them: a number of seconds, or "500ms", "1.5s", "15m",
 * "1h30m". 0 ms is allowed here (it means "do not cache"). Returns -1 when malformed. */
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
    if (total_ms < 0 || total_ms > 1e15) {
        return -1;
    }
    *out = (uint64_t)(total_ms + 0.5);
    return 0;
}

/* Sizes as the gateway's config writes them: a whole number of bytes, or a whole number with B, KB,
 * MB, GB (x1000) or KiB, MiB, GiB (x1024). Must be more than zero. */
static int parse_size(const json_t *value, size_t *out) {
    if (json_is_integer(value)) {
        if (json_integer_value(value) < 1) {
            return -1;
        }
        *out = (size_t)json_integer_value(value);
        return 0;
    }
    if (!json_is_string(value)) {
        return -1;
    }
    const char *s = json_string_value(value);
    char *end = NULL;
    if (s[0] < '0' || s[0] > '9') {
        return -1;
    }
    unsigned long long n = strtoull(s, &end, 10);
    static const struct {
        const char *unit;
        unsigned long long factor;
    } units[] = {{"", 1},           {"B", 1},           {"KB", 1000ULL},        {"MB", 1000000ULL},
                 {"GB", 1000000000ULL}, {"KiB", 1ULL << 10}, {"MiB", 1ULL << 20}, {"GiB", 1ULL << 30}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(end, units[i].unit) == 0) {
            if (n == 0 || n > (unsigned long long)SIZE_MAX / units[i].factor) {
                return -1;
            }
            *out = (size_t)(n * units[i].factor);
            return 0;
        }
    }
    return -1;
}

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

static void record1(const cache_config *c, mcpgate_metric *m, const char *label, double value) {
    mcpgate_str l = mcpgate_str_from_cstr(label);
    c->api->metric_record(m, &l, 1, value);
}

static void record2(const cache_config *c, mcpgate_metric *m, const char *a, const char *b) {
    mcpgate_str l[2] = {mcpgate_str_from_cstr(a), mcpgate_str_from_cstr(b)};
    c->api->metric_record(m, l, 2, 1);
}

/* ============================================ the index ========================================= */

static int index_init(cache_index *x) {
    x->bucket_count = 64;
    x->buckets = calloc(x->bucket_count, sizeof *x->buckets);
    if (x->buckets == NULL) {
        return -1;
    }
    if (pthread_mutex_init(&x->lock, NULL) != 0) {
        free(x->buckets);
        x->buckets = NULL;
        return -1;
    }
    x->lru.next = &x->lru;
    x->lru.prev = &x->lru;
    return 0;
}

static void index_destroy(cache_index *x) {
    if (x->buckets == NULL) {
        return;
    }
    lru_link *l = x->lru.next;
    while (l != &x->lru) {
        lru_link *next = l->next;
        free((cache_entry *)l);
        l = next;
    }
    free(x->buckets);
    pthread_mutex_destroy(&x->lock);
}

static cache_entry *index_find(cache_index *x, const char *key, size_t len, uint64_t hash) {
    for (cache_entry *e = x->buckets[hash % x->bucket_count]; e != NULL; e = e->hash_next) {
        if (e->hash == hash && e->key_len == len && memcmp(e->key, key, len) == 0) {
            return e;
        }
    }
    return NULL;
}

static void lru_unlink(cache_entry *e) {
    e->lru.prev->next = e->lru.next;
    e->lru.next->prev = e->lru.prev;
}

static void lru_push_front(cache_index *x, cache_entry *e) {
    e->lru.next = x->lru.next;
    e->lru.prev = &x->lru;
    x->lru.next->prev = &e->lru;
    x->lru.next = &e->lru;
}

static void index_unlink(cache_index *x, cache_entry *e) {
    cache_entry **link = &x->buckets[e->hash % x->bucket_count];
    while (*link != e) {
        link = &(*link)->hash_next;
    }
    *link = e->hash_next;
    lru_unlink(e);
    x->entries--;
    x->bytes -= e->bytes;
}

static void index_grow(cache_index *x) {
    size_t count = x->bucket_count * 2;
    cache_entry **buckets = calloc(count, sizeof *buckets);
    if (buckets == NULL) {
        return; /* keep the longer chains */
    }
    for (size_t i = 0; i < x->bucket_count; i++) {
        cache_entry *e = x->buckets[i];
        while (e != NULL) {
            cache_entry *next = e->hash_next;
            e->hash_next = buckets[e->hash % count];
            buckets[e->hash % count] = e;
            e = next;
        }
    }
    free(x->buckets);
    x->buckets = buckets;
    x->bucket_count = count;
}

static void publish_size(const cache_config *c, size_t entries, size_t bytes) {
    c->api->metric_record(c->size_bytes, NULL, 0, (double)bytes);
    c->api->metric_record(c->size_entries, NULL, 0, (double)entries);
}

/* Records that `key` holds `bytes` until `expires_ms`, then evicts least recently used entries (and
 * the expired ones it meets at the cold end) until the total is within maxBytes. */
static void index_store(cache_config *c, const char *key, size_t len, size_t bytes, uint64_t expires_ms) {
    cache_index *x = &c->index;
    uint64_t hash = fnv1a(key, len);
    uint64_t now = now_ms(c);
    size_t evicted = 0;
    size_t expired = 0;
    pthread_mutex_lock(&x->lock);
    cache_entry *e = index_find(x, key, len, hash);
    if (e != NULL) {
        index_unlink(x, e);
    } else {
        e = malloc(sizeof *e + len);
        if (e != NULL) {
            memcpy(e->key, key, len);
            e->key_len = len;
            e->hash = hash;
        }
    }
    if (e != NULL) {
        e->bytes = bytes;
        e->expires_ms = expires_ms;
        if (x->entries + 1 > x->bucket_count) {
            index_grow(x);
        }
        cache_entry **bucket = &x->buckets[hash % x->bucket_count];
        e->hash_next = *bucket;
        *bucket = e;
        lru_push_front(x, e);
        x->entries++;
        x->bytes += bytes;
    }
    const lru_link *keep = e != NULL ? &e->lru : NULL;
    while (x->lru.prev != &x->lru && x->lru.prev != keep &&
           (x->bytes > c->max_bytes || ((cache_entry *)x->lru.prev)->expires_ms <= now)) {
        cache_entry *victim = (cache_entry *)x->lru.prev;
        index_unlink(x, victim);
        if (victim->expires_ms <= now) {
            expired++; /* the store has dropped it already */
        } else {
            c->api->kv_delete(c->inst, (mcpgate_str){victim->key, victim->key_len});
            evicted++;
        }
        free(victim);
    }
    size_t entries = x->entries;
    size_t total = x->bytes;
    pthread_mutex_unlock(&x->lock);
    if (evicted > 0) {
        record1(c, c->evictions, "capacity", (double)evicted);
    }
    if (expired > 0) {
        record1(c, c->evictions, "expired", (double)expired);
    }
    publish_size(c, entries, total);
}

/* A hit: the entry becomes the most recently used (or is indexed, if another instance stored it). */
static void index_touch(cache_config *c, const char *key, size_t len, size_t bytes, uint64_t expires_ms) {
    cache_index *x = &c->index;
    uint64_t hash = fnv1a(key, len);
    pthread_mutex_lock(&x->lock);
    cache_entry *e = index_find(x, key, len, hash);
    if (e != NULL) {
        lru_unlink(e);
        lru_push_front(x, e);
        pthread_mutex_unlock(&x->lock);
        return;
    }
    pthread_mutex_unlock(&x->lock);
    index_store(c, key, len, bytes, expires_ms);
}

/* The store no longer has `key` (expired, evicted by the store, or deleted): forget it. */
static void index_forget(cache_config *c, const char *key, size_t len) {
    cache_index *x = &c->index;
    uint64_t hash = fnv1a(key, len);
    pthread_mutex_lock(&x->lock);
    cache_entry *e = index_find(x, key, len, hash);
    if (e != NULL) {
        index_unlink(x, e);
        free(e);
    }
    size_t entries = x->entries;
    size_t total = x->bytes;
    pthread_mutex_unlock(&x->lock);
    if (e != NULL) {
        publish_size(c, entries, total);
    }
}

/* ============================================ config ============================================ */

static void config_free(cache_config *c) {
    if (c == NULL) {
        return;
    }
    index_destroy(&c->index);
    free(c->instance_name);
    free(c);
}

static mcpgate_status cache_init(const mcpgate_host_api *api, void **plugin_out, char *err, size_t err_len) {
    if (!MCPGATE_HOST_HAS(api, kv_delete)) {
        snprintf(err, err_len, "the host has no KV store");
        return MCPGATE_ERR_UNSUPPORTED;
    }
    *plugin_out = (void *)api; /* the plugin object is the host table: no global state */
    return MCPGATE_OK;
}

static mcpgate_status cache_config_new(void *plugin, mcpgate_instance *inst, const json_t *config, mcpgate_str raw,
                                       void **config_out, char *err, size_t err_len) {
    (void)raw;
    static const char *const allowed[] = {"ttl", "methods", "scope", "hints", "maxTtl", "maxBytes", "maxEntryBytes"};
    cache_config *c = calloc(1, sizeof *c);
    if (c == NULL) {
        snprintf(err, err_len, "out of memory");
        return MCPGATE_ERR_INTERNAL;
    }
    c->api = plugin;
    c->inst = inst;
    c->honour_hints = 1;
    c->max_ttl_ms = 24u * 3600u * 1000u;
    c->max_bytes = (size_t)16 << 20;
    c->max_entry_bytes = (size_t)1 << 20;
    atomic_init(&c->generation_counter, 0);
    if (index_init(&c->index) != 0) {
        snprintf(err, err_len, "out of memory");
        free(c);
        return MCPGATE_ERR_INTERNAL;
    }
    mcpgate_str name = c->api->instance_name(inst);
    if ((c->instance_name = copy_bytes(name.ptr, name.len)) == NULL) {
        snprintf(err, err_len, "out of memory");
        goto fail;
    }
    c->instance_name_len = name.len;
    int token = snprintf(c->local_route, sizeof c->local_route, "%" PRIx64 ".%" PRIxPTR,
                         (uint64_t)c->api->wall_unix_ns(inst), (uintptr_t)c);
    c->local_route_len = token > 0 ? (size_t)token : 0;

    if (!json_is_object(config)) {
        snprintf(err, err_len, "cache: expected a mapping {ttl, methods, scope, maxBytes, ...}");
        goto fail;
    }
    if (check_keys(config, allowed, sizeof allowed / sizeof allowed[0], "cache", err, err_len) != 0) {
        goto fail;
    }
    uint64_t ttl = TTL_HINTS_ONLY;
    const json_t *value = json_object_get(config, "ttl");
    if (value != NULL && parse_duration_ms(value, &ttl) != 0) {
        snprintf(err, err_len, "cache.ttl: expected a duration (30s, 500ms, 5m, 1h; 0 caches only results with "
                               "ttlMs hints)");
        goto fail;
    }
    for (int i = 0; i < M_COUNT; i++) {
        c->method_ttl_ms[i] = ttl;
    }
    const json_t *methods = json_object_get(config, "methods");
    if (methods != NULL) {
        if (!json_is_object(methods)) {
            snprintf(err, err_len, "cache.methods: expected a mapping of method -> ttl (a duration, or false to "
                                   "never cache the method)");
            goto fail;
        }
        const char *method;
        json_object_foreach((json_t *)methods, method, value) {
            int m = method_index(mcpgate_str_from_cstr(method));
            if (m < 0) {
                snprintf(err, err_len,
                         "cache.methods.%s: not a cacheable method (tools/list, prompts/list, resources/list, "
                         "resources/templates/list, resources/read, server/discover)",
                         method);
                goto fail;
            }
            if (json_is_false(value)) {
                c->method_ttl_ms[m] = TTL_DISABLED;
            } else if (parse_duration_ms(value, &c->method_ttl_ms[m]) != 0) {
                snprintf(err, err_len, "cache.methods.%s: expected a duration (30s, 5m; 0 caches only results "
                                       "with ttlMs hints) or false (never cache)",
                         method);
                goto fail;
            }
        }
    }
    value = json_object_get(config, "scope");
    if (value != NULL) {
        const char *s = json_string_value(value);
        if (s != NULL && strcmp(s, "public") == 0) {
            c->default_public = 1;
        } else if (s == NULL || strcmp(s, "private") != 0) {
            snprintf(err, err_len, "cache.scope: expected \"private\" or \"public\"");
            goto fail;
        }
    }
    value = json_object_get(config, "hints");
    if (value != NULL) {
        if (!json_is_boolean(value)) {
            snprintf(err, err_len, "cache.hints: expected true or false");
            goto fail;
        }
        c->honour_hints = json_is_true(value);
    }
    value = json_object_get(config, "maxTtl");
    if (value != NULL && (parse_duration_ms(value, &c->max_ttl_ms) != 0 || c->max_ttl_ms == 0)) {
        snprintf(err, err_len, "cache.maxTtl: expected a duration greater than zero (24h)");
        goto fail;
    }
    value = json_object_get(config, "maxBytes");
    if (value != NULL && parse_size(value, &c->max_bytes) != 0) {
        snprintf(err, err_len, "cache.maxBytes: expected a size (65536, 64MiB, 100MB)");
        goto fail;
    }
    value = json_object_get(config, "maxEntryBytes");
    if (value != NULL && parse_size(value, &c->max_entry_bytes) != 0) {
        snprintf(err, err_len, "cache.maxEntryBytes: expected a size (65536, 1MiB)");
        goto fail;
    }
    if (c->max_entry_bytes > c->max_bytes) {
        snprintf(err, err_len, "cache.maxEntryBytes: must not exceed maxBytes (%zu)", c->max_bytes);
        goto fail;
    }

    static const char *const lookup_labels[] = {"method", "result"};
    static const char *const store_labels[] = {"method", "outcome"};
    static const char *const eviction_labels[] = {"reason"};
    static const char *const invalidation_labels[] = {"notification"};
    if (c->api->metric_define(inst, MCPGATE_METRIC_COUNTER, "cache_lookups_total",
                              "cacheable requests by method and result (hit, miss, bypass)", lookup_labels, 2, NULL,
                              0, &c->lookups) != MCPGATE_OK ||
        c->api->metric_define(inst, MCPGATE_METRIC_COUNTER, "cache_stores_total",
                              "responses to misses by method and outcome (stored, uncacheable, too_large, failed)",
                              store_labels, 2, NULL, 0, &c->stores) != MCPGATE_OK ||
        c->api->metric_define(inst, MCPGATE_METRIC_COUNTER, "cache_evictions_total",
                              "entries dropped from the index: capacity (maxBytes) or expired", eviction_labels, 1,
                              NULL, 0, &c->evictions) != MCPGATE_OK ||
        c->api->metric_define(inst, MCPGATE_METRIC_COUNTER, "cache_invalidations_total",
                              "change notifications that invalidated cached results", invalidation_labels, 1, NULL, 0,
                              &c->invalidations) != MCPGATE_OK ||
        c->api->metric_define(inst, MCPGATE_METRIC_GAUGE, "cache_size_bytes",
                              "bytes of the entries this instance stored and still tracks (key + value)", NULL, 0,
                              NULL, 0, &c->size_bytes) != MCPGATE_OK ||
        c->api->metric_define(inst, MCPGATE_METRIC_GAUGE, "cache_entries", "entries this instance tracks", NULL, 0,
                              NULL, 0, &c->size_entries) != MCPGATE_OK) {
        snprintf(err, err_len, "cannot define the cache metrics");
        goto fail;
    }
    MCPGATE_LOGF(c->api, inst, MCPGATE_LOG_INFO, "cache: maxBytes %zu, default ttl %" PRIu64 " ms, scope %s, hints %s",
                 c->max_bytes, ttl, c->default_public ? "public" : "private", c->honour_hints ? "on" : "off");
    *config_out = c;
    return MCPGATE_OK;

fail:
    config_free(c);
    return MCPGATE_ERR_BAD_ARGUMENT;
}

static void cache_config_destroy(void *config) { config_free(config); }

/* ============================================ request state ===================================== */

static void pending_free(pending_fill *p) {
    json_decref(p->id);
    free(p->public_key);
    free(p->private_key);
    free(p->group_key);
    memset(p, 0, sizeof *p);
}

static mcpgate_status cache_request_new(void *config, mcpgate_request *req, void **state_out) {
    (void)config;
    (void)req;
    cache_request *state = calloc(1, sizeof *state);
    if (state == NULL) {
        return MCPGATE_ERR_INTERNAL;
    }
    *state_out = state;
    return MCPGATE_OK;
}

static void cache_request_destroy(void *config, void *state) {
    (void)config;
    cache_request *r = state;
    for (size_t i = 0; i < r->pending_count; i++) {
        pending_free(&r->pending[i]);
    }
    free(r->pending);
    free(r->value);
    free(r->body);
    free(r);
}

/* ============================================ keys ============================================== */

/* Appends the route part: mcpgate.route when the host sets it, else this instance's own token. */
static void append_route(const cache_config *c, mcpgate_request *req, buffer *b) {
    buf_part(b, 'I', c->instance_name, c->instance_name_len);
    mcpgate_str value;
    if (c->api->attr_get(req, "mcpgate.route", &value) == MCPGATE_OK) {
        buf_part(b, 'R', value.ptr, value.len);
    } else {
        buf_part(b, 'F', c->local_route, c->local_route_len);
    }
}

/* The group key of method m (with `uri` for resources/read), into b. */
static void append_group_key(const cache_config *c, mcpgate_request *req, buffer *b, int m, const char *uri,
                             size_t uri_len) {
    buf_append(b, "cg1", 3);
    append_route(c, req, b);
    buf_part(b, 'G', method_groups[m], strlen(method_groups[m]));
    if (m == M_RESOURCES_READ) {
        buf_part(b, 'U', uri, uri_len);
    }
}

/* A fresh generation value: never one a group had before (wall clock + per-instance counter). */
static int new_generation(cache_config *c, char *out, size_t cap) {
    uint64_t n = atomic_fetch_add(&c->generation_counter, 1);
    return snprintf(out, cap, "%" PRIx64 ".%" PRIx64 ".%" PRIxPTR, (uint64_t)c->api->wall_unix_ns(c->inst), n,
                    (uintptr_t)c);
}

/* The group's current generation into out (NUL-terminated); created when the store has none. */
static int current_generation(cache_config *c, const char *key, size_t key_len, char *out, size_t cap,
                              size_t *out_len) {
    mcpgate_str k = {key, key_len};
    for (int attempt = 0; attempt < 3; attempt++) {
        size_t len = 0;
        mcpgate_status s = c->api->kv_get(c->inst, k, out, cap - 1, &len, NULL);
        if (s == MCPGATE_OK) {
            out[len] = '\0';
            *out_len = len;
            return 0;
        }
        if (s != MCPGATE_ERR_NOT_FOUND) {
            return -1;
        }
        int n = new_generation(c, out, cap);
        s = c->api->kv_cas(c->inst, k, 0, (mcpgate_str){out, (size_t)n}, 0, NULL);
        if (s == MCPGATE_OK) {
            *out_len = (size_t)n;
            return 0;
        }
        if (s != MCPGATE_ERR_CAS_MISMATCH) {
            return -1;
        }
    }
    return -1;
}

/* ============================================ lookup ============================================ */

/* 1 if a request header `name` contains `token` (case-insensitive), e.g. Cache-Control: no-cache. */
static int header_has_token(const cache_config *c, mcpgate_request *req, const char *name, const char *token) {
    mcpgate_str v;
    if (c->api->header_get(req, MCPGATE_HEADERS_REQUEST, name, 0, &v) != MCPGATE_OK) {
        return 0;
    }
    size_t n = strlen(token);
    for (size_t i = 0; i + n <= v.len; i++) {
        size_t j = 0;
        while (j < n) {
            char a = v.ptr[i + j];
            if (a >= 'A' && a <= 'Z') {
                a = (char)(a - 'A' + 'a');
            }
            if (a != token[j]) {
                break;
            }
            j++;
        }
        if (j == n) {
            return 1;
        }
    }
    return 0;
}

/* Reads key into the request's value buffer. 1 found, 0 absent, -1 store failure. */
static int fetch(cache_config *c, cache_request *r, const char *key, size_t key_len, size_t *len_out) {
    mcpgate_str k = {key, key_len};
    for (int attempt = 0; attempt < 3; attempt++) {
        size_t len = 0;
        mcpgate_status s =
            c->api->kv_get(c->inst, k, r->value, r->value_cap > 0 ? r->value_cap - 1 : 0, &len, NULL);
        if (s == MCPGATE_OK) {
            if (r->value == NULL) {
                return 0; /* an empty value is not an entry of ours */
            }
            r->value[len] = '\0';
            *len_out = len;
            return 1;
        }
        if (s == MCPGATE_ERR_NOT_FOUND) {
            return 0;
        }
        if (s != MCPGATE_ERR_TOO_SMALL) {
            return -1;
        }
        char *grown = realloc(r->value, len + 1);
        if (grown == NULL) {
            return -1;
        }
        r->value = grown;
        r->value_cap = len + 1;
    }
    return -1;
}

/* Parses an entry "c1 <h|-> <stored wall ms> <ttl ms>\n<result JSON>"; points *json into r->value. */
static int parse_entry(const char *value, size_t len, int *hinted, uint64_t *stored_ms, uint64_t *ttl_ms,
                       const char **json, size_t *json_len) {
    const char *newline = memchr(value, '\n', len);
    if (len < 4 || memcmp(value, "c1 ", 3) != 0 || newline == NULL) {
        return -1;
    }
    *hinted = value[3] == 'h';
    char *end = NULL;
    *stored_ms = strtoull(value + 5, &end, 10);
    if (end == NULL || *end != ' ') {
        return -1;
    }
    *ttl_ms = strtoull(end + 1, &end, 10);
    if (end != newline) {
        return -1;
    }
    *json = newline + 1;
    *json_len = len - (size_t)(newline + 1 - value);
    return *json_len >= 2 && (*json)[0] == '{' ? 0 : -1;
}

/* Tries one arm. On a fresh hit fills the decision and returns 1. */
static int try_serve(cache_config *c, cache_request *r, const char *key, size_t key_len, mcpgate_decision *d) {
    size_t len = 0;
    int found = fetch(c, r, key, key_len, &len);
    if (found <= 0) {
        if (found == 0) {
            index_forget(c, key, key_len);
        }
        return 0;
    }
    int hinted;
    uint64_t stored_ms;
    uint64_t ttl_ms;
    const char *json;
    size_t json_len;
    if (parse_entry(r->value, len, &hinted, &stored_ms, &ttl_ms, &json, &json_len) != 0) {
        return 0;
    }
    uint64_t now = wall_ms(c);
    uint64_t age = now > stored_ms ? now - stored_ms : 0;
    if (age >= ttl_ms) {
        return 0; /* the store's clock and ours disagree: treat as stale */
    }
    index_touch(c, key, key_len, key_len + len, now_ms(c) + (ttl_ms - age));
    if (!hinted) {
        d->body = (mcpgate_str){json, json_len};
        return 1;
    }
    /* 2026-07-28: the result is fresh for what is left of its ttlMs, not the whole of it again. */
    char prefix[48];
    int n = snprintf(prefix, sizeof prefix, "{\"ttlMs\":%" PRIu64 "%s", ttl_ms - age, json_len > 2 ? "," : "");
    size_t need = (size_t)n + json_len;
    if (need > r->body_cap) {
        char *grown = realloc(r->body, need);
        if (grown == NULL) {
            return 0;
        }
        r->body = grown;
        r->body_cap = need;
    }
    memcpy(r->body, prefix, (size_t)n);
    memcpy(r->body + n, json + 1, json_len - 1);
    d->body = (mcpgate_str){r->body, (size_t)n + json_len - 1};
    return 1;
}

static int add_pending(cache_request *r, pending_fill *p) {
    if (r->pending_count == r->pending_cap) {
        size_t cap = r->pending_cap ? r->pending_cap * 2 : 2;
        pending_fill *grown = realloc(r->pending, cap * sizeof *grown);
        if (grown == NULL) {
            return -1;
        }
        r->pending = grown;
        r->pending_cap = cap;
    }
    r->pending[r->pending_count++] = *p;
    return 0;
}

static mcpgate_action cache_on_rpc_message(void *config, void *state, mcpgate_request *req,
                                           const mcpgate_rpc_message *message, mcpgate_decision *decision) {
    cache_config *c = config;
    cache_request *r = state;
    if (message->kind != MCPGATE_RPC_REQUEST || message->id == NULL) {
        return MCPGATE_CONTINUE;
    }
    int m = method_index(message->method);
    if (m < 0 || c->method_ttl_ms[m] == TTL_DISABLED) {
        return MCPGATE_CONTINUE;
    }
    const json_t *params = message->params;
    /* A retry answering input_required must reach the server (the spec: MUST NOT be cached). */
    if (json_object_get(params, "requestState") != NULL || json_object_get(params, "inputResponses") != NULL ||
        header_has_token(c, req, "Cache-Control", "no-store")) {
        record2(c, c->lookups, method_names[m], "bypass");
        return MCPGATE_CONTINUE;
    }
    const char *arg = "";
    size_t arg_len = 0;
    char arg_kind = 'c';
    if (m == M_RESOURCES_READ) {
        arg_kind = 'u';
        if (message->target_kind == MCPGATE_TARGET_RESOURCE && message->target.len > 0) {
            arg = message->target.ptr;
            arg_len = message->target.len;
        } else if (json_is_string(json_object_get(params, "uri"))) {
            arg = json_string_value(json_object_get(params, "uri"));
            arg_len = json_string_length(json_object_get(params, "uri"));
        } else {
            return MCPGATE_CONTINUE; /* malformed: the server answers it */
        }
    } else if (json_object_get(params, "cursor") != NULL) {
        if (!json_is_string(json_object_get(params, "cursor"))) {
            return MCPGATE_CONTINUE;
        }
        arg = json_string_value(json_object_get(params, "cursor"));
        arg_len = json_string_length(json_object_get(params, "cursor"));
    }

    /* The partition for private results: the verified principal. Without one, a request that carries
     * credentials the gateway did not verify has no safe partition; one without any is anonymous. */
    mcpgate_str principal = {"", 0};
    int has_principal = c->api->attr_get(req, MCPGATE_ATTR_PRINCIPAL, &principal) == MCPGATE_OK;
    mcpgate_str ignored;
    int private_ok = has_principal ||
                     (c->api->header_get(req, MCPGATE_HEADERS_REQUEST, "Authorization", 0, &ignored) != MCPGATE_OK &&
                      c->api->header_get(req, MCPGATE_HEADERS_REQUEST, "Cookie", 0, &ignored) != MCPGATE_OK);

    pending_fill p = {.method = m, .cursor = arg_kind == 'c' && arg_len > 0};
    buffer base = {0};
    char generation[96] = "-";
    size_t generation_len = 1;
    if (method_groups[m][0] != '\0') {
        buffer group = {0};
        append_group_key(c, req, &group, m, arg, arg_len);
        if (group.failed ||
            current_generation(c, group.data, group.len, generation, sizeof generation, &generation_len) != 0) {
            free(group.data);
            record2(c, c->lookups, method_names[m], "bypass");
            return MCPGATE_CONTINUE; /* the store is unavailable: act as if there were no cache */
        }
        p.group_key = group.data;
        p.group_len = group.len;
    }
    buf_append(&base, "c1", 2);
    append_route(c, req, &base);
    mcpgate_str target;
    if (c->api->attr_get(req, "mcpgate.target", &target) == MCPGATE_OK) {
        buf_part(&base, 'T', target.ptr, target.len);
    }
    buf_part(&base, 'V', message->protocol_version.ptr, message->protocol_version.len);
    buf_part(&base, 'M', method_names[m], strlen(method_names[m]));
    buf_part(&base, arg_kind, arg, arg_len);
    buf_part(&base, 'N', generation, generation_len);
    buffer pub = {0};
    buffer prv = {0};
    buf_append(&pub, base.data, base.len);
    buf_part(&pub, 'S', "public", 6);
    if (private_ok) {
        buf_append(&prv, base.data, base.len);
        buf_part(&prv, 'S', "private", 7);
        buf_part(&prv, 'W', principal.ptr, principal.len);
    }
    free(base.data);
    p.public_key = pub.data;
    p.public_len = pub.len;
    p.private_key = prv.data;
    p.private_len = prv.len;
    if (base.failed || pub.failed || prv.failed) {
        pending_free(&p);
        return MCPGATE_ERROR;
    }

    if (!header_has_token(c, req, "Cache-Control", "no-cache")) {
        if ((p.private_key != NULL && try_serve(c, r, p.private_key, p.private_len, decision)) ||
            try_serve(c, r, p.public_key, p.public_len, decision)) {
            record2(c, c->lookups, method_names[m], "hit");
            pending_free(&p);
            return MCPGATE_RESPOND;
        }
    }
    record2(c, c->lookups, method_names[m], "miss");
    p.id = json_deep_copy(message->id);
    if (p.id == NULL || add_pending(r, &p) != 0) {
        pending_free(&p);
        return MCPGATE_CONTINUE; /* nothing will be stored; the request itself is fine */
    }
    return MCPGATE_CONTINUE;
}

/* ============================================ fill ============================================== */

/* Moves a group to a new generation: everything cached under the old one is unreachable. */
static void invalidate(cache_config *c, const char *group_key, size_t len, const char *reason) {
    char generation[96];
    int n = new_generation(c, generation, sizeof generation);
    c->api->kv_set(c->inst, (mcpgate_str){group_key, len}, (mcpgate_str){generation, (size_t)n}, 0, NULL);
    record1(c, c->invalidations, reason, 1);
}

static void store(cache_config *c, const pending_fill *p, const json_t *result) {
    const char *method = method_names[p->method];
    const json_t *result_type = json_object_get(result, "resultType");
    if (result_type != NULL && !(json_is_string(result_type) && strcmp(json_string_value(result_type), "complete") == 0)) {
        record2(c, c->stores, method, "uncacheable"); /* input_required, task, ... */
        return;
    }
    const json_t *ttl_hint = c->honour_hints ? json_object_get(result, "ttlMs") : NULL;
    int hinted = json_is_number(ttl_hint);
    uint64_t ttl_ms;
    int public_scope;
    if (hinted) {
        double v = json_number_value(ttl_hint);
        ttl_ms = v <= 0 ? 0 : v >= (double)c->max_ttl_ms ? c->max_ttl_ms : (uint64_t)v;
        const json_t *scope = json_object_get(result, "cacheScope");
        public_scope = json_is_string(scope) && strcmp(json_string_value(scope), "public") == 0;
    } else {
        ttl_ms = c->method_ttl_ms[p->method];
        public_scope = c->default_public;
    }
    const char *key = public_scope ? p->public_key : p->private_key;
    size_t key_len = public_scope ? p->public_len : p->private_len;
    if (ttl_ms == 0 || key == NULL) {
        record2(c, c->stores, method, "uncacheable");
        return;
    }
    char *json;
    if (hinted) {
        json_t *copy = json_copy((json_t *)result); /* shallow: the host's tree is never modified */
        if (copy == NULL) {
            record2(c, c->stores, method, "failed");
            return;
        }
        json_object_del(copy, "ttlMs");
        json = json_dumps(copy, JSON_COMPACT);
        json_decref(copy);
    } else {
        json = json_dumps(result, JSON_COMPACT);
    }
    if (json == NULL) {
        record2(c, c->stores, method, "failed");
        return;
    }
    buffer value = {0};
    char header[80];
    int n = snprintf(header, sizeof header, "c1 %c %" PRIu64 " %" PRIu64 "\n", hinted ? 'h' : '-', wall_ms(c), ttl_ms);
    buf_append(&value, header, (size_t)n);
    buf_append(&value, json, strlen(json));
    free(json);
    if (value.failed) {
        free(value.data);
        record2(c, c->stores, method, "failed");
        return;
    }
    size_t bytes = key_len + value.len;
    if (bytes > c->max_entry_bytes) {
        free(value.data);
        record2(c, c->stores, method, "too_large");
        return;
    }
    mcpgate_status s = c->api->kv_set(c->inst, (mcpgate_str){key, key_len}, (mcpgate_str){value.data, value.len},
                                      ttl_ms, NULL);
    free(value.data);
    if (s != MCPGATE_OK) {
        record2(c, c->stores, method, s == MCPGATE_ERR_LIMIT ? "too_large" : "failed");
        return;
    }
    /* The other arm may hold an older answer with the other scope: drop it (as the SDK cache does). */
    const char *other = public_scope ? p->private_key : p->public_key;
    if (other != NULL) {
        size_t other_len = public_scope ? p->private_len : p->public_len;
        if (c->api->kv_delete(c->inst, (mcpgate_str){other, other_len}) == MCPGATE_OK) {
            index_forget(c, other, other_len);
        }
    }
    index_store(c, key, key_len, bytes, now_ms(c) + ttl_ms);
    record2(c, c->stores, method, "stored");
}

static mcpgate_action cache_on_rpc_response(void *config, void *state, mcpgate_request *req,
                                            const mcpgate_rpc_message *request, const mcpgate_rpc_message *response,
                                            mcpgate_decision *decision) {
    cache_config *c = config;
    cache_request *r = state;
    (void)req;
    (void)request;
    (void)decision;
    if (response->id == NULL || r->pending_count == 0) {
        return MCPGATE_CONTINUE;
    }
    for (size_t i = 0; i < r->pending_count; i++) {
        pending_fill *p = &r->pending[i];
        if (!json_equal(p->id, (json_t *)response->id)) {
            continue;
        }
        if (response->kind == MCPGATE_RPC_RESULT && json_is_object(response->params)) {
            store(c, p, response->params);
        } else if (response->kind == MCPGATE_RPC_ERROR && p->cursor && p->group_key != NULL &&
                   json_integer_value(json_object_get(response->params, "code")) == -32602) {
            /* an invalid cursor: the list changed under it; drop all its cached pages */
            invalidate(c, p->group_key, p->group_len, "invalid_cursor");
        }
        pending_free(p);
        r->pending[i] = r->pending[--r->pending_count];
        break;
    }
    return MCPGATE_CONTINUE;
}

/* ============================================ invalidation ====================================== */

static mcpgate_action cache_on_sse_event(void *config, void *state, mcpgate_request *req, const mcpgate_sse_event *event,
                                         mcpgate_decision *decision) {
    cache_config *c = config;
    (void)state;
    (void)decision;
    const mcpgate_rpc_message *m = event->message;
    if (m == NULL || m->kind != MCPGATE_RPC_NOTIFICATION) {
        return MCPGATE_CONTINUE;
    }
    static const struct {
        const char *notification;
        int method;
    } changes[] = {{"notifications/tools/list_changed", M_TOOLS_LIST},
                   {"notifications/prompts/list_changed", M_PROMPTS_LIST},
                   {"notifications/resources/list_changed", M_RESOURCES_LIST},
                   {"notifications/resources/updated", M_RESOURCES_READ}};
    for (size_t i = 0; i < sizeof changes / sizeof changes[0]; i++) {
        if (!mcpgate_str_equals(m->method, changes[i].notification)) {
            continue;
        }
        const char *uri = "";
        size_t uri_len = 0;
        if (changes[i].method == M_RESOURCES_READ) {
            const json_t *u = json_object_get(m->params, "uri");
            if (!json_is_string(u)) {
                return MCPGATE_CONTINUE;
            }
            uri = json_string_value(u);
            uri_len = json_string_length(u);
        }
        buffer group = {0};
        append_group_key(c, req, &group, changes[i].method, uri, uri_len);
        if (!group.failed) {
            invalidate(c, group.data, group.len, changes[i].notification);
            MCPGATE_LOGF(c->api, c->inst, MCPGATE_LOG_DEBUG, "%s: invalidated %s%s%.*s", changes[i].notification,
                         method_groups[changes[i].method], uri_len > 0 ? " " : "", (int)(uri_len > 200 ? 200 : uri_len),
                         uri);
        }
        free(group.data);
        break;
    }
    return MCPGATE_CONTINUE;
}

static const mcpgate_plugin cache_descriptor = {
    MCPGATE_PLUGIN_HEADER,
    .name = "cache",
    .version = "1.0.0",
    .description = "spec-aware MCP response cache (ttlMs/cacheScope, list_changed invalidation)",
    .init = cache_init,
    .config_new = cache_config_new,
    .config_destroy = cache_config_destroy,
    .request_new = cache_request_new,
    .request_destroy = cache_request_destroy,
    .on_rpc_message = cache_on_rpc_message,
    .on_rpc_response = cache_on_rpc_response,
    .on_sse_event = cache_on_sse_event,
};

MCPGATE_DEFINE_PLUGIN(cache_descriptor)
