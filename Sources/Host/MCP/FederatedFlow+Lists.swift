import CJansson
import CMCPGate
import Logging
import NIOCore
import NIOHTTP1
import PluginAPI
import Prometheus

/// The list methods of a federated route (`tools/list`, `prompts/list`, `resources/list`,
/// `resources/templates/list`): fanned out to every target (or to those a composite cursor names), merged
/// by `ListMerger`; the glue logs and counts collisions and remembers the names and tool headers it saw.
extension FederatedFlow {
    /// A list method on a federated route: every target's page (or the pages a composite cursor names),
    /// merged by `ListMerger`.
    func federatedList(_ message: RPCMessage, shape: ListShape, route: RouteRuntime, members: [FanOutCall]) {
        let method = message.method ?? ""
        let pages: [ListMerger.PageRequest]
        switch ListMerger.pages(
            cursor: message.params?["cursor"]?.string, targets: members.map(\.target.name), sealer: runtime.cursorSealer,
            route: route.identity,
            method: method)
        {
        case .success(let requested): pages = requested
        case .failure(let failure):
            failRPC(failure.code, failure.text, message: message)
            return
        }
        let calls = pages.compactMap { page -> FanOutCall? in
            guard var call = members.first(where: { $0.target.name == page.target }) else { return nil }
            call.body = upstreamBody(message) { root in
                guard let params = root["params"] else { return }
                if let cursor = page.cursor {
                    params.set("cursor", string: cursor)
                } else {
                    json_object_del(params.pointer, "cursor")
                }
            }
            return call
        }
        fanOut(calls, requestIDJSON: message.idJSON) { outcomes in
            self.finishFederatedList(message, shape: shape, route: route, targets: calls.map(\.target.name), outcomes: outcomes)
        }
    }

    private func finishFederatedList(
        _ message: RPCMessage, shape: ListShape, route: RouteRuntime, targets: [String], outcomes: [UpstreamOutcome]
    ) {
        let method = message.method ?? ""
        let sealer = runtime.cursorSealer
        let merge = ListMerger.merge(
            method: method, shape: shape, targets: targets, outcomes: outcomes, naming: route.naming, failureMode: route.failureMode,
            sessionless: era == .sessionless, sealNext: { $0.seal(with: sealer, route: route.identity, method: method) })
        for (target, tools) in merge.toolHeaders { services.toolHeaders.record(target: target, tools) }
        for (target, error) in merge.skipped {
            logger.warning("list goes on without a target (failOpen)", metadata: ["target": "\(target)", "error": "\(error.message)"])
        }
        for collision in merge.collisions {
            let (exposed, owner, loser) = (collision.exposed, collision.owner, collision.loser)
            logger.warning(
                "federation name collision: '\(exposed)' is offered by targets '\(owner)' and '\(loser)'; clients see '\(owner)'s",
                metadata: ["method": "\(method)"])
            services.metrics.federationCollisions.increment()
        }
        let kind: NameKind = method == "tools/list" ? .tool : .prompt
        for name in merge.names {
            services.federationNames.learn(
                route: route.identity, kind: kind.rawValue, exposed: name.exposed, target: name.target, name: name.name)
        }
        switch merge.answer {
        case .merged(let result):
            answerComposed(ResultMerger.response(id: message.id, result: result), message: message)
        case .relay(let response):
            answer(status: .ok, headers: HTTPHeaders.json(), body: allocator.buffer(bytes: withID(response, message.id)))
        case .failure(let error, let sessionLost):
            if sessionLost { services.metrics.sessionsRejected.increment() }
            fail(error, idJSON: message.idJSON)
        }
    }

    /// A 2026-07-28 list method on a federated route: every target's page, each on a replica picked now.
    func federatedSessionlessList(_ message: RPCMessage, shape: ListShape, route: RouteRuntime) {
        federatedList(
            message, shape: shape, route: route,
            members: callsToEveryTarget(route, protocolVersion: headers.first(name: "mcp-protocol-version")))
    }
}
