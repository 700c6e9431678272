import NIOCore
import Synchronization

/// How many client connections are open, in all and per client IP address, so that no single address can hold
/// every connection the gateway allows (`maxConnectionsPerClient`). Thread-safe: one lock, taken once when a
/// connection is accepted and once when it closes, never per request.
final class ClientConnectionTable: Sendable {
    private struct Counts {
        var total = 0
        var perAddress: [String: Int] = [:]
    }

    private let counts = Mutex(Counts())

    /// Why a new connection was refused.
    enum Refusal: Equatable {
        case tooManyConnections(limit: Int)
        case tooManyFromClient(address: String, limit: Int)
    }

    /// Counts a new connection from `address` (nil: unknown, e.g. a unix socket), or refuses it when `limit`
    /// connections are open in all or `perClientLimit` from that address. A counted connection must be
    /// released with `close(address:)` exactly once.
    func open(address: String?, limit: Int, perClientLimit: Int) -> Refusal? {
        counts.withLock { counts in
            if counts.total >= limit { return .tooManyConnections(limit: limit) }
            if let address {
                let mine = counts.perAddress[address, default: 0]
                if mine >= perClientLimit { return .tooManyFromClient(address: address, limit: perClientLimit) }
                counts.perAddress[address] = mine + 1
            }
            counts.total += 1
            return nil
        }
    }

    /// Releases a connection counted by `open(address:…)`.
    func close(address: String?) {
        counts.withLock { counts in
            counts.total -= 1
            guard let address, let mine = counts.perAddress[address] else { return }
            if mine <= 1 {
                counts.perAddress[address] = nil
            } else {
                counts.perAddress[address] = mine - 1
            }
        }
    }

    /// Connections open now.
    var total: Int { counts.withLock { $0.total } }
}
