import Yams

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reads an agentgateway-shaped YAML configuration (see docs/config.md) into a validated ``GatewayConfig``.
///
/// Every key is checked: an unknown key, a policy or transport mcpgate does not have, a missing key, or a value
/// of the wrong shape is a ``ConfigError`` naming the file, line, column and path of the problem. Nothing is
/// printed: warnings are returned for the caller to log. Stateless and safe to call from any thread.
public enum ConfigLoader {
    /// Reads the file at `path` and parses it; relative plugin paths resolve against the file's directory.
    ///
    /// - Parameter environment: where `SESSION_KEY` / `SESSION_KEYS` and the `PATH` for stdio commands are looked
    ///   up (by default the process environment).
    /// - Returns: the configuration, and warnings (each one line, prefixed with the file) for the caller to log.
    public static func load(
        path: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigError) -> (GatewayConfig, warnings: [String]) {
        let yaml = try ConfigFile.read(path)
        return try parse(
            yaml: yaml, file: path, baseDirectory: ConfigFile.directory(of: path), environment: environment)
    }

    /// Parses configuration text.
    ///
    /// - Parameters:
    ///   - yaml: the document.
    ///   - file: how messages name it (`config.yaml`).
    ///   - baseDirectory: where relative plugin paths resolve from.
    ///   - environment: where `SESSION_KEY` / `SESSION_KEYS` and the `PATH` for stdio commands are looked up.
    /// - Returns: the configuration, and warnings (each one line, prefixed with the file) for the caller to log.
    public static func parse(
        yaml: String,
        file: String,
        baseDirectory: String,
        environment: [String: String]
    ) throws(ConfigError) -> (GatewayConfig, warnings: [String]) {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw ConfigError(yamlError: error, file: file, yaml: yaml)
        } catch {
            throw ConfigError(file: file, path: "", message: "invalid YAML: \(error)")
        }
        guard let root else {
            throw ConfigError(
                file: file, path: "", message: "expected a mapping with a key \"binds\", got an empty document")
        }
        var reader = ConfigReader(file: file, baseDirectory: baseDirectory, environment: environment)
        let config = try reader.readDocument(ConfigNode(node: root, path: "", file: file))
        return (config, warnings: reader.warnings)
    }
}
