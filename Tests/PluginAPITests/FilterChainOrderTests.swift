import Testing

@testable import PluginAPI

/// Request hooks run in chain order, response hooks in reverse, and a stop limits who sees the response.
@Suite struct FilterChainOrderTests {
    @Test func requestHooksRunInOrderAndResponseHooksInReverse() throws {
        let harness = try ChainHarness([#"{"tag":"A"}"#, #"{"tag":"B"}"#, #"{"tag":"C"}"#])
        let request = harness.request()
        #expect(request.onHTTPRequestHeaders() == .continue)
        #expect(request.rpc(toolsCall) == .continue)
        #expect(request.response(toolsCallResult, to: toolsCall) == .continue)
        #expect(request.sse(progressNotification) == .continue)
        _ = request.onResponseHeaders(FilterHTTPResponse(status: 200, origin: .upstream))
        request.finish(FilterCompletion(httpStatus: 200))
        #expect(
            request.trace == "A:http;B:http;C:http;A:rpc;B:rpc;C:rpc;C:response;B:response;A:response;"
                + "C:sse;B:sse;A:sse;C:headers;B:headers;A:headers;C:complete;B:complete;A:complete;")
    }

    @Test func aRejectInTheRequestPathStopsLaterFiltersAndLimitsResponseHooks() throws {
        let harness = try ChainHarness([
            #"{"tag":"A","response_header":["Access-Control-Allow-Origin","*"]}"#,
            #"{"tag":"B","http":"reject","status":401,"code":-32001,"message":"no token","data":{"hint":"login"}}"#,
            #"{"tag":"C"}"#,
        ])
        let request = harness.request()
        let decision = request.onHTTPRequestHeaders()
        #expect(
            decision
                == .reject(
                    FilterRejection(
                        httpStatus: 401, rpcCode: -32001, message: "no token", dataJSON: #"{"hint":"login"}"#, instance: "test_behavior#2"))
        )
        #expect(request.wasStoppedByFilter)
        let edits = request.onResponseHeaders(FilterHTTPResponse(status: 401, origin: .plugin))
        #expect(edits == [FilterHeaderEdit(operation: .set, name: "Access-Control-Allow-Origin", value: "*")])
        request.finish(FilterCompletion(httpStatus: 401))
        #expect(request.trace == "A:http;B:http;B:headers;A:headers;B:complete;A:complete;")
        #expect(request.attribute("test.response_status") == "401/2")
    }

    @Test func gatewayErrorsStillReachEveryResponseHeadersHook() throws {
        let harness = try ChainHarness([#"{"tag":"A"}"#, #"{"tag":"B"}"#])
        let request = harness.request()
        _ = request.onResponseHeaders(FilterHTTPResponse(status: 404, origin: .gateway))
        request.finish(FilterCompletion(httpStatus: 404))
        #expect(request.trace == "B:headers;A:headers;B:complete;A:complete;")
        #expect(request.attribute("test.response_status") == "404/1")
    }

    @Test func completionReportsStatusFlagsAndHooksRun() throws {
        let harness = try ChainHarness([#"{"tag":"A"}"#, #"{"tag":"B","rpc":"reject"}"#])
        let request = harness.request()
        _ = request.rpc(toolsCall)
        request.finish(FilterCompletion(httpStatus: 403, clientDisconnected: true))
        // flags: CLIENT_GONE | REJECTED = 3; hooks_run: RPC_MESSAGE = 2
        #expect(request.attribute("test.complete.A") == "403/3/2")
        #expect(request.attribute("test.complete.B") == "403/3/2")
    }

    @Test func emptyChainContinuesEverywhere() throws {
        let chain = try FilterChain([])
        #expect(chain.isEmpty)
        let request = chain.makeRequest(FilterHTTPRequest(method: "POST", path: "/mcp"))
        #expect(request.onHTTPRequestHeaders() == .continue)
        #expect(request.rpc(toolsCall) == .continue)
        #expect(request.onResponseHeaders(FilterHTTPResponse(status: 200, origin: .upstream)).isEmpty)
        request.finish(FilterCompletion(httpStatus: 200))
    }
}
