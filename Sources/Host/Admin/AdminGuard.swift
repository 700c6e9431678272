import MCPGateUpstream
import NIOHTTP1

/// The checks that keep the admin API to its operator (attack run M5): without a token it answers only requests
/// whose `Host` is a loopback name (DNS rebinding gets 421); a request carrying an `Origin` other than its own origin
/// gets 403 (no cross-site `POST /reload`); `POST /reload` takes no body type a plain HTML form can send (415); and
/// with `config.adminToken` every admin request needs `Authorization: Bearer <token>` (401). Pure functions.
enum AdminGuard {
    /// Why an admin API request is refused, if it is.
    struct Refusal {
        var status: HTTPResponseStatus
        var message: String
        var headers: [(String, String)] = []
    }

    /// The checks every admin API request passes: the token when one is configured, else a loopback `Host`
    /// (DNS rebinding); and no foreign `Origin` (a page on another site).
    static func refusal(of head: HTTPRequestHead, token: String?) -> Refusal? {
        let hosts = head.headers["host"]
        guard hosts.count == 1, let host = hosts.first else {
            return Refusal(status: .badRequest, message: "exactly one Host header is required")
        }
        if let token {
            let presented = head.headers.first(name: "authorization").flatMap { value -> Substring? in
                let parts = value.split(separator: " ", maxSplits: 1)
                guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
                return parts[1]
            }
            guard let presented, constantTimeEqual(Array(presented.utf8), Array(token.utf8)) else {
                return Refusal(
                    status: .unauthorized, message: "the admin API needs Authorization: Bearer <config.adminToken>",
                    headers: [("www-authenticate", "Bearer realm=\"mcpgate-admin\"")])
            }
        } else if !OriginPolicy.isLoopbackAuthority(host) {
            return Refusal(
                status: .misdirectedRequest, message: "Host \(host) is not a loopback name; the admin API answers loopback names only")
        }
        if let origin = head.headers.first(name: "origin"), origin.lowercased() != "http://" + host.lowercased() {
            return Refusal(status: .forbidden, message: "requests from another origin (\(origin)) are refused")
        }
        return nil
    }

    /// `POST /reload` carries no body; a type an HTML form or a CORS-simple request can send is refused.
    static func reloadBodyRefusal(_ head: HTTPRequestHead) -> Refusal? {
        guard let type = head.headers.first(name: "content-type") else { return nil }
        let media = (type.split(separator: ";", maxSplits: 1).first ?? "").trimmingSpaces().lowercased()
        guard media == "application/json" else {
            return Refusal(status: .unsupportedMediaType, message: "POST /reload takes no body (or application/json), not \(media)")
        }
        return nil
    }

    /// Compares without an early exit on the first differing byte.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }
}
