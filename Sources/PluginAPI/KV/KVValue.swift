/// A value read from a `KVStore`.
public struct KVValue: Sendable, Equatable {
    /// The stored bytes (decimal ASCII for counters).
    public var bytes: [UInt8]
    /// The entry's version, for `KVStore.compareAndSet`.
    public var version: UInt64

    /// Creates a value.
    public init(bytes: [UInt8], version: UInt64) {
        self.bytes = bytes
        self.version = version
    }
}
