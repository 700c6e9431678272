import NIOCore

/// When a client connection must have moved on, checked on a coarse tick (`tick(for:)`): setting a deadline per
/// request costs a clock read, not a timer.
struct Deadline {
    enum Phase {
        case none
        /// Idle between requests (`clientIdleTimeout`): close.
        case idle
        /// A request started, its head is not in (`requestHeaderTimeout`): raw 408, close.
        case header
        /// The head is in, the body is not (`requestBodyTimeout`): 408, close.
        case body
        /// A refused request's rest is being discarded (`MCPExchangeHandler.lingerTime`): close.
        case linger
    }

    var phase: Phase
    var at: NIODeadline

    /// How often a connection checks its deadline: a quarter of the shortest configured timeout (so a deadline
    /// acts at most 25 % late), between 50 ms and 5 s. The linger after a refusal acts within one tick.
    static func tick(for limits: Limits) -> TimeAmount {
        let shortest = [limits.clientIdleTimeout, limits.requestHeaderTimeout, limits.requestBodyTimeout].min() ?? .seconds(20)
        let quarter = TimeAmount(shortest).nanoseconds / 4
        return .nanoseconds(min(max(quarter, TimeAmount.milliseconds(50).nanoseconds), TimeAmount.seconds(5).nanoseconds))
    }
}

/// A weak reference to a connection's handler, for its deadline ticker (which must not keep it alive).
final class WeakHandler {
    weak var handler: MCPExchangeHandler?
    init(_ handler: MCPExchangeHandler) { self.handler = handler }
}
