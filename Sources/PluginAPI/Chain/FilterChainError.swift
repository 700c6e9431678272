/// Why a chain could not be built from its specs. `description` is the operator-facing message.
public enum FilterChainError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The instance's config is not valid JSON.
    case invalidConfigJSON(instance: String, message: String)
    /// The plugin's `config_new` refused the config.
    case configRejected(instance: String, plugin: String, status: Int32, message: String)

    public var description: String {
        switch self {
        case .invalidConfigJSON(let instance, let message):
            "filter \(instance): config is not valid JSON: \(message)"
        case .configRejected(let instance, let plugin, let status, let message):
            "filter \(instance) (plugin \(plugin)) refused its config (status \(status)): \(message.isEmpty ? "no message" : message)"
        }
    }
}
