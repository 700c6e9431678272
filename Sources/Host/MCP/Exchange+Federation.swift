import CJansson
import Logging
import NIOCore
import NIOHTTP1
import Prometheus
import MCPGateUpstream
import MCPGateSession

/// A federated route: several targets (or prefixed names) behind one endpoint. `initialize` and the list
/// methods fan out to every target concurrently and are merged; calls go to the owning target with names
/// rewritten both ways; notifications are broadcast; the client's answers to server requests go back to
/// the upstream that asked.
extension Exchange {
    /// One upstream request of a fan-out.
    struct FanOutCall {
        var target: TargetPool
        var endpoint: ResolvedEndpoint
        var upstreamSessionID: String?
        var protocolVersion: String?
        var body: ByteBuffer
        /// Header values that replace the client's (a gateway-made request names its own method).
        var headerOverrides: [(String, String)] = []
    }

    /// Sends `calls` concurrently; `completion` gets every outcome, in the order of `calls`, once all are in.
    func fanOut(
        _ calls: [FanOutCall],
        requestIDJSON: String,
        completion: @escaping ([UpstreamOutcome]) -> Void
    ) {
        guard !calls.isEmpty else {
            completion([])
            return
        }
        let requests = calls.map { call in
            UpstreamRequest(
                endpoint: call.endpoint, method: .POST,
                headers: upstreamHeaders(
                    for: call.target, accept: UpstreamHeaders.acceptBoth, contentType: true, upstreamSessionID: call.upstreamSessionID,
                    protocolVersion: call.protocolVersion, overrides: call.headerOverrides),
                body: call.body)
        }
        let readers = FanOut.forward(
            requests, client: services.upstream, on: eventLoop, limits: answerLimits,
            collectors: calls.map { ResponseCollector(requestIDJSON: requestIDJSON, target: $0.target.name) }, completion: completion)
        for reader in readers { if let call = reader.call { track(call) } }
    }

    /// The client's message with `edit` applied, serialized for an upstream (the client's own document is
    /// left as the filters saw it).
    func upstreamBody(_ message: RPCMessage, edit: (JSONValueRef) -> Void) -> ByteBuffer {
        guard let copy = json_deep_copy(message.document.root) else { return request.body }
        let document = JSONDocument(owning: copy)
        edit(JSONValueRef(copy))
        return allocator.buffer(bytes: document.serialized())
    }

    /// Answers a request with a JSON response document the gateway composed (filters see it first).
    func respondComposed(_ response: JSONDocument, message: RPCMessage, extraHeaders: [(String, String)] = []) {
        var body = allocator.buffer(bytes: response.serialized())
        if case .success(let parsed) = RPCMessage.classify(response), let filtered = filterResponse(parsed, raw: body) {
            body = allocator.buffer(bytes: filtered)
        }
        respond(status: .ok, headers: MCPExchangeHandler.jsonHeaders(extra: extraHeaders), body: body)
    }

    /// A JSON-RPC error answer to `message` with the HTTP status its era gives that code.
    func failRPC(_ code: Int, _ text: String, message: RPCMessage) {
        let status: HTTPResponseStatus
        if era == .modern {
            status = code == -32601 ? .notFound : [-32700, -32600, -32602].contains(code) ? .badRequest : .ok
        } else {
            status = .ok
        }
        fail(GatewayError(status, code: code, text), idJSON: message.idJSON)
    }

    // MARK: Handshake era

    /// `initialize` on a federated route: every target is initialized concurrently on a replica of its own;
    /// the client gets one merged result and one sealed session holding every upstream session.
    func federatedInitialize(_ message: RPCMessage, route: RouteRuntime) {
        let calls = route.targets.map { target in
            FanOutCall(target: target, endpoint: target.pick(), upstreamSessionID: nil, protocolVersion: nil, body: request.body)
        }
        fanOut(calls, requestIDJSON: message.idJSON) { [weak self] outcomes in
            self?.finishFederatedInitialize(message, route: route, calls: calls, outcomes: outcomes, retried: false)
        }
    }

    private struct Initialized {
        var call: FanOutCall
        var response: RPCMessage
        var upstreamSessionID: String?
        var version: String
    }

    private func finishFederatedInitialize(
        _ message: RPCMessage, route: RouteRuntime, calls: [FanOutCall], outcomes: [UpstreamOutcome], retried: Bool,
        earlier: [Initialized] = []
    ) {
        var initialized = earlier
        var failures: [GatewayError] = []
        for (call, outcome) in zip(calls, outcomes) {
            switch outcome {
            case .response(let response, let sessionID):
                if response.kind == .result, let version = response.result?["protocolVersion"]?.string {
                    initialized.append(Initialized(call: call, response: response, upstreamSessionID: sessionID, version: version))
                } else {
                    let text = response.root["error"]?["message"]?.string ?? "no result"
                    failures.append(.upstream(.badGateway, target: call.target.name, "Target '\(call.target.name)' refused initialize: \(text)"))
                }
            case .failed(let error):
                failures.append(error)
            case .accepted, .sessionLost:
                failures.append(.upstream(.badGateway, target: call.target.name, "Target '\(call.target.name)' did not answer initialize"))
            }
        }
        if let failure = failures.first, route.failureMode == .failClosed || initialized.isEmpty {
            endUpstreamSessions(initialized)
            fail(failure, idJSON: message.idJSON)
            return
        }
        for failure in failures {
            logger.warning("federated initialize goes on without a target (failOpen)", metadata: ["error": "\(failure.message)"])
        }
        guard let lowest = initialized.map(\.version).min() else { return }
        let mismatched = initialized.filter { $0.version != lowest }
        if !mismatched.isEmpty && !retried {
            // Every upstream session must speak the version the client is told: redo those that chose a newer one.
            endUpstreamSessions(mismatched)
            let redo = mismatched.map { item -> FanOutCall in
                var call = item.call
                call.body = upstreamBody(message) { $0["params"]?.set("protocolVersion", string: lowest) }
                return call
            }
            let kept = initialized.filter { $0.version == lowest }
            fanOut(redo, requestIDJSON: message.idJSON) { [weak self] outcomes in
                self?.finishFederatedInitialize(message, route: route, calls: redo, outcomes: outcomes, retried: true, earlier: kept)
            }
            return
        }
        if !mismatched.isEmpty {
            endUpstreamSessions(initialized)
            fail(.upstream(.badGateway, target: mismatched[0].call.target.name, "Targets could not agree on a protocol version"), idJSON: message.idJSON)
            return
        }
        let ordered = route.targets.compactMap { target in initialized.first { $0.call.target.name == target.name } }
        let merged = ResultMerger.initializeResult(
            ordered.map { ($0.call.target.name, $0.response.result ?? JSONValueRef(message.document.root)) }, protocolVersion: lowest)
        let now = nowSeconds
        let state = SessionState(
            protocolVersion: lowest, principal: principal.map(PrincipalDigest.init(principal:)), issuedAt: now,
            expiresAt: runtime.sessionExpiry(now: now),
            entries: ordered.map { SessionState.Entry(target: $0.call.target.name, endpoint: $0.call.endpoint.endpoint.url, upstreamSessionID: $0.upstreamSessionID) })
        guard state.fitsEncodingLimits else {
            endUpstreamSessions(initialized)
            fail(.upstream(.badGateway, target: route.targetNames.joined(separator: ","), "Upstream session ids are too long to seal"), idJSON: message.idJSON)
            return
        }
        let sessionID = runtime.sessionCodec.seal(state, route: route.identity)
        noteSessionID(sessionID)
        services.metrics.sessionsCreated.increment()
        respondComposed(ResultMerger.response(id: message.id, result: merged), message: message, extraHeaders: [("mcp-session-id", sessionID)])
    }

    /// Ends upstream sessions the client will never hold (best effort, answers ignored).
    private func endUpstreamSessions(_ items: [Initialized]) {
        for item in items {
            guard let sessionID = item.upstreamSessionID else { continue }
            var upstreamHeaders = HTTPHeaders([("mcp-session-id", sessionID), ("mcp-protocol-version", item.version)])
            applyUpstreamEdits(to: &upstreamHeaders)
            _ = services.upstream.forward(
                UpstreamRequest(endpoint: item.call.endpoint, method: .DELETE, headers: upstreamHeaders, body: nil),
                on: eventLoop, limits: answerLimits, sink: { _ in nil })
        }
    }

    /// Any other POST of a federated handshake-era session.
    func federatedHandshakePost(_ message: RPCMessage, session: OpenedSession, route: RouteRuntime, mayLearn: Bool = true) {
        let version = session.state.protocolVersion
        switch message.kind {
        case .result, .error:
            routeClientAnswer(message, session: session)
        case .notification:
            broadcast(message, members: session.members, protocolVersion: version)
        case .request:
            let members = session.members.map { FanOutCall(target: $0.target, endpoint: $0.endpoint, upstreamSessionID: $0.entry.upstreamSessionID, protocolVersion: version, body: request.body) }
            switch message.method ?? "" {
            case "ping":
                respondComposed(ResultMerger.response(id: message.id, result: JSONDocument(owning: JSONAlloc.object())), message: message)
            case let method where FederationRewriter.listShape(of: method) != nil:
                federatedList(message, route: route, members: members)
            case "logging/setLevel":
                fanOut(members, requestIDJSON: message.idJSON) { [weak self] outcomes in
                    self?.finishBroadcastRequest(message, outcomes: outcomes, route: route)
                }
            default:
                let retry: (() -> Void)? = mayLearn ? { [weak self] in self?.federatedHandshakePost(message, session: session, route: route, mayLearn: false) } : nil
                guard let resolved = resolveTarget(message, route: route, learnFrom: members, retry: retry) else { return }
                guard let member = session.member(resolved.target) else {
                    failRPC(-32602, "Target '\(resolved.target)' is not part of this session (it was down at initialize); initialize again to use it", message: message)
                    return
                }
                routedCall(
                    message, resolved: resolved, route: route, target: member.target, endpoint: member.endpoint,
                    upstreamSessionID: member.entry.upstreamSessionID, protocolVersion: version)
            }
        }
    }

    private func finishBroadcastRequest(_ message: RPCMessage, outcomes: [UpstreamOutcome], route: RouteRuntime) {
        for outcome in outcomes {
            switch outcome {
            case .sessionLost:
                fail(.sessionNotFound, idJSON: message.idJSON)
                return
            case .response(let response, _) where response.kind == .error:
                if route.failureMode == .failClosed {
                    respond(status: .ok, headers: MCPExchangeHandler.jsonHeaders(), body: allocator.buffer(bytes: withID(response, message.id)))
                    return
                }
            case .failed(let error):
                if route.failureMode == .failClosed {
                    fail(error, idJSON: message.idJSON)
                    return
                }
            case .response, .accepted:
                break
            }
        }
        respondComposed(ResultMerger.response(id: message.id, result: JSONDocument(owning: JSONAlloc.object())), message: message)
    }

    /// A client notification on a federated session goes to every target (`initialized`, `cancelled`:
    /// unknown request ids are ignored by servers, so every target may get it).
    private func broadcast(_ message: RPCMessage, members: [SessionMember], protocolVersion: String) {
        let calls = members.map { FanOutCall(target: $0.target, endpoint: $0.endpoint, upstreamSessionID: $0.entry.upstreamSessionID, protocolVersion: protocolVersion, body: request.body) }
        fanOut(calls, requestIDJSON: "null") { [weak self] outcomes in
            guard let self else { return }
            if outcomes.allSatisfy({ if case .sessionLost = $0 { true } else { false } }) {
                self.fail(.sessionNotFound)
            } else if outcomes.contains(where: { if case .accepted = $0 { true } else { false } }) {
                self.respond(status: .accepted, headers: HTTPHeaders(), body: nil)
            } else {
                self.fail(.upstream(.badGateway, target: members.map(\.target.name).joined(separator: ","), "No target accepted the notification"))
            }
        }
    }

    /// The client's answer to a server request goes back to the upstream that asked, under its own id.
    private func routeClientAnswer(_ message: RPCMessage, session: OpenedSession) {
        guard let id = message.id?.string, let (target, originalID) = FederationRewriter.parseServerRequestID(id),
            let member = session.member(target)
        else {
            fail(.invalidRequest("The response's id answers no request of this session's servers"), idJSON: message.idJSON)
            return
        }
        let body = upstreamBody(message) { root in
            var error = json_error_t()
            if let restored = json_loads(originalID, Int(JSON_DECODE_ANY), &error) {
                json_object_set_new(root.pointer, "id", restored)
            }
        }
        send(
            message: message, body: body, target: member.target, endpoint: member.endpoint, upstreamSessionID: member.entry.upstreamSessionID,
            protocolVersion: session.state.protocolVersion, purpose: .accepted, inspect: nil)
    }

    // MARK: Routing

    struct ResolvedTarget {
        var target: String
        /// Rewrites the upstream copy of the message's params to the target's own names.
        var edit: (JSONValueRef) -> Void
        /// The `Mcp-Name` the upstream must see (2026-07-28), when the method carries one.
        var upstreamName: String?
        /// The tool or prompt name at the target (for `x-mcp-header` lookups).
        var toolName: String?
    }

    /// Which target a routed request belongs to, from its prefixed name or URI; answers the client and
    /// returns nil when it names none. A shortened or unprefixed name this replica has not learned yet is
    /// looked up by listing the targets (`learnFrom`), then `retry` runs the request again (nil also then).
    func resolveTarget(_ message: RPCMessage, route: RouteRuntime, learnFrom members: [FanOutCall], retry: (() -> Void)?) -> ResolvedTarget? {
        let naming = route.naming
        let params = message.params
        let method = message.method ?? ""
        func byName(_ exposed: String?, kind: String, apply: @escaping (JSONValueRef, String) -> Void) -> ResolvedTarget? {
            guard let exposed else {
                failRPC(-32602, "Invalid params: '\(method)' needs a name", message: message)
                return nil
            }
            var found: (target: String, name: String)?
            if naming.prefixed, let split = naming.split(exposed, targets: route.targetNames) {
                found = TargetNaming.isShortened(split.name) ? services.federationNames.lookup(route: route.identity, kind: kind, exposed: exposed) : split
            } else if !naming.prefixed {
                found = services.federationNames.lookup(route: route.identity, kind: kind, exposed: exposed)
            }
            guard let found else {
                let needsLookup = !naming.prefixed || naming.split(exposed, targets: route.targetNames).map { TargetNaming.isShortened($0.name) } == true
                if needsLookup, let retry {
                    learnNames(kind: kind, message: message, route: route, members: members, completion: retry)
                    return nil
                }
                failRPC(-32602, "Unknown \(kind) '\(exposed)' (list \(kind)s to see what this gateway offers)", message: message)
                return nil
            }
            return ResolvedTarget(target: found.target, edit: { apply($0, found.name) }, upstreamName: found.name, toolName: found.name)
        }
        func byURI(_ exposed: String?, apply: @escaping (JSONValueRef, String) -> Void) -> ResolvedTarget? {
            guard let exposed else {
                failRPC(-32602, "Invalid params: '\(method)' needs a uri", message: message)
                return nil
            }
            if let split = naming.splitURI(exposed, targets: route.targetNames) {
                return ResolvedTarget(target: split.target, edit: { apply($0, split.uri) }, upstreamName: split.uri)
            }
            if !naming.prefixed, let first = route.targets.first {
                // Unprefixed resources: the first target serves them (say so in docs/federation.md).
                return ResolvedTarget(target: first.name, edit: { _ in }, upstreamName: exposed)
            }
            failRPC(-32602, "Unknown resource '\(exposed)': federated resource URIs are '<target>+<uri>'", message: message)
            return nil
        }
        switch method {
        case "tools/call":
            return byName(params?["name"]?.string, kind: "tool") { $0["params"]?.set("name", string: $1) }
        case "prompts/get":
            return byName(params?["name"]?.string, kind: "prompt") { $0["params"]?.set("name", string: $1) }
        case "resources/read", "resources/subscribe", "resources/unsubscribe":
            return byURI(params?["uri"]?.string) { $0["params"]?.set("uri", string: $1) }
        case "completion/complete":
            let reference = params?["ref"]
            if reference?["type"]?.string == "ref/prompt" {
                var resolved = byName(reference?["name"]?.string, kind: "prompt") { $0["params"]?["ref"]?.set("name", string: $1) }
                resolved?.upstreamName = nil
                return resolved
            }
            var resolved = byURI(reference?["uri"]?.string) { $0["params"]?["ref"]?.set("uri", string: $1) }
            resolved?.upstreamName = nil
            return resolved
        default:
            failRPC(-32601, "Method not found: \(method)", message: message)
            return nil
        }
    }

    /// Sends a routed request to its target with names rewritten, and relays the answer with names
    /// rewritten back.
    func routedCall(
        _ message: RPCMessage, resolved: ResolvedTarget, route: RouteRuntime, target: TargetPool, endpoint: ResolvedEndpoint,
        upstreamSessionID: String?, protocolVersion: String?, extraEdit: ((JSONValueRef) -> Void)? = nil,
        inspect extraInspect: ((RPCMessage) -> Void)? = nil
    ) {
        let rewriter = FederationRewriter(naming: route.naming)
        let method = message.method ?? ""
        let body = upstreamBody(message) { root in
            resolved.edit(root)
            extraEdit?(root)
        }
        var overrides: [(String, String)] = []
        if era == .modern, let name = resolved.upstreamName, ModernRequestValidator.nameField(for: method) != nil {
            overrides.append(("mcp-name", MCPHeaderValue.encode(name)))
        }
        let targetName = target.name
        send(
            message: message, body: body, target: target, endpoint: endpoint, upstreamSessionID: upstreamSessionID,
            protocolVersion: protocolVersion, purpose: .request,
            inspect: { response in
                extraInspect?(response)
                guard response.kind == .result, let result = response.result else { return nil }
                rewriter.rewriteResult(result, method: method, target: targetName)
                return response.document.serialized()
            },
            rewriteEvent: { rewriter.rewriteServerMessage($0, target: targetName) },
            headerOverrides: overrides)
    }

    /// Lists every target's tools or prompts (all pages, at most 20 each) to learn which target offers which
    /// name, then calls `completion`.
    private func learnNames(kind: String, message: RPCMessage, route: RouteRuntime, members: [FanOutCall], completion: @escaping () -> Void) {
        let method = kind == "tool" ? "tools/list" : "prompts/list"
        let key = kind == "tool" ? "tools" : "prompts"
        var remaining = members.count
        var names: [[String]] = members.map { _ in [] }
        let meta = message.meta.flatMap { json_deep_copy($0.pointer) }.map { JSONDocument(owning: $0) }
        func finished() {
            remaining -= 1
            guard remaining == 0 else { return }
            // In config order, as the merged lists expose them: the first target offering a name owns it.
            var owned = Set<String>()
            for (member, list) in zip(members, names) {
                for name in list {
                    let exposed = route.naming.exposedName(name, target: member.target.name)
                    guard owned.insert(exposed).inserted else { continue }
                    services.federationNames.learn(route: route.identity, kind: kind, exposed: exposed, target: member.target.name, name: name)
                }
            }
            completion()
        }
        func page(_ index: Int, cursor: String?, number: Int) {
            let params = JSONAlloc.object()
            if let cursor { json_object_set_new(params, "cursor", json_stringn(cursor, cursor.utf8.count)) }
            if let meta { json_object_set(params, "_meta", meta.root) }
            let body = JSONDocument(owning: JSONAlloc.object())
            json_object_set_new(body.root, "jsonrpc", json_string("2.0"))
            json_object_set_new(body.root, "id", json_string("mcpgate-learn"))
            json_object_set_new(body.root, "method", json_string(method))
            json_object_set_new(body.root, "params", params)
            var call = members[index]
            call.body = allocator.buffer(bytes: body.serialized())
            call.headerOverrides = [("mcp-method", method), ("mcp-name", "")]
            fanOut([call], requestIDJSON: "\"mcpgate-learn\"") { outcomes in
                if case .response(let response, _)? = outcomes.first, response.kind == .result, let result = response.result,
                    let list = result[key], list.type == JSON_ARRAY
                {
                    for item in 0..<json_array_size(list.pointer) {
                        if let name = json_array_get(list.pointer, item).flatMap({ JSONValueRef($0)["name"]?.string }) { names[index].append(name) }
                    }
                    if let next = result["nextCursor"]?.string, number < 19 {
                        page(index, cursor: next, number: number + 1)
                        return
                    }
                }
                finished()
            }
        }
        guard !members.isEmpty else {
            completion()
            return
        }
        for index in members.indices { page(index, cursor: nil, number: 0) }
    }

    // MARK: Lists

    /// A list method on a federated route: every target's page (or the pages a composite cursor names),
    /// items renamed, collisions reported, one composite cursor for what is left.
    func federatedList(_ message: RPCMessage, route: RouteRuntime, members: [FanOutCall]) {
        let method = message.method ?? ""
        guard let shape = FederationRewriter.listShape(of: method) else { return }
        var selected = members
        var cursors: [String: String] = [:]
        if let cursor = message.params?["cursor"]?.string {
            guard let composite = CompositeCursor.open(cursor, with: runtime.cursorSealer, route: route.identity, method: method) else {
                failRPC(-32602, "Invalid params: unknown or tampered cursor", message: message)
                return
            }
            for (target, value) in composite.cursors { cursors[target] = value }
            selected = members.filter { cursors[$0.target.name] != nil }
        }
        let calls = selected.map { member -> FanOutCall in
            var call = member
            let cursor = cursors[member.target.name]
            call.body = upstreamBody(message) { root in
                guard let params = root["params"] else { return }
                if let cursor {
                    params.set("cursor", string: cursor)
                } else {
                    json_object_del(params.pointer, "cursor")
                }
            }
            return call
        }
        fanOut(calls, requestIDJSON: message.idJSON) { [weak self] outcomes in
            self?.finishFederatedList(message, route: route, calls: calls, outcomes: outcomes, shape: shape)
        }
    }

    private func finishFederatedList(
        _ message: RPCMessage, route: RouteRuntime, calls: [FanOutCall], outcomes: [UpstreamOutcome],
        shape: (key: String, field: String, isURI: Bool)
    ) {
        let method = message.method ?? ""
        let rewriter = FederationRewriter(naming: route.naming)
        let items = JSONAlloc.array()
        let merged = JSONDocument(owning: JSONAlloc.object())
        json_object_set_new(merged.root, shape.key, items)
        var exposedOwners: [String: String] = [:]
        var next: [(target: String, cursor: String)] = []
        var ttl: Int64?
        var isPrivate = false
        for (call, outcome) in zip(calls, outcomes) {
            let target = call.target.name
            let response: RPCMessage
            switch outcome {
            case .sessionLost:
                services.metrics.sessionsRejected.increment()
                fail(.sessionNotFound, idJSON: message.idJSON)
                return
            case .failed(let error):
                if route.failureMode == .failOpen {
                    logger.warning("list goes on without a target (failOpen)", metadata: ["target": "\(target)", "error": "\(error.message)"])
                    continue
                }
                fail(error, idJSON: message.idJSON)
                return
            case .accepted:
                continue
            case .response(let answer, _):
                response = answer
            }
            if response.kind == .error {
                // A target without this feature answers -32601: it contributes nothing.
                if response.root["error"]?["code"]?.integer == -32601 || route.failureMode == .failOpen { continue }
                respond(status: .ok, headers: MCPExchangeHandler.jsonHeaders(), body: allocator.buffer(bytes: withID(response, message.id)))
                return
            }
            guard let result = response.result, let list = result[shape.key], list.type == JSON_ARRAY else { continue }
            if method == "tools/list" { services.toolHeaders.learn(target: target, toolsListResult: result) }
            let originals: [String] = (0..<json_array_size(list.pointer)).map { index in
                json_array_get(list.pointer, index).flatMap { JSONValueRef($0)[shape.field]?.string } ?? ""
            }
            rewriter.rewriteListItems(list, field: shape.field, isURI: shape.isURI, target: target)
            for index in 0..<json_array_size(list.pointer) {
                guard let item = json_array_get(list.pointer, index), let exposed = JSONValueRef(item)[shape.field]?.string else { continue }
                if let owner = exposedOwners[exposed] {
                    logger.warning(
                        "federation name collision: '\(exposed)' is offered by targets '\(owner)' and '\(target)'; clients see '\(owner)'s",
                        metadata: ["method": "\(method)"])
                    services.metrics.federationCollisions.increment()
                    continue
                }
                exposedOwners[exposed] = target
                if !shape.isURI {
                    services.federationNames.learn(
                        route: route.identity, kind: method == "tools/list" ? "tool" : "prompt", exposed: exposed, target: target, name: originals[index])
                }
                json_array_append(items, item)
            }
            if let cursor = result["nextCursor"]?.string { next.append((target, cursor)) }
            let pageTTL = result["ttlMs"]?.integer ?? 0
            ttl = min(ttl ?? pageTTL, pageTTL)
            if result["cacheScope"]?.string != "public" { isPrivate = true }
        }
        if !next.isEmpty {
            let token = CompositeCursor(cursors: next).seal(with: runtime.cursorSealer, route: route.identity, method: method)
            json_object_set_new(merged.root, "nextCursor", json_stringn(token, token.utf8.count))
        }
        if era == .modern {
            ResultMerger.stampModern(JSONValueRef(merged.root), ttlMs: ttl ?? 0, cacheScope: isPrivate ? "private" : "public")
        }
        respondComposed(ResultMerger.response(id: message.id, result: merged), message: message)
    }

    /// `response` re-serialized with the client's id (the upstream saw the same id; this keeps its type).
    private func withID(_ response: RPCMessage, _ id: JSONValueRef?) -> [UInt8] {
        if let id { json_object_set(response.document.root, "id", id.pointer) }
        return response.document.serialized()
    }

    // MARK: 2026-07-28

    /// `server/discover` on a federated route: the gateway's own answer, from every target's.
    func federatedDiscover(_ message: RPCMessage, route: RouteRuntime) {
        let version = headers.first(name: "mcp-protocol-version")
        let calls = route.targets.map { FanOutCall(target: $0, endpoint: $0.pick(), upstreamSessionID: nil, protocolVersion: version, body: request.body) }
        fanOut(calls, requestIDJSON: message.idJSON) { [weak self] outcomes in
            guard let self else { return }
            var results: [(String, JSONValueRef)] = []
            var versions: Set<String>?
            var ttl: Int64?
            var isPrivate = false
            for (call, outcome) in zip(calls, outcomes) {
                guard case .response(let response, _) = outcome, response.kind == .result, let result = response.result else {
                    if route.failureMode == .failOpen { continue }
                    // Not every target speaks 2026-07-28: a plain -32600 sends SDK clients to initialize.
                    self.fail(.invalidRequest("Bad Request: target '\(call.target.name)' does not serve protocol revision 2026-07-28; use initialize"), idJSON: message.idJSON)
                    return
                }
                var supported = Set<String>()
                if let list = result["supportedVersions"], list.type == JSON_ARRAY {
                    for index in 0..<json_array_size(list.pointer) {
                        if let value = json_array_get(list.pointer, index).flatMap({ JSONValueRef($0).string }), ProtocolVersion.modern.contains(value) {
                            supported.insert(value)
                        }
                    }
                }
                versions = versions.map { $0.intersection(supported) } ?? supported
                results.append((call.target.name, result))
                let pageTTL = result["ttlMs"]?.integer ?? 0
                ttl = min(ttl ?? pageTTL, pageTTL)
                if result["cacheScope"]?.string != "public" { isPrivate = true }
            }
            guard let common = versions, !common.isEmpty else {
                self.fail(.invalidRequest("Bad Request: the targets share no protocol revision 2026-07-28; use initialize"), idJSON: message.idJSON)
                return
            }
            let merged = ResultMerger.initializeResult(results, protocolVersion: "")
            json_object_del(merged.root, "protocolVersion")
            json_object_del(merged.root, "serverInfo")
            let list = JSONAlloc.array()
            for value in common.sorted() { json_array_append_new(list, json_string(value)) }
            json_object_set_new(merged.root, "supportedVersions", list)
            ResultMerger.stampModern(JSONValueRef(merged.root), ttlMs: ttl ?? 0, cacheScope: isPrivate ? "private" : "public")
            self.respondComposed(ResultMerger.response(id: message.id, result: merged), message: message)
        }
    }
}
