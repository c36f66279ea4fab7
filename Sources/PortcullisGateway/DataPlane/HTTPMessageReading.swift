import Glibc
import NIOCore

/// Why an HTTP/1.1 message could not be read.
enum HTTPFramingError: Error, CustomStringConvertible, Equatable {
    /// The bytes are not HTTP/1.1; says what was wrong.
    case malformed(String)
    /// The start line and fields did not end within the limit.
    case headTooLarge(limit: Int)
    /// The body is larger than the limit.
    case bodyTooLarge(limit: Int)

    var description: String {
        switch self {
        case .malformed(let reason): return "not valid HTTP/1.1: \(reason)"
        case .headTooLarge(let limit): return "a head over \(limit) bytes"
        case .bodyTooLarge(let limit): return "a body over \(limit) bytes"
        }
    }
}

/// The head of an HTTP/1.1 message as bytes: where it ends, its lines, and
/// its fields checked as RFC 9112 asks of a recipient.
enum HTTPHeadBytes {
    /// The length of the head at the start of `buffer`, up to and with the
    /// blank line that ends it; nil when the blank line has not arrived.
    /// Lines may end in CRLF or a bare LF.
    static func length(in buffer: ByteBuffer) -> Int? {
        buffer.withUnsafeReadableBytes { bytes -> Int? in
            var index = 0
            while let newline = HTTPHeadBytes.index(of: UInt8(ascii: "\n"), in: bytes, from: index) {
                let next = newline + 1
                if next < bytes.count && bytes[next] == UInt8(ascii: "\n") { return next + 1 }
                if next + 1 < bytes.count && bytes[next] == UInt8(ascii: "\r") && bytes[next + 1] == UInt8(ascii: "\n") {
                    return next + 2
                }
                index = next
            }
            return nil
        }
    }

    /// Reads the field lines that follow the start line, up to the blank
    /// line, and hands each name and value (without surrounding
    /// whitespace) to `visit`. A name that is not a token, a folded line
    /// or a control character in a value is refused: each could make two
    /// readers of one message disagree.
    static func readFields(_ lines: inout LineReader,
                           _ visit: (_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Void) throws {
        while let line = lines.next(), !line.isEmpty {
            guard line[0] != UInt8(ascii: " ") && line[0] != UInt8(ascii: "\t") else {
                throw HTTPFramingError.malformed("a header field is folded over two lines")
            }
            guard let colon = HTTPHeadBytes.index(of: UInt8(ascii: ":"), in: line, from: 0), colon > 0 else {
                throw HTTPFramingError.malformed("a header line has no field name")
            }
            let name = UnsafeRawBufferPointer(rebasing: line[0..<colon])
            guard name.allSatisfy(HeaderList.isTokenByte) else {
                throw HTTPFramingError.malformed("a header field name is not a token")
            }
            let value = trimmed(UnsafeRawBufferPointer(rebasing: line[(colon + 1)...]))
            guard !value.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }) else {
                throw HTTPFramingError.malformed("a header field value holds a control character")
            }
            try visit(name, value)
        }
    }

    /// The minor version of `HTTP/1.x` at the start of `bytes`.
    static func minorVersion(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard bytes.count >= 8, startsWith(bytes, "HTTP/1."), (0x30...0x39).contains(bytes[7]) else { return nil }
        return Int(bytes[7] - 0x30)
    }

    static func equalsLowercase(_ bytes: UnsafeRawBufferPointer, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        return lowercase.withUTF8Buffer { expected in
            for index in 0..<expected.count {
                let byte = bytes[index]
                let folded = byte >= 0x41 && byte <= 0x5A ? byte + 32 : byte
                if folded != expected[index] { return false }
            }
            return true
        }
    }

    static func startsWith(_ bytes: UnsafeRawBufferPointer, _ prefix: StaticString) -> Bool {
        prefix.withUTF8Buffer { expected in
            bytes.count >= expected.count && zip(bytes, expected).allSatisfy { $0 == $1 }
        }
    }

    static func trimmed(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var start = 0
        var end = bytes.count
        while start < end && (bytes[start] == 0x20 || bytes[start] == 0x09) { start += 1 }
        while end > start && (bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09) { end -= 1 }
        return UnsafeRawBufferPointer(rebasing: bytes[start..<end])
    }

    static func text(_ bytes: UnsafeRawBufferPointer) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    /// The index of the first `byte` in `bytes` at or after `start`, found
    /// by `memchr`: the generic search went byte by byte through a slice,
    /// a few hundred instructions for every line of every head.
    static func index(of byte: UInt8, in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard start < bytes.count, let base = bytes.baseAddress else { return nil }
        guard let found = memchr(base + start, Int32(byte), bytes.count - start) else { return nil }
        return base.distance(to: UnsafeRawPointer(found))
    }
}

/// What a message's head says about framing its body and about its
/// connection: the `Content-Length`, `Transfer-Encoding` and `Connection`
/// fields, read the same way for requests and answers.
struct MessageFraming {
    /// The three fields this reads.
    enum Field { case connection, contentLength, transferEncoding }

    /// The length every `Content-Length` field gave (they must agree).
    private(set) var contentLength: Int?
    /// Whether any `Transfer-Encoding` field was present.
    private(set) var transferEncoded = false
    /// Whether the last transfer coding is `chunked`.
    private(set) var chunked = false
    private var closes = false
    private var keepsAlive = false

    /// Reads `value` when `name` is one of the three fields, and says which;
    /// nil for any other field. Throws for a length that is not a number or
    /// disagrees with an earlier one.
    mutating func read(_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Field? {
        // Most names have a length none of the three has.
        switch name.count {
        case 10 where HTTPHeadBytes.equalsLowercase(name, "connection"):
            var start = 0
            while start <= value.count {
                let end = HTTPHeadBytes.index(of: UInt8(ascii: ","), in: value, from: start) ?? value.count
                let option = HTTPHeadBytes.trimmed(UnsafeRawBufferPointer(rebasing: value[start..<end]))
                if HTTPHeadBytes.equalsLowercase(option, "close") { closes = true }
                if HTTPHeadBytes.equalsLowercase(option, "keep-alive") { keepsAlive = true }
                start = end + 1
            }
            return .connection
        case 14 where HTTPHeadBytes.equalsLowercase(name, "content-length"):
            guard !value.isEmpty, value.count <= 18, value.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                throw HTTPFramingError.malformed("Content-Length is not a number")
            }
            let length = value.reduce(0) { $0 * 10 + Int($1 - 0x30) }
            guard contentLength == nil || contentLength == length else {
                throw HTTPFramingError.malformed("two different Content-Length fields")
            }
            contentLength = length
            return .contentLength
        case 17 where HTTPHeadBytes.equalsLowercase(name, "transfer-encoding"):
            // The last coding decides; chunked must be the last one.
            transferEncoded = true
            let last = value.lastIndex(of: UInt8(ascii: ",")).map { value.index(after: $0) } ?? 0
            chunked = HTTPHeadBytes.equalsLowercase(HTTPHeadBytes.trimmed(UnsafeRawBufferPointer(rebasing: value[last...])), "chunked")
            return .transferEncoding
        default:
            return nil
        }
    }

    /// Whether the connection stays open after this message: unless it
    /// says `close`; for HTTP/1.0 only when it says `keep-alive`.
    func keepAlive(minorVersion: Int) -> Bool {
        !closes && (minorVersion >= 1 || keepsAlive)
    }
}

/// The lines of a head, each without its CRLF (or bare LF).
struct LineReader {
    private let bytes: UnsafeRawBufferPointer
    private var index = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    mutating func next() -> UnsafeRawBufferPointer? {
        guard index < bytes.count else { return nil }
        let newline = HTTPHeadBytes.index(of: UInt8(ascii: "\n"), in: bytes, from: index) ?? bytes.count
        var end = newline
        if end > index && bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        let line = UnsafeRawBufferPointer(rebasing: bytes[index..<end])
        index = newline + 1
        return line
    }
}

/// Reads a message body framed one of the ways HTTP/1.1 frames bodies,
/// as its bytes arrive. A body that arrives in one read is kept as a slice
/// of it, uncopied.
struct HTTPBodyReader {
    /// How the body's end is known.
    enum Framing {
        /// `Content-Length`.
        case length(Int)
        /// Chunked transfer coding; trailer fields are read and dropped.
        case chunked
        /// The connection's close (an answer only).
        case untilClose
    }

    private enum State {
        case fixed(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkEnd
        case trailers(read: Int)
        case untilClose
        case done
    }

    /// The longest chunk-size line (with its extensions).
    private static let chunkLineLimit = 4 << 10

    private var state: State
    private let limit: Int
    private let trailerLimit: Int
    /// The body read so far.
    private(set) var body: ByteBuffer?

    /// A reader for a body framed by `framing`; bodies over `limit` bytes
    /// and trailers over `trailerLimit` fail.
    init(_ framing: Framing, limit: Int, trailerLimit: Int) throws {
        self.limit = limit
        self.trailerLimit = trailerLimit
        switch framing {
        case .length(let length):
            guard length <= limit else { throw HTTPFramingError.bodyTooLarge(limit: limit) }
            state = length == 0 ? .done : .fixed(remaining: length)
        case .chunked: state = .chunkSize
        case .untilClose: state = .untilClose
        }
    }

    /// Whether the body is whole.
    var isComplete: Bool {
        if case .done = state { return true }
        return false
    }

    /// Whether only the connection's close ends the body.
    var endsAtClose: Bool {
        if case .untilClose = state { return true }
        return false
    }

    /// Takes what it can of the body from `buffer`. Returns true once the
    /// body is whole; bytes after it, or a line not whole yet, stay in
    /// `buffer`.
    mutating func read(_ buffer: inout ByteBuffer) throws -> Bool {
        while true {
            switch state {
            case .fixed(let remaining):
                let taken = try take(upTo: remaining, from: &buffer)
                guard taken == remaining else {
                    state = .fixed(remaining: remaining - taken)
                    return false
                }
                state = .done
            case .chunkSize:
                guard let size = try Self.line(from: &buffer, limit: Self.chunkLineLimit, Self.chunkSize) else { return false }
                guard size > 0 else {
                    state = .trailers(read: 0)
                    continue
                }
                guard (body?.readableBytes ?? 0) + size <= limit else { throw HTTPFramingError.bodyTooLarge(limit: limit) }
                state = .chunkData(remaining: size)
            case .chunkData(let remaining):
                let taken = try take(upTo: remaining, from: &buffer)
                guard taken == remaining else {
                    state = .chunkData(remaining: remaining - taken)
                    return false
                }
                state = .chunkEnd
            case .chunkEnd:
                guard let empty = try Self.line(from: &buffer, limit: 2, { $0.isEmpty }) else { return false }
                guard empty else { throw HTTPFramingError.malformed("a chunk is longer than its size says") }
                state = .chunkSize
            case .trailers(let read):
                let before = buffer.readableBytes
                guard let empty = try Self.line(from: &buffer, limit: trailerLimit - read, { $0.isEmpty }) else { return false }
                state = empty ? .done : .trailers(read: read + before - buffer.readableBytes)
            case .untilClose:
                _ = try take(upTo: Int.max, from: &buffer)
                return false
            case .done:
                return true
            }
        }
    }

    /// Moves up to `count` body bytes from `buffer` to the body; returns
    /// how many it moved.
    private mutating func take(upTo count: Int, from buffer: inout ByteBuffer) throws -> Int {
        let taken = min(count, buffer.readableBytes)
        guard taken > 0, let part = buffer.readSlice(length: taken) else { return 0 }
        guard (body?.readableBytes ?? 0) + taken <= limit else { throw HTTPFramingError.bodyTooLarge(limit: limit) }
        if body == nil {
            body = part
        } else {
            body?.writeImmutableBuffer(part)
        }
        return taken
    }

    /// Reads one line (without its line break) and hands it to `read`; nil
    /// when the line is not whole yet (its bytes stay in `buffer`).
    private static func line<T>(from buffer: inout ByteBuffer, limit: Int,
                                _ read: (UnsafeRawBufferPointer) throws -> T) throws -> T? {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            guard buffer.readableBytes <= limit else { throw HTTPFramingError.malformed("a line is over \(max(limit, 0)) bytes") }
            return nil
        }
        let length = newline - buffer.readerIndex
        let value = try buffer.withUnsafeReadableBytes { bytes in
            var end = length
            if end > 0 && bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            return try read(UnsafeRawBufferPointer(rebasing: bytes[0..<end]))
        }
        buffer.moveReaderIndex(forwardBy: length + 1)
        return value
    }

    /// A chunk-size line: hex digits, then nothing, or extensions after `;`.
    private static func chunkSize(_ line: UnsafeRawBufferPointer) throws -> Int {
        var size = 0
        var digits = 0
        for byte in line {
            let value: Int
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = Int(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = Int(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = Int(byte - UInt8(ascii: "A") + 10)
            case UInt8(ascii: ";"), UInt8(ascii: " "), UInt8(ascii: "\t"):
                guard digits > 0 else { throw HTTPFramingError.malformed("a chunk size is missing") }
                return size
            default:
                throw HTTPFramingError.malformed("a chunk size is not hexadecimal")
            }
            digits += 1
            guard digits <= 15 else { throw HTTPFramingError.malformed("a chunk size is too large") }
            size = size << 4 | value
        }
        guard digits > 0 else { throw HTTPFramingError.malformed("a chunk size is missing") }
        return size
    }
}
