/// Why a configuration or API definition file was refused. Every case
/// names the file and, where there is one, the field.
public enum ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file could not be read.
    case unreadable(file: String, reason: String)
    /// The file is not JSON.
    case notJSON(file: String, reason: String)
    /// A field has the wrong type or an impossible value.
    case invalidField(file: String, field: String, reason: String)
    /// A required field is missing.
    case missingField(file: String, field: String)
    /// Two API definitions clash (same api_id or listen path).
    case conflict(file: String, reason: String)

    /// The file the error is about.
    public var file: String {
        switch self {
        case .unreadable(let file, _), .notJSON(let file, _), .invalidField(let file, _, _), .missingField(let file, _),
             .conflict(let file, _):
            return file
        }
    }

    public var description: String {
        switch self {
        case .unreadable(let file, let reason): return "\(file): cannot read: \(reason)"
        case .notJSON(let file, let reason): return "\(file): not valid JSON: \(reason)"
        case .invalidField(let file, let field, let reason): return "\(file): field \(field): \(reason)"
        case .missingField(let file, let field): return "\(file): field \(field) is required"
        case .conflict(let file, let reason): return "\(file): \(reason)"
        }
    }
}
