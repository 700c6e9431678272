import Foundation
import Testing

@testable import MCPGate

/// The UI's files: which file a `/ui/…` path means, no way out of the folder, the media types a browser needs, and
/// the compiled-in copies (the build embeds `ui/`).
@Suite("Admin UI assets")
struct UIAssetsTests {
    @Test func routesWithoutAnExtensionServeTheIndex() {
        #expect(UIAssets.file(forUIPath: "") == "index.html")
        #expect(UIAssets.file(forUIPath: "playground") == "index.html")
        #expect(UIAssets.file(forUIPath: "overview/") == "index.html")
        #expect(UIAssets.file(forUIPath: "js/main.js") == "js/main.js")
        #expect(UIAssets.file(forUIPath: "css/app.css") == "css/app.css")
    }

    @Test func pathsThatLeaveTheFolderAreNeverLookedUp() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ui-assets-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("js"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data("ok".utf8).write(to: folder.appendingPathComponent("js/app.js"))
        try Data("secret".utf8).write(to: folder.appendingPathComponent(".env"))
        let assets = UIAssets(environment: [UIAssets.directoryVariable: folder.path])
        #expect(assets.asset(at: "js/app.js")?.bytes == Array("ok".utf8))
        #expect(assets.asset(at: "js/app.js")?.contentType == "text/javascript; charset=utf-8")
        for path in ["../etc/passwd", "js/../../x", "/etc/passwd", ".env", "js//app.js", "js/./app.js", "a\0b", ""] {
            #expect(assets.asset(at: path) == nil, "\(path)")
        }
        #expect(assets.asset(at: "js/none.js") == nil)
    }

    @Test func mediaTypes() {
        #expect(UIAssets.contentType(of: "index.html") == "text/html; charset=utf-8")
        #expect(UIAssets.contentType(of: "css/app.css") == "text/css; charset=utf-8")
        #expect(UIAssets.contentType(of: "js/x.mjs") == "text/javascript; charset=utf-8")
        #expect(UIAssets.contentType(of: "favicon.svg") == "image/svg+xml")
        #expect(UIAssets.contentType(of: "noextension") == "application/octet-stream")
    }

    @Test func theCompiledInUIHasItsIndexAndEveryFileDecodes() {
        let assets = UIAssets(environment: [:])
        let index = assets.asset(at: "index.html")
        #expect(index != nil)
        let text = String(decoding: index?.bytes ?? [], as: UTF8.self)
        #expect(text.contains("<script type=\"module\""))
        for file in embeddedUIFiles {
            #expect(Data(base64Encoded: file.base64) != nil, "\(file.path)")
        }
    }

    @Test func theSecurityHeadersForbidInlineCodeAndForeignOrigins() {
        let csp = UIAssets.securityHeaders.first { $0.0 == "content-security-policy" }?.1 ?? ""
        #expect(csp.contains("default-src 'none'"))
        #expect(csp.contains("script-src 'self';"))
        #expect(!csp.contains("unsafe-inline"))
        #expect(!csp.contains("unsafe-eval"))
        #expect(csp.contains("frame-ancestors 'none'"))
    }
}
