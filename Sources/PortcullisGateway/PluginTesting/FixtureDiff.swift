import PortcullisCore

/// One expected field that did not match, with its dotted path
/// (`overrides.ResponseCode`, `session_writes.k1.expires`, `logs[0]`).
public struct FieldDifference: Sendable, Equatable, CustomStringConvertible {
    /// Where the field is in the fixture's `expect` object.
    public var path: String
    /// The expected value, as JSON text.
    public var expected: String
    /// What the plugin produced, as JSON text, or a note such as `(missing)`.
    public var actual: String

    /// Creates a difference.
    public init(path: String, expected: String, actual: String) {
        self.path = path
        self.expected = expected
        self.actual = actual
    }

    /// `path: - expected + actual`, the form the report prints.
    public var description: String { "\(path): - \(expected) + \(actual)" }
}

/// Subset matching of an expected JSON value against what a plugin produced.
///
/// - An expected object checks only the fields it names; a field expected
///   as `null` must be absent or null.
/// - Arrays must have the same length and match element by element.
/// - Numbers compare by value (`60` matches `60.0`); everything else must be equal.
public enum FixtureDiff {
    /// Shown as the actual value of a field the plugin's result does not have.
    public static let missing = "(missing)"

    /// The differences between `expected` and `actual` at `path`; empty when they match.
    public static func compare(expected: JSONValue, actual: JSONValue?, path: String) -> [FieldDifference] {
        switch expected {
        case .null:
            guard let actual, actual != .null else { return [] }
            return [FieldDifference(path: path, expected: "null", actual: actual.jsonString())]
        case .object(let fields):
            guard let actual else { return [FieldDifference(path: path, expected: expected.jsonString(), actual: missing)] }
            guard let actualFields = actual.objectValue else {
                return [FieldDifference(path: path, expected: expected.jsonString(), actual: actual.jsonString())]
            }
            return fields.keys.sorted().flatMap { name in
                compare(expected: fields[name] ?? .null, actual: actualFields[name], path: join(path, name))
            }
        case .array(let items):
            guard case .array(let actualItems)? = actual, actualItems.count == items.count else {
                return [FieldDifference(path: path, expected: expected.jsonString(), actual: actual?.jsonString() ?? missing)]
            }
            return zip(items, actualItems).enumerated().flatMap { index, pair in
                compare(expected: pair.0, actual: pair.1, path: "\(path)[\(index)]")
            }
        default:
            guard let actual else { return [FieldDifference(path: path, expected: expected.jsonString(), actual: missing)] }
            if sameScalar(expected, actual) { return [] }
            return [FieldDifference(path: path, expected: expected.jsonString(), actual: actual.jsonString())]
        }
    }

    private static func join(_ path: String, _ name: String) -> String {
        path.isEmpty ? name : "\(path).\(name)"
    }

    private static func sameScalar(_ lhs: JSONValue, _ rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.int(let a), .double(let b)), (.double(let b), .int(let a)): return Double(a) == b
        default: return lhs == rhs
        }
    }
}
