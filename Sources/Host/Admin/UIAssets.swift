import Foundation

/// The admin UI's files (`ui/` in the source tree), by path relative to that folder (`index.html`, `js/main.js`).
/// Normally the copies compiled into the binary (`embeddedUIFiles`, decoded once, on first use); with
/// `MCPGATE_UI_DIR` set, read from that folder on every request, so UI work needs no rebuild. Immutable; `Sendable`.
struct UIAssets: Sendable {
    /// One file, ready to send.
    struct Asset: Sendable {
        var bytes: [UInt8]
        var contentType: String
    }

    /// The environment variable naming a folder to serve the UI from instead of the compiled-in copies.
    static let directoryVariable = "MCPGATE_UI_DIR"

    /// The compiled-in files, decoded from base64 the first time the UI is asked for.
    private static let compiledIn: [String: [UInt8]] = {
        var files: [String: [UInt8]] = [:]
        for file in embeddedUIFiles {
            files[file.path] = Data(base64Encoded: file.base64).map { Array($0) }
        }
        return files
    }()

    /// Where files are read from instead of the binary; nil serves the compiled-in copies.
    let directory: String?

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        directory = environment[Self.directoryVariable].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The file at `path` (relative, `/`-separated), or nil when there is none. A path that climbs out of the folder
    /// (`..`), is absolute, or holds a NUL is never looked up.
    func asset(at path: String) -> Asset? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !path.isEmpty, !path.contains("\0"), !path.hasPrefix("/"),
            !segments.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." || $0.hasPrefix(".") })
        else { return nil }
        let bytes: [UInt8]?
        if let directory {
            bytes = FileManager.default.contents(atPath: directory + "/" + path).map { Array($0) }
        } else {
            bytes = Self.compiledIn[path]
        }
        return bytes.map { Asset(bytes: $0, contentType: Self.contentType(of: path)) }
    }

    /// The media type a browser needs for a file, from its extension (`application/octet-stream` when unknown).
    static func contentType(of path: String) -> String {
        let name = path.split(separator: "/").last ?? ""
        guard let dot = name.lastIndex(of: ".") else { return "application/octet-stream" }
        switch name[name.index(after: dot)...].lowercased() {
        case "html": return "text/html; charset=utf-8"
        case "js", "mjs": return "text/javascript; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "json": return "application/json"
        case "svg": return "image/svg+xml"
        case "png": return "image/png"
        case "ico": return "image/x-icon"
        case "txt": return "text/plain; charset=utf-8"
        case "woff2": return "font/woff2"
        default: return "application/octet-stream"
        }
    }

    /// The file a `/ui/…` path is answered with: the path itself when its last segment names a file (has an
    /// extension), else `index.html` (the UI's own routes: `/ui/`, `/ui/overview`, `/ui/playground`).
    static func file(forUIPath relative: Substring) -> String {
        let last = relative.split(separator: "/").last ?? ""
        return last.contains(".") ? String(relative) : "index.html"
    }

    /// The headers every `/ui/` answer carries: a strict Content-Security-Policy (scripts, styles, fonts and fetches
    /// from this origin only, images also as `data:` URLs, no framing, no forms posting elsewhere) and no sniffing.
    static let securityHeaders: [(String, String)] = [
        (
            "content-security-policy",
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
                + "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        ),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
        ("cache-control", "no-cache"),
    ]
}

#if MCPGATE_NO_EMBEDDED_UI
/// The fuzz build has no UI (Package.swift): nothing is embedded.
let embeddedUIFiles: [(path: String, base64: String)] = []
#endif
