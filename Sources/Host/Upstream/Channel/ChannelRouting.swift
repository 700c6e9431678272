/// Where an upstream message goes on a channel: the pure rule `UpstreamChannel` applies to each line.
///
/// Over stdio and HTTP+SSE, only a response (by `id`) and a progress notification (by `progressToken`) say
/// which request they belong to. Everything else (log notifications, server requests such as elicitation)
/// goes to the one request in flight when there is exactly one (always so on a pooled channel, which serves
/// one request at a time), else to the listener (the session's standalone stream) when one is open, else to
/// the newest request in flight, else to the orphan buffer a later listener receives.
package enum ChannelRouting {
    package enum Destination: Equatable {
        /// The request with this id; `final` for its response.
        case request(JSONRPCID, final: Bool)
        /// The session's listener (its standalone stream).
        case listener
        /// No one to take it yet: kept (bounded) for the next listener.
        case orphan
        /// A response to no request in flight (a cancelled one): dropped.
        case drop
    }

    /// `inFlight`: the requests awaiting their response, oldest first, with their progress tokens.
    package static func destination(
        of envelope: JSONRPCEnvelope, inFlight: [(id: JSONRPCID, progressToken: JSONRPCID?)], listening: Bool
    ) -> Destination {
        if envelope.kind == .response {
            guard let id = envelope.id, inFlight.contains(where: { $0.id == id }) else { return .drop }
            return .request(id, final: true)
        }
        if let token = envelope.progressToken, let owner = inFlight.first(where: { $0.progressToken == token }) {
            return .request(owner.id, final: false)
        }
        if inFlight.count == 1, let only = inFlight.first { return .request(only.id, final: false) }
        if listening { return .listener }
        if let newest = inFlight.last { return .request(newest.id, final: false) }
        return .orphan
    }
}
