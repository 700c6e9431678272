import Testing

@testable import MCPGateUpstream

@Suite("Channel routing: which request an upstream line belongs to")
struct ChannelRoutingTests {
    private let a = JSONRPCID.int(1)
    private let b = JSONRPCID.string("b")

    @Test("a response goes to the request with its id, as its final message")
    func responseByID() {
        let route = ChannelRouting.destination(
            of: JSONRPCEnvelope(kind: .response, id: b), inFlight: [(a, nil), (b, nil)], listening: true)
        #expect(route == .request(b, final: true))
    }

    @Test("a response to no request in flight is dropped, and so is one with a null id")
    func responseToNobody() {
        #expect(ChannelRouting.destination(of: JSONRPCEnvelope(kind: .response, id: .int(9)), inFlight: [(a, nil)], listening: false) == .drop)
        #expect(ChannelRouting.destination(of: JSONRPCEnvelope(kind: .response, id: nil), inFlight: [(a, nil)], listening: false) == .drop)
    }

    @Test("progress goes by its token, even with several requests in flight and a listener")
    func progressByToken() {
        let progress = JSONRPCEnvelope(kind: .notification, method: "notifications/progress", progressToken: .string("t-a"))
        #expect(
            ChannelRouting.destination(of: progress, inFlight: [(a, .string("t-a")), (b, .string("t-b"))], listening: true)
                == .request(a, final: false))
    }

    @Test("anything else goes to the only request in flight, before a listener")
    func onlyRequest() {
        let log = JSONRPCEnvelope(kind: .notification, method: "notifications/message")
        #expect(ChannelRouting.destination(of: log, inFlight: [(a, nil)], listening: true) == .request(a, final: false))
        let ask = JSONRPCEnvelope(kind: .request, id: .int(0), method: "elicitation/create")
        #expect(ChannelRouting.destination(of: ask, inFlight: [(b, nil)], listening: false) == .request(b, final: false))
    }

    @Test("with several requests in flight: the listener, else the newest request")
    func severalInFlight() {
        let log = JSONRPCEnvelope(kind: .notification, method: "notifications/message")
        #expect(ChannelRouting.destination(of: log, inFlight: [(a, nil), (b, nil)], listening: true) == .listener)
        #expect(ChannelRouting.destination(of: log, inFlight: [(a, nil), (b, nil)], listening: false) == .request(b, final: false))
    }

    @Test("nothing in flight: the listener, else the orphan buffer")
    func nothingInFlight() {
        let log = JSONRPCEnvelope(kind: .notification, method: "notifications/tools/list_changed")
        #expect(ChannelRouting.destination(of: log, inFlight: [], listening: true) == .listener)
        #expect(ChannelRouting.destination(of: log, inFlight: [], listening: false) == .orphan)
    }
}
