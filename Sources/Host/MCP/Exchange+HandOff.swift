import Logging
import NIOCore
import NIOHTTP1
import PluginAPI

/// The hand-off of a POST to a client's HTTP+SSE stream: the POST is answered 202 on its own connection, and its
/// work goes on in a new exchange on the stream's event loop, which answers on the stream (`LegacySSEResponder`).
extension Exchange {
    /// Answers this POST 202 (with the filters' response headers: CORS, rate-limit headers) and carries its work on
    /// to `stream`'s event loop. What `begin` decided moves with it: the route, the principal and the filter chain
    /// request. The chain request is moved, never shared: this exchange gives it up before it answers, so its hooks
    /// run on one loop at a time and the chain is finished exactly once, by the new exchange (filter.h allows a
    /// request's hooks on different threads as long as they are serialized).
    ///
    /// Called on this exchange's loop, once `LegacySSEFlow` found the stream.
    func handOff(to stream: LegacySSEStream) {
        guard let route else { return }
        var acceptedHeaders = HTTPHeaders()
        filterResponseHeaders(&acceptedHeaders, status: .accepted, origin: .gateway, isEventStream: false)
        let work = HandedOffWork(
            request: request, route: route, filters: releaseFilters(), principal: principal, runtime: runtime, services: services,
            logger: logger)
        answer(status: .accepted, headers: acceptedHeaders, body: nil, origin: .gateway)
        stream.eventLoop.execute { work.resume(on: stream) }
    }
}

/// A POST's work on its way to a stream's event loop. `@unchecked Sendable` because of the filter chain request,
/// which is not `Sendable`: it is moved here (its old exchange no longer holds it) and used on the new loop only.
private struct HandedOffWork: @unchecked Sendable {
    var request: ExchangeRequest
    var route: RouteRuntime
    var filters: FilterChainRequest?
    var principal: String?
    var runtime: GatewayRuntime
    var services: GatewayServices
    var logger: Logger

    /// On the stream's loop: the new exchange answers on the stream, or is ended at once (its filters told the client
    /// left) when the stream ended meanwhile.
    func resume(on stream: LegacySSEStream) {
        let exchange = Exchange(
            request: request, runtime: runtime, services: services, responder: LegacySSEResponder(stream: stream, role: .message),
            eventLoop: stream.eventLoop, logger: logger)
        exchange.adopt(route: route, filters: filters, principal: principal)
        guard stream.track(exchange) else {
            exchange.clientDisconnected()
            return
        }
        LegacySSEFlow(exchange: exchange).dispatch(route: route, stream: stream)
    }
}
