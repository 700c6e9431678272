import NIOHTTP1
import PluginAPI

/// Filter header edits (`FilterHeaderEdit`, from a plugin decision) applied to NIO's header list.
extension HTTPHeaders {
    /// Applies filter header edits in order.
    mutating func apply(_ edits: [FilterHeaderEdit]) {
        for edit in edits {
            switch edit.operation {
            case .set: replaceOrAdd(name: edit.name, value: edit.value)
            case .add: add(name: edit.name, value: edit.value)
            case .remove: remove(name: edit.name)
            }
        }
    }
}
