/// Something in flight upstream that the caller can stop: an HTTP request (`UpstreamTask`) or a message on a
/// channel (`ChannelCall`). `cancel()` may be called from any thread; the call's handler then hears
/// `upstreamFailed(UpstreamError.cancelled)` unless it already finished.
package protocol UpstreamCancellable: AnyObject, Sendable {
    func cancel()
}
