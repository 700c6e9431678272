import CJansson
import CMCPGate

/// One server-to-client SSE event that is not a response to a client request, as passed to
/// `FilterChainRequest.onSSEEvent`. Borrowed for the duration of the call.
public struct FilterSSEEvent {
    /// The event type ("message" when the server gave none).
    public var event: String
    /// The event id, if any.
    public var id: String?
    /// The raw `data` bytes (lines joined with "\n").
    public var data: UnsafeRawBufferPointer
    /// The parsed JSON-RPC message in `data`, if it is one (borrowed; the chain does not retain it).
    public var message: UnsafePointer<json_t>?
    /// The event is a replay after `Last-Event-ID`.
    public var isReplayed: Bool

    /// Creates an event description.
    public init(
        event: String = "message", id: String? = nil, data: UnsafeRawBufferPointer,
        message: UnsafePointer<json_t>?, isReplayed: Bool = false
    ) {
        self.event = event
        self.id = id
        self.data = data
        self.message = message
        self.isReplayed = isReplayed
    }
}
