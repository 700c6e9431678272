import Testing

@testable import MCPGate

/// The overview never shows a secret from a policy's config: by the plugin's own list, by name, in a JWK, inline JWKS.
@Suite("Admin overview: secret redaction")
struct SecretRedactionTests {
    private let redacted = JSONValue.string("[redacted]")

    @Test func membersThePluginMarksAreRedactedAtAnyDepth() {
        let config = JSONValue.object([
            "passphrase": .string("hunter2"),
            "nested": .array([.object(["passphrase": .object(["a": .string("b")]), "tag": .string("t")])]),
        ])
        let out = SecretRedaction.redact(config, secretMembers: ["passphrase"])
        #expect(out == .object(["passphrase": redacted, "nested": .array([.object(["passphrase": redacted, "tag": .string("t")])])]))
        // Without the plugin's list, nothing in the name says secret.
        #expect(SecretRedaction.redact(config) == config)
    }

    @Test func namesThatSaySecretAreRedactedUnlessTheyAreSwitchesOrCounts() {
        let config = JSONValue.object([
            "hmacSecret": .string("s"), "apiKey": .string("k"), "clientPassword": .string("p"), "bearerToken": .string("t"),
            "privateKey": .object(["pem": .string("-----BEGIN")]),
            "maxTokens": .integer(10), "tokensPerFill": .integer(1), "allowTokensFromQuery": .bool(false),
            "issuer": .string("https://issuer"),
        ])
        guard case .object(let out) = SecretRedaction.redact(config) else {
            Issue.record("not an object")
            return
        }
        for name in ["hmacSecret", "apiKey", "clientPassword", "bearerToken", "privateKey"] {
            #expect(out[name] == redacted, "\(name)")
        }
        #expect(out["maxTokens"] == .integer(10))
        #expect(out["tokensPerFill"] == .integer(1))
        #expect(out["allowTokensFromQuery"] == .bool(false))
        #expect(out["issuer"] == .string("https://issuer"))
    }

    @Test func jwkPrivateAndSymmetricMembersAreRedactedPublicOnesKept() {
        let jwks = JSONValue.object([
            "jwks": .object([
                "keys": .array([
                    .object(["kty": .string("oct"), "kid": .string("h1"), "k": .string("c2VjcmV0")]),
                    .object([
                        "kty": .string("RSA"), "n": .string("modulus"), "e": .string("AQAB"), "d": .string("private"), "p": .string("p"),
                    ]),
                ])
            ])
        ])
        let out = SecretRedaction.redact(jwks)
        let expected = JSONValue.object([
            "jwks": .object([
                "keys": .array([
                    .object(["kty": .string("oct"), "kid": .string("h1"), "k": redacted]),
                    .object(["kty": .string("RSA"), "n": .string("modulus"), "e": .string("AQAB"), "d": redacted, "p": redacted]),
                ])
            ])
        ])
        #expect(out == expected)
    }

    @Test func inlineJWKSTextIsRedactedWhole() {
        let text = JSONValue.string(#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#)
        #expect(SecretRedaction.redact(.object(["jwks": text])) == .object(["jwks": redacted]))
        #expect(SecretRedaction.redact(.object(["jwks": .object(["inline": text])])) == .object(["jwks": .object(["inline": redacted])]))
        // A JWKS file or URL is not a secret.
        let file = JSONValue.object(["jwks": .object(["file": .string("/etc/jwks.json")])])
        #expect(SecretRedaction.redact(file) == file)
    }
}
