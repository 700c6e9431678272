#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A log sink that writes one line per message to standard error. The default until the host
/// installs its own.
public struct StandardErrorLogSink: PluginLogSink {
    /// Lines below this level are dropped.
    public let minimumLevel: PluginLogLevel

    /// Creates a sink that records `minimumLevel` and above.
    public init(minimumLevel: PluginLogLevel = .info) {
        self.minimumLevel = minimumLevel
    }

    /// Whether `level` reaches `minimumLevel`.
    public func isEnabled(_ level: PluginLogLevel) -> Bool { level >= minimumLevel }

    /// Writes `[level] plugin/instance: message` to standard error.
    public func log(_ level: PluginLogLevel, plugin: String, instance: String, message: String) {
        guard isEnabled(level) else { return }
        let origin = instance.isEmpty || instance == plugin ? plugin : "\(plugin)/\(instance)"
        let line = "[\(level)] \(origin.isEmpty ? "plugin" : origin): \(message)\n"
        var bytes = line
        bytes.withUTF8 { utf8 in
            _ = write(2, utf8.baseAddress, utf8.count)
        }
    }
}
