import CJansson
import CMCPGate
import PluginAPI

/// A routed request's target, and how its upstream copy differs from the client's.
struct ResolvedTarget {
    var target: String
    /// Rewrites the upstream copy of the message's params to the target's own names.
    var edit: (JSONValueRef) -> Void
    /// The `Mcp-Name` the upstream must see (2026-07-28), when the method carries one.
    var upstreamName: String?
    /// The tool or prompt name at the target (for `x-mcp-header` lookups).
    var toolName: String?
}

/// What a federated route offers by name: tools and prompts.
enum NameKind: String, Equatable {
    case tool, prompt

    /// The list method that names them.
    var listMethod: String { self == .tool ? "tools/list" : "prompts/list" }
    /// The result member holding the list.
    var listKey: String { self == .tool ? "tools" : "prompts" }
}

/// Decides which target of a federated route a request goes to, from its prefixed name or URI: a pure
/// function of the message, the route and the names this replica learned (no I/O; the caller lists the
/// targets when the answer is `needsNames`, then asks again).
enum TargetResolver {
    /// The answer for one request.
    enum Resolution {
        case target(ResolvedTarget)
        /// The name is shortened or unprefixed and not learned yet: list the targets' `kind`s, then resolve
        /// again; `otherwise` is the answer when the names cannot be (or were already) listed.
        case needsNames(NameKind, otherwise: RoutingFailure)
        case failure(RoutingFailure)
    }

    /// Looks up a name this replica learned from the targets' lists (`FederationNames.lookup`).
    typealias LearnedNames = (_ kind: NameKind, _ exposed: String) -> (target: String, name: String)?

    static func resolve(_ message: RPCMessage, route: RouteRuntime, learned: LearnedNames) -> Resolution {
        let params = message.params
        let method = message.method ?? ""
        switch method {
        case "tools/call":
            return byName(params?["name"]?.string, kind: .tool, method: method, route: route, learned: learned) {
                $0["params"]?.set("name", string: $1)
            }
        case "prompts/get":
            return byName(params?["name"]?.string, kind: .prompt, method: method, route: route, learned: learned) {
                $0["params"]?.set("name", string: $1)
            }
        case "resources/read", "resources/subscribe", "resources/unsubscribe":
            return byURI(params?["uri"]?.string, method: method, route: route) { $0["params"]?.set("uri", string: $1) }
        case "completion/complete":
            let reference = params?["ref"]
            let resolution =
                reference?["type"]?.string == "ref/prompt"
                ? byName(reference?["name"]?.string, kind: .prompt, method: method, route: route, learned: learned) {
                    $0["params"]?["ref"]?.set("name", string: $1)
                }
                : byURI(reference?["uri"]?.string, method: method, route: route) { $0["params"]?["ref"]?.set("uri", string: $1) }
            // `Mcp-Name` mirrors no field of completion/complete.
            guard case .target(var resolved) = resolution else { return resolution }
            resolved.upstreamName = nil
            return .target(resolved)
        default:
            return .failure(.methodNotFound("Method not found: \(method)"))
        }
    }

    private static func byName(
        _ exposed: String?, kind: NameKind, method: String, route: RouteRuntime, learned: LearnedNames,
        apply: @escaping (JSONValueRef, String) -> Void
    ) -> Resolution {
        guard let exposed else { return .failure(.invalidParams("Invalid params: '\(method)' needs a name")) }
        let naming = route.naming
        let split = naming.split(exposed, targets: route.targetNames)
        // Unprefixed names and shortened ones are only known from the targets' lists.
        let needsLookup = !naming.prefixed || split.map { TargetNaming.isShortened($0.name) } == true
        let found = needsLookup ? learned(kind, exposed) : split
        guard let found else {
            let unknown = RoutingFailure.invalidParams(
                "Unknown \(kind.rawValue) '\(exposed)' (list \(kind.rawValue)s to see what this gateway offers)")
            return needsLookup ? .needsNames(kind, otherwise: unknown) : .failure(unknown)
        }
        return .target(
            ResolvedTarget(target: found.target, edit: { apply($0, found.name) }, upstreamName: found.name, toolName: found.name))
    }

    private static func byURI(_ exposed: String?, method: String, route: RouteRuntime, apply: @escaping (JSONValueRef, String) -> Void)
        -> Resolution
    {
        guard let exposed else { return .failure(.invalidParams("Invalid params: '\(method)' needs a uri")) }
        if let split = route.naming.splitURI(exposed, targets: route.targetNames) {
            return .target(ResolvedTarget(target: split.target, edit: { apply($0, split.uri) }, upstreamName: split.uri))
        }
        if !route.naming.prefixed, let first = route.targets.first {
            // Unprefixed resources: the first target serves them (docs/federation.md).
            return .target(ResolvedTarget(target: first.name, edit: { _ in }, upstreamName: exposed))
        }
        return .failure(.invalidParams("Unknown resource '\(exposed)': federated resource URIs are '<target>+<uri>'"))
    }

    // MARK: Learning names

    /// The most pages of one target's list read to learn its names.
    static let maxNamePages = 20
    /// The id of the gateway's own list requests.
    static let nameListRequestID = "mcpgate-learn"

    /// The JSON-RPC request that lists one page of a target's `kind`s (the client's `_meta` carried along).
    static func nameListRequest(_ kind: NameKind, cursor: String?, meta: JSONValueRef?) -> JSONDocument {
        let params = JSONAlloc.object()
        if let cursor { json_object_set_new(params, "cursor", json_stringn(cursor, cursor.utf8.count)) }
        if let meta, let copy = json_deep_copy(meta.pointer) { json_object_set_new(params, "_meta", copy) }
        let body = JSONDocument(owning: JSONAlloc.object())
        json_object_set_new(body.root, "jsonrpc", json_string("2.0"))
        json_object_set_new(body.root, "id", json_string(nameListRequestID))
        json_object_set_new(body.root, "method", json_string(kind.listMethod))
        json_object_set_new(body.root, "params", params)
        return body
    }

    /// One list page's names, and the cursor of the next page to read (nil when done: the last page, an
    /// error, or `maxNamePages` read). `pageNumber` counts from 0.
    static func namesOnPage(_ outcome: UpstreamOutcome?, kind: NameKind, pageNumber: Int) -> (names: [String], next: String?) {
        guard case .response(let response, _)? = outcome, response.kind == .result, let result = response.result,
            let list = result[kind.listKey], list.type == JSON_ARRAY
        else { return ([], nil) }
        var names: [String] = []
        for index in 0..<json_array_size(list.pointer) {
            if let name = json_array_get(list.pointer, index).flatMap({ JSONValueRef($0)["name"]?.string }) { names.append(name) }
        }
        let next = pageNumber + 1 < maxNamePages ? result["nextCursor"]?.string : nil
        return (names, next)
    }

    /// The names to remember once every target was listed: in config order, as the merged lists expose them,
    /// the first target offering an exposed name owns it.
    static func ownedNames(_ listed: [(target: String, names: [String])], naming: TargetNaming)
        -> [(exposed: String, target: String, name: String)]
    {
        var owned = Set<String>()
        var out: [(exposed: String, target: String, name: String)] = []
        for (target, names) in listed {
            for name in names {
                let exposed = naming.exposedName(name, target: target)
                guard owned.insert(exposed).inserted else { continue }
                out.append((exposed, target, name))
            }
        }
        return out
    }
}
