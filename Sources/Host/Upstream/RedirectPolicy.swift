import NIOHTTP1

/// Which upstream redirects the gateway follows (attack report M3: a hostile upstream used to send the
/// gateway, with the client's headers and the upstream session id, anywhere, its own admin API included).
///
/// Only 307 and 308 are followed (they keep the method and body; an MCP POST means nothing as a GET), at most
/// `maxRedirects` times, and only to the endpoint's own origin (scheme, host, port) or to an origin its
/// target lists in `redirectOrigins`. Never from https to http. Every other 3xx answer fails the request.
/// Built once per endpoint at config load; a value, shared freely.
package struct RedirectPolicy: Sendable, Equatable {
    /// How many redirects one request may follow.
    package static let maxRedirects = 3

    /// The configured endpoint's origin (`UpstreamTarget.origin`): redirects within it are followed.
    package let origin: String
    /// Other origins, in `UpstreamTarget.origin` form, that the target's configuration allows.
    package let allowedOrigins: Set<String>

    package init(origin: String, allowedOrigins: Set<String> = []) {
        self.origin = origin
        self.allowedOrigins = allowedOrigins
    }

    /// What to do with one 3xx answer.
    package enum Decision: Equatable {
        /// Send the request again to `target`; `crossOrigin`: it leaves the endpoint's origin, so only the
        /// headers that describe the message itself go along (`UpstreamHeaders.forOtherOrigin`).
        case follow(UpstreamTarget, crossOrigin: Bool)
        /// Fail the request; the reason (with the location) is for the log.
        case refuse(String)
    }

    /// Decides on a 3xx answer with `location` to a request sent to `current` after `followed` redirects.
    package func decide(status: HTTPResponseStatus, location: String?, from current: UpstreamTarget, followed: Int) -> Decision {
        guard status == .temporaryRedirect || status == .permanentRedirect else {
            return .refuse("HTTP \(status.code) is not a redirect that keeps the method and body")
        }
        guard followed < Self.maxRedirects else { return .refuse("more than \(Self.maxRedirects) redirects") }
        guard let location, !location.isEmpty else { return .refuse("HTTP \(status.code) without a Location") }
        guard let next = current.resolving(location: location) else {
            return .refuse("Location \(location) is not an http or https URL")
        }
        if current.tls && !next.tls { return .refuse("Location \(next.url) would go from https to http") }
        if next.origin == origin { return .follow(next, crossOrigin: false) }
        guard allowedOrigins.contains(next.origin) else {
            return .refuse("Location \(next.url) is on another origin, not listed in the target's redirectOrigins")
        }
        return .follow(next, crossOrigin: true)
    }
}
