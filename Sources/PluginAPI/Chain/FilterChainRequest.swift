import CJansson
import CMCPGate

/// One HTTP request travelling through a `FilterChain`: per-plugin request state, request attributes
/// and queued header edits. Not `Sendable`: confined to the request's event loop (hooks of one
/// request are serialised, as the ABI promises).
///
/// Call the hooks in the order of docs/plugin-chain.md, apply each returned `FilterDecision`, and end
/// with `finish(_:)`. If the request is dropped without `finish`, deinit finishes it as
/// `FilterCompletion.abandoned`, so every plugin's per-request state is destroyed exactly once.
public final class FilterChainRequest {
    private struct Slot {
        var state: UnsafeMutableRawPointer? = nil
        /// request_new ran (or the plugin has none): on_complete will run.
        var created = false
        /// request_new succeeded: request_destroy will run.
        var destroyable = false
        /// request_new failed: no more hooks of this instance for this request.
        var failed = false
        var hooksRun: UInt32 = 0
    }

    /// The chain this request runs through (kept alive until the request ends).
    public let chain: FilterChain
    let context: RequestContext
    private var slots: [Slot]
    /// Index of the instance that stopped the request path, if one did.
    private var stoppedAt: Int? = nil
    private var finished = false
    private let startedAt: UInt64

    init(chain: FilterChain, http: FilterHTTPRequest) {
        self.chain = chain
        self.context = RequestContext(http: http)
        self.slots = Array(repeating: Slot(), count: chain.instances.count)
        self.startedAt = chain.services.clock.monotonicNanoseconds()
    }

    deinit {
        if !finished { finish(.abandoned) }
    }

    // MARK: - Request path (chain order)

    /// Runs `on_http_request_headers` of every instance in chain order until one rejects or responds.
    /// Call once, after the request head is read and before the body is.
    public func onHTTPRequestHeaders() -> FilterDecision {
        guard !finished, chain.wantsHTTPRequestHeaders else { return .continue }
        let strings = context.strings
        var info = mcpgate_http_request(
            struct_size: UInt32(MemoryLayout<mcpgate_http_request>.size), method: strings.method,
            path: strings.path, session_id: strings.sessionID, protocol_version: strings.protocolVersion,
            remote_address: strings.remoteAddress)
        for index in chain.instances.indices {
            guard let hook = chain.instances[index].descriptor.pointee.on_http_request_headers else { continue }
            let config = chain.instances[index].config
            if let decision = run(
                .httpRequestHeaders, index: index,
                { state, request, decision in
                    hook(config, state, request, &info, decision)
                })
            {
                stoppedAt = index
                return decision
            }
        }
        return .continue
    }

    /// Runs `on_rpc_message` of every instance in chain order for one client message (each element of
    /// a batch separately, with its index) until one rejects or responds.
    ///
    /// - Parameters:
    ///   - message: the parsed message (a JSON object), borrowed for the call.
    ///   - raw: its bytes as received, borrowed for the call.
    ///   - batchIndex: its position when it is an element of a batch.
    public func onRPCMessage(_ message: UnsafePointer<json_t>, raw: UnsafeRawBufferPointer, batchIndex: Int? = nil) -> FilterDecision {
        guard !finished, chain.wantsRPCMessages else { return .continue }
        var info = RPCMessageExtraction.info(message: message, raw: raw, batchIndex: batchIndex, request: nil)
        info.session_id = context.strings.sessionID
        info.protocol_version = context.strings.protocolVersion
        for index in chain.instances.indices {
            guard let hook = chain.instances[index].descriptor.pointee.on_rpc_message else { continue }
            let config = chain.instances[index].config
            if let decision = run(
                .rpcMessage, index: index,
                { state, request, decision in
                    hook(config, state, request, &info, decision)
                })
            {
                if batchIndex == nil { stoppedAt = index }
                return decision
            }
        }
        return .continue
    }

    // MARK: - Response path (reverse chain order)

    /// Runs `on_rpc_response` in reverse chain order for one server response (JSON body or SSE event
    /// carrying a response) until one rejects (replace it with the error) or responds (replace its
    /// result).
    ///
    /// - Parameters:
    ///   - response: the parsed response, borrowed for the call.
    ///   - raw: its bytes, borrowed for the call.
    ///   - request: the parsed client message it answers, if the host still has it (gives plugins its
    ///     method and target).
    public func onRPCResponse(
        _ response: UnsafePointer<json_t>, raw: UnsafeRawBufferPointer, request: UnsafePointer<json_t>? = nil
    ) -> FilterDecision {
        guard !finished, chain.wantsRPCResponses else { return .continue }
        var responseInfo = RPCMessageExtraction.info(message: response, raw: raw, batchIndex: nil, request: request)
        responseInfo.session_id = context.strings.sessionID
        responseInfo.protocol_version = context.strings.protocolVersion
        let requestInfo = request.map { requestMessage -> mcpgate_rpc_message in
            var info = RPCMessageExtraction.info(
                message: requestMessage, raw: UnsafeRawBufferPointer(start: nil, count: 0), batchIndex: nil, request: nil)
            info.session_id = self.context.strings.sessionID
            info.protocol_version = self.context.strings.protocolVersion
            return info
        }
        for index in responseRange.reversed() {
            guard let hook = chain.instances[index].descriptor.pointee.on_rpc_response else { continue }
            let config = chain.instances[index].config
            let decision: FilterDecision?
            if var correlated = requestInfo {
                decision = run(.rpcResponse, index: index) { state, request, decision in
                    hook(config, state, request, &correlated, &responseInfo, decision)
                }
            } else {
                decision = run(.rpcResponse, index: index) { state, request, decision in
                    hook(config, state, request, nil, &responseInfo, decision)
                }
            }
            if let decision { return decision }
        }
        return .continue
    }

    /// Runs `on_sse_event` in reverse chain order for one server-to-client event that is not a
    /// response, until one drops or rejects it.
    public func onSSEEvent(_ event: FilterSSEEvent) -> FilterDecision {
        guard !finished, chain.wantsSSEEvents else { return .continue }
        let eventType = CStringBuffer(event.event)
        let eventID = event.id.map { CStringBuffer($0) }
        let messageInfo = event.message.map { message -> mcpgate_rpc_message in
            var info = RPCMessageExtraction.info(message: message, raw: event.data, batchIndex: nil, request: nil)
            info.session_id = self.context.strings.sessionID
            info.protocol_version = self.context.strings.protocolVersion
            if event.isReplayed { info.flags |= MCPGATE_MSG_REPLAYED }
            return info
        }
        var dataString = mcpgate_str.empty
        if let base = event.data.baseAddress, event.data.count > 0 {
            dataString = mcpgate_str(ptr: base.assumingMemoryBound(to: CChar.self), len: event.data.count)
        }
        return withExtendedLifetime((eventType, eventID)) { () -> FilterDecision in
            let run: (UnsafePointer<mcpgate_rpc_message>?) -> FilterDecision = { messagePointer in
                var info = mcpgate_sse_event(
                    struct_size: UInt32(MemoryLayout<mcpgate_sse_event>.size), event: mcpgate_str(eventType),
                    id: eventID.map { mcpgate_str($0) } ?? .empty, data: dataString, message: messagePointer,
                    flags: event.isReplayed ? MCPGATE_MSG_REPLAYED : 0)
                for index in self.responseRange.reversed() {
                    guard let hook = self.chain.instances[index].descriptor.pointee.on_sse_event else { continue }
                    let config = self.chain.instances[index].config
                    if let decision = self.run(
                        .sseEvent, index: index,
                        { state, request, decision in
                            hook(config, state, request, &info, decision)
                        })
                    {
                        return decision
                    }
                }
                return .continue
            }
            if var message = messageInfo {
                return withUnsafePointer(to: &message) { run($0) }
            }
            return run(nil)
        }
    }

    /// Runs `on_response_headers` in reverse chain order, just before the response head goes to the
    /// client: for upstream responses, gateway errors and plugin replies alike. Returns every queued
    /// response header edit (from any hook of this request) for the host to apply in order.
    /// Plugins cannot replace the response here; their failures are logged and counted only.
    public func onResponseHeaders(_ response: FilterHTTPResponse) -> [FilterHeaderEdit] {
        guard !finished else { return context.responseEdits }
        if chain.wantsResponseHeaders {
            context.responseHeaders = response.headers
            var info = mcpgate_http_response(
                struct_size: UInt32(MemoryLayout<mcpgate_http_response>.size),
                status: UInt32(clamping: response.status), origin: response.origin.rawValue,
                flags: response.isEventStream ? MCPGATE_RESPONSE_SSE : 0)
            for index in responseRange.reversed() {
                guard let hook = chain.instances[index].descriptor.pointee.on_response_headers else { continue }
                let config = chain.instances[index].config
                _ = run(.responseHeaders, index: index) { state, request, _ in
                    hook(config, state, request, &info)
                }
            }
            context.responseHeaders = nil
        }
        return context.responseEdits
    }

    /// Ends the request: `on_complete` of every instance whose state was created (reverse order), then
    /// `request_destroy` of each (reverse order), exactly once. Call when the response has ended or the
    /// client went away. Later calls do nothing.
    public func finish(_ completion: FilterCompletion) {
        guard !finished else { return }
        finished = true
        var flags: UInt32 = 0
        if completion.clientDisconnected { flags |= MCPGATE_COMPLETE_CLIENT_GONE }
        if stoppedAt != nil { flags |= MCPGATE_COMPLETE_REJECTED }
        if completion.failed { flags |= MCPGATE_COMPLETE_FAILED }
        let now = chain.services.clock.monotonicNanoseconds()
        let duration = now > startedAt ? now - startedAt : 0
        for index in slots.indices.reversed() where slots[index].created {
            guard let hook = chain.instances[index].descriptor.pointee.on_complete else { continue }
            var info = mcpgate_completion(
                struct_size: UInt32(MemoryLayout<mcpgate_completion>.size),
                http_status: UInt32(clamping: completion.httpStatus), flags: flags,
                hooks_run: slots[index].hooksRun, duration_ns: duration)
            context.currentHook = .complete
            hook(chain.instances[index].config, slots[index].state, context.opaque, &info)
            context.endHook()
        }
        for index in slots.indices.reversed() where slots[index].destroyable {
            slots[index].destroyable = false
            if let destroy = chain.instances[index].descriptor.pointee.request_destroy {
                destroy(chain.instances[index].config, slots[index].state)
            }
            slots[index].state = nil
        }
    }

    // MARK: - Attributes and edits

    /// An attribute's text: a string attribute's value, a JSON string's value, or compact JSON text.
    public func attribute(_ key: String) -> String? {
        context.attributes[key]?.text.string
    }

    /// The keys of every attribute set so far.
    public var attributeKeys: [String] { Array(context.attributes.keys) }

    /// `mcpgate.principal`, as set by an auth filter.
    public var principal: String? { attribute(MCPGATE_ATTR_PRINCIPAL) }

    /// Sets a string attribute from the host (for example what the router learnt). Returns false when
    /// the key is read-only.
    @discardableResult
    public func setAttribute(_ key: String, _ value: String, readOnly: Bool = false) -> Bool {
        if context.attributes[key]?.readOnly == true { return false }
        context.attributes[key] = RequestAttribute(string: value, readOnly: readOnly)
        return true
    }

    /// Header edits plugins queued for the upstream request (apply before forwarding).
    public var upstreamHeaderEdits: [FilterHeaderEdit] { context.upstreamEdits }

    /// Header edits plugins queued for the client response so far (`onResponseHeaders` returns them too).
    public var responseHeaderEdits: [FilterHeaderEdit] { context.responseEdits }

    /// The session id plugins see; update it when the gateway issues one (after `initialize`).
    public var sessionID: String? {
        get { context.http.sessionID }
        set {
            context.http.sessionID = newValue
            context.invalidateStrings()
        }
    }

    /// The protocol version plugins see; update it once negotiated.
    public var protocolVersion: String? {
        get { context.http.protocolVersion }
        set {
            context.http.protocolVersion = newValue
            context.invalidateStrings()
        }
    }

    /// Whether a filter stopped the request path (rejected or answered).
    public var wasStoppedByFilter: Bool { stoppedAt != nil }

    // MARK: - Running one hook

    /// Response hooks run for the instances the request reached: all, or up to the one that stopped it.
    private var responseRange: Range<Int> {
        0..<(stoppedAt.map { $0 + 1 } ?? chain.instances.count)
    }

    private func ensureState(_ index: Int) -> String? {
        if slots[index].created { return nil }
        if slots[index].failed { return "request_new failed earlier in this request" }
        let instance = chain.instances[index]
        if let requestNew = instance.descriptor.pointee.request_new {
            var state: UnsafeMutableRawPointer? = nil
            context.currentHook = .requestNew
            let status = requestNew(instance.config, context.opaque, &state)
            context.endHook()
            guard status == MCPGATE_OK else {
                slots[index].failed = true
                return "request_new returned status \(status)"
            }
            slots[index].state = state
            slots[index].destroyable = true
        }
        slots[index].created = true
        return nil
    }

    /// Calls one hook of one instance and turns its action into a decision; nil means continue.
    private func run(
        _ hook: FilterHook, index: Int,
        _ call: (UnsafeMutableRawPointer?, OpaquePointer, UnsafeMutablePointer<mcpgate_decision>) -> mcpgate_action
    ) -> FilterDecision? {
        if let problem = ensureState(index) {
            return failure(index: index, hook: .requestNew, reason: problem)
        }
        var decision = mcpgate_decision()
        decision.struct_size = UInt32(MemoryLayout<mcpgate_decision>.size)
        context.currentHook = hook
        let action = call(slots[index].state, context.opaque, &decision)
        context.endHook()
        slots[index].hooksRun |= hook.bit
        defer {
            if let data = decision.data { json_decref(data) }
            if let result = decision.result { json_decref(result) }
        }
        if action == MCPGATE_CONTINUE { return nil }
        return interpret(action, decision, hook: hook, index: index)
    }

    private func interpret(_ action: mcpgate_action, _ d: mcpgate_decision, hook: FilterHook, index: Int) -> FilterDecision? {
        guard action != MCPGATE_ERROR else { return failure(index: index, hook: hook, reason: "returned MCPGATE_ERROR") }
        guard hook.allows(action) else {
            return failure(index: index, hook: hook, reason: "returned action \(action), which \(hook.rawValue) may not return")
        }
        let name = chain.instances[index].name
        if d.http_status != 0 && !(100...599).contains(d.http_status) {
            return failure(index: index, hook: hook, reason: "decision has invalid HTTP status \(d.http_status)")
        }
        switch action {
        case MCPGATE_REJECT:
            return .reject(
                FilterRejection(
                    httpStatus: d.http_status == 0 ? 403 : Int(d.http_status),
                    rpcCode: d.rpc_code == 0 ? -32600 : Int(d.rpc_code),
                    message: d.message.len == 0 ? "Request rejected by policy" : d.message.string,
                    dataJSON: d.data.flatMap { JSONValueRef(UnsafeMutablePointer(mutating: $0)).serializedText() },
                    instance: name))
        case MCPGATE_RESPOND:
            if hook == .httpRequestHeaders {
                let body = d.body.bytes
                let contentType = d.content_type.len > 0 ? d.content_type.string : (body.isEmpty ? nil : "application/json")
                return .respond(
                    FilterReply(
                        httpStatus: d.http_status == 0 ? 200 : Int(d.http_status), contentType: contentType, body: body,
                        instance: name))
            }
            let body: [UInt8]
            if let result = d.result {
                body = Array((JSONValueRef(UnsafeMutablePointer(mutating: result)).serializedText() ?? "null").utf8)
            } else {
                body = d.body.bytes
            }
            guard !body.isEmpty else {
                return failure(index: index, hook: hook, reason: "RESPOND without a result (set decision->result or ->body)")
            }
            return .respond(
                FilterReply(
                    httpStatus: d.http_status == 0 ? 200 : Int(d.http_status), contentType: "application/json", body: body,
                    instance: name))
        case MCPGATE_DROP:
            return .drop
        default:
            return failure(index: index, hook: hook, reason: "returned unknown action \(action)")
        }
    }

    private func failure(index: Int, hook: FilterHook, reason: String) -> FilterDecision? {
        let instance = chain.instances[index]
        let ignored = hook == .responseHeaders
        let consequence = ignored ? "the response is unchanged" : (instance.failOpen ? "failOpen: continuing" : "failing closed")
        chain.services.logSink.log(
            .error, plugin: instance.plugin.name, instance: instance.name, message: "\(hook.rawValue) \(reason); \(consequence)")
        chain.services.metrics.recordPluginError(plugin: instance.plugin.name, instance: instance.name, hook: hook.rawValue)
        if ignored || instance.failOpen { return nil }
        return .reject(
            FilterRejection(
                httpStatus: 500, rpcCode: -32603, message: "Internal error", instance: instance.name, isPluginFailure: true))
    }
}
