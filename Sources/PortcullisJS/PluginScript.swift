/// A JavaScript file to load into a realm: the plugin source and the path
/// that errors and stack traces name.
public struct PluginScript: Sendable, Hashable {
    /// Path shown in errors (`plugins/myAuth.js`).
    public var path: String
    /// The JavaScript source text.
    public var source: String

    /// Creates a script from its path and source.
    public init(path: String, source: String) {
        self.path = path
        self.source = source
    }
}
