// Micro-benchmark: what a chain of four no-op plugins adds to one request.
//
// One "request" is the full hook sequence the host drives for a POST carrying one tools/call and a
// JSON response: makeRequest, onHTTPRequestHeaders, onRPCMessage, onRPCResponse, onResponseHeaders,
// finish (so 4 x (request_new + 4 hooks + on_complete + request_destroy) C calls). Messages are parsed
// once up front: parsing is the host's cost with or without plugins.
//
// Usage: swift run -c release PluginChainBench [iterations] [plugin.so]
// The plugin defaults to libmcpgate_test_noop.so next to this executable.

import CJansson
import PluginAPI

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let arguments = CommandLine.arguments
let iterations = arguments.count > 1 ? Int(arguments[1]) ?? 200_000 : 200_000
let pluginPath = arguments.count > 2 ? arguments[2] : PluginLoader.bundledPluginDirectory + "/libmcpgate_test_noop.so"

func twoDecimals(_ value: Double) -> String {
    let hundredths = Int((value * 100).rounded())
    let sign = hundredths < 0 ? "-" : ""
    let magnitude = abs(hundredths)
    let fraction = magnitude % 100
    return "\(sign)\(magnitude / 100).\(fraction < 10 ? "0" : "")\(fraction)"
}

func now() -> UInt64 { SystemHostClock().monotonicNanoseconds() }

let plugin: LoadedPlugin
do {
    plugin = try PluginLoader.load(path: pluginPath)
} catch {
    print("cannot load \(pluginPath): \(error)")
    exit(1)
}

let requestText = #"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"search","arguments":{"q":"mcp"}}}"#
let responseText = #"{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"ok"}]}}"#
var parseError = json_error_t()
guard let requestJSON = json_loads(requestText, 0, &parseError),
    let responseJSON = json_loads(responseText, 0, &parseError)
else {
    print("bad JSON")
    exit(1)
}
let requestBytes = Array(requestText.utf8)
let responseBytes = Array(responseText.utf8)
let headers: [(name: String, value: String)] = [
    ("Host", "127.0.0.1:3000"), ("Content-Type", "application/json"), ("Accept", "application/json, text/event-stream"),
    ("Mcp-Session-Id", "abc123"), ("MCP-Protocol-Version", "2025-06-18"),
]
let services = HostServices(logSink: CapturingLogSink())

func runOnce(_ chain: FilterChain) {
    let request = chain.makeRequest(FilterHTTPRequest(method: "POST", path: "/mcp", headers: headers))
    precondition(request.onHTTPRequestHeaders() == .continue)
    requestBytes.withUnsafeBytes { raw in
        precondition(request.onRPCMessage(UnsafePointer(requestJSON), raw: raw) == .continue)
    }
    responseBytes.withUnsafeBytes { raw in
        precondition(request.onRPCResponse(UnsafePointer(responseJSON), raw: raw, request: UnsafePointer(requestJSON)) == .continue)
    }
    _ = request.onResponseHeaders(FilterHTTPResponse(status: 200, origin: .upstream))
    request.finish(FilterCompletion(httpStatus: 200))
}

func measure(_ label: String, _ chain: FilterChain) -> Double {
    for _ in 0..<(iterations / 10) { runOnce(chain) }  // warm up
    var best = Double.infinity
    for _ in 0..<5 {
        let start = now()
        for _ in 0..<iterations { runOnce(chain) }
        let perRequest = Double(now() - start) / Double(iterations)
        best = min(best, perRequest)
    }
    print("\(label): \(String(Int(best))) ns/request (best of 5 x \(iterations))")
    return best
}

do {
    let empty = try FilterChain([], services: services)
    let one = try FilterChain([FilterInstanceSpec(plugin: plugin)], services: services)
    let four = try FilterChain(Array(repeating: FilterInstanceSpec(plugin: plugin), count: 4), services: services)
    let base = measure("no plugins  ", empty)
    let single = measure("1 no-op     ", one)
    let quad = measure("4 no-ops    ", four)
    let added = quad - base
    print("one no-op plugin adds \(twoDecimals((single - base) / 1000)) µs per request")
    print("four no-op plugins add \(twoDecimals(added / 1000)) µs per request (budget 5 µs): \(added < 5000 ? "PASS" : "FAIL")")
    exit(added < 5000 ? 0 : 2)
} catch {
    print("chain: \(error)")
    exit(1)
}
