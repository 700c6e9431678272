import CJansson
import NIOCore
import NIOHTTP1
import Prometheus

/// The 2026-07-28 era: every POST stands alone. The gateway checks the mirrored headers against the body,
/// routes to a replica (or to the one a gateway-sealed `requestState` names), relays the answer, and seals
/// any `requestState` the upstream returns so the retry comes back to the same replica.
extension Exchange {
    func modernPost(route: RouteRuntime) {
        if let error = checkPostHeaders() {
            fail(error)
            return
        }
        guard let message = parseBody(), filterClientMessage(message) else { return }
        switch message.kind {
        case .notification:
            // The revision defines no client-to-server notifications over HTTP; acknowledged, as the SDK does.
            respond(status: .accepted, headers: HTTPHeaders(), body: nil)
            return
        case .result, .error:
            fail(.invalidRequest("Invalid Request: clients must not send responses at protocol revision 2026-07-28"), idJSON: message.idJSON)
            return
        case .request:
            break
        }
        guard let target = route.targets.first else {
            fail(.upstream(.badGateway, target: "", "The route has no target"), idJSON: message.idJSON)
            return
        }
        let toolHeaders = message.method == "tools/call" ? message.targetName.flatMap { services.toolHeaders.headers(target: target.name, tool: $0) } : nil
        if let error = ModernRequestValidator.validate(message, headers: headers, toolHeaders: toolHeaders) {
            fail(error, idJSON: message.idJSON)
            return
        }
        var endpoint = target.pick()
        var body: ByteBuffer?
        if let state = message.params?["requestState"]?.string {
            do throws(RequestStateCodec.OpenError) {
                let opened = try runtime.requestStates.open(state, route: route.sealContext, now: nowSeconds)
                guard opened.principal == principal.map(PrincipalDigest.init(principal:)), opened.target == target.name,
                    let pinned = target.endpoint(pinned: opened.endpoint)
                else { throw RequestStateCodec.OpenError.invalid }
                endpoint = pinned
                message.params?.set("requestState", string: opened.upstreamState)
                body = allocator.buffer(bytes: message.document.serialized())
            } catch .notOurs {
                // The upstream's own state (not sealed by this gateway): forwarded unchanged.
            } catch {
                fail(
                    GatewayError(.badRequest, code: -32602, "Invalid or expired requestState", dataJSON: "{\"reason\":\"invalid_request_state\"}"),
                    idJSON: message.idJSON)
                return
            }
        }
        let method = message.method
        let sealContext = route.sealContext
        let pinnedURL = endpoint.endpoint.url
        let principalDigest = principal.map(PrincipalDigest.init(principal:))
        let inspect: (RPCMessage) -> [UInt8]? = { [weak self] response in
            guard let self, response.kind == .result, let result = response.result else { return nil }
            if method == "tools/list" {
                self.learnToolHeaders(from: response, target: target)
                return nil
            }
            guard result["resultType"]?.string == "input_required", let upstreamState = result["requestState"]?.string else { return nil }
            let sealed = self.runtime.requestStates.seal(
                RequestStateCodec.State(
                    target: target.name, endpoint: pinnedURL, principal: principalDigest,
                    expiresAt: self.nowSeconds + RequestStateCodec.lifetimeSeconds, upstreamState: upstreamState),
                route: sealContext)
            result.set("requestState", string: sealed)
            return response.document.serialized()
        }
        send(
            message: message, body: body, target: target, endpoint: endpoint, upstreamSessionID: nil,
            protocolVersion: headers.first(name: "mcp-protocol-version"), purpose: .request, inspect: inspect)
    }
}
