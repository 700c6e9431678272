/* libFuzzer target: arbitrary bytes as a bearer token through the JWT filter's parser, signature
 * check and claim checks, and as a JWKS document through the key loader.
 *
 *   clang -fsanitize=fuzzer,address,undefined ... jwt_fuzz.c ../jwt_token.c
 *   JWT_FUZZ_JWKS=fixtures/jwks.json ./jwt_fuzz -max_total_time=25 corpus/ fixtures/seeds/
 *
 * With JWT_FUZZ_JWKS (mint_tokens.py's jwks.json: HMAC, RSA, EC and OKP keys) the seed tokens reach
 * every verifier; without it a built-in HMAC-only key set is used. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../jwt_internal.h"

static jwt_keyset *keys;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    char err[256];
    const char *path = getenv("JWT_FUZZ_JWKS");
    if (path != NULL) {
        FILE *f = fopen(path, "rb");
        if (f != NULL) {
            static char text[1 << 20];
            size_t n = fread(text, 1, sizeof text - 1, f);
            fclose(f);
            keys = jwt_keyset_from_text(text, n, NULL, NULL, err, sizeof err);
        }
        if (keys == NULL) {
            fprintf(stderr, "jwt_fuzz: cannot load %s\n", path);
            abort();
        }
    } else {
        static const char builtin[] = "{\"keys\":[{\"kty\":\"oct\",\"kid\":\"hs\",\"k\":\"c2VjcmV0LXNlY3JldC1zZWNyZXQ\"}]}";
        keys = jwt_keyset_from_text(builtin, sizeof builtin - 1, NULL, NULL, err, sizeof err);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const issuers[] = {"https://issuer.example"};
    static const char *const audiences[] = {"https://mcp.example/mcp", "other"};
    static const char *const required[] = {"exp", "sub"};
    jwt_claims_policy policy = {.issuers = issuers, .issuer_count = 1, .audiences = audiences, .audience_count = 2,
                                .required = required, .required_count = 2, .now = 1700000000, .leeway = 30};
    /* The token as the filter gets it: a copy (ASan catches reads past the end). */
    char *text = malloc(size + 1);
    if (text == NULL) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';

    json_t *payload = NULL;
    if (jwt_verify(text, size, keys, JWT_ALG_ALL, &policy, &payload) == JWT_OK) {
        if (payload == NULL) {
            abort();
        }
        json_decref(payload);
    }
    /* Claims checks on any payload that parses, signature or not. */
    jwt_token token;
    if (jwt_parse(text, size, &token) == JWT_OK) {
        (void)jwt_check_claims(token.payload, &policy);
        (void)jwt_verify_signature(&token, keys, JWT_ALG_BIT(JWT_ALG_HS256) | JWT_ALG_BIT(JWT_ALG_ES256));
        jwt_token_free(&token);
    }
    unsigned char *bytes;
    size_t n;
    if (jwt_b64url_decode(text, size, &bytes, &n) == 0) {
        if (n > size) {
            abort();
        }
        free(bytes);
    }
    /* The same bytes as a JWKS document. */
    if (size > 0 && data[0] == '{') {
        char err[256];
        jwt_keyset_release(jwt_keyset_from_text(text, size, NULL, NULL, err, sizeof err));
    }
    free(text);
    return 0;
}
