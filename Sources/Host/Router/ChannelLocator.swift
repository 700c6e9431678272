import MCPGateSession

/// The `endpoint` a gateway-sealed `requestState` names for an sse or stdio target served by a pool: the
/// target's session endpoint, this replica, and the channel that asked for input, as
/// `<endpoint>#<replica hex>.<channel key>`. The retry must reach that very process (the upstream's own state
/// is only good there). It only ever travels sealed.
enum ChannelLocator {
    static func encode(endpoint: String, replica: ReplicaID, channel: UInt64) -> String {
        endpoint + "#" + replica.hex + "." + String(channel)
    }

    /// The channel key, when `locator` names `endpoint` on `replica`; nil otherwise.
    static func channel(in locator: String, endpoint: String, replica: ReplicaID) -> UInt64? {
        let expectedPrefix = endpoint + "#" + replica.hex + "."
        guard locator.hasPrefix(expectedPrefix) else { return nil }
        return UInt64(locator.dropFirst(expectedPrefix.count))
    }
}
