import CJansson
import CMCPGate
import Testing

@testable import PluginAPI

/// Builds chains of the config-driven test filter and drives requests through them.
struct ChainHarness {
    let chain: FilterChain
    let services: HostServices
    let logs: CapturingLogSink
    let clock: ManualHostClock

    /// One instance of the behaviour plugin per config (JSON object text), in order.
    init(_ configs: [String], failOpen: [Bool] = [], kv: (any KVStore)? = nil) throws {
        let plugin = try PluginLoader.load(path: TestPlugins.behaviorPath)
        let clock = ManualHostClock()
        let logs = CapturingLogSink()
        let services = HostServices(kvStore: kv ?? InMemoryKVStore(clock: clock), clock: clock, logSink: logs)
        let specs = configs.enumerated().map { index, config in
            FilterInstanceSpec(plugin: plugin, configJSON: config, failOpen: index < failOpen.count ? failOpen[index] : false)
        }
        self.chain = try FilterChain(specs, services: services)
        self.services = services
        self.logs = logs
        self.clock = clock
    }

    func request(
        method: String = "POST", headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
    ) -> FilterChainRequest {
        chain.makeRequest(FilterHTTPRequest(method: method, path: "/mcp", headers: headers, remoteAddress: "127.0.0.1:5000"))
    }

    /// A counter of the behaviour plugin, summed over instances.
    func counter(_ name: String) -> Double {
        guard let family = services.metrics.snapshot().first(where: { $0.name == "mcpgate_plugin_" + name }) else { return 0 }
        return family.series.reduce(0) { $0 + $1.value }
    }

    func pluginErrors(hook: String) -> Double {
        guard let family = services.metrics.snapshot().first(where: { $0.name == MetricsRegistry.pluginErrorsMetricName }) else {
            return 0
        }
        return family.series.filter { $0.labelValues[2] == hook }.reduce(0) { $0 + $1.value }
    }
}

/// Parses JSON text, runs `body` with the tree and its bytes, and frees the tree.
func withMessage<T>(_ text: String, _ body: (UnsafePointer<json_t>, UnsafeRawBufferPointer) -> T) -> T {
    var error = json_error_t()
    guard let json = json_loads(text, 0, &error) else { fatalError("bad JSON in test: \(text)") }
    defer { json_decref(json) }
    var copy = text
    return copy.withUTF8 { body(UnsafePointer(json), UnsafeRawBufferPointer($0)) }
}

extension FilterChainRequest {
    func rpc(_ text: String) -> FilterDecision {
        withMessage(text) { onRPCMessage($0, raw: $1) }
    }

    func response(_ text: String, to request: String? = nil) -> FilterDecision {
        withMessage(text) { response, raw in
            if let request {
                return withMessage(request) { requestJSON, _ in onRPCResponse(response, raw: raw, request: requestJSON) }
            }
            return onRPCResponse(response, raw: raw)
        }
    }

    func sse(_ text: String) -> FilterDecision {
        withMessage(text) { json, raw in onSSEEvent(FilterSSEEvent(data: raw, message: json)) }
    }

    var trace: String { attribute("test.trace") ?? "" }
}

let toolsCall = #"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"search","arguments":{"q":"x"}}}"#
let toolsCallResult = #"{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"ok"}]}}"#
let progressNotification = #"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":50}}"#
