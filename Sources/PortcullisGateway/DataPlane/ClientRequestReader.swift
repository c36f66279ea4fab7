import NIOCore
import NIOHTTP1

/// One request as read off a client connection.
struct ReceivedRequest {
    /// The method as sent (a token).
    var method: String
    /// The request target as sent.
    var target: String
    /// Every field as received, in order, names as spelled.
    var headers: HTTPHeaders
    /// Whether the client keeps the connection open after the answer.
    var keepAlive: Bool
    /// The body, when there is one.
    var body: ByteBuffer?
    /// Set when the request is refused for its size alone (431, 413): the
    /// answer is that error, and the connection closes after it.
    var refusal: GatewayError?

    var isHead: Bool { method == "HEAD" }
}

/// Reads the requests a client sends on one connection, pipelined ones
/// included, straight from its bytes (RFC 9112): request line, fields,
/// then a body framed by `Content-Length` or chunked transfer coding.
///
/// What could let two readers of the same bytes see different requests is
/// refused as malformed (``HTTPFramingError``, answered 400): a body
/// framed both ways, a transfer coding that does not end in chunked,
/// lengths that disagree, folded or unnamed fields, control characters.
/// A request over the size limits is returned with its refusal, and
/// nothing after it is read.
struct ClientRequestReader {
    private let maxHeaderBytes: Int
    private let maxBodyBytes: Int
    /// The longest head read before the request is refused with 431.
    let headLimit: Int
    private var buffer: ByteBuffer?
    /// The request whose head is read and whose body is still arriving.
    private var current: ReceivedRequest?
    private var body: HTTPBodyReader?
    private var stopped = false

    /// A reader that refuses fields over `maxHeaderBytes` (names and
    /// values, 4 bytes more per field) with 431 and bodies over
    /// `maxBodyBytes` with 413.
    init(maxHeaderBytes: Int, maxBodyBytes: Int) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
        // Room for the request line and the line breaks around fields that
        // are within the limit; the limit NIO's decoder had at least.
        headLimit = max(80 << 10, maxHeaderBytes + 1024) + (8 << 10)
    }

    /// Whether a request's head has been read and its body has not ended.
    var isReadingRequest: Bool { current != nil }

    /// Adds bytes read from the connection.
    mutating func append(_ bytes: ByteBuffer) {
        guard !stopped else { return }
        if buffer == nil || buffer?.readableBytes == 0 {
            buffer = bytes
        } else {
            buffer?.writeImmutableBuffer(bytes)
        }
    }

    /// The next whole request, or nil until more bytes arrive. Throws
    /// ``HTTPFramingError/malformed(_:)`` for bytes that are not a request;
    /// nothing after them is read.
    mutating func next() throws -> ReceivedRequest? {
        do {
            return try readNext()
        } catch {
            _ = stop(with: nil)
            throw error
        }
    }

    private mutating func readNext() throws -> ReceivedRequest? {
        guard !stopped, var bytes = buffer else { return nil }
        buffer = nil
        defer { if !stopped && bytes.readableBytes > 0 { buffer = bytes } }
        if current == nil {
            // A client may send blank lines between requests (§2.2).
            while let first = bytes.readableBytesView.first, first == UInt8(ascii: "\r") || first == UInt8(ascii: "\n") {
                bytes.moveReaderIndex(forwardBy: 1)
            }
            guard let length = HTTPHeadBytes.length(in: bytes) else {
                if bytes.readableBytes > headLimit { return refuse(.headersTooLarge(limit: maxHeaderBytes)) }
                return nil
            }
            guard length <= headLimit else { return refuse(.headersTooLarge(limit: maxHeaderBytes)) }
            let head = try bytes.withUnsafeReadableBytes { raw in
                try RequestHead(UnsafeRawBufferPointer(rebasing: raw[0..<length]))
            }
            bytes.moveReaderIndex(forwardBy: length)
            var request = ReceivedRequest(method: head.method, target: head.target, headers: head.headers, keepAlive: head.keepAlive)
            if head.fieldBytes > maxHeaderBytes {
                request.refusal = .headersTooLarge(limit: maxHeaderBytes)
                return stop(with: request)
            }
            do {
                body = try head.framing.map { try HTTPBodyReader($0, limit: maxBodyBytes, trailerLimit: headLimit) }
            } catch HTTPFramingError.bodyTooLarge {
                // A declared body over the limit is refused before it is read.
                request.refusal = .bodyTooLarge(limit: maxBodyBytes)
                return stop(with: request)
            }
            current = request
        }
        if var reader = body {
            // Held only here while it reads, so the body grows in place.
            body = nil
            do {
                guard try reader.read(&bytes) else {
                    body = reader
                    return nil
                }
            } catch HTTPFramingError.bodyTooLarge {
                guard var refused = current else { return nil }
                refused.refusal = .bodyTooLarge(limit: maxBodyBytes)
                return stop(with: refused)
            }
            current?.body = reader.body
        }
        defer { current = nil }
        return current
    }

    /// A request refused before its head could be read: 431, and nothing
    /// more is read.
    private mutating func refuse(_ refusal: GatewayError) -> ReceivedRequest? {
        stop(with: ReceivedRequest(method: "GET", target: "/", headers: HTTPHeaders(), keepAlive: false, refusal: refusal))
    }

    private mutating func stop(with request: ReceivedRequest?) -> ReceivedRequest? {
        stopped = true
        buffer = nil
        current = nil
        body = nil
        return request
    }
}

/// The request line and fields of one request, with what frames its body.
private struct RequestHead {
    var method = ""
    var target = ""
    var headers = HTTPHeaders()
    var keepAlive = true
    /// Names and values, 4 bytes more per field: what the 431 limit counts.
    var fieldBytes = 0
    var framing: HTTPBodyReader.Framing?

    init(_ head: UnsafeRawBufferPointer) throws {
        var lines = LineReader(head)
        guard let line = lines.next() else { throw HTTPFramingError.malformed("the request line is missing") }
        let minor = try readRequestLine(line)
        var fields = MessageFraming()
        // Names are checked to be tokens as they are read, so the fields go
        // into the header list at once, without `add`'s check of each name.
        var read: [(String, String)] = []
        read.reserveCapacity(8)
        try HTTPHeadBytes.readFields(&lines) { name, value in
            fieldBytes += name.count + value.count + 4
            read.append((HTTPHeadBytes.text(name), HTTPHeadBytes.text(value)))
            _ = try fields.read(name, value)
        }
        headers = HTTPHeaders(read)
        keepAlive = fields.keepAlive(minorVersion: minor)
        if fields.transferEncoded {
            guard fields.contentLength == nil else { throw HTTPFramingError.malformed("a body framed by both Content-Length and Transfer-Encoding") }
            guard fields.chunked else { throw HTTPFramingError.malformed("a transfer coding that does not end in chunked") }
            framing = .chunked
        } else if let contentLength = fields.contentLength, contentLength > 0 {
            framing = .length(contentLength)
        }
    }

    /// `METHOD target HTTP/1.x`; returns x.
    private mutating func readRequestLine(_ line: UnsafeRawBufferPointer) throws -> Int {
        guard let firstSpace = HTTPHeadBytes.index(of: UInt8(ascii: " "), in: line, from: 0), firstSpace > 0,
              line[0..<firstSpace].allSatisfy(HeaderList.isTokenByte) else {
            throw HTTPFramingError.malformed("the request line does not start with a method")
        }
        let rest = UnsafeRawBufferPointer(rebasing: line[(firstSpace + 1)...])
        guard let secondSpace = HTTPHeadBytes.index(of: UInt8(ascii: " "), in: rest, from: 0), secondSpace > 0,
              rest[0..<secondSpace].allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else {
            throw HTTPFramingError.malformed("the request target is missing or holds a control character")
        }
        let version = UnsafeRawBufferPointer(rebasing: rest[(secondSpace + 1)...])
        guard version.count == 8, let minor = HTTPHeadBytes.minorVersion(version) else {
            throw HTTPFramingError.malformed("the request line does not end with HTTP/1.x")
        }
        method = HTTPHeadBytes.text(UnsafeRawBufferPointer(rebasing: line[0..<firstSpace]))
        target = HTTPHeadBytes.text(UnsafeRawBufferPointer(rebasing: rest[0..<secondSpace]))
        return minor
    }
}
