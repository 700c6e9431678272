/// The host holds every MCP message as PluginAPI's `JSONDocument` and reads it through `JSONValueRef` (one JSON
/// wrapper for the host and the chain). Re-exported here so that every file of the host, in every room, sees those
/// types and their members (MemberImportVisibility) without importing PluginAPI itself.
@_exported import PluginAPI
