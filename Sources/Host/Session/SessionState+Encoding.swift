/// The binary form of `SessionState` inside a sealed token. All integers are big-endian.
///
/// ```
/// u8  format version (1)
/// u64 issuedAt            u64 expiresAt
/// u8  flags               bit 0: a principal digest follows; other bits zero
/// [16 bytes principal digest]
/// str protocolVersion     str = u16 byte count, UTF-8 bytes (at most maxFieldByteCount)
/// u8  entry count
/// per entry:
///   u8  flags             bit 0: an upstream session id follows; bit 1: a local pin follows; other bits zero
///   str target            str endpoint
///   [str upstream session id]
///   [16 bytes replica id  u64 channel key]      the local pin
/// ```
///
/// Decoding is strict: unknown format versions or flag bits, over-long fields, invalid UTF-8, and
/// trailing bytes are all refused. The local pin (bit 1) came later within version 1: a state without one
/// encodes exactly as before, and a build that predates it refuses a pinned token (the flag bit), which
/// gives the client the 404 it would get anyway from a replica that cannot hold the member.
extension SessionState {
    /// The payload format this build writes and reads.
    package static let formatVersion: UInt8 = 1
    /// Entry flag: an upstream session id follows the endpoint.
    static let upstreamSessionFlag: UInt8 = 1 << 0
    /// Entry flag: a local pin follows (after the upstream session id, when there is one).
    static let localPinFlag: UInt8 = 1 << 1

    /// The encoded payload, or an empty array (which never decodes) when the state does not fit
    /// the encoding limits.
    package func encoded() -> [UInt8] {
        guard fitsEncodingLimits else { return [] }
        var size = 1 + 8 + 8 + 1 + (principal == nil ? 0 : PrincipalDigest.byteCount) + 2 + protocolVersion.utf8.count + 1
        for entry in entries {
            size += 1 + 2 + entry.target.utf8.count + 2 + entry.endpoint.utf8.count
            if let upstream = entry.upstreamSessionID { size += 2 + upstream.utf8.count }
            if entry.localPin != nil { size += ReplicaID.byteCount + 8 }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(size)
        bytes.append(Self.formatVersion)
        Self.append(issuedAt, to: &bytes)
        Self.append(expiresAt, to: &bytes)
        if let principal {
            bytes.append(1)
            Self.append(principal.high, to: &bytes)
            Self.append(principal.low, to: &bytes)
        } else {
            bytes.append(0)
        }
        Self.append(protocolVersion, to: &bytes)
        bytes.append(UInt8(truncatingIfNeeded: entries.count))
        for entry in entries {
            var flags: UInt8 = entry.upstreamSessionID == nil ? 0 : Self.upstreamSessionFlag
            if entry.localPin != nil { flags |= Self.localPinFlag }
            bytes.append(flags)
            Self.append(entry.target, to: &bytes)
            Self.append(entry.endpoint, to: &bytes)
            if let upstream = entry.upstreamSessionID { Self.append(upstream, to: &bytes) }
            if let pin = entry.localPin {
                bytes.append(contentsOf: pin.replica.bytes)
                Self.append(pin.channel, to: &bytes)
            }
        }
        return bytes
    }

    /// Decodes a payload made by `encoded()`.
    ///
    /// - Throws: `SessionError.malformed` for anything `encoded()` would not have produced.
    package init(encoded bytes: [UInt8]) throws(SessionError) {
        var reader = ByteReader(bytes)
        guard reader.readUInt8() == Self.formatVersion,
            let issuedAt = reader.readUInt64(),
            let expiresAt = reader.readUInt64(),
            let principalFlag = reader.readUInt8(), principalFlag <= 1
        else { throw .malformed }
        var principal: PrincipalDigest?
        if principalFlag == 1 {
            guard let digest = reader.readBytes(PrincipalDigest.byteCount).flatMap(PrincipalDigest.init(bytes:)) else {
                throw .malformed
            }
            principal = digest
        }
        guard let protocolVersion = reader.readString(maxByteCount: Self.maxFieldByteCount),
            let entryCount = reader.readUInt8()
        else { throw .malformed }
        var entries: [Entry] = []
        entries.reserveCapacity(Int(entryCount))
        for _ in 0..<entryCount {
            guard let flags = reader.readUInt8(), flags & ~(Self.upstreamSessionFlag | Self.localPinFlag) == 0,
                let target = reader.readString(maxByteCount: Self.maxFieldByteCount),
                let endpoint = reader.readString(maxByteCount: Self.maxFieldByteCount)
            else { throw .malformed }
            var upstreamSessionID: String?
            if flags & Self.upstreamSessionFlag != 0 {
                guard let upstream = reader.readString(maxByteCount: Self.maxFieldByteCount) else { throw .malformed }
                upstreamSessionID = upstream
            }
            var localPin: LocalPin?
            if flags & Self.localPinFlag != 0 {
                guard let replica = reader.readBytes(ReplicaID.byteCount).flatMap({ ReplicaID(bytes: Array($0)) }),
                    let channel = reader.readUInt64()
                else { throw .malformed }
                localPin = LocalPin(replica: replica, channel: channel)
            }
            entries.append(
                Entry(target: target, endpoint: endpoint, upstreamSessionID: upstreamSessionID, localPin: localPin))
        }
        guard reader.isAtEnd else { throw .malformed }
        self.init(
            protocolVersion: protocolVersion,
            principal: principal,
            issuedAt: issuedAt,
            expiresAt: expiresAt,
            entries: entries
        )
    }

    private static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }

    private static func append(_ string: String, to bytes: inout [UInt8]) {
        let count = string.utf8.count
        bytes.append(UInt8(truncatingIfNeeded: count >> 8))
        bytes.append(UInt8(truncatingIfNeeded: count))
        bytes.append(contentsOf: string.utf8)
    }
}
