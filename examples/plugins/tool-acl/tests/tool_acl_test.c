/* Unit tests of tool_acl with the mcpgate C test host: the plugin is linked in, no gateway runs.
 * `make test` builds and runs this (and `make test SANITIZE=1` under ASan/UBSan). */
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

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    static char buffer[8192];
    size_t n = fread(buffer, 1, sizeof buffer - 1, f);
    fclose(f);
    buffer[n] = '\0';
    return buffer;
}

static mcpgate_testhost *load(const char *config) {
    char err[256] = "";
    mcpgate_testhost *th = mcpgate_testhost_new();
    if (th != NULL && mcpgate_testhost_load(th, mcpgate_plugin_v1(), config, err, sizeof err) == 0) {
        return th;
    }
    fprintf(stderr, "load failed: %s\n", err);
    mcpgate_testhost_free(th);
    return NULL;
}

static void test_config_errors(void) {
    const char *bad[] = {
        "{\"default\":\"maybe\"}",
        "{\"rules\":{}}",
        "{\"rules\":[{\"allow\":[\"x\"]}]}",
        "{\"rules\":[{\"principal\":\"a\",\"allow\":[1]}]}",
        "{\"denyStatus\":200}",
    };
    const char *messages[] = {
        "default: expected \"allow\" or \"deny\"",
        "rules: expected an array",
        "rules[0].principal: expected a string (\"*\" for everyone)",
        "rules[0].allow[0]: expected a string",
        "denyStatus: expected an HTTP error status (400-599)",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[256] = "";
        mcpgate_testhost *th = mcpgate_testhost_new();
        CHECK(mcpgate_testhost_load(th, mcpgate_plugin_v1(), bad[i], err, sizeof err) != 0);
        CHECK(strcmp(err, messages[i]) == 0);
        mcpgate_testhost_free(th);
    }
}

static void test_exchanges(const char *config_path, const char *exchanges_path) {
    const char *config = read_file(config_path);
    CHECK(config != NULL);
    mcpgate_testhost *th = load(config);
    if (th == NULL) {
        failures++;
        return;
    }
    CHECK(mcpgate_testhost_run_file(th, exchanges_path, stdout) == 0);
    mcpgate_testhost_stats stats = mcpgate_testhost_get_stats(th);
    CHECK(stats.requests_created == stats.requests_destroyed);
    CHECK(stats.plugin_failures == 0);
    CHECK(mcpgate_testhost_metric(th, "tool_acl_decisions_total") == 7);
    CHECK(strstr(mcpgate_testhost_logs(th), "INFO tool 'delete_repo' is not allowed for principal 'bob'") != NULL);
    mcpgate_testhost_free(th);
}

static void test_denial_details_and_list_filtering(void) {
    mcpgate_testhost *th = load("{\"rules\":[{\"principal\":\"*\",\"allow\":[\"search\"]}],\"denyStatus\":451}");
    if (th == NULL) {
        failures++;
        return;
    }
    mcpgate_testhost_result result;
    CHECK(mcpgate_testhost_run_exchange_text(
              th,
              "{\"request\":{\"attributes\":{\"mcpgate.principal\":\"eve\"}},"
              "\"messages\":[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"rm\"}}]}",
              &result) == 0);
    CHECK(result.action == MCPGATE_REJECT);
    CHECK(result.http_status == 451);
    CHECK(strcmp(result.message, "tool 'rm' is not allowed for principal 'eve'") == 0);
    CHECK(strcmp(result.data, "{\"tool\":\"rm\",\"principal\":\"eve\"}") == 0);

    CHECK(mcpgate_testhost_run_exchange_text(
              th,
              "{\"request\":{\"attributes\":{\"mcpgate.principal\":\"eve\"}},"
              "\"messages\":[{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}],"
              "\"responses\":[{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"tools\":[{\"name\":\"rm\"},{\"name\":"
              "\"search\"}],\"nextCursor\":\"n\"}}]}",
              &result) == 0);
    CHECK(result.action == MCPGATE_RESPOND);
    CHECK(strcmp(result.body, "{\"tools\":[{\"name\":\"search\"}],\"nextCursor\":\"n\"}") == 0);
    mcpgate_testhost_free(th);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s <config.json> <exchanges.json>\n", argv[0]);
        return 2;
    }
    test_config_errors();
    test_exchanges(argv[1], argv[2]);
    test_denial_details_and_list_filtering();
    printf("%s\n", failures == 0 ? "tool_acl_test: all checks passed" : "tool_acl_test: FAILED");
    return failures == 0 ? 0 : 1;
}
