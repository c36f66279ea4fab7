import Foundation
import PortcullisCore

/// Reads what `DoProcessRequest` returned without `JSONDecoder`, which
/// dominated the per-call cost. Types are as strict as Tyk's Go structs and
/// every error names the field path the plugin wrote.
enum MiddlewareReturnParser {
    struct Failure: Error {
        var reason: String
    }

    static func parse(_ text: String, handler: String) throws -> MiddlewareReturn {
        do {
            guard let root = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                throw Failure(reason: "the result must be an object")
            }
            var result = MiddlewareReturn()
            if let request = root["Request"], !(request is NSNull) {
                result.request = try miniRequest(object(request, "Request"))
            }
            if let meta = root["SessionMeta"], !(meta is NSNull) {
                result.sessionMeta = try stringMap(meta, "SessionMeta")
            }
            if let session = root["Session"], !(session is NSNull) {
                guard JSONSerialization.isValidJSONObject(session), session is [String: Any] else {
                    throw Failure(reason: "Session: expected a session object, found \(kind(session))")
                }
                let data = try JSONSerialization.data(withJSONObject: session)
                result.session = try JSONDecoder().decode(JSONValue.self, from: data)
            }
            if let authValue = root["AuthValue"], !(authValue is NSNull) {
                result.authValue = try string(authValue, "AuthValue")
            }
            return result
        } catch let failure as Failure {
            throw PluginError.invalidReturn(handler: handler, reason: failure.reason)
        } catch let error as PluginError {
            throw error
        } catch {
            throw PluginError.invalidReturn(handler: handler, reason: "the result is not valid JSON: \(error)")
        }
    }

    private static func miniRequest(_ o: [String: Any]) throws -> MiniRequest {
        func field<T>(_ key: String, _ read: (Any, String) throws -> T, _ fallback: T) throws -> T {
            guard let value = o[key], !(value is NSNull) else { return fallback }
            return try read(value, "Request.\(key)")
        }
        var overrides = ReturnOverrides()
        if let value = o["ReturnOverrides"], !(value is NSNull) {
            let r = try object(value, "Request.ReturnOverrides")
            func sub<T>(_ key: String, _ read: (Any, String) throws -> T, _ fallback: T) throws -> T {
                guard let value = r[key], !(value is NSNull) else { return fallback }
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

    private static func kind(_ value: Any) -> String {
        switch value {
        case is NSNull: return "null"
        case is String: return "a string"
        case is [Any]: return "an array"
        case is [String: Any]: return "an object"
        case _ where isBoolean(value): return "a boolean"
        case is NSNumber: return "a number"
        default: return "\(type(of: value))"
        }
    }

    private static func isBoolean(_ value: Any) -> Bool {
        // JSONSerialization gives booleans as NSNumber with the `c` type code.
        guard let number = value as? NSNumber else { return false }
        return String(cString: number.objCType) == "c"
    }

    private static func object(_ value: Any, _ path: String) throws -> [String: Any] {
        guard let object = value as? [String: Any] else { throw Failure(reason: "\(path) must be an object, found \(kind(value))") }
        return object
    }

    private static func string(_ value: Any, _ path: String) throws -> String {
        guard let text = value as? String, !(value is NSNumber) else {
            throw Failure(reason: "\(path) must be a string (Tyk decodes it into that type), found \(kind(value))")
        }
        return text
    }

    private static func integer(_ value: Any, _ path: String) throws -> Int {
        guard let number = value as? NSNumber, !isBoolean(value), let exact = Int(exactly: number.doubleValue) else {
            throw Failure(reason: "\(path) must be an integer (Tyk decodes it into that type), found \(kind(value))")
        }
        return exact
    }

    private static func boolean(_ value: Any, _ path: String) throws -> Bool {
        guard isBoolean(value), let flag = value as? Bool else {
            throw Failure(reason: "\(path) must be true or false, found \(kind(value))")
        }
        return flag
    }

    private static func stringMap(_ value: Any, _ path: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for (key, item) in try object(value, path) {
            guard !(item is NSNull) else { continue }
            result[key] = try string(item, "\(path).\(key)")
        }
        return result
    }

    private static func stringList(_ value: Any, _ path: String) throws -> [String] {
        guard let items = value as? [Any] else { throw Failure(reason: "\(path) must be an array of strings, found \(kind(value))") }
        return try items.enumerated().map { try string($0.element, "\(path)[\($0.offset)]") }
    }

    private static func listMap(_ value: Any, _ path: String) throws -> [String: [String]] {
        var result: [String: [String]] = [:]
        for (key, item) in try object(value, path) {
            guard !(item is NSNull) else { continue }
            result[key] = try stringList(item, "\(path).\(key)")
        }
        return result
    }
}
