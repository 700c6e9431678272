import Testing

@testable import PluginAPI

/// Host services as plugins reach them through the table: attributes, headers, message fields, KV,
/// rate limiting, metrics, logs.
@Suite struct FilterHostServicesTests {
    @Test func principalSetByAuthIsReadOnlyAndVisibleToLaterFiltersAndTheRouter() throws {
        let harness = try ChainHarness([#"{"tag":"auth","set_principal":"alice"}"#, #"{"tag":"policy","require_principal":true}"#])
        let request = harness.request()
        #expect(request.onHTTPRequestHeaders() == .continue)
        #expect(request.rpc(toolsCall) == .continue)
        #expect(request.principal == "alice")
        #expect(request.setAttribute("mcpgate.principal", "mallory") == false)
        #expect(request.principal == "alice")
    }

    @Test func missingPrincipalIsRejectedByAPolicyThatNeedsIt() throws {
        let harness = try ChainHarness([#"{"require_principal":true}"#])
        guard case .reject(let rejection) = harness.request().rpc(toolsCall) else {
            Issue.record("expected reject")
            return
        }
        #expect(rejection.httpStatus == 401)
        #expect(rejection.message == "authentication required")
    }

    @Test func hostSetAttributesAreVisibleToPlugins() throws {
        let harness = try ChainHarness([#"{"require_principal":true}"#])
        let request = harness.request()
        request.setAttribute("mcpgate.principal", "bob")
        #expect(request.rpc(toolsCall) == .continue)
    }

    @Test func requestHeadersAreReadCaseInsensitively() throws {
        let harness = try ChainHarness([#"{"copy_header":"user-agent"}"#])
        let request = harness.request(headers: [("Content-Type", "application/json"), ("User-Agent", "probe/1.0")])
        _ = request.onHTTPRequestHeaders()
        #expect(request.attribute("test.header") == "probe/1.0")
        #expect(request.attribute("test.method") == "POST")
    }

    @Test func headerEditsAreQueuedForUpstreamAndResponse() throws {
        let harness = try ChainHarness([#"{"upstream_header":["X-Principal","alice"],"response_header":["X-Policy","on"]}"#])
        let request = harness.request()
        _ = request.rpc(toolsCall)
        #expect(request.upstreamHeaderEdits == [FilterHeaderEdit(operation: .set, name: "X-Principal", value: "alice")])
        let edits = request.onResponseHeaders(FilterHTTPResponse(status: 200, origin: .upstream, headers: [("x-policy", "old")]))
        #expect(
            edits.applied(to: [("x-policy", "old"), ("Content-Type", "application/json")]).map { "\($0.name)=\($0.value)" }
                == ["Content-Type=application/json", "X-Policy=on"])
    }

    @Test func messageFieldsAreExtractedForEachTargetKind() throws {
        let harness = try ChainHarness(["{}"])
        let cases: [(String, String, String)] = [
            (toolsCall, "tools/call", "search"),
            (#"{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"file:///a.txt"}}"#, "resources/read", "file:///a.txt"),
            (#"{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"greet"}}"#, "prompts/get", "greet"),
            (#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#, "tools/list", ""),
            (progressNotification, "notifications/progress", ""),
        ]
        for (message, method, target) in cases {
            let request = harness.request()
            _ = request.rpc(message)
            #expect(request.attribute("test.rpc_method") == method)
            #expect(request.attribute("test.target") == target)
        }
    }

    @Test func responsesCarryTheirRequestsMethodAndTarget() throws {
        let harness = try ChainHarness(["{}"])
        let request = harness.request()
        _ = request.response(toolsCallResult, to: toolsCall)
        #expect(request.attribute("test.response_to") == "tools/call")
        #expect(request.attribute("test.response_target") == "search")
    }

    @Test func kvCountersArePerPluginAndSurviveRequests() throws {
        let harness = try ChainHarness([#"{"count_key":"calls"}"#])
        for expected in 1...3 {
            let request = harness.request()
            _ = request.rpc(toolsCall)
            #expect(request.attribute("test.count") == String(expected))
        }
        // Namespaced by plugin name.
        #expect(try harness.services.kvStore.get(Array("test_behavior:calls".utf8))?.bytes == Array("3".utf8))
    }

    @Test func rateLimitRejectsWithRetryAfterThenRefills() throws {
        let harness = try ChainHarness([#"{"rate_limit":{"capacity":2,"refill":1,"interval_ms":1000}}"#])
        #expect(harness.request().rpc(toolsCall) == .continue)
        #expect(harness.request().rpc(toolsCall) == .continue)
        guard case .reject(let rejection) = harness.request().rpc(toolsCall) else {
            Issue.record("expected 429")
            return
        }
        #expect(rejection.httpStatus == 429)
        #expect(rejection.dataJSON == #"{"retry_after_ms":1000}"#)
        harness.clock.advance(milliseconds: 999)
        guard case .reject = harness.request().rpc(toolsCall) else {
            Issue.record("expected 429 before the refill")
            return
        }
        harness.clock.advance(milliseconds: 1)
        #expect(harness.request().rpc(toolsCall) == .continue)
    }

    @Test func pluginLogsCarryPluginAndInstance() throws {
        let harness = try ChainHarness([#"{"tag":"X"}"#])
        #expect(
            harness.logs.lines.contains(
                CapturingLogSink.Line(
                    level: .info, plugin: "test_behavior", instance: "test_behavior", message: "configured tag X")))
    }

    @Test func pluginMetricsAreLabelledAndExported() throws {
        let harness = try ChainHarness(["{}"])
        let request = harness.request()
        _ = request.rpc(toolsCall)
        request.finish(FilterCompletion(httpStatus: 200))
        let text = harness.services.metrics.prometheusText()
        #expect(text.contains("# TYPE mcpgate_plugin_test_requests_created counter\n"))
        #expect(text.contains(#"mcpgate_plugin_test_requests_created{plugin="test_behavior",instance="test_behavior"} 1"#))
    }
}
