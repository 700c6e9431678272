/*
 * tool_acl -- an mcpgate filter that allows or denies MCP tools per principal.
 *
 * A third-party plugin built outside the gateway with nothing but mcpgate/filter.h, jansson and a C
 * compiler (see Makefile and README.md). It reads the principal an auth filter stored in the
 * request attribute "mcpgate.principal", rejects `tools/call` for tools the principal may not use,
 * and (optionally) removes those tools from `tools/list` results.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcpgate/filter.h"

static const mcpgate_host_api *host;

/* One rule: for principals matching `principal`, deny patterns win over allow patterns. */
typedef struct acl_rule {
    char *principal; /* "*" matches everyone, including anonymous requests */
    char **allow;
    size_t allow_count;
    char **deny;
    size_t deny_count;
} acl_rule;

/* The instance: immutable after config_new, read from every event loop. */
typedef struct acl_config {
    mcpgate_instance *inst;
    acl_rule *rules;
    size_t rule_count;
    int default_allow;
    int anonymous_allowed;
    int filter_tools_list;
    uint32_t deny_status;
    int32_t deny_code;
    mcpgate_metric *decisions;
} acl_config;

/* Per request: room for the rejection message, which must outlive the hook. */
typedef struct acl_request {
    char message[256];
} acl_request;

/* ------------------------------------------------------------------------------------------------ */

static char *copy_string(const char *s, size_t n) {
    char *copy = malloc(n + 1);
    if (copy != NULL) {
        memcpy(copy, s, n);
        copy[n] = '\0';
    }
    return copy;
}

/* "read_*" matches every name starting with "read_"; "*" matches everything; else exact. */
static int pattern_matches(const char *pattern, const char *name, size_t name_len) {
    size_t n = strlen(pattern);
    if (n > 0 && pattern[n - 1] == '*') {
        return name_len >= n - 1 && memcmp(pattern, name, n - 1) == 0;
    }
    return n == name_len && memcmp(pattern, name, n) == 0;
}

static int any_matches(char **patterns, size_t count, const char *name, size_t name_len) {
    for (size_t i = 0; i < count; i++) {
        if (pattern_matches(patterns[i], name, name_len)) {
            return 1;
        }
    }
    return 0;
}

/* 1 if `principal` (NULL when anonymous) may call tool `name`. */
static int tool_allowed(const acl_config *c, const char *principal, size_t principal_len, const char *name,
                        size_t name_len) {
    for (size_t i = 0; i < c->rule_count; i++) {
        const acl_rule *rule = &c->rules[i];
        int applies = strcmp(rule->principal, "*") == 0 ||
                      (principal != NULL && pattern_matches(rule->principal, principal, principal_len));
        if (!applies) {
            continue;
        }
        if (any_matches(rule->deny, rule->deny_count, name, name_len)) {
            return 0;
        }
        if (any_matches(rule->allow, rule->allow_count, name, name_len)) {
            return 1;
        }
    }
    return c->default_allow;
}

static void free_patterns(char **patterns, size_t count) {
    for (size_t i = 0; i < count; i++) {
        free(patterns[i]);
    }
    free(patterns);
}

static void config_free(acl_config *c) {
    if (c == NULL) {
        return;
    }
    for (size_t i = 0; i < c->rule_count; i++) {
        free(c->rules[i].principal);
        free_patterns(c->rules[i].allow, c->rules[i].allow_count);
        free_patterns(c->rules[i].deny, c->rules[i].deny_count);
    }
    free(c->rules);
    free(c);
}

/* Copies an array of strings; returns -1 with err filled on a bad value. */
static int parse_patterns(const json_t *array, char ***out, size_t *count, const char *where, char *err,
                          size_t err_len) {
    *out = NULL;
    *count = 0;
    if (array == NULL) {
        return 0;
    }
    if (!json_is_array(array)) {
        snprintf(err, err_len, "%s: expected an array of tool names", where);
        return -1;
    }
    size_t n = json_array_size(array);
    if (n == 0) {
        return 0;
    }
    *out = calloc(n, sizeof **out);
    if (*out == NULL) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *item = json_array_get(array, i);
        if (!json_is_string(item)) {
            snprintf(err, err_len, "%s[%zu]: expected a string", where, i);
            return -1;
        }
        (*out)[i] = copy_string(json_string_value(item), json_string_length(item));
        if ((*out)[i] == NULL) {
            snprintf(err, err_len, "out of memory");
            return -1;
        }
        (*count)++;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------------ */

static mcpgate_status acl_init(const mcpgate_host_api *api, void **plugin_out, char *err, size_t err_len) {
    (void)err;
    (void)err_len;
    host = api;
    *plugin_out = NULL;
    return MCPGATE_OK;
}

static mcpgate_status acl_config_new(void *plugin, mcpgate_instance *inst, const json_t *config, mcpgate_str raw,
                                     void **config_out, char *err, size_t err_len) {
    (void)plugin;
    (void)raw;
    if (!json_is_object(config)) {
        snprintf(err, err_len, "config: expected an object");
        return MCPGATE_ERR_BAD_ARGUMENT;
    }
    acl_config *c = calloc(1, sizeof *c);
    if (c == NULL) {
        snprintf(err, err_len, "out of memory");
        return MCPGATE_ERR_INTERNAL;
    }
    c->inst = inst;
    c->deny_status = 403;
    c->deny_code = -32001;
    c->filter_tools_list = 1;

    const json_t *fallback = json_object_get(config, "default");
    if (fallback != NULL && !(json_is_string(fallback) && (strcmp(json_string_value(fallback), "allow") == 0 ||
                                                           strcmp(json_string_value(fallback), "deny") == 0))) {
        snprintf(err, err_len, "default: expected \"allow\" or \"deny\"");
        goto fail;
    }
    c->default_allow = fallback != NULL && strcmp(json_string_value(fallback), "allow") == 0;
    c->anonymous_allowed = json_is_true(json_object_get(config, "allowAnonymous"));
    if (json_is_false(json_object_get(config, "filterToolsList"))) {
        c->filter_tools_list = 0;
    }
    if (json_is_integer(json_object_get(config, "denyStatus"))) {
        json_int_t status = json_integer_value(json_object_get(config, "denyStatus"));
        if (status < 400 || status > 599) {
            snprintf(err, err_len, "denyStatus: expected an HTTP error status (400-599)");
            goto fail;
        }
        c->deny_status = (uint32_t)status;
    }

    const json_t *rules = json_object_get(config, "rules");
    if (rules != NULL && !json_is_array(rules)) {
        snprintf(err, err_len, "rules: expected an array");
        goto fail;
    }
    size_t n = json_array_size(rules);
    if (n > 0) {
        c->rules = calloc(n, sizeof *c->rules);
        if (c->rules == NULL) {
            snprintf(err, err_len, "out of memory");
            goto fail;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *rule = json_array_get(rules, i);
        const json_t *principal = json_object_get(rule, "principal");
        if (!json_is_string(principal)) {
            snprintf(err, err_len, "rules[%zu].principal: expected a string (\"*\" for everyone)", i);
            goto fail;
        }
        acl_rule *r = &c->rules[i];
        c->rule_count = i + 1;
        r->principal = copy_string(json_string_value(principal), json_string_length(principal));
        char where[64];
        snprintf(where, sizeof where, "rules[%zu].allow", i);
        if (r->principal == NULL ||
            parse_patterns(json_object_get(rule, "allow"), &r->allow, &r->allow_count, where, err, err_len) != 0) {
            goto fail;
        }
        snprintf(where, sizeof where, "rules[%zu].deny", i);
        if (parse_patterns(json_object_get(rule, "deny"), &r->deny, &r->deny_count, where, err, err_len) != 0) {
            goto fail;
        }
    }

    static const char *const labels[] = {"decision"};
    if (host->metric_define(inst, MCPGATE_METRIC_COUNTER, "tool_acl_decisions_total",
                            "tools/call decisions of the tool ACL", labels, 1, NULL, 0, &c->decisions) != MCPGATE_OK) {
        snprintf(err, err_len, "cannot define metrics");
        goto fail;
    }
    MCPGATE_LOGF(host, inst, MCPGATE_LOG_INFO, "%zu rules, default %s", c->rule_count,
                 c->default_allow ? "allow" : "deny");
    *config_out = c;
    return MCPGATE_OK;

fail:
    config_free(c);
    return MCPGATE_ERR_BAD_ARGUMENT;
}

static void acl_config_destroy(void *config) { config_free(config); }

static mcpgate_status acl_request_new(void *config, mcpgate_request *req, void **state_out) {
    (void)config;
    (void)req;
    acl_request *state = calloc(1, sizeof *state);
    if (state == NULL) {
        return MCPGATE_ERR_INTERNAL;
    }
    *state_out = state;
    return MCPGATE_OK;
}

static void acl_request_destroy(void *config, void *state) {
    (void)config;
    free(state);
}

static void count(const acl_config *c, const char *decision) {
    mcpgate_str label = mcpgate_str_from_cstr(decision);
    host->metric_record(c->decisions, &label, 1, 1);
}

static mcpgate_action acl_on_rpc_message(void *config, void *state, mcpgate_request *req,
                                         const mcpgate_rpc_message *message, mcpgate_decision *decision) {
    acl_config *c = config;
    acl_request *r = state;
    if (message->kind != MCPGATE_RPC_REQUEST || message->target_kind != MCPGATE_TARGET_TOOL) {
        return MCPGATE_CONTINUE;
    }
    mcpgate_str principal;
    int anonymous = host->attr_get(req, MCPGATE_ATTR_PRINCIPAL, &principal) != MCPGATE_OK;
    if (anonymous && !c->anonymous_allowed) {
        count(c, "unauthenticated");
        return mcpgate_reject(decision, 401, -32001, "authentication required to call tools");
    }
    if (tool_allowed(c, anonymous ? NULL : principal.ptr, anonymous ? 0 : principal.len, message->target.ptr,
                     message->target.len)) {
        count(c, "allowed");
        return MCPGATE_CONTINUE;
    }
    count(c, "denied");
    snprintf(r->message, sizeof r->message, "tool '%.*s' is not allowed for principal '%.*s'",
             (int)message->target.len, message->target.ptr, anonymous ? 0 : (int)principal.len,
             anonymous ? "" : principal.ptr);
    MCPGATE_LOGF(host, c->inst, MCPGATE_LOG_INFO, "%s", r->message);
    decision->data = json_pack("{s:s%, s:s%}", "tool", message->target.ptr, message->target.len, "principal",
                               anonymous ? "" : principal.ptr, anonymous ? (size_t)0 : principal.len);
    return mcpgate_reject(decision, c->deny_status, c->deny_code, r->message);
}

/* tools/list: answer with only the tools the principal may call. */
static mcpgate_action acl_on_rpc_response(void *config, void *state, mcpgate_request *req,
                                          const mcpgate_rpc_message *request, const mcpgate_rpc_message *response,
                                          mcpgate_decision *decision) {
    acl_config *c = config;
    (void)state;
    if (!c->filter_tools_list || request == NULL || response->kind != MCPGATE_RPC_RESULT ||
        !mcpgate_str_equals(request->method, "tools/list")) {
        return MCPGATE_CONTINUE;
    }
    const json_t *tools = json_object_get(response->params, "tools");
    if (!json_is_array(tools)) {
        return MCPGATE_CONTINUE;
    }
    mcpgate_str principal;
    int anonymous = host->attr_get(req, MCPGATE_ATTR_PRINCIPAL, &principal) != MCPGATE_OK;
    json_t *kept = json_array();
    if (kept == NULL) {
        return MCPGATE_ERROR;
    }
    size_t index;
    const json_t *tool;
    json_array_foreach(tools, index, tool) {
        const json_t *name = json_object_get(tool, "name");
        if (json_is_string(name) && (!anonymous || c->anonymous_allowed) &&
            tool_allowed(c, anonymous ? NULL : principal.ptr, anonymous ? 0 : principal.len, json_string_value(name),
                         json_string_length(name))) {
            json_array_append(kept, (json_t *)tool); /* shares the host's (immutable) tool object */
        }
    }
    if (json_array_size(kept) == json_array_size(tools)) {
        json_decref(kept);
        return MCPGATE_CONTINUE; /* unchanged: the host forwards the original bytes */
    }
    json_t *result = json_copy((json_t *)response->params); /* shallow: we never modify the host's tree */
    if (result == NULL) {
        json_decref(kept);
        return MCPGATE_ERROR;
    }
    json_object_set_new(result, "tools", kept);
    decision->result = result; /* ownership transferred to the host */
    return MCPGATE_RESPOND;
}

static const mcpgate_plugin tool_acl_descriptor = {
    MCPGATE_PLUGIN_HEADER,
    .name = "tool_acl",
    .version = "1.0.0",
    .description = "allow or deny MCP tools per principal",
    .init = acl_init,
    .config_new = acl_config_new,
    .config_destroy = acl_config_destroy,
    .request_new = acl_request_new,
    .request_destroy = acl_request_destroy,
    .on_rpc_message = acl_on_rpc_message,
    .on_rpc_response = acl_on_rpc_response,
};

MCPGATE_DEFINE_PLUGIN(tool_acl_descriptor)
