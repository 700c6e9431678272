/// One configured use of a plugin, in chain order: what the host's config mapping produces.
public struct FilterInstanceSpec: Sendable {
    /// The loaded plugin.
    public var plugin: LoadedPlugin
    /// The instance's name (metrics label, logs); defaults to the plugin's name, made unique within
    /// the chain by the chain.
    public var name: String?
    /// The instance's config as JSON text (an object; "{}" when the config gives none).
    public var configJSON: String
    /// When true, a failure of this instance (ERROR, an unknown or disallowed action, a failed
    /// request_new) lets the request continue; when false (the default) the request fails closed.
    public var failOpen: Bool

    /// Creates a spec.
    public init(plugin: LoadedPlugin, name: String? = nil, configJSON: String = "{}", failOpen: Bool = false) {
        self.plugin = plugin
        self.name = name
        self.configJSON = configJSON
        self.failOpen = failOpen
    }
}
