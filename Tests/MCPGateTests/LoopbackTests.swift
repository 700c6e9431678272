import Testing

@testable import MCPGate

/// The DNS-rebinding guard and the Origin check decide loopback exactly (attack run H1: a `127.` prefix let
/// `127.0.0.1.attacker.example` through).
@Suite("Loopback names, decided exactly")
struct LoopbackTests {
    @Test(
        "loopback names and literals pass",
        arguments: [
            "localhost", "LOCALHOST", "app.localhost", "a-b.c.localhost", "127.0.0.1", "127.0.0.2", "127.255.255.255", "::1", "[::1]",
        ])
    func loopback(name: String) {
        #expect(OriginPolicy.isLoopback(name: name))
    }

    @Test(
        "look-alikes do not pass",
        arguments: [
            "127.0.0.1.attacker.example", "127.evil.example", "127.0.0.1.nip.io", "127.0.0.1 evil", "127.0.0.1\tevil",
            "localhost.evil.example", "localhost.", "evil-localhost", "0x7f000001", "2130706433", "127.1", "127.0.0.256",
            "127.0.0.01x", "[::ffff:127.0.0.1]", "", "a@127.0.0.1", "128.0.0.1", "1127.0.0.1", "xn--lcalhost-9za", ".localhost",
            "bad_label.localhost",
        ])
    func notLoopback(name: String) {
        #expect(!OriginPolicy.isLoopback(name: name))
    }

    @Test("authorities: the host with at most a numeric port")
    func authorities() {
        #expect(OriginPolicy.isLoopbackAuthority("127.0.0.1:3000"))
        #expect(OriginPolicy.isLoopbackAuthority("[::1]:3000"))
        #expect(OriginPolicy.isLoopbackAuthority("localhost"))
        #expect(!OriginPolicy.isLoopbackAuthority("[::1]evil.example"))
        #expect(!OriginPolicy.isLoopbackAuthority("127.0.0.1:80:80"))
        #expect(!OriginPolicy.isLoopbackAuthority("127.0.0.1:http"))
        #expect(!OriginPolicy.isLoopbackAuthority("127.0.0.1.attacker.example:18010"))
    }

    @Test("a look-alike origin is foreign: it needs the allow list")
    func origins() {
        let listed = OriginPolicy(corsAllowOrigins: ["http://app.example"])
        #expect(!listed.allows(origin: "http://127.evil.example", host: "127.0.0.1:3000"))
        #expect(!listed.allows(origin: "http://127.0.0.1.nip.io", host: "127.0.0.1:3000"))
        #expect(!listed.allows(origin: "http://localhost.evil.example", host: "127.0.0.1:3000"))
        #expect(listed.allows(origin: "http://127.0.0.1:5173", host: "127.0.0.1:3000"))
        #expect(listed.allows(origin: "http://app.example", host: "127.0.0.1:3000"))
    }

    @Test("absolute-form request targets are routed by their path")
    func absoluteForm() {
        #expect(MCPExchangeHandler.originFormPath(of: "http://127.0.0.1:3000/mcp") == "/mcp")
        #expect(MCPExchangeHandler.originFormPath(of: "HTTP://host/mcp?x=1") == "/mcp?x=1")
        #expect(MCPExchangeHandler.originFormPath(of: "https://host") == "/")
        #expect(MCPExchangeHandler.originFormPath(of: "http://host?x") == "/?x")
        #expect(MCPExchangeHandler.originFormPath(of: "/mcp") == nil)
        #expect(MCPExchangeHandler.originFormPath(of: "*") == nil)
    }
}
