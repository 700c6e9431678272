import MCPGateUpstream
import NIOCore
import NIOHTTP1
import NIOPosix

/// Classifies an upstream transport failure into the gateway's answer. The message names the target and
/// the kind of failure, nothing else: the error's own text (addresses, ports, errno, TLS library messages
/// with build paths) is in `detail`, for the log, and never reaches a client (attack report M4).
struct UpstreamFailure {
    var message: String
    var gatewayError: GatewayError
    /// The underlying error as text, for the log only.
    var detail: String

    init(_ error: any Error, target: String) {
        detail = String(describing: error)
        if let failure = error as? ChannelFailure {
            (message, gatewayError) = Self.channel(failure, target: target)
            return
        }
        let upstreamError = error as? UpstreamError
        if upstreamError?.isTimeout == true || Self.isConnectTimeout(error) {
            message = "Upstream '\(target)' did not answer in time"
            gatewayError = .upstream(.gatewayTimeout, target: target, message)
        } else if case .redirectRefused? = upstreamError {
            message = "Upstream '\(target)' answered with a redirect the gateway does not follow"
            gatewayError = .upstream(.badGateway, target: target, message)
        } else {
            message = "Upstream '\(target)' is unreachable"
            gatewayError = .upstream(.badGateway, target: target, message)
        }
    }

    /// The answer for a reader's failure: the transport's, or the bound the answer broke.
    init(_ failure: UpstreamAnswerFailure, target: String) {
        let message: String
        switch failure {
        case .transport(let error):
            self.init(error, target: target)
            return
        case .bodyTooLarge(let limit):
            message = "Upstream '\(target)' sent a response larger than \(limit) bytes"
        case .eventTooLarge(let limit):
            message = "Upstream '\(target)' sent an SSE event larger than \(limit) bytes"
        case .noAnswer:
            message = "Upstream '\(target)' sent no response"
        }
        self.init(message: message, gatewayError: .upstream(.badGateway, target: target, message), detail: message)
    }

    private init(message: String, gatewayError: GatewayError, detail: String) {
        self.message = message
        self.gatewayError = gatewayError
        self.detail = detail
    }

    /// A channel's failure (a stdio process, an upstream HTTP+SSE session): what happened to the target, in
    /// words that name it; limits are 503 with `Retry-After`, a lost upstream session is the client's 404.
    private static func channel(_ failure: ChannelFailure, target: String) -> (String, GatewayError) {
        func upstream(_ status: HTTPResponseStatus, _ text: String) -> (String, GatewayError) {
            let message = "Upstream '\(target)' \(text)"
            return (message, .upstream(status, target: target, message))
        }
        switch failure {
        case .timeout, .endpointTimeout:
            return upstream(.gatewayTimeout, failure == .timeout ? "did not answer in time" : "gave no endpoint in time")
        case .processLimit(_, let key):
            let message = "Too many processes for target '\(target)' (\(key))"
            return (message, GatewayError(.serviceUnavailable, code: -32603, message, headers: [("retry-after", "5")]))
        case .pendingLimit(_, let key):
            let message = "Too many requests waiting for upstream '\(target)' (\(key))"
            return (message, GatewayError(.serviceUnavailable, code: -32603, message, headers: [("retry-after", "5")]))
        case .closed(.shutdown):
            let message = "The gateway is shutting down"
            return (message, GatewayError(.serviceUnavailable, code: -32603, message))
        case .sessionLost:
            return ("Upstream '\(target)' no longer knows the session", .sessionNotFound)
        case .duplicateID:
            let message = "A request with this id is already in flight in this session"
            return (message, .invalidRequest(message))
        case .spawnFailed:
            return upstream(.badGateway, "could not be started")
        case .tooManyBadLines:
            return upstream(.badGateway, "wrote output that is not JSON-RPC")
        case .endpointRefused:
            // The URL it named stays in the log: it may be an internal address.
            return upstream(.badGateway, "named an endpoint of another origin")
        case .sendFailed:
            return upstream(.badGateway, "did not take the message")
        case .exited, .streamEnded, .lineTooLong, .closed:
            return upstream(.badGateway, failure.description)
        }
    }

    /// NIO's connect timeout (`ChannelError.connectTimeout`), alone or inside the happy-eyeballs
    /// resolver's `NIOConnectionError`.
    private static func isConnectTimeout(_ error: any Error) -> Bool {
        if case .connectTimeout? = error as? ChannelError { return true }
        guard let connection = error as? NIOConnectionError else { return false }
        return connection.connectionErrors.contains { failure in
            if case .connectTimeout? = failure.error as? ChannelError { return true }
            return false
        }
    }
}
