import CJansson
import NIOCore
import NIOHTTP1
import Prometheus
import MCPGateUpstream
import MCPGateSession

/// The 2026-07-28 era: every POST stands alone. The gateway checks the mirrored headers against the body,
/// routes to a replica (or to the one a gateway-sealed `requestState` names), relays the answer, and seals
/// any `requestState` the upstream returns so the retry comes back to the same replica.
extension Exchange {
    func modernPost(route: RouteRuntime) {
        if let error = checkPostHeaders() {
            fail(error)
            return
        }
        guard let message = parseBody() else { return }
        // A version this gateway does not serve is -32022 with the supported list whatever else the message has
        // (a dual-era client falls back on it), before any filter spends on the request.
        if let version = headers.first(name: "mcp-protocol-version"), !ProtocolVersion.modern.contains(version) {
            fail(.unsupportedVersion(version), idJSON: message.idJSON)
            return
        }
        guard filterClientMessage(message) else { return }
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
        if route.federates, let error = ModernRequestValidator.validate(message, headers: headers, toolHeaders: nil) {
            fail(error, idJSON: message.idJSON)
            return
        }
        modernRoute(message, route: route, mayLearn: true)
    }

    /// Routes a checked 2026-07-28 request to its target (federated routes: by name, after listing the
    /// targets once if this replica does not know the name yet).
    private func modernRoute(_ message: RPCMessage, route: RouteRuntime, mayLearn: Bool) {
        var target: TargetPool
        var resolved: ResolvedTarget?
        if route.federates {
            let version = headers.first(name: "mcp-protocol-version")
            switch message.method ?? "" {
            case "server/discover":
                federatedDiscover(message, route: route)
                return
            case let method where FederationRewriter.listShape(of: method) != nil:
                let members = route.targets.map { FanOutCall(target: $0, endpoint: $0.pick(), upstreamSessionID: nil, protocolVersion: version, body: request.body) }
                federatedList(message, route: route, members: members)
                return
            case "subscriptions/listen":
                failRPC(-32601, "Method not found: subscriptions/listen is not served on federated routes yet", message: message)
                return
            default:
                let members = route.targets.map { FanOutCall(target: $0, endpoint: $0.pick(), upstreamSessionID: nil, protocolVersion: version, body: request.body) }
                let retry: (() -> Void)? = mayLearn ? { [weak self] in self?.modernRoute(message, route: route, mayLearn: false) } : nil
                guard let found = resolveTarget(message, route: route, learnFrom: members, retry: retry), let owner = route.target(named: found.target) else { return }
                resolved = found
                target = owner
            }
            if message.method == "tools/call", let tool = resolved?.toolName, let known = services.toolHeaders.headers(target: target.name, tool: tool) {
                let arguments = message.params?["arguments"]
                for param in known {
                    if let failure = param.check(arguments: arguments, headers: headers) {
                        fail(.headerMismatch(failure), idJSON: message.idJSON)
                        return
                    }
                }
            }
        } else {
            guard let only = route.targets.first else {
                fail(.upstream(.badGateway, target: "", "The route has no target"), idJSON: message.idJSON)
                return
            }
            target = only
            let toolHeaders = message.method == "tools/call" ? message.targetName.flatMap { services.toolHeaders.headers(target: only.name, tool: $0) } : nil
            if let error = ModernRequestValidator.validate(message, headers: headers, toolHeaders: toolHeaders) {
                fail(error, idJSON: message.idJSON)
                return
            }
        }
        var endpoint = target.pick()
        var upstreamState: String?
        if let state = message.params?["requestState"]?.string {
            do throws(RequestStateCodec.OpenError) {
                let opened = try runtime.requestStates.open(state, route: route.sealContext, now: nowSeconds)
                guard opened.principal == principal.map(PrincipalDigest.init(principal:)), opened.target == target.name,
                    let pinned = target.endpoint(pinned: opened.endpoint)
                else { throw RequestStateCodec.OpenError.invalid }
                endpoint = pinned
                upstreamState = opened.upstreamState
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
        let owner = target
        /// Seals an `input_required` result's state (in place); true when it did.
        let wrapState: (RPCMessage) -> Bool = { [weak self] response in
            guard let self, response.kind == .result, let result = response.result else { return false }
            if method == "tools/list" {
                self.learnToolHeaders(from: response, target: owner)
                return false
            }
            guard result["resultType"]?.string == "input_required", let upstreamState = result["requestState"]?.string else { return false }
            let sealed = self.runtime.requestStates.seal(
                RequestStateCodec.State(
                    target: owner.name, endpoint: pinnedURL, principal: principalDigest,
                    expiresAt: self.nowSeconds + RequestStateCodec.lifetimeSeconds, upstreamState: upstreamState),
                route: sealContext)
            result.set("requestState", string: sealed)
            return true
        }
        let restoreState: (JSONValueRef) -> Void = { root in
            if let upstreamState { root["params"]?.set("requestState", string: upstreamState) }
        }
        if let resolved {
            routedCall(
                message, resolved: resolved, route: route, target: target, endpoint: endpoint, upstreamSessionID: nil,
                protocolVersion: headers.first(name: "mcp-protocol-version"), extraEdit: restoreState, inspect: { _ = wrapState($0) })
            return
        }
        send(
            message: message, body: upstreamState == nil ? nil : upstreamBody(message, edit: restoreState), target: target, endpoint: endpoint,
            upstreamSessionID: nil, protocolVersion: headers.first(name: "mcp-protocol-version"), purpose: .request,
            inspect: { wrapState($0) ? $0.document.serialized() : nil })
    }
}
