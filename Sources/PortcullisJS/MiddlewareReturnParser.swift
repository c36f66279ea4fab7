import PortcullisCore

/// Reads what `DoProcessRequest` returned without `JSONDecoder` or
/// `JSONSerialization`, which dominated the per-call cost: the JSON text
/// is read by ``JSONReader`` on its UTF-8 bytes. Types are as strict as
/// Tyk's Go structs and every error names the field path the plugin wrote.
enum MiddlewareReturnParser {
    struct Failure: Error {
        var reason: String
    }

    static func parse(_ text: String, handler: String) throws -> MiddlewareReturn {
        do {
            let parsed: JSONValue
            do {
                parsed = try JSONReader.parse(text)
            } catch {
                throw PluginError.invalidReturn(handler: handler, reason: "the result is not valid JSON: \(error)")
            }
            guard case .object(let root) = parsed else { throw Failure(reason: "the result must be an object") }
            var result = MiddlewareReturn()
            if let request = root["Request"], request != .null {
                result.request = try miniRequest(object(request, "Request"))
            }
            if let meta = root["SessionMeta"], meta != .null {
                result.sessionMeta = try stringMap(meta, "SessionMeta")
            }
            if let session = root["Session"], session != .null {
                guard case .object = session else {
                    throw Failure(reason: "Session: expected a session object, found \(session.kind)")
                }
                result.session = session
            }
            if let authValue = root["AuthValue"], authValue != .null {
                result.authValue = try string(authValue, "AuthValue")
            }
            return result
        } catch let failure as Failure {
            throw PluginError.invalidReturn(handler: handler, reason: failure.reason)
        }
    }

    private static func miniRequest(_ o: [String: JSONValue]) throws -> MiniRequest {
        func field<T>(_ key: String, _ read: (JSONValue, String) throws -> T, _ fallback: T) throws -> T {
            guard let value = o[key], value != .null else { return fallback }
            return try read(value, "Request.\(key)")
        }
        var overrides = ReturnOverrides()
        if let value = o["ReturnOverrides"], value != .null {
            let r = try object(value, "Request.ReturnOverrides")
            func sub<T>(_ key: String, _ read: (JSONValue, String) throws -> T, _ fallback: T) throws -> T {
                guard let value = r[key], value != .null else { return fallback }
                return try read(value, "Request.ReturnOverrides.\(key)")
            }
            overrides = ReturnOverrides(
                responseCode: try sub("ResponseCode", integer, 0), responseError: try sub("ResponseError", string, ""),
                responseBody: try sub("ResponseBody", string, ""), responseHeaders: try sub("ResponseHeaders", stringMap, [:]),
                overrideError: try sub("OverrideError", boolean, false))
        }
        return MiniRequest(
            headers: try field("Headers", listMap, [:]), setHeaders: try field("SetHeaders", stringMap, [:]),
            deleteHeaders: try field("DeleteHeaders", stringList, []), body: try field("Body", string, ""),
            url: try field("URL", string, ""), params: try field("Params", listMap, [:]),
            addParams: try field("AddParams", stringMap, [:]), extendedParams: try field("ExtendedParams", listMap, [:]),
            deleteParams: try field("DeleteParams", stringList, []), returnOverrides: overrides,
            ignoreBody: try field("IgnoreBody", boolean, false), method: try field("Method", string, ""),
            requestURI: try field("RequestURI", string, ""), scheme: try field("Scheme", string, ""))
    }

    private static func object(_ value: JSONValue, _ path: String) throws -> [String: JSONValue] {
        guard case .object(let object) = value else { throw Failure(reason: "\(path) must be an object, found \(value.kind)") }
        return object
    }

    private static func string(_ value: JSONValue, _ path: String) throws -> String {
        guard case .string(let text) = value else {
            throw Failure(reason: "\(path) must be a string (Tyk decodes it into that type), found \(value.kind)")
        }
        return text
    }

    private static func integer(_ value: JSONValue, _ path: String) throws -> Int {
        guard case .int(let number) = value, let exact = Int(exactly: number) else {
            throw Failure(reason: "\(path) must be an integer (Tyk decodes it into that type), found \(value.kind)")
        }
        return exact
    }

    private static func boolean(_ value: JSONValue, _ path: String) throws -> Bool {
        guard case .bool(let flag) = value else {
            throw Failure(reason: "\(path) must be true or false, found \(value.kind)")
        }
        return flag
    }

    private static func stringMap(_ value: JSONValue, _ path: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for (key, item) in try object(value, path) where item != .null {
            result[key] = try string(item, "\(path).\(key)")
        }
        return result
    }

    private static func stringList(_ value: JSONValue, _ path: String) throws -> [String] {
        guard case .array(let items) = value else {
            throw Failure(reason: "\(path) must be an array of strings, found \(value.kind)")
        }
        return try items.enumerated().map { try string($0.element, "\(path)[\($0.offset)]") }
    }

    private static func listMap(_ value: JSONValue, _ path: String) throws -> [String: [String]] {
        var result: [String: [String]] = [:]
        for (key, item) in try object(value, path) where item != .null {
            result[key] = try stringList(item, "\(path).\(key)")
        }
        return result
    }
}

private extension JSONValue {
    /// The JSON type as the messages name it (numbers are numbers).
    var kind: String {
        switch self {
        case .int, .double: return "a number"
        default: return typeDescription
        }
    }
}
