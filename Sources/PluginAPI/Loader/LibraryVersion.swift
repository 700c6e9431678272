/// A library version as major.minor.patch, with its textual forms.
public struct LibraryVersion: Sendable, Equatable, Comparable, CustomStringConvertible {
    /// Major version.
    public var major: Int
    /// Minor version.
    public var minor: Int
    /// Patch (jansson micro) version.
    public var patch: Int

    /// Creates a version.
    public init(major: Int, minor: Int, patch: Int) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    /// From `JANSSON_VERSION_HEX` (0xMMmmpp).
    public init(janssonHex: UInt32) {
        self.init(major: Int((janssonHex >> 16) & 0xFF), minor: Int((janssonHex >> 8) & 0xFF), patch: Int(janssonHex & 0xFF))
    }

    /// From `OPENSSL_VERSION_NUMBER`: 0xMNN00PP0 for 3.x and later, 0xMNNFFPPS for 1.x.
    public init(openSSLNumber number: UInt64) {
        let major = Int((number >> 28) & 0xF)
        if major >= 3 {
            self.init(major: major, minor: Int((number >> 20) & 0xFF), patch: Int((number >> 4) & 0xFF))
        } else {
            self.init(major: major, minor: Int((number >> 20) & 0xFF), patch: Int((number >> 12) & 0xFF))
        }
    }

    /// From "2.14" or "2.14.1".
    public init?(parsing text: String) {
        let parts = text.split(separator: ".").map { Int($0) }
        guard parts.count >= 2, parts.count <= 3, let major = parts[0], let minor = parts[1] else { return nil }
        let patch = parts.count == 3 ? parts[2] : 0
        guard let patch else { return nil }
        self.init(major: major, minor: minor, patch: patch)
    }

    /// The compatibility line: the major for OpenSSL 3+, major.minor before (1.0 and 1.1 differ).
    var openSSLLine: Int { major >= 3 ? major * 1000 : major * 1000 + minor }

    public var description: String { "\(major).\(minor).\(patch)" }

    public static func < (lhs: LibraryVersion, rhs: LibraryVersion) -> Bool {
        (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch)
    }
}
