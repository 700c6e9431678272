import NIOCore

/// Reduces one upstream's answer to the value its fan-out collects. `take` is given each part of the answer
/// in order and returns the outcome once it has one; returning an outcome before the answer is over (the
/// response arrived on a stream the upstream keeps open) stops the request.
package protocol AnswerCollector {
    associatedtype Outcome
    mutating func take(_ answer: UpstreamAnswer) -> Outcome?
}

/// Sends N requests concurrently and reports their N outcomes, in request order, once all are in: the
/// transport half of a federated `initialize`, list or broadcast. It knows nothing of what is sent; each
/// member's answer is reduced by the collector the caller gives it.
///
/// Confined to the event loop it runs on.
package enum FanOut {
    /// Forwards `requests`; `completion` runs once, on `eventLoop`, with every outcome. Returns the readers,
    /// for the caller to stop when its client goes away (then `completion` never runs). Every collector must
    /// return an outcome for a final answer.
    package static func forward<Collector: AnswerCollector>(
        _ requests: [UpstreamRequest],
        client: UpstreamClient,
        on eventLoop: any EventLoop,
        limits: UpstreamAnswerLimits,
        collectors: [Collector],
        completion: @escaping ([Collector.Outcome]) -> Void
    ) -> [UpstreamAnswerReader] {
        precondition(requests.count == collectors.count, "one collector per request")
        guard !requests.isEmpty else {
            completion([])
            return []
        }
        let state = FanOutState<Collector.Outcome>(count: requests.count, completion: completion)
        var readers: [UpstreamAnswerReader] = []
        readers.reserveCapacity(requests.count)
        for (index, request) in requests.enumerated() {
            var collector = collectors[index]
            var reader: UpstreamAnswerReader?
            reader = client.forward(request, on: eventLoop, limits: limits) { answer in
                guard let outcome = collector.take(answer) else { return nil }
                // The answer came on a stream the upstream may keep open: stop reading it.
                if let reader, !reader.finished { reader.stop() }
                state.record(outcome, at: index)
                return nil
            }
            if let reader { readers.append(reader) }
        }
        return readers
    }
}

/// Collects a fan-out's outcomes and reports them once all are in. Event-loop confined.
private final class FanOutState<Outcome> {
    private var outcomes: [Outcome?]
    private var remaining: Int
    private var completion: (([Outcome]) -> Void)?

    package init(count: Int, completion: @escaping ([Outcome]) -> Void) {
        self.outcomes = Array(repeating: nil, count: count)
        self.remaining = count
        self.completion = completion
    }

    package func record(_ outcome: Outcome, at index: Int) {
        guard outcomes[index] == nil else { return }
        outcomes[index] = outcome
        remaining -= 1
        guard remaining == 0, let completion else { return }
        self.completion = nil
        completion(outcomes.compactMap { $0 })
    }
}
