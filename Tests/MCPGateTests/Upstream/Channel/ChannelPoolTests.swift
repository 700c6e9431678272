import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import MCPGateUpstream

@Suite("ChannelPool: one request per channel, bounded, pinned leases")
struct ChannelPoolTests {
    private static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private var loop: any EventLoop { Self.group.any() }

    /// A pool whose opener makes channels over fake transports, counting them.
    private final class Opened: Sendable {
        let transports = NIOLockedValueBox<[FakeChannelTransport]>([])
        let next = NIOLockedValueBox<UInt64>(1)
        let failing = NIOLockedValueBox(false)
    }

    private func pool(size: Int, maxQueued: Int = 4, opened: Opened) -> ChannelPool {
        let loop = self.loop
        return ChannelPool(label: "t", size: size, maxQueued: maxQueued, queueLimitKey: "config.stdio.maxPendingRequests") {
            loop.submit {
                if opened.failing.withLockedValue({ $0 }) { throw ChannelFailure.spawnFailed(errno: 2) }
                let transport = FakeChannelTransport(eventLoop: loop)
                opened.transports.withLockedValue { $0.append(transport) }
                let key = opened.next.withLockedValue { key in
                    defer { key += 1 }
                    return key
                }
                return UpstreamChannel(
                    key: key, label: "t", transport: transport, settings: ChannelSettings(maxPendingRequests: 4, pendingLimitKey: "k"),
                    logger: Logger(label: "test"), scan: testEnvelope)
            }
        }
    }

    @Test("channels open lazily up to the size; a released one is reused before another opens")
    func lazyAndReused() throws {
        let opened = Opened()
        let pool = pool(size: 2, opened: opened)
        let first = try pool.lease(pinned: nil, on: loop).wait()
        pool.release(first, reusable: true)
        let again = try pool.lease(pinned: nil, on: loop).wait()
        #expect(again === first)
        let second = try pool.lease(pinned: nil, on: loop).wait()
        #expect(second !== first)
        #expect(opened.transports.withLockedValue { $0.count } == 2)
        #expect(pool.count == 2)
    }

    @Test("past the size, leases wait in order and get released channels; past the queue bound they are refused")
    func queue() throws {
        let opened = Opened()
        let pool = pool(size: 1, maxQueued: 2, opened: opened)
        let held = try pool.lease(pinned: nil, on: loop).wait()
        let waitingA = pool.lease(pinned: nil, on: loop)
        let waitingB = pool.lease(pinned: nil, on: loop)
        #expect(throws: ChannelFailure.pendingLimit(limit: 2, key: "config.stdio.maxPendingRequests")) {
            try pool.lease(pinned: nil, on: loop).wait()
        }
        pool.release(held, reusable: true)
        let a = try waitingA.wait()
        #expect(a === held)
        pool.release(a, reusable: true)
        #expect(try waitingB.wait() === held)
        #expect(opened.transports.withLockedValue { $0.count } == 1)
    }

    @Test("a pinned lease waits for its own channel, and fails once that channel is gone")
    func pinned() throws {
        let opened = Opened()
        let pool = pool(size: 2, opened: opened)
        let a = try pool.lease(pinned: nil, on: loop).wait()
        let b = try pool.lease(pinned: nil, on: loop).wait()
        let wantsA = pool.lease(pinned: a.key, on: loop)
        pool.release(b, reusable: true)  // not the one it waits for
        pool.release(a, reusable: true)
        #expect(try wantsA.wait() === a)
        let wantsAAgain = pool.lease(pinned: a.key, on: loop)
        a.close(.exited(.exited(1)))
        #expect(throws: ChannelFailure.closed(.retired)) { try wantsAAgain.wait() }
        #expect(throws: ChannelFailure.closed(.retired)) { try pool.lease(pinned: a.key, on: loop).wait() }
        #expect(!pool.holds(a.key))
    }

    @Test("a channel released without its response is closed, and the next lease opens a fresh one")
    func notReusable() throws {
        let opened = Opened()
        let pool = pool(size: 1, opened: opened)
        let a = try pool.lease(pinned: nil, on: loop).wait()
        let waiting = pool.lease(pinned: nil, on: loop)
        pool.release(a, reusable: false)
        let b = try waiting.wait()
        #expect(b !== a)
        #expect(try loop.submit { opened.transports.withLockedValue { $0[0].closedWith } }.wait() == .closed(.retired))
    }

    @Test("an open that fails fails its lease, and the pool opens again for the next one")
    func openFails() throws {
        let opened = Opened()
        let pool = pool(size: 1, opened: opened)
        opened.failing.withLockedValue { $0 = true }
        #expect(throws: ChannelFailure.spawnFailed(errno: 2)) { try pool.lease(pinned: nil, on: loop).wait() }
        opened.failing.withLockedValue { $0 = false }
        _ = try pool.lease(pinned: nil, on: loop).wait()
        #expect(pool.count == 1)
    }

    @Test("a retired pool refuses leases, closes idle channels and closes leased ones on release")
    func retired() throws {
        let opened = Opened()
        let pool = pool(size: 2, opened: opened)
        let idle = try pool.lease(pinned: nil, on: loop).wait()
        let leased = try pool.lease(pinned: nil, on: loop).wait()
        pool.release(idle, reusable: true)
        pool.retire()
        #expect(throws: ChannelFailure.closed(.reload)) { try pool.lease(pinned: nil, on: loop).wait() }
        pool.release(leased, reusable: true)
        let closed = try loop.submit { opened.transports.withLockedValue { $0.map(\.closedWith) } }.wait()
        #expect(closed == [.closed(.reload), .closed(.retired)])
    }
}
