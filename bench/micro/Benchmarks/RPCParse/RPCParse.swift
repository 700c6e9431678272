import Benchmark
import CJanssonMicro

/// JSON-RPC parse as the gateway does it on every message it relays: `json_loadb` of the whole body, then
/// the envelope classification of `RPCMessage.classify` (Sources/Host/MCP/RPCMessage.swift), then the
/// document's release. `RPCMessage` is internal to MCPGate, so this is a line-for-line copy of its
/// `parse`/`classify` over the same jansson calls (object lookups, the `String`s it builds for `jsonrpc`
/// and `method`); keep the two in step. Each iteration runs 1,000 parses; figures are per parse.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        scalingFactor: .kilo,
        maxDuration: .seconds(3),
        maxIterations: 10_000
    )

    let meta = #""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"mcp","version":"0.1.0"},"io.modelcontextprotocol/clientCapabilities":{"elicitation":{"form":{},"url":{}}}}"#
    let tool = #"{"name":"search_issues","description":"Search the issue tracker by free text, label and state","inputSchema":{"type":"object","properties":{"q":{"type":"string"},"label":{"type":"string"},"state":{"type":"string","enum":["open","closed"]}},"required":["q"]}}"#
    let messages: [(String, String)] = [
        ("handshake tools/call request", #"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":3}}}"#),
        ("2026-07-28 tools/call request", #"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":3},\#(meta)}}"#),
        ("tools/call result", #"{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"5"}],"isError":false,"structuredContent":{"result":5}}}"#),
        ("tools/list result, 20 tools", #"{"jsonrpc":"2.0","id":3,"result":{"tools":["# + Array(repeating: tool, count: 20).joined(separator: ",") + "]}}"),
    ]

    for (name, text) in messages {
        let bytes = Array(text.utf8)
        precondition(RPCParse.parse(bytes) != nil, "\(name) must classify")
        Benchmark("RPCMessage.parse, \(name) (\(bytes.count) B)") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(RPCParse.parse(bytes))
            }
        }
    }
}

/// The copy of `RPCMessage.parse` + `classify`: returns the kind, or nil where the gateway answers an error.
enum RPCParse {
    enum Kind { case request, notification, result, error }

    struct Value {
        let pointer: UnsafeMutablePointer<json_t>
        var type: json_type { pointer.pointee.type }
        var isObject: Bool { type == JSON_OBJECT }
        var isString: Bool { type == JSON_STRING }
        var isInteger: Bool { type == JSON_INTEGER }
        subscript(key: String) -> Value? {
            guard isObject, let child = json_object_get(pointer, key) else { return nil }
            return Value(pointer: child)
        }
        var string: String? {
            guard isString, let chars = json_string_value(pointer) else { return nil }
            let length = json_string_length(pointer)
            return chars.withMemoryRebound(to: UInt8.self, capacity: length) {
                String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
            }
        }
    }

    /// The parsed document, released like `JSONDocument` (a class: the gateway allocates one per message).
    final class Document {
        let root: UnsafeMutablePointer<json_t>
        init(_ root: UnsafeMutablePointer<json_t>) { self.root = root }
        deinit { json_decref(root) }
    }

    struct Message {
        let document: Document
        let kind: Kind
        let method: String?
    }

    static func parse(_ bytes: [UInt8]) -> Message? {
        bytes.withUnsafeBytes { raw -> Message? in
            var error = json_error_t()
            guard let base = raw.baseAddress,
                let value = json_loadb(base.assumingMemoryBound(to: CChar.self), raw.count, Int(JSON_DECODE_ANY), &error)
            else { return nil }
            return classify(Document(value))
        }
    }

    static func classify(_ document: Document) -> Message? {
        let root = Value(pointer: document.root)
        if root.type == JSON_ARRAY { return nil }
        guard root.isObject else { return nil }
        guard root["jsonrpc"]?.string == "2.0" else { return nil }
        let id = root["id"]
        if let id, !(id.isString || id.isInteger) { return nil }
        if let methodValue = root["method"] {
            guard let method = methodValue.string, !method.isEmpty else { return nil }
            let params = root["params"]
            if let params, !params.isObject { return nil }
            return Message(document: document, kind: id == nil ? .notification : .request, method: method)
        }
        let hasResult = root["result"] != nil
        let hasError = root["error"] != nil
        guard hasResult != hasError else { return nil }
        if hasError, !(root["error"]?.isObject ?? false) { return nil }
        return Message(document: document, kind: hasResult ? .result : .error, method: nil)
    }
}
