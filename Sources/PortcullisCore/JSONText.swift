import Foundation

/// A JSON reader and writer for ``JSONValue`` that works on UTF-8 bytes
/// directly. Sessions cross it on every request (store reads, plugin
/// bindings), and it costs a fraction of Codable's round trip.
///
/// Reading follows RFC 8259, refuses trailing text and nesting deeper
/// than ``JSONReader/maxDepth``, and keeps integers apart from numbers with
/// a fraction: `5` and `5.0` and `1.7e9` become `.int` (they are exact
/// integers), `5.5` becomes `.double`. Writing is compact, with keys sorted by their UTF-8 bytes
/// and `/` left unescaped.
public struct JSONReader {
    /// Deepest nesting accepted; deeper input is refused, not a stack overflow.
    public static let maxDepth = 512

    private let bytes: [UInt8]
    private var index = 0

    private init(_ text: String) {
        bytes = Array(text.utf8)
    }

    /// Parses a complete JSON text.
    public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        var reader = JSONReader(text)
        reader.skipSpace()
        let value = try reader.value(depth: 0)
        reader.skipSpace()
        guard reader.index == reader.bytes.count else { throw reader.failure("unexpected text after the JSON value") }
        return value
    }

    /// What a complete JSON text holds at its top level, for
    /// ``parseMembers(_:)``.
    public enum TopLevel {
        /// An object: its members in text order, a repeated name as often
        /// as it occurs.
        case object([(name: String, value: JSONValue)])
        /// Any other value.
        case other(JSONValue)
    }

    /// Parses a complete JSON text like ``parse(_:)``, but leaves a
    /// top-level object as its list of members instead of hashing them
    /// into a dictionary: a decoder that assigns each field to a typed
    /// property (a session, on every plugin write) reads them once, in
    /// order, and never builds or searches the table.
    public static func parseMembers(_ text: String) throws(JSONParseError) -> TopLevel {
        var reader = JSONReader(text)
        reader.skipSpace()
        guard reader.index < reader.bytes.count, reader.bytes[reader.index] == UInt8(ascii: "{") else {
            return .other(try parse(text))
        }
        let fields = try reader.objectMembers(depth: 1)
        reader.skipSpace()
        guard reader.index == reader.bytes.count else { throw reader.failure("unexpected text after the JSON value") }
        return .object(fields)
    }

    private func failure(_ reason: String) -> JSONParseError {
        var line = 1
        var column = 1
        for byte in bytes[0..<min(index, bytes.count)] {
            if byte == UInt8(ascii: "\n") { line += 1; column = 1 } else { column += 1 }
        }
        return JSONParseError(reason: reason, offset: index, line: line, column: column)
    }

    private mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func value(depth: Int) throws(JSONParseError) -> JSONValue {
        guard index < bytes.count else { throw failure("the text ends where a value should start") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw failure("unexpected character \(Self.show(bytes[index]))")
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONParseError) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw failure("the text ends inside a literal") }
        let matches = word.withUTF8Buffer { expected in
            (0..<count).allSatisfy { bytes[index + $0] == expected[$0] }
        }
        guard matches else { throw failure("unexpected character \(Self.show(bytes[index]))") }
        index += count
    }

    private mutating func object(depth: Int) throws(JSONParseError) -> JSONValue {
        // Fields are gathered first and hashed once into a table of the
        // right size; growing a dictionary field by field rehashes it
        // several times for a session's thirty-odd fields.
        let fields = try objectMembers(depth: depth)
        // A repeated name keeps its last value, as before.
        return .object(Dictionary(fields.lazy.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last }))
    }

    /// The members of the object whose `{` is at the reading position, in
    /// text order, up to and past its `}`.
    private mutating func objectMembers(depth: Int) throws(JSONParseError) -> [(name: String, value: JSONValue)] {
        guard depth <= Self.maxDepth else { throw failure("nesting deeper than \(Self.maxDepth) levels") }
        index += 1
        var fields: [(name: String, value: JSONValue)] = []
        try members(of: .object) { reader throws(JSONParseError) in
            let key = try reader.fieldName()
            // Room for a typical object at the first member: growing one
            // slot at a time reallocated six times for a session.
            if fields.isEmpty { fields.reserveCapacity(8) }
            fields.append((key, try reader.value(depth: depth)))
        }
        return fields
    }

    /// The two kinds of container, for ``members(of:_:)``.
    private enum Container {
        case object, array

        var close: UInt8 { self == .object ? UInt8(ascii: "}") : UInt8(ascii: "]") }
        var name: String { self == .object ? "an object" : "an array" }
    }

    /// Reads the members of the container whose opening bracket was just
    /// passed, up to and past its closing one: `member` reads one member
    /// (for an object its name, `:` and value); the separators, spaces and
    /// the end are checked here, for parsing and skipping alike.
    @inline(__always)
    private mutating func members(of container: Container,
                                  _ member: (inout JSONReader) throws(JSONParseError) -> Void) throws(JSONParseError) {
        skipSpace()
        if index < bytes.count, bytes[index] == container.close {
            index += 1
            return
        }
        while true {
            skipSpace()
            try member(&self)
            skipSpace()
            guard index < bytes.count else { throw failure("the text ends inside \(container.name)") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == container.close { index += 1; return }
            throw failure("expected ',' or '\(Character(Unicode.Scalar(container.close)))' in \(container.name)")
        }
    }

    /// A quoted field name and the `:` after it.
    private mutating func fieldName() throws(JSONParseError) -> String {
        try expectFieldName()
        let key = try string()
        try colon()
        return key
    }

    /// Steps over a field name and its `:`, telling whether the name is
    /// `wanted`, without making a string of a name that has no escapes.
    private mutating func fieldName(is wanted: String?) throws(JSONParseError) -> Bool {
        try expectFieldName()
        let start = index
        let matches: Bool
        if let raw = try skipString() {
            matches = wanted.map { bytes[raw].elementsEqual($0.utf8) } ?? false
        } else {
            index = start
            let name = try string()
            matches = name == wanted
        }
        try colon()
        return matches
    }

    private func expectFieldName() throws(JSONParseError) {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw failure("expected a quoted field name") }
    }

    private mutating func colon() throws(JSONParseError) {
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw failure("expected ':' after the field name") }
        index += 1
        skipSpace()
    }

    /// Steps over a string with the checks ``string()`` makes; the range of
    /// its content when it holds no escape, nil when it does (the
    /// escapes were checked by ``string()`` itself).
    private mutating func skipString() throws(JSONParseError) -> Range<Int>? {
        let start = index
        index += 1
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return (start + 1)..<(index - 1)
            }
            if byte == UInt8(ascii: "\\") {
                index = start
                _ = try string()
                return nil
            }
            guard byte >= 0x20 else { throw failure("a control character must be escaped inside a string") }
            index += 1
        }
        throw failure("the text ends inside a string")
    }

    /// The value of one top-level field of a JSON object, read without
    /// building the rest: for callers that need one field of a stored
    /// session (its `expires`) and not the session. nil when the text is
    /// not a well-formed object or has no such field; a repeated name
    /// gives its last value, as ``parse(_:)`` does.
    public static func topLevelField(_ name: String, in text: String) -> JSONValue? {
        var reader = JSONReader(text)
        reader.skipSpace()
        guard reader.index < reader.bytes.count, reader.bytes[reader.index] == UInt8(ascii: "{") else { return nil }
        reader.index += 1
        var found: JSONValue?
        do {
            try reader.members(of: .object) { reader throws(JSONParseError) in
                if try reader.fieldName(is: name) {
                    found = try reader.value(depth: 1)
                } else {
                    try reader.skipValue(depth: 1)
                }
            }
        } catch {
            return nil
        }
        reader.skipSpace()
        return reader.index == reader.bytes.count ? found : nil
    }

    /// Steps over one value, checking its shape but making nothing of it.
    private mutating func skipValue(depth: Int) throws(JSONParseError) {
        guard index < bytes.count else { throw failure("the text ends where a value should start") }
        switch bytes[index] {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            guard depth < Self.maxDepth else { throw failure("nesting deeper than \(Self.maxDepth) levels") }
            let container: Container = bytes[index] == UInt8(ascii: "{") ? .object : .array
            index += 1
            try members(of: container) { reader throws(JSONParseError) in
                if container == .object { _ = try reader.fieldName(is: nil) }
                try reader.skipValue(depth: depth + 1)
            }
        case UInt8(ascii: "\""):
            // Escapes get the parser's own checks, so a text this skip
            // accepts is one parse(_:) accepts too.
            _ = try skipString()
        default:
            _ = try value(depth: depth)
        }
    }

    private mutating func array(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= Self.maxDepth else { throw failure("nesting deeper than \(Self.maxDepth) levels") }
        index += 1
        var items: [JSONValue] = []
        try members(of: .array) { reader throws(JSONParseError) in
            items.append(try reader.value(depth: depth))
        }
        return .array(items)
    }

    private mutating func string() throws(JSONParseError) -> String {
        index += 1
        let start = index
        // Fast path: no escapes.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = String(decoding: bytes[start..<index], as: UTF8.self)
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            guard byte >= 0x20 else { throw failure("a control character must be escaped inside a string") }
            index += 1
        }
        var scalars: [UInt8] = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return String(decoding: scalars, as: UTF8.self)
            }
            guard byte >= 0x20 else { throw failure("a control character must be escaped inside a string") }
            if byte != UInt8(ascii: "\\") {
                scalars.append(byte)
                index += 1
                continue
            }
            index += 1
            guard index < bytes.count else { break }
            let escape = bytes[index]
            index += 1
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scalars.append(escape)
            case UInt8(ascii: "b"): scalars.append(0x08)
            case UInt8(ascii: "f"): scalars.append(0x0C)
            case UInt8(ascii: "n"): scalars.append(0x0A)
            case UInt8(ascii: "r"): scalars.append(0x0D)
            case UInt8(ascii: "t"): scalars.append(0x09)
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xD800...0xDBFF).contains(code) {
                    guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                        throw failure("a high surrogate must be followed by a low surrogate")
                    }
                    index += 2
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw failure("a high surrogate must be followed by a low surrogate") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(code) {
                    throw failure("a lone low surrogate")
                }
                guard let scalar = Unicode.Scalar(code) else { throw failure("an invalid \\u escape") }
                scalars.append(contentsOf: Array(String(Character(scalar)).utf8))
            default:
                index -= 1
                throw failure("an invalid escape \\\(Self.show(escape))")
            }
        }
        throw failure("the text ends inside a string")
    }

    private mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw failure("the text ends inside a \\u escape") }
        var code: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("a \\u escape needs four hex digits")
            }
            code = code << 4 | UInt32(digit)
            index += 1
        }
        return code
    }

    private mutating func number() throws(JSONParseError) -> JSONValue {
        let start = index
        let negative = bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        guard index < bytes.count, Self.isDigit(bytes[index]) else { throw failure("a number needs digits") }
        let digitsStart = index
        // The integer part's value, exact while it has at most 18 digits.
        var magnitude: Int64 = 0
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < bytes.count, Self.isDigit(bytes[index]) { throw failure("a number may not have leading zeros") }
        } else {
            while index < bytes.count, Self.isDigit(bytes[index]) {
                magnitude = magnitude &* 10 &+ Int64(bytes[index] &- UInt8(ascii: "0"))
                index += 1
            }
        }
        // A plain integer that surely fits (nearly every number in a
        // session) is read without a string or a general parser.
        if index - digitsStart <= 18, index == bytes.count || !Self.continuesNumber(bytes[index]) {
            return .int(negative ? -magnitude : magnitude)
        }
        var integral = true
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            integral = false
            index += 1
            guard index < bytes.count, Self.isDigit(bytes[index]) else { throw failure("a fraction needs digits") }
            while index < bytes.count, Self.isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            integral = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, Self.isDigit(bytes[index]) else { throw failure("an exponent needs digits") }
            while index < bytes.count, Self.isDigit(bytes[index]) { index += 1 }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if integral, let value = Int64(text) { return .int(value) }
        guard let number = Double(text), number.isFinite else {
            index = start
            throw failure("the number \(text) is out of range")
        }
        if number == number.rounded(), abs(number) < 9.2e18 { return .int(Int64(number)) }
        return .double(number)
    }

    /// Whether `byte` after an integer part makes the number a fraction or
    /// gives it an exponent.
    private static func continuesNumber(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private static func show(_ byte: UInt8) -> String {
        byte >= 0x20 && byte < 0x7F ? "'\(Character(Unicode.Scalar(byte)))'" : String(format: "0x%02X", byte)
    }
}

/// Why JSON text could not be read, and where.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was wrong.
    public let reason: String
    /// Byte offset in the UTF-8 text.
    public let offset: Int
    /// 1-based line.
    public let line: Int
    /// 1-based column (in bytes).
    public let column: Int

    public var description: String { "\(reason) at line \(line), column \(column)" }
}

extension JSONValue {
    /// Appends this value as compact JSON with sorted keys.
    public func write(into out: inout JSONOutput) {
        switch self {
        case .null: out.literal("null")
        case .bool(let flag): out.literal(flag ? "true" : "false")
        case .int(let number): out.integer(number)
        case .double(let number):
            guard number.isFinite else {
                out.literal("null")
                return
            }
            if number == number.rounded(), abs(number) < 1e15 {
                out.integer(Int64(number))
            } else {
                out.raw("\(number)")
            }
        case .string(let text): out.string(text)
        case .array(let items):
            out.byte(UInt8(ascii: "["))
            for (offset, item) in items.enumerated() {
                if offset > 0 { out.byte(UInt8(ascii: ",")) }
                item.write(into: &out)
            }
            out.byte(UInt8(ascii: "]"))
        case .object(let fields):
            out.object(fields) { out, value in value.write(into: &out) }
        }
    }
}

/// Strings ordered by their UTF-8 bytes, as Go sorts map keys: a total
/// order that does not depend on Unicode normalisation, compared with
/// `memcmp` on the strings' storage.
public enum ByteOrder {
    public static func precedes(_ a: String, _ b: String) -> Bool {
        let fast = a.utf8.withContiguousStorageIfAvailable { left in
            b.utf8.withContiguousStorageIfAvailable { right -> Bool in
                let shared = min(left.count, right.count)
                if shared > 0, let l = left.baseAddress, let r = right.baseAddress {
                    let order = memcmp(l, r, shared)
                    if order != 0 { return order < 0 }
                }
                return left.count < right.count
            }
        }
        if let fast, let result = fast { return result }
        return a.utf8.lexicographicallyPrecedes(b.utf8)
    }
}
