import CJansson
import CMCPGate

/// Builds the `mcpgate_rpc_message` a hook receives from a parsed message: kind, method, id, target
/// and params are found in the jansson tree (no copies: the strings point into it).
enum RPCMessageExtraction {
    /// A host string pointing at a jansson string's storage, or empty.
    static func string(_ value: UnsafeMutablePointer<json_t>?) -> mcpgate_str {
        guard let value, value.pointee.type == JSON_STRING, let chars = json_string_value(value) else { return .empty }
        return mcpgate_str(ptr: chars, len: json_string_length(value))
    }

    /// Fills everything but session and protocol version. `request`, when given, supplies method and
    /// target for a response.
    static func info(
        message: UnsafePointer<json_t>, raw: UnsafeRawBufferPointer, batchIndex: Int?,
        request: UnsafePointer<json_t>?
    ) -> mcpgate_rpc_message {
        var rawString = mcpgate_str.empty
        if let base = raw.baseAddress, raw.count > 0 {
            rawString = mcpgate_str(ptr: base.assumingMemoryBound(to: CChar.self), len: raw.count)
        }
        var flags: UInt32 = 0
        if batchIndex != nil { flags |= MCPGATE_MSG_IN_BATCH }
        let id = json_object_get(message, "id")
        let methodValue = json_object_get(message, "method")
        var kind: Int32
        var method = mcpgate_str.empty
        var params: UnsafeMutablePointer<json_t>?
        var targetKind = MCPGATE_TARGET_NONE
        var target = mcpgate_str.empty
        if methodValue != nil {
            kind = (id == nil) ? MCPGATE_RPC_NOTIFICATION : MCPGATE_RPC_REQUEST
            method = string(methodValue)
            params = json_object_get(message, "params")
            (targetKind, target) = Self.target(method: methodValue, params: params)
        } else {
            if let error = json_object_get(message, "error") {
                kind = MCPGATE_RPC_ERROR
                params = error
            } else {
                kind = MCPGATE_RPC_RESULT
                params = json_object_get(message, "result")
            }
            if let request {
                let requestMethod = json_object_get(request, "method")
                method = string(requestMethod)
                (targetKind, target) = Self.target(method: requestMethod, params: json_object_get(request, "params"))
            }
        }
        return mcpgate_rpc_message(
            struct_size: UInt32(MemoryLayout<mcpgate_rpc_message>.size),
            kind: kind,
            method: method,
            id: id.map { UnsafePointer($0) },
            target_kind: targetKind,
            target: target,
            session_id: .empty,
            protocol_version: .empty,
            message: message,
            params: params.map { UnsafePointer($0) },
            raw: rawString,
            batch_index: UInt32(truncatingIfNeeded: batchIndex ?? 0),
            flags: flags)
    }

    private static func target(
        method: UnsafeMutablePointer<json_t>?, params: UnsafeMutablePointer<json_t>?
    ) -> (Int32, mcpgate_str) {
        guard let method, method.pointee.type == JSON_STRING, let chars = json_string_value(method), let params else {
            return (MCPGATE_TARGET_NONE, .empty)
        }
        switch String(cString: chars) {
        case "tools/call":
            return (MCPGATE_TARGET_TOOL, string(json_object_get(params, "name")))
        case "prompts/get":
            return (MCPGATE_TARGET_PROMPT, string(json_object_get(params, "name")))
        case "resources/read", "resources/subscribe", "resources/unsubscribe":
            return (MCPGATE_TARGET_RESOURCE, string(json_object_get(params, "uri")))
        default:
            return (MCPGATE_TARGET_NONE, .empty)
        }
    }
}
