import Synchronization

/// What a federated route learned from its targets' lists: which target offers a tool or prompt when names
/// are not prefixed (`prefixMode: never`), and the real name behind a shortened one. Bounded; shared by
/// every event loop.
final class FederationNames: Sendable {
    static let capacity = 100_000
    private let names = Mutex<[String: (target: String, name: String)]>([:])

    private static func key(route: String, kind: String, exposed: String) -> String {
        route + "\u{0}" + kind + "\u{0}" + exposed
    }

    func learn(route: String, kind: String, exposed: String, target: String, name: String) {
        names.withLock { table in
            if table.count >= Self.capacity { table.removeAll(keepingCapacity: true) }
            table[Self.key(route: route, kind: kind, exposed: exposed)] = (target, name)
        }
    }

    func lookup(route: String, kind: String, exposed: String) -> (target: String, name: String)? {
        names.withLock { $0[Self.key(route: route, kind: kind, exposed: exposed)] }
    }
}
