/*
 * jwt_internal.h -- the pieces of the JWT filter shared between its source files, its unit tests and
 * its fuzz target. Nothing here is exported from the shared library: every declaration is
 * JWT_INTERNAL (hidden visibility), so the plugin still exports only mcpgate_plugin_v1 whatever flags
 * it is built with.
 *
 *   jwt_token.c   base64url, token parsing, JWKS -> OpenSSL keys, signature and claim checks (pure:
 *                 no I/O, no host calls; safe from any thread)
 *   jwt_fetch.c   the JWKS fetcher: a small HTTP/1.1 client (HTTPS through OpenSSL) used only by the
 *                 plugin's background thread
 *   jwt.c         the filter: config, hooks, protected-resource metadata, the refresher thread
 */
#ifndef MCPGATE_JWT_INTERNAL_H
#define MCPGATE_JWT_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#define JWT_INTERNAL __attribute__((visibility("hidden")))

/** Longest token accepted (bytes of the compact serialization). */
#define JWT_MAX_TOKEN_BYTES 16384

/* ---------------------------------------------------------------------------------------------- */
/* algorithms */

typedef enum jwt_alg {
    JWT_ALG_HS256,
    JWT_ALG_HS384,
    JWT_ALG_HS512,
    JWT_ALG_RS256,
    JWT_ALG_RS384,
    JWT_ALG_RS512,
    JWT_ALG_PS256,
    JWT_ALG_PS384,
    JWT_ALG_PS512,
    JWT_ALG_ES256,
    JWT_ALG_ES384,
    JWT_ALG_ES512,
    JWT_ALG_EDDSA,   /* "EdDSA": Ed25519 or Ed448, by the key's crv */
    JWT_ALG_ED25519, /* "Ed25519" (RFC 9864 fully-specified name) */
    JWT_ALG_ED448,   /* "Ed448" */
    JWT_ALG_COUNT
} jwt_alg;

/** Bit of an algorithm in an allow mask. */
#define JWT_ALG_BIT(a) (1u << (unsigned)(a))
#define JWT_ALG_ALL ((1u << JWT_ALG_COUNT) - 1u)

/** The JOSE name of an algorithm ("RS256"). */
JWT_INTERNAL const char *jwt_alg_name(jwt_alg alg);
/** Parses a JOSE algorithm name (exact, case-sensitive). -1 when unknown or "none". */
JWT_INTERNAL int jwt_alg_from_name(const char *name, size_t len);

/* ---------------------------------------------------------------------------------------------- */
/* keys */

typedef enum jwt_key_type { JWT_KTY_OCT, JWT_KTY_RSA, JWT_KTY_EC, JWT_KTY_OKP } jwt_key_type;

/** One verification key from a JWKS. Immutable once built. */
typedef struct jwt_key {
    char *kid;           /* NULL when the JWK has none */
    jwt_key_type kty;
    int alg;             /* the JWK's "alg" (a jwt_alg), or -1 when it names none */
    int curve_bytes;     /* EC: 32, 48, 66 (coordinate size); OKP: 32 (Ed25519) or 57 (Ed448) */
    EVP_PKEY *pkey;      /* RSA, EC, OKP */
    unsigned char *secret; /* oct */
    size_t secret_len;
} jwt_key;

/** An immutable set of keys with an atomic reference count: the refresher swaps a new set in while
 *  requests still verify with the old one. */
typedef struct jwt_keyset {
    atomic_size_t refs;
    size_t count;
    jwt_key *keys;
} jwt_keyset;

/** Called for every JWK that is skipped (unsupported type, curve or use, too short...). */
typedef void (*jwt_skip_fn)(void *ctx, size_t index, const char *kid, const char *reason);

/** Builds a key set from a JWKS document ({"keys": [...]}; a single JWK object is accepted too).
 *  Keys that cannot be used are skipped and reported through `skipped` (may be NULL). Returns NULL
 *  with err filled when the document is not a JWKS or no key is usable. The set starts with one
 *  reference. */
JWT_INTERNAL jwt_keyset *jwt_keyset_from_json(const json_t *jwks, jwt_skip_fn skipped, void *ctx, char *err,
                                              size_t err_len);
/** Parses JWKS text, then jwt_keyset_from_json. */
JWT_INTERNAL jwt_keyset *jwt_keyset_from_text(const char *text, size_t len, jwt_skip_fn skipped, void *ctx,
                                              char *err, size_t err_len);
JWT_INTERNAL void jwt_keyset_retain(jwt_keyset *set);
/** Drops a reference; frees the set with the last one. NULL is fine. */
JWT_INTERNAL void jwt_keyset_release(jwt_keyset *set);

/* ---------------------------------------------------------------------------------------------- */
/* tokens */

/** Why a token was refused. JWT_OK is 0. */
typedef enum jwt_status {
    JWT_OK = 0,
    JWT_MALFORMED,        /* not three base64url parts of JSON objects */
    JWT_ALG_NONE,         /* alg "none" (unsecured JWS) */
    JWT_ALG_UNSUPPORTED,  /* an alg this filter does not know */
    JWT_ALG_NOT_ALLOWED,  /* an alg the config does not allow */
    JWT_ALG_KEY_MISMATCH, /* the key named by kid is of another type / alg (algorithm confusion) */
    JWT_UNKNOWN_KID,      /* no key with the token's kid */
    JWT_NO_KEY,           /* no kid, and no key fits the algorithm */
    JWT_BAD_SIGNATURE,
    JWT_EXPIRED,
    JWT_NOT_YET_VALID,    /* nbf in the future */
    JWT_ISSUED_IN_FUTURE, /* iat in the future */
    JWT_BAD_ISSUER,
    JWT_BAD_AUDIENCE,
    JWT_MISSING_CLAIM,
    JWT_BAD_CLAIM,        /* exp / nbf / iat not a number, iss not a string, ... */
    JWT_UNSUPPORTED_HEADER /* crit, or an encrypted token (JWE) */
} jwt_status;

/** A parsed, not yet verified, token. Owns its JSON. */
typedef struct jwt_token {
    json_t *header;
    json_t *payload;
    int alg;                 /* jwt_alg */
    const char *kid;         /* into header, or NULL */
    const char *signing_input; /* borrowed from the text passed to jwt_parse */
    size_t signing_input_len;
    unsigned char *signature;
    size_t signature_len;
} jwt_token;

/** What claims must look like. Strings are borrowed. */
typedef struct jwt_claims_policy {
    const char *const *issuers; /* any of them; none configured: not checked */
    size_t issuer_count;
    const char *const *audiences; /* any of them in "aud"; none: not checked */
    size_t audience_count;
    const char *const *required; /* claim names that must be present */
    size_t required_count;
    int64_t now;    /* seconds since the epoch */
    int64_t leeway; /* seconds of clock skew tolerated for exp / nbf / iat */
} jwt_claims_policy;

/** A human description of a status, for error_description (never contains '"' or '\\'). */
JWT_INTERNAL const char *jwt_status_text(jwt_status status);

/** Decodes unpadded base64url (RFC 7515 §2). Rejects padding, other alphabets, impossible lengths and
 *  non-zero trailing bits. *out is malloc'd (free it) even for 0 bytes. -1 on bad input or OOM. */
JWT_INTERNAL int jwt_b64url_decode(const char *in, size_t len, unsigned char **out, size_t *out_len);

/** Splits and decodes a compact JWS: header and payload must be JSON objects (duplicate names are
 *  refused), alg a known name. `text` must outlive the token (signing_input points into it). */
JWT_INTERNAL jwt_status jwt_parse(const char *text, size_t len, jwt_token *out);
JWT_INTERNAL void jwt_token_free(jwt_token *token);

/** Finds the key (by kid, else every key that fits alg) and checks the signature. */
JWT_INTERNAL jwt_status jwt_verify_signature(const jwt_token *token, const jwt_keyset *keys, uint32_t allowed_algs);

/** Checks exp, nbf, iat, iss, aud and the required claims. */
JWT_INTERNAL jwt_status jwt_check_claims(const json_t *payload, const jwt_claims_policy *policy);

/** parse + verify_signature + check_claims. On JWT_OK *payload_out (may be NULL) gets a new reference
 *  to the payload. Clears the thread's OpenSSL error queue. */
JWT_INTERNAL jwt_status jwt_verify(const char *text, size_t len, const jwt_keyset *keys, uint32_t allowed_algs,
                                   const jwt_claims_policy *policy, json_t **payload_out);

/* ---------------------------------------------------------------------------------------------- */
/* fetching a JWKS over HTTP(S) (background thread only: it blocks, up to timeout_ms) */

/** GETs url (http:// or https://; HTTPS verifies the certificate against the system store, or only
 *  ca_file when given, and the host name). Returns 0 with *body_out (malloc'd, NUL-terminated) on a
 *  200 response; -1 with err filled otherwise. Gives up after timeout_ms, or as soon as `stop` is set
 *  while wake_fd (may be -1) becomes readable. At most max_bytes of body. */
JWT_INTERNAL int jwt_http_get(const char *url, const char *ca_file, int64_t timeout_ms, int wake_fd,
                              const atomic_int *stop, size_t max_bytes, char **body_out, size_t *len_out, char *err,
                              size_t err_len);

#endif /* MCPGATE_JWT_INTERNAL_H */
