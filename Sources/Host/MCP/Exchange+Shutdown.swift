/// What a graceful shutdown does to an exchange still open when its grace period ends.
extension Exchange {
    /// Ends this exchange for a shutdown: every upstream request still running is cancelled, and a stream already
    /// answering the client is ended cleanly (the chunked response terminates; a relay that had not delivered the
    /// response yet first writes its error event, as on any upstream failure). An exchange not answered yet is
    /// left to answer the cancellation as it answers any upstream failure; its connection closes anyway.
    ///
    /// Called by `MCPExchangeHandler` on the exchange's event loop; calling it twice does nothing more.
    func endForShutdown() {
        cancelUpstream()
        if answered { endStream() }
    }
}
