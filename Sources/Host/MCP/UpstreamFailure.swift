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
