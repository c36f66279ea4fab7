/// Why a session JSON document was refused. Every case names the field (as
/// a dotted path such as `access_rights.api1.versions`) and what was wrong,
/// so a plugin author sees exactly which part of their `TykSetKeyData` call
/// to fix. Nothing is written when decoding fails.
public enum SessionDecodingError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The text is not JSON at all.
    case notJSON(reason: String)
    /// The top level is valid JSON but not an object.
    case notAnObject(found: String)
    /// A field holds the wrong JSON type.
    case wrongType(field: String, expected: String, found: String)
    /// An integer field holds a number with a fraction (Tyk's Go decoder
    /// refuses these too, e.g. `expires: Date.now()/1000`).
    case notAnInteger(field: String, expected: String, value: Double)

    /// A one-line explanation for logs and error responses.
    public var description: String {
        switch self {
        case .notJSON(let reason):
            return "session is not valid JSON: \(reason)"
        case .notAnObject(let found):
            return "session must be a JSON object, got \(found)"
        case .wrongType(let field, let expected, let found):
            return "field '\(field)' must be \(expected), got \(found)"
        case .notAnInteger(let field, let expected, let value):
            return "field '\(field)' must be \(expected), got \(Self.format(value))"
        }
    }

    private static func format(_ value: Double) -> String {
        if value.isFinite, value == value.rounded(), abs(value) < 1e15 {
            return String(Int64(value))
        }
        return String(value)
    }
}
