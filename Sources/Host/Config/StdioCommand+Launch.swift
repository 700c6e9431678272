import MCPGateUpstream

extension StdioCommand {
    /// Whether an environment variable is one of mcpgate's own secrets or settings, never passed to a child:
    /// `SESSION_KEY`, `SESSION_KEYS` and every `MCPGATE_*` (`MCPGATE_ADMIN_TOKEN` among them).
    static func isGatewayVariable(_ name: String) -> Bool {
        name == "SESSION_KEY" || name == "SESSION_KEYS" || name.hasPrefix("MCPGATE_")
    }

    /// What to run for this command as target `targetName`: `argv` is `cmd` as written, then `args`; the
    /// environment is `environment` (the gateway's own, passed in) less mcpgate's variables
    /// (`isGatewayVariable`), overlaid with `env`, or `env` alone with `clearEnv`. Entries are sorted by name,
    /// so equal commands give equal launches (pools are keyed by them). Pure.
    package func launch(targetName: String, environment: [String: String]) -> StdioLaunch {
        var variables: [String: String] = [:]
        if !clearEnv {
            for (name, value) in environment where !Self.isGatewayVariable(name) { variables[name] = value }
        }
        variables.merge(env) { _, configured in configured }
        let entries = variables.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return StdioLaunch(targetName: targetName, executable: executable, argv: [cmd] + args, environment: entries)
    }
}
