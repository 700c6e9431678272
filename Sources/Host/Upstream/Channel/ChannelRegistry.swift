import NIOConcurrencyHelpers
import NIOCore

/// Every channel this process holds, by key: the limits on how many exist (per target and in all), the
/// session that owns each one (the handshake-era sessions whose member is a stdio process or an upstream
/// HTTP+SSE session), and the sweep that closes channels whose session expired or that sat idle.
///
/// A channel is `reserve`d before it is opened (so limits hold while processes start), `register`ed once
/// open, `adopt`ed by the session that `initialize` created, and forgotten when it closes. Thread-safe (a
/// lock around the table); channels are closed outside it.
package final class ChannelRegistry: Sendable {
    /// The session a channel belongs to. A request reaching the channel must come from this session's route
    /// and principal (defense in depth: the sealed token already says so).
    package struct Owner: Sendable, Equatable {
        package var target: String
        package var route: String
        package var principal: [UInt8]?
        /// Unix seconds; the session's own expiry.
        package var expiresAt: UInt64

        package init(target: String, route: String, principal: [UInt8]?, expiresAt: UInt64) {
            self.target = target
            self.route = route
            self.principal = principal
            self.expiresAt = expiresAt
        }
    }

    /// A limit and the config key that sets it.
    package struct Limit: Sendable {
        package var value: Int
        package var key: String

        package init(_ value: Int, key: String) {
            self.value = value
            self.key = key
        }
    }

    private struct Entry {
        var group: String
        var channel: UpstreamChannel?
        var owner: Owner?
        var finished: EventLoopFuture<Void>?
        var idleTimeout: TimeAmount = .minutes(10)
    }

    private struct State {
        var entries: [UInt64: Entry] = [:]
        var perGroup: [String: Int] = [:]
        var nextKey: UInt64 = 1
        var shuttingDown = false
    }

    private let state = NIOLockedValueBox(State())

    package init() {}

    /// Channels reserved or open, in all.
    package var count: Int { state.withLockedValue { $0.entries.count } }

    /// Channels reserved or open for `group` (a target's process group: its name and kind).
    package func count(group: String) -> Int { state.withLockedValue { $0.perGroup[group] ?? 0 } }

    /// Reserves room for one more channel of `group` within both limits and returns its key; the room is
    /// given back by `abandon` (the open failed) or when the registered channel closes.
    package func reserve(group: String, perGroup: Limit, total: Limit) throws(ChannelFailure) -> UInt64 {
        let outcome: Result<UInt64, ChannelFailure> = state.withLockedValue { state in
            if state.shuttingDown { return .failure(.closed(.shutdown)) }
            if state.entries.count >= total.value { return .failure(.processLimit(limit: total.value, key: total.key)) }
            if state.perGroup[group, default: 0] >= perGroup.value {
                return .failure(.processLimit(limit: perGroup.value, key: perGroup.key))
            }
            let key = state.nextKey
            state.nextKey += 1
            state.entries[key] = Entry(group: group)
            state.perGroup[group, default: 0] += 1
            return .success(key)
        }
        return try outcome.get()
    }

    /// Gives back a reservation whose channel never opened.
    package func abandon(_ key: UInt64) {
        state.withLockedValue { state in Self.remove(key, from: &state) }
    }

    /// Records the opened channel of a reservation; it is forgotten when it closes. `finished`: completes
    /// once the transport is fully gone (a process reaped), for `shutdown` to wait on. `idleTimeout`: how long
    /// it may sit unused before the sweep closes it.
    package func register(_ channel: UpstreamChannel, finished: EventLoopFuture<Void>? = nil, idleTimeout: TimeAmount = .minutes(10)) {
        let closeNow = state.withLockedValue { state -> Bool in
            guard state.entries[channel.key] != nil else { return true }
            state.entries[channel.key]?.channel = channel
            state.entries[channel.key]?.finished = finished
            state.entries[channel.key]?.idleTimeout = idleTimeout
            return state.shuttingDown
        }
        channel.whenClosed { [self] _ in state.withLockedValue { state in Self.remove(channel.key, from: &state) } }
        if closeNow { channel.close(.closed(.shutdown)) }
    }

    /// Gives the channel to the session that `initialize` established.
    package func adopt(_ key: UInt64, owner: Owner) {
        state.withLockedValue { state in state.entries[key]?.owner = owner }
    }

    /// The open channel with `key` and its owner (nil when it closed, or never was).
    package func lookup(_ key: UInt64) -> (channel: UpstreamChannel, owner: Owner?)? {
        state.withLockedValue { state in
            guard let entry = state.entries[key], let channel = entry.channel else { return nil }
            return (channel, entry.owner)
        }
    }

    /// Closes the channel with `key`, if it is open.
    package func close(_ key: UInt64, reason: ChannelFailure) {
        lookup(key)?.channel.close(reason)
    }

    /// Closes channels whose session expired (`now` in Unix seconds) and channels (owned or pooled) that sat
    /// idle for their `idleTimeout`: no request in flight, no listener.
    package func sweep(now: UInt64) {
        let channels = state.withLockedValue { state in
            state.entries.values.compactMap { entry in entry.channel.map { ($0, entry.owner, entry.idleTimeout) } }
        }
        for (channel, owner, idleTimeout) in channels {
            if let owner, owner.expiresAt <= now {
                channel.close(.closed(.expired))
            } else {
                channel.closeIfIdle(for: idleTimeout, reason: .closed(.idle))
            }
        }
    }

    /// Closes every channel with `closed(.shutdown)`, refuses new ones, and waits until each transport is gone.
    package func shutdown() async {
        let (channels, finished) = state.withLockedValue { state -> ([UpstreamChannel], [EventLoopFuture<Void>]) in
            state.shuttingDown = true
            return (state.entries.values.compactMap(\.channel), state.entries.values.compactMap(\.finished))
        }
        for channel in channels { channel.close(.closed(.shutdown)) }
        for future in finished { try? await future.get() }
    }

    private static func remove(_ key: UInt64, from state: inout State) {
        guard let entry = state.entries.removeValue(forKey: key) else { return }
        state.perGroup[entry.group, default: 1] -= 1
        if state.perGroup[entry.group] == 0 { state.perGroup[entry.group] = nil }
    }
}
