/*
 * jwt_token.c -- JWS compact tokens and JWKS keys with OpenSSL 3 EVP: parsing, signature
 * verification (HS/RS/PS/ES 256-512, EdDSA) and claim checks. No I/O and no host calls: the request
 * path and the fuzz target call it directly.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "jwt_internal.h"

/* Smallest RSA modulus accepted (bits). */
#define JWT_MIN_RSA_BITS 2048

static const char *const alg_names[JWT_ALG_COUNT] = {
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384",
    "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519", "Ed448",
};

const char *jwt_alg_name(jwt_alg alg) { return (unsigned)alg < JWT_ALG_COUNT ? alg_names[alg] : "?"; }

int jwt_alg_from_name(const char *name, size_t len) {
    for (int i = 0; i < JWT_ALG_COUNT; i++) {
        if (strlen(alg_names[i]) == len && memcmp(alg_names[i], name, len) == 0) {
            return i;
        }
    }
    return -1;
}

const char *jwt_status_text(jwt_status status) {
    switch (status) {
    case JWT_OK:
        return "ok";
    case JWT_MALFORMED:
        return "malformed token";
    case JWT_ALG_NONE:
        return "unsigned tokens (alg none) are not accepted";
    case JWT_ALG_UNSUPPORTED:
        return "unsupported signature algorithm";
    case JWT_ALG_NOT_ALLOWED:
        return "signature algorithm not allowed";
    case JWT_ALG_KEY_MISMATCH:
        return "signature algorithm does not match the key";
    case JWT_UNKNOWN_KID:
        return "unknown signing key (kid)";
    case JWT_NO_KEY:
        return "no signing key for the token's algorithm";
    case JWT_BAD_SIGNATURE:
        return "invalid signature";
    case JWT_EXPIRED:
        return "token expired";
    case JWT_NOT_YET_VALID:
        return "token not yet valid (nbf)";
    case JWT_ISSUED_IN_FUTURE:
        return "token issued in the future (iat)";
    case JWT_BAD_ISSUER:
        return "wrong issuer";
    case JWT_BAD_AUDIENCE:
        return "wrong audience";
    case JWT_MISSING_CLAIM:
        return "a required claim is missing";
    case JWT_BAD_CLAIM:
        return "malformed claim";
    case JWT_UNSUPPORTED_HEADER:
        return "unsupported token header (crit or encryption)";
    }
    return "invalid token";
}

/* ---------------------------------------------------------------------------------------------- */
/* base64url */

static int b64url_value(unsigned char c) {
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '-') {
        return 62;
    }
    if (c == '_') {
        return 63;
    }
    return -1;
}

int jwt_b64url_decode(const char *in, size_t len, unsigned char **out, size_t *out_len) {
    *out = NULL;
    *out_len = 0;
    if (len % 4 == 1) {
        return -1;
    }
    unsigned char *buf = malloc(len / 4 * 3 + 3);
    if (buf == NULL) {
        return -1;
    }
    size_t at = 0;
    uint32_t acc = 0;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64url_value((unsigned char)in[i]);
        if (v < 0) {
            free(buf);
            return -1;
        }
        acc = (acc << 6) | (uint32_t)v;
        if (++n == 4) {
            buf[at++] = (unsigned char)(acc >> 16);
            buf[at++] = (unsigned char)(acc >> 8);
            buf[at++] = (unsigned char)acc;
            acc = 0;
            n = 0;
        }
    }
    if (n == 2) {
        if (acc & 0xfu) { /* non-canonical: bits past the last byte must be zero */
            free(buf);
            return -1;
        }
        buf[at++] = (unsigned char)(acc >> 4);
    } else if (n == 3) {
        if (acc & 0x3u) {
            free(buf);
            return -1;
        }
        buf[at++] = (unsigned char)(acc >> 10);
        buf[at++] = (unsigned char)(acc >> 2);
    }
    *out = buf;
    *out_len = at;
    return 0;
}

/* Decodes a base64url JSON member of a JWK. */
static int member_bytes(const json_t *jwk, const char *name, unsigned char **out, size_t *out_len) {
    const json_t *v = json_object_get(jwk, name);
    if (!json_is_string(v)) {
        *out = NULL;
        *out_len = 0;
        return -1;
    }
    return jwt_b64url_decode(json_string_value(v), json_string_length(v), out, out_len);
}

/* ---------------------------------------------------------------------------------------------- */
/* keys */

static void key_clear(jwt_key *k) {
    free(k->kid);
    EVP_PKEY_free(k->pkey);
    if (k->secret != NULL) {
        OPENSSL_cleanse(k->secret, k->secret_len);
        free(k->secret);
    }
    memset(k, 0, sizeof *k);
}

static EVP_PKEY *pkey_from_params(const char *type, OSSL_PARAM_BLD *bld) {
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (params != NULL && ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1) {
        if (EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
            pkey = NULL;
        }
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    if (pkey != NULL) {
        /* Refuse points off the curve and other broken public keys now, not per request. */
        EVP_PKEY_CTX *check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
        int ok = check != NULL && EVP_PKEY_public_check(check) == 1;
        EVP_PKEY_CTX_free(check);
        if (!ok) {
            EVP_PKEY_free(pkey);
            pkey = NULL;
        }
    }
    return pkey;
}

static const char *rsa_key(const json_t *jwk, jwt_key *k) {
    unsigned char *n = NULL, *e = NULL;
    size_t n_len = 0, e_len = 0;
    const char *reason = NULL;
    BIGNUM *bn_n = NULL, *bn_e = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    if (member_bytes(jwk, "n", &n, &n_len) != 0 || member_bytes(jwk, "e", &e, &e_len) != 0 || n_len == 0 ||
        e_len == 0 || e_len > 8) {
        reason = "RSA key without valid base64url n and e";
        goto done;
    }
    bn_n = BN_bin2bn(n, (int)n_len, NULL);
    bn_e = BN_bin2bn(e, (int)e_len, NULL);
    bld = OSSL_PARAM_BLD_new();
    if (bn_n == NULL || bn_e == NULL || bld == NULL || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) != 1) {
        reason = "out of memory";
        goto done;
    }
    k->pkey = pkey_from_params("RSA", bld);
    if (k->pkey == NULL) {
        reason = "invalid RSA public key";
    } else if (EVP_PKEY_get_bits(k->pkey) < JWT_MIN_RSA_BITS) {
        reason = "RSA key shorter than 2048 bits";
    }
done:
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    free(n);
    free(e);
    return reason;
}

static const char *ec_key(const json_t *jwk, jwt_key *k) {
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    const char *group;
    if (crv != NULL && strcmp(crv, "P-256") == 0) {
        group = "prime256v1";
        k->curve_bytes = 32;
    } else if (crv != NULL && strcmp(crv, "P-384") == 0) {
        group = "secp384r1";
        k->curve_bytes = 48;
    } else if (crv != NULL && strcmp(crv, "P-521") == 0) {
        group = "secp521r1";
        k->curve_bytes = 66;
    } else {
        return "unsupported EC curve (P-256, P-384, P-521)";
    }
    unsigned char *x = NULL, *y = NULL;
    size_t x_len = 0, y_len = 0;
    const char *reason = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    unsigned char point[1 + 2 * 66];
    if (member_bytes(jwk, "x", &x, &x_len) != 0 || member_bytes(jwk, "y", &y, &y_len) != 0 ||
        x_len != (size_t)k->curve_bytes || y_len != (size_t)k->curve_bytes) {
        reason = "EC key without valid x and y of the curve's size";
        goto done;
    }
    point[0] = 0x04; /* uncompressed */
    memcpy(point + 1, x, x_len);
    memcpy(point + 1 + x_len, y, y_len);
    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL || OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + x_len + y_len) != 1) {
        reason = "out of memory";
        goto done;
    }
    k->pkey = pkey_from_params("EC", bld);
    if (k->pkey == NULL) {
        reason = "invalid EC public key (not on the curve)";
    }
done:
    OSSL_PARAM_BLD_free(bld);
    free(x);
    free(y);
    return reason;
}

static const char *okp_key(const json_t *jwk, jwt_key *k) {
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    const char *type;
    if (crv != NULL && strcmp(crv, "Ed25519") == 0) {
        type = "ED25519";
        k->curve_bytes = 32;
    } else if (crv != NULL && strcmp(crv, "Ed448") == 0) {
        type = "ED448";
        k->curve_bytes = 57;
    } else {
        return "unsupported OKP curve (Ed25519, Ed448)";
    }
    unsigned char *x = NULL;
    size_t x_len = 0;
    const char *reason = NULL;
    if (member_bytes(jwk, "x", &x, &x_len) != 0 || x_len != (size_t)k->curve_bytes) {
        reason = "OKP key without a valid x";
    } else {
        k->pkey = EVP_PKEY_new_raw_public_key_ex(NULL, type, NULL, x, x_len);
        if (k->pkey == NULL) {
            reason = "invalid OKP public key";
        }
    }
    free(x);
    return reason;
}

static const char *oct_key(const json_t *jwk, jwt_key *k) {
    if (member_bytes(jwk, "k", &k->secret, &k->secret_len) != 0 || k->secret_len == 0) {
        return "oct key without a valid k";
    }
    return NULL;
}

/* Whether a JWK may verify signatures ("use": "sig" or absent; "key_ops" absent or with "verify"). */
static const char *usable_for_signatures(const json_t *jwk) {
    const json_t *use = json_object_get(jwk, "use");
    if (use != NULL && !(json_is_string(use) && strcmp(json_string_value(use), "sig") == 0)) {
        return "key is not for signatures (use)";
    }
    const json_t *ops = json_object_get(jwk, "key_ops");
    if (ops != NULL) {
        size_t i;
        const json_t *op;
        json_array_foreach(ops, i, op) {
            if (json_is_string(op) && strcmp(json_string_value(op), "verify") == 0) {
                return NULL;
            }
        }
        return "key is not for verification (key_ops)";
    }
    return NULL;
}

static const char *key_from_jwk(const json_t *jwk, jwt_key *k) {
    k->alg = -1;
    if (!json_is_object(jwk)) {
        return "not a JSON object";
    }
    const json_t *kid = json_object_get(jwk, "kid");
    if (kid != NULL) {
        if (!json_is_string(kid)) {
            return "kid is not a string";
        }
        k->kid = strdup(json_string_value(kid));
        if (k->kid == NULL) {
            return "out of memory";
        }
    }
    const char *reason = usable_for_signatures(jwk);
    if (reason != NULL) {
        return reason;
    }
    const json_t *alg = json_object_get(jwk, "alg");
    if (alg != NULL) {
        k->alg = json_is_string(alg) ? jwt_alg_from_name(json_string_value(alg), json_string_length(alg)) : -1;
        if (k->alg < 0) {
            return "unsupported alg";
        }
    }
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    if (kty == NULL) {
        return "no kty";
    }
    if (strcmp(kty, "RSA") == 0) {
        k->kty = JWT_KTY_RSA;
        return rsa_key(jwk, k);
    }
    if (strcmp(kty, "EC") == 0) {
        k->kty = JWT_KTY_EC;
        return ec_key(jwk, k);
    }
    if (strcmp(kty, "OKP") == 0) {
        k->kty = JWT_KTY_OKP;
        return okp_key(jwk, k);
    }
    if (strcmp(kty, "oct") == 0) {
        k->kty = JWT_KTY_OCT;
        return oct_key(jwk, k);
    }
    return "unsupported kty";
}

jwt_keyset *jwt_keyset_from_json(const json_t *jwks, jwt_skip_fn skipped, void *ctx, char *err, size_t err_len) {
    const json_t *keys = json_object_get(jwks, "keys");
    size_t total;
    if (json_is_array(keys)) {
        total = json_array_size(keys);
    } else if (json_is_object(jwks) && json_object_get(jwks, "kty") != NULL) {
        total = 1; /* a single JWK */
        keys = NULL;
    } else {
        snprintf(err, err_len, "not a JWKS (expected an object with a \"keys\" array)");
        return NULL;
    }
    jwt_keyset *set = calloc(1, sizeof *set);
    if (set == NULL || (total > 0 && (set->keys = calloc(total, sizeof *set->keys)) == NULL)) {
        free(set);
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    atomic_init(&set->refs, 1);
    for (size_t i = 0; i < total; i++) {
        const json_t *jwk = keys != NULL ? json_array_get(keys, i) : jwks;
        jwt_key *k = &set->keys[set->count];
        const char *reason = key_from_jwk(jwk, k);
        if (reason == NULL && k->alg >= 0) {
            /* A key that names its algorithm must be able to verify it. */
            jwt_alg a = (jwt_alg)k->alg;
            int fits = (k->kty == JWT_KTY_OCT && a <= JWT_ALG_HS512) ||
                       (k->kty == JWT_KTY_RSA && a >= JWT_ALG_RS256 && a <= JWT_ALG_PS512) ||
                       (k->kty == JWT_KTY_EC && a >= JWT_ALG_ES256 && a <= JWT_ALG_ES512) ||
                       (k->kty == JWT_KTY_OKP && a >= JWT_ALG_EDDSA);
            if (!fits) {
                reason = "alg does not fit the key type";
            }
        }
        if (reason != NULL) {
            if (skipped != NULL) {
                skipped(ctx, i, k->kid, reason);
            }
            key_clear(k);
            continue;
        }
        set->count++;
    }
    ERR_clear_error();
    if (set->count == 0) {
        snprintf(err, err_len, "no usable key in the JWKS (%zu listed)", total);
        jwt_keyset_release(set);
        return NULL;
    }
    return set;
}

jwt_keyset *jwt_keyset_from_text(const char *text, size_t len, jwt_skip_fn skipped, void *ctx, char *err,
                                 size_t err_len) {
    json_error_t error;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &error);
    if (doc == NULL) {
        snprintf(err, err_len, "JWKS is not JSON: %s (line %d)", error.text, error.line);
        return NULL;
    }
    jwt_keyset *set = jwt_keyset_from_json(doc, skipped, ctx, err, err_len);
    json_decref(doc);
    return set;
}

void jwt_keyset_retain(jwt_keyset *set) { atomic_fetch_add_explicit(&set->refs, 1, memory_order_relaxed); }

void jwt_keyset_release(jwt_keyset *set) {
    if (set == NULL || atomic_fetch_sub_explicit(&set->refs, 1, memory_order_acq_rel) != 1) {
        return;
    }
    for (size_t i = 0; i < set->count; i++) {
        key_clear(&set->keys[i]);
    }
    free(set->keys);
    free(set);
}

/* ---------------------------------------------------------------------------------------------- */
/* tokens */

void jwt_token_free(jwt_token *token) {
    json_decref(token->header);
    json_decref(token->payload);
    free(token->signature);
    memset(token, 0, sizeof *token);
}

static json_t *decode_object(const char *part, size_t len) {
    unsigned char *bytes;
    size_t n;
    if (jwt_b64url_decode(part, len, &bytes, &n) != 0) {
        return NULL;
    }
    json_t *value = json_loadb((const char *)bytes, n, JSON_REJECT_DUPLICATES, NULL);
    free(bytes);
    if (value != NULL && !json_is_object(value)) {
        json_decref(value);
        return NULL;
    }
    return value;
}

jwt_status jwt_parse(const char *text, size_t len, jwt_token *out) {
    memset(out, 0, sizeof *out);
    out->alg = -1;
    if (len == 0 || len > JWT_MAX_TOKEN_BYTES) {
        return JWT_MALFORMED;
    }
    const char *dot1 = memchr(text, '.', len);
    const char *dot2 = dot1 != NULL ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - text)) : NULL;
    if (dot2 == NULL) {
        return JWT_MALFORMED;
    }
    size_t dots = 2;
    for (const char *p = dot2 + 1; p < text + len; p++) {
        dots += *p == '.';
    }
    if (dots != 2) {
        return dots == 4 ? JWT_UNSUPPORTED_HEADER : JWT_MALFORMED; /* five parts: an encrypted token (JWE) */
    }
    out->header = decode_object(text, (size_t)(dot1 - text));
    if (out->header == NULL) {
        return JWT_MALFORMED;
    }
    const json_t *alg = json_object_get(out->header, "alg");
    if (!json_is_string(alg)) {
        jwt_token_free(out);
        return JWT_MALFORMED;
    }
    if (strcasecmp(json_string_value(alg), "none") == 0) {
        jwt_token_free(out);
        return JWT_ALG_NONE;
    }
    out->alg = jwt_alg_from_name(json_string_value(alg), json_string_length(alg));
    if (out->alg < 0) {
        jwt_token_free(out);
        return JWT_ALG_UNSUPPORTED;
    }
    if (json_object_get(out->header, "crit") != NULL || json_object_get(out->header, "enc") != NULL) {
        jwt_token_free(out);
        return JWT_UNSUPPORTED_HEADER;
    }
    const json_t *kid = json_object_get(out->header, "kid");
    if (kid != NULL && !json_is_string(kid)) {
        jwt_token_free(out);
        return JWT_MALFORMED;
    }
    out->kid = json_string_value(kid);
    out->payload = decode_object(dot1 + 1, (size_t)(dot2 - dot1 - 1));
    if (out->payload == NULL ||
        jwt_b64url_decode(dot2 + 1, len - (size_t)(dot2 + 1 - text), &out->signature, &out->signature_len) != 0) {
        jwt_token_free(out);
        return JWT_MALFORMED;
    }
    out->signing_input = text;
    out->signing_input_len = (size_t)(dot2 - text);
    return JWT_OK;
}

static const EVP_MD *alg_digest(jwt_alg alg) {
    switch (alg) {
    case JWT_ALG_HS256:
    case JWT_ALG_RS256:
    case JWT_ALG_PS256:
    case JWT_ALG_ES256:
        return EVP_sha256();
    case JWT_ALG_HS384:
    case JWT_ALG_RS384:
    case JWT_ALG_PS384:
    case JWT_ALG_ES384:
        return EVP_sha384();
    case JWT_ALG_HS512:
    case JWT_ALG_RS512:
    case JWT_ALG_PS512:
    case JWT_ALG_ES512:
        return EVP_sha512();
    default:
        return NULL; /* EdDSA hashes internally */
    }
}

/* Whether key k can verify alg (type, curve, and the JWK's own alg when it names one). */
static int key_fits(const jwt_key *k, jwt_alg alg) {
    if (k->alg >= 0 && k->alg != (int)alg) {
        /* "EdDSA" and the fully-specified names are the same signatures. */
        int both_eddsa = k->kty == JWT_KTY_OKP && alg >= JWT_ALG_EDDSA && k->alg >= JWT_ALG_EDDSA;
        if (!both_eddsa) {
            return 0;
        }
    }
    switch (alg) {
    case JWT_ALG_HS256:
    case JWT_ALG_HS384:
    case JWT_ALG_HS512:
        return k->kty == JWT_KTY_OCT;
    case JWT_ALG_RS256:
    case JWT_ALG_RS384:
    case JWT_ALG_RS512:
    case JWT_ALG_PS256:
    case JWT_ALG_PS384:
    case JWT_ALG_PS512:
        return k->kty == JWT_KTY_RSA;
    case JWT_ALG_ES256:
        return k->kty == JWT_KTY_EC && k->curve_bytes == 32;
    case JWT_ALG_ES384:
        return k->kty == JWT_KTY_EC && k->curve_bytes == 48;
    case JWT_ALG_ES512:
        return k->kty == JWT_KTY_EC && k->curve_bytes == 66;
    case JWT_ALG_EDDSA:
        return k->kty == JWT_KTY_OKP;
    case JWT_ALG_ED25519:
        return k->kty == JWT_KTY_OKP && k->curve_bytes == 32;
    case JWT_ALG_ED448:
        return k->kty == JWT_KTY_OKP && k->curve_bytes == 57;
    default:
        return 0;
    }
}

static int verify_hmac(const jwt_key *k, const EVP_MD *md, const jwt_token *t) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    if (HMAC(md, k->secret, (int)k->secret_len, (const unsigned char *)t->signing_input, t->signing_input_len, mac,
             &mac_len) == NULL) {
        return 0;
    }
    return t->signature_len == mac_len && CRYPTO_memcmp(mac, t->signature, mac_len) == 0;
}

/* JWS ECDSA signatures are R || S, each the curve's size; OpenSSL wants DER. */
static unsigned char *ecdsa_der(const jwt_token *t, int coordinate, size_t *der_len) {
    if (t->signature_len != (size_t)coordinate * 2) {
        return NULL;
    }
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(t->signature, coordinate, NULL);
    BIGNUM *s = BN_bin2bn(t->signature + coordinate, coordinate, NULL);
    unsigned char *der = NULL;
    if (sig == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(sig, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(sig);
        return NULL;
    }
    int n = i2d_ECDSA_SIG(sig, &der);
    ECDSA_SIG_free(sig);
    if (n <= 0) {
        return NULL;
    }
    *der_len = (size_t)n;
    return der;
}

static int verify_pkey(const jwt_key *k, jwt_alg alg, const EVP_MD *md, const jwt_token *t) {
    const unsigned char *sig = t->signature;
    size_t sig_len = t->signature_len;
    unsigned char *der = NULL;
    if (k->kty == JWT_KTY_EC) {
        der = ecdsa_der(t, k->curve_bytes, &sig_len);
        if (der == NULL) {
            return 0;
        }
        sig = der;
    }
    int ok = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    if (ctx != NULL && EVP_DigestVerifyInit(ctx, &pctx, md, NULL, k->pkey) == 1) {
        int ready = 1;
        if (alg >= JWT_ALG_RS256 && alg <= JWT_ALG_RS512) {
            ready = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
        } else if (alg >= JWT_ALG_PS256 && alg <= JWT_ALG_PS512) {
            /* RFC 7518 §3.5: MGF1 with the same hash, salt as long as the hash. */
            ready = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
                    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) == 1 &&
                    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
        }
        ok = ready && EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)t->signing_input,
                                       t->signing_input_len) == 1;
    }
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    return ok;
}

jwt_status jwt_verify_signature(const jwt_token *token, const jwt_keyset *keys, uint32_t allowed_algs) {
    jwt_alg alg = (jwt_alg)token->alg;
    if ((unsigned)token->alg >= JWT_ALG_COUNT) {
        return JWT_ALG_UNSUPPORTED;
    }
    if (!(allowed_algs & JWT_ALG_BIT(alg))) {
        return JWT_ALG_NOT_ALLOWED;
    }
    const EVP_MD *md = alg_digest(alg);
    int named = 0; /* keys with the token's kid */
    int tried = 0;
    for (size_t i = 0; keys != NULL && i < keys->count; i++) {
        const jwt_key *k = &keys->keys[i];
        if (token->kid != NULL && (k->kid == NULL || strcmp(k->kid, token->kid) != 0)) {
            continue;
        }
        named++;
        if (!key_fits(k, alg)) {
            continue; /* never verify an HS256 token with an RSA key's bytes, or the reverse */
        }
        tried++;
        int ok = k->kty == JWT_KTY_OCT ? verify_hmac(k, md, token) : verify_pkey(k, alg, md, token);
        if (ok) {
            return JWT_OK;
        }
    }
    if (tried > 0) {
        return JWT_BAD_SIGNATURE;
    }
    if (token->kid != NULL) {
        return named > 0 ? JWT_ALG_KEY_MISMATCH : JWT_UNKNOWN_KID;
    }
    return JWT_NO_KEY;
}

/* A NumericDate claim: absent (0), a number (1, *out set) or not a number (-1). */
static int numeric_claim(const json_t *payload, const char *name, double *out) {
    const json_t *v = json_object_get(payload, name);
    if (v == NULL) {
        return 0;
    }
    if (!json_is_number(v)) {
        return -1;
    }
    *out = json_number_value(v);
    return 1;
}

jwt_status jwt_check_claims(const json_t *payload, const jwt_claims_policy *p) {
    for (size_t i = 0; i < p->required_count; i++) {
        const json_t *v = json_object_get(payload, p->required[i]);
        if (v == NULL || json_is_null(v)) {
            return JWT_MISSING_CLAIM;
        }
    }
    double now = (double)p->now;
    double leeway = (double)p->leeway;
    double t;
    int has = numeric_claim(payload, "exp", &t);
    if (has < 0) {
        return JWT_BAD_CLAIM;
    }
    if (has > 0 && !(now < t + leeway)) {
        return JWT_EXPIRED;
    }
    has = numeric_claim(payload, "nbf", &t);
    if (has < 0) {
        return JWT_BAD_CLAIM;
    }
    if (has > 0 && now + leeway < t) {
        return JWT_NOT_YET_VALID;
    }
    has = numeric_claim(payload, "iat", &t);
    if (has < 0) {
        return JWT_BAD_CLAIM;
    }
    if (has > 0 && now + leeway < t) {
        return JWT_ISSUED_IN_FUTURE;
    }
    if (p->issuer_count > 0) {
        const json_t *iss = json_object_get(payload, "iss");
        if (iss != NULL && !json_is_string(iss)) {
            return JWT_BAD_CLAIM;
        }
        int match = 0;
        for (size_t i = 0; iss != NULL && i < p->issuer_count; i++) {
            match |= strcmp(json_string_value(iss), p->issuers[i]) == 0;
        }
        if (!match) {
            return JWT_BAD_ISSUER;
        }
    }
    if (p->audience_count > 0) {
        const json_t *aud = json_object_get(payload, "aud");
        int match = 0;
        if (json_is_string(aud)) {
            for (size_t i = 0; i < p->audience_count; i++) {
                match |= strcmp(json_string_value(aud), p->audiences[i]) == 0;
            }
        } else if (json_is_array(aud)) {
            size_t j;
            const json_t *a;
            json_array_foreach(aud, j, a) {
                if (!json_is_string(a)) {
                    return JWT_BAD_CLAIM;
                }
                for (size_t i = 0; i < p->audience_count; i++) {
                    match |= strcmp(json_string_value(a), p->audiences[i]) == 0;
                }
            }
        } else if (aud != NULL) {
            return JWT_BAD_CLAIM;
        }
        if (!match) {
            return JWT_BAD_AUDIENCE;
        }
    }
    return JWT_OK;
}

jwt_status jwt_verify(const char *text, size_t len, const jwt_keyset *keys, uint32_t allowed_algs,
                      const jwt_claims_policy *policy, json_t **payload_out) {
    jwt_token token;
    jwt_status status = jwt_parse(text, len, &token);
    if (status == JWT_OK) {
        status = jwt_verify_signature(&token, keys, allowed_algs);
    }
    if (status == JWT_OK) {
        status = jwt_check_claims(token.payload, policy);
    }
    if (status == JWT_OK && payload_out != NULL) {
        *payload_out = json_incref(token.payload);
    }
    jwt_token_free(&token);
    ERR_clear_error();
    return status;
}
