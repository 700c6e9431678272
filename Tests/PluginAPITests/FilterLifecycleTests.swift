import Testing

@testable import PluginAPI

/// Per-request state is created lazily and destroyed exactly once, whatever way the request ends;
/// config instances are destroyed exactly once after their last request.
@Suite struct FilterLifecycleTests {
    @Test func stateIsDestroyedExactlyOnceForEveryEnding() throws {
        let harness = try ChainHarness([#"{"tag":"A"}"#, #"{"tag":"B"}"#])
        // 1. a normal request, finished twice (the second call does nothing)
        do {
            let request = harness.request()
            _ = request.onHTTPRequestHeaders()
            _ = request.rpc(toolsCall)
            request.finish(FilterCompletion(httpStatus: 200))
            request.finish(FilterCompletion(httpStatus: 200))
        }
        // 2. the client went away mid-request
        do {
            let request = harness.request()
            _ = request.rpc(toolsCall)
            request.finish(FilterCompletion(httpStatus: 0, clientDisconnected: true))
        }
        // 3. dropped without finish: deinit finishes it
        do {
            let request = harness.request()
            _ = request.onHTTPRequestHeaders()
        }
        // 4. a request no hook ran for creates no state at all
        do {
            let request = harness.request()
            request.finish(FilterCompletion(httpStatus: 200))
        }
        #expect(harness.counter("test_requests_created") == 6)
        #expect(harness.counter("test_requests_destroyed") == 6)
        #expect(harness.counter("test_completed") == 6)
    }

    @Test func abandonedRequestsCompleteAsClientGone() throws {
        let harness = try ChainHarness([#"{"tag":"A"}"#])
        var seen: String?
        do {
            let request = harness.request()
            _ = request.onHTTPRequestHeaders()
            withExtendedLifetime(request) {}
            // Read before release: deinit has not run yet.
            seen = request.attribute("test.complete.A")
        }
        #expect(seen == nil)
        #expect(harness.counter("test_completed") == 1)
    }

    @Test func stateIsCreatedLazilyOnlyForInstancesThatRun() throws {
        let harness = try ChainHarness([#"{"tag":"A","http":"reject"}"#, #"{"tag":"B"}"#])
        let request = harness.request()
        _ = request.onHTTPRequestHeaders()
        request.finish(FilterCompletion(httpStatus: 403))
        #expect(harness.counter("test_requests_created") == 1)
        #expect(harness.counter("test_requests_destroyed") == 1)
    }

    @Test func configIsDestroyedOnceAfterTheLastRequest() throws {
        let plugin = try PluginLoader.load(path: TestPlugins.behaviorPath)
        let metrics = MetricsRegistry()
        let services = HostServices(metrics: metrics, logSink: CapturingLogSink())
        var chain: FilterChain? = try FilterChain([FilterInstanceSpec(plugin: plugin)], services: services)
        let request = chain?.makeRequest(FilterHTTPRequest(method: "POST", path: "/mcp"))
        _ = request?.rpc(toolsCall)
        chain = nil
        #expect(
            metrics.value(of: "mcpgate_plugin_test_configs_destroyed", labels: ["plugin": "test_behavior", "instance": "test_behavior"])
                == nil)
        request?.finish(FilterCompletion(httpStatus: 200))
        withExtendedLifetime(request) {}
        _ = consume request
        #expect(
            metrics.value(of: "mcpgate_plugin_test_configs_destroyed", labels: ["plugin": "test_behavior", "instance": "test_behavior"])
                == 1)
    }

    @Test func instanceNamesAreMadeUnique() throws {
        let harness = try ChainHarness(["{}", "{}", "{}"])
        #expect(harness.chain.instances.map(\.name) == ["test_behavior", "test_behavior#2", "test_behavior#3"])
    }
}
