import Synchronization

/// A log sink that keeps every line in memory: for tests and `PluginCheck`. Thread-safe.
public final class CapturingLogSink: PluginLogSink {
    /// One captured line.
    public struct Line: Sendable, Equatable {
        /// Severity.
        public let level: PluginLogLevel
        /// The plugin's descriptor name, empty for host lines.
        public let plugin: String
        /// The instance name, empty for host lines.
        public let instance: String
        /// The text.
        public let message: String
    }

    private let storage = Mutex<[Line]>([])

    /// Creates an empty sink.
    public init() {}

    /// Every level is recorded.
    public func isEnabled(_ level: PluginLogLevel) -> Bool { true }

    /// Appends the line.
    public func log(_ level: PluginLogLevel, plugin: String, instance: String, message: String) {
        let line = Line(level: level, plugin: plugin, instance: instance, message: message)
        storage.withLock { $0.append(line) }
    }

    /// The lines recorded so far, oldest first.
    public var lines: [Line] { storage.withLock { $0 } }

    /// Returns the recorded lines and forgets them.
    public func drain() -> [Line] {
        storage.withLock { lines in
            defer { lines.removeAll() }
            return lines
        }
    }
}
