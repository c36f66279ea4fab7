import PortcullisCore

/// Reads one step of a scenario file. A step is an object with exactly
/// one action field (`request`, `advance`, …), an optional `name`, and
/// for requests `expect`, `repeat` and `concurrent`.
enum StepParser {
    static let actions = ["create_key", "update_key", "delete_key", "request", "advance", "store",
                          "expect_session", "expect_log", "reload", "set_policies"]

    static func parse(_ value: JSONValue, index: Int, file: String, nodes: [String]) throws -> ScenarioStep {
        var reader = FieldReader(value, file: file, step: index, stepName: nil, prefix: "")
        try reader.requireObject()
        let givenName = try reader.string("name")
        reader = FieldReader(value, file: file, step: index, stepName: givenName, prefix: "")
        _ = try reader.string("name")
        let present = actions.filter { reader.fields[$0] != nil }
        guard present.count == 1, let action = present.first else {
            let reason = present.isEmpty ? "is missing: a step needs one of \(actions.joined(separator: ", "))"
                                         : "is ambiguous: one step may do only one of \(present.joined(separator: ", "))"
            throw reader.error("(action)", reason)
        }
        let parsed: StepAction
        switch action {
        case "create_key", "update_key":
            parsed = .writeKey(try keyWrite(&reader, action, isUpdate: action == "update_key", nodes: nodes))
        case "delete_key":
            var body = try require(&reader, action)
            let key = try requiredString(&body, "key")
            let via = try channel(&body, allowed: [.admin, .store])
            let node = try nodeName(&body, nodes)
            try body.finish()
            parsed = .deleteKey(key: key, via: via, node: node)
        case "request":
            parsed = try request(&reader, nodes: nodes)
        case "advance":
            parsed = .advance(seconds: try duration(&reader, action))
        case "store":
            parsed = .store(try storeFault(&reader))
        case "expect_session":
            parsed = .expectSession(try sessionExpectation(&reader, nodes: nodes))
        case "set_policies":
            guard let policies = try reader.object(action)?.value else { throw reader.error(action, "must be an object of policy id → policy") }
            try ScenarioGatewayFiles.checkPolicies(policies, file: file, step: index, field: action)
            parsed = .setPolicies(policies)
        case "expect_log":
            var body = try require(&reader, action)
            let contains = try requiredString(&body, "contains")
            let level = try body.string("level")
            let absent = try body.bool("absent") ?? false
            try body.finish()
            parsed = .expectLog(LogExpectation(contains: contains, level: level, absent: absent))
        default:
            var node: String?
            if let object = try reader.object(action) {
                var body = object
                node = try nodeName(&body, nodes)
                try body.finish()
            } else if let flag = reader.fields[action], flag != .bool(true) {
                throw reader.error(action, "must be true or an object with \"node\"")
            }
            parsed = .reload(node: node)
        }
        if action != "request" {
            for extra in ["expect", "repeat", "concurrent"] where reader.fields[extra] != nil {
                throw reader.error(extra, "belongs to request steps only")
            }
        }
        try reader.finish()
        return ScenarioStep(index: index, name: givenName ?? summary(action, parsed), action: parsed)
    }

    private static func summary(_ action: String, _ parsed: StepAction) -> String {
        switch parsed {
        case .writeKey(let write): return "\(action) \(write.key)"
        case .deleteKey(let key, _, _): return "delete_key \(key)"
        case .request(let spec, _, let count, _): return "\(spec.method) \(spec.path)" + (count > 1 ? " ×\(count)" : "")
        case .advance(let seconds): return "advance \(Int(seconds)) s"
        case .store(let fault): return "store \(fault)"
        case .expectSession(let expectation): return "expect_session \(expectation.key)"
        case .expectLog(let expectation): return "expect_log \"\(expectation.contains)\""
        case .reload: return "reload"
        case .setPolicies(let policies): return "set_policies " + (policies.objectValue?.keys.sorted().joined(separator: ", ") ?? "")
        }
    }

    private static func require(_ reader: inout FieldReader, _ name: String) throws -> FieldReader {
        guard let body = try reader.object(name) else { throw reader.error(name, "must be an object") }
        return body
    }

    private static func requiredString(_ reader: inout FieldReader, _ name: String) throws -> String {
        guard let text = try reader.string(name), !text.isEmpty else { throw reader.error(name, "is required") }
        return text
    }

    private static func nodeName(_ reader: inout FieldReader, _ nodes: [String]) throws -> String? {
        guard let node = try reader.string("node") else { return nil }
        guard nodes.contains(node) else { throw reader.error("node", "names '\(node)', but the scenario's nodes are \(nodes.joined(separator: ", "))") }
        return node
    }

    private static func channel(_ reader: inout FieldReader, allowed: [KeyChannel]) throws -> KeyChannel {
        let text = try reader.string("via") ?? "admin"
        guard let via = KeyChannel(rawValue: text), allowed.contains(via) else {
            throw reader.error("via", "must be one of \(allowed.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")), got \"\(text)\"")
        }
        return via
    }

    private static func keyWrite(_ reader: inout FieldReader, _ action: String, isUpdate: Bool, nodes: [String]) throws -> KeyWrite {
        var body = try require(&reader, action)
        let key = try requiredString(&body, "key")
        guard let session = body.raw("session"), case .object = session else {
            throw body.error("session", "is required and must be a session object")
        }
        let via = try channel(&body, allowed: [.admin, .store])
        let suppressReset = try body.bool("suppress_reset") ?? false
        if suppressReset && via != .admin { throw body.error("suppress_reset", "applies to writes through the admin API only") }
        let node = try nodeName(&body, nodes)
        try body.finish()
        return KeyWrite(key: key, session: session, via: via, isUpdate: isUpdate, suppressReset: suppressReset, node: node)
    }

    private static func request(_ reader: inout FieldReader, nodes: [String]) throws -> StepAction {
        var body = try require(&reader, "request")
        let method = (try body.string("method") ?? "GET").uppercased()
        let path = try requiredString(&body, "path")
        guard path.hasPrefix("/") else { throw body.error("path", "must start with /, got \"\(path)\"") }
        var headers: [(String, String)] = []
        if let object = try body.object("headers") {
            for (name, value) in object.fields.sorted(by: { $0.key < $1.key }) {
                guard case .string(let text) = value else { throw object.error(name, "must be a string, got \(value.typeDescription)") }
                headers.append((name, text))
            }
        }
        let text: String
        switch body.raw("body") {
        case nil: text = ""
        case .string(let given)?: text = given
        case let other?: text = other.jsonString()
        }
        let node = try nodeName(&body, nodes)
        try body.finish()
        let expectation = try responseExpectation(&reader)
        let count = try reader.int("repeat")
        let concurrent = try reader.int("concurrent")
        if count != nil && concurrent != nil { throw reader.error("concurrent", "cannot be combined with repeat") }
        let times = Int(concurrent ?? count ?? 1)
        guard (1...1000).contains(times) else { throw reader.error(concurrent != nil ? "concurrent" : "repeat", "must be between 1 and 1000") }
        return .request(RequestSpec(method: method, path: path, headers: headers, body: text, node: node),
                        expectation, count: times, concurrent: concurrent != nil)
    }

    private static func responseExpectation(_ reader: inout FieldReader) throws -> ResponseExpectation {
        var result = ResponseExpectation()
        guard var body = try reader.object("expect") else { return result }
        if let status = body.raw("status") {
            if case .int(let code) = status, !(100...599).contains(code) { throw body.error("status", "must be an HTTP status, got \(code)") }
            do {
                let matcher = try ValueMatcher.parse(status)
                if case .equals(let literal) = matcher, case .int = literal {} else if case .equals = matcher {
                    throw body.error("status", "must be an HTTP status or a matcher such as {\"$gte\": 500}, got \(status.typeDescription)")
                }
                result.status = matcher
            } catch let error as MatcherSyntaxError {
                throw body.error("status", error.description)
            }
        }
        result.body = try body.string("body")
        switch body.raw("body_contains") {
        case nil: break
        case .string(let text)?: result.bodyContains = [text]
        case .array?: result.bodyContains = try body.stringArray("body_contains") ?? []
        case let other?: throw body.error("body_contains", "must be a string or an array of strings, got \(other.typeDescription)")
        }
        result.json = try matchers(&body, "json")
        result.headers = try matchers(&body, "headers")
        try body.finish()
        return result
    }

    private static func matchers(_ reader: inout FieldReader, _ name: String) throws -> [(String, ValueMatcher)] {
        guard let object = try reader.object(name) else { return [] }
        return try object.fields.sorted(by: { $0.key < $1.key }).map { path, value in
            do {
                return (path, try ValueMatcher.parse(value))
            } catch let error as MatcherSyntaxError {
                throw object.error(path, error.description)
            }
        }
    }

    private static func duration(_ reader: inout FieldReader, _ name: String) throws -> Double {
        let value = reader.raw(name)
        let seconds: Double?
        switch value {
        case .int(let number)?: seconds = Double(number)
        case .double(let number)?: seconds = number
        case .string(let text)?: seconds = TemplateContext.Duration.seconds(text)
        default: seconds = nil
        }
        guard let seconds, seconds >= 0 else {
            throw reader.error(name, "must be a number of seconds or a duration such as \"90s\", \"15m\", \"24h\", \"2d\"")
        }
        return seconds
    }

    private static func storeFault(_ reader: inout FieldReader) throws -> StoreFault {
        switch reader.raw("store") {
        case .string("down")?: return .down
        case .string("up")?: return .up
        case .object?:
            guard var body = try reader.object("store") else { break }
            guard let latency = body.raw("latency") else { throw body.error("latency", "is required") }
            let seconds: Double?
            switch latency {
            case .int(let number): seconds = Double(number)
            case .double(let number): seconds = number
            case .string(let text): seconds = TemplateContext.Duration.seconds(text)
            default: seconds = nil
            }
            guard let seconds, seconds >= 0, seconds <= 30 else { throw body.error("latency", "must be a duration up to 30 s, such as \"300ms\"") }
            try body.finish()
            return .latency(seconds: seconds)
        default: break
        }
        throw reader.error("store", "must be \"down\", \"up\" or {\"latency\": \"300ms\"}")
    }

    private static func sessionExpectation(_ reader: inout FieldReader, nodes: [String]) throws -> SessionExpectation {
        var body = try require(&reader, "expect_session")
        let key = try requiredString(&body, "key")
        let via = try channel(&body, allowed: [.admin, .plugin, .store])
        let apiID = try body.string("api_id")
        let node = try nodeName(&body, nodes)
        let missing = try body.bool("missing") ?? false
        let fields = try matchers(&body, "fields")
        if missing && !fields.isEmpty { throw body.error("fields", "cannot be checked on a session that must be missing") }
        try body.finish()
        return SessionExpectation(key: key, via: via, apiID: apiID, node: node, missing: missing, fields: fields)
    }
}
