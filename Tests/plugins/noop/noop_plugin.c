/* A filter that does nothing on every hook, with per-request state: the benchmark's unit of cost and
 * the smallest complete example of the ABI. */
#include <stdlib.h>

#include "mcpgate/filter.h"

typedef struct noop_request {
    uint32_t hooks;
} noop_request;

static mcpgate_status noop_request_new(void *config, mcpgate_request *req, void **state_out) {
    (void)config;
    (void)req;
    noop_request *state = calloc(1, sizeof *state);
    if (state == NULL) {
        return MCPGATE_ERR_INTERNAL;
    }
    *state_out = state;
    return MCPGATE_OK;
}

static void noop_request_destroy(void *config, void *state) {
    (void)config;
    free(state);
}

static mcpgate_action noop_http(void *config, void *state, mcpgate_request *req, const mcpgate_http_request *http,
                                mcpgate_decision *decision) {
    (void)config;
    (void)req;
    (void)http;
    (void)decision;
    ((noop_request *)state)->hooks++;
    return MCPGATE_CONTINUE;
}

static mcpgate_action noop_rpc(void *config, void *state, mcpgate_request *req, const mcpgate_rpc_message *message,
                               mcpgate_decision *decision) {
    (void)config;
    (void)req;
    (void)message;
    (void)decision;
    ((noop_request *)state)->hooks++;
    return MCPGATE_CONTINUE;
}

static mcpgate_action noop_response(void *config, void *state, mcpgate_request *req,
                                    const mcpgate_rpc_message *request, const mcpgate_rpc_message *response,
                                    mcpgate_decision *decision) {
    (void)config;
    (void)req;
    (void)request;
    (void)response;
    (void)decision;
    ((noop_request *)state)->hooks++;
    return MCPGATE_CONTINUE;
}

static mcpgate_action noop_response_headers(void *config, void *state, mcpgate_request *req,
                                            const mcpgate_http_response *response) {
    (void)config;
    (void)req;
    (void)response;
    ((noop_request *)state)->hooks++;
    return MCPGATE_CONTINUE;
}

static void noop_complete(void *config, void *state, mcpgate_request *req, const mcpgate_completion *completion) {
    (void)config;
    (void)state;
    (void)req;
    (void)completion;
}

static const mcpgate_plugin noop_descriptor = {
    MCPGATE_PLUGIN_HEADER,
    .name = "noop",
    .version = "1.0.0",
    .description = "does nothing on every hook (benchmark and ABI example)",
    .request_new = noop_request_new,
    .request_destroy = noop_request_destroy,
    .on_http_request_headers = noop_http,
    .on_rpc_message = noop_rpc,
    .on_rpc_response = noop_response,
    .on_response_headers = noop_response_headers,
    .on_complete = noop_complete,
};

MCPGATE_DEFINE_PLUGIN(noop_descriptor)
