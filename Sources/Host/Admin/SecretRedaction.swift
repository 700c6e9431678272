/// Takes the secrets out of a policy's config before the admin overview shows it. Redacted (the value replaced by
/// `"[redacted]"`), at any depth:
/// - members a plugin names as secret (`secretMembers`);
/// - members whose name says secret: it contains `secret`, `password`, `passwd`, `token`, `apikey`/`api_key`,
///   `privatekey`/`private_key`, `credential`, `hmac` (case-insensitive) — but not a boolean or a number, which
///   only switches or counts something (`allowTokensFromQuery: false`);
/// - the private and symmetric members of a JWK (`k`, `d`, `p`, `q`, `dp`, `dq`, `qi`, `oth` of an object with a
///   `kty`): an HS256 key is the secret itself;
/// - inline JWKS text (`jwks: '<JSON>'`, `jwks: {inline: '<JSON>'}`), which may hold such keys.
/// Pure.
enum SecretRedaction {
    static let marker = JSONValue.string("[redacted]")

    private static let secretWords = [
        "secret", "password", "passwd", "token", "apikey", "api_key", "privatekey", "private_key", "credential", "hmac",
    ]
    private static let jwkPrivateMembers: Set<String> = ["k", "d", "p", "q", "dp", "dq", "qi", "oth"]

    static func redact(_ value: JSONValue, secretMembers: Set<String> = []) -> JSONValue {
        redact(value, member: nil, secretMembers: secretMembers)
    }

    /// Whether a member of this name holds a secret by the name alone.
    static func nameSaysSecret(_ name: String) -> Bool {
        let lowered = name.lowercased()
        return secretWords.contains { lowered.contains($0) }
    }

    private static func redact(_ value: JSONValue, member: String?, secretMembers: Set<String>) -> JSONValue {
        switch value {
        case .object(let members):
            let isJWK = members["kty"] != nil
            var out: [String: JSONValue] = [:]
            for (name, inner) in members {
                if secretMembers.contains(name) || (isJWK && jwkPrivateMembers.contains(name)) {
                    out[name] = marker
                } else if nameSaysSecret(name), !isSwitchOrCount(inner) {
                    out[name] = marker
                } else if name == "jwks" || name == "inline", case .string = inner {
                    out[name] = marker
                } else {
                    out[name] = redact(inner, member: name, secretMembers: secretMembers)
                }
            }
            return .object(out)
        case .array(let values):
            return .array(values.map { redact($0, member: member, secretMembers: secretMembers) })
        default:
            return value
        }
    }

    private static func isSwitchOrCount(_ value: JSONValue) -> Bool {
        switch value {
        case .bool, .integer, .number, .null: true
        default: false
        }
    }
}
