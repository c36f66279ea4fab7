import Foundation
import PortcullisCore

/// What `DoProcessRequest` hands back: `ReturnData` / `ReturnAuthData` output
/// (read by ``MiddlewareReturnParser``).
struct MiddlewareReturn {
    var request: MiniRequest?
    var sessionMeta: [String: String]?
    var session: JSONValue?
    var authValue: String?
}

/// What `DoProcessResponse` hands back: `ReturnResponseData` output.
struct ResponseReturn: Decodable {
    var response: MiniResponse

    enum CodingKeys: String, CodingKey { case response = "Response" }
}

/// What a virtual endpoint hands back through `TykJsResponse`.
struct VirtualEndpointReturn: Decodable {
    struct Response: Decodable {
        var body: String
        var headers: [String: String]
        var code: Int

        enum CodingKeys: String, CodingKey { case body = "Body", headers = "Headers", code = "Code" }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            body = try c.decodeIfPresent(String.self, forKey: .body) ?? ""
            headers = try c.decodeIfPresent([String: String].self, forKey: .headers) ?? [:]
            code = try c.decodeIfPresent(Int.self, forKey: .code) ?? 200
        }
    }

    var response: Response
    var sessionMeta: JSONValue?

    enum CodingKeys: String, CodingKey { case response = "Response", sessionMeta = "SessionMeta" }
}

/// The request object a virtual endpoint function receives: smaller than a
/// middleware's, with a plain-text body and form values in `Params`.
public struct VirtualEndpointRequest: Sendable, Equatable, Codable {
    /// Incoming headers, every value a list.
    public var headers: [String: [String]]
    /// The body as text.
    public var body: String
    /// Path and query.
    public var url: String
    /// Query and url-encoded form parameters.
    public var params: [String: [String]]
    /// `http` or `https`.
    public var scheme: String
    /// Client address and matched API (an extension; see ``RequestAttributes``).
    public var attributes = RequestAttributes()

    enum CodingKeys: String, CodingKey {
        case headers = "Headers", body = "Body", url = "URL", params = "Params", scheme = "Scheme"
        case remoteAddress = "RemoteAddr", host = "Host", apiID = "APIID", apiName = "APIName", listenPath = "ListenPath"
    }

    /// Reads a request fixture; missing fields take empty values.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        headers = try c.decodeIfPresent([String: [String]].self, forKey: .headers) ?? [:]
        body = try c.decodeIfPresent(String.self, forKey: .body) ?? ""
        url = try c.decodeIfPresent(String.self, forKey: .url) ?? "/"
        params = try c.decodeIfPresent([String: [String]].self, forKey: .params) ?? [:]
        scheme = try c.decodeIfPresent(String.self, forKey: .scheme) ?? "http"
        attributes = RequestAttributes(
            remoteAddress: try c.decodeIfPresent(String.self, forKey: .remoteAddress) ?? "",
            host: try c.decodeIfPresent(String.self, forKey: .host) ?? "",
            apiID: try c.decodeIfPresent(String.self, forKey: .apiID) ?? "",
            apiName: try c.decodeIfPresent(String.self, forKey: .apiName) ?? "",
            listenPath: try c.decodeIfPresent(String.self, forKey: .listenPath) ?? "")
    }

    /// Writes the object the function receives.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(headers, forKey: .headers)
        try c.encode(body, forKey: .body)
        try c.encode(url, forKey: .url)
        try c.encode(params, forKey: .params)
        try c.encode(scheme, forKey: .scheme)
        try c.encode(attributes.remoteAddress, forKey: .remoteAddress)
        try c.encode(attributes.host, forKey: .host)
        try c.encode(attributes.apiID, forKey: .apiID)
        try c.encode(attributes.apiName, forKey: .apiName)
        try c.encode(attributes.listenPath, forKey: .listenPath)
    }

    /// Creates a virtual endpoint request.
    public init(headers: [String: [String]] = [:], body: String = "", url: String = "/",
                params: [String: [String]] = [:], scheme: String = "http") {
        self.headers = headers
        self.body = body
        self.url = url
        self.params = params
        self.scheme = scheme
    }
}

/// Turns a handler's JSON result into Swift values, with errors that name
/// the offending field the way a plugin author wrote it.
enum ReturnDecoding {
    static func decode<T: Decodable>(_ type: T.Type, from text: String, handler: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch let error as DecodingError {
            throw PluginError.invalidReturn(handler: handler, reason: describe(error))
        } catch {
            throw PluginError.invalidReturn(handler: handler, reason: "\(error)")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let names = context.codingPath.map { key in key.intValue.map { "[\($0)]" } ?? key.stringValue }
            let joined = names.reduce("") { result, name in
                name.hasPrefix("[") || result.isEmpty ? result + name : result + "." + name
            }
            return joined.isEmpty ? "the result" : joined
        }
        switch error {
        case .typeMismatch(let type, let context):
            if context.debugDescription.hasPrefix("expected") { return "\(path(context)): \(context.debugDescription)" }
            return "\(path(context)) must be \(typeName(type)) (Tyk decodes it into that type)"
        case .valueNotFound(let type, let context):
            return "\(path(context)) must be \(typeName(type)), found null"
        case .keyNotFound(let key, let context):
            return "\(path(context)) is missing the field \(key.stringValue)"
        case .dataCorrupted(let context):
            return "\(path(context)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type: return "an integer"
        case is Bool.Type: return "a boolean"
        case is [String].Type: return "an array of strings"
        case is [String: String].Type: return "an object whose values are all strings"
        default:
            let name = String(describing: type)
            if name.hasPrefix("Dictionary") { return "an object" }
            if name.hasPrefix("Array") { return "an array" }
            return name
        }
    }
}
