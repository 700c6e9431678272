import Logging
import PluginAPI

/// Routes plugin log lines into the gateway's swift-log logger, tagged with the plugin and instance.
struct SwiftLogPluginSink: PluginLogSink {
    let logger: Logger

    func isEnabled(_ level: PluginLogLevel) -> Bool {
        logger.logLevel <= Self.level(level)
    }

    func log(_ level: PluginLogLevel, plugin: String, instance: String, message: String) {
        logger.log(
            level: Self.level(level), "\(message)", metadata: plugin.isEmpty ? nil : ["plugin": "\(plugin)", "instance": "\(instance)"])
    }

    private static func level(_ level: PluginLogLevel) -> Logger.Level {
        switch level {
        case .trace: return .trace
        case .debug: return .debug
        case .info: return .info
        case .warning: return .warning
        case .error: return .error
        }
    }
}
