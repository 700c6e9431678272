import Logging
import NIOCore
import NIOPosix
import Foundation
import Testing

@testable import MCPGateUpstream

@Suite("ChannelRegistry: limits, owners, sweep")
struct ChannelRegistryTests {
    private static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private var loop: any EventLoop { Self.group.any() }
    private let perTarget = ChannelRegistry.Limit(2, key: "config.stdio.maxProcessesPerTarget")
    private let total = ChannelRegistry.Limit(3, key: "config.stdio.maxProcesses")

    private func open(_ registry: ChannelRegistry, group: String, idleTimeout: TimeAmount = .hours(1)) throws -> (UpstreamChannel, FakeChannelTransport) {
        let key = try registry.reserve(group: group, perGroup: perTarget, total: total)
        let transport = FakeChannelTransport(eventLoop: loop)
        let channel = try loop.submit {
            UpstreamChannel(
                key: key, label: group, transport: transport, settings: ChannelSettings(maxPendingRequests: 4, pendingLimitKey: "k"),
                logger: Logger(label: "test"), scan: testEnvelope)
        }.wait()
        registry.register(channel, idleTimeout: idleTimeout)
        return (channel, transport)
    }

    @Test("reservations count per target and in all, each refusal naming its key; a closed channel frees its room")
    func limits() throws {
        let registry = ChannelRegistry()
        let (a1, _) = try open(registry, group: "a")
        _ = try open(registry, group: "a")
        #expect(throws: ChannelFailure.processLimit(limit: 2, key: "config.stdio.maxProcessesPerTarget")) {
            try registry.reserve(group: "a", perGroup: perTarget, total: total)
        }
        let reserved = try registry.reserve(group: "b", perGroup: perTarget, total: total)
        #expect(throws: ChannelFailure.processLimit(limit: 3, key: "config.stdio.maxProcesses")) {
            try registry.reserve(group: "b", perGroup: perTarget, total: total)
        }
        registry.abandon(reserved)
        #expect(registry.count == 2)
        a1.close(.closed(.deleted))
        try loop.submit {}.wait()
        #expect(registry.count(group: "a") == 1)
        #expect(registry.lookup(a1.key) == nil)
    }

    @Test("an adopted channel is found with its owner; close by key")
    func ownersAndLookup() throws {
        let registry = ChannelRegistry()
        let (channel, transport) = try open(registry, group: "a")
        let owner = ChannelRegistry.Owner(target: "a", route: "r", principal: [1, 2], expiresAt: 100)
        registry.adopt(channel.key, owner: owner)
        #expect(registry.lookup(channel.key)?.owner == owner)
        registry.close(channel.key, reason: .closed(.deleted))
        try loop.submit {}.wait()
        #expect(try loop.submit { transport.closedWith }.wait() == .closed(.deleted))
        #expect(registry.lookup(channel.key) == nil)
    }

    @Test("the sweep closes channels whose session expired, and idle ones, not busy ones")
    func sweep() throws {
        let registry = ChannelRegistry()
        let (expired, expiredTransport) = try open(registry, group: "a")
        registry.adopt(expired.key, owner: ChannelRegistry.Owner(target: "a", route: "r", principal: nil, expiresAt: 10))
        let (live, liveTransport) = try open(registry, group: "b", idleTimeout: .milliseconds(200))
        registry.adopt(live.key, owner: ChannelRegistry.Owner(target: "b", route: "r", principal: nil, expiresAt: 1000))
        registry.sweep(now: 50)
        try loop.submit {}.wait()
        #expect(try loop.submit { expiredTransport.closedWith }.wait() == .closed(.expired))
        #expect(try loop.submit { liveTransport.closedWith }.wait() == nil)
        usleep(250_000)
        registry.sweep(now: 50)
        try loop.submit {}.wait()
        #expect(try loop.submit { liveTransport.closedWith }.wait() == .closed(.idle))
    }

    @Test("shutdown closes every channel and refuses new reservations")
    func shutdown() async throws {
        let registry = ChannelRegistry()
        let (_, transport) = try open(registry, group: "a")
        await registry.shutdown()
        #expect(try await loop.submit { transport.closedWith }.get() == .closed(.shutdown))
        #expect(throws: ChannelFailure.closed(.shutdown)) { try registry.reserve(group: "a", perGroup: perTarget, total: total) }
    }
}
