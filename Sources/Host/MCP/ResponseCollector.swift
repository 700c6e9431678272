import MCPGateUpstream
import NIOCore
import NIOHTTP1

/// Reduces one upstream's answer to a request the gateway fanned out (federated `initialize`, lists,
/// `logging/setLevel`, broadcast notifications, name lookups) to its `UpstreamOutcome`: the final response,
/// whether it came as JSON or on an SSE stream (other events on that stream are not relayed), or why
/// there is none. A 4xx carrying a JSON-RPC error that answers the request is that response.
struct ResponseCollector: AnswerCollector {
    /// The id of the request sent ("null" for a notification or a client's answer).
    let requestIDJSON: String
    let target: String
    /// The upstream's session id, from the head of an SSE answer.
    private var streamSessionID: String?

    init(requestIDJSON: String, target: String) {
        self.requestIDJSON = requestIDJSON
        self.target = target
    }

    mutating func take(_ answer: UpstreamAnswer) -> UpstreamOutcome? {
        switch answer {
        case .json(let body, let upstreamSessionID):
            let parsed = body.withUnsafeReadableBytes { RPCMessage.parse($0) }
            guard case .success(let message) = parsed, message.kind == .result || message.kind == .error else {
                return failed("Upstream '\(target)' answered with a body that is not a JSON-RPC response")
            }
            guard let answer = message.answer(toRequest: requestIDJSON, raw: body) else {
                return failed("Upstream '\(target)' answered with a response to another request")
            }
            return .response(answer.message, upstreamSessionID: upstreamSessionID)
        case .stream(_, let upstreamSessionID):
            streamSessionID = upstreamSessionID
            return nil
        case .events(let events):
            for event in events {
                guard let data = event.data, case .success(let message) = data.withUnsafeReadableBytes({ RPCMessage.parse($0) }),
                    let answer = message.answer(toRequest: requestIDJSON, raw: data)
                else { continue }
                return .response(answer.message, upstreamSessionID: streamSessionID)
            }
            return nil
        case .streamEnded:
            return failed("Upstream '\(target)' ended its answer without a response")
        case .accepted(let status, _):
            guard status == .accepted || status == .noContent else {
                return failed("Upstream '\(target)' answered HTTP \(status.code) without a JSON-RPC response")
            }
            return .accepted
        case .lost:
            return .sessionLost
        case .refused(let status, _, let body):
            if (200..<300).contains(status.code) {
                return failed("Upstream '\(target)' answered HTTP \(status.code) without a JSON-RPC response")
            }
            if case .success(let message) = body.withUnsafeReadableBytes({ RPCMessage.parse($0) }),
                message.kind == .error, let answer = message.answer(toRequest: requestIDJSON, raw: body)
            {
                return .response(answer.message, upstreamSessionID: nil)
            }
            return failed("Upstream '\(target)' answered HTTP \(status.code)")
        case .failed(let failure):
            return .failed(UpstreamFailure(failure, target: target).gatewayError)
        }
    }

    private func failed(_ message: String) -> UpstreamOutcome {
        .failed(.upstream(.badGateway, target: target, message))
    }
}
