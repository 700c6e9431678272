import MCPGateUpstream
import NIOHTTP1

/// Reduces an upstream's answer to its HTTP status code, for requests whose body nobody reads (a DELETE
/// ending upstream sessions): 404 when the upstream lost the session, 502 when there was no answer.
struct StatusCollector: AnswerCollector {
    mutating func take(_ answer: UpstreamAnswer) -> UInt? {
        switch answer {
        case .json: 200
        case .stream(let status, _), .accepted(let status, _), .refused(let status, _, _): status.code
        case .lost: 404
        case .failed: 502
        case .events, .streamEnded: nil
        }
    }
}
