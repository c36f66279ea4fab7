/// Why a fixture file was refused. Every case names the file and, where
/// there is one, the dotted path of the field, so a typo cannot silently
/// weaken a test: it stops the run instead.
public enum PluginFixtureError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file or folder cannot be read.
    case unreadable(file: String)
    /// The folder holds no `*.json` fixture files.
    case noFixtures(path: String)
    /// The file is not JSON.
    case notJSON(file: String, reason: String)
    /// A field name the format does not define (often a typo).
    case unknownField(file: String, field: String, known: [String])
    /// A required field is missing.
    case missingField(file: String, field: String)
    /// A field holds the wrong kind of JSON value.
    case wrongType(file: String, field: String, expected: String, found: String)
    /// A field has the right type but a value that cannot be used.
    case invalidValue(file: String, field: String, reason: String)

    /// The file the error is about.
    public var file: String {
        switch self {
        case .unreadable(let file), .notJSON(let file, _), .unknownField(let file, _, _), .missingField(let file, _),
             .wrongType(let file, _, _, _), .invalidValue(let file, _, _):
            return file
        case .noFixtures(let path):
            return path
        }
    }

    /// A one-line message naming the file and field.
    public var description: String {
        switch self {
        case .unreadable(let file):
            return "\(file): cannot read the file"
        case .noFixtures(let path):
            return "\(path): no fixture files (*.json) found"
        case .notJSON(let file, let reason):
            return "\(file): not valid JSON: \(reason)"
        case .unknownField(let file, let field, let known):
            return "\(file): field '\(field)' is not a known field; known fields: \(known.joined(separator: ", "))"
        case .missingField(let file, let field):
            return "\(file): field '\(field)' is required"
        case .wrongType(let file, let field, let expected, let found):
            return "\(file): field '\(field)' must be \(expected), found \(found)"
        case .invalidValue(let file, let field, let reason):
            return "\(file): field '\(field)' \(reason)"
        }
    }
}
