import CJansson
import CMCPGate
import MCPGateSession
import MCPGateUpstream
import NIOCore
import NIOHTTP1
import PluginAPI
import Prometheus

/// The 2026-07-28 era: every POST stands alone. The gateway checks the mirrored headers against the body,
/// routes to a replica (or to the one a gateway-sealed `requestState` names), relays the answer, and seals
/// any `requestState` the upstream returns so the retry comes back to the same replica.
struct SessionlessFlow: RequestFlow {
    let exchange: Exchange
}

extension SessionlessFlow {
    func post(route: RouteRuntime) {
        if let error = checkPostHeaders() {
            fail(error)
            return
        }
        guard let message = parseBody() else { return }
        // A version this gateway does not serve is -32022 with the supported list whatever else the message has
        // (a dual-era client falls back on it), before any filter spends on the request.
        if let version = headers.first(name: "mcp-protocol-version"), !ProtocolVersion.sessionless.contains(version) {
            fail(.unsupportedVersion(version), idJSON: message.idJSON)
            return
        }
        guard filterClientMessage(message) else { return }
        switch message.kind {
        case .notification:
            // The revision defines no client-to-server notifications over HTTP; acknowledged, as the SDK does.
            answer(status: .accepted, headers: HTTPHeaders(), body: nil)
            return
        case .result, .error:
            fail(
                .invalidRequest("Invalid Request: clients must not send responses at protocol revision 2026-07-28"), idJSON: message.idJSON)
            return
        case .request:
            break
        }
        if route.federates, let error = ModernRequestValidator.validate(message, headers: headers, toolHeaders: nil) {
            fail(error, idJSON: message.idJSON)
            return
        }
        routeRequest(message, route: route, mayLearn: true)
    }

    /// Routes a checked 2026-07-28 request to its target, on the replica a gateway-sealed `requestState`
    /// names (else any), and relays the answer.
    private func routeRequest(_ message: RPCMessage, route: RouteRuntime, mayLearn: Bool) {
        let target: TargetPool
        var resolved: ResolvedTarget?
        if route.federates {
            guard let found = federatedTarget(message, route: route, mayLearn: mayLearn) else { return }
            (target, resolved) = (found.target, found.resolved)
        } else {
            guard let only = singleTarget(message, route: route) else { return }
            target = only
        }
        var endpoint = target.pick()
        var upstreamState: String?
        let principalDigest = principal.map(PrincipalDigest.init(principal:))
        switch SessionRouter.pin(
            requestState: message.params?["requestState"]?.string, codec: runtime.requestStates, route: route, target: target,
            principal: principalDigest, now: nowSeconds, replica: services.replica)
        {
        case .success(.unpinned):
            break
        case .success(.pinned(let pinned, let state)):
            endpoint = pinned
            upstreamState = state
        case .failure(let error):
            fail(error, idJSON: message.idJSON)
            return
        }
        let codec = runtime.requestStates
        let pinnedURL = endpoint.endpoint.url
        // A pooled channel: the retry must reach the channel (process) that served this request.
        let lease = target.channelPool == nil ? nil : LeaseNote()
        let replica = services.replica
        let sealState: (RPCMessage) -> Bool = { response in
            var endpointURL = pinnedURL
            if let lease {
                guard let key = lease.key else { return false }
                endpointURL = ChannelLocator.encode(endpoint: pinnedURL, replica: replica, channel: key)
            }
            return SessionRouter.sealInputRequired(
                response, codec: codec, route: route, target: target.name, endpointURL: endpointURL, principal: principalDigest,
                now: WallClock.nowSeconds)
        }
        var onLease: (@Sendable (UInt64) -> Void)?
        if let lease { onLease = { key in lease.key = key } }
        let restoreState: (JSONValueRef) -> Void = { root in
            if let upstreamState { root["params"]?.set("requestState", string: upstreamState) }
        }
        let version = headers.first(name: "mcp-protocol-version")
        if let resolved {
            federated.routedCall(
                message, resolved: resolved, route: route, target: target, endpoint: endpoint, upstreamSessionID: nil,
                protocolVersion: version, extraEdit: restoreState, observe: { _ = sealState($0) }, onLease: onLease)
            return
        }
        let rewriteAnswer: (RPCMessage) -> [UInt8]? =
            message.method == "tools/list"
            ? { response in
                self.learnToolHeaders(from: response, target: target)
                return nil
            }
            : { response in sealState(response) ? response.document.serialized() : nil }
        forward(
            message: message, body: upstreamState == nil ? nil : upstreamBody(message, edit: restoreState), target: target,
            endpoint: endpoint, upstreamSessionID: nil, protocolVersion: version, purpose: .request, rewriteResult: rewriteAnswer,
            onLease: onLease)
    }

    /// A federated route's target for a request (`SessionRouter.sessionlessStep`, then `resolveTarget`), with
    /// its tool headers checked; nil when the request was answered (discover, lists, errors) or waits for
    /// the names to be listed (then it runs again with `mayLearn` false).
    private func federatedTarget(_ message: RPCMessage, route: RouteRuntime, mayLearn: Bool)
        -> (target: TargetPool, resolved: ResolvedTarget)?
    {
        switch SessionRouter.sessionlessStep(for: message) {
        case .discover:
            federated.federatedDiscover(message, route: route)
            return nil
        case .list(let shape):
            federated.federatedSessionlessList(message, shape: shape, route: route)
            return nil
        case .failure(let failure):
            failRPC(failure.code, failure.text, message: message)
            return nil
        case .routed:
            break
        }
        let retry: (() -> Void)? = mayLearn ? { self.routeRequest(message, route: route, mayLearn: false) } : nil
        let members = federated.callsToEveryTarget(route, protocolVersion: headers.first(name: "mcp-protocol-version"))
        guard let resolved = federated.resolveTarget(message, route: route, learnFrom: members, retry: retry),
            let target = route.target(named: resolved.target)
        else { return nil }
        let known = resolved.toolName.flatMap { services.toolHeaders.headers(target: target.name, tool: $0) }
        if let error = ModernRequestValidator.toolHeaderMismatch(message, headers: headers, toolHeaders: known) {
            fail(error, idJSON: message.idJSON)
            return nil
        }
        return (target, resolved)
    }

    /// The only target of an unfederated route, once the request passed every check with that target's
    /// tool headers; nil when it was answered.
    private func singleTarget(_ message: RPCMessage, route: RouteRuntime) -> TargetPool? {
        guard let only = route.targets.first else {
            fail(.upstream(.badGateway, target: "", "The route has no target"), idJSON: message.idJSON)
            return nil
        }
        let toolHeaders =
            message.method == "tools/call" ? message.targetName.flatMap { services.toolHeaders.headers(target: only.name, tool: $0) } : nil
        if let error = ModernRequestValidator.validate(message, headers: headers, toolHeaders: toolHeaders) {
            fail(error, idJSON: message.idJSON)
            return nil
        }
        return only
    }
}

/// Which pooled channel took a request (set when the lease is granted, read when its answer is sealed). Both
/// happen on the exchange's event loop: `@unchecked Sendable` only so the lease callback may carry it.
final class LeaseNote: @unchecked Sendable {
    var key: UInt64?
}
