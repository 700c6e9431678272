import CMCPGateSpawn
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One running `stdio` target: a child process started by `mcpgate_spawn` (a new session, fds ≥ 3 closed,
/// default signal dispositions), whose stdin and stdout are one NIO pipe channel (`StdioOutputHandler`) and
/// whose stderr is another (`StdioErrorHandler`, to the log). It moves lines; it never reads what they mean.
///
/// Lifecycle, with its one owner of each step:
/// - `start` spawns and wires the pipes. Reading stdout begins when `onMessage` is first set, so no line is
///   read before there is someone to hand it to.
/// - `close(reason)`: stdin closed; after `stopGracePeriod` SIGTERM to the process group, after another
///   SIGKILL (a `.closed(.shutdown)`: SIGTERM at once, SIGKILL after 1 s). Lines read after `close` are
///   dropped.
/// - A process that ends by itself (reaped, and stdout at EOF with every line handed out) is reported as
///   `.exited(status)`. Its process group gets SIGKILL first, so orphans it left die too. (A grandchild that
///   called `setsid` itself has left the group and survives.)
/// - Reaping is `waitpid(pid, WNOHANG)` for this pid only (never -1, which would steal other children's
///   statuses): on stdout EOF, after each signal, and on a tick that starts at 100 ms and backs off to 1 s.
///   The exit is first seen with `waitid(WNOWAIT)`, so the zombie still holds the pid (and group id) while
///   the group is killed. `ECHILD` counts as reaped (SIGCHLD ignored by someone: the status is lost,
///   reported as exit status -1).
/// - `onClosed` is called exactly once, when the process is reaped; `closeFuture` completes after that,
///   once all three pipes are closed.
///
/// The process object keeps itself alive (its pipe handlers hold it) until it is reaped and its pipes are
/// closed, so dropping every reference to a running process does not leak it: it runs until it exits.
///
/// `@unchecked Sendable`: confined to `eventLoop`. Every method and property is used there (checked with
/// a precondition); every callback runs there. Only `start` may be called from anywhere.
package final class UpstreamStdioProcess: ChannelTransport, @unchecked Sendable {
    /// The child's pid, which is also its session and process group id.
    package let pid: Int32
    package let eventLoop: any EventLoop
    /// Every stdout line, in order, without its line end; setting it the first time starts reading stdout.
    /// The future returned (if any) holds further lines and reads until it completes.
    package var onMessage: ((ByteBuffer) -> EventLoopFuture<Void>?)? {
        didSet { startReadingIfReady() }
    }
    /// Called once, when the process is gone (reaped), with the reason `close` was given or `.exited(status)`.
    package var onClosed: ((ChannelFailure) -> Void)?

    private let launch: StdioLaunch
    private let settings: StdioProcessSettings
    private let logger: Logger
    private var state = State.running
    /// The pipe channel whose input is stdout and whose output is stdin; nil only before `start` wired it.
    private var io: (any Channel)?
    private var errors: (any Channel)?
    private var output: StdioOutputHandler?
    private var reading = false
    private var stdoutEnded = false
    /// Set once the process is reaped.
    private var exitStatus: ChannelFailure.ExitStatus?
    private var reapTimer: Scheduled<Void>?
    private var reapInterval = UpstreamStdioProcess.firstReapInterval
    /// SIGTERM and SIGKILL of a stop, and the wait for stdout after the process exited.
    private var timers: [Scheduled<Void>] = []
    private let closed: EventLoopPromise<Void>

    private enum State {
        case running
        case stopping(ChannelFailure)
        case finished(ChannelFailure)
    }

    private static let firstReapInterval = TimeAmount.milliseconds(100)
    private static let lastReapInterval = TimeAmount.seconds(1)
    /// After a signal or stdout EOF the exit is expected soon: the tick starts again from this.
    private static let quickReapInterval = TimeAmount.milliseconds(10)
    private static let shutdownKillDelay = TimeAmount.seconds(1)
    private static let newline = ByteBuffer(string: "\n")

    private init(pid: Int32, launch: StdioLaunch, settings: StdioProcessSettings, eventLoop: any EventLoop, logger: Logger) {
        self.pid = pid
        self.launch = launch
        self.settings = settings
        self.eventLoop = eventLoop
        self.logger = logger
        self.closed = eventLoop.makePromise(of: Void.self)
    }

    // MARK: Start

    /// Spawns `launch` and wires its pipes on `loop` (which must be a `MultiThreadedEventLoopGroup` loop).
    /// Fails with `ChannelFailure.spawnFailed(errno:)` when the process cannot be started (nothing is left
    /// open then). From any thread; the process is confined to `loop`. The spawn itself runs on `loop` (glibc's
    /// `posix_spawn` returns once the child has exec'd: well under a millisecond for a small binary).
    package static func start(
        _ launch: StdioLaunch, settings: StdioProcessSettings, on loop: any EventLoop, logger: Logger
    ) -> EventLoopFuture<UpstreamStdioProcess> {
        loop.flatSubmit {
            guard NIOPipeBootstrap(validatingGroup: loop) != nil else {
                return loop.makeFailedFuture(ChannelFailure.spawnFailed(errno: EINVAL))
            }
            let spawned: Spawned
            switch spawn(launch) {
            case .success(let value): spawned = value
            case .failure(let failure): return loop.makeFailedFuture(failure)
            }
            var logger = logger
            logger[metadataKey: "target"] = "\(launch.targetName)"
            logger[metadataKey: "pid"] = "\(spawned.pid)"
            let process = UpstreamStdioProcess(pid: spawned.pid, launch: launch, settings: settings, eventLoop: loop, logger: logger)
            return process.wire(spawned)
        }
    }

    /// What `mcpgate_spawn` gave back.
    private struct Spawned {
        var pid: Int32
        var stdin: Int32
        var stdout: Int32
        var stderr: Int32
    }

    private static func spawn(_ launch: StdioLaunch) -> Result<Spawned, ChannelFailure> {
        var spawned = Spawned(pid: -1, stdin: -1, stdout: -1, stderr: -1)
        let rc = withCStringArray(launch.argv) { argv in
            withCStringArray(launch.environment) { envp in
                mcpgate_spawn(launch.executable, argv, envp, &spawned.pid, &spawned.stdin, &spawned.stdout, &spawned.stderr)
            }
        }
        return rc == 0 ? .success(spawned) : .failure(.spawnFailed(errno: rc))
    }

    /// Hands the pipes to NIO. If that fails the process is killed and reaped, and the start fails.
    private func wire(_ spawned: Spawned) -> EventLoopFuture<UpstreamStdioProcess> {
        let output = StdioOutputHandler(
            maxLineBytes: settings.maxLineBytes,
            onLine: { [self] line in stdoutLine(line) },
            onOverflow: { [self] limit in close(.lineTooLong(limit: limit)) },
            onEnd: { [self] unfinished in stdoutEnd(unfinishedBytes: unfinished) })
        let errorHandler = StdioErrorHandler(logger: logger)
        self.output = output
        // The handlers are created here, on the loop, and added by the initializers, which run on it too.
        let outputBox = NIOLoopBound(output, eventLoop: eventLoop)
        let errorBox = NIOLoopBound(errorHandler, eventLoop: eventLoop)
        let io = NIOPipeBootstrap(group: eventLoop)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelOption(.autoRead, value: false)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(outputBox.value) }
            }
            .takingOwnershipOfDescriptors(input: spawned.stdout, output: spawned.stdin)
        let errors = NIOPipeBootstrap(group: eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(errorBox.value) }
            }
            .takingOwnershipOfDescriptor(input: spawned.stderr)
        return io.and(errors).flatMapError { [self] error in
            // NIO closed the descriptors of a channel it created; a bootstrap that failed before that leaves
            // them open, which cannot be told apart from here: they stay open rather than risk closing
            // another's descriptor. Both need epoll or fcntl to fail.
            logger.error("stdio process pipes could not be set up", metadata: ["error": "\(error)"])
            io.whenSuccess { $0.close(promise: nil) }
            errors.whenSuccess { $0.close(promise: nil) }
            _ = kill(-pid, SIGKILL)
            scheduleReap(in: Self.quickReapInterval)
            state = .stopping(.spawnFailed(errno: EIO))
            return eventLoop.makeFailedFuture(ChannelFailure.spawnFailed(errno: EIO))
        }.map { [self] channels in
            self.io = channels.0
            self.errors = channels.1
            logger.debug("stdio process started", metadata: ["executable": "\(launch.executable)"])
            scheduleReap(in: Self.firstReapInterval)
            startReadingIfReady()
            return self
        }
    }

    // MARK: ChannelTransport

    /// Writes `line` and a newline to stdin. Fails with the close reason once `close` was called or the
    /// process ended, and with `.sendFailed` when the write fails (the process closed its stdin).
    package func send(_ line: ByteBuffer, headers: HTTPHeaders) -> EventLoopFuture<Void> {
        eventLoop.preconditionInEventLoop()
        guard case .running = state, let io else {
            return eventLoop.makeFailedFuture(failure ?? .sendFailed("the process is not running"))
        }
        let promise = eventLoop.makePromise(of: Void.self)
        io.write(line, promise: nil)
        io.writeAndFlush(Self.newline, promise: promise)
        return promise.futureResult.flatMapErrorThrowing { error in
            throw ChannelFailure.sendFailed("\(error)")
        }
    }

    /// Stops the process: stdin closed, then SIGTERM and SIGKILL to its group (see the type's comment).
    /// `onClosed` hears `reason` once it is reaped. Idempotent: a second call, or one after the process
    /// ended, does nothing.
    package func close(_ reason: ChannelFailure) {
        eventLoop.preconditionInEventLoop()
        guard case .running = state else { return }
        state = .stopping(reason)
        output?.discard()
        if exitStatus != nil {
            // Already reaped, only waiting for stdout to end: nothing left to stop.
            finish()
            return
        }
        io?.close(mode: .output, promise: nil)
        // Drain stdout (dropping it) so a process blocked on a full pipe can see stdin end and exit.
        startReading(evenWithoutConsumer: true)
        if reason == .closed(.shutdown) {
            sendSignal(SIGTERM)
            scheduleSignal(SIGKILL, in: Self.shutdownKillDelay)
        } else {
            let grace = TimeAmount(settings.stopGracePeriod)
            scheduleSignal(SIGTERM, in: grace)
            scheduleSignal(SIGKILL, in: grace + grace)
        }
        logger.debug("stdio process stopping", metadata: ["reason": "\(reason)"])
    }

    /// Completes once the process is reaped and every pipe is closed. Never fails.
    package var closeFuture: EventLoopFuture<Void> { closed.futureResult }

    // MARK: Stdout

    private func startReadingIfReady() {
        startReading(evenWithoutConsumer: false)
    }

    private func startReading(evenWithoutConsumer: Bool) {
        guard !reading, onMessage != nil || evenWithoutConsumer, let io else { return }
        reading = true
        io.setOption(.autoRead, value: true).whenFailure { [logger] error in
            logger.debug("stdio stdout could not be read", metadata: ["error": "\(error)"])
        }
    }

    private func stdoutLine(_ line: ByteBuffer) -> EventLoopFuture<Void>? {
        guard case .running = state, let onMessage else { return nil }
        return onMessage(line)
    }

    private func stdoutEnd(unfinishedBytes: Int) {
        stdoutEnded = true
        if unfinishedBytes > 0 {
            logger.debug("stdio stdout ended inside a line, dropped", metadata: ["bytes": "\(unfinishedBytes)"])
        }
        if exitStatus != nil {
            finish()
        } else {
            reapSoon()
        }
    }

    // MARK: Signals and reaping

    private func sendSignal(_ number: Int32) {
        guard exitStatus == nil else { return }
        _ = kill(-pid, number)
        reapSoon()
    }

    private func scheduleSignal(_ number: Int32, in delay: TimeAmount) {
        timers.append(eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in sendSignal(number) })
    }

    /// Checks at once, then ticks from the quick interval.
    private func reapSoon() {
        reapTimer?.cancel()
        reapInterval = Self.quickReapInterval
        reap()
    }

    private func scheduleReap(in delay: TimeAmount) {
        reapTimer?.cancel()
        reapTimer = eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in
            reapTimer = nil
            reap()
        }
    }

    /// Reaps the process if it has exited (killing its group first), otherwise ticks again, backing off.
    private func reap() {
        guard exitStatus == nil else { return }
        guard Self.hasExited(pid) else {
            reapInterval = min(reapInterval * 2, Self.lastReapInterval)
            scheduleReap(in: reapInterval)
            return
        }
        // The zombie still holds the pid, so the group id names this process's group and no other.
        _ = kill(-pid, SIGKILL)
        var status: Int32 = 0
        let reaped = waitpid(pid, &status, WNOHANG)
        if reaped == pid {
            exitStatus = Self.exitStatus(status)
        } else if reaped == -1 && errno == ECHILD {
            exitStatus = .exited(-1)
        } else {
            scheduleReap(in: Self.quickReapInterval)
            return
        }
        reapTimer?.cancel()
        reapTimer = nil
        switch state {
        case .running where !stdoutEnded:
            // Every line before the exit is handed out first; a consumer that never lets go is not waited for
            // longer than the grace period.
            let grace = TimeAmount(settings.stopGracePeriod)
            timers.append(eventLoop.assumeIsolated().scheduleTask(in: grace) { [self] in finish() })
        default:
            finish()
        }
    }

    /// True when `pid` has exited (it is a zombie now) or is no child of ours any more (`ECHILD`).
    private static func hasExited(_ pid: Int32) -> Bool {
        var info = siginfo_t()
        while true {
            if waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 {
                return info.si_signo != 0
            }
            if errno != EINTR { return errno == ECHILD }
        }
    }

    /// The process's end as `waitpid` reported it.
    private static func exitStatus(_ status: Int32) -> ChannelFailure.ExitStatus {
        let signal = status & 0x7F
        return signal == 0 ? .exited((status >> 8) & 0xFF) : .signaled(signal)
    }

    // MARK: End

    /// The reason `onClosed` hears, once there is one.
    private var failure: ChannelFailure? {
        switch state {
        case .running: return exitStatus.map { .exited($0) }
        case .stopping(let reason), .finished(let reason): return reason
        }
    }

    /// The process is reaped: closes the pipes, tells `onClosed`, completes `closeFuture` once the pipes are
    /// closed. Runs once.
    private func finish() {
        let reason: ChannelFailure
        switch state {
        case .finished: return
        case .running: reason = .exited(exitStatus ?? .exited(-1))
        case .stopping(let given): reason = given
        }
        state = .finished(reason)
        for timer in timers { timer.cancel() }
        timers = []
        reapTimer?.cancel()
        reapTimer = nil
        output?.discard()
        let channels = [io, errors].compactMap { $0 }
        for channel in channels { channel.close(promise: nil) }
        logger.debug("stdio process ended", metadata: ["reason": "\(reason)"])
        let onClosed = self.onClosed
        self.onClosed = nil
        self.onMessage = nil
        onClosed?(reason)
        let closed = self.closed
        EventLoopFuture.andAllComplete(channels.map(\.closeFuture), on: eventLoop).whenComplete { _ in closed.succeed() }
        output = nil
    }
}

/// Runs `body` with `strings` as a NULL-terminated C array of C strings, freed afterwards.
private func withCStringArray<Result>(
    _ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>?) -> Result
) -> Result {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    pointers.append(nil)
    defer { for pointer in pointers { free(pointer) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
}
