/// A JSON-RPC error the router decided on, before the era gives it its HTTP status (`Exchange.failRPC`).
struct RoutingFailure: Error, Equatable {
    var code: Int
    var text: String

    init(_ code: Int, _ text: String) {
        self.code = code
        self.text = text
    }

    static func invalidParams(_ text: String) -> RoutingFailure { RoutingFailure(-32602, text) }
    static func methodNotFound(_ text: String) -> RoutingFailure { RoutingFailure(-32601, text) }
}
