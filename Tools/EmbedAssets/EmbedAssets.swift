// Writes a Swift source file that holds every file under a folder, base64-encoded, so the admin UI is compiled into
// the gateway's binary (nothing to deploy next to it). Run by the EmbedUIAssets build-tool plugin:
//   EmbedAssets <folder> <output.swift>
// A missing folder gives an empty table. Paths are relative to the folder, with `/` separators, sorted.
import Foundation

@main
struct EmbedAssets {
    static func main() throws {
        let arguments = CommandLine.arguments
        guard arguments.count == 3 else {
            FileHandle.standardError.write(Data("usage: EmbedAssets <folder> <output.swift>\n".utf8))
            exit(2)
        }
        let root = URL(fileURLWithPath: arguments[1]).standardizedFileURL
        let output = URL(fileURLWithPath: arguments[2])

        var files: [(path: String, data: Data)] = []
        if let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) {
            for case let url as URL in walker {
                guard (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true else { continue }
                let relative = String(url.standardizedFileURL.path.dropFirst(root.path.count + 1))
                // Editor leftovers and dotfiles are not part of the UI.
                if relative.split(separator: "/").contains(where: { $0.hasPrefix(".") || $0.hasSuffix("~") }) { continue }
                files.append((relative, try Data(contentsOf: url)))
            }
        }
        files.sort { $0.path < $1.path }

        var source = "// Generated at build time by Tools/EmbedAssets from ui/; do not edit.\n\n"
        source += "/// Every file under `ui/`, by path relative to it, base64-encoded.\n"
        source += "let embeddedUIFiles: [(path: String, base64: String)] = [\n"
        for file in files {
            let quoted = file.path.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            source += "    (\"\(quoted)\", \"\(file.data.base64EncodedString())\"),\n"
        }
        source += "]\n"
        try Data(source.utf8).write(to: output, options: .atomic)
    }
}
