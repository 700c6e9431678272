import CJansson
import CMCPGate
import MCPGateSession
import PluginAPI

/// The jansson building blocks of the results a federated route composes: capabilities merged, one
/// `initialize`-shaped result (capabilities merged, instructions joined, the gateway's own server info),
/// a JSON-RPC response around a result, and the 2026-07-28 stamp. The decisions of what goes in them live
/// in `InitializeMerger`, `ListMerger` and `DiscoverMerger`.
enum ResultMerger {
    static let serverName = "mcpgate"

    /// Merges capabilities: objects recursively, booleans OR-ed, other values from the first target.
    static func mergeCapabilities(into merged: UnsafeMutablePointer<json_t>, _ next: UnsafeMutablePointer<json_t>) {
        guard JSONValueRef(merged).isObject, JSONValueRef(next).isObject else { return }
        var iterator = json_object_iter(next)
        while let current = iterator {
            defer { iterator = json_object_iter_next(next, current) }
            guard let key = json_object_iter_key(current), let value = json_object_iter_value(current) else { continue }
            if let existing = json_object_get(merged, key) {
                let existingRef = JSONValueRef(existing)
                let valueRef = JSONValueRef(value)
                if existingRef.isObject && valueRef.isObject {
                    mergeCapabilities(into: existing, value)
                } else if existingRef.isBool, valueRef.bool == true {
                    json_object_set_new(merged, key, json_true())
                }
            } else if let copy = json_deep_copy(value) {
                json_object_set_new(merged, key, copy)
            }
        }
    }

    /// One `initialize` result for the client from every target's (in target order).
    static func initializeResult(_ results: [(target: String, result: JSONValueRef)], protocolVersion: String) -> JSONDocument {
        let merged = JSONAlloc.object()
        json_object_set_new(merged, "protocolVersion", json_string(protocolVersion))
        let capabilities = JSONAlloc.object()
        var instructions: [String] = []
        for (target, result) in results {
            if let caps = result["capabilities"] { mergeCapabilities(into: capabilities, caps.pointer) }
            if let text = result["instructions"]?.string, !text.isEmpty { instructions.append("[\(target)]\n\(text)") }
        }
        json_object_set_new(merged, "capabilities", capabilities)
        let info = JSONAlloc.object()
        json_object_set_new(info, "name", json_string(serverName))
        json_object_set_new(info, "version", json_string(MCPGateVersion.string))
        json_object_set_new(merged, "serverInfo", info)
        if !instructions.isEmpty {
            let text = instructions.joined(separator: "\n\n")
            json_object_set_new(merged, "instructions", json_stringn(text, text.utf8.count))
        }
        return JSONDocument(owning: merged)
    }

    /// A JSON-RPC response document `{"jsonrpc":"2.0","id":<id>,"result":<result>}` (takes `result`).
    static func response(id: JSONValueRef?, result: JSONDocument) -> JSONDocument {
        let response = JSONAlloc.object()
        json_object_set_new(response, "jsonrpc", json_string("2.0"))
        if let id {
            json_object_set(response, "id", id.pointer)
        } else {
            json_object_set_new(response, "id", json_null())
        }
        json_object_set(response, "result", result.root)
        return JSONDocument(owning: response)
    }

    /// Stamps what the 2026-07-28 revision requires on a result the gateway composed.
    static func stampModern(_ result: JSONValueRef, ttlMs: Int64?, cacheScope: String?) {
        json_object_set_new(result.pointer, "resultType", json_string("complete"))
        if let ttlMs { json_object_set_new(result.pointer, "ttlMs", json_integer(json_int_t(ttlMs))) }
        if let cacheScope { json_object_set_new(result.pointer, "cacheScope", json_string(cacheScope)) }
        let meta =
            result["_meta"]?.pointer
            ?? {
                let created = JSONAlloc.object()
                json_object_set_new(result.pointer, "_meta", created)
                return created
            }()
        let info = JSONAlloc.object()
        json_object_set_new(info, "name", json_string(serverName))
        json_object_set_new(info, "version", json_string(MCPGateVersion.string))
        json_object_set_new(meta, "io.modelcontextprotocol/serverInfo", info)
    }
}
