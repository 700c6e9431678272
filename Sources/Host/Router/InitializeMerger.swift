import CJansson
import CMCPGate
import MCPGateSession
import MCPGateUpstream
import NIOHTTP1
import PluginAPI

/// Decides a federated `initialize` from its targets' outcomes: one merged result and the session entries
/// when every answering target speaks the same version, a second round for the targets that chose a newer
/// one, or the failure (with the upstream sessions the client will never hold). Pure.
enum InitializeMerger {
    /// One target asked to initialize: its name and the replica it was sent to.
    struct Attempt: Equatable {
        var target: String
        var endpoint: String
        /// The channel this process opened for the member (sse and stdio targets).
        var localPin: LocalPin? = nil
    }

    /// A target that initialized.
    struct Initialized {
        var target: String
        var endpoint: String
        var response: RPCMessage
        var upstreamSessionID: String?
        var version: String
        var localPin: LocalPin? = nil
    }

    /// What the caller does next.
    enum Decision {
        /// The client's result, the version it is told, and the session's entries (in config order).
        /// `skipped`: targets left out under failOpen.
        case merged(result: JSONDocument, version: String, entries: [SessionState.Entry], skipped: [GatewayError])
        /// Initialize `targets` again asking for `version`, after ending `end` (their newer-version sessions);
        /// `kept` go on into the next round's `earlier`.
        case renegotiate(targets: [String], version: String, kept: [Initialized], end: [Initialized], skipped: [GatewayError])
        /// Answer `error`, after ending the upstream sessions in `end` (`skipped` as above, when the
        /// failure came after failOpen left targets out).
        case failure(GatewayError, end: [Initialized], skipped: [GatewayError] = [])
    }

    /// - Parameters:
    ///   - attempts: this round's requests, with `outcomes` in the same order.
    ///   - routeTargets: the route's target names in config order.
    ///   - retried: this round already is the renegotiation (a second mismatch is a failure).
    ///   - earlier: the targets a previous round kept.
    static func decide(
        attempts: [Attempt], outcomes: [UpstreamOutcome], routeTargets: [String], failureMode: FailureMode, retried: Bool,
        earlier: [Initialized] = []
    ) -> Decision {
        var initialized = earlier
        var failures: [GatewayError] = []
        for (attempt, outcome) in zip(attempts, outcomes) {
            let target = attempt.target
            switch outcome {
            case .response(let response, let sessionID):
                if response.kind == .result, let version = response.result?["protocolVersion"]?.string {
                    initialized.append(
                        Initialized(
                            target: target, endpoint: attempt.endpoint, response: response, upstreamSessionID: sessionID, version: version,
                            localPin: attempt.localPin))
                } else {
                    let text = response.root["error"]?["message"]?.string ?? "no result"
                    failures.append(.upstream(.badGateway, target: target, "Target '\(target)' refused initialize: \(text)"))
                }
            case .failed(let error):
                failures.append(error)
            case .accepted, .sessionLost:
                failures.append(.upstream(.badGateway, target: target, "Target '\(target)' did not answer initialize"))
            }
        }
        if let failure = failures.first, failureMode == .failClosed || initialized.isEmpty {
            return .failure(failure, end: initialized)
        }
        guard let lowest = initialized.map(\.version).min() else {
            return .failure(.upstream(.badGateway, target: "", "No target answered initialize"), end: [])
        }
        let mismatched = initialized.filter { $0.version != lowest }
        if let first = mismatched.first {
            if retried {
                return .failure(
                    .upstream(.badGateway, target: first.target, "Targets could not agree on a protocol version"), end: initialized,
                    skipped: failures)
            }
            // Every upstream session must speak the version the client is told: redo those that chose a newer one.
            return .renegotiate(
                targets: mismatched.map(\.target), version: lowest, kept: initialized.filter { $0.version == lowest }, end: mismatched,
                skipped: failures)
        }
        let ordered = routeTargets.compactMap { target in initialized.first { $0.target == target } }
        let entries = ordered.map {
            SessionState.Entry(target: $0.target, endpoint: $0.endpoint, upstreamSessionID: $0.upstreamSessionID, localPin: $0.localPin)
        }
        guard SessionState(protocolVersion: lowest, issuedAt: 0, expiresAt: 0, entries: entries).fitsEncodingLimits else {
            return .failure(
                .upstream(.badGateway, target: routeTargets.joined(separator: ","), "Upstream session ids are too long to seal"),
                end: initialized,
                skipped: failures)
        }
        let merged = ResultMerger.initializeResult(
            ordered.compactMap { item in item.response.result.map { (item.target, $0) } }, protocolVersion: lowest)
        return .merged(result: merged, version: lowest, entries: entries, skipped: failures)
    }
}
