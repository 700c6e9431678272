/// Why the loader refused a plugin. Each case's `description` is the precise, operator-facing message
/// (it names the file, what was found and what was expected).
public enum PluginLoadError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No file at the path.
    case fileNotFound(path: String)
    /// The path exists but cannot be read (or is a directory).
    case unreadable(path: String, reason: String)
    /// The file is not an ELF shared object (no ELF header).
    case notSharedObject(path: String)
    /// `dlopen` failed (a missing dependency, an unresolved symbol, wrong architecture...).
    case dlopenFailed(path: String, reason: String)
    /// The library does not export `mcpgate_plugin_v1`.
    case missingEntryPoint(path: String, symbol: String)
    /// The entry point returned NULL.
    case nullDescriptor(path: String)
    /// The descriptor's magic is not `MCPGATE_PLUGIN_MAGIC`.
    case wrongMagic(path: String, found: UInt64, expected: UInt64)
    /// The plugin was built for another ABI major.
    case abiMajorMismatch(path: String, plugin: UInt32, host: UInt32)
    /// The descriptor is smaller than a v1.0 descriptor.
    case descriptorTooSmall(path: String, size: UInt32, minimum: UInt32)
    /// Built for another data model (pointer or size_t width).
    case dataModelMismatch(path: String, pluginPointer: UInt16, pluginSizeT: UInt16, hostPointer: Int, hostSizeT: Int)
    /// The descriptor has no name, or a name outside [a-z0-9_-].
    case invalidName(path: String, name: String)
    /// Built against a jansson the running one cannot serve.
    case janssonMismatch(path: String, built: String, running: String)
    /// Built against an OpenSSL whose major differs from the libcrypto loaded for it.
    case opensslMismatch(path: String, built: String, loaded: String)
    /// Records an OpenSSL build but no libcrypto is loaded for it.
    case opensslNotLoaded(path: String, built: String)
    /// The plugin's `init` refused to start.
    case initFailed(path: String, plugin: String, status: Int32, message: String)
    /// A bundled plugin (`libmcpgate_<name>.so`, SwiftPM product `product`) is in none of the searched
    /// directories. `release`: the gateway runs from a release build directory.
    case bundledPluginMissing(file: String, product: String, searched: [String], release: Bool)

    public var description: String {
        switch self {
        case .fileNotFound(let path):
            "plugin \(path): no such file"
        case .unreadable(let path, let reason):
            "plugin \(path): cannot read the file: \(reason)"
        case .notSharedObject(let path):
            "plugin \(path): not a shared object (no ELF header); build it with `cc -shared -fPIC`"
        case .dlopenFailed(let path, let reason):
            "plugin \(path): dlopen failed: \(reason)"
        case .missingEntryPoint(let path, let symbol):
            "plugin \(path): missing the entry point `\(symbol)`; is it an mcpgate plugin? Define it with MCPGATE_DEFINE_PLUGIN from mcpgate/filter.h"
        case .nullDescriptor(let path):
            "plugin \(path): mcpgate_plugin_v1() returned NULL"
        case .wrongMagic(let path, let found, let expected):
            "plugin \(path): wrong magic 0x\(String(found, radix: 16)) in the descriptor (expected 0x\(String(expected, radix: 16))); fill it with MCPGATE_PLUGIN_HEADER"
        case .abiMajorMismatch(let path, let plugin, let host):
            "plugin \(path): built for filter ABI \(plugin).x, this gateway speaks ABI \(host).x; rebuild it against this gateway's mcpgate/filter.h"
        case .descriptorTooSmall(let path, let size, let minimum):
            "plugin \(path): descriptor struct_size \(size) is smaller than the ABI 1.0 descriptor (\(minimum) bytes); fill it with MCPGATE_PLUGIN_HEADER"
        case .dataModelMismatch(let path, let pluginPointer, let pluginSizeT, let hostPointer, let hostSizeT):
            "plugin \(path): built with \(pluginPointer)-byte pointers and \(pluginSizeT)-byte size_t, the gateway uses \(hostPointer) and \(hostSizeT)"
        case .invalidName(let path, let name):
            "plugin \(path): invalid plugin name \"\(name)\" (want 1-64 characters of [a-z0-9_-])"
        case .janssonMismatch(let path, let built, let running):
            "plugin \(path): built with jansson \(built), the gateway runs jansson \(running) (needs the same major and at least the plugin's version)"
        case .opensslMismatch(let path, let built, let loaded):
            "plugin \(path): built with OpenSSL \(built), but the libcrypto loaded for it is OpenSSL \(loaded) (major versions differ); rebuild it against the installed OpenSSL"
        case .opensslNotLoaded(let path, let built):
            "plugin \(path): built with OpenSSL \(built) but no libcrypto is loaded for it; link it with -lcrypto"
        case .initFailed(let path, let plugin, let status, let message):
            "plugin \(path): \(plugin) init failed (status \(status)): \(message.isEmpty ? "no message" : message)"
        case .bundledPluginMissing(let file, let product, let searched, let release):
            "bundled plugin \(file) not found in \(searched.joined(separator: ", ")); build it with `swift build\(release ? " -c release" : "") --product \(product)` (scripts/build builds the gateway with every bundled plugin) or set \(PluginLoader.pluginDirectoryEnvironmentVariable) to the directory that holds it"
        }
    }
}
