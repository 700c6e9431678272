/// What the loader learnt from a plugin's descriptor and its compatibility checks; printed by
/// `mcpgate plugin check`.
public struct PluginDescriptorInfo: Sendable, Equatable, CustomStringConvertible {
    /// The file loaded.
    public var path: String
    /// The descriptor's name (KV namespace, metric label).
    public var name: String
    /// The plugin's own version.
    public var version: String
    /// The one-line description, if any.
    public var summary: String?
    /// ABI version the plugin was built against.
    public var abiMajor: UInt32
    public var abiMinor: UInt32
    /// The descriptor's struct_size.
    public var descriptorSize: UInt32
    /// jansson the plugin was built with (nil: it records none) and the one running.
    public var janssonBuilt: LibraryVersion?
    public var janssonRunning: LibraryVersion?
    /// OpenSSL the plugin was built with (nil: it uses none) and the libcrypto loaded for it.
    public var openSSLBuilt: LibraryVersion?
    public var openSSLLoaded: LibraryVersion?
    /// Callbacks the plugin defines, by their C names, in descriptor order.
    public var callbacks: [String]
    /// Notes from the checks that did not refuse the plugin (skipped checks, newer minor...).
    public var notes: [String]

    public var description: String {
        var lines = [
            "plugin:      \(name) \(version)",
            "file:        \(path)",
        ]
        if let summary { lines.append("description: \(summary)") }
        lines.append("abi:         \(abiMajor).\(abiMinor) (descriptor \(descriptorSize) bytes)")
        lines.append("jansson:     built \(janssonBuilt?.description ?? "none"), running \(janssonRunning?.description ?? "unknown")")
        lines.append("openssl:     built \(openSSLBuilt?.description ?? "none (not used)"), loaded \(openSSLLoaded?.description ?? "none")")
        lines.append("callbacks:   \(callbacks.isEmpty ? "none" : callbacks.joined(separator: ", "))")
        for note in notes { lines.append("note:        \(note)") }
        return lines.joined(separator: "\n")
    }
}
