import ArgumentParser
import Logging
import MCPGate

/// `mcpgate`: the command line. `mcpgate -f config.yaml` runs the gateway.
@main
struct MCPGateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcpgate",
        abstract: "An MCP gateway: Streamable HTTP for both protocol eras, sealed sessions, C filter plugins.",
        version: MCPGateVersion.string,
        subcommands: [Run.self, Check.self],
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
            throw ValidationError("\(error)")
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
            throw ValidationError("\(error)")
        }
    }
}
