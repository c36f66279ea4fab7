import Foundation
import PortcullisCore
import PortcullisJS

/// Turns an API definition file into an ``APIDefinition``, refusing it with
/// the file and field named when something is wrong.
enum APIDefinitionParser {
    static func parse(_ text: String, file: String, readFile: (String) throws -> String) throws -> (APIDefinition, ignored: [String]) {
        let root = try ConfigReader.parse(text, file: file)
        if root.object["x-tyk-api-gateway"] != nil {
            return try OASDefinitionParser.parse(root, readFile: readFile)
        }
        guard let apiID = try root.string("api_id"), !apiID.isEmpty else {
            throw ConfigError.missingField(file: file, field: "api_id")
        }
        let auth = try root.object("auth")
        let proxy = try root.object("proxy")
        guard let proxy else { throw ConfigError.missingField(file: file, field: "proxy.listen_path") }
        let listenPath = try ListenPath.normalise(try proxy.string("listen_path") ?? "", file: file)
        let targetURL = try proxy.string("target_url") ?? ""
        try checkTargetURL(targetURL, file: file, field: "proxy.target_url")
        let middleware = try parseMiddleware(try root.object("custom_middleware"))
        var configData = root.value("config_data")
        if try root.bool("config_data_disabled") == true { configData = nil }
        let virtual = try parseVirtualEndpoints(root, readFile: readFile)
        root.acknowledge("id", "slug", "definition", "version_data_disabled")
        let pluginAuth = try root.bool("custom_plugin_auth_enabled") ?? false
        let coprocessAuth = try root.bool("enable_coprocess_auth") ?? false
        let definition = APIDefinition(
            name: try root.string("name") ?? apiID,
            apiID: apiID,
            orgID: try root.string("org_id") ?? "",
            active: try root.bool("active") ?? true,
            useKeyless: try root.bool("use_keyless") ?? false,
            authHeaderName: try auth?.string("auth_header_name").flatMap { $0.isEmpty ? nil : $0 } ?? "Authorization",
            customAuthEnabled: pluginAuth || coprocessAuth,
            listenPath: listenPath,
            targetURL: targetURL,
            stripListenPath: try proxy.bool("strip_listen_path") ?? false,
            middleware: middleware,
            configData: configData,
            sessionLifetime: try root.int("session_lifetime") ?? 0,
            sessionLifetimeRespectsKeyExpiration: try root.bool("session_lifetime_respects_key_expiration") ?? false,
            virtualEndpoints: virtual,
            disableRateLimit: try root.bool("disable_rate_limit") ?? false,
            disableQuota: try root.bool("disable_quota") ?? false,
            file: file,
            jwt: try parseJWT(root)
        )
        var parsed = definition
        parsed.globalRateLimit = try parseGlobalRateLimit(root)
        parsed.isInternal = try root.bool("internal") ?? false
        if definition.targetURL.isEmpty && definition.virtualEndpoints.isEmpty {
            throw ConfigError.missingField(file: file, field: "proxy.target_url")
        }
        return (parsed, root.ignoredFields)
    }

    private static func parseMiddleware(_ section: ConfigReader?) throws -> MiddlewareSection {
        var result = MiddlewareSection()
        guard let section else { return result }
        func entries(_ key: String) throws -> [MiddlewareEntry] {
            try (section.array(key) ?? []).enumerated().map { index, value in
                try entry(section.element(key, index, value))
            }
        }
        func entry(_ reader: ConfigReader) throws -> MiddlewareEntry {
            let name = try reader.string("name") ?? ""
            try checkHookName(name, file: reader.file, field: reader.path("name"))
            reader.acknowledge("raw_body_only", "code")
            return MiddlewareEntry(name: name, path: try reader.string("path") ?? "", disabled: try reader.bool("disabled") ?? false,
                                   requireSession: try reader.bool("require_session") ?? false)
        }
        result.pre = try entries("pre")
        result.post = try entries("post")
        result.postKeyAuth = try entries("post_key_auth")
        result.response = try entries("response")
        if let auth = try section.object("auth_check"), let name = try auth.string("name"), !name.isEmpty {
            result.authCheck = try entry(auth)
        }
        result.driver = try section.string("driver") ?? ""
        if !["", "otto", "javascript", "goja"].contains(result.driver) {
            throw ConfigError.invalidField(file: section.file, field: section.path("driver"),
                                           reason: "'\(result.driver)' is not a JS driver; use otto, javascript or goja (all run on JavaScriptCore)")
        }
        section.acknowledge("id_extractor", "traffic_logs")
        return result
    }

    private static func parseVirtualEndpoints(_ root: ConfigReader, readFile: (String) throws -> String) throws -> [VirtualEndpointDefinition] {
        guard let versionData = try root.object("version_data"), let versions = try versionData.object("versions") else { return [] }
        versionData.acknowledge("not_versioned", "default_version")
        var result: [VirtualEndpointDefinition] = []
        for name in versions.object.keys.sorted() {
            guard let version = try versions.object(name), let extended = try version.object("extended_paths") else { continue }
            version.acknowledge("name", "expires", "use_extended_paths", "paths", "global_headers", "global_headers_remove")
            for (index, item) in (try extended.array("virtual") ?? []).enumerated() {
                let reader = try extended.element("virtual", index, item)
                if try reader.bool("disabled") == true { continue }
                guard let function = try reader.string("response_function_name"), HandlerName.isValid(function) else {
                    throw ConfigError.invalidField(file: reader.file, field: reader.path("response_function_name"),
                                                   reason: "must name a global JavaScript function")
                }
                let sourceType = try reader.string("function_source_type") ?? "file"
                let uri = try reader.string("function_source_uri") ?? ""
                let source: VirtualSource
                switch sourceType {
                case "file": source = .file(uri)
                case "blob": source = .blob(uri)
                default:
                    throw ConfigError.invalidField(file: reader.file, field: reader.path("function_source_type"),
                                                   reason: "must be file or blob, got '\(sourceType)'")
                }
                result.append(try virtualEndpoint(
                    function: function, source: source, sourceField: reader.path("function_source_uri"),
                    path: try reader.string("path") ?? "", pathField: reader.path("path"),
                    method: try reader.string("method") ?? "GET", useSession: try reader.bool("use_session") ?? false,
                    proxyOnError: try reader.bool("proxy_on_error") ?? false, file: reader.file, readFile: readFile))
            }
        }
        return result
    }
}

/// Where a virtual endpoint's code is.
enum VirtualSource {
    /// A file path.
    case file(String)
    /// Base64-encoded JavaScript.
    case blob(String)
}

extension APIDefinitionParser {
    /// `target_url` (or `upstream.url`) must be empty or an absolute http(s) URL.
    static func checkTargetURL(_ targetURL: String, file: String, field: String) throws {
        guard !targetURL.isEmpty else { return }
        guard let url = URLComponents(string: targetURL), let scheme = url.scheme?.lowercased(),
              ["http", "https"].contains(scheme), url.host?.isEmpty == false else {
            throw ConfigError.invalidField(file: file, field: field, reason: "must be an absolute http(s) URL, got '\(targetURL)'")
        }
    }

    /// One virtual endpoint, its code read and its path compiled; the field
    /// names are the file's own, for errors.
    static func virtualEndpoint(function: String, source: VirtualSource, sourceField: String, path: String, pathField: String,
                                method: String, useSession: Bool, proxyOnError: Bool, file: String,
                                readFile: (String) throws -> String) throws -> VirtualEndpointDefinition {
        let script: PluginScript
        switch source {
        case .file(let uri):
            do {
                script = PluginScript(path: uri, source: try readFile(uri))
            } catch {
                throw ConfigError.invalidField(file: file, field: sourceField, reason: "cannot read '\(uri)'")
            }
        case .blob(let encoded):
            guard let data = Data(base64Encoded: encoded) else {
                throw ConfigError.invalidField(file: file, field: sourceField, reason: "a blob must be base64-encoded JavaScript")
            }
            script = PluginScript(path: "\(file)#\(function)", source: String(decoding: data, as: UTF8.self))
        }
        guard !path.isEmpty else {
            throw ConfigError.invalidField(file: file, field: pathField, reason: "must name the path it serves")
        }
        let pattern: EndpointPattern
        do {
            pattern = try EndpointPattern(path)
        } catch {
            throw ConfigError.invalidField(file: file, field: pathField,
                                           reason: "'\(path)' is not a valid path pattern (Tyk reads it as a regular expression): \(error.localizedDescription)")
        }
        return VirtualEndpointDefinition(path: path, pattern: pattern, method: method.uppercased(), functionName: function,
                                         source: script, useSession: useSession, proxyOnError: proxyOnError)
    }

    /// A hook entry's checks: a JavaScript identifier as its name.
    static func checkHookName(_ name: String, file: String, field: String) throws {
        guard !name.isEmpty else { throw ConfigError.missingField(file: file, field: field) }
        guard HandlerName.isValid(name) else {
            throw ConfigError.invalidField(file: file, field: field,
                                           reason: "'\(name)' is not a JavaScript identifier (the global variable the plugin defines)")
        }
    }

    /// `global_rate_limit`, nil when absent, zero or `disabled`.
    static func parseGlobalRateLimit(_ root: ConfigReader) throws -> APIRateLimit? {
        guard let section = try root.object("global_rate_limit") else { return nil }
        let rate = try section.double("rate") ?? 0
        let per = try section.double("per") ?? 0
        guard try section.bool("disabled") != true, rate > 0 else { return nil }
        guard per > 0 else {
            throw ConfigError.invalidField(file: root.file, field: section.path("per"), reason: "must be a positive number of seconds when rate is set")
        }
        return APIRateLimit(rate: rate, per: per)
    }
}

/// Listen paths are matched as path prefixes; they must be clean.
enum ListenPath {
    static func normalise(_ raw: String, file: String, field: String = "proxy.listen_path") throws -> String {
        guard raw.hasPrefix("/") else {
            throw ConfigError.invalidField(file: file, field: field, reason: "must start with /, got '\(raw)'")
        }
        let segments = raw.split(separator: "/", omittingEmptySubsequences: true)
        for segment in segments where segment == ".." || segment == "." || segment.contains("%") || segment.contains("\\") {
            throw ConfigError.invalidField(file: file, field: field,
                                           reason: "'\(raw)' contains '\(segment)'; listen paths must be plain path segments")
        }
        guard raw.allSatisfy({ !$0.isWhitespace && $0 != "?" && $0 != "#" }) else {
            throw ConfigError.invalidField(file: file, field: field, reason: "'\(raw)' contains a space, ? or #")
        }
        return segments.isEmpty ? "/" : "/" + segments.joined(separator: "/") + "/"
    }
}
