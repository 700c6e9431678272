/// What the chain decided over one recorded exchange.
struct ExchangeOutcome {
    /// One hook call and its decision, in the order they happened.
    struct Step {
        var hook: FilterHook
        var subject: String
        var decision: FilterDecision
    }

    var steps: [Step] = []
    var responseEdits: [FilterHeaderEdit] = []
    var upstreamEdits: [FilterHeaderEdit] = []
    var attributes: [(String, String)] = []

    /// The first step that did not continue, if any.
    var deciding: Step? { steps.first { !$0.decision.isContinue } }

    /// Number of plugin failures that failed closed.
    var failures: Int {
        steps.filter {
            if case .reject(let rejection) = $0.decision { return rejection.isPluginFailure }
            return false
        }.count
    }

    /// "continue", "reject", "respond", "drop" or "failure" for the exchange as a whole.
    var decisionName: String {
        guard let deciding else { return "continue" }
        return ExchangeOutcome.name(deciding.decision)
    }

    static func name(_ decision: FilterDecision) -> String {
        switch decision {
        case .continue: "continue"
        case .reject(let rejection): rejection.isPluginFailure ? "failure" : "reject"
        case .respond: "respond"
        case .drop: "drop"
        }
    }

    static func describe(_ decision: FilterDecision) -> String {
        switch decision {
        case .continue:
            return "continue"
        case .reject(let r):
            let data = r.dataJSON.map { " data=\($0)" } ?? ""
            let kind = r.isPluginFailure ? "FAILURE (fail closed)" : "reject"
            return "\(kind) by \(r.instance): HTTP \(r.httpStatus), JSON-RPC \(r.rpcCode) \"\(r.message)\"\(data)"
        case .respond(let reply):
            let body = String(decoding: reply.body.prefix(120), as: UTF8.self)
            return
                "respond by \(reply.instance): HTTP \(reply.httpStatus)\(reply.contentType.map { " \($0)" } ?? ""), \(reply.body.count) bytes: \(body)"
        case .drop:
            return "drop"
        }
    }
}
