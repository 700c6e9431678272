import MCPGateUpstream
import Synchronization

/// One configured target at run time: its replicas, ready to pick from, and a lookup from a pinned
/// endpoint URL back to the replica.
///
/// Immutable apart from the round-robin cursor (an atomic); shared by every event loop.
final class TargetPool: Sendable {
    let name: String
    let endpoints: [ResolvedEndpoint]
    let forwardAuthorization: Bool
    private let indexByURL: [String: Int]
    private let cursor = Atomic<Int>(0)

    /// `health`: where the replicas' requests are counted for the admin overview (nil: not counted).
    init(target: Target, health: EndpointHealthBoard? = nil) throws(RuntimeBuildError) {
        var resolved: [ResolvedEndpoint] = []
        for endpoint in target.endpoints {
            guard
                let ready = ResolvedEndpoint(
                    endpoint, redirectOrigins: target.redirectOrigins, health: health?.health(for: endpoint.url))
            else {
                throw RuntimeBuildError("target \(target.name): endpoint \(endpoint.url) is not a valid URL")
            }
            resolved.append(ready)
        }
        guard !resolved.isEmpty else { throw RuntimeBuildError("target \(target.name) has no endpoint") }
        self.name = target.name
        self.endpoints = resolved
        self.forwardAuthorization = target.forwardAuthorization
        self.indexByURL = Dictionary(resolved.enumerated().map { ($1.endpoint.url, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The replica a new session (or a sessionless request) goes to: round robin.
    func pick() -> ResolvedEndpoint {
        if endpoints.count == 1 { return endpoints[0] }
        let next = cursor.wrappingAdd(1, ordering: .relaxed).oldValue
        return endpoints[(next & Int.max) % endpoints.count]
    }

    /// The replica a session was pinned to, if it is still configured.
    func endpoint(pinned url: String) -> ResolvedEndpoint? {
        indexByURL[url].map { endpoints[$0] }
    }
}
