import CJansson
import CMCPGate

/// Facts about the libraries the gateway process runs with, as the loader checks plugins against them.
public enum PluginRuntime {
    /// The jansson the process runs (`jansson_version_str()`), or nil if it cannot tell.
    public static var janssonVersion: LibraryVersion? {
        jansson_version_str().flatMap { LibraryVersion(parsing: String(cString: $0)) }
    }
}
