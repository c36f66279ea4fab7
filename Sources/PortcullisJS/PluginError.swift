/// Where in a plugin something went wrong.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    /// The plugin file.
    public var file: String
    /// 1-based line number, when JavaScriptCore reported one.
    public var line: Int?

    /// Creates a location.
    public init(file: String, line: Int?) {
        self.file = file
        self.line = line
    }

    public var description: String {
        if let line { return "\(file):\(line)" }
        return file
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

    public var description: String {
        switch self {
        case .syntaxError(let location, let message):
            return "syntax error in plugin \(location): \(message)"
        case .loadFailed(let location, let message):
            return "plugin \(location) threw while loading: \(message)"
        case .exception(let handler, let location, let message):
            if let location { return "plugin \(handler) threw at \(location): \(message)" }
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

    private static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}
