import CJansson
import CMCPGate
import PluginAPI

/// Rewrites names between what a target calls things and what a federated route's clients see, in place on
/// jansson trees: list items, call results (resource links and embedded resources), notifications
/// (`resources/updated`) and the ids of server-to-client requests (which must route the client's answer
/// back to the right upstream).
struct FederationRewriter {
    let naming: TargetNaming

    /// The array member that holds the items of a list method's result, and the field that names each item.
    static func listShape(of method: String) -> (key: String, field: String, isURI: Bool)? {
        switch method {
        case "tools/list": return ("tools", "name", false)
        case "prompts/list": return ("prompts", "name", false)
        case "resources/list": return ("resources", "uri", true)
        case "resources/templates/list": return ("resourceTemplates", "uriTemplate", true)
        default: return nil
        }
    }

    /// Renames every item of one target's list result page.
    func rewriteListItems(_ items: JSONValueRef, field: String, isURI: Bool, target: String) {
        forEach(items) { item in
            guard let value = item[field]?.string else { return }
            item.set(
                field,
                string: isURI
                    ? naming.exposedURI(value, target: target)
                    : naming.exposedName(value, target: target, limit: field == "name" ? TargetNaming.maxToolNameLength : nil))
        }
    }

    /// Rewrites URIs inside a result the client gets from `target` (tool results, prompt messages,
    /// resource contents).
    func rewriteResult(_ result: JSONValueRef, method: String, target: String) {
        switch method {
        case "tools/call":
            if let content = result["content"] { forEach(content) { rewriteContent($0, target: target) } }
        case "prompts/get":
            if let messages = result["messages"] {
                forEach(messages) { message in message["content"].map { rewriteContent($0, target: target) } }
            }
        case "resources/read":
            if let contents = result["contents"] { forEach(contents) { rewriteURI($0, field: "uri", target: target) } }
        default:
            break
        }
    }

    private func rewriteContent(_ content: JSONValueRef, target: String) {
        switch content["type"]?.string {
        case "resource_link": rewriteURI(content, field: "uri", target: target)
        case "resource": content["resource"].map { rewriteURI($0, field: "uri", target: target) }
        default: break
        }
    }

    private func rewriteURI(_ object: JSONValueRef, field: String, target: String) {
        guard let uri = object[field]?.string else { return }
        object.set(field, string: naming.exposedURI(uri, target: target))
    }

    /// Rewrites a server-to-client message from `target` before it reaches the client. Returns true when
    /// it changed.
    func rewriteServerMessage(_ message: RPCMessage, target: String) -> Bool {
        switch message.kind {
        case .request:
            // The client answers with this id; make it name the upstream it must go back to.
            let original = message.idJSON
            message.root.set("id", string: Self.serverRequestID(target: target, originalIDJSON: original))
            return true
        case .notification:
            if message.method == "notifications/resources/updated", let params = message.params, params["uri"] != nil {
                rewriteURI(params, field: "uri", target: target)
                return true
            }
            return false
        case .result, .error:
            return false
        }
    }

    static let serverRequestPrefix = "mcpgate:"

    /// `mcpgate:<target>:<original id as JSON>`.
    static func serverRequestID(target: String, originalIDJSON: String) -> String {
        serverRequestPrefix + target + ":" + originalIDJSON
    }

    /// The target and original id (JSON text) a client's answer refers to.
    static func parseServerRequestID(_ id: String) -> (target: String, originalIDJSON: String)? {
        guard id.hasPrefix(serverRequestPrefix) else { return nil }
        let rest = id.dropFirst(serverRequestPrefix.count)
        guard let colon = rest.firstIndex(of: ":") else { return nil }
        return (String(rest[..<colon]), String(rest[rest.index(after: colon)...]))
    }

    private func forEach(_ array: JSONValueRef, _ body: (JSONValueRef) -> Void) {
        guard array.type == JSON_ARRAY else { return }
        for index in 0..<json_array_size(array.pointer) {
            if let item = json_array_get(array.pointer, index) { body(JSONValueRef(item)) }
        }
    }
}
