/*
 * mcpgate/filter.h -- the mcpgate filter ABI, version 1.0.
 *
 * A filter is a C shared library that mcpgate loads with dlopen and runs on every MCP request before
 * the session router. This header is the whole contract: a plugin author needs no other document.
 *
 * ---------------------------------------------------------------------------------------------------
 * 1. SHAPE OF A PLUGIN
 *
 *   - The library exports exactly one symbol, `mcpgate_plugin_v1` (MCPGATE_PLUGIN_ENTRY), a function
 *     returning a pointer to a static, constant `mcpgate_plugin` descriptor. Define it with
 *     MCPGATE_DEFINE_PLUGIN(descriptor) and fill the descriptor's header with MCPGATE_PLUGIN_HEADER so
 *     the magic, ABI version, struct sizes and library versions are recorded by the compiler, not by
 *     hand. The function must have no side effects: tools call it without initialising the plugin.
 *   - Build with `cc -std=c11 -shared -fPIC -fvisibility=hidden $(pkg-config --cflags --libs jansson)`
 *     (add openssl if used). Link the shared libjansson.so.4 (and libcrypto.so.3), never a static
 *     copy: the host and the plugin share jansson objects.
 *   - The host never exports symbols to plugins. Every host service reaches the plugin through the
 *     `mcpgate_host_api` table passed to `init`, so a plugin runs unchanged under a test host
 *     (mcpgate_testhost.h) or `mcpgate plugin check`.
 *
 * 2. LIFECYCLE (all callbacks are optional; a NULL callback means "nothing to do" / CONTINUE)
 *
 *   init(api)                 once per process, on the control thread, before anything else.
 *   config_new(cfg JSON)      once per configured use of the plugin (an "instance"), control thread.
 *                             Validate, precompute, define metrics here. May run while older
 *                             instances still serve traffic (config reload).
 *   request_new(config)       lazily, on the request's thread, before the first hook of this
 *                             instance that runs for a request.
 *   hooks...                  see section 4.
 *   on_complete(...)          once per request for every instance whose state was created.
 *   request_destroy(state)    exactly once per request_new that succeeded, also when the client went
 *                             away mid-request. Never inside another hook of the same request.
 *   config_destroy(config)    exactly once per config_new that succeeded, after the last request
 *                             using that instance has finished (on whichever thread released it
 *                             last; never concurrently with the instance's hooks).
 *   shutdown(plugin)          at most once, after every instance is destroyed. The gateway may skip
 *                             it at process exit. Libraries are never dlclose'd.
 *
 * 3. THREADING
 *
 *   - Control-thread calls (init, config_new, config_destroy, shutdown) are never concurrent with
 *     each other, but traffic keeps flowing meanwhile on older instances.
 *   - A config object is read concurrently from every event-loop thread: make it immutable after
 *     config_new returns, or synchronise internally.
 *   - Hooks of ONE request are serialised (each happens-before the next) but may run on different
 *     threads. Keep per-request data in the request state, never in thread-locals.
 *   - Hooks run inline on the gateway's event loops: they MUST NOT block (no sleeping, no network, no
 *     disk, no waiting on locks held for long). Long work belongs in a thread the plugin starts in
 *     config_new; it talks to the request path only through the config object or the KV store.
 *   - Host functions taking a `mcpgate_request *` may be called only from inside a hook of that
 *     request, on the hook's thread. Host functions taking a `mcpgate_instance *` or a
 *     `mcpgate_metric *` (logging, clocks, metrics, KV, rate limit) may be called from any thread
 *     while the instance lives.
 *   - If a hook used OpenSSL, clear the thread's error queue (ERR_clear_error) before returning.
 *
 * 4. HOOKS AND DECISIONS
 *
 *   on_http_request_headers   request line and headers are known, the body is not read yet.
 *   on_rpc_message            each JSON-RPC message the client sent, already parsed, with method, id,
 *                             target tool/resource/prompt, session and protocol version extracted.
 *   on_rpc_response           each response the server sent back for a request, whether it came as a
 *                             JSON body or as an event on an SSE stream.
 *   on_sse_event              each other server-to-client SSE event (notifications, server requests).
 *   on_response_headers       before response headers go to the client, also for errors the gateway
 *                             or another plugin produced (so a 401 still carries CORS headers).
 *   on_complete               once per request, last.
 *
 *   Request hooks (http_request_headers, rpc_message) run in chain order; response hooks
 *   (rpc_response, sse_event, response_headers, complete) in reverse chain order.
 *
 *   A hook returns an action and may fill the host-owned, zero-initialised `mcpgate_decision` it
 *   receives. The host applies the decision AFTER the hook returns (no re-entrancy): CONTINUE passes
 *   to the next filter, REJECT stops the chain with an HTTP status and a JSON-RPC error, RESPOND stops
 *   it with a reply made by the plugin (the upstream is not called), DROP swallows an SSE event
 *   (on_sse_event only), ERROR reports a failure in the plugin. ERROR, an unknown action, or an
 *   action not allowed in that hook is a plugin failure: the request fails closed (500 / JSON-RPC
 *   -32603) unless the instance is configured with failOpen, in which case it continues.
 *   The host always writes the JSON-RPC `id` of replies itself; plugins never echo ids.
 *
 * 5. MEMORY AND OWNERSHIP
 *
 *   - Everything the host passes in (structs, mcpgate_str, `const json_t *`, header and attribute
 *     values) is BORROWED: valid until the hook (or host call) returns, unless stated otherwise.
 *     Copy what you keep. `mcpgate_str` from the host is also NUL-terminated for convenience.
 *   - Parsed messages (`const json_t *`) are immutable. Never modify them, never call
 *     json_set_alloc_funcs or json_object_seed. You may json_incref one to keep it and json_decref
 *     it later from any thread (jansson refcounts are atomic since 2.11).
 *   - Bytes and strings a plugin passes to the host (mcpgate_str, const char *) are copied before the
 *     host call returns, or, for decision fields, right after the hook returns.
 *   - `json_t *` passed to functions or decision fields named `*_new` / documented "ownership
 *     transferred" are STOLEN: the host decrefs them, also on error. Do not use them afterwards.
 *   - Plugin-owned pointers (plugin state, config, request state) are freed only by the plugin, in
 *     the matching shutdown / config_destroy / request_destroy.
 *   - Handles (`mcpgate_request`, `mcpgate_instance`, `mcpgate_metric`) are opaque and owned by the
 *     host. A request handle is valid only during the hooks of its request; an instance handle and
 *     its metrics from config_new until config_destroy returns.
 *
 * 6. VERSIONING
 *
 *   - MCPGATE_ABI_MAJOR changes only on a breaking change; the host refuses another major.
 *   - MCPGATE_ABI_MINOR grows when something is appended. Structs only ever grow at the end, every
 *     public struct starts with `uint32_t struct_size`, and readers look at a field only if it lies
 *     inside the struct_size the writer reported. A host loads plugins of any minor of its major.
 *   - A plugin built against a newer minor must check host functions with MCPGATE_HOST_HAS(api, fn)
 *     before calling one added after 1.0. Names in this header never change meaning.
 *   - Enumerations are int32_t/uint32_t with #defines, so new values are ABI-compatible. A hook that
 *     gets a value it does not know (a new message kind, say) should return MCPGATE_CONTINUE.
 *   - 1.1 appended `secret_config_members` to the descriptor (config members the admin overview
 *     must never show). A 1.0 plugin loads unchanged: the host reads the field as NULL.
 *   - v1 is synchronous: no hook can pause a request. An asynchronous extension will come as new,
 *     optional hooks and host functions in a later minor.
 * ---------------------------------------------------------------------------------------------------
 */
#ifndef MCPGATE_FILTER_H
#define MCPGATE_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Nullability for clang (and so for Swift, which imports this header); nothing for other compilers.
 * Inside the assume_nonnull region every single-level pointer is non-null unless marked
 * MCPGATE_NULLABLE. */
#ifdef __clang__
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wnullability-extension"
#define MCPGATE_NULLABLE _Nullable
#define MCPGATE_NONNULL _Nonnull
#pragma clang assume_nonnull begin
#else
#define MCPGATE_NULLABLE
#define MCPGATE_NONNULL
#endif

/** Marks the one symbol a plugin exports (its other symbols stay hidden with -fvisibility=hidden). */
#define MCPGATE_EXPORT __attribute__((visibility("default")))

/* =============================== versions and identification =================================== */

/** The ABI major version. The host loads only plugins built with the same major. */
#define MCPGATE_ABI_MAJOR 1
/** The ABI minor version. Appending to the header bumps it; any minor of a major loads. */
#define MCPGATE_ABI_MINOR 1
/** First field after struct_size in every descriptor: the bytes "MCPGATE\x01" as a little-endian
 *  64-bit number. A descriptor without it is not an mcpgate plugin. */
#define MCPGATE_PLUGIN_MAGIC 0x0145544147504D43ULL
/** Name of the exported entry point, for dlsym. */
#define MCPGATE_PLUGIN_ENTRY "mcpgate_plugin_v1"

/* ================================== basic types ================================================ */

/** Status of a host function or of a plugin's lifecycle callback. 0 is success. */
typedef int32_t mcpgate_status;
/** Success; out-parameters are filled. */
#define MCPGATE_OK 0
/** The key, header, attribute or label set does not exist. */
#define MCPGATE_ERR_NOT_FOUND 1
/** An argument is invalid (NULL where not allowed, malformed name, wrong label count, ...). */
#define MCPGATE_ERR_BAD_ARGUMENT 2
/** Compare-and-set lost: the stored version differs from the expected one. */
#define MCPGATE_ERR_CAS_MISMATCH 3
/** The output buffer is too small; the needed size was written to the length out-parameter. */
#define MCPGATE_ERR_TOO_SMALL 4
/** The call is not allowed now (metric_define outside config_new, a read-only attribute, ...). */
#define MCPGATE_ERR_STATE 5
/** The backend (e.g. a remote KV store) is unavailable; the plugin decides fail-open or closed. */
#define MCPGATE_ERR_UNAVAILABLE 6
/** A bound was hit (KV byte cap, metric series cap, attribute count). */
#define MCPGATE_ERR_LIMIT 7
/** The host does not implement this call. */
#define MCPGATE_ERR_UNSUPPORTED 8
/** The stored value has the wrong type for the call (kv_incr on non-integer bytes, ...). */
#define MCPGATE_ERR_WRONG_TYPE 9
/** Any other failure. */
#define MCPGATE_ERR_INTERNAL 10

/** What a hook tells the host to do next. */
typedef int32_t mcpgate_action;
/** Pass to the next filter (the zero value). Allowed in every hook. */
#define MCPGATE_CONTINUE 0
/** Stop with an error: decision->http_status, ->rpc_code, ->message, ->data. Allowed in
 *  on_http_request_headers, on_rpc_message (the client gets the error), on_rpc_response (the server's
 *  response is replaced by the error) and on_sse_event (the event is replaced by an error response
 *  when it carries a server request, else dropped). */
#define MCPGATE_REJECT 1
/** Stop and reply: in on_http_request_headers with a whole HTTP response (decision->http_status,
 *  ->content_type, ->body; e.g. a CORS preflight); in on_rpc_message with a JSON-RPC result
 *  (decision->result or ->body as the result's JSON text) and no upstream call (e.g. a cache hit);
 *  in on_rpc_response by replacing the server's result (redaction). */
#define MCPGATE_RESPOND 2
/** Swallow the event. Allowed only in on_sse_event. */
#define MCPGATE_DROP 3
/** The plugin failed. The host logs it, counts it and fails closed unless the instance is failOpen. */
#define MCPGATE_ERROR 4

/** Log levels for mcpgate_host_api.log. */
#define MCPGATE_LOG_TRACE 0
#define MCPGATE_LOG_DEBUG 1
#define MCPGATE_LOG_INFO 2
#define MCPGATE_LOG_WARN 3
#define MCPGATE_LOG_ERROR 4

/** A byte string with its length. From the host: borrowed, ptr never NULL (an absent value is
 *  {"", 0} or a NOT_FOUND status), and NUL-terminated (ptr[len] == 0) except the raw message bytes
 *  (mcpgate_rpc_message.raw) and SSE data (mcpgate_sse_event.data), which are exact byte ranges.
 *  To the host: copied; ptr may be NULL only when len is 0. */
typedef struct mcpgate_str {
    const char *MCPGATE_NULLABLE ptr;
    size_t len;
} mcpgate_str;

/** One HTTP request as it travels through the chain (opaque, host-owned). Valid only during hooks. */
typedef struct mcpgate_request mcpgate_request;
/** One configured instance of a plugin (opaque, host-owned). Valid from config_new until
 *  config_destroy returns; usable from any thread. */
typedef struct mcpgate_instance mcpgate_instance;
/** A metric defined by an instance (opaque, host-owned); lives as long as its instance. */
typedef struct mcpgate_metric mcpgate_metric;

/* =============================== what the host passes to hooks ================================= */

/** Kinds of JSON-RPC message (mcpgate_rpc_message.kind). */
#define MCPGATE_RPC_REQUEST 0      /* has method and id */
#define MCPGATE_RPC_NOTIFICATION 1 /* has method, no id */
#define MCPGATE_RPC_RESULT 2       /* a response with "result" */
#define MCPGATE_RPC_ERROR 3        /* a response with "error" */

/** What a request is aimed at (mcpgate_rpc_message.target_kind). */
#define MCPGATE_TARGET_NONE 0
#define MCPGATE_TARGET_TOOL 1     /* tools/call: params.name */
#define MCPGATE_TARGET_RESOURCE 2 /* resources/read, resources/subscribe, resources/unsubscribe: params.uri */
#define MCPGATE_TARGET_PROMPT 3   /* prompts/get: params.name */

/** Bits of mcpgate_rpc_message.flags and mcpgate_sse_event.flags. */
#define MCPGATE_MSG_IN_BATCH 0x1u /* the message is one element of a JSON-RPC batch */
#define MCPGATE_MSG_REPLAYED 0x2u /* a stored SSE event replayed after Last-Event-ID */

/** One JSON-RPC message, parsed once by the host. Every field is borrowed for the hook's duration. */
typedef struct mcpgate_rpc_message {
    uint32_t struct_size;
    /** MCPGATE_RPC_REQUEST, _NOTIFICATION, _RESULT or _ERROR. */
    int32_t kind;
    /** The method ("tools/call"). For responses: the method of the request it answers, if known. */
    mcpgate_str method;
    /** The id (JSON integer or string), or NULL for notifications. */
    const json_t *MCPGATE_NULLABLE id;
    /** MCPGATE_TARGET_*; the name or URI in `target` ({"", 0} when NONE). For responses: the target of
     *  the request it answers, if known. */
    int32_t target_kind;
    mcpgate_str target;
    /** The client-facing MCP session id (Mcp-Session-Id), {"", 0} if none. */
    mcpgate_str session_id;
    /** The MCP protocol version of the exchange ("2025-06-18"), {"", 0} if not known yet. */
    mcpgate_str protocol_version;
    /** The whole message as parsed by the host (an object). Immutable. */
    const json_t *message;
    /** The message's "params" (requests, notifications), "result" or "error" (responses), or NULL. */
    const json_t *MCPGATE_NULLABLE params;
    /** The raw bytes of this message as received (for a batch element, that element's bytes may be a
     *  re-serialisation; see the batch flag). */
    mcpgate_str raw;
    /** Position in a batch (0 when not in a batch). */
    uint32_t batch_index;
    /** MCPGATE_MSG_* bits. */
    uint32_t flags;
} mcpgate_rpc_message;

/** The HTTP request line and a few extracted values. Headers are read with api->header_get. */
typedef struct mcpgate_http_request {
    uint32_t struct_size;
    /** "POST", "GET", "DELETE", "OPTIONS", ... */
    mcpgate_str method;
    /** The request target: path and query ("/mcp?x=1"). */
    mcpgate_str path;
    /** Mcp-Session-Id as sent by the client, {"", 0} if absent. */
    mcpgate_str session_id;
    /** MCP-Protocol-Version as sent by the client, {"", 0} if absent. */
    mcpgate_str protocol_version;
    /** The peer address ("203.0.113.9:51234"), {"", 0} if unknown. */
    mcpgate_str remote_address;
} mcpgate_http_request;

/** One server-to-client SSE event that is not the response to a client request. */
typedef struct mcpgate_sse_event {
    uint32_t struct_size;
    /** The event type ("message" when the server gave none). */
    mcpgate_str event;
    /** The event id, {"", 0} if none. */
    mcpgate_str id;
    /** The raw data field (lines joined with "\n"). */
    mcpgate_str data;
    /** The JSON-RPC message in data, or NULL if data is not one. */
    const mcpgate_rpc_message *MCPGATE_NULLABLE message;
    /** MCPGATE_MSG_* bits. */
    uint32_t flags;
} mcpgate_sse_event;

/** Who produced a response (mcpgate_http_response.origin). */
#define MCPGATE_ORIGIN_UPSTREAM 0 /* relayed from an MCP server */
#define MCPGATE_ORIGIN_GATEWAY 1  /* an error or reply made by the gateway itself */
#define MCPGATE_ORIGIN_PLUGIN 2   /* a REJECT or RESPOND decision of a filter */

/** Bits of mcpgate_http_response.flags. */
#define MCPGATE_RESPONSE_SSE 0x1u /* the body is an SSE stream */

/** The response about to be sent. Its headers are read and changed with api->header_get/header_edit
 *  (MCPGATE_HEADERS_RESPONSE). */
typedef struct mcpgate_http_response {
    uint32_t struct_size;
    uint32_t status;
    /** MCPGATE_ORIGIN_*. */
    uint32_t origin;
    /** MCPGATE_RESPONSE_* bits. */
    uint32_t flags;
} mcpgate_http_response;

/** Bits of mcpgate_completion.flags. */
#define MCPGATE_COMPLETE_CLIENT_GONE 0x1u /* the client disconnected before the response ended */
#define MCPGATE_COMPLETE_REJECTED 0x2u    /* a filter rejected or answered the request */
#define MCPGATE_COMPLETE_FAILED 0x4u      /* the gateway or the upstream failed */

/** Bits of mcpgate_completion.hooks_run: which of this instance's hooks ran for the request. */
#define MCPGATE_HOOK_HTTP_REQUEST_HEADERS 0x1u
#define MCPGATE_HOOK_RPC_MESSAGE 0x2u
#define MCPGATE_HOOK_RPC_RESPONSE 0x4u
#define MCPGATE_HOOK_SSE_EVENT 0x8u
#define MCPGATE_HOOK_RESPONSE_HEADERS 0x10u

/** What on_complete learns about the finished request. */
typedef struct mcpgate_completion {
    uint32_t struct_size;
    /** The final HTTP status sent to the client, 0 if none was sent. */
    uint32_t http_status;
    /** MCPGATE_COMPLETE_* bits. */
    uint32_t flags;
    /** MCPGATE_HOOK_* bits. */
    uint32_t hooks_run;
    /** Time from the request's creation in the chain to completion, monotonic nanoseconds. */
    uint64_t duration_ns;
} mcpgate_completion;

/* ================================== decisions ================================================== */

/** What a hook fills when it returns REJECT or RESPOND. Owned and zeroed by the host before every
 *  hook; struct_size is set by the host. Strings and bodies are copied after the hook returns, so they
 *  may point into the plugin's config or request state (not into the hook's stack frame). */
typedef struct mcpgate_decision {
    uint32_t struct_size;
    /** REJECT/RESPOND: HTTP status. 0 = default: 403 for REJECT, 200 for RESPOND. Ignored when the
     *  host cannot change the status any more (on an SSE stream already started). */
    uint32_t http_status;
    /** REJECT: the JSON-RPC error code. 0 = default -32600. */
    int32_t rpc_code;
    /** REJECT: the JSON-RPC error message. Empty = "Request rejected by policy". */
    mcpgate_str message;
    /** REJECT: error.data, ownership transferred (may be NULL). */
    json_t *MCPGATE_NULLABLE data;
    /** RESPOND in a JSON-RPC hook: the result value, ownership transferred. When NULL, `body` holds
     *  the result's JSON text. */
    json_t *MCPGATE_NULLABLE result;
    /** RESPOND: in on_http_request_headers the whole response body (may be empty); in a JSON-RPC hook
     *  the result as JSON text when `result` is NULL. */
    mcpgate_str body;
    /** RESPOND in on_http_request_headers: Content-Type of body ({NULL, 0}: none, or
     *  application/json when body is not empty). */
    mcpgate_str content_type;
} mcpgate_decision;

/* ================================== host services ============================================== */

/** Which header set header_get / header_edit act on. */
#define MCPGATE_HEADERS_REQUEST 0  /* the client's request headers (read); edits go upstream */
#define MCPGATE_HEADERS_RESPONSE 1 /* the response to the client (read in on_response_headers; edits
                                      from any hook are applied to the response) */

/** header_edit operations. */
#define MCPGATE_HEADER_SET 0    /* replace every value of the header */
#define MCPGATE_HEADER_ADD 1    /* add one more value */
#define MCPGATE_HEADER_REMOVE 2 /* remove every value (value ignored) */

/** attr_set flags. */
#define MCPGATE_ATTR_READONLY 0x1u /* later attr_set calls on this key fail with MCPGATE_ERR_STATE */

/** Well-known attribute keys. Auth filters write them; rate limit, cache, the router and access logs
 *  read them. Plugins may use any other key; prefix it with the plugin's name. */
#define MCPGATE_ATTR_PRINCIPAL "mcpgate.principal" /* string: the authenticated subject */
#define MCPGATE_ATTR_CLAIMS "mcpgate.claims"       /* JSON object: the verified token claims */
#define MCPGATE_ATTR_TENANT "mcpgate.tenant"       /* string */
#define MCPGATE_ATTR_SCOPES "mcpgate.scopes"       /* string: space-separated scopes */

/** Metric kinds for metric_define. */
#define MCPGATE_METRIC_COUNTER 0   /* metric_record adds value (>= 0) */
#define MCPGATE_METRIC_GAUGE 1     /* metric_record sets value */
#define MCPGATE_METRIC_HISTOGRAM 2 /* metric_record observes value */

/** Result of rate_limit. */
typedef struct mcpgate_rate_limit_result {
    uint32_t struct_size;
    /** 1 when the tokens were taken, 0 when the request must be limited. */
    uint32_t allowed;
    /** Tokens left in the bucket after this call. */
    uint64_t remaining;
    /** When not allowed: milliseconds until enough tokens will be there (0 when allowed). */
    uint64_t retry_after_ms;
} mcpgate_rate_limit_result;

/** The host services, passed to init and valid for the life of the process. Functions are appended
 *  in later minors, never reordered; test for them with MCPGATE_HOST_HAS. Unless stated, functions
 *  return MCPGATE_OK or an MCPGATE_ERR_* status and fill out-parameters only on MCPGATE_OK. */
typedef struct mcpgate_host_api {
    /** sizeof the host's table; fields past it do not exist. */
    uint32_t struct_size;
    /** The host's ABI version. */
    uint32_t abi_major;
    uint32_t abi_minor;
    uint32_t reserved;

    /* ---- logging (any thread) ---- */

    /** Logs one message (not NUL-terminated; len bytes) at a MCPGATE_LOG_* level. The host adds the
     *  plugin and instance names. inst may be NULL (in init/shutdown). No formatting: use
     *  MCPGATE_LOGF below, which formats on the plugin side. */
    void (*log)(const mcpgate_instance *MCPGATE_NULLABLE inst, int32_t level, const char *msg, size_t len);
    /** 1 if messages at level are recorded, else 0: skip building expensive messages. */
    int32_t (*log_enabled)(const mcpgate_instance *MCPGATE_NULLABLE inst, int32_t level);

    /* ---- clocks (any thread; test hosts fake them) ---- */

    /** Monotonic time in nanoseconds from an arbitrary origin. Use for durations and timeouts. */
    uint64_t (*monotonic_ns)(const mcpgate_instance *MCPGATE_NULLABLE inst);
    /** Wall-clock time, nanoseconds since the Unix epoch. Use for token exp/nbf checks. */
    int64_t (*wall_unix_ns)(const mcpgate_instance *MCPGATE_NULLABLE inst);

    /* ---- instance ---- */

    /** The instance's name from the config (unique within a chain). Borrowed for the instance's life. */
    mcpgate_str (*instance_name)(const mcpgate_instance *inst);

    /* ---- metrics ---- */

    /** Defines a metric. Only inside config_new (else MCPGATE_ERR_STATE). name: [a-zA-Z_][a-zA-Z0-9_]*,
     *  exported as `mcpgate_plugin_<name>` with the labels `plugin` and `instance` added by the host.
     *  label_names: label_count names of the labels each record supplies (the set of values is
     *  bounded by the host: past its series cap records fail with MCPGATE_ERR_LIMIT). buckets:
     *  ascending upper bounds for HISTOGRAM (bucket_count may be 0 for the host default), ignored
     *  otherwise. Defining the same name twice with the same kind and labels (e.g. from two instances)
     *  shares the family; with a different shape it fails with MCPGATE_ERR_BAD_ARGUMENT. help may be
     *  NULL. *metric_out lives as long as the instance. */
    mcpgate_status (*metric_define)(mcpgate_instance *inst, int32_t kind, const char *name,
                                    const char *MCPGATE_NULLABLE help,
                                    const char *MCPGATE_NONNULL const *MCPGATE_NULLABLE label_names,
                                    size_t label_count, const double *MCPGATE_NULLABLE buckets,
                                    size_t bucket_count, mcpgate_metric *MCPGATE_NULLABLE *MCPGATE_NONNULL metric_out);
    /** Records value for the series named by label_values (exactly label_count values, in the order
     *  of the definition). Any thread. Cheap: no allocation once the series exists. */
    mcpgate_status (*metric_record)(mcpgate_metric *metric, const mcpgate_str *MCPGATE_NULLABLE label_values,
                                    size_t label_count, double value);

    /* ---- headers (request thread, inside a hook) ---- */

    /** Reads the index-th value (0-based) of header `name` (case-insensitive) from `which`
     *  (MCPGATE_HEADERS_*). MCPGATE_ERR_NOT_FOUND when there is no such value. The value is borrowed
     *  until the hook returns. Response headers are readable only in on_response_headers. */
    mcpgate_status (*header_get)(mcpgate_request *req, int32_t which, const char *name, size_t index,
                                 mcpgate_str *value_out);
    /** Queues a header change (MCPGATE_HEADER_SET/ADD/REMOVE) on the upstream request
     *  (MCPGATE_HEADERS_REQUEST; only from request hooks) or the client's response
     *  (MCPGATE_HEADERS_RESPONSE; from any hook, applied when the response headers are sent, also to
     *  REJECT/RESPOND replies). Edits of later hooks win. Copied. */
    mcpgate_status (*header_edit)(mcpgate_request *req, int32_t which, int32_t op, const char *name,
                                  mcpgate_str value);

    /* ---- request attributes (request thread, inside a hook) ---- */

    /** Sets a string attribute for the rest of the request (copied). flags: MCPGATE_ATTR_READONLY.
     *  MCPGATE_ERR_STATE if the key is read-only. */
    mcpgate_status (*attr_set)(mcpgate_request *req, const char *key, mcpgate_str value, uint32_t flags);
    /** Reads an attribute. A JSON attribute reads as its string value if it is a JSON string, else as
     *  compact JSON text. Borrowed until the hook returns or the key is set again. */
    mcpgate_status (*attr_get)(mcpgate_request *req, const char *key, mcpgate_str *value_out);
    /** Sets a JSON attribute; ownership of value is transferred (also on failure). */
    mcpgate_status (*attr_set_json_new)(mcpgate_request *req, const char *key, json_t *value, uint32_t flags);
    /** Reads a JSON attribute, borrowed like attr_get. A string attribute reads as MCPGATE_ERR_WRONG_TYPE. */
    mcpgate_status (*attr_get_json)(mcpgate_request *req, const char *key,
                                    const json_t *MCPGATE_NULLABLE *MCPGATE_NONNULL value_out);

    /* ---- key-value store (any thread) ----
     * Keys are bytes, namespaced by the host per plugin (every instance of one plugin shares the
     * namespace; add the instance name to keys you want separate). Entries expire after ttl_ms
     * (0 = no expiry) and may be evicted early when the store is full: treat it as a cache of soft
     * state. Every stored entry has a version (> 0) that changes on each write. Counters written by
     * kv_incr are read by kv_get as decimal ASCII. */

    /** Copies the value into buf (capacity cap), writes its length to *len_out and its version to
     *  *version_out (may be NULL). MCPGATE_ERR_TOO_SMALL if cap < length (*len_out is then the needed
     *  size; call again). MCPGATE_ERR_NOT_FOUND if absent or expired. */
    mcpgate_status (*kv_get)(const mcpgate_instance *inst, mcpgate_str key, void *MCPGATE_NULLABLE buf,
                             size_t cap, size_t *len_out, uint64_t *MCPGATE_NULLABLE version_out);
    /** Stores value with ttl_ms, unconditionally. *version_out (may be NULL) gets the new version.
     *  MCPGATE_ERR_LIMIT if the entry alone exceeds the store's bounds. */
    mcpgate_status (*kv_set)(const mcpgate_instance *inst, mcpgate_str key, mcpgate_str value, uint64_t ttl_ms,
                             uint64_t *MCPGATE_NULLABLE version_out);
    /** Stores value only if the entry's version is expected_version (0: only if absent).
     *  MCPGATE_ERR_CAS_MISMATCH otherwise. */
    mcpgate_status (*kv_cas)(const mcpgate_instance *inst, mcpgate_str key, uint64_t expected_version,
                             mcpgate_str value, uint64_t ttl_ms, uint64_t *MCPGATE_NULLABLE version_out);
    /** Removes the entry. MCPGATE_ERR_NOT_FOUND if absent. */
    mcpgate_status (*kv_delete)(const mcpgate_instance *inst, mcpgate_str key);
    /** Atomically adds delta to an integer entry (created as 0 with ttl_ms when absent; an existing
     *  entry keeps its expiry) and writes the new value to *value_out. MCPGATE_ERR_WRONG_TYPE if the
     *  entry holds something other than a decimal integer. */
    mcpgate_status (*kv_incr)(const mcpgate_instance *inst, mcpgate_str key, int64_t delta, uint64_t ttl_ms,
                              int64_t *value_out);
    /** Token bucket: atomically takes `cost` tokens from the bucket at key. The bucket holds at most
     *  `capacity` tokens, starts full, and gains `refill_tokens` every whole `refill_interval_ms`
     *  (never above capacity). If fewer than cost tokens are there nothing is taken and
     *  out->allowed = 0 with out->retry_after_ms set. MCPGATE_ERR_BAD_ARGUMENT if cost > capacity or a
     *  size is 0. The host sets out->struct_size. */
    mcpgate_status (*rate_limit)(const mcpgate_instance *inst, mcpgate_str key, uint64_t cost, uint64_t capacity,
                                 uint64_t refill_tokens, uint64_t refill_interval_ms,
                                 mcpgate_rate_limit_result *out);
} mcpgate_host_api;

/** 1 if the host table has function `fn` (it lies inside the host's struct_size and is set). */
#define MCPGATE_HOST_HAS(api, fn)                                                                        \
    ((size_t)(api)->struct_size >= offsetof(mcpgate_host_api, fn) + sizeof((api)->fn) && (api)->fn != NULL)

/* ================================== the plugin descriptor ====================================== */

/** The plugin's description of itself and its callbacks. Static and constant; the host reads it only
 *  up to struct_size and treats callbacks past it as NULL. */
typedef struct mcpgate_plugin {
    /** sizeof(mcpgate_plugin) as the plugin was compiled. */
    uint32_t struct_size;
    /** MCPGATE_ABI_MAJOR / MCPGATE_ABI_MINOR the plugin was compiled against. */
    uint32_t abi_major;
    uint32_t abi_minor;
    /** sizeof(void *) and sizeof(size_t) as compiled (refused if they differ from the host's). */
    uint16_t sizeof_pointer;
    uint16_t sizeof_size_t;
    /** MCPGATE_PLUGIN_MAGIC. */
    uint64_t magic;
    /** JANSSON_VERSION_HEX of the jansson headers the plugin was compiled with (0xMMmmpp00 style,
     *  e.g. 0x020e00 for 2.14). The host refuses another major or a runtime older than this. */
    uint32_t jansson_version;
    uint32_t reserved;
    /** OPENSSL_VERSION_NUMBER the plugin was compiled with, or 0 if it does not use OpenSSL. The host
     *  refuses a plugin whose libcrypto major differs from the one loaded for it. */
    uint64_t openssl_version;

    /** Short unique name, [a-z0-9_-]+ ("tool_acl"). Namespaces the plugin's KV keys. */
    const char *name;
    /** The plugin's own version ("1.2.0"). */
    const char *version;
    /** One line for humans; may be NULL. */
    const char *MCPGATE_NULLABLE description;

    /** Once per process, before anything else. Keep the api pointer (valid forever). *plugin_out is
     *  passed to config_new and shutdown. On failure write a message to err (err_len bytes, always
     *  NUL-terminate) and return non-zero: the plugin is refused. */
    mcpgate_status (*MCPGATE_NULLABLE init)(const mcpgate_host_api *api, void *MCPGATE_NULLABLE *MCPGATE_NONNULL plugin_out,
                                            char *err, size_t err_len);
    /** After every instance is destroyed; may never be called. */
    void (*MCPGATE_NULLABLE shutdown)(void *MCPGATE_NULLABLE plugin);

    /** Creates an instance from its JSON config (`config` is the parsed value, never NULL: {} when the
     *  config gives none; raw is its JSON text). Define metrics here. On failure fill err and return
     *  non-zero: the config is refused with that message. */
    mcpgate_status (*MCPGATE_NULLABLE config_new)(void *MCPGATE_NULLABLE plugin, mcpgate_instance *inst,
                                                  const json_t *config, mcpgate_str raw,
                                                  void *MCPGATE_NULLABLE *MCPGATE_NONNULL config_out, char *err, size_t err_len);
    /** Frees an instance (exactly once, after its last request). */
    void (*MCPGATE_NULLABLE config_destroy)(void *MCPGATE_NULLABLE config);

    /** Creates per-request state, lazily before the instance's first hook in a request. A non-zero
     *  status is a plugin failure (fail closed unless failOpen); request_destroy is then not called. */
    mcpgate_status (*MCPGATE_NULLABLE request_new)(void *MCPGATE_NULLABLE config, mcpgate_request *req,
                                                   void *MCPGATE_NULLABLE *MCPGATE_NONNULL state_out);
    /** Frees per-request state, exactly once per successful request_new. No request handle: the
     *  request is over. */
    void (*MCPGATE_NULLABLE request_destroy)(void *MCPGATE_NULLABLE config, void *MCPGATE_NULLABLE state);

    /** Request line and headers known; body not read. CONTINUE, REJECT, RESPOND. */
    mcpgate_action (*MCPGATE_NULLABLE on_http_request_headers)(void *MCPGATE_NULLABLE config,
                                                               void *MCPGATE_NULLABLE state, mcpgate_request *req,
                                                               const mcpgate_http_request *http,
                                                               mcpgate_decision *decision);
    /** One client-to-server JSON-RPC message. CONTINUE, REJECT, RESPOND. For a notification, REJECT
     *  becomes an HTTP error status (its body a JSON-RPC error without id) and RESPOND a 202. */
    mcpgate_action (*MCPGATE_NULLABLE on_rpc_message)(void *MCPGATE_NULLABLE config, void *MCPGATE_NULLABLE state,
                                                      mcpgate_request *req, const mcpgate_rpc_message *message,
                                                      mcpgate_decision *decision);
    /** One server response; `request` is the client message it answers (NULL if not known).
     *  CONTINUE, REJECT (replace with an error), RESPOND (replace the result). */
    mcpgate_action (*MCPGATE_NULLABLE on_rpc_response)(void *MCPGATE_NULLABLE config, void *MCPGATE_NULLABLE state,
                                                       mcpgate_request *req,
                                                       const mcpgate_rpc_message *MCPGATE_NULLABLE request,
                                                       const mcpgate_rpc_message *response,
                                                       mcpgate_decision *decision);
    /** One server-to-client SSE event that is not a response. CONTINUE, DROP, REJECT. */
    mcpgate_action (*MCPGATE_NULLABLE on_sse_event)(void *MCPGATE_NULLABLE config, void *MCPGATE_NULLABLE state,
                                                    mcpgate_request *req, const mcpgate_sse_event *event,
                                                    mcpgate_decision *decision);
    /** The response (from upstream, the gateway or a plugin) is about to be sent; read and edit its
     *  headers with header_get / header_edit. Only CONTINUE: the response cannot be replaced here;
     *  ERROR is logged and counted but never changes the response. */
    mcpgate_action (*MCPGATE_NULLABLE on_response_headers)(void *MCPGATE_NULLABLE config,
                                                           void *MCPGATE_NULLABLE state, mcpgate_request *req,
                                                           const mcpgate_http_response *response);
    /** The request is over (also after a client disconnect). Called for every instance whose state
     *  was created, before request_destroy. Access logs and latency metrics go here. */
    void (*MCPGATE_NULLABLE on_complete)(void *MCPGATE_NULLABLE config, void *MCPGATE_NULLABLE state,
                                         mcpgate_request *req, const mcpgate_completion *completion);

    /* ---- appended in ABI 1.1 ---- */

    /** Since 1.1. The names of config members that hold secrets (keys, passwords, tokens), as a
     *  NULL-terminated array of static strings; may be NULL. Wherever a member of one of these names
     *  appears in an instance's config, at any depth, the admin overview shows "[redacted]" instead of
     *  its value. (The host also redacts members whose name says secret, and private JWK members.) */
    const char *MCPGATE_NULLABLE const *MCPGATE_NULLABLE secret_config_members;
} mcpgate_plugin;

/** The type of the entry point. */
typedef const mcpgate_plugin *MCPGATE_NULLABLE (*mcpgate_plugin_entry_fn)(void);

/** The entry point every plugin defines (with MCPGATE_DEFINE_PLUGIN). */
MCPGATE_EXPORT const mcpgate_plugin *mcpgate_plugin_v1(void);

/** The descriptor's header fields, filled from the headers the plugin is compiled with. Include an
 *  OpenSSL header (e.g. <openssl/opensslv.h>) BEFORE this one if the plugin uses OpenSSL.
 *  Usage: static const mcpgate_plugin desc = { MCPGATE_PLUGIN_HEADER, .name = "x", ... }; */
#ifdef OPENSSL_VERSION_NUMBER
#define MCPGATE_BUILT_OPENSSL_VERSION ((uint64_t)OPENSSL_VERSION_NUMBER)
#else
#define MCPGATE_BUILT_OPENSSL_VERSION ((uint64_t)0)
#endif
#define MCPGATE_PLUGIN_HEADER                                                                            \
    .struct_size = (uint32_t)sizeof(mcpgate_plugin), .abi_major = MCPGATE_ABI_MAJOR,                     \
    .abi_minor = MCPGATE_ABI_MINOR, .sizeof_pointer = (uint16_t)sizeof(void *),                          \
    .sizeof_size_t = (uint16_t)sizeof(size_t), .magic = MCPGATE_PLUGIN_MAGIC,                            \
    .jansson_version = (uint32_t)JANSSON_VERSION_HEX, .openssl_version = MCPGATE_BUILT_OPENSSL_VERSION

/** Defines the exported entry point returning &descriptor. */
#define MCPGATE_DEFINE_PLUGIN(descriptor)                                                                \
    MCPGATE_EXPORT const mcpgate_plugin *mcpgate_plugin_v1(void) { return &(descriptor); }

/* ================================== small helpers ============================================== */

/** A mcpgate_str for a NUL-terminated string (NULL gives {NULL, 0}). */
static inline mcpgate_str mcpgate_str_from_cstr(const char *MCPGATE_NULLABLE s) {
    mcpgate_str out;
    size_t n = 0;
    if (s != NULL) {
        while (s[n] != '\0') {
            n++;
        }
    }
    out.ptr = s;
    out.len = n;
    return out;
}

/** 1 if a host string equals the NUL-terminated `s` exactly. */
static inline int mcpgate_str_equals(mcpgate_str a, const char *s) {
    size_t i = 0;
    if (a.ptr == NULL) {
        return s[0] == '\0';
    }
    for (; i < a.len; i++) {
        if (s[i] == '\0' || s[i] != a.ptr[i]) {
            return 0;
        }
    }
    return s[i] == '\0';
}

/** Fills a REJECT decision and returns MCPGATE_REJECT: `return mcpgate_reject(d, 403, -32600, "no");`
 *  message must outlive the hook (a literal, or a string in config or request state). */
static inline mcpgate_action mcpgate_reject(mcpgate_decision *d, uint32_t http_status, int32_t rpc_code,
                                            const char *message) {
    d->http_status = http_status;
    d->rpc_code = rpc_code;
    d->message = mcpgate_str_from_cstr(message);
    return MCPGATE_REJECT;
}

#ifdef __clang__
#pragma clang assume_nonnull end
#pragma clang diagnostic pop
#endif

/** printf-style logging through api->log, formatted on the plugin side into a 1 KiB buffer
 *  (longer messages are truncated). Needs <stdio.h>. */
#define MCPGATE_LOGF(api, inst, level, ...)                                                              \
    do {                                                                                                 \
        if ((api)->log_enabled((inst), (level))) {                                                       \
            char mcpgate_logf_buf_[1024];                                                                \
            int mcpgate_logf_n_ = snprintf(mcpgate_logf_buf_, sizeof mcpgate_logf_buf_, __VA_ARGS__);    \
            if (mcpgate_logf_n_ > 0) {                                                                   \
                size_t mcpgate_logf_len_ = (size_t)mcpgate_logf_n_ < sizeof mcpgate_logf_buf_            \
                                               ? (size_t)mcpgate_logf_n_                                 \
                                               : sizeof mcpgate_logf_buf_ - 1;                           \
                (api)->log((inst), (level), mcpgate_logf_buf_, mcpgate_logf_len_);                       \
            }                                                                                            \
        }                                                                                                \
    } while (0)

/* ABI guards: these layouts are frozen for 1.x (fields may only be appended). */
#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(offsetof(mcpgate_plugin, struct_size) == 0, "struct_size first");
_Static_assert(offsetof(mcpgate_plugin, magic) == 16, "mcpgate_plugin layout");
_Static_assert(offsetof(mcpgate_host_api, struct_size) == 0, "struct_size first");
_Static_assert(offsetof(mcpgate_decision, struct_size) == 0, "struct_size first");
_Static_assert(offsetof(mcpgate_rpc_message, struct_size) == 0, "struct_size first");
#endif

#ifdef __cplusplus
}
#endif

#endif /* MCPGATE_FILTER_H */
