import PluginAPI

#if os(Linux)
/// glibc's `malloc_trim` (malloc.h, which the Glibc module does not export).
@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32
#endif

/// Gives memory back to the system after large transient allocations were freed (a parsed multi-megabyte JSON
/// document, a large request body): glibc keeps freed heap pages, so without this a burst of large requests leaves
/// the process at its peak RSS for good (attack run M1/M2: ~900 MB resident after the attacker left).
///
/// Freeing code calls `noteLargeFree()` (an atomic add on PluginAPI's `LargeFreeTally`, which `JSONDocument` feeds
/// too); a periodic task calls `trimIfNeeded()`, which runs `malloc_trim(0)` at most once per period and only when
/// something large was freed, since a trim walks the heap.
enum MemoryTrim {
    /// An allocation this large is worth a trim once freed.
    static let threshold = LargeFreeTally.threshold

    /// Records that about `bytes` were freed (ignored under `threshold`).
    static func noteLargeFree(bytes: Int) {
        LargeFreeTally.note(bytes: bytes)
    }

    /// Returns freed heap memory to the system when large allocations were freed since the last call.
    /// Returns whether it trimmed.
    @discardableResult
    static func trimIfNeeded() -> Bool {
        guard LargeFreeTally.take() > 0 else { return false }
        #if os(Linux)
        _ = glibcMallocTrim(0)
        #endif
        return true
    }
}
