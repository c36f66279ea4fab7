import Foundation
import PortcullisCore
import PortcullisJS

/// Reads plugin fixture files. A fixture folder holds one fixture per
/// `*.json` file, run in file-name order. A file is one JSON object:
///
/// ```json
/// {
///   "name": "an expired key is renewed",
///   "hook": "pre",
///   "now": 1700000000,
///   "request": {"method": "GET", "url": "/forum/x", "headers": {"X-Session-Key": "k1"}},
///   "config_data": {"auth_header": "x-session-key"},
///   "store": {"k1": {"expires": 1699999990}},
///   "http": [{"method": "GET", "url": "https://auth.example/check",
///             "response": {"code": 200, "headers": {"Content-Type": "application/json"}, "body": {"ok": true}}}],
///   "expect": {
///     "overrides": {"ResponseCode": 0},
///     "session_writes": {"k1": {"expires": 1700000060}},
///     "logs": ["new session"]
///   }
/// }
/// ```
///
/// - `name` (required) and `request` (required: `method`, `url` or `path`,
///   `headers` with string or list values, `body`).
/// - `handler`, `hook` (`pre` by default), `now` (fixes `Date.now()`).
/// - `session` (the request's session) and `key` (stores it under that key),
///   `store` (more sessions by key), `api_id`, `org_id`, `config_data`.
/// - `http`: canned answers for `TykMakeHttpRequest`, matched by method
///   (default `GET`) and exact URL; a call no stub matches fails the fixture.
/// - `expect`: `request` (`SetHeaders`, `DeleteHeaders`, `URL`, `Body`, …),
///   `overrides` (`ReturnOverrides`), `response` (virtual endpoints),
///   `session_meta`, `session` and `auth_value` (auth hook),
///   `session_writes` (by key; null for "never written"), `logs`
///   (substrings), `error` (a substring of the error the plugin must fail with).
///
/// Every field name is checked, at every level the format defines, so a
/// misspelt field is refused rather than silently checking nothing.
public enum PluginFixtureParser {
    /// Fields of a fixture file.
    public static let fixtureFields = ["name", "handler", "hook", "now", "request", "session", "key", "api_id", "org_id",
                                       "config_data", "store", "http", "expect"]
    /// Fields of `request`; `url` and `path` are the same field under two names.
    public static let requestFields = ["method", "url", "path", "headers", "body"]
    /// Fields of one `http` stub.
    public static let stubFields = ["method", "url", "response"]
    /// Fields of a stub's `response`.
    public static let stubResponseFields = ["code", "headers", "body"]
    /// Fields of `expect`.
    public static let expectFields = ["request", "overrides", "response", "session_meta", "session", "auth_value",
                                      "session_writes", "logs", "error"]
    /// Fields of `expect.request`: Tyk's request-object names for what a middleware can change.
    public static let requestChangeFields = ["SetHeaders", "DeleteHeaders", "URL", "Body", "IgnoreBody", "AddParams",
                                             "ExtendedParams", "DeleteParams"]
    /// Fields of `expect.overrides`: Tyk's `ReturnOverrides`.
    public static let overrideFields = ["ResponseCode", "ResponseError", "ResponseBody", "ResponseHeaders", "OverrideError"]
    /// Fields of `expect.response`: a virtual endpoint's answer.
    public static let responseFields = ["Code", "Headers", "Body"]

    /// Reads every `*.json` fixture in a folder (in file-name order), or one
    /// fixture file when `path` is a file.
    public static func load(_ path: String) throws(PluginFixtureError) -> [PluginFixture] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .unreadable(file: path)
        }
        guard isDirectory.boolValue else { return [try parse(try read(path), file: path)] }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw .unreadable(file: path)
        }
        let files = names.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.sorted()
        guard !files.isEmpty else { throw .noFixtures(path: path) }
        let folder = path.hasSuffix("/") ? path : path + "/"
        var fixtures: [PluginFixture] = []
        for name in files {
            let file = folder + name
            fixtures.append(try parse(try read(file), file: file))
        }
        return fixtures
    }

    private static func read(_ file: String) throws(PluginFixtureError) -> String {
        guard let data = FileManager.default.contents(atPath: file) else { throw .unreadable(file: file) }
        return String(decoding: data, as: UTF8.self)
    }

    /// Parses one fixture; `file` is used in error messages and the report.
    public static func parse(_ text: String, file: String) throws(PluginFixtureError) -> PluginFixture {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: text)
        } catch {
            throw .notJSON(file: file, reason: "\(error)")
        }
        let top = try FixtureObject(value, file: file, path: "")
        try top.refuseUnknown(fixtureFields)

        guard let name = try top.string("name") else { throw .missingField(file: file, field: "name") }
        guard !name.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw .invalidValue(file: file, field: "name", reason: "must not be empty")
        }
        var fixture = PluginFixture(file: file, name: name)
        fixture.handler = try top.string("handler")
        if let hook = try top.string("hook") {
            guard let parsed = PluginRunner.Hook(rawValue: hook) else {
                throw .invalidValue(file: file, field: "hook",
                                    reason: "is '\(hook)'; use one of \(PluginRunner.Hook.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            fixture.hook = parsed
        }
        if let now = top.fields["now"] {
            switch now {
            case .int(let seconds) where seconds >= 0: fixture.now = Double(seconds)
            case .double(let seconds) where seconds >= 0 && seconds.isFinite: fixture.now = seconds
            default: throw .wrongType(file: file, field: "now", expected: "Unix seconds (a number of 0 or more)", found: now.typeDescription)
            }
        }
        guard let request = try top.object("request") else { throw .missingField(file: file, field: "request") }
        fixture.request = try parseRequest(request)
        if let session = top.fields["session"] {
            guard session.objectValue != nil else {
                throw .wrongType(file: file, field: "session", expected: "a session object", found: session.typeDescription)
            }
            fixture.session = session
        }
        fixture.key = try top.string("key")
        fixture.apiID = try top.string("api_id") ?? PluginFixture.defaultAPIID
        fixture.orgID = try top.string("org_id") ?? ""
        fixture.configData = top.fields["config_data"]
        if let store = try top.object("store") {
            for (key, session) in store.fields {
                guard session.objectValue != nil else {
                    throw .wrongType(file: file, field: store.path(key), expected: "a session object", found: session.typeDescription)
                }
            }
            fixture.store = store.fields
        }
        if let key = fixture.key, fixture.session != nil, fixture.store[key] != nil {
            throw .invalidValue(file: file, field: "key", reason: "'\(key)' is also in 'store'; give its session in one place")
        }
        if let stubs = top.fields["http"] {
            guard case .array(let items) = stubs else {
                throw .wrongType(file: file, field: "http", expected: "a list of stubbed responses", found: stubs.typeDescription)
            }
            for (index, item) in items.enumerated() {
                fixture.http.append(try parseStub(try FixtureObject(item, file: file, path: "http[\(index)]")))
            }
        }
        if let expect = try top.object("expect") {
            fixture.expect = try parseExpect(expect, hook: fixture.hook)
        }
        return fixture
    }

    private static func parseRequest(_ object: FixtureObject) throws(PluginFixtureError) -> PluginFixture.Request {
        try object.refuseUnknown(requestFields)
        var request = PluginFixture.Request()
        request.method = (try object.string("method") ?? "GET").uppercased()
        let url = try object.string("url")
        let path = try object.string("path")
        if url != nil, path != nil {
            throw .invalidValue(file: object.file, field: object.path("path"), reason: "and 'url' are the same field; give one")
        }
        request.url = url ?? path ?? "/"
        guard request.url.hasPrefix("/") else {
            throw .invalidValue(file: object.file, field: object.path(url == nil ? "path" : "url"),
                                reason: "must be a path and query starting with '/', found '\(request.url)'")
        }
        request.headers = try object.headerMap("headers")
        request.body = try object.string("body") ?? ""
        return request
    }

    private static func parseStub(_ object: FixtureObject) throws(PluginFixtureError) -> PluginFixture.HTTPStub {
        try object.refuseUnknown(stubFields)
        guard let url = try object.string("url"), !url.isEmpty else {
            throw .missingField(file: object.file, field: object.path("url"))
        }
        let method = (try object.string("method") ?? "GET").uppercased()
        var response = PluginHTTPResponse(status: 200)
        if let answer = try object.object("response") {
            try answer.refuseUnknown(stubResponseFields)
            if let code = answer.fields["code"] {
                guard case .int(let status) = code, (100...599).contains(status) else {
                    throw .wrongType(file: object.file, field: answer.path("code"), expected: "an HTTP status (100-599)",
                                     found: code.jsonString())
                }
                response.status = Int(status)
            }
            response.headers = try answer.headerMap("headers")
            switch answer.fields["body"] {
            case nil, .null?: break
            case .string(let text)?: response.body = Array(text.utf8)
            case let other?: response.body = Array(other.jsonString().utf8)
            }
        }
        return PluginFixture.HTTPStub(method: method, url: url, response: response)
    }

    private static func parseExpect(_ object: FixtureObject, hook: PluginRunner.Hook) throws(PluginFixtureError) -> PluginFixture.Expectations {
        try object.refuseUnknown(expectFields)
        var expect = PluginFixture.Expectations()
        let sub: [(String, [String])] = [("request", requestChangeFields), ("overrides", overrideFields), ("response", responseFields)]
        for (field, known) in sub {
            if let nested = try object.object(field) {
                try nested.refuseUnknown(known)
                expect.fields[field] = .object(nested.fields)
            }
        }
        let virtualOnly = ["response"], middlewareOnly = ["request", "overrides"], authOnly = ["session", "auth_value"]
        for field in virtualOnly where expect.fields[field] != nil && hook != .virtual {
            throw .invalidValue(file: object.file, field: object.path(field), reason: "applies only to \"hook\": \"virtual\"")
        }
        for field in middlewareOnly where expect.fields[field] != nil && hook == .virtual {
            throw .invalidValue(file: object.file, field: object.path(field),
                                reason: "does not apply to a virtual endpoint; check its answer with 'expect.response'")
        }
        if let meta = object.fields["session_meta"] {
            guard meta == .null || meta.objectValue != nil else {
                throw .wrongType(file: object.file, field: object.path("session_meta"), expected: "an object or null", found: meta.typeDescription)
            }
            expect.fields["session_meta"] = meta
        }
        if let session = object.fields["session"] {
            guard session.objectValue != nil else {
                throw .wrongType(file: object.file, field: object.path("session"), expected: "a session object", found: session.typeDescription)
            }
            expect.fields["session"] = session
        }
        if let authValue = try object.string("auth_value") { expect.fields["auth_value"] = .string(authValue) }
        for field in authOnly where expect.fields[field] != nil && hook != .auth {
            throw .invalidValue(file: object.file, field: object.path(field), reason: "applies only to \"hook\": \"auth\"")
        }
        if let writes = try object.object("session_writes") {
            for (key, session) in writes.fields where session != .null && session.objectValue == nil {
                throw .wrongType(file: object.file, field: writes.path(key),
                                 expected: "the fields the written session must have (an object), or null for no write",
                                 found: session.typeDescription)
            }
            expect.fields["session_writes"] = .object(writes.fields)
        }
        if let logs = object.fields["logs"] {
            guard case .array(let items) = logs else {
                throw .wrongType(file: object.file, field: object.path("logs"), expected: "a list of strings", found: logs.typeDescription)
            }
            for (index, item) in items.enumerated() {
                guard let text = item.stringValue else {
                    throw .wrongType(file: object.file, field: object.path("logs") + "[\(index)]", expected: "a string",
                                     found: item.typeDescription)
                }
                expect.logs.append(text)
            }
        }
        expect.error = try object.string("error")
        if expect.error != nil {
            let others = expect.fields.keys.filter { $0 != "session_writes" }.sorted() + (expect.logs.isEmpty ? [] : ["logs"])
            if let first = others.first {
                throw .invalidValue(file: object.file, field: object.path("error"),
                                    reason: "cannot be combined with '\(object.path(first))': a plugin that fails returns nothing else to compare")
            }
        }
        return expect
    }
}

/// A JSON object of a fixture file, with its dotted path for error messages.
struct FixtureObject {
    let file: String
    /// The dotted path of this object ("" at the top level).
    let prefix: String
    let fields: [String: JSONValue]

    init(_ value: JSONValue, file: String, path: String) throws(PluginFixtureError) {
        guard let fields = value.objectValue else {
            if path.isEmpty { throw .notJSON(file: file, reason: "a fixture file must hold one JSON object, found \(value.typeDescription)") }
            throw .wrongType(file: file, field: path, expected: "an object", found: value.typeDescription)
        }
        self.file = file
        self.prefix = path
        self.fields = fields
    }

    /// The dotted path of one of this object's fields.
    func path(_ name: String) -> String { prefix.isEmpty ? name : "\(prefix).\(name)" }

    func refuseUnknown(_ known: [String]) throws(PluginFixtureError) {
        if let unknown = fields.keys.sorted().first(where: { !known.contains($0) }) {
            throw .unknownField(file: file, field: path(unknown), known: known)
        }
    }

    func string(_ name: String) throws(PluginFixtureError) -> String? {
        guard let value = fields[name], value != .null else { return nil }
        guard let text = value.stringValue else {
            throw .wrongType(file: file, field: path(name), expected: "a string", found: value.typeDescription)
        }
        return text
    }

    func object(_ name: String) throws(PluginFixtureError) -> FixtureObject? {
        guard let value = fields[name], value != .null else { return nil }
        return try FixtureObject(value, file: file, path: path(name))
    }

    /// `{"Name": "value"}` or `{"Name": ["v1", "v2"]}`.
    func headerMap(_ name: String) throws(PluginFixtureError) -> [String: [String]] {
        guard let headers = try object(name) else { return [:] }
        var result: [String: [String]] = [:]
        for (header, value) in headers.fields {
            switch value {
            case .string(let text):
                result[header] = [text]
            case .array(let items) where items.allSatisfy({ $0.stringValue != nil }):
                result[header] = items.compactMap(\.stringValue)
            default:
                throw .wrongType(file: file, field: headers.path(header), expected: "a string or a list of strings",
                                 found: value.typeDescription)
            }
        }
        return result
    }
}
