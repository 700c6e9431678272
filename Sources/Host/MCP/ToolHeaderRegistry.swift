import CJansson
import CMCPGate
import PluginAPI
import Synchronization

/// What the gateway has learned of each tool's `x-mcp-header` annotations from `tools/list` results that
/// passed through it, so it can check a 2026-07-28 `tools/call`'s `Mcp-Param-*` headers against the body.
/// A tool it has not seen yet is forwarded unchecked (the upstream validates it then).
///
/// Shared by every event loop; guarded by a mutex.
final class ToolHeaderRegistry: Sendable {
    private let tools = Mutex<[String: [String: [ToolParamHeader]]]>([:])

    /// The annotations known for `tool` of `target`, or nil when the tool has not been listed yet.
    func headers(target: String, tool: String) -> [ToolParamHeader]? {
        tools.withLock { $0[target]?[tool] }
    }

    /// Records every tool of one `tools/list` result page.
    func learn(target: String, toolsListResult result: JSONValueRef) {
        record(target: target, Self.annotations(toolsListResult: result))
    }

    /// Records what `annotations(toolsListResult:)` read from one page of `target`'s tools.
    func record(target: String, _ learned: [String: [ToolParamHeader]]) {
        guard !learned.isEmpty else { return }
        tools.withLock { all in
            all[target, default: [:]].merge(learned) { _, new in new }
        }
    }

    /// Tool name -> its `x-mcp-header` parameters, for every tool of one `tools/list` result page (a pure read).
    static func annotations(toolsListResult result: JSONValueRef) -> [String: [ToolParamHeader]] {
        guard let list = result["tools"], list.type == JSON_ARRAY else { return [:] }
        var learned: [String: [ToolParamHeader]] = [:]
        for index in 0..<json_array_size(list.pointer) {
            guard let tool = json_array_get(list.pointer, index).map(JSONValueRef.init),
                let name = tool["name"]?.string
            else { continue }
            var params: [ToolParamHeader] = []
            if let schema = tool["inputSchema"] {
                Self.collect(schema: schema, path: [], into: &params)
            }
            learned[name] = params
        }
        return learned
    }

    private static func collect(schema: JSONValueRef, path: [String], into params: inout [ToolParamHeader]) {
        guard let properties = schema["properties"], properties.isObject, path.count < 8 else { return }
        var iterator = json_object_iter(properties.pointer)
        while let current = iterator {
            defer { iterator = json_object_iter_next(properties.pointer, current) }
            guard let keyPointer = json_object_iter_key(current), let value = json_object_iter_value(current) else { continue }
            let key = String(cString: keyPointer)
            let property = JSONValueRef(value)
            if let token = property["x-mcp-header"]?.string {
                let type: ToolParamHeader.ValueType?
                switch property["type"]?.string {
                case "string": type = .string
                case "integer": type = .integer
                case "boolean": type = .boolean
                default: type = nil
                }
                if let type { params.append(ToolParamHeader(token: token, path: path + [key], type: type)) }
            } else if property["type"]?.string == "object" {
                collect(schema: property, path: path + [key], into: &params)
            }
        }
    }
}
