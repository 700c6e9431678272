import CJansson
import CMCPGate

/// One request attribute: a string or a JSON value, owned in C memory so plugins can borrow it.
/// Event-loop confined with its request.
final class RequestAttribute {
    enum Value {
        case string(CStringBuffer)
        /// Owned reference (decref'd on deinit) and its lazily made text form.
        case json(UnsafeMutablePointer<json_t>)
    }

    let value: Value
    let readOnly: Bool
    private var jsonText: CStringBuffer?

    init(string: String, readOnly: Bool) {
        value = .string(CStringBuffer(string))
        self.readOnly = readOnly
    }

    init(bytes: UnsafeRawBufferPointer, readOnly: Bool) {
        value = .string(CStringBuffer(bytes: bytes))
        self.readOnly = readOnly
    }

    /// Takes ownership of one reference to `json`.
    init(consuming json: UnsafeMutablePointer<json_t>, readOnly: Bool) {
        value = .json(json)
        self.readOnly = readOnly
    }

    deinit {
        if case .json(let json) = value {
            json_decref(json)
        }
    }

    /// The string form: the string itself, a JSON string's value, or compact JSON text.
    var text: CStringBuffer {
        switch value {
        case .string(let buffer):
            return buffer
        case .json(let json):
            if let jsonText { return jsonText }
            let made: CStringBuffer
            if json.pointee.type == JSON_STRING, let chars = json_string_value(json) {
                made = CStringBuffer(bytes: UnsafeRawBufferPointer(start: chars, count: json_string_length(json)))
            } else {
                made = CStringBuffer(JSONValueRef(json).serializedText() ?? "null")
            }
            jsonText = made
            return made
        }
    }
}
