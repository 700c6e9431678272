import NIOCore
import PluginAPI

extension RPCMessage {
    /// This message as the answer to the request whose id is `requestIDJSON`, with the bytes to relay; nil
    /// when it answers something else. A response must carry the request's id. An error response with
    /// `"id": null` (JSON-RPC 2.0 §5: the server could not read the id, as for a parse error) is the answer
    /// too, since a POST's answer can only concern the message POSTed: it comes back as the upstream's error
    /// object under the request's id, so that the client, which matches answers by id, can pair it.
    func answer(toRequest requestIDJSON: String, raw: ByteBuffer) -> (message: RPCMessage, raw: ByteBuffer)? {
        guard kind == .result || kind == .error else { return nil }
        if idJSON == requestIDJSON { return (self, raw) }
        guard kind == .error, id?.isNull ?? true, requestIDJSON != "null", let error = root["error"] else { return nil }
        var text = Array("{\"jsonrpc\":\"2.0\",\"id\":\(requestIDJSON),\"error\":".utf8)
        text += error.serialized()
        text.append(UInt8(ascii: "}"))
        guard case .success(let claimed) = text.withUnsafeBytes({ RPCMessage.parse($0) }) else { return nil }
        return (claimed, ByteBuffer(bytes: text))
    }
}
