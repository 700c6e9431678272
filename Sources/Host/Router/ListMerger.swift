import CJansson
import CMCPGate
import MCPGateSession
import PluginAPI

/// The array member that holds the items of a list method's result, and the field that names each item.
struct ListShape: Equatable {
    var key: String
    var field: String
    var isURI: Bool

    init?(method: String) {
        guard let shape = FederationRewriter.listShape(of: method) else { return nil }
        (key, field, isURI) = shape
    }
}

/// Merges the pages of a federated list method (`tools/list`, `prompts/list`, `resources/list`,
/// `resources/templates/list`): which targets to ask (the composite cursor), then one page for the client
/// from their outcomes. Pure: what to log, count and learn comes back as data for the caller.
enum ListMerger {
    /// One upstream page request of a fan-out: the target, and its own cursor (nil: the first page).
    struct PageRequest: Equatable {
        var target: String
        var cursor: String?
    }

    /// The pages to ask for: every target's first page, or the pages the client's composite cursor names
    /// (in `targets` order). A cursor the gateway did not seal for this route and method is -32602.
    static func pages(cursor: String?, targets: [String], sealer: Sealer, route: String, method: String)
        -> Result<[PageRequest], RoutingFailure>
    {
        guard let cursor else { return .success(targets.map { PageRequest(target: $0, cursor: nil) }) }
        guard let composite = CompositeCursor.open(cursor, with: sealer, route: route, method: method) else {
            return .failure(.invalidParams("Invalid params: unknown or tampered cursor"))
        }
        var cursors: [String: String] = [:]
        for (target, value) in composite.cursors { cursors[target] = value }
        return .success(targets.compactMap { target in cursors[target].map { PageRequest(target: target, cursor: $0) } })
    }

    /// Two targets offer the same exposed name: `owner` (earlier in config order) keeps it.
    struct Collision: Equatable {
        var exposed: String
        var owner: String
        var loser: String
    }

    /// The answer to the client.
    enum Answer {
        /// The merged result (not yet wrapped in a response).
        case merged(JSONDocument)
        /// An upstream's error response, to relay under the client's id (failClosed).
        case relay(RPCMessage)
        /// `sessionLost`: the upstream lost its session (the client must initialize again).
        case failure(GatewayError, sessionLost: Bool)
    }

    /// A merge: the answer, and what the caller logs, counts and learns whatever the answer (for the
    /// targets read before a failure too).
    struct Merge {
        var answer: Answer
        var collisions: [Collision] = []
        /// Targets left out under failOpen, and why.
        var skipped: [(target: String, error: GatewayError)] = []
        /// Exposed name -> (target, name at the target), for `FederationNames` (tools and prompts only).
        var names: [(exposed: String, target: String, name: String)] = []
        /// Each `tools/list` page's `x-mcp-header` annotations, by target (names as the target calls them).
        var toolHeaders: [(target: String, tools: [String: [ToolParamHeader]])] = []
        /// What is left to read, per target (sealed into the result's `nextCursor`).
        var next: CompositeCursor?
    }

    /// The page for the client from `outcomes` (one per `targets`, in config order).
    /// - Parameters:
    ///   - sealNext: seals the composite cursor of what is left (`CompositeCursor.seal`).
    ///   - sessionless: stamp the 2026-07-28 fields (`resultType`, merged `ttlMs`/`cacheScope`, server info).
    static func merge(
        method: String, shape: ListShape, targets: [String], outcomes: [UpstreamOutcome], naming: TargetNaming,
        failureMode: FailureMode, sessionless: Bool, sealNext: (CompositeCursor) -> String
    ) -> Merge {
        let rewriter = FederationRewriter(naming: naming)
        let items = JSONAlloc.array()
        let merged = JSONDocument(owning: JSONAlloc.object())
        json_object_set_new(merged.root, shape.key, items)
        var merge = Merge(answer: .merged(merged))
        var owners: [String: String] = [:]
        var next: [(target: String, cursor: String)] = []
        var hints = CacheHints()
        for (target, outcome) in zip(targets, outcomes) {
            let response: RPCMessage
            switch outcome {
            case .sessionLost:
                merge.answer = .failure(.sessionNotFound, sessionLost: true)
                return merge
            case .failed(let error):
                guard failureMode == .failOpen else {
                    merge.answer = .failure(error, sessionLost: false)
                    return merge
                }
                merge.skipped.append((target, error))
                continue
            case .accepted:
                continue
            case .response(let answer, _):
                response = answer
            }
            if response.kind == .error {
                // A target without this feature answers -32601: it contributes nothing.
                if response.root["error"]?["code"]?.integer == -32601 || failureMode == .failOpen { continue }
                merge.answer = .relay(response)
                return merge
            }
            guard let result = response.result, let list = result[shape.key], list.type == JSON_ARRAY else { continue }
            if method == "tools/list" { merge.toolHeaders.append((target, ToolHeaderRegistry.annotations(toolsListResult: result))) }
            let originals: [String] = (0..<json_array_size(list.pointer)).map { index in
                json_array_get(list.pointer, index).flatMap { JSONValueRef($0)[shape.field]?.string } ?? ""
            }
            rewriter.rewriteListItems(list, field: shape.field, isURI: shape.isURI, target: target)
            for index in 0..<json_array_size(list.pointer) {
                guard let item = json_array_get(list.pointer, index), let exposed = JSONValueRef(item)[shape.field]?.string else {
                    continue
                }
                if let owner = owners[exposed] {
                    merge.collisions.append(Collision(exposed: exposed, owner: owner, loser: target))
                    continue
                }
                owners[exposed] = target
                if !shape.isURI { merge.names.append((exposed, target, originals[index])) }
                json_array_append(items, item)
            }
            if let cursor = result["nextCursor"]?.string { next.append((target, cursor)) }
            hints.add(result)
        }
        if !next.isEmpty {
            let composite = CompositeCursor(cursors: next)
            merge.next = composite
            let token = sealNext(composite)
            json_object_set_new(merged.root, "nextCursor", json_stringn(token, token.utf8.count))
        }
        if sessionless {
            ResultMerger.stampModern(JSONValueRef(merged.root), ttlMs: hints.ttlMs, cacheScope: hints.cacheScope)
        }
        return merge
    }
}
