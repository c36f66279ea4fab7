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
///
/// The gateway sends one request at a time on a connection, so bytes left
/// over after an answer mean the upstream broke the protocol: the answer
/// stands, the connection is not reused.
struct UpstreamResponseParser {
    /// A whole answer, and whether its connection may carry another exchange.
    struct Completed {
        let answer: UpstreamAnswer
        let reusable: Bool
    }

    /// The longest head read (status line, fields, blank line), as NIO's
    /// decoder allowed.
    static let headLimit = 80 << 10

    private let answersHead: Bool
    private let limit: Int
    /// Bytes read but not yet taken: part of a head or of a line.
    private var pending: ByteBuffer?
    private var head: ResponseHead?
    private var body: HTTPBodyReader?
    private var done = false

    /// Whether the final answer's head has been read.
    var sawHead: Bool { head != nil }

    /// A parser for the answer to one request; `answersHead` when the
    /// request was `HEAD` (no body follows, and `Content-Length` is kept:
    /// it is the length a GET would get). Bodies over `limit` bytes fail.
    init(answersHead: Bool, limit: Int) {
        self.answersHead = answersHead
        self.limit = limit
    }

    /// Takes the next bytes from the connection. Returns the answer once
    /// it is whole, nil while more bytes are needed. Throws
    /// ``HTTPFramingError``.
    mutating func read(_ incoming: ByteBuffer) throws -> Completed? {
        guard !done else { return nil }
        var buffer: ByteBuffer
        if var held = pending {
            pending = nil
            held.writeImmutableBuffer(incoming)
            buffer = held
        } else {
            buffer = incoming
        }
        while head == nil {
            guard let length = HTTPHeadBytes.length(in: buffer) else {
                guard buffer.readableBytes <= Self.headLimit else { throw HTTPFramingError.headTooLarge(limit: Self.headLimit) }
                hold(buffer)
                return nil
            }
            guard length <= Self.headLimit else { throw HTTPFramingError.headTooLarge(limit: Self.headLimit) }
            var read = try buffer.withUnsafeReadableBytes { bytes in
                try ResponseHead(UnsafeRawBufferPointer(rebasing: bytes[0..<length]), keepingLength: answersHead)
            }
            buffer.moveReaderIndex(forwardBy: length)
            // An interim answer (100 Continue, 103 Early Hints) is not the
            // answer; the final one follows on the same connection.
            guard read.status >= 200 || read.status == 101 else { continue }
            let framing = read.framing(answeringHead: answersHead)
            head = read
            if let framing { body = try HTTPBodyReader(framing, limit: limit, trailerLimit: Self.headLimit) }
        }
        if var reader = body {
            body = nil
            let whole = try reader.read(&buffer)
            body = reader
            guard whole else {
                hold(buffer)
                return nil
            }
        }
        return finish(leftover: buffer.readableBytes)
    }

    /// The connection closed: ends a body framed by the close. Nil when
    /// the answer was not whole.
    mutating func readToClose() -> Completed? {
        guard !done, body?.endsAtClose == true else { return nil }
        return finish(leftover: 0)
    }

    private mutating func finish(leftover: Int) -> Completed? {
        guard let head else { return nil }
        done = true
        let answer = UpstreamAnswer(status: head.status, headers: head.headers, body: body?.body ?? ByteBuffer())
        body = nil
        return Completed(answer: answer, reusable: head.keepAlive && leftover == 0)
    }

    private mutating func hold(_ buffer: ByteBuffer) {
        pending = buffer.readableBytes > 0 ? buffer : nil
    }
}

/// The status line and fields of one answer, with what frames its body.
private struct ResponseHead {
    var status = 0
    var headers = HTTPHeaders()
    var keepAlive = true
    var fields = MessageFraming()

    /// Reads `head`: the status line, the fields and the blank line.
    init(_ head: UnsafeRawBufferPointer, keepingLength: Bool) throws {
        var lines = LineReader(head)
        guard let statusLine = lines.next(), let minor = HTTPHeadBytes.minorVersion(statusLine),
              statusLine.count >= 12, statusLine[8] == UInt8(ascii: " ") else {
            throw HTTPFramingError.malformed("the status line does not start with HTTP/1.x")
        }
        for index in 9..<12 {
            guard (0x30...0x39).contains(statusLine[index]) else { throw HTTPFramingError.malformed("the status code is not three digits") }
            status = status * 10 + Int(statusLine[index] - 0x30)
        }
        guard statusLine.count == 12 || statusLine[12] == UInt8(ascii: " ") else {
            throw HTTPFramingError.malformed("the status code is not three digits")
        }
        guard status >= 100 else { throw HTTPFramingError.malformed("the status code \(status) is below 100") }
        // Names are checked to be tokens as they are read, so the fields go
        // into the header list at once, without `add`'s check of each name.
        var kept: [(String, String)] = []
        kept.reserveCapacity(8)
        try HTTPHeadBytes.readFields(&lines) { name, value in
            if let field = try fields.read(name, value) {
                // The gateway frames the client's answer itself; only an
                // answer to HEAD keeps the length a GET would get.
                if field == .contentLength && keepingLength {
                    kept.append((HTTPHeadBytes.text(name), HTTPHeadBytes.text(value)))
                }
            } else if !Self.describesConnection(name) {
                kept.append((HTTPHeadBytes.text(name), HTTPHeadBytes.text(value)))
            }
        }
        headers = HTTPHeaders(kept)
        keepAlive = fields.keepAlive(minorVersion: minor)
    }

    /// How the body is framed; nil when there is none. A body framed by
    /// the close, or a length beside a transfer coding (§6.3), leaves the
    /// connection unfit for another exchange.
    mutating func framing(answeringHead: Bool) -> HTTPBodyReader.Framing? {
        if status == 101 {
            keepAlive = false
            return nil
        }
        if answeringHead || status == 204 || status == 304 { return nil }
        if fields.transferEncoded {
            if fields.contentLength != nil || !fields.chunked { keepAlive = false }
            return fields.chunked ? .chunked : .untilClose
        }
        guard let contentLength = fields.contentLength else {
            keepAlive = false
            return .untilClose
        }
        return contentLength > 0 ? .length(contentLength) : nil
    }

    /// Whether a field other than the framing ones describes only this
    /// connection (never forwarded): `TE`, `Trailer`, `Upgrade`,
    /// `Keep-Alive`, `Proxy-Authenticate`, `Proxy-Authorization`.
    private static func describesConnection(_ name: UnsafeRawBufferPointer) -> Bool {
        // Most names have a length none of these has.
        let equals = HTTPHeadBytes.equalsLowercase
        switch name.count {
        case 2: return equals(name, "te")
        case 7: return equals(name, "trailer") || equals(name, "upgrade")
        case 10: return equals(name, "keep-alive")
        case 18: return equals(name, "proxy-authenticate")
        case 19: return equals(name, "proxy-authorization")
        default: return false
        }
    }
}
