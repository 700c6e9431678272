/* A filter whose behaviour is chosen by its config, for the chain tests: every hook appends
 * "<tag>:<hook>;" to the request attribute "test.trace" and returns the action the config names.
 * Counters (config and request lifecycle) are metrics, so tests read them from the registry.
 *
 * Config (all optional):
 *   tag                      string appended to the trace (default "?")
 *   http, rpc, response, sse, response_headers
 *                            "continue" | "reject" | "respond" | "drop" | "error" | "bogus"
 *   status, code, message    decision fields for reject / respond
 *   data                     JSON value for REJECT's error.data
 *   result                   JSON value for RESPOND in JSON-RPC hooks
 *   body, content_type       RESPOND body (http hook) or result text (JSON-RPC hooks, when no result)
 *   request_new_fails        true: request_new returns an error
 *   config_fails             true: config_new refuses
 *   set_principal            string: on_http_request_headers sets mcpgate.principal (read-only)
 *   require_principal        true: on_rpc_message rejects with 401 when mcpgate.principal is absent
 *   copy_header              header name: on_http_request_headers copies its value to "test.header"
 *   response_header          [name, value]: on_response_headers sets it on the response
 *   upstream_header          [name, value]: on_rpc_message sets it on the upstream request
 *   count_key                string: on_rpc_message kv_incr's it and stores the count in "test.count"
 *   rate_limit               {capacity, refill, interval_ms}: on_rpc_message takes one token per
 *                            target (or method); rejects with 429 and data {retry_after_ms} when out
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcpgate/filter.h"

#define STATE_ALIVE 0x5eed5eedu
#define STATE_DEAD 0xdeadbeefu

static const mcpgate_host_api *host;

typedef struct behavior_config {
    mcpgate_instance *inst;
    char tag[32];
    mcpgate_action http, rpc, response, sse, response_headers;
    uint32_t status;
    int32_t code;
    char *message;
    json_t *data;
    json_t *result;
    char *body;
    char *content_type;
    int request_new_fails;
    char *set_principal;
    int require_principal;
    char *copy_header;
    char *response_header[2];
    char *upstream_header[2];
    char *count_key;
    uint64_t rl_capacity, rl_refill, rl_interval_ms;
    mcpgate_metric *created, *destroyed, *completed, *configs_destroyed, *completed_client_gone;
} behavior_config;

typedef struct behavior_request {
    uint32_t magic;
    uint32_t hooks;
} behavior_request;

static char *dup_string(const json_t *value) {
    const char *s = json_string_value(value);
    if (s == NULL) {
        return NULL;
    }
    size_t n = strlen(s);
    char *copy = malloc(n + 1);
    if (copy != NULL) {
        memcpy(copy, s, n + 1);
    }
    return copy;
}

static mcpgate_action parse_action(const json_t *config, const char *key) {
    const char *name = json_string_value(json_object_get(config, key));
    if (name == NULL || strcmp(name, "continue") == 0) {
        return MCPGATE_CONTINUE;
    }
    if (strcmp(name, "reject") == 0) {
        return MCPGATE_REJECT;
    }
    if (strcmp(name, "respond") == 0) {
        return MCPGATE_RESPOND;
    }
    if (strcmp(name, "drop") == 0) {
        return MCPGATE_DROP;
    }
    if (strcmp(name, "error") == 0) {
        return MCPGATE_ERROR;
    }
    return 77; /* "bogus": an action no host knows */
}

static void record(mcpgate_metric *metric) {
    if (metric != NULL) {
        host->metric_record(metric, NULL, 0, 1.0);
    }
}

static void config_free(behavior_config *c) {
    if (c == NULL) {
        return;
    }
    free(c->message);
    free(c->body);
    free(c->content_type);
    free(c->set_principal);
    free(c->copy_header);
    free(c->response_header[0]);
    free(c->response_header[1]);
    free(c->upstream_header[0]);
    free(c->upstream_header[1]);
    free(c->count_key);
    json_decref(c->data);
    json_decref(c->result);
    free(c);
}

static mcpgate_status behavior_init(const mcpgate_host_api *api, void **plugin_out, char *err, size_t err_len) {
    (void)err;
    (void)err_len;
    host = api;
    *plugin_out = NULL;
    return MCPGATE_OK;
}

static mcpgate_status behavior_config_new(void *plugin, mcpgate_instance *inst, const json_t *config, mcpgate_str raw,
                                          void **config_out, char *err, size_t err_len) {
    (void)plugin;
    (void)raw;
    if (json_is_true(json_object_get(config, "config_fails"))) {
        snprintf(err, err_len, "config_fails is set");
        return MCPGATE_ERR_BAD_ARGUMENT;
    }
    behavior_config *c = calloc(1, sizeof *c);
    if (c == NULL) {
        snprintf(err, err_len, "out of memory");
        return MCPGATE_ERR_INTERNAL;
    }
    c->inst = inst;
    const char *tag = json_string_value(json_object_get(config, "tag"));
    snprintf(c->tag, sizeof c->tag, "%s", tag != NULL ? tag : "?");
    c->http = parse_action(config, "http");
    c->rpc = parse_action(config, "rpc");
    c->response = parse_action(config, "response");
    c->sse = parse_action(config, "sse");
    c->response_headers = parse_action(config, "response_headers");
    c->status = (uint32_t)json_integer_value(json_object_get(config, "status"));
    c->code = (int32_t)json_integer_value(json_object_get(config, "code"));
    c->message = dup_string(json_object_get(config, "message"));
    c->data = json_incref(json_object_get(config, "data"));
    c->result = json_incref(json_object_get(config, "result"));
    c->body = dup_string(json_object_get(config, "body"));
    c->content_type = dup_string(json_object_get(config, "content_type"));
    c->request_new_fails = json_is_true(json_object_get(config, "request_new_fails"));
    c->set_principal = dup_string(json_object_get(config, "set_principal"));
    c->require_principal = json_is_true(json_object_get(config, "require_principal"));
    c->copy_header = dup_string(json_object_get(config, "copy_header"));
    c->response_header[0] = dup_string(json_array_get(json_object_get(config, "response_header"), 0));
    c->response_header[1] = dup_string(json_array_get(json_object_get(config, "response_header"), 1));
    c->upstream_header[0] = dup_string(json_array_get(json_object_get(config, "upstream_header"), 0));
    c->upstream_header[1] = dup_string(json_array_get(json_object_get(config, "upstream_header"), 1));
    c->count_key = dup_string(json_object_get(config, "count_key"));
    const json_t *rl = json_object_get(config, "rate_limit");
    c->rl_capacity = (uint64_t)json_integer_value(json_object_get(rl, "capacity"));
    c->rl_refill = (uint64_t)json_integer_value(json_object_get(rl, "refill"));
    c->rl_interval_ms = (uint64_t)json_integer_value(json_object_get(rl, "interval_ms"));

    if (host->metric_define(inst, MCPGATE_METRIC_COUNTER, "test_requests_created", "request_new calls", NULL, 0,
                            NULL, 0, &c->created) != MCPGATE_OK ||
        host->metric_define(inst, MCPGATE_METRIC_COUNTER, "test_requests_destroyed", "request_destroy calls", NULL,
                            0, NULL, 0, &c->destroyed) != MCPGATE_OK ||
        host->metric_define(inst, MCPGATE_METRIC_COUNTER, "test_completed", "on_complete calls", NULL, 0, NULL, 0,
                            &c->completed) != MCPGATE_OK ||
        host->metric_define(inst, MCPGATE_METRIC_COUNTER, "test_configs_destroyed", "config_destroy calls", NULL, 0,
                            NULL, 0, &c->configs_destroyed) != MCPGATE_OK ||
        host->metric_define(inst, MCPGATE_METRIC_COUNTER, "test_completed_client_gone",
                            "on_complete calls with MCPGATE_COMPLETE_CLIENT_GONE", NULL, 0, NULL, 0,
                            &c->completed_client_gone) != MCPGATE_OK) {
        snprintf(err, err_len, "metric_define failed");
        config_free(c);
        return MCPGATE_ERR_INTERNAL;
    }
    MCPGATE_LOGF(host, inst, MCPGATE_LOG_INFO, "configured tag %s", c->tag);
    *config_out = c;
    return MCPGATE_OK;
}

static void behavior_config_destroy(void *config) {
    behavior_config *c = config;
    record(c->configs_destroyed);
    config_free(c);
}

static mcpgate_status behavior_request_new(void *config, mcpgate_request *req, void **state_out) {
    behavior_config *c = config;
    (void)req;
    if (c->request_new_fails) {
        return MCPGATE_ERR_INTERNAL;
    }
    behavior_request *state = calloc(1, sizeof *state);
    if (state == NULL) {
        return MCPGATE_ERR_INTERNAL;
    }
    state->magic = STATE_ALIVE;
    *state_out = state;
    record(c->created);
    return MCPGATE_OK;
}

static void behavior_request_destroy(void *config, void *state) {
    behavior_config *c = config;
    behavior_request *r = state;
    if (r->magic != STATE_ALIVE) {
        abort(); /* destroyed twice, or never created */
    }
    r->magic = STATE_DEAD;
    free(r);
    record(c->destroyed);
}

/* Appends "<tag>:<hook>;" to the "test.trace" attribute. */
static void trace(behavior_config *c, mcpgate_request *req, const char *hook) {
    char buffer[2048];
    mcpgate_str old;
    size_t used = 0;
    if (host->attr_get(req, "test.trace", &old) == MCPGATE_OK && old.len < sizeof buffer) {
        memcpy(buffer, old.ptr, old.len);
        used = old.len;
    }
    int n = snprintf(buffer + used, sizeof buffer - used, "%s:%s;", c->tag, hook);
    if (n > 0 && used + (size_t)n < sizeof buffer) {
        used += (size_t)n;
    }
    mcpgate_str value = {buffer, used};
    host->attr_set(req, "test.trace", value, 0);
}

static mcpgate_action decide(behavior_config *c, mcpgate_action action, mcpgate_decision *d, int http_hook) {
    if (action == MCPGATE_REJECT) {
        d->http_status = c->status;
        d->rpc_code = c->code;
        d->message = mcpgate_str_from_cstr(c->message);
        d->data = json_incref(c->data); /* ownership transferred: give the host its own reference */
    } else if (action == MCPGATE_RESPOND) {
        d->http_status = c->status;
        if (!http_hook && c->result != NULL) {
            d->result = json_incref(c->result);
        }
        d->body = mcpgate_str_from_cstr(c->body);
        d->content_type = mcpgate_str_from_cstr(c->content_type);
    }
    return action;
}

static mcpgate_action behavior_http(void *config, void *state, mcpgate_request *req, const mcpgate_http_request *http,
                                    mcpgate_decision *d) {
    behavior_config *c = config;
    ((behavior_request *)state)->hooks++;
    trace(c, req, "http");
    if (c->set_principal != NULL) {
        host->attr_set(req, MCPGATE_ATTR_PRINCIPAL, mcpgate_str_from_cstr(c->set_principal), MCPGATE_ATTR_READONLY);
    }
    if (c->copy_header != NULL) {
        mcpgate_str value;
        if (host->header_get(req, MCPGATE_HEADERS_REQUEST, c->copy_header, 0, &value) == MCPGATE_OK) {
            host->attr_set(req, "test.header", value, 0);
        }
    }
    host->attr_set(req, "test.method", http->method, 0);
    return decide(c, c->http, d, 1);
}

static mcpgate_action behavior_rpc(void *config, void *state, mcpgate_request *req, const mcpgate_rpc_message *m,
                                   mcpgate_decision *d) {
    behavior_config *c = config;
    ((behavior_request *)state)->hooks++;
    trace(c, req, "rpc");
    host->attr_set(req, "test.rpc_method", m->method, 0);
    host->attr_set(req, "test.target", m->target, 0);
    if (c->require_principal) {
        mcpgate_str principal;
        if (host->attr_get(req, MCPGATE_ATTR_PRINCIPAL, &principal) != MCPGATE_OK) {
            return mcpgate_reject(d, 401, -32001, "authentication required");
        }
    }
    if (c->upstream_header[0] != NULL) {
        host->header_edit(req, MCPGATE_HEADERS_REQUEST, MCPGATE_HEADER_SET, c->upstream_header[0],
                          mcpgate_str_from_cstr(c->upstream_header[1]));
    }
    if (c->count_key != NULL) {
        int64_t count = 0;
        if (host->kv_incr(c->inst, mcpgate_str_from_cstr(c->count_key), 1, 0, &count) == MCPGATE_OK) {
            char text[32];
            int n = snprintf(text, sizeof text, "%lld", (long long)count);
            host->attr_set(req, "test.count", (mcpgate_str){text, (size_t)n}, 0);
        }
    }
    if (c->rl_capacity > 0) {
        mcpgate_rate_limit_result result;
        mcpgate_str key = m->target.len > 0 ? m->target : m->method;
        mcpgate_status status =
            host->rate_limit(c->inst, key, 1, c->rl_capacity, c->rl_refill, c->rl_interval_ms, &result);
        if (status != MCPGATE_OK) {
            return MCPGATE_ERROR;
        }
        if (!result.allowed) {
            d->data = json_pack("{s:I}", "retry_after_ms", (json_int_t)result.retry_after_ms);
            return mcpgate_reject(d, 429, -32000, "rate limited");
        }
    }
    return decide(c, c->rpc, d, 0);
}

static mcpgate_action behavior_response(void *config, void *state, mcpgate_request *req,
                                        const mcpgate_rpc_message *request, const mcpgate_rpc_message *response,
                                        mcpgate_decision *d) {
    behavior_config *c = config;
    ((behavior_request *)state)->hooks++;
    trace(c, req, "response");
    if (request != NULL) {
        host->attr_set(req, "test.response_to", request->method, 0);
    }
    host->attr_set(req, "test.response_target", response->target, 0);
    return decide(c, c->response, d, 0);
}

static mcpgate_action behavior_sse(void *config, void *state, mcpgate_request *req, const mcpgate_sse_event *event,
                                   mcpgate_decision *d) {
    behavior_config *c = config;
    ((behavior_request *)state)->hooks++;
    trace(c, req, "sse");
    if (event->message != NULL) {
        host->attr_set(req, "test.sse_method", event->message->method, 0);
    }
    return decide(c, c->sse, d, 0);
}

static mcpgate_action behavior_response_headers(void *config, void *state, mcpgate_request *req,
                                                const mcpgate_http_response *response) {
    behavior_config *c = config;
    ((behavior_request *)state)->hooks++;
    trace(c, req, "headers");
    char status[16];
    int n = snprintf(status, sizeof status, "%u/%u", response->status, response->origin);
    host->attr_set(req, "test.response_status", (mcpgate_str){status, (size_t)n}, 0);
    if (c->response_header[0] != NULL) {
        host->header_edit(req, MCPGATE_HEADERS_RESPONSE, MCPGATE_HEADER_SET, c->response_header[0],
                          mcpgate_str_from_cstr(c->response_header[1]));
    }
    return c->response_headers;
}

static void behavior_complete(void *config, void *state, mcpgate_request *req, const mcpgate_completion *completion) {
    behavior_config *c = config;
    (void)state;
    char text[64];
    int n = snprintf(text, sizeof text, "%u/%u/%u", completion->http_status, completion->flags, completion->hooks_run);
    char key[64];
    snprintf(key, sizeof key, "test.complete.%s", c->tag);
    host->attr_set(req, key, (mcpgate_str){text, (size_t)n}, 0);
    trace(c, req, "complete");
    record(c->completed);
    if (completion->flags & MCPGATE_COMPLETE_CLIENT_GONE) {
        record(c->completed_client_gone);
    }
}

/* Config members the admin overview must never show (ABI 1.1); the plugin itself ignores them. */
static const char *const behavior_secrets[] = {"passphrase", NULL};

static const mcpgate_plugin behavior_descriptor = {
    MCPGATE_PLUGIN_HEADER,
    .name = "test_behavior",
    .version = "1.0.0",
    .description = "config-driven test filter",
    .init = behavior_init,
    .config_new = behavior_config_new,
    .config_destroy = behavior_config_destroy,
    .request_new = behavior_request_new,
    .request_destroy = behavior_request_destroy,
    .on_http_request_headers = behavior_http,
    .on_rpc_message = behavior_rpc,
    .on_rpc_response = behavior_response,
    .on_sse_event = behavior_sse,
    .on_response_headers = behavior_response_headers,
    .on_complete = behavior_complete,
    .secret_config_members = behavior_secrets,
};

MCPGATE_DEFINE_PLUGIN(behavior_descriptor)
