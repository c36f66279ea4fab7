import PortcullisCore

/// Reads typed fields out of a JSON object, remembering which keys it used
/// so the rest can be kept as unknown fields. A `null` reads as the field's
/// zero value, as Go's decoder does.
struct JSONFieldReader {
    private var remaining: [String: JSONValue]
    private let path: String

    /// Reads `object`; `path` prefixes field names in errors ("" at top level).
    init(_ object: [String: JSONValue], path: String = "") {
        self.remaining = object
        self.path = path
    }

    /// Fields not read yet.
    var unread: [String: JSONValue] { remaining }

    private func name(_ field: String) -> String {
        path.isEmpty ? field : "\(path).\(field)"
    }

    private mutating func take(_ field: String) -> JSONValue? {
        guard let value = remaining.removeValue(forKey: field) else { return nil }
        if case .null = value { return nil }
        return value
    }

    /// An integer field; `meaning` describes it in errors ("an integer number of seconds").
    mutating func int(_ field: String, meaning: String = "an integer") throws -> Int64 {
        guard let value = take(field) else { return 0 }
        return try Self.int(value, field: name(field), meaning: meaning)
    }

    /// A number field (integers accepted).
    mutating func double(_ field: String) throws -> Double {
        guard let value = take(field) else { return 0 }
        return try Self.double(value, field: name(field))
    }

    /// A string field.
    mutating func string(_ field: String) throws -> String {
        guard let value = take(field) else { return "" }
        return try Self.string(value, field: name(field))
    }

    /// A boolean field.
    mutating func bool(_ field: String) throws -> Bool {
        guard let value = take(field) else { return false }
        return try Self.bool(value, field: name(field))
    }

    /// An array of strings.
    mutating func strings(_ field: String) throws -> [String] {
        guard let value = take(field) else { return [] }
        return try Self.strings(value, field: name(field))
    }

    /// An object field, returned as its members.
    mutating func object(_ field: String) throws -> [String: JSONValue] {
        guard let value = take(field) else { return [:] }
        return try Self.object(value, field: name(field))
    }

    /// A field kept as raw JSON after checking its shape: `allowed` is the
    /// one type description it may have ("an object"), `nil` allows any.
    mutating func raw(_ field: String, default fallback: JSONValue, allowed: String? = nil) throws -> JSONValue {
        guard let value = remaining.removeValue(forKey: field) else { return fallback }
        return try Self.raw(value, field: name(field), allowed: allowed)
    }

    // MARK: One value, already taken

    // The conversions below read a present, non-null value; `field` is the
    // full name errors show, made only when there is an error (a nested
    // field's name is a string built from its path). Decoders that walk the
    // members themselves (`SessionState(jsonText:)`) use them directly.

    static func int(_ value: JSONValue, field: @autoclosure () -> String, meaning: String = "an integer") throws -> Int64 {
        switch value {
        case .int(let i): return i
        case .double(let d):
            if d == d.rounded(), abs(d) < 9.2e18 { return Int64(d) }
            throw SessionDecodingError.notAnInteger(field: field(), expected: meaning, value: d)
        default:
            throw SessionDecodingError.wrongType(field: field(), expected: meaning, found: value.typeDescription)
        }
    }

    static func double(_ value: JSONValue, field: @autoclosure () -> String) throws -> Double {
        switch value {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default:
            throw SessionDecodingError.wrongType(field: field(), expected: "a number", found: value.typeDescription)
        }
    }

    static func string(_ value: JSONValue, field: @autoclosure () -> String) throws -> String {
        guard case .string(let s) = value else {
            throw SessionDecodingError.wrongType(field: field(), expected: "a string", found: value.typeDescription)
        }
        return s
    }

    static func bool(_ value: JSONValue, field: @autoclosure () -> String) throws -> Bool {
        guard case .bool(let b) = value else {
            throw SessionDecodingError.wrongType(field: field(), expected: "a boolean", found: value.typeDescription)
        }
        return b
    }

    static func strings(_ value: JSONValue, field: @autoclosure () -> String) throws -> [String] {
        guard case .array(let items) = value else {
            throw SessionDecodingError.wrongType(field: field(), expected: "an array of strings", found: value.typeDescription)
        }
        return try items.enumerated().map { index, item in
            guard case .string(let s) = item else {
                throw SessionDecodingError.wrongType(field: "\(field())[\(index)]", expected: "a string", found: item.typeDescription)
            }
            return s
        }
    }

    static func object(_ value: JSONValue, field: @autoclosure () -> String) throws -> [String: JSONValue] {
        guard case .object(let o) = value else {
            throw SessionDecodingError.wrongType(field: field(), expected: "an object", found: value.typeDescription)
        }
        return o
    }

    /// A raw field's value (null kept as null) after the shape check.
    static func raw(_ value: JSONValue, field: @autoclosure () -> String, allowed: String?) throws -> JSONValue {
        if case .null = value { return .null }
        if let allowed, value.typeDescription != allowed {
            throw SessionDecodingError.wrongType(field: field(), expected: allowed, found: value.typeDescription)
        }
        return value
    }
}
