import NIOHTTP1

/// HTTP headers in order, with case-insensitive lookup and Go's canonical
/// names (`x-api-key` → `X-Api-Key`) where Tyk shows canonical names.
///
/// Stored as NIO's `HTTPHeaders`, so headers read off a connection reach
/// the stages, and the upstream's headers reach the client, without a copy.
public struct HeaderList: Sendable, Equatable, Sequence {
    /// The headers as NIO holds them.
    public private(set) var storage: HTTPHeaders

    /// Creates a list.
    public init(_ fields: [(String, String)] = []) {
        storage = HTTPHeaders(fields)
    }

    /// Wraps NIO's headers, in order, without copying them.
    public init(_ headers: HTTPHeaders) {
        storage = headers
    }

    /// The headers in order.
    public var fields: [(name: String, value: String)] {
        storage.map { (name: $0.name, value: $0.value) }
    }

    /// Whether there are none.
    public var isEmpty: Bool { storage.isEmpty }

    public func makeIterator() -> HTTPHeaders.Iterator { storage.makeIterator() }

    public static func == (lhs: HeaderList, rhs: HeaderList) -> Bool {
        lhs.storage.elementsEqual(rhs.storage) { $0.name == $1.name && $0.value == $1.value }
    }

    /// The first value of `name`.
    public func first(_ name: String) -> String? {
        storage.first(name: name)
    }

    /// Adds a value.
    public mutating func add(_ name: String, _ value: String) {
        storage.add(name: name, value: value)
    }

    /// Replaces every value of `name` with one.
    public mutating func set(_ name: String, _ value: String) {
        remove(name)
        add(name, value)
    }

    /// Removes every value of `name`.
    public mutating func remove(_ name: String) {
        storage.remove(name: name)
    }

    /// ASCII case-insensitive equality without allocating.
    static func equalsASCIICaseInsensitive(_ value: String, _ lowercased: String) -> Bool {
        guard value.utf8.count == lowercased.utf8.count else { return false }
        let compared = value.utf8.withContiguousStorageIfAvailable { left in
            lowercased.utf8.withContiguousStorageIfAvailable { right -> Bool in
                for index in 0..<left.count {
                    let a = left[index], b = right[index]
                    if a != b && !(a >= 65 && a <= 90 && a + 32 == b) { return false }
                }
                return true
            }
        }
        if let compared, let result = compared { return result }
        return zip(value.utf8, lowercased.utf8).allSatisfy { a, b in
            a == b || (a >= 65 && a <= 90 && a + 32 == b)
        }
    }

    /// `{Canonical-Name: [values]}`, as plugins see `request.Headers`.
    public func grouped() -> [String: [String]] {
        var result: [String: [String]] = [:]
        for field in storage { result[Self.canonical(field.name), default: []].append(field.value) }
        return result
    }

    /// Go's canonical MIME header name (`textproto.CanonicalMIMEHeaderKey`):
    /// the first letter and every letter after a `-` upper case, the rest
    /// lower case; a name with a byte that is not a token character is
    /// returned as it is. A name already canonical is returned without a copy.
    public static func canonical(_ name: String) -> String {
        var upper = true
        var changes = false
        for byte in name.utf8 {
            guard isTokenByte(byte) else { return name }
            if upper && byte >= 0x61 && byte <= 0x7A { changes = true }
            if !upper && byte >= 0x41 && byte <= 0x5A { changes = true }
            upper = byte == 0x2D
        }
        guard changes else { return name }
        var bytes = Array(name.utf8)
        upper = true
        for index in bytes.indices {
            let byte = bytes[index]
            if upper && byte >= 0x61 && byte <= 0x7A { bytes[index] = byte - 32 }
            if !upper && byte >= 0x41 && byte <= 0x5A { bytes[index] = byte + 32 }
            upper = byte == 0x2D
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether `name` is an RFC 9110 token (one or more `tchar`s): what a
    /// header field name must be.
    static func isToken(_ name: String) -> Bool {
        guard !name.isEmpty else { return false }
        // Every field of every message passes here: scan the stored bytes
        // directly when the string has them (native strings do).
        if let result = name.utf8.withContiguousStorageIfAvailable({ bytes in
            for byte in bytes where !isTokenByte(byte) { return false }
            return true
        }) {
            return result
        }
        return name.utf8.allSatisfy(isTokenByte)
    }

    /// RFC 7230 `tchar`.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
             UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
             UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"): return true
        default: return false
        }
    }

    /// Refuses header injection: names must be tokens, values must not break lines.
    public static func isSafe(name: String, value: String) -> Bool {
        guard isToken(name) else { return false }
        return !value.contains("\r") && !value.contains("\n") && !value.contains("\0")
    }
}
