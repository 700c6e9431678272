import Testing
@testable import PluginAPI
@Test func placeholder() { #expect(Bool(true)) }
