import MCPGateSession
import PluginAPI

/// `mcpgate check -f file`: loads a config the way the gateway would (including the run-time checks) and
/// reports what it would serve.
public enum ConfigCheck {
    public static func run(path: String) throws -> String {
        FileDescriptorLimit.raiseSoftLimit()
        let (config, warnings) = try ConfigLoader.load(path: path)
        let keyring = config.session.keys.isEmpty ? Keyring.generated() : try Keyring(masterKeys: config.session.keys)
        _ = try GatewayRuntime(config: config, keyring: keyring, pluginServices: HostServices())
        var lines = warnings.map { "warning: \($0)" }
        lines.append("\(path): ok")
        lines.append(ConfigSummary.json(config))
        return lines.joined(separator: "\n")
    }
}
