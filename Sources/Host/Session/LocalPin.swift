/// Where a session member that lives in one gateway process is held: the replica (`ReplicaID`, drawn at start) and
/// the channel within it (a stdio process or an upstream HTTP+SSE session, by its per-process key). Any other
/// replica, or this one once the channel is gone, answers 404 for the session. The key needs no secrecy: it only
/// travels sealed.
public struct LocalPin: Sendable, Equatable {
    /// The gateway process that holds the channel.
    public var replica: ReplicaID
    /// The channel's key in that process's registry.
    public var channel: UInt64

    /// Creates a pin.
    public init(replica: ReplicaID, channel: UInt64) {
        self.replica = replica
        self.channel = channel
    }
}
