import CMCPGate

/// A plugin library that passed every check and was initialised: the unit a `FilterChain` builds
/// instances from. Loaded once per file per process and never unloaded.
///
/// Immutable after loading, hence `Sendable`: the descriptor copy and the plugin pointer are only read.
public final class LoadedPlugin: @unchecked Sendable {
    /// What the loader found (name, versions, callbacks, notes).
    public let info: PluginDescriptorInfo
    /// The descriptor, copied up to the plugin's struct_size and zero-filled beyond (callbacks a
    /// plugin built for an older minor lacks read as NULL).
    let descriptor: UnsafePointer<mcpgate_plugin>
    /// What the plugin's `init` returned.
    let pluginState: UnsafeMutableRawPointer?

    /// The descriptor's name.
    public var name: String { info.name }
    /// The file it was loaded from.
    public var path: String { info.path }

    /// The config members the plugin marks secret (`secret_config_members`, ABI 1.1; empty for a 1.0 plugin).
    public var secretConfigMembers: Set<String> {
        guard var entry = descriptor.pointee.secret_config_members else { return [] }
        var names: Set<String> = []
        // Bounded: a list that forgot its NULL must not walk off through memory.
        for _ in 0..<256 {
            guard let name = entry.pointee else { break }
            names.insert(String(cString: name))
            entry += 1
        }
        return names
    }

    init(info: PluginDescriptorInfo, descriptor: UnsafePointer<mcpgate_plugin>, pluginState: UnsafeMutableRawPointer?) {
        self.info = info
        self.descriptor = descriptor
        self.pluginState = pluginState
    }
}
