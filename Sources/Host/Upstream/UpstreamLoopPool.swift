import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Prometheus

/// The upstream connections of one event loop: per origin, a list of idle keep-alive connections, how many
/// are open, and the requests waiting for one when `maxConnectionsPerEndpoint` are busy. A request only
/// ever runs on a connection of its exchange's own loop, so nothing here needs a lock or a thread hop.
/// Standing streams (`UpstreamTask.ownConnection`) get a connection each, outside those counts and never
/// pooled: however many clients hold streams, requests keep their connections.
///
/// `@unchecked Sendable`: confined to `eventLoop`; the client reaches it through an immutable table.
package final class UpstreamLoopPool: @unchecked Sendable {
    /// One origin's connections on this loop. `@unchecked Sendable`: confined to the pool's loop.
    private final class OriginPool: @unchecked Sendable {
        /// Oldest first: reuse takes the most recent (`popLast`), the idle timeout trims from the front.
        var idle: [UpstreamConnection] = []
        /// Connecting, busy and idle connections.
        var open = 0
        var waiting = CircularBuffer<UpstreamTask>()
        var sweep: Scheduled<Void>?
    }

    package let eventLoop: any EventLoop
    private let settings: Settings
    private var origins: [String: OriginPool] = [:]
    private var connections: [ObjectIdentifier: UpstreamConnection] = [:]
    private var shutDown = false

    package struct Settings: Sendable {
        var connectTimeout: TimeAmount
        var idleTimeout: TimeAmount
        var maxConnections: Int
        var tls: NIOSSLContext?
        /// Counts requests that had to queue for a pooled connection.
        var poolWaits: Counter?
    }

    package init(eventLoop: any EventLoop, settings: Settings) {
        self.eventLoop = eventLoop
        self.settings = settings
    }

    /// Gives `task` a connection to its target's origin: an idle one (unless `fresh`), a new one within the
    /// limit, or a place in the origin's FIFO queue.
    package func acquire(for task: UpstreamTask, fresh: Bool) {
        guard !shutDown else {
            task.fail(UpstreamError.shutdown)
            return
        }
        guard !task.ownConnection else {
            connect(for: task, pool: nil)
            return
        }
        let origin = task.target.origin
        let pool = originPool(origin)
        if !fresh {
            while let connection = pool.idle.popLast() {
                if connection.isOpen {
                    task.attach(connection)
                    return
                }
            }
        }
        if pool.open < settings.maxConnections {
            connect(for: task, pool: pool)
        } else {
            settings.poolWaits?.increment()
            pool.waiting.append(task)
        }
    }

    /// Takes back a connection after a complete keep-alive response: to the first waiting request, else
    /// to the idle list.
    package func release(_ connection: UpstreamConnection) {
        guard connection.pooled, !shutDown, connection.isOpen else {
            connection.close()
            return
        }
        let pool = originPool(connection.origin)
        while let task = pool.waiting.popFirst() {
            if !task.finished {
                task.attach(connection)
                return
            }
        }
        connection.idleSince = .now()
        pool.idle.append(connection)
        connection.parked()
        if pool.sweep == nil { scheduleSweep(pool, in: settings.idleTimeout) }
    }

    /// A connection closed (by either side): it no longer counts, and a waiting request may open another.
    package func connectionClosed(_ connection: UpstreamConnection) {
        guard connections.removeValue(forKey: ObjectIdentifier(connection)) != nil, connection.pooled,
            let pool = origins[connection.origin]
        else { return }
        pool.open -= 1
        if let index = pool.idle.firstIndex(where: { $0 === connection }) { pool.idle.remove(at: index) }
        serveWaiting(pool)
    }

    /// Closes every connection and refuses new requests.
    package func shutdown() {
        shutDown = true
        for pool in origins.values {
            pool.sweep?.cancel()
            pool.sweep = nil
            while let task = pool.waiting.popFirst() { task.fail(UpstreamError.shutdown) }
        }
        for connection in connections.values { connection.close() }
    }

    // MARK: Private

    private func originPool(_ origin: String) -> OriginPool {
        if let pool = origins[origin] { return pool }
        let pool = OriginPool()
        origins[origin] = pool
        return pool
    }

    private func serveWaiting(_ pool: OriginPool) {
        while pool.open < settings.maxConnections, let task = pool.waiting.popFirst() {
            if !task.finished { connect(for: task, pool: pool) }
        }
    }

    /// Opens a connection for `task`: one of `pool`'s, or, with no pool, one of its own (a standing stream).
    private func connect(for task: UpstreamTask, pool: OriginPool?) {
        let target = task.target
        var sslContext: NIOSSLContext?
        if target.tls {
            guard let context = settings.tls else {
                task.fail(UpstreamError.tlsUnavailable)
                return
            }
            sslContext = context
        }
        pool?.open += 1
        let serverName = (try? SocketAddress(ipAddress: target.host, port: 0)) == nil ? target.host : nil
        let origin = target.origin
        let pooled = pool != nil
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(settings.connectTimeout)
            .channelOption(ChannelOptions.autoRead, value: false)
            .channelInitializer { [self, sslContext] channel in
                do {
                    let sync = channel.pipeline.syncOperations
                    if let sslContext {
                        try sync.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: serverName))
                    }
                    try sync.addHTTPClientHandlers()
                    try sync.addHandler(UpstreamConnection(origin: origin, pool: self, pooled: pooled))
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
        bootstrap.connect(host: target.host, port: target.port).whenComplete { [self] result in
            switch result {
            case .success(let channel):
                guard let connection = try? channel.pipeline.syncOperations.handler(type: UpstreamConnection.self) else {
                    pool?.open -= 1
                    channel.close(promise: nil)
                    task.fail(UpstreamError.remoteConnectionClosed)
                    return
                }
                guard connection.isOpen else {
                    // Closed before we saw it connect: channelInactive found it unregistered.
                    pool?.open -= 1
                    task.connectionFailed(UpstreamError.remoteConnectionClosed, retryable: false)
                    if let pool { serveWaiting(pool) }
                    return
                }
                connections[ObjectIdentifier(connection)] = connection
                if shutDown {
                    connection.close()
                    task.fail(UpstreamError.shutdown)
                } else if task.finished {
                    release(connection)
                } else {
                    task.attach(connection)
                }
            case .failure(let error):
                pool?.open -= 1
                task.connectionFailed(error, retryable: false)
                if let pool { serveWaiting(pool) }
            }
        }
    }

    /// Closes connections idle longer than the idle timeout, then waits for the next one to expire.
    private func scheduleSweep(_ pool: OriginPool, in delay: TimeAmount) {
        pool.sweep = eventLoop.scheduleTask(in: delay) { [self] in
            pool.sweep = nil
            let now = NIODeadline.now()
            while let oldest = pool.idle.first, oldest.idleSince + settings.idleTimeout <= now {
                pool.idle.removeFirst()
                oldest.close()
            }
            if let oldest = pool.idle.first {
                scheduleSweep(pool, in: oldest.idleSince + settings.idleTimeout - now)
            }
        }
    }
}
