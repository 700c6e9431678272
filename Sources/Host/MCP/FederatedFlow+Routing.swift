import CJansson
import CMCPGate
import MCPGateUpstream
import NIOCore
import PluginAPI

/// Routed requests of a federated route: the target `TargetResolver` picks (after listing the targets'
/// names once when this replica has not learned a name yet), and the call with names rewritten both ways.
extension FederatedFlow {
    /// Which target a routed request belongs to (`TargetResolver`); answers the client and returns nil when it
    /// names none. A shortened or unprefixed name this replica has not learned yet is looked up by listing the
    /// targets (`learnFrom`), then `retry` runs the request again (nil also then; no `retry`: no lookup).
    func resolveTarget(_ message: RPCMessage, route: RouteRuntime, learnFrom members: [FanOutCall], retry: (() -> Void)?) -> ResolvedTarget?
    {
        let names = services.federationNames
        let resolution = TargetResolver.resolve(message, route: route) { kind, exposed in
            names.lookup(route: route.identity, kind: kind.rawValue, exposed: exposed)
        }
        switch resolution {
        case .target(let resolved):
            return resolved
        case .needsNames(let kind, let otherwise):
            if let retry {
                learnNames(kind, message: message, route: route, members: members, completion: retry)
            } else {
                failRPC(otherwise.code, otherwise.text, message: message)
            }
            return nil
        case .failure(let failure):
            failRPC(failure.code, failure.text, message: message)
            return nil
        }
    }

    /// Sends a routed request to its target with names rewritten, and relays the answer with names
    /// rewritten back.
    func routedCall(
        _ message: RPCMessage, resolved: ResolvedTarget, route: RouteRuntime, target: TargetPool, endpoint: ResolvedEndpoint,
        upstreamSessionID: String?, protocolVersion: String?, extraEdit: ((JSONValueRef) -> Void)? = nil,
        observe observeAnswer: ((RPCMessage) -> Void)? = nil, onLease: (@Sendable (UInt64) -> Void)? = nil
    ) {
        let rewriter = FederationRewriter(naming: route.naming)
        let method = message.method ?? ""
        let body = upstreamBody(message) { root in
            resolved.edit(root)
            extraEdit?(root)
        }
        var overrides: [(String, String)] = []
        if era == .sessionless, let name = resolved.upstreamName, ModernRequestValidator.nameField(for: method) != nil {
            overrides.append(("mcp-name", MCPHeaderValue.encode(name)))
        }
        let targetName = target.name
        forward(
            message: message, body: body, target: target, endpoint: endpoint, upstreamSessionID: upstreamSessionID,
            protocolVersion: protocolVersion, purpose: .request,
            rewriteResult: { response in
                observeAnswer?(response)
                guard response.kind == .result, let result = response.result else { return nil }
                rewriter.rewriteResult(result, method: method, target: targetName)
                return response.document.serialized()
            },
            rewriteEvent: { rewriter.rewriteServerMessage($0, target: targetName) },
            headerOverrides: overrides, onLease: onLease)
    }

    /// Lists every target's tools or prompts (all pages, at most `TargetResolver.maxNamePages` each) to learn
    /// which target offers which name, then calls `completion`.
    private func learnNames(
        _ kind: NameKind, message: RPCMessage, route: RouteRuntime, members: [FanOutCall], completion: @escaping () -> Void
    ) {
        guard !members.isEmpty else {
            completion()
            return
        }
        var remaining = members.count
        var listed: [[String]] = members.map { _ in [] }
        func finished() {
            remaining -= 1
            guard remaining == 0 else { return }
            let targets = members.map(\.target.name)
            for owned in TargetResolver.ownedNames(zip(targets, listed).map { (target: $0, names: $1) }, naming: route.naming) {
                services.federationNames.learn(
                    route: route.identity, kind: kind.rawValue, exposed: owned.exposed, target: owned.target, name: owned.name)
            }
            completion()
        }
        func read(_ index: Int, cursor: String?, pageNumber: Int) {
            var call = members[index]
            call.body = allocator.buffer(bytes: TargetResolver.nameListRequest(kind, cursor: cursor, meta: message.meta).serialized())
            call.headerOverrides = [("mcp-method", kind.listMethod), ("mcp-name", "")]
            fanOut([call], requestIDJSON: JSONString.quote(TargetResolver.nameListRequestID)) { outcomes in
                let page = TargetResolver.namesOnPage(outcomes.first, kind: kind, pageNumber: pageNumber)
                listed[index] += page.names
                if let next = page.next {
                    read(index, cursor: next, pageNumber: pageNumber + 1)
                    return
                }
                finished()
            }
        }
        for index in members.indices { read(index, cursor: nil, pageNumber: 0) }
    }
}
