import NIOConcurrencyHelpers
import NIOCore

/// Channels of one target kept for requests that belong to no session (2026-07-28 clients): at most `size`
/// of them, opened on demand, each serving **one request at a time** (a lease), so that everything the
/// upstream sends while a request runs belongs to that request. Requests beyond `size` wait in FIFO order, at
/// most `maxQueued` of them. A lease may be pinned to one channel (a retry that must reach the process that
/// asked for input); it waits for that channel and fails when it is gone.
///
/// A channel released without its response (a cancelled or timed-out request) is closed, never reused. A
/// retired pool (its target removed or changed by a reload) opens nothing more and closes each channel as
/// its lease ends. Thread-safe (a lock around the state); channel opening runs outside the lock.
package final class ChannelPool: Sendable {
    /// Opens one more channel for the pool (reserving it in the registry's limits first).
    package typealias Opener = @Sendable () -> EventLoopFuture<UpstreamChannel>

    private struct Waiter {
        var promise: EventLoopPromise<UpstreamChannel>
        var pinned: UInt64?
    }

    private struct State {
        var members: [UInt64: UpstreamChannel] = [:]
        var idle: [UInt64] = []
        var opening = 0
        var waiters = CircularBuffer<Waiter>()
        var retired = false
    }

    /// What the pool is for, in errors and the log (a target name).
    package let label: String
    private let size: Int
    private let maxQueued: Int
    private let queueLimitKey: String
    private let opener: Opener
    private let state = NIOLockedValueBox(State())

    package init(label: String, size: Int, maxQueued: Int, queueLimitKey: String, opener: @escaping Opener) {
        self.label = label
        self.size = max(1, size)
        self.maxQueued = maxQueued
        self.queueLimitKey = queueLimitKey
        self.opener = opener
    }

    /// Channels open (leased or idle).
    package var count: Int { state.withLockedValue { $0.members.count } }

    /// True while the channel with `key` belongs to the pool.
    package func holds(_ key: UInt64) -> Bool { state.withLockedValue { $0.members[key] != nil } }

    /// A channel for one request, on `eventLoop`'s futures: an idle one, a new one while fewer than `size`
    /// exist, or the next one released. `pinned`: only that channel.
    package func lease(pinned: UInt64?, on eventLoop: any EventLoop) -> EventLoopFuture<UpstreamChannel> {
        enum Step { case take(UpstreamChannel), open, wait, refuse(ChannelFailure) }
        let promise = eventLoop.makePromise(of: UpstreamChannel.self)
        let step: Step = state.withLockedValue { state in
            if state.retired { return .refuse(.closed(.reload)) }
            if let pinned {
                guard state.members[pinned] != nil else { return .refuse(.closed(.retired)) }
                if let index = state.idle.firstIndex(of: pinned), let channel = state.members[pinned] {
                    state.idle.remove(at: index)
                    return .take(channel)
                }
            } else if !state.idle.isEmpty, let channel = state.members[state.idle.removeFirst()] {
                return .take(channel)
            } else if state.members.count + state.opening < size {
                state.opening += 1
                return .open
            }
            guard state.waiters.count < maxQueued else {
                return .refuse(.pendingLimit(limit: maxQueued, key: queueLimitKey))
            }
            state.waiters.append(Waiter(promise: promise, pinned: pinned))
            return .wait
        }
        switch step {
        case .take(let channel): promise.succeed(channel)
        case .open: open(for: promise)
        case .wait: break
        case .refuse(let failure): promise.fail(failure)
        }
        return promise.futureResult
    }

    /// Gives a leased channel back: to the next waiter that can take it, else to the idle list. Not
    /// `reusable` (its request ended without its response), or a retired pool: the channel is closed.
    package func release(_ channel: UpstreamChannel, reusable: Bool) {
        enum Step { case give(EventLoopPromise<UpstreamChannel>), idle, close(openFor: EventLoopPromise<UpstreamChannel>?) }
        let step: Step = state.withLockedValue { state in
            guard reusable, !state.retired, state.members[channel.key] != nil else {
                state.members[channel.key] = nil
                state.idle.removeAll { $0 == channel.key }
                return .close(openFor: Self.takeOpeningSlot(&state, size: size))
            }
            if let index = state.waiters.firstIndex(where: { $0.pinned == channel.key || $0.pinned == nil }) {
                return .give(state.waiters.remove(at: index).promise)
            }
            state.idle.append(channel.key)
            return .idle
        }
        switch step {
        case .give(let promise): promise.succeed(channel)
        case .idle: break
        case .close(let openFor):
            channel.close(.closed(.retired))
            if let openFor { open(for: openFor) }
        }
    }

    /// Takes the pool out of service: waiters fail, idle channels close, leased ones close when released.
    package func retire() {
        let (idle, waiters) = state.withLockedValue { state -> ([UpstreamChannel], [Waiter]) in
            state.retired = true
            let idle = state.idle.compactMap { state.members.removeValue(forKey: $0) }
            state.idle = []
            let waiters = Array(state.waiters)
            state.waiters.removeAll()
            return (idle, waiters)
        }
        for channel in idle { channel.close(.closed(.reload)) }
        for waiter in waiters { waiter.promise.fail(ChannelFailure.closed(.reload)) }
    }

    // MARK: Private

    private func open(for promise: EventLoopPromise<UpstreamChannel>) {
        opener().whenComplete { [self] result in
            switch result {
            case .success(let channel):
                let retired = state.withLockedValue { state -> Bool in
                    state.opening -= 1
                    guard !state.retired else { return true }
                    state.members[channel.key] = channel
                    return false
                }
                if retired {
                    channel.close(.closed(.reload))
                    promise.fail(ChannelFailure.closed(.reload))
                    return
                }
                channel.whenClosed { [self] _ in removed(channel.key) }
                promise.succeed(channel)
            case .failure(let error):
                // The next waiter gets an attempt of its own (each fails at most once).
                let next = state.withLockedValue { state -> EventLoopPromise<UpstreamChannel>? in
                    state.opening -= 1
                    return Self.takeOpeningSlot(&state, size: size)
                }
                promise.fail(error)
                if let next { open(for: next) }
            }
        }
    }

    /// A channel of the pool ended (its process exited, its stream closed, it was retired).
    private func removed(_ key: UInt64) {
        let (orphaned, openFor) = state.withLockedValue { state -> ([Waiter], EventLoopPromise<UpstreamChannel>?) in
            state.members[key] = nil
            state.idle.removeAll { $0 == key }
            var orphaned: [Waiter] = []
            var kept = CircularBuffer<Waiter>()
            for waiter in state.waiters {
                if waiter.pinned == key { orphaned.append(waiter) } else { kept.append(waiter) }
            }
            state.waiters = kept
            return (orphaned, Self.takeOpeningSlot(&state, size: size))
        }
        for waiter in orphaned { waiter.promise.fail(ChannelFailure.closed(.retired)) }
        if let openFor { open(for: openFor) }
    }

    /// When an unpinned request waits and the pool has room, takes it off the queue to open a channel for it.
    private static func takeOpeningSlot(_ state: inout State, size: Int) -> EventLoopPromise<UpstreamChannel>? {
        guard !state.retired, state.members.count + state.opening < size,
            let index = state.waiters.firstIndex(where: { $0.pinned == nil })
        else { return nil }
        state.opening += 1
        return state.waiters.remove(at: index).promise
    }
}
