/// What to run for a `stdio` target, computed once when the config is loaded: the absolute path of the
/// executable, the argument vector (argv[0] first), and the whole environment as `NAME=value` entries. No
/// shell is involved. `Hashable`: pools of processes are keyed by it, so a changed command gets a new pool.
package struct StdioLaunch: Sendable, Hashable {
    /// The target's name, for the log.
    package var targetName: String
    /// An absolute path, checked executable at load.
    package var executable: String
    /// `argv[0]` (the `cmd` as written) then the `args`.
    package var argv: [String]
    /// `NAME=value` entries: the child's whole environment.
    package var environment: [String]

    package init(targetName: String, executable: String, argv: [String], environment: [String]) {
        self.targetName = targetName
        self.executable = executable
        self.argv = argv
        self.environment = environment
    }
}
