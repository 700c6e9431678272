import Testing

@testable import PluginAPI

/// Every decision kind, from every hook that may return it, with its fields and defaults.
@Suite struct FilterDecisionTests {
    @Test func rejectDefaultsTo403AndInvalidRequest() throws {
        let harness = try ChainHarness([#"{"rpc":"reject"}"#])
        let decision = harness.request().rpc(toolsCall)
        let expected = FilterRejection(httpStatus: 403, rpcCode: -32600, message: "Request rejected by policy", instance: "test_behavior")
        #expect(decision == .reject(expected))
        #expect(
            expected.responseBody(idJSON: "7")
                == #"{"jsonrpc":"2.0","id":7,"error":{"code":-32600,"message":"Request rejected by policy"}}"#)
    }

    @Test func rejectCarriesStatusCodeMessageAndData() throws {
        let harness = try ChainHarness([#"{"rpc":"reject","status":429,"code":-32000,"message":"slow \"down\"","data":{"retry":1}}"#])
        guard case .reject(let rejection) = harness.request().rpc(toolsCall) else {
            Issue.record("expected reject")
            return
        }
        #expect(rejection.httpStatus == 429)
        #expect(rejection.rpcCode == -32000)
        #expect(rejection.message == "slow \"down\"")
        #expect(rejection.dataJSON == #"{"retry":1}"#)
        #expect(
            rejection.responseBody(idJSON: "\"a\"")
                == #"{"jsonrpc":"2.0","id":"a","error":{"code":-32000,"message":"slow \"down\"","data":{"retry":1}}}"#)
    }

    @Test func respondFromHTTPHeadersHookIsAWholeHTTPResponse() throws {
        let harness = try ChainHarness([#"{"http":"respond","status":204}"#])
        let decision = harness.request(method: "OPTIONS").onHTTPRequestHeaders()
        #expect(decision == .respond(FilterReply(httpStatus: 204, contentType: nil, body: [], instance: "test_behavior")))
    }

    @Test func respondFromHTTPHeadersHookWithBody() throws {
        let harness = try ChainHarness([#"{"http":"respond","body":"hello","content_type":"text/plain"}"#])
        let decision = harness.request().onHTTPRequestHeaders()
        #expect(
            decision
                == .respond(FilterReply(httpStatus: 200, contentType: "text/plain", body: Array("hello".utf8), instance: "test_behavior")))
    }

    @Test func respondFromRPCMessageIsAResultTheHostWrapsWithTheId() throws {
        let harness = try ChainHarness([#"{"rpc":"respond","result":{"content":[],"cached":true}}"#])
        guard case .respond(let reply) = harness.request().rpc(toolsCall) else {
            Issue.record("expected respond")
            return
        }
        #expect(String(decoding: reply.body, as: UTF8.self) == #"{"content":[],"cached":true}"#)
        #expect(reply.resultResponseBody(idJSON: "7") == #"{"jsonrpc":"2.0","id":7,"result":{"content":[],"cached":true}}"#)
    }

    @Test func respondFromRPCMessageWithRawResultText() throws {
        let harness = try ChainHarness([#"{"rpc":"respond","body":"{\"tools\":[]}"}"#])
        guard case .respond(let reply) = harness.request().rpc(toolsCall) else {
            Issue.record("expected respond")
            return
        }
        #expect(String(decoding: reply.body, as: UTF8.self) == #"{"tools":[]}"#)
    }

    @Test func respondWithoutAResultIsAPluginFailure() throws {
        let harness = try ChainHarness([#"{"rpc":"respond"}"#])
        guard case .reject(let rejection) = harness.request().rpc(toolsCall) else {
            Issue.record("expected failure")
            return
        }
        #expect(rejection.isPluginFailure)
    }

    @Test func responseHookCanReplaceTheResultOrTheResponse() throws {
        let replacing = try ChainHarness([#"{"response":"respond","result":{"redacted":true}}"#])
        guard case .respond(let reply) = replacing.request().response(toolsCallResult, to: toolsCall) else {
            Issue.record("expected respond")
            return
        }
        #expect(String(decoding: reply.body, as: UTF8.self) == #"{"redacted":true}"#)

        let rejecting = try ChainHarness([#"{"response":"reject","code":-32002,"message":"too big"}"#])
        guard case .reject(let rejection) = rejecting.request().response(toolsCallResult) else {
            Issue.record("expected reject")
            return
        }
        #expect(rejection.rpcCode == -32002)
    }

    @Test func sseEventsCanBeDroppedOrRejected() throws {
        let dropping = try ChainHarness([#"{"tag":"A"}"#, #"{"tag":"B","sse":"drop"}"#])
        let request = dropping.request()
        #expect(request.sse(progressNotification) == .drop)
        // Reverse order: B drops before A sees the event.
        #expect(request.trace == "B:sse;")
        #expect(request.attribute("test.sse_method") == "notifications/progress")

        let rejecting = try ChainHarness([#"{"sse":"reject"}"#])
        guard case .reject = rejecting.request().sse(#"{"jsonrpc":"2.0","id":3,"method":"sampling/createMessage","params":{}}"#) else {
            Issue.record("expected reject")
            return
        }
    }

    @Test func dropOutsideSSEIsAPluginFailure() throws {
        let harness = try ChainHarness([#"{"rpc":"drop"}"#])
        guard case .reject(let rejection) = harness.request().rpc(toolsCall) else {
            Issue.record("expected failure")
            return
        }
        #expect(
            rejection
                == FilterRejection(
                    httpStatus: 500, rpcCode: -32603, message: "Internal error", instance: "test_behavior", isPluginFailure: true))
        #expect(harness.pluginErrors(hook: "on_rpc_message") == 1)
    }

    @Test func responseHeadersHookCannotChangeTheResponse() throws {
        let harness = try ChainHarness([#"{"response_headers":"reject","response_header":["X-Seen","1"]}"#])
        let request = harness.request()
        let edits = request.onResponseHeaders(FilterHTTPResponse(status: 200, origin: .upstream))
        #expect(edits == [FilterHeaderEdit(operation: .set, name: "X-Seen", value: "1")])
        #expect(harness.pluginErrors(hook: "on_response_headers") == 1)
    }
}
