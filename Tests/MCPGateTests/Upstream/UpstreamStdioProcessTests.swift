import CMCPGateSpawn
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

@testable import MCPGateUpstream

#if canImport(Glibc)
import Glibc
#endif

/// `UpstreamStdioProcess` and `mcpgate_spawn` against real processes: lines both ways, stderr to the log, what
/// the child inherits (descriptors, signal dispositions, environment), stopping and reaping, and backpressure.
@Suite("stdio process")
struct UpstreamStdioProcessTests {
    // MARK: Lines

    @Test("/bin/cat echoes a written line back; close stops it and reaps it")
    func catEchoes() async throws {
        let run = try await Run.start(["/bin/cat"])
        try await run.send(#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
        try await run.send("second")
        try await run.waitForLines(2)
        #expect(run.lines == [#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#, "second"])
        try await run.close(.closed(.idle))
        #expect(run.closed == [.closed(.idle)])
        #expect(!processExists(run.pid))
    }

    @Test("a send after close fails with the close reason; onClosed fires once however often close is called")
    func sendAfterClose() async throws {
        let run = try await Run.start(["/bin/cat"])
        let process = run.process
        let failure: (any Error)? = try await process.eventLoop.flatSubmit {
            process.close(.closed(.deleted))
            process.close(.closed(.idle))
            return process.send(ByteBuffer(string: "late"), headers: [:]).map { nil as (any Error)? }.recover { $0 }
        }.get()
        #expect(failure as? ChannelFailure == .closed(.deleted))
        try await run.waitForClose()
        try await Task.sleep(for: .milliseconds(50))
        #expect(run.closed == [.closed(.deleted)])
    }

    @Test("stderr lines go to the log with the target and the pid")
    func stderrToLog() async throws {
        let logs = LogCapture()
        let run = try await Run.start(["/bin/sh", "-c", "echo oops >&2; printf 'no newline' >&2; exec cat"], logs: logs)
        try await waitUntil { logs.stderrLines.count == 1 }
        // The unfinished last line is logged when stderr ends.
        try await run.close(.closed(.idle))
        let entries = logs.entries.withLockedValue { $0 }.filter { $0.message == "stdio stderr" }
        #expect(entries.map { $0.metadata["line"] } == ["oops", "no newline"])
        #expect(entries.allSatisfy { $0.level == .info })
        #expect(entries.allSatisfy { $0.metadata["target"] == "test-target" && $0.metadata["pid"] == "\(run.pid)" })
    }

    @Test("a stderr line is cut at 8 KiB and the rest of it dropped")
    func stderrTruncated() async throws {
        let logs = LogCapture()
        let run = try await Run.start(
            ["/bin/sh", "-c", "head -c 20000 /dev/zero | tr '\\0' x >&2; echo >&2; echo after >&2; exec cat"], logs: logs)
        try await waitUntil { logs.stderrLines.count == 2 }
        let entries = logs.entries.withLockedValue { $0 }.filter { $0.message == "stdio stderr" }
        #expect(entries.first?.metadata["line"] == String(repeating: "x", count: 8192))
        #expect(entries.first?.metadata["truncated"] == "true")
        #expect(entries.last?.metadata["line"] == "after")
        try await run.close(.closed(.idle))
    }

    @Test("at most 100 stderr lines a second are logged, then one summary of the dropped")
    func stderrRateLimited() async throws {
        let logs = LogCapture()
        let run = try await Run.start(
            ["/bin/sh", "-c", "i=0; while [ $i -lt 400 ]; do echo line$i >&2; i=$((i+1)); done; exec cat"], logs: logs)
        // The summary comes when the one-second window ends, without another line to trigger it.
        try await waitUntil(timeout: .seconds(5)) { logs.stderrLines.count + logs.droppedCounts.reduce(0, +) == 400 }
        #expect(logs.stderrLines.count >= 100)
        #expect(logs.stderrLines.count < 400)
        #expect(Array(logs.stderrLines.prefix(100)) == (0..<100).map { "line\($0)" })
        #expect(!logs.droppedCounts.isEmpty)
        try await run.close(.closed(.idle))
    }

    // MARK: What the child inherits

    @Test("the child holds only 0, 1 and 2: /bin/ls /proc/self/fd lists 0 1 2 3 (3 is ls's own)")
    func onlyStdioDescriptors() async throws {
        // A descriptor of the parent's without close-on-exec, as NIO's sockets are on Linux.
        let inheritable = open("/dev/null", O_RDONLY)
        #expect(inheritable > 2)
        defer { close(inheritable) }
        let run = try await Run.start(["/bin/ls", "/proc/self/fd"])
        try await run.waitForClose()
        #expect(run.lines == ["0", "1", "2", "3"])
        #expect(run.closed == [.exited(.exited(0))])
    }

    @Test("no ignored signals reach the child although the gateway ignores SIGPIPE (but glibc's own 32 and 33)")
    func noIgnoredSignals() async throws {
        _ = Glibc.signal(SIGPIPE, SIG_IGN)  // as NIO does process-wide
        let run = try await Run.start(["/bin/grep", "-E", "^Sig(Blk|Ign):", "/proc/self/status"])
        try await run.waitForClose()
        let masks = signalMasks(run.lines)
        #expect(masks.blocked == 0)
        #expect(masks.ignored.map { $0 & ~glibcInternalSignals } == 0, "SigIgn \(String(masks.ignored ?? 0, radix: 16))")
    }

    @Test("the signal mask and dispositions are reset: a blocked SIGUSR1 and an ignored SIGPIPE are not inherited")
    func spawnResetsSignals() throws {
        _ = Glibc.signal(SIGPIPE, SIG_IGN)
        var blocked = sigset_t()
        var previous = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGUSR1)
        pthread_sigmask(SIG_BLOCK, &blocked, &previous)
        let child = try spawnDirectly(["/bin/grep", "-E", "^Sig(Blk|Ign):", "/proc/self/status"])
        pthread_sigmask(SIG_SETMASK, &previous, nil)
        close(child.stdin)
        close(child.stderr)
        let output = readAll(child.stdout)
        #expect(waitForExit(child.pid) == 0)
        let masks = signalMasks(output.split(separator: "\n").map(String.init))
        #expect(masks.blocked == 0, "SigBlk \(String(masks.blocked ?? 0, radix: 16))")
        #expect(masks.ignored.map { $0 & ~glibcInternalSignals } == 0, "SigIgn \(String(masks.ignored ?? 0, radix: 16))")
    }

    @Test("SIGPIPE has its default action: /usr/bin/yes with its stdout read end closed dies of signal 13")
    func sigpipeIsDefault() throws {
        _ = Glibc.signal(SIGPIPE, SIG_IGN)  // ignored in the parent; an ignored disposition survives exec
        let child = try spawnDirectly(["/usr/bin/yes"])
        close(child.stdout)
        close(child.stdin)
        close(child.stderr)
        let status = waitForExit(child.pid)
        // With SIGPIPE ignored, yes would get EPIPE and exit with status 1 instead.
        #expect(status & 0x7F == SIGPIPE, "wait status \(status)")
    }

    @Test("the environment is exactly the one given: nothing of the parent's")
    func exactEnvironment() async throws {
        // The test's own environment is not empty, so an inherited variable would show.
        #expect(ProcessInfo.processInfo.environment["PATH"] != nil)
        let run = try await Run.start(["/usr/bin/env"], environment: ["A=1", "B=two words", "EMPTY=", "PATH=/nowhere"])
        try await run.waitForClose()
        #expect(run.lines == ["A=1", "B=two words", "EMPTY=", "PATH=/nowhere"])
        let empty = try await Run.start(["/usr/bin/env"])
        try await empty.waitForClose()
        #expect(empty.lines.isEmpty)
        #expect(empty.closed == [.exited(.exited(0))])
    }

    @Test("argv is passed as given, argv[0] included, with no shell")
    func argumentVector() async throws {
        let run = try await Run.start(["/bin/sh", "-c", "echo \"$0|$1|$2\"", "zero", "one two", "$HOME;*"])
        try await run.waitForClose()
        #expect(run.lines == ["zero|one two|$HOME;*"])
    }

    // MARK: Spawn failures

    @Test("a file that is not executable fails with EACCES, a missing one with ENOENT, and no descriptor leaks")
    func spawnFailure() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mcpgate-not-executable-\(getpid())").path
        #expect(FileManager.default.createFile(atPath: path, contents: Data("#!/bin/sh\n".utf8), attributes: [.posixPermissions: 0o644]))
        defer { try? FileManager.default.removeItem(atPath: path) }
        await #expect(throws: ChannelFailure.spawnFailed(errno: EACCES)) { try await Run.start([path]) }
        await #expect(throws: ChannelFailure.spawnFailed(errno: ENOENT)) { try await Run.start(["/nonexistent/mcpgate-test"]) }
        // Each failure would leak six pipe ends: a hundred failures would show, whatever other tests open meanwhile.
        let before = openDescriptorCount()
        for _ in 0..<100 {
            #expect(throws: SpawnError(errno: EACCES)) { try spawnDirectly([path]) }
        }
        let after = openDescriptorCount()
        #expect(after - before < 50, "\(before) descriptors before, \(after) after")
    }

    // MARK: Stopping

    @Test("a process that ignores stdin EOF is stopped and reaped within the grace period + 1 s")
    func stopWithinGrace() async throws {
        let run = try await Run.start(["/bin/sleep", "60"])
        #expect(processExists(run.pid))
        let started = ContinuousClock.now
        try await run.close(.closed(.expired))
        let took = ContinuousClock.now - started
        #expect(took < .milliseconds(200) + .seconds(1), "took \(took)")
        #expect(took >= .milliseconds(200), "SIGTERM came before the grace period ended: \(took)")
        #expect(!processExists(run.pid))
        #expect(run.closed == [.closed(.expired)])
    }

    @Test("a process that ignores SIGTERM gets SIGKILL after the grace period")
    func sigkillAfterGrace() async throws {
        let run = try await Run.start(["/bin/sh", "-c", "trap '' TERM; echo ready; exec sleep 60"])
        try await run.waitForLines(1)
        let started = ContinuousClock.now
        try await run.close(.closed(.idle))
        let took = ContinuousClock.now - started
        #expect(took >= .milliseconds(400), "took \(took)")
        #expect(took < .milliseconds(400) + .seconds(1), "took \(took)")
        #expect(!processExists(run.pid))
    }

    @Test("at shutdown: SIGTERM at once, SIGKILL after 1 s, whatever the grace period")
    func shutdownStop() async throws {
        let slow = StdioProcessSettings(maxLineBytes: 1 << 20, stopGracePeriod: .seconds(30))
        let plain = try await Run.start(["/bin/sleep", "60"], settings: slow)
        var started = ContinuousClock.now
        try await plain.close(.closed(.shutdown))
        #expect(ContinuousClock.now - started < .milliseconds(900))
        let stubborn = try await Run.start(["/bin/sh", "-c", "trap '' TERM; echo ready; exec sleep 60"], settings: slow)
        try await stubborn.waitForLines(1)
        started = ContinuousClock.now
        try await stubborn.close(.closed(.shutdown))
        let took = ContinuousClock.now - started
        #expect(took >= .seconds(1) && took < .seconds(2), "took \(took)")
        #expect(!processExists(stubborn.pid))
        #expect(stubborn.closed == [.closed(.shutdown)])
    }

    @Test("close kills the whole group: sh -c 'sleep 60 & exec sleep 60' leaves no sleep behind")
    func groupKill() async throws {
        let run = try await Run.start(["/bin/sh", "-c", "sleep 60 & echo $!; exec sleep 60"])
        try await run.waitForLines(1)
        let grandchild = try #require(Int32(run.lines[0]))
        #expect(isRunning(grandchild))
        try await run.close(.closed(.idle))
        #expect(!processExists(run.pid))
        try await waitUntil { !isRunning(grandchild) }
    }

    @Test("a process that exits by itself is reported with its status, after its lines, and its orphans are killed")
    func exitsByItself() async throws {
        // The orphan keeps stdout open: only the group kill lets stdout end.
        let run = try await Run.start(["/bin/sh", "-c", "sleep 60 & echo $!; echo bye; exit 3"])
        try await run.waitForClose()
        #expect(run.lines.count == 2)
        #expect(run.lines.last == "bye")
        #expect(run.closed == [.exited(.exited(3))])
        #expect(!processExists(run.pid))
        let orphan = try #require(Int32(run.lines[0]))
        try await waitUntil { !isRunning(orphan) }
    }

    @Test("a process killed by a signal is reported as signaled")
    func killedBySignal() async throws {
        let run = try await Run.start(["/bin/sh", "-c", "kill -9 $$"])
        try await run.waitForClose()
        #expect(run.closed == [.exited(.signaled(SIGKILL))])
    }

    // MARK: Bounds and backpressure

    @Test("a stdout line over the bound closes with lineTooLong; one of exactly the bound passes")
    func lineTooLong() async throws {
        let run = try await Run.start(["/bin/cat"], settings: StdioProcessSettings(maxLineBytes: 64, stopGracePeriod: .milliseconds(200)))
        try await run.send(String(repeating: "a", count: 64))
        try await run.waitForLines(1)
        try await run.send(String(repeating: "b", count: 65))
        try await run.waitForClose()
        #expect(run.lines == [String(repeating: "a", count: 64)])
        #expect(run.closed == [.lineTooLong(limit: 64)])
        #expect(!processExists(run.pid))
    }

    @Test("while onMessage's future is pending no line is handed out and the pipe is not read")
    func backpressure() async throws {
        let hold = NIOLockedValueBox<EventLoopPromise<Void>?>(nil)
        let run = try await Run.start(["/usr/bin/yes", "{}"]) { line, loop in
            hold.withLockedValue { held in
                guard held == nil else { return nil }
                let promise = loop.makePromise(of: Void.self)
                held = promise
                return promise.futureResult
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        #expect(run.lines.count == 1)
        // yes is blocked on a full pipe: it writes nothing more.
        let written = try #require(writtenBytes(run.pid))
        try await Task.sleep(for: .milliseconds(300))
        #expect(writtenBytes(run.pid) == written)
        #expect(run.lines.count == 1)
        // Released: the lines that waited come out, and reading goes on.
        hold.withLockedValue { $0?.succeed() }
        // 100 000 lines are 300 KB: more than the pipe and NIO's reads held, so yes had to write again.
        try await waitUntil(timeout: .seconds(10)) { run.lines.count > 100_000 }
        #expect(try #require(writtenBytes(run.pid)) > written)
        try await run.close(.closed(.idle))
        #expect(run.lines.allSatisfy { $0 == "{}" })
    }
}

// MARK: Helpers

/// One started process and what it reported, recorded from its loop for the test to read.
private final class Run: Sendable {
    let process: UpstreamStdioProcess
    private let recorded: Recorded

    final class Recorded: Sendable {
        let lines = NIOLockedValueBox<[String]>([])
        let closed = NIOLockedValueBox<[ChannelFailure]>([])
    }

    private init(process: UpstreamStdioProcess, recorded: Recorded) {
        self.process = process
        self.recorded = recorded
    }

    var pid: Int32 { process.pid }
    var lines: [String] { recorded.lines.withLockedValue { $0 } }
    var closed: [ChannelFailure] { recorded.closed.withLockedValue { $0 } }

    static func start(
        _ argv: [String], environment: [String] = [], settings: StdioProcessSettings = quickSettings,
        logs: LogCapture = LogCapture(),
        onLine: @escaping @Sendable (String, any EventLoop) -> EventLoopFuture<Void>? = { _, _ in nil }
    ) async throws -> Run {
        let launch = StdioLaunch(targetName: "test-target", executable: argv[0], argv: argv, environment: environment)
        let recorded = Recorded()
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let process = try await UpstreamStdioProcess.start(launch, settings: settings, on: loop, logger: logs.logger)
            .map { process in
                process.onClosed = { reason in recorded.closed.withLockedValue { $0.append(reason) } }
                process.onMessage = { line in
                    let text = String(buffer: line)
                    recorded.lines.withLockedValue { $0.append(text) }
                    return onLine(text, loop)
                }
                return process
            }.get()
        return Run(process: process, recorded: recorded)
    }

    func send(_ line: String) async throws {
        let process = self.process
        try await process.eventLoop.flatSubmit { process.send(ByteBuffer(string: line), headers: [:]) }.get()
    }

    func close(_ reason: ChannelFailure) async throws {
        let process = self.process
        process.eventLoop.execute { process.close(reason) }
        try await waitForClose()
    }

    func waitForLines(_ count: Int) async throws {
        try await waitUntil { self.lines.count >= count }
    }

    /// Waits for `closeFuture`, at most 10 s: a process that is never stopped fails the test, not hangs it.
    func waitForClose() async throws {
        let done = NIOLockedValueBox(false)
        process.closeFuture.whenComplete { _ in done.withLockedValue { $0 = true } }
        try await waitUntil(timeout: .seconds(10)) { done.withLockedValue { $0 } }
    }
}

/// glibc's `posix_spawn` sets its own internal signals (32 and 33: thread cancellation and setxid) to
/// ignored in every child, and `POSIX_SPAWN_SETSIGDEF` cannot name them. A glibc program reinstalls its
/// handlers for them at start, and nothing else sends them; every other signal must have its default.
private let glibcInternalSignals: UInt64 = 1 << 31 | 1 << 32

/// The `SigBlk` and `SigIgn` masks in lines of `/proc/<pid>/status`.
private func signalMasks(_ lines: [String]) -> (blocked: UInt64?, ignored: UInt64?) {
    func mask(_ name: String) -> UInt64? {
        lines.first { $0.hasPrefix(name + ":\t") }.flatMap { UInt64($0.dropFirst(name.count + 2), radix: 16) }
    }
    return (mask("SigBlk"), mask("SigIgn"))
}

/// A short grace period, so that stops are quick.
private let quickSettings = StdioProcessSettings(maxLineBytes: 1 << 20, stopGracePeriod: .milliseconds(200))

/// Polls `condition` every 10 ms until it holds, or fails the test after `timeout`.
private func waitUntil(
    timeout: Duration = .seconds(3), sourceLocation: SourceLocation = #_sourceLocation, _ condition: () -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("condition not met within \(timeout)", sourceLocation: sourceLocation)
            return
        }
        try await Task.sleep(for: .milliseconds(10))
    }
}

/// True while `/proc/<pid>` exists (running or a zombie not yet reaped).
private func processExists(_ pid: Int32) -> Bool {
    access("/proc/\(pid)", F_OK) == 0
}

/// True while `pid` exists and is not a zombie (an orphan's zombie waits for whoever reaps orphans here).
private func isRunning(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return false }
    let state = stat[stat.index(after: close)...].dropFirst().first
    return state != "Z" && state != "X"
}

/// The bytes `pid` has written so far (`wchar` of `/proc/<pid>/io`).
private func writtenBytes(_ pid: Int32) -> Int? {
    guard let io = try? String(contentsOfFile: "/proc/\(pid)/io", encoding: .utf8) else { return nil }
    let line = io.split(separator: "\n").first { $0.hasPrefix("wchar:") }
    return line.flatMap { Int($0.dropFirst("wchar:".count).trimmingCharacters(in: .whitespaces)) }
}

private func openDescriptorCount() -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
}

private struct SpawnError: Error, Equatable {
    var errno: Int32
}

/// `mcpgate_spawn` called directly, with an empty environment.
private func spawnDirectly(_ argv: [String]) throws -> (pid: pid_t, stdin: Int32, stdout: Int32, stderr: Int32) {
    var pid: pid_t = -1
    var stdin: Int32 = -1
    var stdout: Int32 = -1
    var stderr: Int32 = -1
    var arguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
    var environment: [UnsafeMutablePointer<CChar>?] = [nil]
    defer { for pointer in arguments { free(pointer) } }
    let rc = mcpgate_spawn(argv[0], &arguments, &environment, &pid, &stdin, &stdout, &stderr)
    guard rc == 0 else { throw SpawnError(errno: rc) }
    return (pid, stdin, stdout, stderr)
}

/// Everything readable from `fd` until EOF; closes it.
private func readAll(_ fd: Int32) -> String {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count > 0 {
            bytes += chunk[..<count]
        } else if count == 0 || errno != EINTR {
            break
        }
    }
    close(fd)
    return String(decoding: bytes, as: UTF8.self)
}

/// Waits (polling, at most 5 s) for `pid` to exit; its wait status, or -1.
private func waitForExit(_ pid: pid_t) -> Int32 {
    var status: Int32 = 0
    for _ in 0..<500 {
        if waitpid(pid, &status, WNOHANG) == pid { return status }
        usleep(10_000)
    }
    kill(pid, SIGKILL)
    waitpid(pid, &status, 0)
    return -1
}

/// A `LogHandler` that keeps every entry, for tests to read.
private final class LogCapture: Sendable {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    let entries = NIOLockedValueBox<[Entry]>([])

    var logger: Logger {
        var logger = Logger(label: "mcpgate.test.stdio") { _ in Handler(capture: self) }
        logger.logLevel = .trace
        return logger
    }

    var stderrLines: [String] {
        entries.withLockedValue { $0 }.filter { $0.message == "stdio stderr" }.compactMap { $0.metadata["line"] }
    }

    /// The counts of the "N stderr lines dropped" summaries.
    var droppedCounts: [Int] {
        entries.withLockedValue { $0 }.compactMap { entry in
            entry.message.hasSuffix("per second)") ? Int(entry.message.prefix { $0.isNumber }) : nil
        }
    }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var all = metadata
            if let explicit = event.metadata { all.merge(explicit) { $1 } }
            let entry = Entry(level: event.level, message: "\(event.message)", metadata: all.mapValues { "\($0)" })
            capture.entries.withLockedValue { $0.append(entry) }
        }
    }
}
