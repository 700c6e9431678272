import NIOHTTP1

/// Folds the outcomes of a message every member of a federated session gets (`logging/setLevel`, client
/// notifications) into the one answer the client sees. Pure.
enum BroadcastFold {
    /// The answer to a request every target gets and whose result is empty (`logging/setLevel`).
    enum RequestAnswer {
        /// `{}`.
        case empty
        /// An upstream's error response, to relay under the client's id (failClosed).
        case relay(RPCMessage)
        case failure(GatewayError)
    }

    /// A lost upstream session fails the request whatever the mode; under failClosed so does the first error.
    static func request(_ outcomes: [UpstreamOutcome], failureMode: FailureMode) -> RequestAnswer {
        for outcome in outcomes {
            switch outcome {
            case .sessionLost:
                return .failure(.sessionNotFound)
            case .response(let response, _) where response.kind == .error:
                if failureMode == .failClosed { return .relay(response) }
            case .failed(let error):
                if failureMode == .failClosed { return .failure(error) }
            case .response, .accepted:
                break
            }
        }
        return .empty
    }

    /// The answer to a client notification sent to `targets`: 202 when any target accepted it, 404 when
    /// every upstream lost its session, else a 502 naming them.
    static func notification(_ outcomes: [UpstreamOutcome], targets: [String]) -> Result<Void, GatewayError> {
        if outcomes.allSatisfy({ if case .sessionLost = $0 { true } else { false } }) {
            return .failure(.sessionNotFound)
        }
        if outcomes.contains(where: { if case .accepted = $0 { true } else { false } }) {
            return .success(())
        }
        return .failure(.upstream(.badGateway, target: targets.joined(separator: ","), "No target accepted the notification"))
    }
}
