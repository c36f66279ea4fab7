/// Where in a plugin something went wrong.
///
/// Besides the file and line, a location may carry the column JavaScriptCore
/// reported and the text of that line, so an error can show the plugin
/// author the line itself with a caret under the failing expression.
/// Two locations are equal when they name the same file and line: the column
/// and the line's text are detail for display, not identity.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    /// The plugin file.
    public var file: String
    /// 1-based line number, when JavaScriptCore reported one.
    public var line: Int?
    /// 1-based column (in UTF-16 code units, as JavaScriptCore counts), when known.
    public var column: Int?
    /// The text of `line` in the plugin source, when the source is known.
    public var sourceLine: String?

    /// Creates a location.
    public init(file: String, line: Int?, column: Int? = nil, sourceLine: String? = nil) {
        self.file = file
        self.line = line
        self.column = column
        self.sourceLine = sourceLine
    }

    /// Same file and line; the column and the line's text are not compared.
    public static func == (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
        lhs.file == rhs.file && lhs.line == rhs.line
    }

    /// Hashes the file and line, matching `==`.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(file)
        hasher.combine(line)
    }

    /// `file:line`, or the file alone when the line is unknown.
    public var description: String {
        if let line { return "\(file):\(line)" }
        return file
    }

    /// The failing line and, when the column is known, a caret under it:
    ///
    ///       12 |     var s = JSON.parse(keyData)
    ///          |                       ^
    ///
    /// Nil when the line's text is unknown. Tabs before the column are kept
    /// so the caret lines up in a terminal.
    public var excerpt: String? {
        guard let line, let sourceLine else { return nil }
        let number = String(line)
        var text = Array(sourceLine.utf16)
        var caretOffset = column.map { max(0, $0 - 1) }
        // Very long lines (minified code) are cut to a window around the column.
        let window = 120
        var lead = ""
        if text.count > window {
            let start = max(0, min((caretOffset ?? 0) - window / 2, text.count - window))
            text = Array(text[start..<min(text.count, start + window)])
            if start > 0 { lead = "…" }
            caretOffset = caretOffset.map { $0 - start + lead.utf16.count }
        }
        let shown = lead + String(decoding: text, as: UTF16.self)
        var result = "  \(number) | \(shown)"
        if let caretOffset {
            let before = Array(shown.utf16.prefix(caretOffset))
            let padding = String(decoding: before, as: UTF16.self).map { $0 == "\t" ? "\t" : " " }
            result += "\n  \(String(repeating: " ", count: number.count)) | \(padding.joined())^"
        }
        return result
    }
}

/// Everything that can go wrong when loading or running plugin JavaScript.
/// Each case says what the plugin author should look at.
public enum PluginError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file does not parse; the realm that needed it was not loaded.
    case syntaxError(SourceLocation, message: String)
    /// The file's top-level code threw while loading.
    case loadFailed(SourceLocation, message: String)
    /// The handler threw while handling a request.
    case exception(handler: String, location: SourceLocation?, message: String)
    /// The handler ran past the execution time limit and was stopped.
    case timedOut(handler: String, limitSeconds: Double)
    /// No global object or function of that name exists in the realm.
    case handlerNotFound(handler: String, realm: String)
    /// The handler returned something other than what Tyk's contract requires.
    case invalidReturn(handler: String, reason: String)
    /// The realm (an API's plugin set) was never loaded or has been dropped.
    case realmNotLoaded(String)
    /// The engine has been shut down.
    case engineStopped

    /// One line saying what failed and where; syntax errors, load failures
    /// and exceptions add the plugin's source line with a caret when known.
    public var description: String {
        switch self {
        case .syntaxError(let location, let message):
            return Self.withExcerpt("syntax error in plugin \(location): \(message)", location)
        case .loadFailed(let location, let message):
            return Self.withExcerpt("plugin \(location) threw while loading: \(message)", location)
        case .exception(let handler, let location, let message):
            if let location { return Self.withExcerpt("plugin \(handler) threw at \(location): \(message)", location) }
            return "plugin \(handler) threw: \(message)"
        case .timedOut(let handler, let limit):
            return "plugin \(handler) was stopped after running longer than \(Self.format(limit)) s (jsvm_timeout)"
        case .handlerNotFound(let handler, let realm):
            return "no plugin object or function named '\(handler)' is defined by the plugins of \(realm); the API definition's middleware name must match a global variable in the plugin file"
        case .invalidReturn(let handler, let reason):
            return "plugin \(handler) returned an invalid result: \(reason)"
        case .realmNotLoaded(let realm):
            return "no plugins are loaded for \(realm)"
        case .engineStopped:
            return "the JavaScript engine has been shut down"
        }
    }

    private static func withExcerpt(_ summary: String, _ location: SourceLocation) -> String {
        guard let excerpt = location.excerpt else { return summary }
        return summary + "\n" + excerpt
    }

    private static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}
