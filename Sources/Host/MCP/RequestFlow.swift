import Logging
import MCPGateUpstream
import NIOCore
import NIOHTTP1
import PluginAPI

/// An era's flow over one exchange: it decides what the client's request means (with the Router's pure
/// functions), forwards it, and answers through the exchange. The flows hold no state of their own beyond
/// the exchange they serve; they are values made where they are needed (`Exchange.run`).
///
/// The members below hand the exchange's state and its answering and forwarding methods to the flows, so
/// that a flow reads as the steps of its protocol. Confined to the exchange's event loop, like it.
protocol RequestFlow {
    var exchange: Exchange { get }
}

typealias FanOutCall = Exchange.FanOutCall

extension RequestFlow {
    var handshake: HandshakeFlow { HandshakeFlow(exchange: exchange) }
    var federated: FederatedFlow { FederatedFlow(exchange: exchange) }

    // The exchange's state.
    var request: ExchangeRequest { exchange.request }
    var headers: HTTPHeaders { exchange.headers }
    var runtime: GatewayRuntime { exchange.runtime }
    var services: GatewayServices { exchange.services }
    var eventLoop: any EventLoop { exchange.eventLoop }
    var logger: Logger { exchange.logger }
    var allocator: ByteBufferAllocator { exchange.allocator }
    var principal: String? { exchange.principal }
    var era: Era { exchange.era }
    var nowSeconds: UInt64 { exchange.nowSeconds }
    var answerLimits: UpstreamAnswerLimits { exchange.answerLimits }
    var clientGone: Bool { exchange.clientGone }
    /// Releases resources (stream slots, timers) when the exchange ends.
    var onFinish: [() -> Void] {
        get { exchange.onFinish }
        nonmutating set { exchange.onFinish = newValue }
    }

    // Checks and filters.
    func checkPostHeaders() -> GatewayError? { exchange.checkPostHeaders() }
    func parseBody() -> RPCMessage? { exchange.parseBody() }
    func filterClientMessage(_ message: RPCMessage) -> Bool { exchange.filterClientMessage(message) }
    func filterResponse(_ message: RPCMessage, raw: ByteBuffer) -> [UInt8]? { exchange.filterResponse(message, raw: raw) }
    func noteSessionID(_ sessionID: String) { exchange.noteSessionID(sessionID) }
    func applyUpstreamEdits(to headers: inout HTTPHeaders) { exchange.applyUpstreamEdits(to: &headers) }

    // Answering.
    func fail(_ error: GatewayError, idJSON: String = "null") { exchange.fail(error, idJSON: idJSON) }
    func failRPC(_ code: Int, _ text: String, message: RPCMessage) { exchange.failRPC(code, text, message: message) }
    func answer(status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer?) {
        exchange.answer(status: status, headers: headers, body: body)
    }
    func answerComposed(_ response: JSONDocument, message: RPCMessage, extraHeaders: [(String, String)] = []) {
        exchange.answerComposed(response, message: message, extraHeaders: extraHeaders)
    }
    func withID(_ response: RPCMessage, _ id: JSONValueRef?) -> [UInt8] { exchange.withID(response, id) }

    // Forwarding.
    func track(_ call: UpstreamCall) { exchange.track(call) }
    func upstreamHeaders(
        for target: TargetPool, accept: String, contentType: Bool, upstreamSessionID: String?, protocolVersion: String?,
        overrides: [(String, String)] = []
    ) -> HTTPHeaders {
        exchange.upstreamHeaders(
            for: target, accept: accept, contentType: contentType, upstreamSessionID: upstreamSessionID, protocolVersion: protocolVersion,
            overrides: overrides)
    }
    func upstreamBody(_ message: RPCMessage, edit: (JSONValueRef) -> Void) -> ByteBuffer { exchange.upstreamBody(message, edit: edit) }
    func fanOut(_ calls: [Exchange.FanOutCall], requestIDJSON: String, completion: @escaping ([UpstreamOutcome]) -> Void) {
        exchange.fanOut(calls, requestIDJSON: requestIDJSON, completion: completion)
    }
    func forward(
        message: RPCMessage, body: ByteBuffer? = nil, target: TargetPool, endpoint: ResolvedEndpoint, upstreamSessionID: String?,
        protocolVersion: String?, purpose: ResponseRelay.Purpose, rewriteResult: ((RPCMessage) -> [UInt8]?)?,
        rewriteEvent: ((RPCMessage) -> Bool)? = nil, headerOverrides: [(String, String)] = [],
        onLease: (@Sendable (UInt64) -> Void)? = nil
    ) {
        exchange.forward(
            message: message, body: body, target: target, endpoint: endpoint, upstreamSessionID: upstreamSessionID,
            protocolVersion: protocolVersion, purpose: purpose, rewriteResult: rewriteResult, rewriteEvent: rewriteEvent,
            headerOverrides: headerOverrides, onLease: onLease)
    }
    func overChannel(_ request: UpstreamRequest, onLease: (@Sendable (UInt64) -> Void)? = nil) -> UpstreamRequest {
        exchange.overChannel(request, onLease: onLease)
    }
    func learnToolHeaders(from message: RPCMessage, target: TargetPool) { exchange.learnToolHeaders(from: message, target: target) }
}
