import CMCPGate

/// An ordered, immutable chain of filter instances, built once per config load and shared by every
/// request (and every event loop) until the next reload. `Sendable`.
///
/// Drive it per request with `makeRequest(_:)`; see docs/plugin-chain.md for the order of calls.
/// When a chain is replaced, requests still running keep the old one alive; each instance's
/// `config_destroy` runs after its last request finishes.
public final class FilterChain: Sendable {
    /// The instances in chain order (request hooks run in this order, response hooks in reverse).
    public let instances: [FilterInstance]
    /// The services the instances use.
    public let services: HostServices
    /// Whether any instance has `on_http_request_headers` (else the host may skip the call).
    public let wantsHTTPRequestHeaders: Bool
    /// Whether any instance has `on_rpc_message`.
    public let wantsRPCMessages: Bool
    /// Whether any instance has `on_rpc_response` (else the host need not parse responses).
    public let wantsRPCResponses: Bool
    /// Whether any instance has `on_sse_event` (else the host need not parse server events).
    public let wantsSSEEvents: Bool
    /// Whether any instance has `on_response_headers`.
    public let wantsResponseHeaders: Bool

    /// Creates every instance (calling each plugin's `config_new` in order). If one refuses, the ones
    /// already created are destroyed and the error names the instance.
    public init(_ specs: [FilterInstanceSpec], services: HostServices = HostServices()) throws(FilterChainError) {
        var instances: [FilterInstance] = []
        for (spec, name) in zip(specs, Self.instanceNames(of: specs)) {
            instances.append(try FilterInstance(spec: spec, name: name, services: services))
        }
        self.instances = instances
        self.services = services
        wantsHTTPRequestHeaders = instances.contains { $0.descriptor.pointee.on_http_request_headers != nil }
        wantsRPCMessages = instances.contains { $0.descriptor.pointee.on_rpc_message != nil }
        wantsRPCResponses = instances.contains { $0.descriptor.pointee.on_rpc_response != nil }
        wantsSSEEvents = instances.contains { $0.descriptor.pointee.on_sse_event != nil }
        wantsResponseHeaders = instances.contains { $0.descriptor.pointee.on_response_headers != nil }
    }

    /// The name each spec's instance gets, in order: its `name`, else its plugin's name, with `#2`, `#3`, … on
    /// repeats. Errors and metrics name instances this way.
    public static func instanceNames(of specs: [FilterInstanceSpec]) -> [String] {
        var used: Set<String> = []
        return specs.map { spec in
            let base = spec.name ?? spec.plugin.name
            var name = base
            var suffix = 2
            while used.contains(name) {
                name = "\(base)#\(suffix)"
                suffix += 1
            }
            used.insert(name)
            return name
        }
    }

    /// Whether the chain has no instances (the host may skip it entirely).
    public var isEmpty: Bool { instances.isEmpty }

    /// Starts one HTTP request through the chain. The result is confined to the request's event loop.
    public func makeRequest(_ http: FilterHTTPRequest) -> FilterChainRequest {
        FilterChainRequest(chain: self, http: http)
    }
}
