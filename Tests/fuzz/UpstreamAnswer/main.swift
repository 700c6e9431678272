import NIOCore
import PluginAPI

@testable import MCPGate
@testable import MCPGateUpstream

/// libFuzzer target: the bytes of an upstream's answer body, read the two ways the gateway reads them.
///
/// - As a JSON answer: the whole body through `RPCMessage.parse` (jansson, then the JSON-RPC envelope check),
///   and every field the relay reads from a message.
/// - As an SSE answer: the body through `SSEFramer` in chunks of 1 to 64 bytes (the input's first byte picks
///   the size), each event's data through `RPCMessage.parse`. The same body fed in one piece must frame into
///   the same events: framing may not depend on where the chunks were cut (the framer resumes scanning where
///   it stopped; this is the oracle for that).
///
/// `maxEventBytes` is 1024, so the too-large path is reached by small inputs.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzUpstreamAnswer(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: start, count: count)
    guard let first = input.first else { return 0 }
    let body = UnsafeRawBufferPointer(rebasing: input.dropFirst())
    readMessage(body)
    let pieces = frame(body, chunkSize: Int(first % 64) + 1)
    let whole = frame(body, chunkSize: max(1, body.count))
    if let pieces, let whole {
        precondition(pieces == whole, "SSE framing depends on how the body was chunked: \(pieces) vs \(whole)")
    }
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

@_cdecl("FuzzUpstreamAnswer_main")
public func fuzzUpstreamAnswerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return runFuzzerDriver(&argc, &argv) { data, count in
        guard let data else { return 0 }
        return fuzzUpstreamAnswer(UnsafeRawPointer(data), count)
    }
}

/// One framed event, comparable.
private struct FramedEvent: Equatable {
    var raw: [UInt8]
    var data: [UInt8]?
    var eventType: String?
    var id: String?
    var retry: String?
}

/// The events `body` frames into when fed in chunks of `chunkSize`; nil when the framer refused it.
private func frame(_ body: UnsafeRawBufferPointer, chunkSize: Int) -> [FramedEvent]? {
    var framer = SSEFramer(maxEventBytes: 1024)
    var events: [FramedEvent] = []
    var offset = 0
    while offset < body.count {
        let end = min(body.count, offset + chunkSize)
        let chunk = ByteBuffer(bytes: UnsafeRawBufferPointer(rebasing: body[offset..<end]))
        offset = end
        guard let framed = try? framer.feed(chunk) else { return nil }
        for event in framed {
            if let data = event.data { data.withUnsafeReadableBytes { readMessage($0) } }
            events.append(
                FramedEvent(
                    raw: Array(event.raw.readableBytesView), data: event.data.map { Array($0.readableBytesView) },
                    eventType: event.eventType, id: event.id, retry: event.retry))
        }
    }
    return events
}

/// Parses one JSON-RPC message and reads what the relay reads from it.
private func readMessage(_ bytes: UnsafeRawBufferPointer) {
    guard case .success(let message) = RPCMessage.parse(bytes) else { return }
    _ = message.idJSON
    _ = message.targetName
    _ = message.meta?.isObject
    _ = message.result?.isObject
    _ = message.method
}
