/// How one stdio process is framed and stopped (`config.stdio.maxLineBytes`, `config.stdio.stopGracePeriod`).
/// A value, copied into each `UpstreamStdioProcess` when it starts.
package struct StdioProcessSettings: Sendable, Equatable {
    /// The longest stdout line accepted, without its line end; a longer one closes the process `.lineTooLong`.
    package var maxLineBytes: Int
    /// How long `close` waits after closing stdin before SIGTERM, and after SIGTERM before SIGKILL (a gateway
    /// shutdown does not wait for stdin: SIGTERM at once, SIGKILL after 1 s).
    package var stopGracePeriod: Duration

    package init(maxLineBytes: Int = 16 << 20, stopGracePeriod: Duration = .seconds(2)) {
        self.maxLineBytes = maxLineBytes
        self.stopGracePeriod = stopGracePeriod
    }
}
