import Synchronization

/// The object behind a plugin's `mcpgate_instance *`: which plugin and instance is calling, and the
/// services it reaches. Created before `config_new`, kept alive by its `FilterInstance` until after
/// `config_destroy` returns. Thread-safe: immutable except the configuring flag and metric list.
final class FilterInstanceContext: Sendable {
    let services: HostServices
    let pluginName: String
    let instanceName: String
    let instanceNameBuffer: CStringBuffer
    /// Prepended to every KV key: `<plugin>:`.
    let kvPrefix: [UInt8]
    /// True only while `config_new` runs (metrics may be defined then).
    let configuring = Atomic<Bool>(false)
    /// Metric handles given to the plugin, kept alive with the instance.
    let metricHandles = Mutex<[PluginMetricHandle]>([])

    init(services: HostServices, pluginName: String, instanceName: String) {
        self.services = services
        self.pluginName = pluginName
        self.instanceName = instanceName
        self.instanceNameBuffer = CStringBuffer(instanceName)
        self.kvPrefix = Array(pluginName.utf8) + [UInt8(ascii: ":")]
    }

    /// The opaque pointer handed to C (unretained: the owner keeps the context alive).
    var opaque: OpaquePointer { OpaquePointer(Unmanaged.passUnretained(self).toOpaque()) }

    /// The context behind a pointer the plugin passed back.
    static func from(_ pointer: OpaquePointer) -> FilterInstanceContext {
        Unmanaged<FilterInstanceContext>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
    }

    /// The store key for a plugin key: `<plugin>:<key>`.
    func key(_ key: UnsafeRawBufferPointer) -> [UInt8] {
        var full = kvPrefix
        full.append(contentsOf: key)
        return full
    }
}
