import NIOCore

/// Why bytes from the server are not valid RESP2. After one of these the
/// connection is out of step and must be closed.
public enum RESPParseError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A value starts with a byte that is not a RESP2 type marker.
    case unknownType(byte: UInt8)
    /// A length or integer line is not a number.
    case badNumber(String)
    /// A line is not ended by CRLF where one must be.
    case missingCRLF
    /// A header line is longer than the limit without a CRLF.
    case lineTooLong(limit: Int)
    /// A bulk string or array is larger than the limit.
    case tooLarge(length: Int, limit: Int)
    /// Arrays nest deeper than the limit.
    case tooDeep(limit: Int)

    /// A one-line explanation for logs and error responses.
    public var description: String {
        switch self {
        case .unknownType(let byte): return "unexpected byte 0x\(String(byte, radix: 16)) where a RESP value should start"
        case .badNumber(let text): return "'\(text.prefix(32))' is not a valid RESP length or integer"
        case .missingCRLF: return "a RESP value is not terminated by CRLF"
        case .lineTooLong(let limit): return "a RESP line is longer than \(limit) bytes"
        case .tooLarge(let length, let limit): return "a RESP value of \(length) is larger than the limit \(limit)"
        case .tooDeep(let limit): return "RESP arrays nest deeper than \(limit)"
        }
    }
}

/// An incremental RESP2 parser: feed it whatever bytes have arrived; it
/// returns complete values and leaves partial ones in the buffer for the
/// next call. Garbage makes it throw ``RESPParseError``; it never traps,
/// and limits bound the memory a hostile server can make it reserve.
public struct RESPParser: Sendable {
    /// Longest simple-string, error or length line accepted.
    public var maxLineLength: Int
    /// Largest bulk string accepted, in bytes.
    public var maxBulkLength: Int
    /// Most elements accepted in one array.
    public var maxArrayCount: Int
    /// Deepest array nesting accepted.
    public var maxDepth: Int

    /// Creates a parser with the given limits.
    public init(maxLineLength: Int = 64 * 1024, maxBulkLength: Int = 64 * 1024 * 1024, maxArrayCount: Int = 1_048_576, maxDepth: Int = 16) {
        self.maxLineLength = maxLineLength
        self.maxBulkLength = maxBulkLength
        self.maxArrayCount = maxArrayCount
        self.maxDepth = maxDepth
    }

    /// Takes one complete value off the front of `buffer`, or returns nil
    /// (consuming nothing) when more bytes are needed.
    public func parse(_ buffer: inout ByteBuffer) throws -> RESPValue? {
        var copy = buffer
        guard let value = try parseValue(&copy, depth: 0) else { return nil }
        buffer = copy
        return value
    }

    private func parseValue(_ buffer: inout ByteBuffer, depth: Int) throws -> RESPValue? {
        guard let marker = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
        switch marker {
        case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: "$"), UInt8(ascii: "*"):
            break
        default:
            throw RESPParseError.unknownType(byte: marker)
        }
        var cursor = buffer
        cursor.moveReaderIndex(forwardBy: 1)
        guard let line = try readLine(&cursor) else { return nil }
        switch marker {
        case UInt8(ascii: "+"):
            buffer = cursor
            return .simpleString(line)
        case UInt8(ascii: "-"):
            buffer = cursor
            return .error(line)
        case UInt8(ascii: ":"):
            guard let number = Int64(line) else { throw RESPParseError.badNumber(line) }
            buffer = cursor
            return .integer(number)
        case UInt8(ascii: "$"):
            guard let length = Int(line), length >= -1 else { throw RESPParseError.badNumber(line) }
            if length == -1 {
                buffer = cursor
                return .bulkString(nil)
            }
            guard length <= maxBulkLength else { throw RESPParseError.tooLarge(length: length, limit: maxBulkLength) }
            guard cursor.readableBytes >= length + 2 else { return nil }
            guard let bytes = cursor.readBytes(length: length) else { return nil }
            guard cursor.readInteger(as: UInt8.self) == UInt8(ascii: "\r"),
                  cursor.readInteger(as: UInt8.self) == UInt8(ascii: "\n")
            else { throw RESPParseError.missingCRLF }
            buffer = cursor
            return .bulkString(bytes)
        default:
            guard let count = Int(line), count >= -1 else { throw RESPParseError.badNumber(line) }
            if count == -1 {
                buffer = cursor
                return .array(nil)
            }
            guard count <= maxArrayCount else { throw RESPParseError.tooLarge(length: count, limit: maxArrayCount) }
            guard depth < maxDepth else { throw RESPParseError.tooDeep(limit: maxDepth) }
            var items: [RESPValue] = []
            items.reserveCapacity(min(count, 1024))
            for _ in 0..<count {
                guard let item = try parseValue(&cursor, depth: depth + 1) else { return nil }
                items.append(item)
            }
            buffer = cursor
            return .array(items)
        }
    }

    /// Reads up to CRLF; nil when the CRLF has not arrived yet.
    private func readLine(_ buffer: inout ByteBuffer) throws -> String? {
        let view = buffer.readableBytesView
        guard let cr = view.firstIndex(of: UInt8(ascii: "\r")) else {
            if view.count > maxLineLength { throw RESPParseError.lineTooLong(limit: maxLineLength) }
            return nil
        }
        let length = cr - view.startIndex
        if length > maxLineLength { throw RESPParseError.lineTooLong(limit: maxLineLength) }
        guard view.count > length + 1 else { return nil }
        guard view[cr + 1] == UInt8(ascii: "\n") else { throw RESPParseError.missingCRLF }
        guard let line = buffer.readString(length: length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 2)
        return line
    }
}
