import CJansson
import CMCPGate

/// One recorded MCP exchange (see examples/exchanges/README.md for the format): the HTTP request,
/// the client's JSON-RPC messages, the server's responses and SSE events, and optionally what the
/// plugin is expected to decide. The JSON values point into the `RecordedExchangeSet` that parsed
/// them and are valid while it lives.
struct RecordedExchange {
    /// What the exchange expects the chain to decide.
    struct Expectation {
        /// "continue", "reject", "respond", "drop" or "failure".
        var decision: String
        var httpStatus: Int?
        var rpcCode: Int?
        var hook: String?
    }

    /// A JSON value and its compact text (the "raw bytes" plugins see).
    struct Message {
        var json: UnsafeMutablePointer<json_t>
        var raw: [UInt8]
    }

    /// An SSE event.
    struct Event {
        var event: String
        var id: String?
        var data: Message
    }

    var name: String
    var http: FilterHTTPRequest
    var attributes: [(String, String)]
    var messages: [Message]
    var responses: [Message]
    var events: [Event]
    var status: Int
    var responseHeaders: [(name: String, value: String)]
    var isEventStream: Bool
    var gatewayErrorStatus: Int?
    var expectation: Expectation?
}
