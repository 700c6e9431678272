public enum MCPGateVersion { public static let string = "0.1.0" }
