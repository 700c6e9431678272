/// One upstream MCP endpoint URL, split once at load.
public struct UpstreamEndpoint: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The URL exactly as normalised (`http://127.0.0.1:3005/mcp`); this string is what a session pins.
    public var url: String
    public var scheme: String
    public var host: String
    public var port: Int
    /// Path plus query, starting with `/`.
    public var path: String
    public init(url: String, scheme: String, host: String, port: Int, path: String) {
        self.url = url
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path
    }
    public var description: String { url }
}
