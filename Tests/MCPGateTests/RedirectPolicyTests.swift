import NIOHTTP1
import Testing

@testable import MCPGate
@testable import MCPGateUpstream

/// Which upstream redirects are followed (attack report M3: any origin was, the gateway's own admin API
/// included, with the client's headers and the upstream session id).
@Suite("Upstream redirects")
struct RedirectPolicyTests {
    private let endpoint = UpstreamTarget(url: "http://up.example:3005/mcp/")!
    private let policy = RedirectPolicy(
        origin: "http://up.example:3005", allowedOrigins: ["http://auth.example:9000", "https://secure.example"])

    private func decide(
        _ location: String?, status: HTTPResponseStatus = .temporaryRedirect, from: UpstreamTarget? = nil, followed: Int = 0
    )
        -> RedirectPolicy.Decision
    {
        policy.decide(status: status, location: location, from: from ?? endpoint, followed: followed)
    }

    private func isRefused(_ decision: RedirectPolicy.Decision) -> Bool {
        if case .refuse = decision { return true }
        return false
    }

    @Test("307 and 308 within the endpoint's origin are followed, whatever the spelling")
    func sameOrigin() {
        #expect(decide("/mcp") == .follow(UpstreamTarget(url: "http://up.example:3005/mcp")!, crossOrigin: false))
        #expect(
            decide("http://UP.example:3005/other", status: .permanentRedirect)
                == .follow(UpstreamTarget(url: "http://up.example:3005/other")!, crossOrigin: false))
    }

    @Test(
        "another origin is refused unless the target lists it",
        arguments: [
            "http://127.0.0.1:15000/reload", "//127.0.0.1:3005/mcp", "http://up.example:3006/mcp", "https://up.example:3005/mcp",
            "http://up.example.evil:3005/mcp",
        ])
    func otherOrigins(location: String) {
        #expect(isRefused(decide(location)))
    }

    @Test("a listed origin is followed as cross-origin")
    func listedOrigin() {
        #expect(decide("http://auth.example:9000/mcp") == .follow(UpstreamTarget(url: "http://auth.example:9000/mcp")!, crossOrigin: true))
        #expect(decide("https://secure.example/mcp") == .follow(UpstreamTarget(url: "https://secure.example/mcp")!, crossOrigin: true))
    }

    @Test("never from https to http, even to a listed origin")
    func noDowngrade() {
        let secure = UpstreamTarget(url: "https://secure.example/mcp")!
        #expect(isRefused(decide("http://auth.example:9000/mcp", from: secure)))
        #expect(isRefused(decide("http://up.example:3005/mcp", from: secure)))
    }

    @Test("other 3xx, a missing or non-http Location, and a fourth redirect are refused")
    func refusals() {
        for status in [HTTPResponseStatus.movedPermanently, .found, .seeOther, .notModified, .multipleChoices] {
            #expect(isRefused(decide("/mcp", status: status)), "\(status)")
        }
        #expect(isRefused(decide(nil)))
        #expect(isRefused(decide("")))
        #expect(isRefused(decide("file:///etc/passwd")))
        #expect(isRefused(decide("/mcp", followed: RedirectPolicy.maxRedirects)))
        #expect(!isRefused(decide("/mcp", followed: RedirectPolicy.maxRedirects - 1)))
    }
}
