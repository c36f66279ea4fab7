import NIOCore
import NIOHTTP1

/// Reads one upstream answer off its connection's bytes: the status line
/// and header fields, then a body framed by `Content-Length`, by chunked
/// transfer coding or by the connection's close (RFC 9112 §6.3).
///
/// Interim 1xx answers are skipped. The fields that describe the
/// connection or frame this message (`Connection`, `Keep-Alive`,
/// `Proxy-Authenticate`, `Proxy-Authorization`, `TE`, `Trailer`,
/// `Transfer-Encoding`, `Upgrade`, and `Content-Length` except in an
/// answer to HEAD) are dropped while the head is read, so the answer holds
/// only what goes on to the client, which gets a body framed by the gateway.
/// A body that arrives with its head is kept as a slice of the bytes read,
/// uncopied.
///
/// The gateway sends one request at a time on a connection, so bytes left
/// over after an answer mean the upstream broke the protocol: the answer
/// stands, the connection is not reused.
struct UpstreamResponseParser {
    /// Why an answer could not be read.
    enum Failure: Error, CustomStringConvertible {
        /// The bytes are not an HTTP/1.x answer; says what was wrong.
        case malformed(String)
        /// The status line and fields did not end within ``headLimit``.
        case headTooLarge(limit: Int)
        /// The body is larger than the exchange's limit.
        case bodyTooLarge(limit: Int)

        var description: String {
            switch self {
            case .malformed(let reason): return "the upstream's answer is not valid HTTP/1.1: \(reason)"
            case .headTooLarge(let limit): return "the upstream's answer head is over \(limit) bytes"
            case .bodyTooLarge(let limit): return "the upstream's answer body is over \(limit) bytes"
            }
        }
    }

    /// A whole answer, and whether its connection may carry another exchange.
    struct Completed {
        let answer: UpstreamAnswer
        let reusable: Bool
    }

    /// The longest head read (status line, fields, blank line), as NIO's
    /// decoder allowed.
    static let headLimit = 80 << 10
    /// The longest chunk-size line (with its extensions).
    private static let chunkLineLimit = 4 << 10

    private enum State {
        case head
        case fixed(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkEnd
        case trailers(read: Int)
        case untilClose
        case done
    }

    private let answersHead: Bool
    private let limit: Int
    private var state = State.head
    /// Bytes read but not yet taken: part of a head or of a line.
    private var pending: ByteBuffer?
    private var status = 0
    private var headers = HTTPHeaders()
    private var keepAlive = true
    private var body: ByteBuffer?
    /// Whether the final answer's head has been read.
    private(set) var sawHead = false

    /// A parser for the answer to one request; `answersHead` when the
    /// request was `HEAD` (no body follows, and `Content-Length` is kept:
    /// it is the length a GET would get). Bodies over `limit` bytes fail.
    init(answersHead: Bool, limit: Int) {
        self.answersHead = answersHead
        self.limit = limit
    }

    /// Takes the next bytes from the connection. Returns the answer once
    /// it is whole, nil while more bytes are needed.
    mutating func read(_ incoming: ByteBuffer) throws -> Completed? {
        var buffer: ByteBuffer
        if var held = pending {
            held.writeImmutableBuffer(incoming)
            buffer = held
            pending = nil
        } else {
            buffer = incoming
        }
        while true {
            switch state {
            case .head:
                guard let length = Self.headLength(in: buffer) else {
                    guard buffer.readableBytes <= Self.headLimit else { throw Failure.headTooLarge(limit: Self.headLimit) }
                    hold(buffer)
                    return nil
                }
                guard length <= Self.headLimit else { throw Failure.headTooLarge(limit: Self.headLimit) }
                let head = try buffer.withUnsafeReadableBytes { bytes throws in
                    try ParsedHead(UnsafeRawBufferPointer(rebasing: bytes[0..<length]), keepingLength: answersHead)
                }
                buffer.moveReaderIndex(forwardBy: length)
                if let completed = try begin(head, leftover: buffer.readableBytes) { return completed }
            case .fixed(let remaining):
                let taken = try take(upTo: remaining, from: &buffer)
                guard taken == remaining else {
                    state = .fixed(remaining: remaining - taken)
                    return nil
                }
                return finish(leftover: buffer.readableBytes)
            case .chunkSize:
                guard let size = try line(from: &buffer, limit: Self.chunkLineLimit, Self.chunkSize) else { return nil }
                guard size > 0 else {
                    state = .trailers(read: 0)
                    continue
                }
                guard (body?.readableBytes ?? 0) + size <= limit else { throw Failure.bodyTooLarge(limit: limit) }
                state = .chunkData(remaining: size)
            case .chunkData(let remaining):
                let taken = try take(upTo: remaining, from: &buffer)
                guard taken == remaining else {
                    state = .chunkData(remaining: remaining - taken)
                    return nil
                }
                state = .chunkEnd
            case .chunkEnd:
                guard let empty = try line(from: &buffer, limit: 2, { $0.isEmpty }) else { return nil }
                guard empty else { throw Failure.malformed("a chunk is longer than its size says") }
                state = .chunkSize
            case .trailers(let read):
                // Trailer fields are not passed on (the client's answer is
                // not chunked); only their end is looked for.
                let before = buffer.readableBytes
                guard let empty = try line(from: &buffer, limit: Self.headLimit - read, { $0.isEmpty }) else { return nil }
                guard empty else {
                    state = .trailers(read: read + before - buffer.readableBytes)
                    continue
                }
                return finish(leftover: buffer.readableBytes)
            case .untilClose:
                _ = try take(upTo: Int.max, from: &buffer)
                return nil
            case .done:
                return nil
            }
        }
    }

    /// The connection closed: ends a body framed by the close. Nil when
    /// the answer was not whole.
    mutating func readToClose() -> Completed? {
        guard case .untilClose = state else { return nil }
        keepAlive = false
        return finish(leftover: 0)
    }

    /// Starts the answer whose head was just read; returns it when it has
    /// no body.
    private mutating func begin(_ head: ParsedHead, leftover: Int) throws -> Completed? {
        // An interim answer (100 Continue, 103 Early Hints) is not the
        // answer; the final one follows on the same connection.
        if head.status < 200 && head.status != 101 { return nil }
        sawHead = true
        status = head.status
        headers = head.headers
        keepAlive = head.keepAlive
        if head.status == 101 {
            keepAlive = false
            return finish(leftover: leftover)
        }
        if answersHead || head.status == 204 || head.status == 304 { return finish(leftover: leftover) }
        if head.transferEncoded {
            // A length beside a transfer coding is ignored, and the
            // connection is not trusted with another exchange (§6.3).
            if head.contentLength != nil { keepAlive = false }
            if head.chunked {
                state = .chunkSize
            } else {
                keepAlive = false
                state = .untilClose
            }
            return nil
        }
        guard let length = head.contentLength else {
            keepAlive = false
            state = .untilClose
            return nil
        }
        guard length <= limit else { throw Failure.bodyTooLarge(limit: limit) }
        if length == 0 { return finish(leftover: leftover) }
        state = .fixed(remaining: length)
        return nil
    }

    private mutating func finish(leftover: Int) -> Completed {
        state = .done
        let answer = UpstreamAnswer(status: status, headers: headers, body: body ?? ByteBuffer())
        return Completed(answer: answer, reusable: keepAlive && leftover == 0)
    }

    /// Moves up to `count` body bytes from `buffer` to the body; returns
    /// how many it moved.
    private mutating func take(upTo count: Int, from buffer: inout ByteBuffer) throws -> Int {
        let taken = min(count, buffer.readableBytes)
        guard taken > 0, let part = buffer.readSlice(length: taken) else { return 0 }
        guard (body?.readableBytes ?? 0) + taken <= limit else { throw Failure.bodyTooLarge(limit: limit) }
        if body == nil {
            body = part
        } else {
            body?.writeImmutableBuffer(part)
        }
        return taken
    }

    /// Reads one line (without its line break) and hands it to `read`; nil
    /// when the line is not whole yet, its bytes kept for the next read.
    private mutating func line<T>(from buffer: inout ByteBuffer, limit: Int,
                                  _ read: (UnsafeRawBufferPointer) throws -> T) throws -> T? {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            guard buffer.readableBytes <= limit else { throw Failure.malformed("a line is over \(limit) bytes") }
            hold(buffer)
            return nil
        }
        let length = newline - buffer.readerIndex
        let value = try buffer.withUnsafeReadableBytes { bytes throws in
            var end = length
            if end > 0 && bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            return try read(UnsafeRawBufferPointer(rebasing: bytes[0..<end]))
        }
        buffer.moveReaderIndex(forwardBy: length + 1)
        return value
    }

    private mutating func hold(_ buffer: ByteBuffer) {
        pending = buffer.readableBytes > 0 ? buffer : nil
    }

    /// The length of the head at the start of `buffer`, up to and with the
    /// blank line that ends it; nil when the blank line has not arrived.
    private static func headLength(in buffer: ByteBuffer) -> Int? {
        buffer.withUnsafeReadableBytes { bytes -> Int? in
            var index = 0
            while let newline = bytes[index...].firstIndex(of: UInt8(ascii: "\n")) {
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
                guard digits > 0 else { throw Failure.malformed("a chunk size is missing") }
                return size
            default:
                throw Failure.malformed("a chunk size is not hexadecimal")
            }
            digits += 1
            guard digits <= 15 else { throw Failure.malformed("a chunk size is too large") }
            size = size << 4 | value
        }
        guard digits > 0 else { throw Failure.malformed("a chunk size is missing") }
        return size
    }
}

/// The status line and fields of one answer, with what frames its body.
private struct ParsedHead {
    typealias Failure = UpstreamResponseParser.Failure

    var status = 0
    var headers = HTTPHeaders()
    var keepAlive = true
    var contentLength: Int?
    var transferEncoded = false
    var chunked = false

    /// Reads `head`: the status line, the fields and the blank line.
    init(_ head: UnsafeRawBufferPointer, keepingLength: Bool) throws {
        var lines = LineReader(head)
        guard let statusLine = lines.next() else { throw Failure.malformed("the status line is missing") }
        let minorVersion = try readStatusLine(statusLine)
        var closes = false
        var keepsAlive = false
        while let line = lines.next(), !line.isEmpty {
            guard line[0] != UInt8(ascii: " ") && line[0] != UInt8(ascii: "\t") else {
                throw Failure.malformed("a header field is folded over two lines")
            }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0 else {
                throw Failure.malformed("a header line has no field name")
            }
            let name = UnsafeRawBufferPointer(rebasing: line[0..<colon])
            guard name.allSatisfy(HeaderList.isTokenByte) else { throw Failure.malformed("a header field name is not a token") }
            let value = Self.trimmed(UnsafeRawBufferPointer(rebasing: line[(colon + 1)...]))
            guard !value.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }) else {
                throw Failure.malformed("a header field value holds a control character")
            }
            switch Self.role(of: name) {
            case .forwarded:
                headers.add(name: String(decoding: name, as: UTF8.self), value: String(decoding: value, as: UTF8.self))
            case .contentLength:
                guard !value.isEmpty, value.count <= 18, value.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                    throw Failure.malformed("Content-Length is not a number")
                }
                let length = value.reduce(0) { $0 * 10 + Int($1 - 0x30) }
                guard contentLength == nil || contentLength == length else {
                    throw Failure.malformed("two different Content-Length fields")
                }
                contentLength = length
                if keepingLength {
                    headers.add(name: String(decoding: name, as: UTF8.self), value: String(decoding: value, as: UTF8.self))
                }
            case .transferEncoding:
                transferEncoded = true
                // The last coding decides; chunked must be the last one.
                let last = value.lastIndex(of: UInt8(ascii: ",")).map { value.index(after: $0) } ?? 0
                chunked = Self.equalsLowercase(Self.trimmed(UnsafeRawBufferPointer(rebasing: value[last...])), "chunked")
            case .connection:
                for token in value.split(separator: UInt8(ascii: ",")) {
                    let option = Self.trimmed(UnsafeRawBufferPointer(rebasing: token))
                    if Self.equalsLowercase(option, "close") { closes = true }
                    if Self.equalsLowercase(option, "keep-alive") { keepsAlive = true }
                }
            case .dropped:
                break
            }
        }
        keepAlive = !closes && (minorVersion >= 1 || keepsAlive)
    }

    /// `HTTP/1.x NNN reason`; returns x.
    private mutating func readStatusLine(_ line: UnsafeRawBufferPointer) throws -> Int {
        let prefix: StaticString = "HTTP/1."
        guard line.count >= 12, Self.startsWith(line, prefix),
              line[8] == UInt8(ascii: " "), (0x30...0x39).contains(line[7]) else {
            throw Failure.malformed("the status line does not start with HTTP/1.x")
        }
        var code = 0
        for index in 9..<12 {
            guard (0x30...0x39).contains(line[index]) else { throw Failure.malformed("the status code is not three digits") }
            code = code * 10 + Int(line[index] - 0x30)
        }
        guard line.count == 12 || line[12] == UInt8(ascii: " ") else { throw Failure.malformed("the status code is not three digits") }
        guard code >= 100 else { throw Failure.malformed("the status code \(code) is below 100") }
        status = code
        return Int(line[7] - 0x30)
    }

    private enum Role { case forwarded, contentLength, transferEncoding, connection, dropped }

    /// What a field is to the gateway: forwarded, or one that frames this
    /// message or describes this connection (never forwarded).
    private static func role(of name: UnsafeRawBufferPointer) -> Role {
        // Most names have a length none of the connection's fields has.
        switch name.count {
        case 2: return equalsLowercase(name, "te") ? .dropped : .forwarded
        case 7: return equalsLowercase(name, "trailer") || equalsLowercase(name, "upgrade") ? .dropped : .forwarded
        case 10:
            if equalsLowercase(name, "connection") { return .connection }
            return equalsLowercase(name, "keep-alive") ? .dropped : .forwarded
        case 14: return equalsLowercase(name, "content-length") ? .contentLength : .forwarded
        case 17: return equalsLowercase(name, "transfer-encoding") ? .transferEncoding : .forwarded
        case 18: return equalsLowercase(name, "proxy-authenticate") ? .dropped : .forwarded
        case 19: return equalsLowercase(name, "proxy-authorization") ? .dropped : .forwarded
        default: return .forwarded
        }
    }

    private static func equalsLowercase(_ bytes: UnsafeRawBufferPointer, _ lowercase: StaticString) -> Bool {
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

    private static func startsWith(_ bytes: UnsafeRawBufferPointer, _ prefix: StaticString) -> Bool {
        prefix.withUTF8Buffer { expected in
            bytes.count >= expected.count && zip(bytes, expected).allSatisfy { $0 == $1 }
        }
    }

    private static func trimmed(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var start = 0
        var end = bytes.count
        while start < end && (bytes[start] == 0x20 || bytes[start] == 0x09) { start += 1 }
        while end > start && (bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09) { end -= 1 }
        return UnsafeRawBufferPointer(rebasing: bytes[start..<end])
    }
}

/// The lines of a head, each without its CRLF (or bare LF).
private struct LineReader {
    private let bytes: UnsafeRawBufferPointer
    private var index = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    mutating func next() -> UnsafeRawBufferPointer? {
        guard index < bytes.count else { return nil }
        let newline = bytes[index...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
        var end = newline
        if end > index && bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        let line = UnsafeRawBufferPointer(rebasing: bytes[index..<end])
        index = newline + 1
        return line
    }
}
