import PortcullisCore

/// A check on one value: a literal (`5`, `"text"`) or an object of
/// operators (`{"$gte": "{{now+3500}}"}`, `{"$contains": "renew"}`,
/// `{"$exists": false}`, `{"$one_of": [200, 304]}`). Templates in the
/// expected values are resolved when the check runs.
public indirect enum ValueMatcher: Sendable {
    case equals(JSONValue)
    case greaterOrEqual(JSONValue)
    case greater(JSONValue)
    case lessOrEqual(JSONValue)
    case less(JSONValue)
    case contains(String)
    case exists(Bool)
    case oneOf([JSONValue])
    case all([ValueMatcher])

    /// Operator names a matcher object may use.
    static let operators = ["$eq", "$gte", "$gt", "$lte", "$lt", "$contains", "$exists", "$one_of"]

    /// Reads a literal or an operator object; throws a message naming the bad operator.
    static func parse(_ value: JSONValue) throws(MatcherSyntaxError) -> ValueMatcher {
        guard case .object(let fields) = value, !fields.isEmpty, fields.keys.allSatisfy({ $0.hasPrefix("$") }) else {
            return .equals(value)
        }
        var parts: [ValueMatcher] = []
        for (op, operand) in fields.sorted(by: { $0.key < $1.key }) {
            switch op {
            case "$eq": parts.append(.equals(operand))
            case "$gte": parts.append(.greaterOrEqual(operand))
            case "$gt": parts.append(.greater(operand))
            case "$lte": parts.append(.lessOrEqual(operand))
            case "$lt": parts.append(.less(operand))
            case "$contains":
                guard case .string(let text) = operand else { throw MatcherSyntaxError("$contains needs a string") }
                parts.append(.contains(text))
            case "$exists":
                guard case .bool(let flag) = operand else { throw MatcherSyntaxError("$exists needs true or false") }
                parts.append(.exists(flag))
            case "$one_of":
                guard case .array(let options) = operand else { throw MatcherSyntaxError("$one_of needs an array") }
                parts.append(.oneOf(options))
            default:
                throw MatcherSyntaxError("unknown operator '\(op)'; use one of \(operators.joined(separator: ", "))")
            }
        }
        return parts.count == 1 ? parts[0] : .all(parts)
    }

    /// nil when `actual` (nil: absent) satisfies the matcher, otherwise
    /// "expected …, got …".
    func mismatch(_ actual: JSONValue?, templates: TemplateContext) -> String? {
        let got = actual.map(Self.show) ?? "nothing (absent)"
        switch self {
        case .all(let parts):
            return parts.lazy.compactMap { $0.mismatch(actual, templates: templates) }.first
        case .exists(let wanted):
            return (actual != nil) == wanted ? nil : "expected the value to \(wanted ? "exist" : "be absent"), got \(got)"
        case .equals(let raw):
            let expected = templates.resolve(raw)
            guard let actual, Self.same(actual, expected) else { return "expected \(Self.show(expected)), got \(got)" }
            return nil
        case .oneOf(let raws):
            let options = raws.map(templates.resolve)
            guard let actual, options.contains(where: { Self.same(actual, $0) }) else {
                return "expected one of \(options.map(Self.show).joined(separator: ", ")), got \(got)"
            }
            return nil
        case .contains(let text):
            let needle = templates.resolveText(text)
            guard let actual, Self.text(actual).contains(needle) else { return "expected text containing \(Self.show(.string(needle))), got \(got)" }
            return nil
        case .greaterOrEqual(let raw): return compare(actual, raw, "≥", templates) { $0 >= $1 }
        case .greater(let raw): return compare(actual, raw, ">", templates) { $0 > $1 }
        case .lessOrEqual(let raw): return compare(actual, raw, "≤", templates) { $0 <= $1 }
        case .less(let raw): return compare(actual, raw, "<", templates) { $0 < $1 }
        }
    }

    private func compare(_ actual: JSONValue?, _ raw: JSONValue, _ symbol: String, _ templates: TemplateContext,
                         _ holds: (Double, Double) -> Bool) -> String? {
        let expected = templates.resolve(raw)
        guard let bound = Self.number(expected) else { return "the bound \(Self.show(expected)) is not a number" }
        guard let actual, let value = Self.number(actual) else {
            return "expected a number \(symbol) \(Self.show(expected)), got \(actual.map(Self.show) ?? "nothing (absent)")"
        }
        return holds(value, bound) ? nil : "expected \(symbol) \(Self.show(expected)), got \(Self.show(actual))"
    }

    /// Equality that treats 5, 5.0 and "5" (a header value) alike.
    static func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if let x = number(a), let y = number(b) { return x == y }
        switch (a, b) {
        case (.string(let x), .string(let y)): return x == y
        case (.bool(let x), .bool(let y)): return x == y
        case (.null, .null): return true
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case (.object(let x), .object(let y)):
            return x.count == y.count && x.allSatisfy { key, value in y[key].map { same(value, $0) } ?? false }
        default: return false
        }
    }

    static func number(_ value: JSONValue) -> Double? {
        switch value {
        case .int(let i): return Double(i)
        case .double(let d): return d
        case .string(let s): return Double(s.trimmingCharacters(in: .whitespaces))
        default: return nil
        }
    }

    static func text(_ value: JSONValue) -> String {
        if case .string(let s) = value { return s }
        return value.jsonString()
    }

    static func show(_ value: JSONValue) -> String {
        let text = value.jsonString()
        return text.count > 300 ? String(text.prefix(300)) + "…" : text
    }

    /// The value at a dotted path (`meta_data.tier`, `access_rights.forum-api.api_id`, `items.0`).
    static func lookup(_ path: String, in root: JSONValue) -> JSONValue? {
        var current: JSONValue? = root
        for part in path.split(separator: ".", omittingEmptySubsequences: false).map(String.init) {
            switch current {
            case .object(let fields)?: current = fields[part]
            case .array(let items)?:
                guard let index = Int(part), items.indices.contains(index) else { return nil }
                current = items[index]
            default: return nil
            }
        }
        return current
    }
}

/// A matcher written wrongly.
public struct MatcherSyntaxError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
