import Testing
@testable import MCPGate
@Test func placeholder() { #expect(MCPGateVersion.string == "0.1.0") }
