/*
 * mcpgate_testhost.h -- a fake mcpgate host for plugin unit tests, in plain C.
 *
 * Link mcpgate_testhost.c (and jansson) into a plugin's C tests to run the plugin without the
 * gateway: it implements every function of the mcpgate_host_api table (an in-memory KV store with a
 * clock you set, request attributes, captured logs and metrics) and drives the plugin's hooks over
 * recorded MCP exchanges in the same JSON format `mcpgate plugin check` reads
 * (examples/exchanges/README.md), collecting the decisions.
 *
 *   mcpgate_testhost *th = mcpgate_testhost_new();
 *   char err[256];
 *   if (mcpgate_testhost_load(th, mcpgate_plugin_v1(), "{\"deny\":[\"delete_repo\"]}", err, sizeof err) != 0) ...
 *   int failures = mcpgate_testhost_run_file(th, "exchanges.json", stdout);   // checks "expect"
 *   mcpgate_testhost_free(th);
 *
 * One test host runs one plugin instance. It is single-threaded: call it from one thread.
 * Build: cc -std=c11 -I<mcpgate>/include -I<mcpgate>/PluginTestHost mcpgate_testhost.c your_test.c \
 *        your_plugin.c $(pkg-config --cflags --libs jansson)
 */
#ifndef MCPGATE_TESTHOST_H
#define MCPGATE_TESTHOST_H

#include <stdio.h>

#include "mcpgate/filter.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A fake host holding one plugin instance. */
typedef struct mcpgate_testhost mcpgate_testhost;

/** What one exchange came to: the first decision that was not CONTINUE. */
typedef struct mcpgate_testhost_result {
    /** MCPGATE_CONTINUE, _REJECT, _RESPOND, _DROP, or MCPGATE_ERROR for a plugin failure (ERROR, an
     *  unknown action, an action the hook may not return, a failing request_new). */
    mcpgate_action action;
    /** The hook that decided ("on_rpc_message", ...), "" when everything continued. */
    char hook[32];
    /** REJECT/RESPOND: the HTTP status after host defaults (403 / 200 when the plugin left 0). */
    uint32_t http_status;
    /** REJECT: the JSON-RPC code after the host default (-32600 when 0). */
    int32_t rpc_code;
    /** REJECT: the message (truncated). */
    char message[256];
    /** REJECT: error.data as compact JSON, "" if none (truncated). */
    char data[512];
    /** RESPOND: the body or result JSON text (truncated). */
    char body[1024];
    /** Number of hook calls made for the exchange. */
    int hook_calls;
} mcpgate_testhost_result;

/** Lifecycle counters, to check that every state is destroyed exactly once. */
typedef struct mcpgate_testhost_stats {
    unsigned configs_created;
    unsigned configs_destroyed;
    unsigned requests_created;
    unsigned requests_destroyed;
    unsigned completions;
    unsigned plugin_failures;
} mcpgate_testhost_stats;

/** Creates a test host with the clocks at 1 s (monotonic) and 2023-11-14 (wall). NULL on OOM. */
mcpgate_testhost *mcpgate_testhost_new(void);

/** Destroys the instance (config_destroy, shutdown) and frees everything. NULL is fine. */
void mcpgate_testhost_free(mcpgate_testhost *th);

/** The host table handed to plugins (the same for every test host; valid forever). */
const mcpgate_host_api *mcpgate_testhost_api(void);

/** Loads a plugin linked into the test: checks the descriptor's magic and major, calls init and
 *  config_new with config_json (NULL: "{}"). 0 on success; otherwise non-zero with err filled. */
int mcpgate_testhost_load(mcpgate_testhost *th, const mcpgate_plugin *plugin, const char *config_json, char *err,
                          size_t err_len);

/** Same for a plugin .so: dlopen + dlsym(MCPGATE_PLUGIN_ENTRY). */
int mcpgate_testhost_load_file(mcpgate_testhost *th, const char *path, const char *config_json, char *err,
                               size_t err_len);

/** Sets the clocks the plugin reads (and the KV store uses). */
void mcpgate_testhost_set_time(mcpgate_testhost *th, uint64_t monotonic_ns, int64_t wall_unix_ns);

/** Moves both clocks forward. */
void mcpgate_testhost_advance_ms(mcpgate_testhost *th, uint64_t milliseconds);

/** Runs one exchange (an object of the exchanges format) through the plugin. 0 on success (whatever
 *  the plugin decided), -1 if the exchange is malformed. */
int mcpgate_testhost_run_exchange(mcpgate_testhost *th, const json_t *exchange, mcpgate_testhost_result *out);

/** Parses JSON text and runs it as one exchange. */
int mcpgate_testhost_run_exchange_text(mcpgate_testhost *th, const char *exchange_json, mcpgate_testhost_result *out);

/** Runs every exchange of an exchanges file, printing one line per exchange to report (may be NULL)
 *  and checking each "expect". Returns the number of unmet expectations, or -1 if the file is bad. */
int mcpgate_testhost_run_file(mcpgate_testhost *th, const char *path, FILE *report);

/** A request attribute as the last exchange left it (string form), or NULL. Valid until the next
 *  exchange. */
const char *mcpgate_testhost_attr(const mcpgate_testhost *th, const char *key);

/** The response header edits of the last exchange, one "set|add|remove Name: value" per line. */
const char *mcpgate_testhost_response_edits(const mcpgate_testhost *th);

/** Every log line so far, one "LEVEL message" per line ("" if none). */
const char *mcpgate_testhost_logs(const mcpgate_testhost *th);

/** Forgets the captured logs. */
void mcpgate_testhost_clear_logs(mcpgate_testhost *th);

/** The sum over series of a metric the plugin defined (by its name without the mcpgate_plugin_
 *  prefix); 0 if undefined. */
double mcpgate_testhost_metric(const mcpgate_testhost *th, const char *name);

/** Lifecycle counters. */
mcpgate_testhost_stats mcpgate_testhost_get_stats(const mcpgate_testhost *th);

/** The KV store, as the plugin sees it (keys without the host's namespace prefix). */
const mcpgate_instance *mcpgate_testhost_instance(const mcpgate_testhost *th);

#ifdef __cplusplus
}
#endif

#endif /* MCPGATE_TESTHOST_H */
