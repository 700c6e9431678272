import NIOHTTP1

extension HTTPHeaders {
    /// The head of a JSON answer (`Content-Type: application/json`), plus `extra` (an error's `Allow`,
    /// `Retry-After`, a new session's `Mcp-Session-Id`).
    static func json(extra: [(String, String)] = []) -> HTTPHeaders {
        var headers = HTTPHeaders([("content-type", "application/json")])
        headers.add(contentsOf: extra)
        return headers
    }
}
