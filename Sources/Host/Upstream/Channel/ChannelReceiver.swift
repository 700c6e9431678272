import NIOCore

/// What a channel delivers one request's messages to (a `ChannelCall`, or a listener of server-to-client
/// messages). The channel calls it on the channel's event loop; the receiver hops to its own.
package protocol ChannelReceiver: AnyObject, Sendable {
    /// One message for this receiver; `final` when it is the response that ends a request (the channel has
    /// forgotten the request by then). The future (on any loop) holds the channel's further reading until the
    /// message is passed on (backpressure); nil: no wait.
    func receive(_ line: ByteBuffer, final: Bool) -> EventLoopFuture<Void>?
    /// The request cannot be answered, or the listener is over: the channel ended or refused it.
    func fail(_ failure: ChannelFailure)
}
