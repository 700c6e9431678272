/* mcpgate_testhost.c -- see mcpgate_testhost.h. Plain C11 + POSIX (dlopen, strcasecmp). */
#define _POSIX_C_SOURCE 200809L

#include "mcpgate_testhost.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ================================ small growable buffers ========================================= */

typedef struct text_buffer {
    char *data;
    size_t len;
    size_t cap;
} text_buffer;

static void text_append(text_buffer *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        char *grown = realloc(b->data, cap);
        if (grown == NULL) {
            return;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void text_printf(text_buffer *b, const char *format, ...) {
    char line[2048];
    va_list args;
    va_start(args, format);
    int n = vsnprintf(line, sizeof line, format, args);
    va_end(args);
    if (n > 0) {
        text_append(b, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    }
}

static const char *text_cstr(const text_buffer *b) { return b->data != NULL ? b->data : ""; }

static void text_clear(text_buffer *b) {
    b->len = 0;
    if (b->data != NULL) {
        b->data[0] = '\0';
    }
}

static char *copy_bytes(const char *ptr, size_t len) {
    char *copy = malloc(len + 1);
    if (copy == NULL) {
        return NULL;
    }
    if (len > 0) {
        memcpy(copy, ptr, len);
    }
    copy[len] = '\0';
    return copy;
}

static void copy_into(char *dest, size_t cap, const char *src, size_t len) {
    if (cap == 0) {
        return;
    }
    size_t n = len < cap - 1 ? len : cap - 1;
    if (n > 0) {
        memcpy(dest, src, n);
    }
    dest[n] = '\0';
}

/* ================================ state ========================================================== */

enum kv_kind { KV_BYTES, KV_INTEGER, KV_BUCKET };

typedef struct kv_entry {
    char *key;
    size_t key_len;
    enum kv_kind kind;
    char *value;
    size_t value_len;
    int64_t integer;
    uint64_t tokens;
    uint64_t anchor;
    uint64_t version;
    uint64_t expires_at; /* 0: never */
    struct kv_entry *next;
} kv_entry;

typedef struct metric_series {
    char *labels; /* values joined by '\x1f' */
    double value;
    struct metric_series *next;
} metric_series;

struct mcpgate_metric {
    char name[128];
    int32_t kind;
    size_t label_count;
    metric_series *series;
    struct mcpgate_metric *next;
};

typedef struct attribute {
    char *key;
    char *text; /* string form (for JSON: string value or compact text) */
    json_t *json;
    int readonly;
    struct attribute *next;
} attribute;

struct mcpgate_instance {
    mcpgate_testhost *th;
    char name[64];
    int configuring;
};

struct mcpgate_request {
    mcpgate_testhost *th;
    const char *hook; /* NULL between hooks */
    int request_path;  /* 1 in request hooks: upstream header edits allowed */
    const json_t *request_headers;
    const json_t *response_headers; /* the exchange's responseHeaders (may be NULL) */
    int response_phase;             /* 1 during on_response_headers: response headers readable */
    attribute *attributes;
    text_buffer response_edits;
    text_buffer upstream_edits;
};

struct mcpgate_testhost {
    uint64_t monotonic_ns;
    int64_t wall_ns;
    const mcpgate_plugin *plugin;
    void *plugin_state;
    void *config;
    int loaded;
    struct mcpgate_instance instance;
    kv_entry *kv;
    uint64_t kv_version;
    struct mcpgate_metric *metrics;
    text_buffer logs;
    mcpgate_testhost_stats stats;
    struct mcpgate_request *last; /* the last exchange's request, kept for inspection */
};

/* ================================ host functions ================================================= */

static const char *const level_names[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR"};

static void host_log(const mcpgate_instance *inst, int32_t level, const char *msg, size_t len) {
    if (inst == NULL) {
        fprintf(stderr, "[mcpgate_testhost] %.*s\n", (int)len, msg);
        return;
    }
    mcpgate_testhost *th = inst->th;
    const char *name = level >= 0 && level <= 4 ? level_names[level] : "ERROR";
    text_printf(&th->logs, "%s ", name);
    text_append(&th->logs, msg, len);
    text_append(&th->logs, "\n", 1);
}

static int32_t host_log_enabled(const mcpgate_instance *inst, int32_t level) {
    (void)inst;
    (void)level;
    return 1;
}

static uint64_t host_monotonic_ns(const mcpgate_instance *inst) { return inst != NULL ? inst->th->monotonic_ns : 0; }

static int64_t host_wall_unix_ns(const mcpgate_instance *inst) { return inst != NULL ? inst->th->wall_ns : 0; }

static mcpgate_str host_instance_name(const mcpgate_instance *inst) { return mcpgate_str_from_cstr(inst->name); }

static int valid_metric_name(const char *name) {
    if (name[0] == '\0' || (name[0] >= '0' && name[0] <= '9')) {
        return 0;
    }
    for (const char *p = name; *p != '\0'; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
            return 0;
        }
    }
    return 1;
}

static mcpgate_status host_metric_define(mcpgate_instance *inst, int32_t kind, const char *name, const char *help,
                                         const char *const *label_names, size_t label_count, const double *buckets,
                                         size_t bucket_count, mcpgate_metric **metric_out) {
    (void)help;
    (void)buckets;
    (void)bucket_count;
    if (!inst->configuring) {
        return MCPGATE_ERR_STATE;
    }
    if (kind < MCPGATE_METRIC_COUNTER || kind > MCPGATE_METRIC_HISTOGRAM || !valid_metric_name(name) ||
        strlen(name) >= sizeof(((struct mcpgate_metric *)0)->name) || (label_count > 0 && label_names == NULL)) {
        return MCPGATE_ERR_BAD_ARGUMENT;
    }
    for (size_t i = 0; i < label_count; i++) {
        if (!valid_metric_name(label_names[i])) {
            return MCPGATE_ERR_BAD_ARGUMENT;
        }
    }
    for (struct mcpgate_metric *m = inst->th->metrics; m != NULL; m = m->next) {
        if (strcmp(m->name, name) == 0) {
            if (m->kind != kind || m->label_count != label_count) {
                return MCPGATE_ERR_BAD_ARGUMENT;
            }
            *metric_out = m;
            return MCPGATE_OK;
        }
    }
    struct mcpgate_metric *m = calloc(1, sizeof *m);
    if (m == NULL) {
        return MCPGATE_ERR_INTERNAL;
    }
    snprintf(m->name, sizeof m->name, "%s", name);
    m->kind = kind;
    m->label_count = label_count;
    m->next = inst->th->metrics;
    inst->th->metrics = m;
    *metric_out = m;
    return MCPGATE_OK;
}

static mcpgate_status host_metric_record(mcpgate_metric *m, const mcpgate_str *values, size_t count, double value) {
    if (count != m->label_count || (count > 0 && values == NULL)) {
        return MCPGATE_ERR_BAD_ARGUMENT;
    }
    if (m->kind == MCPGATE_METRIC_COUNTER && value < 0) {
        return MCPGATE_ERR_BAD_ARGUMENT;
    }
    text_buffer key = {0};
    text_append(&key, "", 0);
    for (size_t i = 0; i < count; i++) {
        text_append(&key, values[i].ptr != NULL ? values[i].ptr : "", values[i].len);
        text_append(&key, "\x1f", 1);
    }
    metric_series *s = m->series;
    while (s != NULL && strcmp(s->labels, text_cstr(&key)) != 0) {
        s = s->next;
    }
    if (s == NULL) {
        s = calloc(1, sizeof *s);
        if (s == NULL) {
            free(key.data);
            return MCPGATE_ERR_INTERNAL;
        }
        s->labels = key.data;
        key.data = NULL;
        s->next = m->series;
        m->series = s;
    }
    free(key.data);
    if (m->kind == MCPGATE_METRIC_GAUGE) {
        s->value = value;
    } else {
        s->value += value; /* counters add; histograms keep their sum */
    }
    return MCPGATE_OK;
}

static mcpgate_status host_header_get(mcpgate_request *req, int32_t which, const char *name, size_t index,
                                      mcpgate_str *value_out) {
    if (req->hook == NULL) {
        return MCPGATE_ERR_STATE;
    }
    const json_t *headers;
    if (which == MCPGATE_HEADERS_REQUEST) {
        headers = req->request_headers;
    } else if (which == MCPGATE_HEADERS_RESPONSE) {
        if (!req->response_phase) {
            return MCPGATE_ERR_STATE;
        }
        headers = req->response_headers;
    } else {
        return MCPGATE_ERR_BAD_ARGUMENT;
    }
    if (index != 0 || headers == NULL) {
        return MCPGATE_ERR_NOT_FOUND; /* the exchange format has one value per header */
    }
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)headers, key, value) {
        if (strcasecmp(key, name) == 0 && json_is_string(value)) {
            value_out->ptr = json_string_value(value);
            value_out->len = json_string_length(value);
            return MCPGATE_OK;
        }
    }
    return MCPGATE_ERR_NOT_FOUND;
}

static mcpgate_status host_header_edit(mcpgate_request *req, int32_t which, int32_t op, const char *name,
                                       mcpgate_str value) {
    static const char *const ops[] = {"set", "add", "remove"};
    if (req->hook == NULL) {
        return MCPGATE_ERR_STATE;
    }
    if (op < MCPGATE_HEADER_SET || op > MCPGATE_HEADER_REMOVE || name[0] == '\0' || (value.ptr == NULL && value.len)) {
        return MCPGATE_ERR_BAD_ARGUMENT;
    }
    text_buffer *target;
    if (which == MCPGATE_HEADERS_REQUEST) {
        if (!req->request_path) {
            return MCPGATE_ERR_STATE;
        }
        target = &req->upstream_edits;
    } else if (which == MCPGATE_HEADERS_RESPONSE) {
        target = &req->response_edits;
    } else {
        return MCPGATE_ERR_BAD_ARGUMENT;
    }
    if (op == MCPGATE_HEADER_REMOVE) {
        text_printf(target, "%s %s\n", ops[op], name);
    } else {
        text_printf(target, "%s %s: %.*s\n", ops[op], name, (int)value.len, value.ptr != NULL ? value.ptr : "");
    }
    return MCPGATE_OK;
}

static attribute *find_attribute(mcpgate_request *req, const char *key) {
    for (attribute *a = req->attributes; a != NULL; a = a->next) {
        if (strcmp(a->key, key) == 0) {
            return a;
        }
    }
    return NULL;
}

static void free_attribute_value(attribute *a) {
    free(a->text);
    json_decref(a->json);
    a->text = NULL;
    a->json = NULL;
}

/* Stores text (copied) and/or json (stolen) under key. */
static mcpgate_status store_attribute(mcpgate_request *req, const char *key, const char *text, size_t len, json_t *json,
                                      uint32_t flags) {
    attribute *a = find_attribute(req, key);
    if (a != NULL && a->readonly) {
        json_decref(json);
        return MCPGATE_ERR_STATE;
    }
    if (a == NULL) {
        a = calloc(1, sizeof *a);
        if (a == NULL || (a->key = copy_bytes(key, strlen(key))) == NULL) {
            free(a);
            json_decref(json);
            return MCPGATE_ERR_INTERNAL;
        }
        a->next = req->attributes;
        req->attributes = a;
    } else {
        free_attribute_value(a);
    }
    if (json != NULL) {
        a->json = json;
        if (json_is_string(json)) {
            a->text = copy_bytes(json_string_value(json), json_string_length(json));
        } else {
            a->text = json_dumps(json, JSON_COMPACT | JSON_ENCODE_ANY);
        }
    } else {
        a->text = copy_bytes(text != NULL ? text : "", len);
    }
    a->readonly = (flags & MCPGATE_ATTR_READONLY) != 0;
    return a->text != NULL ? MCPGATE_OK : MCPGATE_ERR_INTERNAL;
}

static mcpgate_status host_attr_set(mcpgate_request *req, const char *key, mcpgate_str value, uint32_t flags) {
    if (req->hook == NULL) {
        return MCPGATE_ERR_STATE;
    }
    if (value.ptr == NULL && value.len > 0) {
        return MCPGATE_ERR_BAD_ARGUMENT;
    }
    return store_attribute(req, key, value.ptr, value.len, NULL, flags);
}

static mcpgate_status host_attr_get(mcpgate_request *req, const char *key, mcpgate_str *value_out) {
    if (req->hook == NULL) {
        return MCPGATE_ERR_STATE;
    }
    attribute *a = find_attribute(req, key);
    if (a == NULL) {
        return MCPGATE_ERR_NOT_FOUND;
    }
    value_out->ptr = a->text;
    value_out->len = strlen(a->text);
    return MCPGATE_OK;
}

static mcpgate_status host_attr_set_json_new(mcpgate_request *req, const char *key, json_t *value, uint32_t flags) {
    if (req->hook == NULL) {
        json_decref(value);
        return MCPGATE_ERR_STATE;
    }
    return store_attribute(req, key, NULL, 0, value, flags);
}

static mcpgate_status host_attr_get_json(mcpgate_request *req, const char *key, const json_t **value_out) {
    if (req->hook == NULL) {
        return MCPGATE_ERR_STATE;
    }
    attribute *a = find_attribute(req, key);
    if (a == NULL) {
        return MCPGATE_ERR_NOT_FOUND;
    }
    if (a->json == NULL) {
        return MCPGATE_ERR_WRONG_TYPE;
    }
    *value_out = a->json;
    return MCPGATE_OK;
}

/* ---- KV ---- */

static kv_entry *kv_find(mcpgate_testhost *th, mcpgate_str key, kv_entry ***link_out) {
    kv_entry **link = &th->kv;
    while (*link != NULL) {
        kv_entry *e = *link;
        if (e->key_len == key.len && (key.len == 0 || memcmp(e->key, key.ptr, key.len) == 0)) {
            if (e->expires_at != 0 && th->monotonic_ns >= e->expires_at) {
                *link = e->next;
                free(e->key);
                free(e->value);
                free(e);
                return NULL;
            }
            if (link_out != NULL) {
                *link_out = link;
            }
            return e;
        }
        link = &e->next;
    }
    return NULL;
}

static kv_entry *kv_create(mcpgate_testhost *th, mcpgate_str key) {
    kv_entry *e = calloc(1, sizeof *e);
    if (e == NULL || (e->key = copy_bytes(key.ptr != NULL ? key.ptr : "", key.len)) == NULL) {
        free(e);
        return NULL;
    }
    e->key_len = key.len;
    e->next = th->kv;
    th->kv = e;
    return e;
}

static uint64_t expiry(mcpgate_testhost *th, uint64_t ttl_ms) { return ttl_ms == 0 ? 0 : th->monotonic_ns + ttl_ms * 1000000u; }

static mcpgate_status host_kv_get(const mcpgate_instance *inst, mcpgate_str key, void *buf, size_t cap, size_t *len_out,
                                  uint64_t *version_out) {
    kv_entry *e = kv_find(inst->th, key, NULL);
    if (e == NULL) {
        return MCPGATE_ERR_NOT_FOUND;
    }
    char number[32];
    const char *bytes = e->value;
    size_t len = e->value_len;
    if (e->kind == KV_INTEGER) {
        int n = snprintf(number, sizeof number, "%lld", (long long)e->integer);
        bytes = number;
        len = (size_t)n;
    } else if (e->kind == KV_BUCKET) {
        return MCPGATE_ERR_WRONG_TYPE;
    }
    *len_out = len;
    if (len > cap) {
        return MCPGATE_ERR_TOO_SMALL;
    }
    if (len > 0) {
        if (buf == NULL) {
            return MCPGATE_ERR_BAD_ARGUMENT;
        }
        memcpy(buf, bytes, len);
    }
    if (version_out != NULL) {
        *version_out = e->version;
    }
    return MCPGATE_OK;
}

static mcpgate_status kv_write(mcpgate_testhost *th, kv_entry *e, mcpgate_str value, uint64_t ttl_ms, uint64_t *version_out) {
    char *copy = copy_bytes(value.ptr != NULL ? value.ptr : "", value.len);
    if (copy == NULL) {
        return MCPGATE_ERR_INTERNAL;
    }
    free(e->value);
    e->value = copy;
    e->value_len = value.len;
    e->kind = KV_BYTES;
    e->expires_at = expiry(th, ttl_ms);
    e->version = ++th->kv_version;
    if (version_out != NULL) {
        *version_out = e->version;
    }
    return MCPGATE_OK;
}

static mcpgate_status host_kv_set(const mcpgate_instance *inst, mcpgate_str key, mcpgate_str value, uint64_t ttl_ms,
                                  uint64_t *version_out) {
    mcpgate_testhost *th = inst->th;
    kv_entry *e = kv_find(th, key, NULL);
    if (e == NULL && (e = kv_create(th, key)) == NULL) {
        return MCPGATE_ERR_INTERNAL;
    }
    return kv_write(th, e, value, ttl_ms, version_out);
}

static mcpgate_status host_kv_cas(const mcpgate_instance *inst, mcpgate_str key, uint64_t expected, mcpgate_str value,
                                  uint64_t ttl_ms, uint64_t *version_out) {
    mcpgate_testhost *th = inst->th;
    kv_entry *e = kv_find(th, key, NULL);
    uint64_t current = e != NULL ? e->version : 0;
    if (current != expected) {
        return MCPGATE_ERR_CAS_MISMATCH;
    }
    if (e == NULL && (e = kv_create(th, key)) == NULL) {
        return MCPGATE_ERR_INTERNAL;
    }
    return kv_write(th, e, value, ttl_ms, version_out);
}

static mcpgate_status host_kv_delete(const mcpgate_instance *inst, mcpgate_str key) {
    kv_entry **link = NULL;
    kv_entry *e = kv_find(inst->th, key, &link);
    if (e == NULL) {
        return MCPGATE_ERR_NOT_FOUND;
    }
    *link = e->next;
    free(e->key);
    free(e->value);
    free(e);
    return MCPGATE_OK;
}

static mcpgate_status host_kv_incr(const mcpgate_instance *inst, mcpgate_str key, int64_t delta, uint64_t ttl_ms,
                                   int64_t *value_out) {
    mcpgate_testhost *th = inst->th;
    kv_entry *e = kv_find(th, key, NULL);
    int64_t current = 0;
    if (e == NULL) {
        if ((e = kv_create(th, key)) == NULL) {
            return MCPGATE_ERR_INTERNAL;
        }
        e->expires_at = expiry(th, ttl_ms);
    } else if (e->kind == KV_INTEGER) {
        current = e->integer;
    } else if (e->kind == KV_BYTES) {
        char *end = NULL;
        long long parsed = e->value_len > 0 ? strtoll(e->value, &end, 10) : 0;
        if (e->value_len == 0 || end == NULL || *end != '\0') {
            return MCPGATE_ERR_WRONG_TYPE;
        }
        current = (int64_t)parsed;
    } else {
        return MCPGATE_ERR_WRONG_TYPE;
    }
    if ((delta > 0 && current > INT64_MAX - delta) || (delta < 0 && current < INT64_MIN - delta)) {
        return MCPGATE_ERR_BAD_ARGUMENT;
    }
    free(e->value);
    e->value = NULL;
    e->value_len = 0;
    e->kind = KV_INTEGER;
    e->integer = current + delta;
    e->version = ++th->kv_version;
    *value_out = e->integer;
    return MCPGATE_OK;
}

static mcpgate_status host_rate_limit(const mcpgate_instance *inst, mcpgate_str key, uint64_t cost, uint64_t capacity,
                                      uint64_t refill_tokens, uint64_t refill_interval_ms, mcpgate_rate_limit_result *out) {
    mcpgate_testhost *th = inst->th;
    if (capacity == 0 || refill_tokens == 0 || refill_interval_ms == 0 || cost > capacity) {
        return MCPGATE_ERR_BAD_ARGUMENT;
    }
    uint64_t now = th->monotonic_ns;
    uint64_t interval = refill_interval_ms * 1000000u;
    kv_entry *e = kv_find(th, key, NULL);
    uint64_t tokens = capacity;
    uint64_t anchor = now;
    if (e != NULL) {
        if (e->kind != KV_BUCKET) {
            return MCPGATE_ERR_WRONG_TYPE;
        }
        tokens = e->tokens < capacity ? e->tokens : capacity;
        anchor = e->anchor;
        if (now > anchor) {
            uint64_t intervals = (now - anchor) / interval;
            if (intervals > 0) {
                uint64_t added = intervals > capacity ? capacity : intervals * refill_tokens;
                tokens = tokens + added > capacity ? capacity : tokens + added;
                anchor += intervals * interval;
            }
        }
    } else if ((e = kv_create(th, key)) == NULL) {
        return MCPGATE_ERR_INTERNAL;
    }
    out->struct_size = (uint32_t)sizeof *out;
    if (tokens >= cost) {
        tokens -= cost;
        out->allowed = 1;
        out->remaining = tokens;
        out->retry_after_ms = 0;
    } else {
        uint64_t fills = (cost - tokens + refill_tokens - 1) / refill_tokens;
        uint64_t ready = anchor + fills * interval;
        uint64_t wait = ready > now ? ready - now : 0;
        out->allowed = 0;
        out->remaining = tokens;
        out->retry_after_ms = (wait + 999999u) / 1000000u;
    }
    e->kind = KV_BUCKET;
    e->tokens = tokens;
    e->anchor = anchor;
    e->expires_at = 0;
    e->version = ++th->kv_version;
    return MCPGATE_OK;
}

static const mcpgate_host_api testhost_api = {
    .struct_size = (uint32_t)sizeof(mcpgate_host_api),
    .abi_major = MCPGATE_ABI_MAJOR,
    .abi_minor = MCPGATE_ABI_MINOR,
    .log = host_log,
    .log_enabled = host_log_enabled,
    .monotonic_ns = host_monotonic_ns,
    .wall_unix_ns = host_wall_unix_ns,
    .instance_name = host_instance_name,
    .metric_define = host_metric_define,
    .metric_record = host_metric_record,
    .header_get = host_header_get,
    .header_edit = host_header_edit,
    .attr_set = host_attr_set,
    .attr_get = host_attr_get,
    .attr_set_json_new = host_attr_set_json_new,
    .attr_get_json = host_attr_get_json,
    .kv_get = host_kv_get,
    .kv_set = host_kv_set,
    .kv_cas = host_kv_cas,
    .kv_delete = host_kv_delete,
    .kv_incr = host_kv_incr,
    .rate_limit = host_rate_limit,
};

const mcpgate_host_api *mcpgate_testhost_api(void) { return &testhost_api; }

/* ================================ lifecycle ====================================================== */

mcpgate_testhost *mcpgate_testhost_new(void) {
    mcpgate_testhost *th = calloc(1, sizeof *th);
    if (th == NULL) {
        return NULL;
    }
    th->monotonic_ns = 1000000000u;
    th->wall_ns = INT64_C(1700000000000000000);
    th->instance.th = th;
    return th;
}

static void request_free(struct mcpgate_request *req) {
    if (req == NULL) {
        return;
    }
    attribute *a = req->attributes;
    while (a != NULL) {
        attribute *next = a->next;
        free(a->key);
        free_attribute_value(a);
        free(a);
        a = next;
    }
    free(req->response_edits.data);
    free(req->upstream_edits.data);
    free(req);
}

void mcpgate_testhost_free(mcpgate_testhost *th) {
    if (th == NULL) {
        return;
    }
    request_free(th->last);
    if (th->loaded) {
        if (th->plugin->config_destroy != NULL) {
            th->plugin->config_destroy(th->config);
            th->stats.configs_destroyed++;
        }
        if (th->plugin->shutdown != NULL) {
            th->plugin->shutdown(th->plugin_state);
        }
    }
    kv_entry *e = th->kv;
    while (e != NULL) {
        kv_entry *next = e->next;
        free(e->key);
        free(e->value);
        free(e);
        e = next;
    }
    struct mcpgate_metric *m = th->metrics;
    while (m != NULL) {
        struct mcpgate_metric *next = m->next;
        metric_series *s = m->series;
        while (s != NULL) {
            metric_series *sn = s->next;
            free(s->labels);
            free(s);
            s = sn;
        }
        free(m);
        m = next;
    }
    free(th->logs.data);
    free(th);
}

int mcpgate_testhost_load(mcpgate_testhost *th, const mcpgate_plugin *plugin, const char *config_json, char *err,
                          size_t err_len) {
    if (th->loaded) {
        snprintf(err, err_len, "a plugin is already loaded in this test host");
        return -1;
    }
    if (plugin == NULL || plugin->magic != MCPGATE_PLUGIN_MAGIC) {
        snprintf(err, err_len, "not an mcpgate plugin descriptor (wrong magic)");
        return -1;
    }
    if (plugin->abi_major != MCPGATE_ABI_MAJOR) {
        snprintf(err, err_len, "built for ABI %u.x, this test host speaks %d.x", plugin->abi_major, MCPGATE_ABI_MAJOR);
        return -1;
    }
    if (plugin->struct_size < offsetof(mcpgate_plugin, on_complete) + sizeof(plugin->on_complete)) {
        snprintf(err, err_len, "descriptor struct_size %u is smaller than ABI 1.0's", plugin->struct_size);
        return -1;
    }
    th->plugin = plugin;
    snprintf(th->instance.name, sizeof th->instance.name, "%s", plugin->name);
    if (plugin->init != NULL) {
        err[0] = '\0';
        if (plugin->init(&testhost_api, &th->plugin_state, err, err_len) != MCPGATE_OK) {
            return -1;
        }
    }
    json_error_t parse_error;
    const char *text = config_json != NULL ? config_json : "{}";
    json_t *config = json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &parse_error);
    if (config == NULL) {
        snprintf(err, err_len, "config is not valid JSON: %s", parse_error.text);
        return -1;
    }
    int status = MCPGATE_OK;
    if (plugin->config_new != NULL) {
        err[0] = '\0';
        th->instance.configuring = 1;
        status = plugin->config_new(th->plugin_state, &th->instance, config, mcpgate_str_from_cstr(text), &th->config,
                                    err, err_len);
        th->instance.configuring = 0;
    }
    json_decref(config);
    if (status != MCPGATE_OK) {
        return -1;
    }
    th->stats.configs_created++;
    th->loaded = 1;
    return 0;
}

int mcpgate_testhost_load_file(mcpgate_testhost *th, const char *path, const char *config_json, char *err,
                               size_t err_len) {
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        snprintf(err, err_len, "dlopen: %s", dlerror());
        return -1;
    }
    void *symbol = dlsym(handle, MCPGATE_PLUGIN_ENTRY);
    if (symbol == NULL) {
        snprintf(err, err_len, "%s: missing %s", path, MCPGATE_PLUGIN_ENTRY);
        return -1;
    }
    mcpgate_plugin_entry_fn entry;
    memcpy(&entry, &symbol, sizeof entry); /* object pointer -> function pointer, POSIX-sanctioned */
    return mcpgate_testhost_load(th, entry(), config_json, err, err_len);
}

void mcpgate_testhost_set_time(mcpgate_testhost *th, uint64_t monotonic_ns, int64_t wall_unix_ns) {
    th->monotonic_ns = monotonic_ns;
    th->wall_ns = wall_unix_ns;
}

void mcpgate_testhost_advance_ms(mcpgate_testhost *th, uint64_t milliseconds) {
    th->monotonic_ns += milliseconds * 1000000u;
    th->wall_ns += (int64_t)(milliseconds * 1000000u);
}

/* ================================ the driver ===================================================== */

typedef struct run_state {
    mcpgate_testhost *th;
    struct mcpgate_request *req;
    void *state;
    int created;     /* request_new ran or is absent */
    int destroyable; /* request_new succeeded */
    int failed;      /* request_new failed */
    uint32_t hooks_run;
    mcpgate_testhost_result *out;
    int decided;
} run_state;

static void str_of(const json_t *value, mcpgate_str *out) {
    if (json_is_string(value)) {
        out->ptr = json_string_value(value);
        out->len = json_string_length(value);
    } else {
        out->ptr = "";
        out->len = 0;
    }
}

static void fill_message(run_state *run, const json_t *message, const json_t *request, const char *raw,
                         mcpgate_rpc_message *m) {
    memset(m, 0, sizeof *m);
    m->struct_size = (uint32_t)sizeof *m;
    m->message = message;
    m->raw.ptr = raw;
    m->raw.len = strlen(raw);
    m->id = json_object_get(message, "id");
    const json_t *method = json_object_get(message, "method");
    const json_t *source = message;
    if (method != NULL) {
        m->kind = m->id != NULL ? MCPGATE_RPC_REQUEST : MCPGATE_RPC_NOTIFICATION;
        m->params = json_object_get(message, "params");
    } else {
        m->kind = json_object_get(message, "error") != NULL ? MCPGATE_RPC_ERROR : MCPGATE_RPC_RESULT;
        m->params = json_object_get(message, m->kind == MCPGATE_RPC_ERROR ? "error" : "result");
        source = request;
        method = request != NULL ? json_object_get(request, "method") : NULL;
    }
    str_of(method, &m->method);
    str_of(NULL, &m->target);
    const char *name = json_string_value(method);
    const json_t *params = source != NULL ? json_object_get(source, "params") : NULL;
    if (name != NULL && params != NULL) {
        if (strcmp(name, "tools/call") == 0) {
            m->target_kind = MCPGATE_TARGET_TOOL;
            str_of(json_object_get(params, "name"), &m->target);
        } else if (strcmp(name, "prompts/get") == 0) {
            m->target_kind = MCPGATE_TARGET_PROMPT;
            str_of(json_object_get(params, "name"), &m->target);
        } else if (strcmp(name, "resources/read") == 0 || strcmp(name, "resources/subscribe") == 0 ||
                   strcmp(name, "resources/unsubscribe") == 0) {
            m->target_kind = MCPGATE_TARGET_RESOURCE;
            str_of(json_object_get(params, "uri"), &m->target);
        }
    }
    str_of(json_object_get(run->req->request_headers, "Mcp-Session-Id"), &m->session_id);
    str_of(json_object_get(run->req->request_headers, "MCP-Protocol-Version"), &m->protocol_version);
}

/* Creates the request state lazily; returns 0 when the hook may run. */
static int ensure_state(run_state *run) {
    if (run->created) {
        return 0;
    }
    if (run->failed) {
        return -1;
    }
    const mcpgate_plugin *p = run->th->plugin;
    if (p->request_new != NULL) {
        run->req->hook = "request_new";
        mcpgate_status status = p->request_new(run->th->config, run->req, &run->state);
        run->req->hook = NULL;
        if (status != MCPGATE_OK) {
            run->failed = 1;
            return -1;
        }
        run->destroyable = 1;
        run->th->stats.requests_created++;
    }
    run->created = 1;
    return 0;
}

static int allowed(const char *hook, mcpgate_action action) {
    if (action == MCPGATE_CONTINUE) {
        return 1;
    }
    if (strcmp(hook, "on_sse_event") == 0) {
        return action == MCPGATE_DROP || action == MCPGATE_REJECT;
    }
    if (strcmp(hook, "on_response_headers") == 0) {
        return 0;
    }
    return action == MCPGATE_REJECT || action == MCPGATE_RESPOND;
}

/* Applies host defaults and records the first non-CONTINUE decision. Returns 1 when the chain stops. */
static int record(run_state *run, const char *hook, mcpgate_action action, mcpgate_decision *d) {
    mcpgate_testhost_result *out = run->out;
    int failure = action == MCPGATE_ERROR || !allowed(hook, action);
    if (failure) {
        run->th->stats.plugin_failures++;
    }
    if (action != MCPGATE_CONTINUE && !run->decided && strcmp(hook, "on_response_headers") != 0) {
        run->decided = 1;
        copy_into(out->hook, sizeof out->hook, hook, strlen(hook));
        if (failure) {
            out->action = MCPGATE_ERROR;
            out->http_status = 500;
            out->rpc_code = -32603;
            copy_into(out->message, sizeof out->message, "Internal error", 14);
        } else {
            out->action = action;
            out->http_status = d->http_status != 0 ? d->http_status : (action == MCPGATE_REJECT ? 403 : 200);
            out->rpc_code = action == MCPGATE_REJECT ? (d->rpc_code != 0 ? d->rpc_code : -32600) : 0;
            if (action == MCPGATE_REJECT) {
                if (d->message.len > 0 && d->message.ptr != NULL) {
                    copy_into(out->message, sizeof out->message, d->message.ptr, d->message.len);
                } else {
                    copy_into(out->message, sizeof out->message, "Request rejected by policy", 26);
                }
                if (d->data != NULL) {
                    char *text = json_dumps(d->data, JSON_COMPACT | JSON_ENCODE_ANY);
                    if (text != NULL) {
                        copy_into(out->data, sizeof out->data, text, strlen(text));
                        free(text);
                    }
                }
            } else if (action == MCPGATE_RESPOND) {
                if (d->result != NULL) {
                    char *text = json_dumps(d->result, JSON_COMPACT | JSON_ENCODE_ANY);
                    if (text != NULL) {
                        copy_into(out->body, sizeof out->body, text, strlen(text));
                        free(text);
                    }
                } else if (d->body.ptr != NULL) {
                    copy_into(out->body, sizeof out->body, d->body.ptr, d->body.len);
                }
            }
        }
    }
    json_decref(d->data);
    json_decref(d->result);
    d->data = NULL;
    d->result = NULL;
    return action != MCPGATE_CONTINUE && strcmp(hook, "on_response_headers") != 0;
}

static void begin_hook(run_state *run, const char *hook, int request_path, mcpgate_decision *d) {
    memset(d, 0, sizeof *d);
    d->struct_size = (uint32_t)sizeof *d;
    run->req->hook = hook;
    run->req->request_path = request_path;
    run->out->hook_calls++;
}

static void end_hook(run_state *run, uint32_t bit) {
    run->req->hook = NULL;
    run->hooks_run |= bit;
}

int mcpgate_testhost_run_exchange(mcpgate_testhost *th, const json_t *exchange, mcpgate_testhost_result *out) {
    if (!th->loaded || !json_is_object(exchange)) {
        return -1;
    }
    memset(out, 0, sizeof *out);
    request_free(th->last);
    th->last = NULL;
    struct mcpgate_request *req = calloc(1, sizeof *req);
    if (req == NULL) {
        return -1;
    }
    th->last = req;
    req->th = th;
    const json_t *request = json_object_get(exchange, "request");
    req->request_headers = json_object_get(request, "headers");
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)json_object_get(request, "attributes"), key, value) {
        if (json_is_string(value)) {
            store_attribute(req, key, json_string_value(value), json_string_length(value), NULL, 0);
        }
    }

    run_state run = {.th = th, .req = req, .out = out};
    const mcpgate_plugin *p = th->plugin;
    mcpgate_decision d;
    int stopped = 0;
    uint32_t status = json_is_integer(json_object_get(exchange, "status"))
                          ? (uint32_t)json_integer_value(json_object_get(exchange, "status"))
                          : 200;
    uint32_t origin = MCPGATE_ORIGIN_UPSTREAM;

    if (p->on_http_request_headers != NULL) {
        if (ensure_state(&run) != 0) {
            mcpgate_decision none = {0};
            stopped = record(&run, "request_new", MCPGATE_ERROR, &none);
        } else {
            mcpgate_http_request http = {.struct_size = (uint32_t)sizeof http};
            str_of(json_object_get(request, "method"), &http.method);
            if (http.method.len == 0) {
                http.method = mcpgate_str_from_cstr("POST");
            }
            str_of(json_object_get(request, "path"), &http.path);
            if (http.path.len == 0) {
                http.path = mcpgate_str_from_cstr("/mcp");
            }
            str_of(json_object_get(req->request_headers, "Mcp-Session-Id"), &http.session_id);
            str_of(json_object_get(req->request_headers, "MCP-Protocol-Version"), &http.protocol_version);
            http.remote_address = mcpgate_str_from_cstr("127.0.0.1:50000");
            begin_hook(&run, "on_http_request_headers", 1, &d);
            mcpgate_action action = p->on_http_request_headers(th->config, run.state, req, &http, &d);
            end_hook(&run, MCPGATE_HOOK_HTTP_REQUEST_HEADERS);
            stopped = record(&run, "on_http_request_headers", action, &d);
        }
    }
    const json_t *gateway_error = json_object_get(exchange, "gatewayError");
    if (!stopped && gateway_error != NULL) {
        status = (uint32_t)json_integer_value(json_object_get(gateway_error, "status"));
        origin = MCPGATE_ORIGIN_GATEWAY;
        stopped = 1;
    }

    const json_t *messages = json_object_get(exchange, "messages");
    size_t index;
    const json_t *message;
    if (!stopped && p->on_rpc_message != NULL) {
        json_array_foreach(messages, index, message) {
            char *raw = json_dumps(message, JSON_COMPACT);
            if (ensure_state(&run) != 0) {
                mcpgate_decision none = {0};
                stopped = record(&run, "request_new", MCPGATE_ERROR, &none);
            } else {
                mcpgate_rpc_message m;
                fill_message(&run, message, NULL, raw != NULL ? raw : "", &m);
                begin_hook(&run, "on_rpc_message", 1, &d);
                mcpgate_action action = p->on_rpc_message(th->config, run.state, req, &m, &d);
                end_hook(&run, MCPGATE_HOOK_RPC_MESSAGE);
                stopped = record(&run, "on_rpc_message", action, &d);
            }
            free(raw);
            if (stopped) {
                break;
            }
        }
    }
    if (!stopped && p->on_sse_event != NULL) {
        const json_t *event;
        json_array_foreach(json_object_get(exchange, "events"), index, event) {
            const json_t *data = json_object_get(event, "data");
            char *raw = json_dumps(data, JSON_COMPACT);
            if (ensure_state(&run) != 0) {
                mcpgate_decision none = {0};
                record(&run, "request_new", MCPGATE_ERROR, &none);
                free(raw);
                break;
            }
            mcpgate_rpc_message m;
            fill_message(&run, data, NULL, raw != NULL ? raw : "", &m);
            mcpgate_sse_event e = {.struct_size = (uint32_t)sizeof e, .message = &m};
            str_of(json_object_get(event, "event"), &e.event);
            if (e.event.len == 0) {
                e.event = mcpgate_str_from_cstr("message");
            }
            str_of(json_object_get(event, "id"), &e.id);
            e.data.ptr = raw != NULL ? raw : "";
            e.data.len = strlen(e.data.ptr);
            begin_hook(&run, "on_sse_event", 0, &d);
            mcpgate_action action = p->on_sse_event(th->config, run.state, req, &e, &d);
            end_hook(&run, MCPGATE_HOOK_SSE_EVENT);
            record(&run, "on_sse_event", action, &d);
            free(raw);
        }
    }
    if (!stopped && p->on_rpc_response != NULL) {
        const json_t *response;
        json_array_foreach(json_object_get(exchange, "responses"), index, response) {
            const json_t *correlated = NULL;
            size_t message_index; /* not `index`: that one walks the responses */
            json_array_foreach(messages, message_index, message) {
                if (json_equal(json_object_get(message, "id"), json_object_get(response, "id"))) {
                    correlated = message;
                }
            }
            char *raw = json_dumps(response, JSON_COMPACT);
            if (ensure_state(&run) != 0) {
                mcpgate_decision none = {0};
                record(&run, "request_new", MCPGATE_ERROR, &none);
                free(raw);
                break;
            }
            mcpgate_rpc_message m;
            mcpgate_rpc_message r;
            fill_message(&run, response, correlated, raw != NULL ? raw : "", &m);
            if (correlated != NULL) {
                fill_message(&run, correlated, NULL, "", &r);
            }
            begin_hook(&run, "on_rpc_response", 0, &d);
            mcpgate_action action =
                p->on_rpc_response(th->config, run.state, req, correlated != NULL ? &r : NULL, &m, &d);
            end_hook(&run, MCPGATE_HOOK_RPC_RESPONSE);
            record(&run, "on_rpc_response", action, &d);
            free(raw);
        }
    }
    if (run.decided && (out->action == MCPGATE_REJECT || out->action == MCPGATE_RESPOND ||
                        out->action == MCPGATE_ERROR)) {
        status = out->http_status;
        origin = MCPGATE_ORIGIN_PLUGIN;
    }
    if (p->on_response_headers != NULL && ensure_state(&run) == 0) {
        mcpgate_http_response response = {.struct_size = (uint32_t)sizeof response, .status = status, .origin = origin};
        if (json_is_true(json_object_get(exchange, "sse")) && origin == MCPGATE_ORIGIN_UPSTREAM) {
            response.flags |= MCPGATE_RESPONSE_SSE;
        }
        req->response_headers = json_object_get(exchange, "responseHeaders");
        req->response_phase = 1;
        begin_hook(&run, "on_response_headers", 0, &d);
        mcpgate_action action = p->on_response_headers(th->config, run.state, req, &response);
        end_hook(&run, MCPGATE_HOOK_RESPONSE_HEADERS);
        record(&run, "on_response_headers", action, &d);
        req->response_headers = NULL;
        req->response_phase = 0;
    }
    if (run.created) {
        if (p->on_complete != NULL) {
            mcpgate_completion completion = {.struct_size = (uint32_t)sizeof completion,
                                             .http_status = status,
                                             .flags = origin == MCPGATE_ORIGIN_PLUGIN ? MCPGATE_COMPLETE_REJECTED : 0,
                                             .hooks_run = run.hooks_run,
                                             .duration_ns = 1000};
            req->hook = "on_complete";
            p->on_complete(th->config, run.state, req, &completion);
            req->hook = NULL;
        }
        th->stats.completions++;
    }
    if (run.destroyable) {
        if (p->request_destroy != NULL) {
            p->request_destroy(th->config, run.state);
        }
        th->stats.requests_destroyed++;
    }
    return 0;
}

int mcpgate_testhost_run_exchange_text(mcpgate_testhost *th, const char *exchange_json, mcpgate_testhost_result *out) {
    json_error_t error;
    json_t *exchange = json_loads(exchange_json, JSON_REJECT_DUPLICATES, &error);
    if (exchange == NULL) {
        return -1;
    }
    int status = mcpgate_testhost_run_exchange(th, exchange, out);
    json_decref(exchange);
    return status;
}

static const char *action_name(mcpgate_action action) {
    switch (action) {
    case MCPGATE_CONTINUE:
        return "continue";
    case MCPGATE_REJECT:
        return "reject";
    case MCPGATE_RESPOND:
        return "respond";
    case MCPGATE_DROP:
        return "drop";
    default:
        return "failure";
    }
}

int mcpgate_testhost_run_file(mcpgate_testhost *th, const char *path, FILE *report) {
    json_error_t error;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &error);
    if (root == NULL) {
        if (report != NULL) {
            fprintf(report, "%s:%d: %s\n", path, error.line, error.text);
        }
        return -1;
    }
    const json_t *exchanges = json_object_get(root, "exchanges");
    if (!json_is_array(exchanges)) {
        json_decref(root);
        return -1;
    }
    int failures = 0;
    size_t index;
    const json_t *exchange;
    json_array_foreach(exchanges, index, exchange) {
        mcpgate_testhost_result result;
        const char *name = json_string_value(json_object_get(exchange, "name"));
        if (mcpgate_testhost_run_exchange(th, exchange, &result) != 0) {
            json_decref(root);
            return -1;
        }
        const json_t *expect = json_object_get(exchange, "expect");
        const char *wanted = json_is_string(expect) ? json_string_value(expect)
                                                    : json_string_value(json_object_get(expect, "decision"));
        const char *got = action_name(result.action);
        int ok = 1;
        if (wanted != NULL && strcmp(wanted, got) != 0) {
            ok = 0;
        }
        if (ok && json_is_object(expect)) {
            const json_t *status = json_object_get(expect, "httpStatus");
            const json_t *code = json_object_get(expect, "rpcCode");
            const json_t *hook = json_object_get(expect, "hook");
            if (json_is_integer(status) && (uint32_t)json_integer_value(status) != result.http_status) {
                ok = 0;
            }
            if (json_is_integer(code) && (int32_t)json_integer_value(code) != result.rpc_code) {
                ok = 0;
            }
            if (json_is_string(hook) && strcmp(json_string_value(hook), result.hook) != 0) {
                ok = 0;
            }
        }
        if (!ok) {
            failures++;
        }
        if (report != NULL) {
            fprintf(report, "%s %zu \"%s\": %s", ok ? "ok  " : "FAIL", index + 1, name != NULL ? name : "", got);
            if (result.action == MCPGATE_REJECT || result.action == MCPGATE_ERROR) {
                fprintf(report, " (%s: HTTP %u, %d \"%s\")", result.hook, result.http_status, result.rpc_code,
                        result.message);
            } else if (result.action == MCPGATE_RESPOND) {
                fprintf(report, " (%s: HTTP %u)", result.hook, result.http_status);
            }
            if (!ok) {
                fprintf(report, " -- expected %s", wanted != NULL ? wanted : "(see expect)");
            }
            fputc('\n', report);
        }
    }
    json_decref(root);
    return failures;
}

/* ================================ inspection ===================================================== */

const char *mcpgate_testhost_attr(const mcpgate_testhost *th, const char *key) {
    if (th->last == NULL) {
        return NULL;
    }
    attribute *a = find_attribute(th->last, key);
    return a != NULL ? a->text : NULL;
}

const char *mcpgate_testhost_response_edits(const mcpgate_testhost *th) {
    return th->last != NULL ? text_cstr(&th->last->response_edits) : "";
}

const char *mcpgate_testhost_logs(const mcpgate_testhost *th) { return text_cstr(&th->logs); }

void mcpgate_testhost_clear_logs(mcpgate_testhost *th) { text_clear(&th->logs); }

double mcpgate_testhost_metric(const mcpgate_testhost *th, const char *name) {
    for (const struct mcpgate_metric *m = th->metrics; m != NULL; m = m->next) {
        if (strcmp(m->name, name) == 0) {
            double sum = 0;
            for (const metric_series *s = m->series; s != NULL; s = s->next) {
                sum += s->value;
            }
            return sum;
        }
    }
    return 0;
}

mcpgate_testhost_stats mcpgate_testhost_get_stats(const mcpgate_testhost *th) { return th->stats; }

const mcpgate_instance *mcpgate_testhost_instance(const mcpgate_testhost *th) { return &th->instance; }
