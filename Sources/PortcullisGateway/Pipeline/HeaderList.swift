import NIOHTTP1

/// HTTP headers in order, with case-insensitive lookup and Go's canonical
/// names (`x-api-key` → `X-Api-Key`) where Tyk shows canonical names.
public struct HeaderList: Sendable, Equatable, Sequence {
    /// The headers in order.
    public private(set) var fields: [(name: String, value: String)] = []

    /// Creates a list.
    public init(_ fields: [(String, String)] = []) {
        self.fields = fields.map { (name: $0.0, value: $0.1) }
    }

    /// Copies NIO's headers, in order.
    public init(_ headers: HTTPHeaders) {
        fields.reserveCapacity(headers.count)
        for (name, value) in headers { fields.append((name: name, value: value)) }
    }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { fields.makeIterator() }

    public static func == (lhs: HeaderList, rhs: HeaderList) -> Bool {
        lhs.fields.map { [$0.name, $0.value] } == rhs.fields.map { [$0.name, $0.value] }
    }

    /// The first value of `name`.
    public func first(_ name: String) -> String? {
        let lowered = name.lowercased()
        return fields.first { $0.name.lowercased() == lowered }?.value
    }

    /// Adds a value.
    public mutating func add(_ name: String, _ value: String) {
        fields.append((name: name, value: value))
    }

    /// Replaces every value of `name` with one.
    public mutating func set(_ name: String, _ value: String) {
        remove(name)
        add(name, value)
    }

    /// Removes every value of `name`.
    public mutating func remove(_ name: String) {
        let lowered = name.lowercased()
        fields.removeAll { $0.name.lowercased() == lowered }
    }

    /// `{Canonical-Name: [values]}`, as plugins see `request.Headers`.
    public func grouped() -> [String: [String]] {
        var result: [String: [String]] = [:]
        for field in fields { result[Self.canonical(field.name), default: []].append(field.value) }
        return result
    }

    /// Go's canonical MIME header name.
    public static func canonical(_ name: String) -> String {
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else { return name }
        return name.split(separator: "-", omittingEmptySubsequences: false)
            .map { $0.prefix(1).uppercased() + $0.dropFirst().lowercased() }
            .joined(separator: "-")
    }

    /// Refuses header injection: names must be tokens, values must not break lines.
    public static func isSafe(name: String, value: String) -> Bool {
        let tokenCharacters = Set("!#$%&'*+-.^_`|~")
        guard !name.isEmpty, name.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || tokenCharacters.contains(Character($0))) }) else {
            return false
        }
        return !value.contains("\r") && !value.contains("\n") && !value.contains("\0")
    }
}
