import Foundation

/// underscore.js, which Tyk's `otto` driver gives every plugin as the
/// global `_` (plugins call `_.find`, `_.times`, `_.contains`). The library
/// comes from the system: Debian's `libjs-underscore` package, or the file
/// `PORTCULLIS_UNDERSCORE_JS` names. Its `goja` driver (`javascript`) has
/// no `_`, so realms for it are loaded without.
public enum UnderscoreLibrary {
    /// Where the library is looked for, in order, after `PORTCULLIS_UNDERSCORE_JS`.
    public static let searchPaths = [
        "/usr/share/javascript/underscore/underscore.js",
        "/usr/share/javascript/underscore/underscore.min.js",
    ]

    private static let loaded: Result<PluginScript, PluginError> = {
        var candidates = searchPaths
        if let chosen = ProcessInfo.processInfo.environment["PORTCULLIS_UNDERSCORE_JS"], !chosen.isEmpty {
            candidates = [chosen]
        }
        for path in candidates {
            if let data = FileManager.default.contents(atPath: path) {
                return .success(PluginScript(path: path, source: String(decoding: data, as: UTF8.self)))
            }
        }
        return .failure(.loadFailed(SourceLocation(file: candidates[0], line: nil), message:
            "underscore.js is not installed, and otto plugins get it as `_`: install the libjs-underscore package " +
            "(apt-get install libjs-underscore), set PORTCULLIS_UNDERSCORE_JS to an underscore.js file, or use driver \"javascript\""))
    }()

    /// The library as a script to load before a realm's plugins.
    public static func script() throws -> PluginScript {
        try loaded.get()
    }
}

/// Which of Tyk's JS drivers a realm imitates: what globals it has
/// besides Tyk's bindings.
public enum JSDriver: Sendable, Equatable {
    /// `otto` (and an unset driver): underscore.js as `_`.
    case otto
    /// `javascript` / `goja`: no `_`.
    case goja

    /// The driver for an API definition's `custom_middleware.driver`.
    public init(configName: String) {
        switch configName {
        case "javascript", "goja": self = .goja
        default: self = .otto
        }
    }
}
