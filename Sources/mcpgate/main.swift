import ArgumentParser
import Foundation
import Logging
import MCPGate
import MCPGateSession
import PluginAPI

/// `mcpgate`: the command line. `mcpgate -f config.yaml` runs the gateway.
@main
struct MCPGateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcpgate",
        abstract: "An MCP gateway: Streamable HTTP for both protocol eras, sealed sessions, C filter plugins.",
        version: MCPGateVersion.string,
        subcommands: [Run.self, Check.self, PluginCommand.self],
        defaultSubcommand: Run.self)
}

/// Runs the gateway on a config file.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the gateway (the default command).")

    @Option(name: [.short, .customLong("file")], help: "The YAML config file (agentgateway's shape).")
    var file: String

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "mcpgate")
        let gateway: Gateway
        do {
            gateway = try Gateway(configPath: file, logger: logger)
        } catch {
            throw ConfigFailure(error)
        }
        try await gateway.run()
    }
}

/// Validates a config file without starting anything.
struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check", abstract: "Validate a config file and exit.")

    @Option(name: [.short, .customLong("file")], help: "The YAML config file.")
    var file: String

    func run() async throws {
        do {
            let summary = try ConfigCheck.run(path: file)
            print(summary)
        } catch {
            throw ConfigFailure(error)
        }
    }
}

/// `mcpgate plugin …`: tools for plugin authors.
struct PluginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugin", abstract: "Tools for filter plugin authors.", subcommands: [PluginCheckCommand.self])
}

/// `mcpgate plugin check <file.so> [config.json]`: loads a plugin with the gateway's own loader, prints its
/// descriptor, runs it over recorded MCP exchanges and reports its decisions.
struct PluginCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Load a plugin, print its descriptor and run it over recorded MCP exchanges.")

    @Argument(help: "The plugin shared object.")
    var plugin: String

    @Argument(help: "The plugin's config as a JSON file (default: {}).")
    var config: String?

    @Option(help: "Recorded exchanges to replay (JSON; default: the built-in set, see examples/exchanges).")
    var exchanges: String?

    @Flag(help: "Treat plugin errors as continue, as a failOpen instance would.")
    var failOpen = false

    func run() async throws {
        let configJSON = try config.map { try String(contentsOfFile: $0, encoding: .utf8) }
        let exchangesJSON = try exchanges.map { try String(contentsOfFile: $0, encoding: .utf8) }
        let report = PluginCheck.run(pluginPath: plugin, configJSON: configJSON, exchangesJSON: exchangesJSON, failOpen: failOpen)
        print(report.text, terminator: "")
        if !report.ok { throw ExitCode.failure }
    }
}

/// A config that cannot be served: printed as one `Error: …` line on standard error (the error names the file,
/// line and column), without the command's usage text, and the process exits with status 1.
struct ConfigFailure: Error, CustomStringConvertible {
    let description: String

    init(_ error: any Error) {
        description = "\(error)"
    }
}
