import CJansson
import CMCPGate

/// A parsed exchanges file; owns the jansson tree the exchanges borrow from.
final class RecordedExchangeSet {
    /// The parsed file; the exchanges' messages point into it, so it lives as long as they do.
    private let document: JSONDocument
    let exchanges: [RecordedExchange]

    /// Parses the exchanges format; the error says what and where.
    init(json text: String) throws(RecordedExchangeError) {
        let document: JSONDocument
        switch JSONDocument.parseRejectingDuplicates(text) {
        case .success(let parsed): document = parsed
        case .failure(let error): throw RecordedExchangeError(message: "exchanges are not valid JSON: \(error)")
        }
        guard let list = json_object_get(document.root, "exchanges"), list.pointee.type == JSON_ARRAY else {
            throw RecordedExchangeError(message: "exchanges: expected an object with an \"exchanges\" array")
        }
        var exchanges: [RecordedExchange] = []
        for index in 0..<json_array_size(list) {
            guard let item = json_array_get(list, index), item.pointee.type == JSON_OBJECT else {
                throw RecordedExchangeError(message: "exchanges[\(index)]: expected an object")
            }
            exchanges.append(try RecordedExchangeSet.exchange(item, path: "exchanges[\(index)]"))
        }
        self.document = document
        self.exchanges = exchanges
    }

    private static func strings(_ object: UnsafeMutablePointer<json_t>?, path: String) throws(RecordedExchangeError) -> [(String, String)] {
        guard let object else { return [] }
        guard object.pointee.type == JSON_OBJECT else { throw RecordedExchangeError(message: "\(path): expected an object of strings") }
        var pairs: [(String, String)] = []
        var iterator = json_object_iter(object)
        while let current = iterator {
            guard let key = json_object_iter_key(current), let value = json_object_iter_value(current),
                value.pointee.type == JSON_STRING, let text = json_string_value(value)
            else { throw RecordedExchangeError(message: "\(path): expected string values") }
            pairs.append((String(cString: key), String(cString: text)))
            iterator = json_object_iter_next(object, current)
        }
        return pairs
    }

    private static func messages(_ array: UnsafeMutablePointer<json_t>?, path: String) throws(RecordedExchangeError) -> [RecordedExchange
        .Message]
    {
        guard let array else { return [] }
        guard array.pointee.type == JSON_ARRAY else {
            throw RecordedExchangeError(message: "\(path): expected an array of JSON-RPC messages")
        }
        var out: [RecordedExchange.Message] = []
        for index in 0..<json_array_size(array) {
            guard let message = json_array_get(array, index), message.pointee.type == JSON_OBJECT else {
                throw RecordedExchangeError(message: "\(path)[\(index)]: expected a JSON-RPC message object")
            }
            out.append(RecordedExchange.Message(json: message, raw: Array((JSONValueRef(message).serializedText() ?? "{}").utf8)))
        }
        return out
    }

    /// The string value of `object[key]` if it is a JSON string.
    private static func string(_ object: UnsafeMutablePointer<json_t>, _ key: String) -> String? {
        JSONValueRef(object)[key]?.string
    }

    private static func integer(_ object: UnsafeMutablePointer<json_t>, _ key: String) -> Int? {
        guard let value = json_object_get(object, key), value.pointee.type == JSON_INTEGER else { return nil }
        return Int(json_integer_value(value))
    }

    private static func exchange(_ item: UnsafeMutablePointer<json_t>, path: String) throws(RecordedExchangeError) -> RecordedExchange {
        let name = string(item, "name") ?? path
        let request = json_object_get(item, "request")
        let method = request.flatMap { string($0, "method") } ?? "POST"
        let requestPath = request.flatMap { string($0, "path") } ?? "/mcp"
        let headers = try strings(request.flatMap { json_object_get($0, "headers") }, path: "\(path).request.headers")
        let attributes = try strings(request.flatMap { json_object_get($0, "attributes") }, path: "\(path).request.attributes")
        let remote = request.flatMap { string($0, "remoteAddress") } ?? "127.0.0.1:50000"

        var events: [RecordedExchange.Event] = []
        if let list = json_object_get(item, "events") {
            guard list.pointee.type == JSON_ARRAY else { throw RecordedExchangeError(message: "\(path).events: expected an array") }
            for index in 0..<json_array_size(list) {
                guard let event = json_array_get(list, index), let data = json_object_get(event, "data"),
                    data.pointee.type == JSON_OBJECT
                else { throw RecordedExchangeError(message: "\(path).events[\(index)]: expected {\"data\": {JSON-RPC message}}") }
                events.append(
                    RecordedExchange.Event(
                        event: string(event, "event") ?? "message", id: string(event, "id"),
                        data: RecordedExchange.Message(json: data, raw: Array((JSONValueRef(data).serializedText() ?? "{}").utf8))))
            }
        }

        var expectation: RecordedExchange.Expectation? = nil
        if let expect = json_object_get(item, "expect") {
            if expect.pointee.type == JSON_STRING, let text = json_string_value(expect) {
                expectation = RecordedExchange.Expectation(decision: String(cString: text))
            } else if expect.pointee.type == JSON_OBJECT, let decision = string(expect, "decision") {
                expectation = RecordedExchange.Expectation(
                    decision: decision, httpStatus: integer(expect, "httpStatus"), rpcCode: integer(expect, "rpcCode"),
                    hook: string(expect, "hook"))
            } else {
                throw RecordedExchangeError(message: "\(path).expect: expected a decision name or {\"decision\": ...}")
            }
            let known = ["continue", "reject", "respond", "drop", "failure"]
            if let decision = expectation?.decision, !known.contains(decision) {
                throw RecordedExchangeError(
                    message: "\(path).expect: unknown decision \"\(decision)\" (one of \(known.joined(separator: ", ")))")
            }
        }

        return RecordedExchange(
            name: name,
            http: FilterHTTPRequest(method: method, path: requestPath, headers: headers, remoteAddress: remote),
            attributes: attributes,
            messages: try messages(json_object_get(item, "messages"), path: "\(path).messages"),
            responses: try messages(json_object_get(item, "responses"), path: "\(path).responses"),
            events: events,
            status: integer(item, "status") ?? 200,
            responseHeaders: try strings(json_object_get(item, "responseHeaders"), path: "\(path).responseHeaders"),
            isEventStream: json_is_true_value(json_object_get(item, "sse")),
            gatewayErrorStatus: json_object_get(item, "gatewayError").flatMap { integer($0, "status") },
            expectation: expectation)
    }

    private static func json_is_true_value(_ value: UnsafeMutablePointer<json_t>?) -> Bool {
        value?.pointee.type == JSON_TRUE
    }
}
