/// `targets[].stdio`: the process to run for a target. No shell is involved: `executable` is started with `cmd`
/// and `args` as its argument vector, exactly as written. A plain value, built at load.
public struct StdioCommand: Sendable, Equatable {
    /// `cmd` as written (`npx`, `./server.sh`): the child's `argv[0]`, and what the overview shows.
    public var cmd: String
    /// The absolute path `cmd` resolved to at load (through `PATH`, or against the config file's directory),
    /// checked to be an executable file.
    public var executable: String
    /// `args`: the rest of the argument vector, each as text.
    public var args: [String]
    /// `env`: variables set for the child (over the inherited environment unless `clearEnv`). The values may be
    /// secrets: never shown.
    public var env: [String: String]
    /// `clearEnv`: the child's environment is `env` alone, nothing inherited.
    public var clearEnv: Bool

    public init(cmd: String, executable: String, args: [String] = [], env: [String: String] = [:], clearEnv: Bool = false) {
        self.cmd = cmd
        self.executable = executable
        self.args = args
        self.env = env
        self.clearEnv = clearEnv
    }
}
