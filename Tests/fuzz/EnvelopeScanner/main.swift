import CJansson
import NIOCore

@testable import MCPGateUpstream

/// libFuzzer target: a stdio upstream's output, framed into lines and each line's envelope read, checked
/// against jansson.
///
/// - The input's first byte picks a chunk size (1 to 64); the rest is the stdout stream. It goes through
///   `LineFramer` (maxLineBytes 256) in those chunks, pulled line by line, and must give the lines (and the
///   refusal of an over-long one) that a plain split of the whole stream gives.
/// - Every line, and the whole stream as one line, goes through `JSONRPCEnvelopeScanner.scan`:
///   - whitespace around a line changes nothing;
///   - when jansson (duplicate keys refused, NUL allowed in strings) accepts the line as an object at most 64
///     deep, the scanner's envelope is the one the tree gives under the scanner's documented rules;
///   - when the scanner accepts a line, jansson accepts it too, or refuses it only for what the scanner allows
///     on purpose: a lone surrogate escape, an integer or real out of jansson's range, a repeated key the scanner
///     does not read, a NUL in a key.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEnvelopeScanner(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: start, count: count)
    guard let first = input.first else { return 0 }
    let body = Array(input.dropFirst())
    let framed = frame(body, chunkSize: Int(first % 64) + 1)
    let expected = splitLines(body)
    precondition(
        framed.lines == expected.lines && framed.refused == expected.refused,
        "framing differs from a plain split: \(framed) vs \(expected)")
    for line in framed.lines { check(line) }
    check(body)
    return 0
}

// SwiftPM links an executable target's entry point as `<module>_main` (and aliases `main` to it), so the
// target provides that symbol and hands control to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@_cdecl("FuzzEnvelopeScanner_main")
public func fuzzEnvelopeScannerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return runFuzzerDriver(&argc, &argv) { data, count in
        guard let data else { return 0 }
        return fuzzEnvelopeScanner(UnsafeRawPointer(data), count)
    }
}

private let maxLineBytes = 256

/// What framing gave: the lines, then whether a line over the bound stopped it.
private struct Framed: Equatable {
    var lines: [[UInt8]] = []
    var refused = false
}

private func frame(_ body: [UInt8], chunkSize: Int) -> Framed {
    var framer = LineFramer(maxLineBytes: maxLineBytes)
    var framed = Framed()
    var offset = 0
    while offset < body.count {
        let end = min(body.count, offset + chunkSize)
        framer.append(ByteBuffer(bytes: body[offset..<end]))
        offset = end
        do {
            while let line = try framer.nextLine() { framed.lines.append(Array(line.readableBytesView)) }
        } catch {
            framed.refused = true
            return framed
        }
    }
    return framed
}

/// The framing rules applied to the whole stream at once.
private func splitLines(_ body: [UInt8]) -> Framed {
    var framed = Framed()
    var pieces = body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
    let unfinished = pieces.removeLast()
    for piece in pieces {
        let line = piece.last == UInt8(ascii: "\r") ? piece.dropLast() : piece
        if line.count > maxLineBytes {
            framed.refused = true
            return framed
        }
        if !line.isEmpty { framed.lines.append(Array(line)) }
    }
    if unfinished.count > maxLineBytes + 1 || (unfinished.count == maxLineBytes + 1 && unfinished.last != UInt8(ascii: "\r")) {
        framed.refused = true
    }
    return framed
}

private func check(_ line: [UInt8]) {
    let envelope = JSONRPCEnvelopeScanner.scan(ByteBuffer(bytes: line))
    let padded = JSONRPCEnvelopeScanner.scan(ByteBuffer(bytes: Array(" \t\r\n".utf8) + line + Array("\r\n \t".utf8)))
    precondition(padded == envelope, "whitespace around the line changed its envelope: \(String(describing: padded))")

    var error = json_error_t()
    let flags = Int(JSON_REJECT_DUPLICATES) | Int(JSON_ALLOW_NUL)
    let root = line.withUnsafeBytes { raw in
        json_loadb(raw.baseAddress?.assumingMemoryBound(to: CChar.self), raw.count, flags, &error)
    }
    guard let root else {
        guard envelope != nil else { return }
        let text = withUnsafeBytes(of: &error.text) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let allowed = ["invalid Unicode '", "too big", "real number overflow", "duplicate object key", "NUL byte in object key"]
        precondition(allowed.contains { text.hasPrefix($0) }, "the scanner accepted what jansson refused (\(text))")
        return
    }
    defer { json_decref(root) }
    guard depth(root) <= 64 else {
        precondition(envelope == nil, "the scanner accepted a line deeper than 64")
        return
    }
    let expected = envelopeOf(root)
    precondition(envelope == expected, "scanner \(String(describing: envelope)) vs jansson \(String(describing: expected))")
}

private func depth(_ value: UnsafeMutablePointer<json_t>) -> Int {
    switch value.pointee.type {
    case JSON_OBJECT:
        var deepest = 0
        var iterator = json_object_iter(value)
        while let current = iterator {
            if let member = json_object_iter_value(current) { deepest = max(deepest, depth(member)) }
            iterator = json_object_iter_next(value, current)
        }
        return deepest + 1
    case JSON_ARRAY:
        var deepest = 0
        for index in 0..<json_array_size(value) {
            if let element = json_array_get(value, index) { deepest = max(deepest, depth(element)) }
        }
        return deepest + 1
    default:
        return 0
    }
}

/// An id or progress token as the scanner reads it: nil when the value's type is not an id's at all.
private enum TreeID {
    case absent
    case uncorrelatable
    case id(JSONRPCID)
}

private func treeID(_ value: UnsafeMutablePointer<json_t>?) -> TreeID? {
    guard let value else { return .absent }
    switch value.pointee.type {
    case JSON_STRING: return .id(.string(string(value)))
    case JSON_INTEGER: return .id(.int(Int64(json_integer_value(value))))
    case JSON_REAL, JSON_NULL: return .uncorrelatable
    default: return nil
    }
}

private func string(_ value: UnsafeMutablePointer<json_t>) -> String {
    guard let bytes = json_string_value(value) else { return "" }
    let buffer = UnsafeRawBufferPointer(start: bytes, count: json_string_length(value))
    return String(decoding: buffer, as: UTF8.self)
}

/// The envelope `JSONRPCEnvelopeScanner` documents, read from jansson's tree.
private func envelopeOf(_ root: UnsafeMutablePointer<json_t>) -> JSONRPCEnvelope? {
    guard root.pointee.type == JSON_OBJECT else { return nil }
    guard let id = treeID(json_object_get(root, "id")) else { return nil }
    let hasResult = json_object_get(root, "result") != nil
    let hasError = json_object_get(root, "error") != nil
    let correlated: JSONRPCID? = if case .id(let value) = id { value } else { nil }
    if let methodValue = json_object_get(root, "method") {
        guard methodValue.pointee.type == JSON_STRING, !hasResult, !hasError else { return nil }
        let method = string(methodValue)
        var token: JSONRPCID?
        if method == "notifications/progress", let params = json_object_get(root, "params"), params.pointee.type == JSON_OBJECT,
            case .id(let value)? = treeID(json_object_get(params, "progressToken"))
        {
            token = value
        }
        if case .absent = id { return JSONRPCEnvelope(kind: .notification, method: method, progressToken: token) }
        return JSONRPCEnvelope(kind: .request, id: correlated, method: method, progressToken: token)
    }
    guard hasResult || hasError else { return nil }
    return JSONRPCEnvelope(kind: .response, id: correlated)
}
