import CJansson
import CMCPGate
import PluginAPI

/// Decides the gateway's own answer to `server/discover` on a federated route from every target's: the
/// capabilities merged, the 2026-07-28 revisions every answering target supports, the cache hints folded.
/// Pure.
enum DiscoverMerger {
    /// The merged result (not yet wrapped in a response), or the error to answer. `outcomes` are in the
    /// order of `targets`.
    static func merge(targets: [String], outcomes: [UpstreamOutcome], failureMode: FailureMode) -> Result<JSONDocument, GatewayError> {
        var results: [(target: String, result: JSONValueRef)] = []
        var versions: Set<String>?
        var hints = CacheHints()
        for (target, outcome) in zip(targets, outcomes) {
            guard case .response(let response, _) = outcome, response.kind == .result, let result = response.result else {
                if failureMode == .failOpen { continue }
                // Not every target speaks 2026-07-28: a plain -32600 sends SDK clients to initialize.
                return .failure(
                    .invalidRequest("Bad Request: target '\(target)' does not serve protocol revision 2026-07-28; use initialize"))
            }
            let supported = supportedVersions(of: result)
            versions = versions.map { $0.intersection(supported) } ?? supported
            results.append((target, result))
            hints.add(result)
        }
        guard let common = versions, !common.isEmpty else {
            return .failure(.invalidRequest("Bad Request: the targets share no protocol revision 2026-07-28; use initialize"))
        }
        let merged = ResultMerger.initializeResult(results, protocolVersion: "")
        json_object_del(merged.root, "protocolVersion")
        json_object_del(merged.root, "serverInfo")
        let list = JSONAlloc.array()
        for value in common.sorted() { json_array_append_new(list, json_string(value)) }
        json_object_set_new(merged.root, "supportedVersions", list)
        ResultMerger.stampModern(JSONValueRef(merged.root), ttlMs: hints.ttlMs, cacheScope: hints.cacheScope)
        return .success(merged)
    }

    /// The sessionless revisions a target's `supportedVersions` lists that this gateway serves too.
    private static func supportedVersions(of result: JSONValueRef) -> Set<String> {
        var supported = Set<String>()
        guard let list = result["supportedVersions"], list.type == JSON_ARRAY else { return supported }
        for index in 0..<json_array_size(list.pointer) {
            if let value = json_array_get(list.pointer, index).flatMap({ JSONValueRef($0).string }),
                ProtocolVersion.sessionless.contains(value)
            {
                supported.insert(value)
            }
        }
        return supported
    }
}
