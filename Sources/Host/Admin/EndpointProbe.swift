import MCPGateUpstream
import NIOCore
import NIOPosix

/// Whether upstream endpoints accept a TCP connection now: the overview's "reachable". A connect (no TLS handshake,
/// no HTTP request) bounded by `timeout`, all endpoints at once; the connection is closed at once.
enum EndpointProbe {
    /// For each endpoint URL: nil when it accepted a connection, else why not.
    static func check(_ endpoints: [UpstreamEndpoint], group: any EventLoopGroup, timeout: TimeAmount) async -> [String: String?] {
        await withTaskGroup(of: (String, String?).self) { tasks in
            for endpoint in Set(endpoints) {
                tasks.addTask {
                    do {
                        let channel = try await ClientBootstrap(group: group)
                            .connectTimeout(timeout)
                            .connect(host: endpoint.host, port: endpoint.port).get()
                        try? await channel.close()
                        return (endpoint.url, nil)
                    } catch {
                        return (endpoint.url, describe(error))
                    }
                }
            }
            var results: [String: String?] = [:]
            for await (url, failure) in tasks { results[url] = failure }
            return results
        }
    }

    /// A connect failure as an operator reads it (`connection refused`), the error's own text when it is another kind.
    static func describe(_ error: any Error) -> String {
        if let connection = error as? NIOConnectionError {
            if connection.connectionErrors.isEmpty, connection.dnsAAAAError != nil || connection.dnsAError != nil {
                return "the host name did not resolve"
            }
            if let first = connection.connectionErrors.first { return describe(first.error) }
        }
        if case ChannelError.connectTimeout = error { return "no connection within the probe's timeout" }
        if let io = error as? IOError {
            switch io.errnoCode {
            case 111: return "connection refused"
            case 113, 101: return "no route to the host"
            default: return "\(io)"
            }
        }
        return "\(error)"
    }
}
