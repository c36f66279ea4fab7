import Foundation
import PortcullisCore
@testable import PortcullisGateway
import PropertyBased
import Testing

/// Fuzzes the gateway's file parsers: `GatewayConfig.parse(_:file:)` for
/// `tyk.conf` and `APIDefinitionParser` for classic and Tyk OAS API definition files.
///
/// Protects: (1) no file content crashes the gateway at start-up or on
/// `/tyk/reload`; (2) every refusal is a ``ConfigError`` that names the file
/// it came from, so an operator with many files in `app_path` knows which one
/// to fix; (3) a field holding the wrong type is refused naming that field by
/// its full path; (4) deeply nested documents are refused, not a stack overflow.
@Suite("Fuzz: gateway config and API definition parsers", .timeLimit(.minutes(2)))
struct ConfigFuzzTests {
    // MARK: Generators

    /// A generated document, the slots where a wrong type can be injected,
    /// and the file name it is parsed as.
    struct Document: Sendable, CustomStringConvertible {
        var value: JSONValue
        var slots: [JSONSlot]
        var file: String
        var description: String { "\(file): \(value.jsonString())" }
    }

    static func fileName(_ r: inout SplitMix64, folder: String) -> String {
        let stem = r.pick(["tyk", "api", "forum", "my api", "ünïcode-名前", "a.b.c", "weird'name\""]) + "-\(Int.random(in: 0...9999, using: &r))"
        return "\(folder)/\(stem).\(r.pick(["json", "conf"]))"
    }

    static func identifier(_ r: inout SplitMix64) -> String {
        let first = r.pick(["a", "_", "$", "pre", "Auth", "é"])
        let rest = (0..<Int.random(in: 0...6, using: &r)).map { _ in r.pick(["x", "1", "_", "Z", "$"]) }.joined()
        return r.chance(20) ? "\(first)\(rest).inner\(rest)" : "\(first)\(rest)"
    }

    static func plainPath(_ r: inout SplitMix64) -> String {
        let segments = (0..<Int.random(in: 0...3, using: &r)).map { _ in
            (0..<Int.random(in: 1...6, using: &r)).map { _ in r.pick(["a", "b", "z", "0", "9", "-", "_", "é", "~"]) }.joined()
        }
        return "/" + segments.joined(separator: "/") + (r.chance(50) ? "/" : "")
    }

    /// A valid `tyk.conf` with random values in every field the parser reads.
    static func gatewayConfig(_ r: inout SplitMix64) -> Document {
        var d = DocumentBuilder()
        d.set("listen_address", .string(r.pick(["127.0.0.1", "", "0.0.0.0", "::1", FuzzText.string(&r)])), .string)
        d.set("listen_port", .int(Int64.random(in: 0...65535, using: &r)), .integer)
        d.set("secret", .string(FuzzText.string(&r)), .string)
        d.set("app_path", .string(FuzzText.string(&r)), .string)
        d.set("middleware_path", .string(FuzzText.string(&r)), .string)
        d.set("tyk_js_path", .string(FuzzText.string(&r)), .string)
        d.object("storage") { s in
            s.set("type", .string(r.pick(["memory", "redis"])), .string)
            s.set("host", .string(FuzzText.string(&r)), .string)
            s.set("port", .int(Int64.random(in: 0...65535, using: &r)), .integer)
            s.set("password", .string(FuzzText.string(&r)), .string)
            s.set("database", .int(Int64.random(in: 0...15, using: &r)), .integer)
            s.set("timeout", r.chance(50) ? .int(Int64.random(in: 0...30, using: &r)) : .double(FuzzText.fractionalDouble(&r)), .number)
            s.set("enable_cluster", .bool(r.chance(50)), nil)
        }
        d.object("local_session_cache") { c in
            c.set("disable_cached_session_state", .bool(r.chance(50)), .bool)
            c.set("cached_session_timeout", .double(FuzzText.fractionalDouble(&r)), .number)
        }
        for key in ["hash_keys", "enable_key_logging", "force_global_session_lifetime", "session_lifetime_respects_key_expiration",
                    "enable_jsvm", "optimisations_use_async_session_write", "allow_master_keys", "proxy_ssl_insecure_skip_verify"] {
            d.set(key, .bool(r.chance(50)), .bool)
        }
        d.set("hash_key_function", .string(r.pick(["murmur64", "sha256", ""])), .string)
        d.set("global_session_lifetime", .int(FuzzText.int64(&r)), .integer)
        d.set("jsvm_timeout", .double(FuzzText.fractionalDouble(&r)), .number)
        d.set("min_token_length", .int(Int64.random(in: 0...64, using: &r)), .integer)
        d.set("max_request_body_size", .int(Int64.random(in: 0...(1 << 30), using: &r)), .integer)
        d.object("policies") { p in
            p.set("policy_source", .string(r.pick(["file", ""])), .string)
            p.set(r.pick(["policy_record_name", "policy_path"]), .string(FuzzText.string(&r)), .string)
            p.set("policy_connection_string", FuzzText.jsonValue(&r, depth: 0), nil)
        }
        // Fields the parser ignores, of any type.
        d.set("uptime_tests", FuzzText.jsonValue(&r), nil)
        d.set("analytics_config", FuzzText.jsonValue(&r), nil)
        return Document(value: d.value, slots: d.slots, file: fileName(&r, folder: "/etc/portcullis"))
    }

    static func middlewareEntry(_ e: inout DocumentBuilder, _ r: inout SplitMix64) {
        e.set("name", .string(identifier(&r)), .string)
        e.set("path", .string("plugins/" + FuzzText.string(&r, maxLength: 8) + ".js"), .string)
        e.set("disabled", .bool(r.chance(20)), .bool)
        e.set("require_session", .bool(r.chance(50)), .bool)
        e.set("raw_body_only", FuzzText.jsonValue(&r, depth: 0), nil)
    }

    /// A valid Tyk classic API definition with random values, middleware and virtual endpoints.
    static func apiDefinition(_ r: inout SplitMix64) -> Document {
        var d = DocumentBuilder()
        d.set("api_id", .string("id-" + FuzzText.string(&r)), .string)
        d.set("name", .string(FuzzText.string(&r)), .string)
        d.set("org_id", .string(FuzzText.string(&r)), .string)
        d.set("active", .bool(r.chance(80)), .bool)
        d.set("use_keyless", .bool(r.chance(50)), .bool)
        d.object("auth") { a in a.set("auth_header_name", .string(r.pick(["Authorization", "x-session-key", ""])), .string) }
        d.object("proxy") { p in
            p.set("listen_path", .string(plainPath(&r)), .string)
            p.set("target_url", .string(r.pick(["http://127.0.0.1:8080", "https://upstream.example/api", "HTTP://host:1/x?y=z"])), .string)
            p.set("strip_listen_path", .bool(r.chance(50)), .bool)
        }
        d.object("custom_middleware") { m in
            for hook in ["pre", "post", "post_key_auth", "response"] {
                m.array(hook, count: Int.random(in: 0...2, using: &r)) { _, e in middlewareEntry(&e, &r) }
            }
            if r.chance(50) { m.object("auth_check") { e in middlewareEntry(&e, &r) } }
            m.set("driver", .string(r.pick(["", "otto", "javascript", "goja"])), .string)
            m.set("id_extractor", FuzzText.jsonValue(&r, depth: 1), nil)
        }
        d.set("config_data", FuzzText.jsonValue(&r), nil)
        d.set("config_data_disabled", .bool(r.chance(20)), .bool)
        d.set("custom_plugin_auth_enabled", .bool(r.chance(20)), .bool)
        d.set("enable_coprocess_auth", .bool(r.chance(20)), .bool)
        d.set("session_lifetime", .int(FuzzText.int64(&r)), .integer)
        d.set("session_lifetime_respects_key_expiration", .bool(r.chance(50)), .bool)
        d.set("disable_rate_limit", .bool(r.chance(50)), .bool)
        d.set("disable_quota", .bool(r.chance(50)), .bool)
        d.set("slug", FuzzText.jsonValue(&r, depth: 0), nil)
        if r.chance(70) {
            d.object("version_data") { v in
                v.set("not_versioned", .bool(true), nil)
                v.object("versions") { versions in
                    for name in ["Default", "v2"].prefix(Int.random(in: 1...2, using: &r)) {
                        versions.object(name) { version in
                            version.set("name", .string(name), nil)
                            version.object("extended_paths") { paths in
                                paths.array("virtual", count: Int.random(in: 0...2, using: &r)) { _, e in
                                    e.set("response_function_name", .string(identifier(&r)), .string)
                                    if r.chance(50) {
                                        e.set("function_source_type", .string("file"), .string)
                                        e.set("function_source_uri", .string("plugins/" + FuzzText.string(&r, maxLength: 6) + ".js"), .string)
                                    } else {
                                        e.set("function_source_type", .string("blob"), .string)
                                        let source = "function f(request, session, config) { return '" + FuzzText.string(&r) + "' }"
                                        e.set("function_source_uri", .string(Data(source.utf8).base64EncodedString()), .string)
                                    }
                                    e.set("path", .string(plainPath(&r)), .string)
                                    e.set("method", .string(r.pick(["GET", "post", "PUT"])), .string)
                                    e.set("use_session", .bool(r.chance(50)), .bool)
                                    e.set("proxy_on_error", .bool(r.chance(50)), .bool)
                                    // A disabled endpoint is skipped unread, so keep every one enabled.
                                    e.set("disabled", .bool(false), .bool)
                                }
                            }
                        }
                    }
                }
            }
        }
        return Document(value: d.value, slots: d.slots, file: fileName(&r, folder: "apps"))
    }

    /// A valid Tyk OAS API definition with random values, plugins and virtual endpoints.
    static func oasDefinition(_ r: inout SplitMix64) -> Document {
        var d = DocumentBuilder()
        d.set("openapi", .string("3.0.3"), nil)
        d.set("info", .object(["title": .string(FuzzText.string(&r)), "version": .string("1")]), nil)
        let authenticated = r.chance(60)
        let operations = (0..<Int.random(in: 0...2, using: &r)).map { "op\($0)" + identifier(&r) }
        var paths: [String: JSONValue] = [:]
        for (index, operation) in operations.enumerated() {
            paths["/p\(index)" + plainPath(&r)] = .object([r.pick(["get", "post", "put"]): .object(["operationId": .string(operation)])])
        }
        d.set("paths", .object(paths), nil)
        if authenticated {
            d.set("security", .array([.object(["key": .array([])])]), nil)
            d.object("components") { c in
                c.object("securitySchemes") { schemes in
                    schemes.object("key") { k in
                        k.set("type", .string("apiKey"), nil)
                        k.set("in", .string("header"), nil)
                        k.set("name", .string(r.pick(["Authorization", "X-Api-Key"])), .string)
                    }
                }
            }
        }
        d.object("x-tyk-api-gateway") { x in
            x.object("info") { info in
                info.set("id", .string("id-" + FuzzText.string(&r)), .string)
                info.set("name", .string(FuzzText.string(&r)), .string)
                info.set("orgId", .string(FuzzText.string(&r)), .string)
                info.object("state") { state in
                    state.set("active", .bool(r.chance(80)), .bool)
                    state.set("internal", .bool(r.chance(10)), .bool)
                }
                info.set("dbId", FuzzText.jsonValue(&r, depth: 0), nil)
            }
            x.object("upstream") { u in
                u.set("url", .string(r.pick(["http://127.0.0.1:8080", "https://upstream.example/api"])), .string)
            }
            x.object("server") { server in
                server.object("listenPath") { l in
                    l.set("value", .string(plainPath(&r)), .string)
                    l.set("strip", .bool(r.chance(50)), .bool)
                }
                server.object("authentication") { a in
                    a.set("enabled", .bool(authenticated), .bool)
                    if authenticated { a.set("securitySchemes", .object(["key": .object(["enabled": .bool(true)])]), nil) }
                }
            }
            x.object("middleware") { m in
                m.object("global") { g in
                    g.object("pluginConfig") { p in
                        p.set("driver", .string(r.pick(["", "otto", "goja"])), .string)
                        p.object("data") { data in
                            data.set("enabled", .bool(r.chance(50)), .bool)
                            data.set("value", .object(["team": FuzzText.jsonValue(&r, depth: 1)]), nil)
                        }
                    }
                    for list in ["prePlugins", "postAuthenticationPlugins", "postPlugins", "responsePlugins"] {
                        g.array(list, count: Int.random(in: 0...2, using: &r)) { _, e in
                            e.set("enabled", .bool(r.chance(80)), .bool)
                            e.set("functionName", .string(identifier(&r)), .string)
                            e.set("path", .string("plugins/" + FuzzText.string(&r, maxLength: 8) + ".js"), .string)
                            e.set("requireSession", .bool(r.chance(50)), .bool)
                            e.set("rawBodyOnly", FuzzText.jsonValue(&r, depth: 0), nil)
                        }
                    }
                    g.set("skipRateLimit", .bool(r.chance(50)), .bool)
                    g.set("skipQuota", .bool(r.chance(50)), .bool)
                    g.set("cors", FuzzText.jsonValue(&r, depth: 1), nil)
                }
                m.object("operations") { ops in
                    for operation in operations {
                        ops.object(operation) { o in
                            o.object("virtualEndpoint") { v in
                                v.set("enabled", .bool(true), .bool)
                                v.set("functionName", .string(identifier(&r)), .string)
                                v.set("path", .string("plugins/" + FuzzText.string(&r, maxLength: 6) + ".js"), .string)
                                v.set("requireSession", .bool(r.chance(50)), .bool)
                                v.set("proxyOnError", .bool(r.chance(50)), .bool)
                            }
                        }
                    }
                }
            }
        }
        return Document(value: d.value, slots: d.slots, file: fileName(&r, folder: "apps"))
    }

    // MARK: Parsing under test

    /// Reads a virtual endpoint's script: any path under plugins/ exists.
    /// (Compared as bytes: `"plugins/" + "\u{17BE}…"` does not have the
    /// Character prefix "plugins/", the slash and the mark form one Character.)
    static func readFile(_ path: String) throws -> String {
        guard path.utf8.starts(with: "plugins/".utf8) else { throw CocoaError(.fileNoSuchFile) }
        return "function f(request, session, config) { return 1 }"
    }

    enum Parser: String, Sendable, CaseIterable {
        case gatewayConfig, apiDefinition, oasDefinition
    }

    static func parse(_ parser: Parser, _ text: String, file: String) throws {
        switch parser {
        case .gatewayConfig: _ = try GatewayConfig.parse(text, file: file)
        case .apiDefinition, .oasDefinition: _ = try APIDefinitionParser.parse(text, file: file, readFile: readFile)
        }
    }

    /// Parses, recording an issue for any failure that is not a ``ConfigError``
    /// naming `file`. Returns the error when there was one.
    @discardableResult
    static func parseOrExplain(_ parser: Parser, _ text: String, file: String,
                               sourceLocation: SourceLocation = #_sourceLocation) -> ConfigError? {
        do {
            try parse(parser, text, file: file)
            return nil
        } catch let error as ConfigError {
            #expect(error.description.hasPrefix("\(file): "), "error does not name \(file): \(error)", sourceLocation: sourceLocation)
            return error
        } catch {
            Issue.record("not a ConfigError: \(type(of: error)) \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    static func document(_ parser: Parser, _ r: inout SplitMix64) -> Document {
        switch parser {
        case .gatewayConfig: gatewayConfig(&r)
        case .apiDefinition: apiDefinition(&r)
        case .oasDefinition: oasDefinition(&r)
        }
    }

    // MARK: Properties

    @Test("Generated valid files parse and keep their values", arguments: Parser.allCases)
    func validDocumentsParse(parser: Parser) async {
        await propertyCheck(count: 1000, input: Generator<Document, Shrink.None<Document>>.seeded { Self.document(parser, &$0) }) { document in
            let text = document.value.jsonString()
            let members = document.value.objectValue ?? [:]
            switch parser {
            case .gatewayConfig:
                let (config, ignored) = try GatewayConfig.parse(text, file: document.file)
                #expect(config.secret == members["secret"]?.stringValue)
                #expect(members["listen_port"] == .int(Int64(config.listenPort)))
                #expect(config.storage.type == members["storage"]?.objectValue?["type"]?.stringValue)
                #expect(ignored.contains("uptime_tests") && ignored.contains("analytics_config"))
                #expect(config.policies.recordName == members["policies"]?.objectValue?["policy_record_name"]?.stringValue ?? "")
            case .apiDefinition:
                let (api, _) = try APIDefinitionParser.parse(text, file: document.file, readFile: Self.readFile)
                #expect(api.apiID == members["api_id"]?.stringValue)
                #expect(api.file == document.file)
                #expect(api.listenPath.hasPrefix("/") && api.listenPath.hasSuffix("/"))
                let pre = members["custom_middleware"]?.objectValue?["pre"]
                if case .array(let entries) = pre { #expect(api.middleware.pre.count == entries.count) }
            case .oasDefinition:
                let (api, _) = try APIDefinitionParser.parse(text, file: document.file, readFile: Self.readFile)
                let tyk = members["x-tyk-api-gateway"]?.objectValue
                #expect(api.format == .oas)
                #expect(api.apiID == tyk?["info"]?.objectValue?["id"]?.stringValue)
                #expect(api.listenPath.hasPrefix("/") && api.listenPath.hasSuffix("/"))
                let pre = tyk?["middleware"]?.objectValue?["global"]?.objectValue?["prePlugins"]
                if case .array(let entries) = pre { #expect(api.middleware.pre.count == entries.count) }
                let operations = tyk?["middleware"]?.objectValue?["operations"]?.objectValue ?? [:]
                #expect(api.virtualEndpoints.count == operations.count)
            }
        }
    }

    @Test("Arbitrary text never crashes either parser; every refusal is a ConfigError naming the file", arguments: Parser.allCases)
    func arbitraryText(parser: Parser) async {
        let inputs = Generator<String, Shrink.None<String>>.seeded { JSONMutation.arbitraryText(&$0) }
        await propertyCheck(count: 2000, input: inputs) { text in
            Self.parseOrExplain(parser, text, file: "apps/fuzz input.json")
        }
    }

    @Test("Mutated valid files never crash either parser; every refusal is a ConfigError naming the file", arguments: Parser.allCases)
    func mutatedDocuments(parser: Parser) async {
        struct Case: Sendable, CustomStringConvertible {
            var text: String
            var file: String
            var description: String { "\(file): \(text)" }
        }
        let inputs = Generator<Case, Shrink.None<Case>>.seeded { r in
            let document = Self.document(parser, &r)
            return Case(text: JSONMutation.mutate(document.value.jsonString(), &r), file: document.file)
        }
        await propertyCheck(count: 2500, input: inputs) { input in
            Self.parseOrExplain(parser, input.text, file: input.file)
        }
    }

    @Test("A field of the wrong type is refused naming that field by its full path", arguments: Parser.allCases)
    func wrongTypeNamesField(parser: Parser) async {
        struct Case: Sendable, CustomStringConvertible {
            var text: String
            var file: String
            var field: String
            var description: String { "\(field) in \(file): \(text)" }
        }
        let inputs = Generator<Case, Shrink.None<Case>>.seeded { r in
            let document = Self.document(parser, &r)
            let slot = r.pick(document.slots)
            let broken = document.value.replacing(at: slot.path[...], with: .wrongType(for: slot.kind, &r))
            return Case(text: broken.jsonString(), file: document.file, field: slot.fieldName)
        }
        await propertyCheck(count: 3000, input: inputs) { input in
            let error = Self.parseOrExplain(parser, input.text, file: input.file)
            guard case .invalidField(let file, let field, let reason)? = error else {
                Issue.record("expected invalidField for \(input.field), got \(error.map { "\($0)" } ?? "success")")
                return
            }
            #expect(file == input.file)
            #expect(field == input.field, "\(reason)")
            #expect(error?.description.contains("field \(input.field):") == true)
        }
    }

    @Test("Out-of-range values are refused naming the field")
    func outOfRange() async {
        struct Case: Sendable, CustomStringConvertible {
            var text: String
            var field: String
            var description: String { "\(field): \(text)" }
        }
        let inputs = Generator<Case, Shrink.None<Case>>.seeded { r in
            var value = Self.gatewayConfig(&r).value
            switch Int.random(in: 0..<2, using: &r) {
            case 0:
                let port = r.chance(50) ? Int64.random(in: 65536...Int64.max, using: &r) : Int64.random(in: Int64.min...(-1), using: &r)
                value = value.replacing(at: [.key("listen_port")], with: .int(port))
                return Case(text: value.jsonString(), field: "listen_port")
            default:
                let type = FuzzText.string(&r)
                value = value.replacing(at: [.key("storage"), .key("type")], with: .string(type == "redis" || type == "memory" ? type + "x" : type))
                return Case(text: value.jsonString(), field: "storage.type")
            }
        }
        await propertyCheck(count: 1000, input: inputs) { input in
            let error = Self.parseOrExplain(.gatewayConfig, input.text, file: "tyk.conf")
            guard case .invalidField(_, let field, _)? = error else {
                Issue.record("expected invalidField for \(input.field), got \(error.map { "\($0)" } ?? "success")")
                return
            }
            #expect(field == input.field)
        }
    }

    @Test("Deeply nested documents are refused with the file named, not a stack overflow",
          arguments: Parser.allCases, [600, 100_000])
    func deepNesting(parser: Parser, depth: Int) {
        for text in [
            DeepNesting.arrays(depth: depth),
            DeepNesting.objects(depth: depth),
            #"{"api_id":"a","config_data":"# + DeepNesting.arrays(depth: depth) + "}",
            #"{"storage":"# + DeepNesting.objects(depth: depth) + "}",
        ] {
            let error = Self.parseOrExplain(parser, text, file: "apps/deep.json")
            #expect(error != nil)
        }
    }
}
