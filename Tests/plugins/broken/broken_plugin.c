/* Deliberately broken plugins for the loader's refusal tests. The tests compile this file once per
 * variant with -DBROKEN_<VARIANT>; each variant breaks exactly one rule of mcpgate/filter.h. Without a
 * variant it is a valid plugin. */
#if defined(BROKEN_OPENSSL_MISMATCH) || defined(WITH_OPENSSL)
#include <openssl/crypto.h>
#include <openssl/opensslv.h>
#endif
#include <stddef.h>

#include "mcpgate/filter.h"

#ifdef BROKEN_UNDEFINED_SYMBOL
extern void mcpgate_no_such_function(void);
#endif

static mcpgate_status broken_init(const mcpgate_host_api *api, void **plugin_out, char *err, size_t err_len) {
    (void)api;
    *plugin_out = NULL;
#if defined(BROKEN_OPENSSL_MISMATCH) || defined(WITH_OPENSSL)
    if (OpenSSL_version_num() == 0) { /* references libcrypto so it is NEEDED */
        return MCPGATE_ERR_INTERNAL;
    }
#endif
#ifdef BROKEN_UNDEFINED_SYMBOL
    mcpgate_no_such_function();
#endif
#ifdef BROKEN_INIT_FAILS
    const char *message = "no licence key configured";
    size_t i = 0;
    for (; message[i] != '\0' && i + 1 < err_len; i++) {
        err[i] = message[i];
    }
    err[i] = '\0';
    return MCPGATE_ERR_STATE;
#else
    (void)err;
    (void)err_len;
    return MCPGATE_OK;
#endif
}

static mcpgate_plugin broken_descriptor = {
    MCPGATE_PLUGIN_HEADER,
    .name = "broken",
    .version = "0.0.1",
    .init = broken_init,
};

#ifdef BROKEN_NO_SYMBOL
/* Exports something, but not mcpgate_plugin_v1. */
MCPGATE_EXPORT const mcpgate_plugin *mcpgate_plugin_v0(void);
MCPGATE_EXPORT const mcpgate_plugin *mcpgate_plugin_v0(void) { return &broken_descriptor; }
#else
MCPGATE_EXPORT const mcpgate_plugin *mcpgate_plugin_v1(void) {
#if defined(BROKEN_WRONG_MAGIC)
    broken_descriptor.magic = 0x1234;
#elif defined(BROKEN_WRONG_MAJOR)
    broken_descriptor.abi_major = 2;
#elif defined(BROKEN_SMALL_STRUCT)
    broken_descriptor.struct_size = 64;
#elif defined(BROKEN_DATA_MODEL)
    broken_descriptor.sizeof_pointer = 4;
#elif defined(BROKEN_BAD_NAME)
    broken_descriptor.name = "Bad Name!";
#elif defined(BROKEN_JANSSON_NEWER)
    broken_descriptor.jansson_version = 0x026300; /* 2.99.0 */
#elif defined(BROKEN_JANSSON_MAJOR)
    broken_descriptor.jansson_version = 0x030000; /* 3.0.0 */
#elif defined(BROKEN_OPENSSL_MISMATCH)
    broken_descriptor.openssl_version = 0x1010117fUL; /* 1.1.1w */
#elif defined(BROKEN_OPENSSL_NOT_LOADED)
    broken_descriptor.openssl_version = 0x30000130UL; /* 3.0.19, but not linked */
#elif defined(BROKEN_NULL_DESCRIPTOR)
    static const mcpgate_plugin *volatile nothing = NULL;
    return nothing;
#endif
    return &broken_descriptor;
}
#endif
