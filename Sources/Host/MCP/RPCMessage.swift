import CJansson
import CMCPGate
import PluginAPI

/// One JSON-RPC 2.0 message from a client or an upstream, parsed once with jansson, with the fields the
/// gateway routes and applies policy on extracted up front. The raw bytes are kept so that an unchanged
/// message is forwarded exactly as it arrived.
///
/// Not `Sendable`: confined to the event loop of its exchange.
final class RPCMessage {
    enum Kind: Equatable {
        case request
        case notification
        /// A response with `result`.
        case result
        /// A response with `error`.
        case error
    }

    let document: JSONDocument
    let kind: Kind
    /// The `method` of a request or notification.
    let method: String?
    /// The `id` of a request or response (borrowed from `document`).
    let id: JSONValueRef?
    /// `params` of a request or notification.
    let params: JSONValueRef?

    private init(document: JSONDocument, kind: Kind, method: String?, id: JSONValueRef?, params: JSONValueRef?) {
        self.document = document
        self.kind = kind
        self.method = method
        self.id = id
        self.params = params
    }

    var root: JSONValueRef { JSONValueRef(document.root) }

    /// `params.name` (`tools/call`, `prompts/get`) or `params.uri` (`resources/read`): what `Mcp-Name` mirrors.
    var targetName: String? {
        guard let params else { return nil }
        switch method {
        case "tools/call", "prompts/get": return params["name"]?.string
        case "resources/read", "resources/subscribe", "resources/unsubscribe": return params["uri"]?.string
        default: return nil
        }
    }

    /// `params._meta` of a request or notification.
    var meta: JSONValueRef? { params?["_meta"] }

    /// `result` of a response.
    var result: JSONValueRef? { root["result"] }

    /// The id serialized as JSON (`1`, `"a"`), for errors the gateway writes itself; `null` when absent (and
    /// for an error response whose id is null).
    var idJSON: String {
        guard let id else { return "null" }
        return String(decoding: id.serialized(), as: UTF8.self)
    }

    /// Classifies a parsed body. Fails with the JSON-RPC reason when it is JSON but not one valid message
    /// (an array is a batch, which no supported revision lets a client send over Streamable HTTP any more).
    static func classify(_ document: JSONDocument) -> Result<RPCMessage, RPCEnvelopeError> {
        let root = JSONValueRef(document.root)
        if root.type == JSON_ARRAY {
            return .failure(RPCEnvelopeError(message: "Batches are not supported: send one JSON-RPC message per POST"))
        }
        guard root.isObject else {
            return .failure(RPCEnvelopeError(message: "The body must be a JSON-RPC 2.0 object"))
        }
        guard root["jsonrpc"]?.string == "2.0" else {
            return .failure(RPCEnvelopeError(message: "\"jsonrpc\" must be \"2.0\"", id: root["id"]))
        }
        let id = root["id"]
        if let id, !(id.isString || id.isInteger) {
            // JSON-RPC 2.0 §5: an error response has `"id": null` when the request's id could not be read (a
            // parse error, an invalid request). Only there is null an id.
            let nullIDError = id.isNull && root["method"] == nil && root["result"] == nil && root["error"] != nil
            guard nullIDError else {
                if id.type == JSON_REAL, let value = id.double, value.rounded() == value {
                    return .failure(RPCEnvelopeError(message: "\"id\" is an integer outside the signed 64-bit range the gateway relays"))
                }
                return .failure(RPCEnvelopeError(message: "\"id\" must be a string or an integer"))
            }
        }
        if let methodValue = root["method"] {
            guard let method = methodValue.string, !method.isEmpty else {
                return .failure(RPCEnvelopeError(message: "\"method\" must be a non-empty string", id: id))
            }
            let params = root["params"]
            if let params, !params.isObject {
                return .failure(RPCEnvelopeError(message: "\"params\" must be an object", id: id))
            }
            return .success(
                RPCMessage(document: document, kind: id == nil ? .notification : .request, method: method, id: id, params: params))
        }
        let hasResult = root["result"] != nil
        let hasError = root["error"] != nil
        guard hasResult != hasError else {
            return .failure(RPCEnvelopeError(message: "A JSON-RPC message needs \"method\", \"result\" or \"error\"", id: id))
        }
        if hasError, !(root["error"]?.isObject ?? false) {
            return .failure(RPCEnvelopeError(message: "\"error\" must be an object", id: id))
        }
        return .success(RPCMessage(document: document, kind: hasResult ? .result : .error, method: nil, id: id, params: nil))
    }

    /// Parses and classifies raw bytes.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> Result<RPCMessage, RPCParseError> {
        switch JSONDocument.parse(bytes) {
        case .failure(let failure):
            return .failure(.notJSON(failure))
        case .success(let document):
            return classify(document).mapError { .invalidEnvelope($0) }
        }
    }
}

/// Why a body that is JSON is not a JSON-RPC message.
struct RPCEnvelopeError: Error {
    var message: String
    /// The id when it could be read, to echo in the error.
    var idJSON: String = "null"

    init(message: String, id: JSONValueRef? = nil) {
        self.message = message
        if let id, id.isString || id.isInteger {
            self.idJSON = String(decoding: id.serialized(), as: UTF8.self)
        }
    }
}

enum RPCParseError: Error {
    case notJSON(JSONParseFailure)
    case invalidEnvelope(RPCEnvelopeError)
}
