import Foundation
import PackagePlugin

/// Compiles the admin UI (`ui/` at the package root) into the target that uses this plugin: one generated Swift
/// file with every asset (`embeddedUIFiles`). The UI's files are the command's inputs, so editing one rebuilds it.
@main
struct EmbedUIAssets: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let folder = context.package.directoryURL.appending(path: "ui")
        // The files, and the folders too: a file added to a folder changes the folder, so the command runs again (and
        // EmbedAssets lists the folder itself) even though this plan was made before the file existed.
        var inputs: [URL] = [folder]
        if let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey, .isDirectoryKey]) {
            for case let url as URL in walker {
                let kind = try? url.resourceValues(forKeys: [.isRegularFileKey, .isDirectoryKey])
                if kind?.isRegularFile == true || kind?.isDirectory == true { inputs.append(url) }
            }
        }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedUIFiles.swift")
        return [
            .buildCommand(
                displayName: "Embedding the admin UI from ui/",
                executable: try context.tool(named: "EmbedAssets").url,
                arguments: [folder.path, output.path],
                inputFiles: inputs,
                outputFiles: [output])
        ]
    }
}
