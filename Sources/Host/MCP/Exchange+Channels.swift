import MCPGateUpstream
import NIOCore
import PluginAPI

/// What a channel (a stdio process, an upstream HTTP+SSE session) is told of each message it carries, read
/// from the bytes that go out (the gateway may have rewritten the client's message): the request's id, so
/// the upstream's response finds its way back, and its progress token, so progress does too.
extension Exchange {
    /// `request` sent over `endpoint`'s channel when it has one (unchanged otherwise).
    func overChannel(_ request: UpstreamRequest, onLease: (@Sendable (UInt64) -> Void)? = nil) -> UpstreamRequest {
        guard let route = request.endpoint.channel else { return request }
        var request = request
        var id: JSONRPCID?
        var progressToken: JSONRPCID?
        if let body = request.body, case .success(let message) = body.withUnsafeReadableBytes({ RPCMessage.parse($0) }),
            message.kind == .request
        {
            id = message.id.flatMap(JSONRPCID.init)
            progressToken = message.meta?["progressToken"].flatMap(JSONRPCID.init)
        }
        request.channel = ChannelDispatch(route: route, id: id, progressToken: progressToken, onLease: onLease)
        return request
    }
}

extension JSONRPCID {
    /// A string or integer JSON value as an id; nil for anything else.
    init?(_ value: JSONValueRef) {
        if let integer = value.integer {
            self = .int(integer)
        } else if let string = value.string {
            self = .string(string)
        } else {
            return nil
        }
    }
}
