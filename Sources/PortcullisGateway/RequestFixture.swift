import Foundation
import PortcullisCore
import PortcullisJS

/// Reads a request described in JSON — Tyk's request-object field names
/// (`Method`, `URL`, `Headers`, `Body`, …) — into a ``MiniRequest``.
/// Header values may be a string or a list; `Params` default to the URL's
/// query; `RequestURI` defaults to the URL.
public enum RequestFixture {
    /// Why a fixture was refused; names the file and field.
    public struct InvalidFixture: Error, CustomStringConvertible, Equatable {
        /// The fixture file.
        public var file: String
        /// What is wrong.
        public var reason: String

        /// Creates an error for `file`.
        public init(file: String, reason: String) {
            self.file = file
            self.reason = reason
        }

        public var description: String { "\(file): \(reason)" }
    }

    /// Parses a request fixture.
    public static func parse(_ text: String, file: String) throws -> MiniRequest {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: text)
        } catch {
            throw InvalidFixture(file: file, reason: "not valid JSON")
        }
        guard var object = value.objectValue else {
            throw InvalidFixture(file: file, reason: "the request must be a JSON object, found \(value.typeDescription)")
        }
        if let headers = object["Headers"], headers != .null {
            guard let map = headers.objectValue else {
                throw InvalidFixture(file: file, reason: "Headers must be an object")
            }
            var normalised: [String: JSONValue] = [:]
            for (name, item) in map {
                switch item {
                case .string: normalised[name] = .array([item])
                case .array: normalised[name] = item
                default: throw InvalidFixture(file: file, reason: "Headers.\(name) must be a string or a list of strings")
                }
            }
            object["Headers"] = .object(normalised)
        }
        let encoded = JSONValue.object(object).jsonString()
        var request: MiniRequest
        do {
            request = try JSONDecoder().decode(MiniRequest.self, from: Data(encoded.utf8))
        } catch let error as DecodingError {
            throw InvalidFixture(file: file, reason: FixtureDecoding.describe(error))
        }
        if request.url.isEmpty { request.url = "/" }
        if request.method.isEmpty { request.method = "GET" }
        if request.scheme.isEmpty { request.scheme = "http" }
        if request.requestURI.isEmpty { request.requestURI = request.url }
        if object["Params"] == nil { request.params = queryParameters(of: request.url) }
        return request
    }

    /// The query parameters of a path-and-query, as Go's `url.Query()` gives them.
    public static func queryParameters(of url: String) -> [String: [String]] {
        guard let mark = url.utf8.firstIndex(of: UInt8(ascii: "?")) else { return [:] }
        var query = url.utf8[url.utf8.index(after: mark)...]
        if let hash = query.firstIndex(of: UInt8(ascii: "#")) { query = query[..<hash] }
        return QueryString.parse(query)
    }
}

/// Formats decoding errors of fixture and config files with the field path.
enum FixtureDecoding {
    static func describe(_ error: DecodingError) -> String {
        let context: DecodingError.Context
        switch error {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): context = c
        case .keyNotFound(let key, let c):
            return "missing field \((c.codingPath + [key]).map(\.stringValue).joined(separator: "."))"
        @unknown default: return "\(error)"
        }
        let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        return "field \(path.isEmpty ? "(top level)" : path): \(context.debugDescription)"
    }
}
