/// `config.stdio`: the bounds on processes run for `stdio` targets (docs/config.md). Plain values, read once
/// per config load.
public struct StdioSettings: Sendable, Equatable {
    /// Most stdio processes alive at once across the gateway (sessions' and pools'); past it a new session (or a
    /// pool that would grow) is refused with 503. Default 64.
    public var maxProcesses: Int
    /// Most stdio processes alive at once for one target, pool processes included; past it: 503. Default 16.
    public var maxProcessesPerTarget: Int
    /// Per target: most processes serving 2026-07-28 requests (one request each at a time; more wait in
    /// order). Default 2.
    public var poolSize: Int
    /// Per process: most requests awaiting their answer (a session's process) or waiting for a lease (a pool);
    /// past it a request gets 503. Default 64.
    public var maxPendingRequests: Int
    /// A process with no request, waiter or listener for this long is stopped. Default 10m.
    public var idleTimeout: Duration
    /// Longest line a process may write to stdout (one JSON-RPC message); past it the process is stopped.
    /// Default 16 MiB.
    public var maxLineBytes: Int
    /// How long a stopping process gets after stdin is closed, and again after SIGTERM, before SIGKILL.
    /// Default 2s.
    public var stopGracePeriod: Duration

    public init(
        maxProcesses: Int = 64,
        maxProcessesPerTarget: Int = 16,
        poolSize: Int = 2,
        maxPendingRequests: Int = 64,
        idleTimeout: Duration = .seconds(600),
        maxLineBytes: Int = 16 << 20,
        stopGracePeriod: Duration = .seconds(2)
    ) {
        self.maxProcesses = maxProcesses
        self.maxProcessesPerTarget = maxProcessesPerTarget
        self.poolSize = poolSize
        self.maxPendingRequests = maxPendingRequests
        self.idleTimeout = idleTimeout
        self.maxLineBytes = maxLineBytes
        self.stopGracePeriod = stopGracePeriod
    }
}
