import Foundation
import PackagePlugin

/// Compiles the admin UI (`ui/` at the package root) into the target that uses this plugin: one generated Swift
/// file with every asset (`embeddedUIFiles`). The UI's files are the command's inputs, so editing one rebuilds it.
@main
struct EmbedUIAssets: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let folder = context.package.directoryURL.appending(path: "ui")
        var inputs: [URL] = []
        if let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey]) {
            for case let url as URL in walker where (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true {
                inputs.append(url)
            }
        }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedUIFiles.swift")
        return [
            .buildCommand(
                displayName: "Embedding the admin UI (\(inputs.count) files from ui/)",
                executable: try context.tool(named: "EmbedAssets").url,
                arguments: [folder.path, output.path],
                inputFiles: inputs,
                outputFiles: [output])
        ]
    }
}
