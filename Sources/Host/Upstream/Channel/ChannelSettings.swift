/// The bounds one channel holds its traffic to.
package struct ChannelSettings: Sendable {
    /// Requests awaiting their response at once; one more is refused with `pendingLimit`.
    package var maxPendingRequests: Int
    /// The config key that sets `maxPendingRequests`, named in the refusal.
    package var pendingLimitKey: String
    /// Messages kept for a listener that is not open yet (oldest dropped first).
    package var maxOrphans: Int
    /// Lines in a row that are not JSON-RPC before the channel is closed.
    package var maxBadLinesInARow: Int

    package init(maxPendingRequests: Int, pendingLimitKey: String, maxOrphans: Int = 64, maxBadLinesInARow: Int = 100) {
        self.maxPendingRequests = maxPendingRequests
        self.pendingLimitKey = pendingLimitKey
        self.maxOrphans = maxOrphans
        self.maxBadLinesInARow = maxBadLinesInARow
    }
}
