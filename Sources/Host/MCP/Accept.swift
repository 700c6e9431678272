import MCPGateUpstream
import NIOHTTP1

/// The media types an `Accept` header admits, as far as MCP cares.
struct Accept {
    var json = false
    var eventStream = false

    init(_ headers: HTTPHeaders) {
        for value in headers["accept"] {
            for item in value.split(separator: ",") {
                let type = (item.split(separator: ";", maxSplits: 1).first ?? "").trimmingSpaces().lowercased()
                switch type {
                case "*/*":
                    json = true
                    eventStream = true
                case "application/json", "application/*": json = true
                case "text/event-stream", "text/*": eventStream = true
                default: break
                }
            }
        }
    }
}
