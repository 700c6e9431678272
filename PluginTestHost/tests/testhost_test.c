/* Tests of the C test host itself, driving the repository's test plugins (paths given on the
 * command line). Run by scripts/test-plugins-asan under AddressSanitizer and UBSan. */
#include <stdio.h>
#include <string.h>

#include "mcpgate_testhost.h"

static int failures;

#define CHECK(cond)                                                                                      \
    do {                                                                                                 \
        if (!(cond)) {                                                                                   \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                     \
            failures++;                                                                                  \
        }                                                                                                \
    } while (0)

static mcpgate_testhost *load(const char *path, const char *config) {
    char err[256];
    mcpgate_testhost *th = mcpgate_testhost_new();
    if (th == NULL || mcpgate_testhost_load_file(th, path, config, err, sizeof err) != 0) {
        fprintf(stderr, "cannot load %s: %s\n", path, err);
        failures++;
        mcpgate_testhost_free(th);
        return NULL;
    }
    return th;
}

static const char *tools_call =
    "{\"request\":{\"headers\":{\"Mcp-Session-Id\":\"s\",\"User-Agent\":\"t/1\"},\"attributes\":{\"mcpgate.principal\":"
    "\"alice\"}},\"messages\":[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"search\"}}],"
    "\"responses\":[{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}]}";

static void test_default_exchanges(const char *behavior, const char *noop, const char *exchanges) {
    mcpgate_testhost *th = load(behavior, "{\"tag\":\"T\",\"response_header\":[\"X-T\",\"1\"]}");
    if (th == NULL) {
        return;
    }
    CHECK(mcpgate_testhost_run_file(th, exchanges, NULL) == 0);
    mcpgate_testhost_stats stats = mcpgate_testhost_get_stats(th);
    CHECK(stats.requests_created == 12);
    CHECK(stats.requests_destroyed == stats.requests_created);
    CHECK(stats.completions == 12);
    CHECK(stats.plugin_failures == 0);
    CHECK(mcpgate_testhost_metric(th, "test_requests_destroyed") == 12);
    CHECK(strstr(mcpgate_testhost_logs(th), "INFO configured tag T") != NULL);
    CHECK(strcmp(mcpgate_testhost_response_edits(th), "set X-T: 1\n") == 0);
    mcpgate_testhost_free(th);

    th = load(noop, NULL);
    if (th != NULL) {
        CHECK(mcpgate_testhost_run_file(th, exchanges, NULL) == 0);
        mcpgate_testhost_free(th);
    }
}

static void test_decisions(const char *behavior) {
    mcpgate_testhost_result result;
    mcpgate_testhost *th = load(behavior, "{\"rpc\":\"reject\",\"status\":451,\"code\":-32003,\"message\":\"no\","
                                          "\"data\":{\"why\":\"policy\"},\"copy_header\":\"user-agent\"}");
    if (th == NULL) {
        return;
    }
    CHECK(mcpgate_testhost_run_exchange_text(th, tools_call, &result) == 0);
    CHECK(result.action == MCPGATE_REJECT);
    CHECK(strcmp(result.hook, "on_rpc_message") == 0);
    CHECK(result.http_status == 451);
    CHECK(result.rpc_code == -32003);
    CHECK(strcmp(result.message, "no") == 0);
    CHECK(strcmp(result.data, "{\"why\":\"policy\"}") == 0);
    CHECK(strcmp(mcpgate_testhost_attr(th, "test.header"), "t/1") == 0);
    CHECK(strcmp(mcpgate_testhost_attr(th, "test.target"), "search") == 0);
    CHECK(strcmp(mcpgate_testhost_attr(th, "test.trace"), "?:http;?:rpc;?:headers;?:complete;") == 0);
    mcpgate_testhost_free(th);

    th = load(behavior, "{\"rpc\":\"respond\",\"result\":{\"cached\":true}}");
    if (th != NULL) {
        CHECK(mcpgate_testhost_run_exchange_text(th, tools_call, &result) == 0);
        CHECK(result.action == MCPGATE_RESPOND);
        CHECK(result.http_status == 200);
        CHECK(strcmp(result.body, "{\"cached\":true}") == 0);
        mcpgate_testhost_free(th);
    }

    th = load(behavior, "{\"rpc\":\"error\"}");
    if (th != NULL) {
        CHECK(mcpgate_testhost_run_exchange_text(th, tools_call, &result) == 0);
        CHECK(result.action == MCPGATE_ERROR);
        CHECK(result.http_status == 500);
        CHECK(mcpgate_testhost_get_stats(th).plugin_failures == 1);
        CHECK(mcpgate_testhost_get_stats(th).requests_destroyed == 1);
        mcpgate_testhost_free(th);
    }

    th = load(behavior, "{\"sse\":\"drop\"}");
    if (th != NULL) {
        CHECK(mcpgate_testhost_run_exchange_text(
                  th, "{\"events\":[{\"data\":{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}}]}",
                  &result) == 0);
        CHECK(result.action == MCPGATE_DROP);
        mcpgate_testhost_free(th);
    }

    th = load(behavior, "{\"request_new_fails\":true}");
    if (th != NULL) {
        CHECK(mcpgate_testhost_run_exchange_text(th, tools_call, &result) == 0);
        CHECK(result.action == MCPGATE_ERROR);
        CHECK(mcpgate_testhost_get_stats(th).requests_destroyed == 0);
        mcpgate_testhost_free(th);
    }
}

static void test_kv_and_time(const char *behavior) {
    mcpgate_testhost_result result;
    mcpgate_testhost *th = load(behavior, "{\"rate_limit\":{\"capacity\":1,\"refill\":1,\"interval_ms\":500},"
                                          "\"count_key\":\"n\"}");
    if (th == NULL) {
        return;
    }
    CHECK(mcpgate_testhost_run_exchange_text(th, tools_call, &result) == 0 && result.action == MCPGATE_CONTINUE);
    CHECK(mcpgate_testhost_run_exchange_text(th, tools_call, &result) == 0 && result.action == MCPGATE_REJECT);
    CHECK(result.http_status == 429);
    CHECK(strcmp(result.data, "{\"retry_after_ms\":500}") == 0);
    mcpgate_testhost_advance_ms(th, 500);
    CHECK(mcpgate_testhost_run_exchange_text(th, tools_call, &result) == 0 && result.action == MCPGATE_CONTINUE);
    CHECK(strcmp(mcpgate_testhost_attr(th, "test.count"), "3") == 0);

    const mcpgate_host_api *api = mcpgate_testhost_api();
    const mcpgate_instance *inst = mcpgate_testhost_instance(th);
    char buffer[8];
    size_t len = 0;
    uint64_t version = 0;
    CHECK(api->kv_get(inst, mcpgate_str_from_cstr("n"), buffer, sizeof buffer, &len, &version) == MCPGATE_OK);
    CHECK(len == 1 && buffer[0] == '3');
    CHECK(api->kv_cas(inst, mcpgate_str_from_cstr("n"), version + 1, mcpgate_str_from_cstr("x"), 0, NULL) ==
          MCPGATE_ERR_CAS_MISMATCH);
    CHECK(api->kv_cas(inst, mcpgate_str_from_cstr("n"), version, mcpgate_str_from_cstr("x"), 0, NULL) == MCPGATE_OK);
    CHECK(api->kv_set(inst, mcpgate_str_from_cstr("t"), mcpgate_str_from_cstr("v"), 100, NULL) == MCPGATE_OK);
    mcpgate_testhost_advance_ms(th, 100);
    CHECK(api->kv_get(inst, mcpgate_str_from_cstr("t"), buffer, sizeof buffer, &len, NULL) == MCPGATE_ERR_NOT_FOUND);
    CHECK(api->kv_set(inst, mcpgate_str_from_cstr("big"), mcpgate_str_from_cstr("0123456789"), 0, NULL) == MCPGATE_OK);
    CHECK(api->kv_get(inst, mcpgate_str_from_cstr("big"), buffer, sizeof buffer, &len, NULL) == MCPGATE_ERR_TOO_SMALL);
    CHECK(len == 10);
    CHECK(api->kv_delete(inst, mcpgate_str_from_cstr("big")) == MCPGATE_OK);
    CHECK(api->kv_delete(inst, mcpgate_str_from_cstr("big")) == MCPGATE_ERR_NOT_FOUND);
    mcpgate_testhost_free(th);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s <behavior.so> <noop.so> <exchanges.json>\n", argv[0]);
        return 2;
    }
    test_default_exchanges(argv[1], argv[2], argv[3]);
    test_decisions(argv[1]);
    test_kv_and_time(argv[1]);
    if (failures == 0) {
        printf("testhost_test: all checks passed\n");
    }
    return failures == 0 ? 0 : 1;
}
