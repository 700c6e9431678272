import Foundation
import Synchronization
import Testing

/// Finds the test plugins SwiftPM built next to the test binary, and compiles the deliberately broken
/// variants of Tests/plugins/broken/broken_plugin.c with the system C compiler on demand.
enum TestPlugins {
    /// The package root (two levels above this file's folder).
    static let repoRoot: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().path
    }()

    /// The directory of the running test binary, where SwiftPM puts `.dynamic` products.
    static let binDirectory: String = {
        if let override = ProcessInfo.processInfo.environment["MCPGATE_TEST_PLUGIN_DIR"] { return override }
        return URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().path
    }()

    /// libmcpgate_test_filter.so (Tests/plugins/behavior).
    static var behaviorPath: String { binDirectory + "/libmcpgate_test_filter.so" }
    /// libmcpgate_test_noop.so (Tests/plugins/noop).
    static var noopPath: String { binDirectory + "/libmcpgate_test_noop.so" }

    private static let scratch: String = {
        let dir = NSTemporaryDirectory() + "mcpgate-plugin-tests-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }()

    private static let built = Mutex<[String: String]>([:])
    /// Held for a whole compile: two tests asking for the same library at once must not both run cc on one output
    /// file (the second cc truncates it while the first test dlopens it).
    private static let compiling = Mutex<Void>(())

    /// A scratch file path for a test.
    static func scratchPath(_ name: String) -> String { scratch + "/" + name }

    /// Compiles `source` (relative to the repo) into a shared object with `flags` and returns its path.
    static func compile(_ name: String, source: String, flags: [String]) throws -> String {
        try compiling.withLock { _ in try compileUnlocked(name, source: source, flags: flags) }
    }

    private static func compileUnlocked(_ name: String, source: String, flags: [String]) throws -> String {
        let key = name
        if let path = built.withLock({ $0[key] }) { return path }
        let output = scratch + "/lib\(name).so"
        let compiler = ProcessInfo.processInfo.environment["CC"] ?? "cc"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            [
                compiler, "-std=c11", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC",
                "-fvisibility=hidden", "-I", repoRoot + "/include", "-o", output,
                repoRoot + "/" + source,
            ] + flags + ["-ljansson"]
        let pipe = Pipe()
        process.standardError = pipe
        try process.run()
        process.waitUntilExit()
        let errors = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw CompileError(message: "cc failed for \(name): \(errors)")
        }
        built.withLock { $0[key] = output }
        return output
    }

    /// A variant of broken_plugin.c (`nil`: the valid one).
    static func broken(_ variant: String?, extraFlags: [String] = []) throws -> String {
        let name = "broken_" + (variant ?? "valid").lowercased() + (extraFlags.isEmpty ? "" : "_x")
        let flags = (variant.map { ["-DBROKEN_\($0)"] } ?? []) + extraFlags
        return try compile(name, source: "Tests/plugins/broken/broken_plugin.c", flags: flags)
    }

    struct CompileError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}
