import Foundation

/// Wall-clock seconds since 1970, for session expiry.
enum WallClock {
    static var nowSeconds: UInt64 { UInt64(max(0, Date().timeIntervalSince1970)) }
}
