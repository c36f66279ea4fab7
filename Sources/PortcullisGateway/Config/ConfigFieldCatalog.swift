import PortcullisCore

/// Collects field names while a parser runs (see ``ConfigReader/fieldRecorder``).
final class ConfigFieldRecorder: Sendable {
    private let names = Locked<(read: Set<String>, acknowledged: Set<String>)>(([], []))

    func read(_ path: String) {
        names.withLock { _ = $0.read.insert(path) }
    }

    func acknowledge(_ paths: [String]) {
        names.withLock { $0.acknowledged.formUnion(paths) }
    }

    var recorded: (read: Set<String>, acknowledged: Set<String>) { names.value }
}

/// Which fields the `tyk.conf` and API definition parsers know, found by
/// running the parsers themselves on documents that contain every section,
/// so the list cannot drift from the code. The documentation test compares
/// it with the configuration reference in `docs/operations.md`.
///
/// Names are dotted paths (`storage.host`). `[]` stands for every element
/// of a list (`custom_middleware.pre[].name`) and `<version>` for the name
/// of an API version (`version_data.versions.<version>.extended_paths`).
public enum ConfigFieldCatalog {
    /// The fields one parser knows.
    public struct Fields: Sendable, Equatable {
        /// Fields the parser reads and uses.
        public var read: Set<String>
        /// Fields the parser accepts without using them (Tyk fields with no
        /// effect here); they are not reported as ignored.
        public var acknowledged: Set<String>

        /// Every field the parser knows.
        public var all: Set<String> { read.union(acknowledged) }
        /// Accepted but not used.
        public var acknowledgedOnly: Set<String> { acknowledged.subtracting(read) }
    }

    /// The fields `GatewayConfig.parse` (a `tyk.conf`) knows.
    public static func gatewayConfig() throws -> Fields {
        try explore(start: gatewayConfigSample) { text in
            _ = try GatewayConfig.parse(text, file: "catalog.conf")
        }
    }

    /// The fields the API definition parser knows.
    public static func apiDefinition() throws -> Fields {
        try explore(start: apiDefinitionSample) { text in
            _ = try APIDefinitionParser.parse(text, file: "catalog.json") { _ in "function catalogEndpoint() {}" }
        }
    }

    /// The fields the Tyk OAS API definition parser knows. Names of the
    /// sample's own keys read as placeholders: `<path>` and `<method>` in
    /// `paths`, `<operationId>` in `middleware.operations`, `<scheme>` in
    /// security schemes.
    public static func oasDefinition() throws -> Fields {
        var found = Fields(read: [], acknowledged: [])
        for sample in oasDefinitionSamples {
            let fields = try explore(start: sample) { text in
                _ = try APIDefinitionParser.parse(text, file: "catalog.json") { _ in "function catalogEndpoint() {}" }
            }
            found.read.formUnion(fields.read)
            found.acknowledged.formUnion(fields.acknowledged)
        }
        func placeholders(_ names: Set<String>) -> Set<String> {
            Set(names.map { name in
                var text = name
                if text.hasPrefix("paths./catalog.") {
                    var parts = text.dropFirst("paths./catalog.".count).split(separator: ".", maxSplits: 1).map(String.init)
                    if let method = parts.first, OASDefinitionParser.methods.contains(method) { parts[0] = "<method>" }
                    text = "paths.<path>." + parts.joined(separator: ".")
                }
                for (concrete, placeholder) in [("paths./catalog", "paths.<path>"),
                                                ("operations.catalogOperation", "operations.<operationId>"),
                                                ("securitySchemes.catalogScheme", "securitySchemes.<scheme>"),
                                                ("security[].catalogScheme", "security[].<scheme>")] {
                    text = text.replacingOccurrences(of: concrete, with: placeholder)
                }
                return text
            })
        }
        return Fields(read: placeholders(found.read), acknowledged: placeholders(found.acknowledged))
    }

    /// Tyk OAS definitions that between them reach every branch: token
    /// auth with one plugin per list, JWT auth, custom plugin auth, and the
    /// older `{"plugins": [...]}` lists.
    static var oasDefinitionSamples: [JSONValue] {
        let token = oasDefinitionSample
        func replacing(_ value: JSONValue, _ path: [String], with newValue: JSONValue) -> JSONValue {
            guard let first = path.first, case .object(var object) = value else { return newValue }
            object[first] = replacing(object[first] ?? .object([:]), Array(path.dropFirst()), with: newValue)
            return .object(object)
        }
        let auth = ["x-tyk-api-gateway", "server", "authentication"]
        var jwt = replacing(token, ["components", "securitySchemes", "catalogScheme"],
                            with: .object(["type": .string("http"), "scheme": .string("bearer")]))
        jwt = replacing(jwt, auth + ["securitySchemes", "catalogScheme"], with: .object([
            "enabled": .bool(true), "signingMethod": .string("hmac"), "source": .string("c2VjcmV0"), "header": .object([:]),
        ]))
        let custom = replacing(token, auth + ["custom"], with: .object([
            "enabled": .bool(true), "config": .object(["enabled": .bool(true), "functionName": .string("catalogAuth")]),
        ]))
        let plugin: JSONValue = .object(["enabled": .bool(true), "functionName": .string("catalogHook")])
        var legacy = token
        for (list, old) in [("prePlugins", "prePlugin"), ("postAuthenticationPlugins", "postAuthenticationPlugin"),
                            ("postPlugins", "postPlugin"), ("responsePlugins", "responsePlugin")] {
            legacy = replacing(legacy, ["x-tyk-api-gateway", "middleware", "global", list], with: .null)
            legacy = replacing(legacy, ["x-tyk-api-gateway", "middleware", "global", old], with: .object(["plugins": .array([plugin])]))
        }
        return [token, jwt, custom, legacy]
    }

    /// A Tyk OAS definition with token auth, one plugin per list, a
    /// pluginConfig, a virtual endpoint and a rate limit present.
    static let oasDefinitionSample: JSONValue = {
        let plugin: JSONValue = .object(["enabled": .bool(true), "functionName": .string("catalogHook"), "path": .string("catalog.js")])
        return .object([
            "openapi": .string("3.0.3"),
            "security": .array([.object(["catalogScheme": .array([])])]),
            "components": .object(["securitySchemes": .object(["catalogScheme": .object([
                "type": .string("apiKey"), "in": .string("header"), "name": .string("X-Key"),
            ])])]),
            "paths": .object(["/catalog": .object(["get": .object(["operationId": .string("catalogOperation")])])]),
            "x-tyk-api-gateway": .object([
                "info": .object(["id": .string("catalog"), "state": .object(["active": .bool(true)])]),
                "upstream": .object(["url": .string("http://127.0.0.1:1/"),
                                     "rateLimit": .object(["enabled": .bool(true), "rate": .int(1), "per": .string("1s")])]),
                "server": .object([
                    "listenPath": .object(["value": .string("/catalog/")]),
                    "authentication": .object([
                        "enabled": .bool(true),
                        "securitySchemes": .object(["catalogScheme": .object(["enabled": .bool(true)])]),
                        "customKeyLifetime": .object(["enabled": .bool(true), "value": .string("1h")]),
                    ]),
                ]),
                "middleware": .object([
                    "global": .object([
                        "pluginConfig": .object(["data": .object(["enabled": .bool(true)])]),
                        "prePlugins": .array([plugin]), "postAuthenticationPlugins": .array([plugin]),
                        "postPlugins": .array([plugin]), "responsePlugins": .array([plugin]),
                    ]),
                    "operations": .object(["catalogOperation": .object(["virtualEndpoint": .object([
                        "enabled": .bool(true), "functionName": .string("catalogEndpoint"), "path": .string("catalog.js"),
                    ])])]),
                ]),
            ]),
        ])
    }()

    /// A `tyk.conf` with every object section present.
    static let gatewayConfigSample: JSONValue = .object([
        "storage": .object([:]),
        "local_session_cache": .object([:]),
        "policies": .object([:]),
        "http_server_options": .object([
            "use_ssl": .bool(true),
            "certificates": .array([.object(["cert_file": .string("catalog.pem"), "key_file": .string("catalog.key")])]),
        ]),
        "opentelemetry": .object([
            "enabled": .bool(true),
            "headers": .object([:]),
            "span_batch_config": .object([:]),
            "sampling": .object([:]),
            "tls": .object([:]),
        ]),
    ])

    /// An API definition with every section present, including one hook
    /// entry per phase, one virtual endpoint and JWT auth (whose fields are
    /// read only when it is on, and need a valid method and source).
    static let apiDefinitionSample: JSONValue = {
        let hook: JSONValue = .object(["name": .string("catalogHook"), "path": .string("catalog.js")])
        return .object([
            "api_id": .string("catalog"),
            "auth": .object([:]),
            "enable_jwt": .bool(true),
            "jwt_signing_method": .string("hmac"),
            "jwt_source": .string("catalog-secret"),
            "proxy": .object(["listen_path": .string("/catalog/"), "target_url": .string("http://127.0.0.1:1/")]),
            "custom_middleware": .object([
                "pre": .array([hook]), "post": .array([hook]), "post_key_auth": .array([hook]),
                "response": .array([hook]), "auth_check": hook,
            ]),
            "version_data": .object([
                "versions": .object([
                    "<version>": .object([
                        "extended_paths": .object([
                            "virtual": .array([.object([
                                "response_function_name": .string("catalogEndpoint"),
                                "function_source_type": .string("file"),
                                "function_source_uri": .string("catalog.js"),
                                "path": .string("/catalog"),
                            ])]),
                        ]),
                    ]),
                ]),
            ]),
        ])
    }()

    /// Parses `start`, then tries an empty object, and then `true`, for every
    /// field the parser read but the document lacks. Where the parser
    /// accepts the value and reads more fields because of it, the value
    /// stays. That finds a section, or fields behind an on/off switch, added
    /// to the parser even if the samples above do not list them.
    /// Throws what the parser said if it refuses `start` itself.
    static func explore(start: JSONValue, parse: (String) throws -> Void) throws -> Fields {
        var document = start
        var fields = try run(document, parse)
        var probed: Set<String> = []
        while let candidate = fields.read.subtracting(probed).min() {
            probed.insert(candidate)
            let path = candidate.split(separator: ".").map(String.init)
            guard !candidate.contains("["), !candidate.contains("<"), lookup(document, path) == nil else { continue }
            for value in [JSONValue.object([:]), .bool(true)] {
                guard let probe = setting(document, path, to: value), let found = try? run(probe, parse),
                      found.all.isStrictSuperset(of: fields.all) else { continue }
                document = probe
                fields = found
                break
            }
        }
        return fields
    }

    private static func run(_ document: JSONValue, _ parse: (String) throws -> Void) throws -> Fields {
        let recorder = ConfigFieldRecorder()
        try ConfigReader.$fieldRecorder.withValue(recorder) { try parse(document.jsonString()) }
        let (read, acknowledged) = recorder.recorded
        return Fields(read: Set(read.map(normalise)), acknowledged: Set(acknowledged.map(normalise)))
    }

    /// `custom_middleware.pre[0].name` → `custom_middleware.pre[].name`.
    static func normalise(_ path: String) -> String {
        var result = ""
        var inIndex = false
        for character in path {
            if character == "[" { inIndex = true; result.append(character); continue }
            if character == "]" { inIndex = false }
            if !inIndex { result.append(character) }
        }
        return result
    }

    private static func lookup(_ value: JSONValue, _ path: [String]) -> JSONValue? {
        guard let first = path.first else { return value }
        guard let inner = value.objectValue?[first] else { return nil }
        return lookup(inner, Array(path.dropFirst()))
    }

    private static func setting(_ value: JSONValue, _ path: [String], to newValue: JSONValue) -> JSONValue? {
        guard let first = path.first else { return newValue }
        guard var object = value.objectValue else { return nil }
        guard let inner = setting(object[first] ?? .object([:]), Array(path.dropFirst()), to: newValue) else { return nil }
        object[first] = inner
        return .object(object)
    }
}
