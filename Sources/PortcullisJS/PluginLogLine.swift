/// A line a plugin wrote with `log`, `log.debug/info/warn/error`, `rawlog` or
/// `console.*`, kept with the
/// call's outcome so tools can show what the plugin said.
public struct PluginLogLine: Sendable, Equatable, Codable {
    /// How the line was written.
    public enum Kind: String, Sendable, Codable {
        /// `log(msg)`: an info line tagged `type=log-msg`.
        case log
        /// `rawlog(msg)`: the text exactly, no level or time.
        case raw
        /// A warning the engine added about the plugin's use of a binding.
        case warning
        /// `log.debug(msg)` (an extension): a debug line.
        case debug
        /// `log.info(msg)` / `console.info` (an extension): an info line.
        case info
        /// `log.warn(msg)` / `console.warn` (an extension): a warning line.
        case warn
        /// `log.error(msg)` / `console.error` (an extension): an error line.
        case error
    }

    /// How it was written.
    public var kind: Kind
    /// The text.
    public var message: String

    /// Creates a log line.
    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }
}
