import Foundation
import PortcullisCore
import PortcullisJS

/// Reads a Tyk OAS API definition: an OpenAPI 3 document whose
/// `x-tyk-api-gateway` extension says how the gateway serves it. The result
/// is the same ``APIDefinition`` a classic file gives, mapped the way Tyk
/// maps OAS to classic (`apidef/oas`): identity and state from `info`,
/// upstream and listen path, token auth whose header comes from the OpenAPI
/// security scheme, JWT and custom plugin auth, the four plugin lists with
/// `pluginConfig`, virtual endpoints by `operationId`, the key lifetime, and
/// the API-level rate limit. Errors name the file and the field's path.
enum OASDefinitionParser {
    static let extensionName = "x-tyk-api-gateway"
    static let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    static func parse(_ root: ConfigReader, readFile: (String) throws -> String) throws -> (APIDefinition, ignored: [String]) {
        let file = root.file
        root.acknowledge("openapi", "info", "servers", "tags", "externalDocs", "jsonSchemaDialect", "webhooks")
        guard let tyk = try root.object(extensionName) else { throw ConfigError.missingField(file: file, field: extensionName) }

        guard let info = try tyk.object("info") else { throw ConfigError.missingField(file: file, field: tyk.path("info")) }
        guard let apiID = try info.string("id"), !apiID.isEmpty else { throw ConfigError.missingField(file: file, field: info.path("id")) }
        let openAPITitle = root.object["info"]?.objectValue?["title"]?.stringValue
        let name = try info.string("name") ?? openAPITitle ?? apiID
        let state = try info.object("state")
        let active = try state?.bool("active") ?? true
        info.acknowledge("dbId", "expiration", "versioning")

        let upstream = try tyk.object("upstream")
        let targetURL = try upstream?.string("url") ?? ""
        try APIDefinitionParser.checkTargetURL(targetURL, file: file, field: upstream?.path("url") ?? tyk.path("upstream.url"))
        let rateLimit = try upstream.flatMap(parseRateLimit)

        guard let server = try tyk.object("server"), let listen = try server.object("listenPath") else {
            throw ConfigError.missingField(file: file, field: "\(extensionName).server.listenPath.value")
        }
        let listenPath = try ListenPath.normalise(try listen.string("value") ?? "", file: file, field: listen.path("value"))
        let strip = try listen.bool("strip") ?? false

        var definition = APIDefinition(
            name: name, apiID: apiID, orgID: try info.string("orgId") ?? "", active: active, useKeyless: true,
            authHeaderName: "Authorization", customAuthEnabled: false, listenPath: listenPath, targetURL: targetURL,
            stripListenPath: strip, middleware: MiddlewareSection(), configData: nil, sessionLifetime: 0,
            sessionLifetimeRespectsKeyExpiration: false, virtualEndpoints: [], disableRateLimit: false, disableQuota: false,
            file: file, jwt: nil, globalRateLimit: rateLimit, format: .oas, isInternal: try state?.bool("internal") ?? false)
        if let authentication = try server.object("authentication") {
            try readAuthentication(authentication, document: root, into: &definition)
        }

        if let middleware = try tyk.object("middleware") {
            if let global = try middleware.object("global") {
                try readGlobal(global, into: &definition)
            }
            if let operations = try middleware.object("operations") {
                definition.virtualEndpoints = try readOperations(operations, document: root, readFile: readFile)
            }
        }
        if definition.targetURL.isEmpty && definition.virtualEndpoints.isEmpty {
            throw ConfigError.missingField(file: file, field: "\(extensionName).upstream.url")
        }
        return (definition, root.ignoredFields)
    }

    // MARK: - Authentication

    /// `server.authentication`: keyless unless enabled; then custom plugin
    /// auth, or the first `security` requirement's scheme: an API key in a
    /// header (token auth) or an HTTP bearer JWT.
    private static func readAuthentication(_ authentication: ConfigReader, document: ConfigReader, into definition: inout APIDefinition) throws {
        let file = authentication.file
        let enabled = try authentication.bool("enabled") ?? false
        definition.useKeyless = !enabled
        if let lifetime = try authentication.object("customKeyLifetime") {
            definition.sessionLifetimeRespectsKeyExpiration = try lifetime.bool("respectValidity") ?? false
            if try lifetime.bool("enabled") == true {
                definition.sessionLifetime = try duration(lifetime, "value")
            }
        }
        if let custom = try authentication.object("custom"), try custom.bool("enabled") == true {
            definition.customAuthEnabled = true
            guard let config = try custom.object("config") else {
                throw ConfigError.missingField(file: file, field: custom.path("config.functionName"))
            }
            definition.middleware.authCheck = try plugin(config)
        }
        let schemes = try authentication.object("securitySchemes")
        guard enabled, !definition.customAuthEnabled else { return }

        let components = try document.object("components")
        let declared = try components?.object("securitySchemes")
        components?.acknowledge("schemas", "responses", "parameters", "examples", "requestBodies", "headers", "links", "callbacks", "pathItems")
        let requirements = try document.array("security") ?? []
        guard case .object(let first)? = requirements.first else {
            throw ConfigError.invalidField(file: file, field: "security",
                                           reason: "server.authentication is enabled, so the document needs a security requirement naming a scheme in components.securitySchemes")
        }
        for schemeName in first.keys.sorted() {
            guard let scheme = try declared?.object(schemeName) else {
                throw ConfigError.invalidField(file: file, field: "security[0].\(schemeName)", reason: "names no scheme in components.securitySchemes")
            }
            let type = try scheme.string("type") ?? ""
            let httpScheme = try scheme.string("scheme")?.lowercased()
            scheme.acknowledge("description", "bearerFormat", "flows", "openIdConnectUrl")
            let tykScheme = try schemes?.object(schemeName)
            switch type {
            case "apiKey":
                guard try tykScheme?.bool("enabled") ?? true else { continue }
                let location = try scheme.string("in") ?? "header"
                guard location == "header" else {
                    throw ConfigError.invalidField(file: file, field: scheme.path("in"),
                                                   reason: "'\(location)': Portcullis reads API keys from a header only")
                }
                guard let header = try scheme.string("name"), !header.isEmpty else {
                    throw ConfigError.missingField(file: file, field: scheme.path("name"))
                }
                definition.authHeaderName = header
                return
            case "http" where httpScheme == "bearer":
                guard let tykScheme, try tykScheme.bool("enabled") == true else { continue }
                definition.jwt = try jwt(tykScheme)
                if let header = try tykScheme.object("header"), try header.bool("enabled") ?? true,
                   let name = try header.string("name"), !name.isEmpty {
                    definition.authHeaderName = name
                }
                return
            default:
                continue
            }
        }
        throw ConfigError.invalidField(file: file, field: "security[0]",
                                       reason: "no scheme Portcullis serves is enabled: use an apiKey scheme in a header (token auth), an http bearer scheme enabled in \(authentication.path("securitySchemes")) (JWT), or \(authentication.path("custom"))")
    }

    /// A JWT scheme of `server.authentication.securitySchemes`.
    private static func jwt(_ scheme: ConfigReader) throws -> JWTSettings {
        let method = try scheme.string("signingMethod") ?? ""
        guard let signing = JWTSettings.SigningMethod(rawValue: method) else {
            throw ConfigError.invalidField(file: scheme.file, field: scheme.path("signingMethod"),
                                           reason: "must be hmac (HS256) or rsa (RS256), got '\(method)'")
        }
        guard let source = try scheme.string("source"), !source.isEmpty else {
            throw ConfigError.missingField(file: scheme.file, field: scheme.path("source"))
        }
        let identity = try scheme.string("identityBaseField").flatMap { $0.isEmpty ? nil : $0 } ?? "sub"
        var settings = JWTSettings(signingMethod: signing, key: JWTSettings.decodeSource(source), identityClaim: identity,
                                   expiresSkew: try APIDefinitionParser.skew(scheme, "expiresAtValidationSkew"),
                                   notBeforeSkew: try APIDefinitionParser.skew(scheme, "notBeforeValidationSkew"),
                                   issuedAtSkew: try APIDefinitionParser.skew(scheme, "issuedAtValidationSkew"))
        settings.defaultPolicies = try APIDefinitionParser.policyIDs(scheme, "defaultPolicies")
        settings.policyFieldName = try scheme.string("policyFieldName") ?? ""
        return settings
    }

    // MARK: - Middleware

    /// `middleware.global`: `pluginConfig` (driver, `data` → `config_data`),
    /// the four plugin lists (and their older singular forms), and the
    /// switches that turn the key's rate limit and quota off.
    private static func readGlobal(_ global: ConfigReader, into definition: inout APIDefinition) throws {
        if let config = try global.object("pluginConfig") {
            let driver = try config.string("driver") ?? ""
            guard ["", "otto", "javascript", "goja"].contains(driver) else {
                throw ConfigError.invalidField(file: config.file, field: config.path("driver"),
                                               reason: "'\(driver)' is not a JS driver; use otto, javascript or goja (all run on JavaScriptCore)")
            }
            definition.middleware.driver = driver
            if let data = try config.object("data"), try data.bool("enabled") == true {
                definition.configData = data.value("value") ?? .object([:])
            }
        }
        definition.middleware.pre = try plugins(global, "prePlugins", legacy: "prePlugin")
        definition.middleware.postKeyAuth = try plugins(global, "postAuthenticationPlugins", legacy: "postAuthenticationPlugin")
        definition.middleware.post = try plugins(global, "postPlugins", legacy: "postPlugin")
        definition.middleware.response = try plugins(global, "responsePlugins", legacy: "responsePlugin")
        definition.disableRateLimit = try global.bool("skipRateLimit") ?? false
        definition.disableQuota = try global.bool("skipQuota") ?? false
    }

    /// A plugin list, or the older `{"plugins": [...]}` form when the list is absent.
    private static func plugins(_ global: ConfigReader, _ key: String, legacy: String) throws -> [MiddlewareEntry] {
        var list: (ConfigReader, String, [JSONValue])?
        if let items = try global.array(key) {
            list = (global, key, items)
        } else if let old = try global.object(legacy), let items = try old.array("plugins") {
            list = (old, "plugins", items)
        }
        guard let (reader, field, items) = list else { return [] }
        return try items.enumerated().map { index, item in try plugin(reader.element(field, index, item)) }
    }

    /// One plugin entry: `functionName`, `path`, `enabled`, `requireSession`.
    private static func plugin(_ reader: ConfigReader) throws -> MiddlewareEntry {
        let name = try reader.string("functionName") ?? ""
        try APIDefinitionParser.checkHookName(name, file: reader.file, field: reader.path("functionName"))
        reader.acknowledge("rawBodyOnly", "code", "idExtractor")
        return MiddlewareEntry(name: name, path: try reader.string("path") ?? "", disabled: !(try reader.bool("enabled") ?? false),
                               requireSession: try reader.bool("requireSession") ?? false)
    }

    /// `middleware.operations.<operationId>.virtualEndpoint`, each served at
    /// the path and method the OpenAPI `paths` give that `operationId`.
    private static func readOperations(_ operations: ConfigReader, document: ConfigReader,
                                       readFile: (String) throws -> String) throws -> [VirtualEndpointDefinition] {
        let routes = try operationRoutes(document)
        var result: [VirtualEndpointDefinition] = []
        for operationID in operations.object.keys.sorted() {
            guard let operation = try operations.object(operationID), let virtual = try operation.object("virtualEndpoint") else { continue }
            guard try virtual.bool("enabled") == true else { continue }
            let function = try virtual.string("functionName").flatMap { $0.isEmpty ? nil : $0 } ?? (try virtual.string("name") ?? "")
            guard HandlerName.isValid(function) else {
                throw ConfigError.invalidField(file: virtual.file, field: virtual.path("functionName"), reason: "must name a global JavaScript function")
            }
            guard let route = routes[operationID] else {
                throw ConfigError.invalidField(file: virtual.file, field: operations.path(operationID),
                                               reason: "no operation in the document's paths has operationId '\(operationID)'")
            }
            let body = try virtual.string("body") ?? ""
            let source: VirtualSource = body.isEmpty ? .file(try virtual.string("path") ?? "") : .blob(body)
            result.append(try APIDefinitionParser.virtualEndpoint(
                function: function, source: source, sourceField: virtual.path(body.isEmpty ? "path" : "body"),
                path: route.path, pathField: "paths.\(route.path)", method: route.method,
                useSession: try virtual.bool("requireSession") ?? false, proxyOnError: try virtual.bool("proxyOnError") ?? false,
                file: virtual.file, readFile: readFile))
        }
        return result
    }

    /// `operationId` → the path and method it is declared under.
    private static func operationRoutes(_ document: ConfigReader) throws -> [String: (path: String, method: String)] {
        guard let paths = try document.object("paths") else { return [:] }
        var routes: [String: (path: String, method: String)] = [:]
        for path in paths.object.keys.sorted() {
            guard let item = try paths.object(path) else { continue }
            item.acknowledge("summary", "description", "parameters", "servers", "$ref")
            for method in methods {
                guard let operation = try item.object(method) else { continue }
                operation.acknowledge("summary", "description", "parameters", "requestBody", "responses", "tags", "security",
                                      "deprecated", "callbacks", "servers", "externalDocs")
                if let id = try operation.string("operationId"), !id.isEmpty { routes[id] = (path, method.uppercased()) }
            }
        }
        return routes
    }

    // MARK: - Values

    /// `upstream.rateLimit` (Tyk's API-level rate limit), nil unless enabled.
    private static func parseRateLimit(_ upstream: ConfigReader) throws -> APIRateLimit? {
        guard let limit = try upstream.object("rateLimit"), try limit.bool("enabled") == true else { return nil }
        let rate = try limit.double("rate") ?? 0
        let per = try duration(limit, "per")
        guard rate > 0, per > 0 else {
            throw ConfigError.invalidField(file: limit.file, field: limit.path(rate > 0 ? "per" : "rate"),
                                           reason: "an enabled rate limit needs a positive rate and a per such as \"1s\" or \"1m\"")
        }
        return APIRateLimit(rate: rate, per: Double(per))
    }

    /// A Go duration string (`"90s"`, `"1h30m"`, `"500ms"`) in whole seconds.
    static func duration(_ reader: ConfigReader, _ key: String) throws -> Int64 {
        guard let text = try reader.string(key), !text.isEmpty else { return 0 }
        guard let seconds = GoDuration.seconds(text) else {
            throw ConfigError.invalidField(file: reader.file, field: reader.path(key),
                                           reason: "'\(text)' is not a duration such as \"30s\", \"15m\", \"1h30m\"")
        }
        return Int64(seconds.rounded(.down))
    }
}

/// Go's `time.ParseDuration` format, as Tyk OAS durations use it.
enum GoDuration {
    static let units: [(String, Double)] = [("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600)]

    /// Seconds, or nil when `text` is not a duration.
    static func seconds(_ text: String) -> Double? {
        var rest = Substring(text)
        var sign = 1.0
        if rest.first == "-" || rest.first == "+" {
            if rest.first == "-" { sign = -1 }
            rest = rest.dropFirst()
        }
        if rest == "0" { return 0 }
        var total = 0.0
        var sawPart = false
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unitText = rest.prefix { !$0.isNumber && $0 != "." }
            guard let unit = units.first(where: { $0.0 == unitText }) else { return nil }
            rest = rest.dropFirst(unitText.count)
            total += value * unit.1
            sawPart = true
        }
        return sawPart ? sign * total : nil
    }
}
