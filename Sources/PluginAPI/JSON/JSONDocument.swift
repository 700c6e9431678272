import CJansson
import CMCPGate
import Synchronization

/// One parsed JSON value owned through jansson's reference count: the form in which the gateway holds an
/// MCP message (and lends it to filter plugins as `const json_t *`), and in which the chain holds a plugin's
/// config and the checker its exchanges file.
///
/// Owns exactly one reference to `root`, released when the document goes. Not `Sendable`: a document lives on
/// the event loop (or the thread) that parsed it; `JSONValueRef`s into it are valid only while it lives.
public final class JSONDocument {
    /// The root value; one reference owned by this object.
    public let root: UnsafeMutablePointer<json_t>

    /// About how many bytes the tree holds, when it is large enough to be worth a memory trim once freed.
    private var approximateBytes = 0

    /// Takes over one reference to `root`.
    public init(owning root: UnsafeMutablePointer<json_t>) {
        self.root = root
    }

    deinit {
        json_decref(root)
        LargeFreeTally.note(bytes: approximateBytes)
    }

    /// Parses exactly one JSON text (UTF-8, whole buffer; trailing garbage is an error).
    /// Returns nil with jansson's message when the bytes are not JSON, or when they hold more values than
    /// `JSONPrescan.nodeLimit` (refused before any tree is built). Integers outside int64 (valid JSON that
    /// jansson refuses) are parsed as the nearest real; see `JSONPrescan.approximatingBigIntegers`.
    /// Duplicate keys are allowed (the last one wins), as the MCP messages the gateway relays need.
    public static func parse(
        _ bytes: UnsafeRawBufferPointer, nodeLimit: Int = JSONPrescan.nodeLimit.load(ordering: .relaxed)
    ) -> Result<JSONDocument, JSONParseFailure> {
        let limit = nodeLimit
        let prescan = JSONPrescan(bytes, limit: limit)
        if prescan.nodes > limit {
            return .failure(JSONParseFailure(message: "more than \(limit) JSON values", position: 0))
        }
        let parsed =
            prescan.bigIntegers.isEmpty
            ? parseExactly(bytes) : prescan.approximatingBigIntegers(bytes).withUnsafeBytes { parseExactly($0) }
        if case .success(let document) = parsed {
            // ~100 bytes per value (jansson node + hash table slot + malloc overhead) plus the strings.
            document.approximateBytes = prescan.nodes * 100 + bytes.count
        }
        return parsed
    }

    /// jansson's parse of the whole buffer.
    private static func parseExactly(_ bytes: UnsafeRawBufferPointer) -> Result<JSONDocument, JSONParseFailure> {
        var error = json_error_t()
        guard let base = bytes.baseAddress,
            let value = json_loadb(base.assumingMemoryBound(to: CChar.self), bytes.count, Int(JSON_DECODE_ANY), &error)
        else {
            let message = withUnsafeBytes(of: &error.text) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            return .failure(
                JSONParseFailure(
                    message: message.isEmpty ? "empty body" : message, position: Int(error.position), line: Int(error.line),
                    column: Int(error.column)))
        }
        return .success(JSONDocument(owning: value))
    }

    /// Parses JSON text that people write (a policy's config, an exchanges file): any value, duplicate keys
    /// refused, no limit on the number of values. The text ends at its first NUL, as a C string does.
    public static func parseRejectingDuplicates(_ text: String) -> Result<JSONDocument, JSONParseFailure> {
        var error = json_error_t()
        let flags = Int(JSON_REJECT_DUPLICATES) | Int(JSON_DECODE_ANY)
        guard let parsed = text.withCString({ json_loads($0, flags, &error) }) else {
            let message = withUnsafeBytes(of: &error.text) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            return .failure(
                JSONParseFailure(
                    message: message, position: Int(error.position), line: Int(error.line), column: Int(error.column)))
        }
        return .success(JSONDocument(owning: parsed))
    }

    /// The compact serialization of `root` (what is sent when a message had to be changed).
    public func serialized() -> [UInt8] {
        JSONValueRef(root).serialized()
    }
}
