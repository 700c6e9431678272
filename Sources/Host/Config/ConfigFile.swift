#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading the configuration file from disk, with errors that say why (`No such file or directory`).
enum ConfigFile {
    /// Files larger than this are refused: a configuration is a few kilobytes; this is a wrong path.
    static let maxBytes = 16 << 20

    /// The file's text, which must be UTF-8.
    static func read(_ path: String) throws(ConfigError) -> String {
        func failure(_ message: String) -> ConfigError {
            ConfigError(file: path, path: "", message: message)
        }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw failure("cannot open the configuration file: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = chunk.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure("cannot read the configuration file: \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > maxBytes {
                throw failure("expected a configuration file of at most \(maxBytes >> 20) MiB, got a larger file")
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw failure("expected UTF-8 text, got bytes that are not UTF-8")
        }
        return text
    }

    /// The absolute directory holding `path` (made absolute against the working directory when relative).
    static func directory(of path: String) -> String {
        var directory: String
        if let slash = path.lastIndex(of: "/") {
            directory = slash == path.startIndex ? "/" : String(path[..<slash])
        } else {
            directory = "."
        }
        if !directory.hasPrefix("/"), let cwd = currentDirectory() {
            directory = directory == "." ? cwd : cwd + "/" + directory
        }
        return directory
    }

    private static func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
        #if canImport(Darwin)
        return Darwin.read(descriptor, buffer, count)
        #elseif canImport(Musl)
        return Musl.read(descriptor, buffer, count)
        #else
        return Glibc.read(descriptor, buffer, count)
        #endif
    }

    private static func currentDirectory() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return nil }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
