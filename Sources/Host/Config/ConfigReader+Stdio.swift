import MCPGateUpstream

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ConfigReader {
    static let stdioCommandKeys = ["cmd", "args", "env", "clearEnv"]
    static let stdioSettingsKeys = [
        "maxProcesses", "maxProcessesPerTarget", "poolSize", "maxPendingRequests", "idleTimeout", "maxLineBytes",
        "stopGracePeriod",
    ]

    /// `targets[].stdio`: `cmd` (resolved to an executable file now, so `mcpgate check` catches a typo and `PATH`
    /// cannot change what runs later), `args` as text, `env` (names `[A-Za-z_][A-Za-z0-9_]*`) and `clearEnv`.
    /// No value may hold a NUL byte: it could not reach the process intact.
    func readStdioCommand(_ node: ConfigNode) throws(ConfigError) -> StdioCommand {
        let keys = try node.mapping(allowed: Self.stdioCommandKeys) { key in
            key == "cwd" ? "a working directory is not supported by mcpgate; the process starts in the gateway's" : nil
        }
        let cmdNode = try keys.required("cmd", "the program to run")
        let cmd = try Self.textWithoutNUL(cmdNode, "a program name or path")
        guard !cmd.isEmpty else { throw cmdNode.expected("a program name or path") }
        var command = StdioCommand(cmd: cmd, executable: try resolveExecutable(cmd, at: cmdNode))
        if let list = keys.value("args") {
            for item in try list.sequence(of: "arguments (each taken as text)") {
                command.args.append(try Self.textWithoutNUL(item, "an argument"))
            }
        }
        if let mapping = keys.value("env") {
            for entry in try mapping.stringMap(what: "environment variables (NAME: value)") {
                guard Self.isEnvironmentName(entry.key) else {
                    throw entry.keyNode.error(
                        "expected an environment variable name (letters, digits and _, not starting with a digit), got \(ConfigNode.quoted(entry.key))"
                    )
                }
                guard !entry.value.contains("\0") else {
                    throw entry.valueNode.error("expected a value without NUL bytes; the value is not shown")
                }
                command.env[entry.key] = entry.value
            }
        }
        if let value = keys.value("clearEnv") { command.clearEnv = try value.bool() }
        return command
    }

    /// The absolute path of the executable `cmd` names: with a `/`, the path itself (relative ones against the
    /// config file's directory); without one, the first match in the absolute directories of `PATH` (from the
    /// reader's environment). Must be a regular file the gateway may execute.
    func resolveExecutable(_ cmd: String, at node: ConfigNode) throws(ConfigError) -> String {
        if cmd.contains("/") {
            let path = resolvePath(cmd)
            if let problem = Self.executableProblem(path) {
                throw node.error("expected an executable file, got \(ConfigNode.quoted(cmd)) (\(path): \(problem))")
            }
            return path
        }
        guard let search = environment["PATH"], !search.isEmpty else {
            throw node.error(
                "expected an executable file, got \(ConfigNode.quoted(cmd)): PATH is not set, so give cmd as a path (/usr/bin/\(cmd))")
        }
        for directory in search.split(separator: ":") where directory.hasPrefix("/") {
            let path = String(directory) + (directory.hasSuffix("/") ? "" : "/") + cmd
            if Self.executableProblem(path) == nil { return path }
        }
        throw node.error("expected an executable file (searched PATH: \(search)), got \(ConfigNode.quoted(cmd))")
    }

    /// Why `path` cannot be executed (`not found`, `a directory`, `not executable`), or nil when it can.
    static func executableProblem(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return errno == ENOENT || errno == ENOTDIR ? "not found" : "cannot be read" }
        if (info.st_mode & S_IFMT) == S_IFDIR { return "a directory" }
        guard (info.st_mode & S_IFMT) == S_IFREG else { return "not a regular file" }
        guard access(path, X_OK) == 0 else { return "not executable" }
        return nil
    }

    /// `config.stdio`: bounds on stdio processes; each absent key keeps its default.
    func readStdioSettings(_ node: ConfigNode) throws(ConfigError) -> StdioSettings {
        let keys = try node.mapping(allowed: Self.stdioSettingsKeys)
        var settings = StdioSettings()
        if let value = keys.value("maxProcesses") { settings.maxProcesses = try value.positiveCount() }
        if let value = keys.value("maxProcessesPerTarget") { settings.maxProcessesPerTarget = try value.positiveCount() }
        if let value = keys.value("poolSize") { settings.poolSize = try value.positiveCount() }
        if let value = keys.value("maxPendingRequests") { settings.maxPendingRequests = try value.positiveCount() }
        if let value = keys.value("idleTimeout") { settings.idleTimeout = try value.duration() }
        if let value = keys.value("maxLineBytes") { settings.maxLineBytes = try value.byteSize() }
        if let value = keys.value("stopGracePeriod") { settings.stopGracePeriod = try value.duration() }
        return settings
    }

    /// Keeps `maxConnections` within the descriptors left once stdio processes have theirs (three pipes each,
    /// up to `config.stdio.maxProcesses`), when the config has a stdio target. A configured value is lowered
    /// with a warning; the default is lowered silently (it is "what the descriptors allow").
    mutating func budgetDescriptorsForStdio(_ config: inout GatewayConfig) {
        let hasStdio = config.binds.contains { bind in
            bind.listeners.contains { $0.routes.contains { $0.backend.targets.contains { $0.stdioCommand != nil } } }
        }
        guard hasStdio else { return }
        let allowed = FileDescriptorLimit.maxConnections(stdioProcesses: config.stdio.maxProcesses)
        guard config.limits.maxConnections > allowed else { return }
        if let place = maxConnectionsPlace {
            warn(
                "maxConnections \(config.limits.maxConnections) with config.stdio.maxProcesses \(config.stdio.maxProcesses) "
                    + "(3 descriptors each) is more than the descriptor limit allows (RLIMIT_NOFILE \(FileDescriptorLimit.current)): "
                    + "lowered to \(allowed); raise `ulimit -n` or lower config.stdio.maxProcesses",
                at: place)
        }
        config.limits.maxConnections = allowed
    }

    /// `^[A-Za-z_][A-Za-z0-9_]*$`.
    static func isEnvironmentName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return false }
        return name.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
        }
    }

    /// The text of a scalar, refused when it holds a NUL byte (a C string would cut it there).
    static func textWithoutNUL(_ node: ConfigNode, _ what: String) throws(ConfigError) -> String {
        let text = try node.text(what)
        guard !text.contains("\0") else { throw node.expected("\(what) without NUL bytes") }
        return text
    }
}
