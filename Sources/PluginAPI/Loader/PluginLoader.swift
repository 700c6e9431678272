import CJansson
import CMCPGate
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Loads plugin libraries: `dlopen(RTLD_NOW | RTLD_LOCAL)`, then checks the descriptor field by field
/// and refuses with a precise `PluginLoadError`, then calls the plugin's `init` with the host table.
///
/// A file is loaded and initialised once per process (keyed by device and inode); loading it again
/// returns the same `LoadedPlugin`. Libraries are never `dlclose`d, not even refused ones (their
/// constructors may have registered state, e.g. OpenSSL's atexit handlers). Thread-safe: loads are
/// serialised. Meant for the control thread (config load), never the request path.
public enum PluginLoader {
    private struct FileIdentity: Hashable {
        let device: UInt64
        let inode: UInt64
    }

    private static let loaded = Mutex<[FileIdentity: LoadedPlugin]>([:])

    /// Size of an ABI 1.0 descriptor: it ends with `on_complete`. Smaller descriptors are refused.
    public static let minimumDescriptorSize: UInt32 = {
        let offset = MemoryLayout<mcpgate_plugin>.offset(of: \mcpgate_plugin.on_complete) ?? MemoryLayout<mcpgate_plugin>.size
        return UInt32(offset + MemoryLayout<UnsafeRawPointer?>.size)
    }()

    /// The environment variable that overrides where bundled plugins are looked up.
    public static let pluginDirectoryEnvironmentVariable = "MCPGATE_PLUGIN_DIR"

    /// Where bundled plugins are looked for, in order. `$MCPGATE_PLUGIN_DIR`, when set, is the only place;
    /// otherwise the running executable's directory (where `swift build` puts the `.dynamic` plugin products
    /// beside `mcpgate`), then `<executable's directory>/../lib/mcpgate` (the layout `scripts/install` writes:
    /// `PREFIX/bin/mcpgate`, `PREFIX/lib/mcpgate/libmcpgate_*.so`).
    public static var bundledPluginSearchPath: [String] {
        if let override = getenv(pluginDirectoryEnvironmentVariable), override.pointee != 0 {
            return [String(cString: override)]
        }
        let executableDirectory = Self.executableDirectory
        return [executableDirectory, executableDirectory + "/../lib/mcpgate"]
    }

    /// The first directory of `bundledPluginSearchPath`.
    public static var bundledPluginDirectory: String { bundledPluginSearchPath[0] }

    /// The directory of the running executable (`/proc/self/exe`), or "." when it cannot be read.
    static var executableDirectory: String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return "." }
        let executable = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let slash = executable.lastIndex(of: "/") else { return "." }
        return String(executable[..<slash])
    }

    /// The file name of a bundled plugin: "cors" -> `libmcpgate_cors.so`.
    public static func bundledPluginFileName(named name: String) -> String {
        "libmcpgate_\(name).so"
    }

    /// The path of a bundled plugin by its short name: the first `bundledPluginSearchPath` directory holding
    /// `libmcpgate_<name>.so`, or the first directory's path when none does.
    public static func bundledPluginPath(named name: String) -> String {
        (try? locateBundledPlugin(named: name)) ?? "\(bundledPluginDirectory)/\(bundledPluginFileName(named: name))"
    }

    /// The path of a bundled plugin found on `bundledPluginSearchPath`; throws `bundledPluginMissing`, whose
    /// message says in one line where it looked and what to build, when no directory holds it.
    public static func locateBundledPlugin(named name: String) throws(PluginLoadError) -> String {
        let searched = bundledPluginSearchPath
        let file = bundledPluginFileName(named: name)
        for directory in searched {
            let path = "\(directory)/\(file)"
            if access(path, F_OK) == 0 { return path }
        }
        throw .bundledPluginMissing(file: file, product: "mcpgate_\(name)", searched: searched, release: searched[0].hasSuffix("/release"))
    }

    /// Loads, checks and initialises the plugin at `path` (or returns the one already loaded from
    /// that file).
    public static func load(path: String) throws(PluginLoadError) -> LoadedPlugin {
        var status = stat()
        guard stat(path, &status) == 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { throw .fileNotFound(path: path) }
            throw .unreadable(path: path, reason: String(cString: strerror(code)))
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw .unreadable(path: path, reason: "not a regular file")
        }
        let identity = FileIdentity(device: UInt64(status.st_dev), inode: UInt64(status.st_ino))
        return try loaded.withLock { (plugins: inout [FileIdentity: LoadedPlugin]) throws(PluginLoadError) -> LoadedPlugin in
            if let existing = plugins[identity] { return existing }
            let plugin = try loadUncached(path: path)
            plugins[identity] = plugin
            return plugin
        }
    }

    private static func checkELFHeader(path: String) throws(PluginLoadError) {
        guard let file = fopen(path, "rb") else {
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        defer { fclose(file) }
        var magic = [UInt8](repeating: 0, count: 4)
        let read = fread(&magic, 1, 4, file)
        guard read == 4, magic == [0x7F, 0x45, 0x4C, 0x46] else { throw .notSharedObject(path: path) }
    }

    private static func loadUncached(path: String) throws(PluginLoadError) -> LoadedPlugin {
        try checkELFHeader(path: path)
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown error"
            throw .dlopenFailed(path: path, reason: reason)
        }
        guard let symbol = dlsym(handle, MCPGATE_PLUGIN_ENTRY) else {
            throw .missingEntryPoint(path: path, symbol: MCPGATE_PLUGIN_ENTRY)
        }
        let entry = unsafeBitCast(symbol, to: mcpgate_plugin_entry_fn.self)
        guard let published = entry() else { throw .nullDescriptor(path: path) }
        let raw = UnsafeRawPointer(published)

        // Fixed-offset fields first: they are where they are in every version of the ABI.
        let structSize = raw.loadUnaligned(fromByteOffset: 0, as: UInt32.self)
        let abiMajor = raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
        let abiMinor = raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
        let pointerSize = raw.loadUnaligned(fromByteOffset: 12, as: UInt16.self)
        let sizeTSize = raw.loadUnaligned(fromByteOffset: 14, as: UInt16.self)
        let magic = raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self)

        guard magic == MCPGATE_PLUGIN_MAGIC else {
            throw .wrongMagic(path: path, found: magic, expected: MCPGATE_PLUGIN_MAGIC)
        }
        guard abiMajor == UInt32(MCPGATE_ABI_MAJOR) else {
            throw .abiMajorMismatch(path: path, plugin: abiMajor, host: UInt32(MCPGATE_ABI_MAJOR))
        }
        guard structSize >= minimumDescriptorSize else {
            throw .descriptorTooSmall(path: path, size: structSize, minimum: minimumDescriptorSize)
        }
        guard Int(pointerSize) == MemoryLayout<UnsafeRawPointer>.size, Int(sizeTSize) == MemoryLayout<Int>.size else {
            throw .dataModelMismatch(
                path: path, pluginPointer: pointerSize, pluginSizeT: sizeTSize,
                hostPointer: MemoryLayout<UnsafeRawPointer>.size, hostSizeT: MemoryLayout<Int>.size)
        }

        // Our copy: the plugin's bytes up to its struct_size, zeros beyond (NULL callbacks).
        let ourSize = MemoryLayout<mcpgate_plugin>.size
        let copy = UnsafeMutableRawPointer.allocate(byteCount: ourSize, alignment: MemoryLayout<mcpgate_plugin>.alignment)
        copy.initializeMemory(as: UInt8.self, repeating: 0, count: ourSize)
        copy.copyMemory(from: raw, byteCount: min(Int(structSize), ourSize))
        let descriptor = UnsafePointer(copy.bindMemory(to: mcpgate_plugin.self, capacity: 1))

        var notes: [String] = []
        if abiMinor > UInt32(MCPGATE_ABI_MINOR) {
            notes.append(
                "built for ABI 1.\(abiMinor), newer than this gateway's 1.\(MCPGATE_ABI_MINOR): callbacks added after 1.\(MCPGATE_ABI_MINOR) are ignored"
            )
        }

        let name = readString(copy, \mcpgate_plugin.name) ?? ""
        guard isValidName(name) else { throw .invalidName(path: path, name: name) }
        let version = readString(copy, \mcpgate_plugin.version) ?? ""
        if let offset = MemoryLayout<mcpgate_plugin>.offset(of: \mcpgate_plugin.version),
            copy.load(fromByteOffset: offset, as: UnsafePointer<CChar>?.self) == nil
        {
            // Our copy never holds NULL where the header promises a string.
            copy.storeBytes(of: emptyCString, toByteOffset: offset, as: UnsafePointer<CChar>.self)
        }
        let summary = readString(copy, \mcpgate_plugin.description)

        // jansson: same major, running >= built.
        let janssonRunning = PluginRuntime.janssonVersion
        var janssonBuilt: LibraryVersion? = nil
        if descriptor.pointee.jansson_version == 0 {
            notes.append("the plugin records no jansson version (it does not use jansson): check skipped")
        } else {
            let built = LibraryVersion(janssonHex: descriptor.pointee.jansson_version)
            janssonBuilt = built
            if let running = janssonRunning {
                guard built.major == running.major, running >= built else {
                    throw .janssonMismatch(path: path, built: built.description, running: running.description)
                }
            } else {
                notes.append("the running jansson version is unknown: check skipped")
            }
        }

        // OpenSSL: the libcrypto the plugin resolved against (searched through its dependencies).
        var openSSLBuilt: LibraryVersion? = nil
        var openSSLLoaded: LibraryVersion? = nil
        if descriptor.pointee.openssl_version == 0 {
            notes.append("the plugin records no OpenSSL build (it does not use OpenSSL): check skipped")
        } else {
            let built = LibraryVersion(openSSLNumber: descriptor.pointee.openssl_version)
            openSSLBuilt = built
            guard let versionSymbol = dlsym(handle, "OpenSSL_version_num") else {
                throw .opensslNotLoaded(path: path, built: built.description)
            }
            typealias VersionFunction = @convention(c) () -> UInt
            let loadedNumber = unsafeBitCast(versionSymbol, to: VersionFunction.self)()
            let loadedVersion = LibraryVersion(openSSLNumber: UInt64(loadedNumber))
            openSSLLoaded = loadedVersion
            guard loadedVersion.openSSLLine == built.openSSLLine else {
                throw .opensslMismatch(path: path, built: built.description, loaded: loadedVersion.description)
            }
        }

        let info = PluginDescriptorInfo(
            path: path, name: name, version: version, summary: summary, abiMajor: abiMajor, abiMinor: abiMinor,
            descriptorSize: structSize, janssonBuilt: janssonBuilt, janssonRunning: janssonRunning,
            openSSLBuilt: openSSLBuilt, openSSLLoaded: openSSLLoaded, callbacks: callbacks(descriptor.pointee),
            notes: notes)

        var pluginState: UnsafeMutableRawPointer? = nil
        if let initialise = descriptor.pointee.`init` {
            var message = [CChar](repeating: 0, count: 512)
            let status = initialise(HostAPITable.pointer, &pluginState, &message, message.count - 1)
            guard status == MCPGATE_OK else {
                message[message.count - 1] = 0
                let text = message.withUnsafeBufferPointer { buffer in
                    buffer.baseAddress.map { String(cString: $0) } ?? ""
                }
                throw .initFailed(path: path, plugin: name, status: status, message: text)
            }
        }
        return LoadedPlugin(info: info, descriptor: descriptor, pluginState: pluginState)
    }

    private static func readString(_ base: UnsafeMutableRawPointer, _ field: KeyPath<mcpgate_plugin, UnsafePointer<CChar>>) -> String? {
        guard let offset = MemoryLayout<mcpgate_plugin>.offset(of: field) else { return nil }
        return base.load(fromByteOffset: offset, as: UnsafePointer<CChar>?.self).map { String(cString: $0) }
    }

    private static func readString(_ base: UnsafeMutableRawPointer, _ field: KeyPath<mcpgate_plugin, UnsafePointer<CChar>?>) -> String? {
        guard let offset = MemoryLayout<mcpgate_plugin>.offset(of: field) else { return nil }
        return base.load(fromByteOffset: offset, as: UnsafePointer<CChar>?.self).map { String(cString: $0) }
    }

    private static func isValidName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 64 else { return false }
        return name.utf8.allSatisfy { byte in
            (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x5F || byte == 0x2D
        }
    }

    private static func callbacks(_ d: mcpgate_plugin) -> [String] {
        var names: [String] = []
        if d.`init` != nil { names.append("init") }
        if d.shutdown != nil { names.append("shutdown") }
        if d.config_new != nil { names.append("config_new") }
        if d.config_destroy != nil { names.append("config_destroy") }
        if d.request_new != nil { names.append("request_new") }
        if d.request_destroy != nil { names.append("request_destroy") }
        if d.on_http_request_headers != nil { names.append("on_http_request_headers") }
        if d.on_rpc_message != nil { names.append("on_rpc_message") }
        if d.on_rpc_response != nil { names.append("on_rpc_response") }
        if d.on_sse_event != nil { names.append("on_sse_event") }
        if d.on_response_headers != nil { names.append("on_response_headers") }
        if d.on_complete != nil { names.append("on_complete") }
        return names
    }
}
