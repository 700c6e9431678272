import Testing

@testable import PluginAPI

/// A failing plugin fails closed unless its instance is failOpen; either way it is logged and counted.
@Suite struct FilterFailureTests {
    @Test func errorFailsClosedByDefault() throws {
        let harness = try ChainHarness([#"{"tag":"A","rpc":"error"}"#, #"{"tag":"B"}"#])
        let request = harness.request()
        #expect(
            request.rpc(toolsCall)
                == .reject(
                    FilterRejection(
                        httpStatus: 500, rpcCode: -32603, message: "Internal error", instance: "test_behavior", isPluginFailure: true)))
        #expect(request.trace == "A:rpc;")
        #expect(harness.pluginErrors(hook: "on_rpc_message") == 1)
        #expect(
            harness.logs.lines.contains {
                $0.level == .error && $0.message == "on_rpc_message returned MCPGATE_ERROR; failing closed"
            })
    }

    @Test func errorContinuesWhenFailOpen() throws {
        let harness = try ChainHarness([#"{"tag":"A","rpc":"error"}"#, #"{"tag":"B"}"#], failOpen: [true])
        let request = harness.request()
        #expect(request.rpc(toolsCall) == .continue)
        #expect(request.trace == "A:rpc;B:rpc;")
        #expect(harness.pluginErrors(hook: "on_rpc_message") == 1)
        #expect(harness.logs.lines.contains { $0.message.hasSuffix("failOpen: continuing") })
    }

    @Test func unknownActionIsAFailure() throws {
        let closed = try ChainHarness([#"{"http":"bogus"}"#])
        guard case .reject(let rejection) = closed.request().onHTTPRequestHeaders() else {
            Issue.record("expected failure")
            return
        }
        #expect(rejection.isPluginFailure)
        #expect(
            closed.logs.lines.contains {
                $0.message == "on_http_request_headers returned action 77, which on_http_request_headers may not return; failing closed"
            })

        let open = try ChainHarness([#"{"http":"bogus"}"#], failOpen: [true])
        #expect(open.request().onHTTPRequestHeaders() == .continue)
    }

    @Test func failingRequestNewFailsClosedAndIsNeverDestroyed() throws {
        let harness = try ChainHarness([#"{"tag":"A","request_new_fails":true}"#, #"{"tag":"B"}"#])
        let request = harness.request()
        guard case .reject(let rejection) = request.onHTTPRequestHeaders() else {
            Issue.record("expected failure")
            return
        }
        #expect(rejection.isPluginFailure)
        request.finish(FilterCompletion(httpStatus: 500))
        #expect(harness.pluginErrors(hook: "request_new") == 1)
        #expect(harness.counter("test_requests_created") == 0)
        #expect(harness.counter("test_requests_destroyed") == 0)
        #expect(harness.counter("test_completed") == 0)
    }

    @Test func failingRequestNewSkipsTheInstanceWhenFailOpen() throws {
        let harness = try ChainHarness([#"{"tag":"A","request_new_fails":true}"#, #"{"tag":"B"}"#], failOpen: [true])
        let request = harness.request()
        #expect(request.onHTTPRequestHeaders() == .continue)
        #expect(request.rpc(toolsCall) == .continue)
        request.finish(FilterCompletion(httpStatus: 200))
        #expect(request.trace == "B:http;B:rpc;B:complete;")
        #expect(harness.pluginErrors(hook: "request_new") == 2)
    }

    @Test func configRefusalNamesTheInstance() throws {
        let plugin = try PluginLoader.load(path: TestPlugins.behaviorPath)
        #expect(
            throws: FilterChainError.configRejected(
                instance: "policy", plugin: "test_behavior", status: 2, message: "config_fails is set")
        ) {
            _ = try FilterChain([FilterInstanceSpec(plugin: plugin, name: "policy", configJSON: #"{"config_fails":true}"#)])
        }
        #expect(
            FilterChainError.configRejected(instance: "policy", plugin: "test_behavior", status: 2, message: "config_fails is set")
                .description
                == "filter policy (plugin test_behavior) refused its config (status 2): config_fails is set")
    }

    @Test func invalidConfigJSONIsRefusedBeforeThePluginSeesIt() throws {
        let plugin = try PluginLoader.load(path: TestPlugins.behaviorPath)
        do {
            _ = try FilterChain([FilterInstanceSpec(plugin: plugin, configJSON: #"{"a":1,"a":2}"#)])
            Issue.record("expected a refusal")
        } catch {
            guard case .invalidConfigJSON(let instance, let message) = error else {
                Issue.record("wrong error \(error)")
                return
            }
            #expect(instance == "test_behavior")
            #expect(message.contains("duplicate object key"))
        }
    }
}
