import MCPGateUpstream
import NIOCore
import NIOHTTP1
import Synchronization

/// One configured target at run time: its replicas, ready to pick from, and a lookup from a pinned
/// endpoint URL back to the replica. A target reached over channels (`sse`, `stdio`) also holds how to open
/// a channel for one client session, and the pool of channels that serves 2026-07-28 requests.
///
/// Immutable apart from the round-robin cursor (an atomic); shared by every event loop.
final class TargetPool: Sendable {
    /// How the target is reached.
    enum Transport: Sendable, Equatable {
        /// Streamable HTTP requests to a replica.
        case http
        /// HTTP+SSE (2024-11-05) sessions with a replica, one per client session or pooled.
        case sse
        /// A local process, one per client session or pooled.
        case stdio
    }

    /// Opens a channel to the target for one client session, on the given loop (with the client's forwarded
    /// headers, for an SSE session's GET).
    typealias ChannelOpener = @Sendable (_ loop: any EventLoop, _ headers: HTTPHeaders) -> EventLoopFuture<UpstreamChannel>

    let name: String
    let transport: Transport
    /// The replicas (http and sse); for stdio, one endpoint named `stdio:<name>` that sessions pin.
    let endpoints: [ResolvedEndpoint]
    let forwardAuthorization: Bool
    /// sse and stdio: opens a session's own channel (nil when the runtime is only checked, `mcpgate check`).
    let openChannel: ChannelOpener?
    /// sse and stdio: the channels serving requests without a session.
    let channelPool: ChannelPool?
    /// What a session's entry names for an sse or stdio member (its channel is in the entry's local pin):
    /// `sse:<name>` or `stdio:<name>`. For http targets, the first replica (unused).
    let sessionEndpoint: ResolvedEndpoint
    private let indexByURL: [String: Int]
    private let cursor = Atomic<Int>(0)

    /// `health`: where the replicas' requests are counted for the admin overview (nil: not counted).
    /// `channels`: for sse and stdio targets, the opener and pool the runtime gives them.
    init(
        target: Target, health: EndpointHealthBoard? = nil, channels: (opener: ChannelOpener, pool: ChannelPool)? = nil
    ) throws(RuntimeBuildError) {
        var resolved: [ResolvedEndpoint] = []
        switch target.transport {
        case .streamableHTTP, .sse:
            for endpoint in target.endpoints {
                guard
                    let ready = ResolvedEndpoint(
                        endpoint, redirectOrigins: target.redirectOrigins, health: health?.health(for: endpoint.url))
                else {
                    throw RuntimeBuildError("target \(target.name): endpoint \(endpoint.url) is not a valid URL")
                }
                resolved.append(ready)
            }
        case .stdio:
            let url = "stdio:\(target.name)"
            guard let local = ResolvedEndpoint(UpstreamEndpoint(url: url, scheme: "stdio", host: "", port: 0, path: "")) else {
                throw RuntimeBuildError("target \(target.name): its name cannot be used for a stdio target")
            }
            resolved.append(local)
        }
        guard !resolved.isEmpty else { throw RuntimeBuildError("target \(target.name) has no endpoint") }
        self.name = target.name
        switch target.transport {
        case .streamableHTTP: self.transport = .http
        case .sse: self.transport = .sse
        case .stdio: self.transport = .stdio
        }
        self.endpoints = resolved
        if case .sse = target.transport,
            let local = ResolvedEndpoint(UpstreamEndpoint(url: "sse:\(target.name)", scheme: "sse", host: "", port: 0, path: ""))
        {
            self.sessionEndpoint = local
        } else {
            self.sessionEndpoint = resolved[0]
        }
        self.forwardAuthorization = target.forwardAuthorization
        self.openChannel = channels?.opener
        self.channelPool = channels?.pool
        self.indexByURL = Dictionary(resolved.enumerated().map { ($1.endpoint.url, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// True for targets reached over channels (sse, stdio).
    var usesChannels: Bool { transport != .http }

    /// The replica a new session (or a sessionless request) goes to: round robin. For sse and stdio targets:
    /// the endpoint sessions pin (`sessionEndpoint`), over the pool when the target has one.
    func pick() -> ResolvedEndpoint {
        if usesChannels {
            guard let channelPool else { return sessionEndpoint }
            return sessionEndpoint.over(.pool(channelPool, pinned: nil))
        }
        return nextReplica()
    }

    /// The next replica, round robin (an sse target's channels are opened to them in turn).
    func nextReplica() -> ResolvedEndpoint {
        if endpoints.count == 1 { return endpoints[0] }
        let next = cursor.wrappingAdd(1, ordering: .relaxed).oldValue
        return endpoints[(next & Int.max) % endpoints.count]
    }

    /// The replica a session was pinned to, if it is still configured (for sse and stdio targets: their
    /// `sessionEndpoint`).
    func endpoint(pinned url: String) -> ResolvedEndpoint? {
        if transport == .sse { return url == sessionEndpoint.endpoint.url ? sessionEndpoint : nil }
        return indexByURL[url].map { endpoints[$0] }
    }
}
