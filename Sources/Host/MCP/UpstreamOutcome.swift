/// What one upstream answered to a request the gateway sent (one member of a fan-out, or a lone call):
/// the final JSON-RPC response, or why there is none.
enum UpstreamOutcome {
    case response(RPCMessage, upstreamSessionID: String?)
    /// 202/204: a notification or a client answer was accepted.
    case accepted
    /// The upstream answered 404 to a request carrying its session id: it lost the session.
    case sessionLost
    case failed(GatewayError)
}
