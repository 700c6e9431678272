import CJansson
import CMCPGate
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One configured instance of a plugin: the plugin's config object and the handle it uses to reach
/// host services. Created by `FilterChain.init` (which calls `config_new`); `config_destroy` runs
/// exactly once, when the last chain and request holding the instance let go of it.
///
/// Immutable after creation, hence `Sendable`; the plugin promises its config object may be read
/// from every thread.
public final class FilterInstance: @unchecked Sendable {
    /// The instance name (unique within its chain).
    public let name: String
    /// The plugin it instantiates.
    public let plugin: LoadedPlugin
    /// Whether failures of this instance let requests continue.
    public let failOpen: Bool
    let context: FilterInstanceContext
    let config: UnsafeMutableRawPointer?
    let descriptor: UnsafePointer<mcpgate_plugin>

    init(spec: FilterInstanceSpec, name: String, services: HostServices) throws(FilterChainError) {
        self.name = name
        self.plugin = spec.plugin
        self.failOpen = spec.failOpen
        self.descriptor = spec.plugin.descriptor
        let context = FilterInstanceContext(services: services, pluginName: spec.plugin.name, instanceName: name)
        self.context = context

        let parsed: JSONDocument
        switch JSONDocument.parseRejectingDuplicates(spec.configJSON.isEmpty ? "{}" : spec.configJSON) {
        case .success(let document): parsed = document
        case .failure(let error): throw .invalidConfigJSON(instance: name, message: error.description)
        }

        var config: UnsafeMutableRawPointer? = nil
        if let configNew = descriptor.pointee.config_new {
            var message = [CChar](repeating: 0, count: 1024)
            let capacity = message.count - 1
            context.configuring.store(true, ordering: .releasing)
            // The parsed config is lent to config_new only; it is released when `parsed` goes, after the call.
            let status = withExtendedLifetime(parsed) {
                spec.configJSON.withCString { raw in
                    configNew(
                        spec.plugin.pluginState, context.opaque, parsed.root, mcpgate_str(ptr: raw, len: strlen(raw)),
                        &config, &message, capacity)
                }
            }
            context.configuring.store(false, ordering: .releasing)
            guard status == MCPGATE_OK else {
                message[capacity] = 0
                let text = message.withUnsafeBufferPointer { $0.baseAddress.map { String(cString: $0) } ?? "" }
                throw .configRejected(instance: name, plugin: spec.plugin.name, status: status, message: text)
            }
        }
        self.config = config
    }

    deinit {
        if let destroy = descriptor.pointee.config_destroy {
            destroy(config)
        }
    }
}
