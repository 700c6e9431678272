import NIOCore
import NIOHTTP1
import PluginAPI
import Testing

@testable import MCPGate
@testable import MCPGateUpstream

/// What a fan-out member's answer comes to (`ResponseCollector`), and a DELETE's (`StatusCollector`).
@Suite("Response collector")
struct ResponseCollectorTests {
    private func events(_ texts: String...) -> [SSEEvent] {
        var framer = SSEFramer(maxEventBytes: 1 << 16)
        return (try? framer.feed(ByteBuffer(string: texts.map { "data: \($0)\n\n" }.joined()))) ?? []
    }

    private func describe(_ outcome: UpstreamOutcome?) -> String {
        switch outcome {
        case .response(let message, let session)?:
            "response \(String(decoding: message.document.serialized(), as: UTF8.self)) session=\(session ?? "-")"
        case .accepted?: "accepted"
        case .sessionLost?: "sessionLost"
        case .failed(let error)?: "failed \(error.status.code) \(error.message)"
        case nil: "nil"
        }
    }

    @Test("a JSON answer with the request's id is the response, with the upstream's session id")
    func jsonAnswer() {
        var collector = ResponseCollector(requestIDJSON: "7", target: "a")
        let outcome = collector.take(.json(ByteBuffer(string: #"{"jsonrpc":"2.0","id":7,"result":{"x":1}}"#), upstreamSessionID: "u"))
        #expect(describe(outcome) == #"response {"jsonrpc":"2.0","id":7,"result":{"x":1}} session=u"#)
    }

    @Test("a JSON answer to another id, or one that is no response, fails naming the target")
    func jsonWrong() {
        var collector = ResponseCollector(requestIDJSON: "7", target: "a")
        #expect(
            describe(collector.take(.json(ByteBuffer(string: #"{"jsonrpc":"2.0","id":8,"result":{}}"#), upstreamSessionID: nil)))
                == "failed 502 Upstream 'a' answered with a response to another request")
        #expect(
            describe(collector.take(.json(ByteBuffer(string: #"{"jsonrpc":"2.0","method":"x"}"#), upstreamSessionID: nil)))
                == "failed 502 Upstream 'a' answered with a body that is not a JSON-RPC response")
    }

    @Test("an error with a null id answers the request, under the request's id")
    func nullIDError() {
        var collector = ResponseCollector(requestIDJSON: "\"r\"", target: "a")
        let outcome = collector.take(
            .json(ByteBuffer(string: #"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"p"}}"#), upstreamSessionID: nil))
        #expect(describe(outcome) == #"response {"jsonrpc":"2.0","id":"r","error":{"code":-32700,"message":"p"}} session=-"#)
    }

    @Test("on a stream, notifications pass by; the response event ends the collection with the stream's session id")
    func streamAnswer() {
        var collector = ResponseCollector(requestIDJSON: "1", target: "a")
        #expect(collector.take(.stream(.ok, upstreamSessionID: "s")) == nil)
        #expect(collector.take(.events(events(#"{"jsonrpc":"2.0","method":"notifications/progress","params":{}}"#))) == nil)
        let outcome = collector.take(.events(events(#"{"jsonrpc":"2.0","id":1,"result":{}}"#)))
        #expect(describe(outcome) == #"response {"jsonrpc":"2.0","id":1,"result":{}} session=s"#)
        var ended = ResponseCollector(requestIDJSON: "1", target: "a")
        #expect(describe(ended.take(.streamEnded)) == "failed 502 Upstream 'a' ended its answer without a response")
    }

    @Test("202/204 are accepted, a 200 with no body is not a response, 404 with a session is a lost session")
    func statuses() {
        var collector = ResponseCollector(requestIDJSON: "null", target: "a")
        #expect(describe(collector.take(.accepted(.accepted, upstreamSessionID: nil))) == "accepted")
        #expect(describe(collector.take(.accepted(.noContent, upstreamSessionID: nil))) == "accepted")
        #expect(
            describe(collector.take(.accepted(.ok, upstreamSessionID: nil)))
                == "failed 502 Upstream 'a' answered HTTP 200 without a JSON-RPC response")
        #expect(describe(collector.take(.lost)) == "sessionLost")
    }

    @Test("a refusal carrying a JSON-RPC error for the request is the response; anything else fails with the status only")
    func refusals() {
        var collector = ResponseCollector(requestIDJSON: "3", target: "a")
        let error = ByteBuffer(string: #"{"jsonrpc":"2.0","id":3,"error":{"code":-32602,"message":"bad"}}"#)
        #expect(
            describe(collector.take(.refused(.badRequest, contentType: "application/json", body: error)))
                == #"response {"jsonrpc":"2.0","id":3,"error":{"code":-32602,"message":"bad"}} session=-"#)
        #expect(
            describe(
                collector.take(.refused(.internalServerError, contentType: "text/plain", body: ByteBuffer(string: "secret at 10.0.0.1"))))
                == "failed 502 Upstream 'a' answered HTTP 500")
        #expect(
            describe(collector.take(.refused(.ok, contentType: "text/html", body: ByteBuffer())))
                == "failed 502 Upstream 'a' answered HTTP 200 without a JSON-RPC response")
    }

    @Test("reader failures become the same gateway errors a lone request gets")
    func failures() {
        var collector = ResponseCollector(requestIDJSON: "1", target: "a")
        #expect(describe(collector.take(.failed(.bodyTooLarge(limit: 9)))) == "failed 502 Upstream 'a' sent a response larger than 9 bytes")
        #expect(
            describe(collector.take(.failed(.transport(UpstreamError.deadlineExceeded))))
                == "failed 504 Upstream 'a' did not answer in time")
        #expect(
            describe(collector.take(.failed(.transport(ChannelError.connectTimeout(.seconds(1))))))
                == "failed 504 Upstream 'a' did not answer in time")
    }

    @Test("a DELETE's answer comes down to its status")
    func deleteStatus() {
        var collector = StatusCollector()
        #expect(collector.take(.accepted(.noContent, upstreamSessionID: nil)) == 204)
        #expect(collector.take(.refused(.methodNotAllowed, contentType: "", body: ByteBuffer())) == 405)
        #expect(collector.take(.lost) == 404)
        #expect(collector.take(.failed(.noAnswer)) == 502)
        #expect(collector.take(.json(ByteBuffer(string: "{}"), upstreamSessionID: nil)) == 200)
    }
}
