import Foundation
import NIOCore
@testable import PortcullisGateway
import PropertyBased
import Testing

/// Fuzzes the readers of the data plane's HTTP/1.1: client requests and
/// upstream answers, read straight from the bytes of a connection.
///
/// Protects: (1) no byte sequence from a client or an upstream crashes the
/// gateway or makes it spin; (2) what is read does not depend on how TCP
/// split the bytes; (3) requests a client can send — pipelined, with
/// bodies by length or chunked — are read back exactly.
@Suite("Fuzz: HTTP/1.1 readers", .timeLimit(.minutes(2)))
struct HTTPReaderFuzzTests {
    struct Request: Sendable, Equatable {
        var method: String
        var target: String
        var fields: [[String]]
        var body: [UInt8]?
    }

    struct Stream: Sendable, CustomStringConvertible {
        var requests: [Request]
        var bytes: [UInt8]
        var chunkSizes: [Int]
        var description: String {
            let text = bytes.map { $0 >= 0x20 && $0 < 0x7F ? String(UnicodeScalar($0)) : "\\x" + String($0, radix: 16) }.joined()
            return "\(requests.count) requests as \"\(text)\" in chunks \(chunkSizes)"
        }
    }

    /// What a damaged byte becomes: the characters HTTP's framing turns on.
    static let damageAlphabet = Array(" :;\r\n\t0123456789abcdefHTTP/1.".utf8)
    static let tokenCharacters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~")
    static let valueCharacters = Array("abcXYZ019 ,;:=/\"()<>@[]?{}\t~") + ["é", "ü"]

    static func token(_ r: inout SplitMix64) -> String {
        String((0..<Int.random(in: 1...10, using: &r)).map { _ in r.pick(tokenCharacters) })
    }

    /// A field value: no surrounding whitespace (the reader trims it).
    static func fieldValue(_ r: inout SplitMix64) -> String {
        let value = String((0..<Int.random(in: 0...16, using: &r)).map { _ in r.pick(valueCharacters) })
        return value.trimmingCharacters(in: CharacterSet(charactersIn: " \t"))
    }

    static func request(_ r: inout SplitMix64) -> Request {
        let method = r.pick(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", token(&r)])
        let target = "/" + (0..<Int.random(in: 0...3, using: &r)).map { _ in token(&r) }.joined(separator: "/")
            + (r.chance(30) ? "?q=" + token(&r) : "")
        let framingNames: Set = ["content-length", "transfer-encoding"]
        let fields = (0..<Int.random(in: 0...5, using: &r)).map { _ in [token(&r), fieldValue(&r)] }
            .filter { !framingNames.contains($0[0].lowercased()) }
        let body: [UInt8]? = r.chance(40) ? (0..<Int.random(in: 0...40, using: &r)).map { _ in UInt8.random(in: 0...255, using: &r) } : nil
        return Request(method: method, target: target, fields: fields, body: body.flatMap { $0.isEmpty ? nil : $0 })
    }

    /// The bytes a client sends for `request`, with its body by length or
    /// chunked, in random chunks.
    static func encode(_ request: Request, _ r: inout SplitMix64) -> [UInt8] {
        var head = "\(request.method) \(request.target) HTTP/1.1\r\n"
        for field in request.fields { head += "\(field[0]):\(r.chance(50) ? " " : "")\(field[1])\r\n" }
        guard let body = request.body else { return Array((head + "\r\n").utf8) }
        if r.chance(50) {
            return Array((head + "Content-Length: \(body.count)\r\n\r\n").utf8) + body
        }
        var bytes = Array((head + "Transfer-Encoding: chunked\r\n\r\n").utf8)
        var offset = 0
        while offset < body.count {
            let size = min(body.count - offset, Int.random(in: 1...16, using: &r))
            bytes += Array((String(size, radix: 16) + (r.chance(20) ? ";x=y" : "") + "\r\n").utf8) + body[offset..<offset + size] + [13, 10]
            offset += size
        }
        return bytes + Array("0\r\n\(r.chance(30) ? "Trailer-X: t\r\n" : "")\r\n".utf8)
    }


    static let streams = Generator<Stream, Shrink.None<Stream>>.seeded { r in
        let requests = (0..<Int.random(in: 1...4, using: &r)).map { _ in request(&r) }
        var bytes: [UInt8] = []
        for request in requests { bytes += encode(request, &r) }
        return Stream(requests: requests, bytes: bytes, chunkSizes: FuzzBytes.chunkSizes(total: bytes.count, &r))
    }

    /// What a connection ends up with: the requests read (a refused one
    /// ends the list), and whether the bytes were refused as malformed.
    struct Outcome: Equatable {
        var requests: [Request] = []
        var refusals: [Int?] = []
        var malformed = false
    }

    static func feed(_ bytes: [UInt8], chunks sizes: [Int], maxHeaderBytes: Int = 4096, maxBodyBytes: Int = 1 << 20) -> Outcome {
        var reader = ClientRequestReader(maxHeaderBytes: maxHeaderBytes, maxBodyBytes: maxBodyBytes)
        var outcome = Outcome()
        var offset = 0
        for size in sizes {
            reader.append(ByteBuffer(bytes: bytes[offset..<offset + size]))
            offset += size
            do {
                while let read = try reader.next() {
                    let fields = read.headers.map { [$0.name, $0.value] }
                        .filter { !["content-length", "transfer-encoding"].contains($0[0].lowercased()) }
                    let body = read.body.map { Array($0.readableBytesView) }
                    outcome.requests.append(Request(method: read.method, target: read.target, fields: fields, body: body))
                    outcome.refusals.append(read.refusal?.status)
                }
            } catch {
                #expect(error is HTTPFramingError, "not an HTTPFramingError: \(error)")
                outcome.malformed = true
                return outcome
            }
        }
        return outcome
    }

    @Test("Generated pipelined requests fed in random chunk sizes read back exactly")
    func requestsRoundTrip() async {
        await propertyCheck(count: 2000, input: Self.streams) { stream in
            let outcome = Self.feed(stream.bytes, chunks: stream.chunkSizes)
            #expect(!outcome.malformed)
            #expect(outcome.requests == stream.requests)
            #expect(outcome.refusals.allSatisfy { $0 == nil })
        }
    }

    /// Bytes from HTTP's own alphabet, or valid requests damaged a little.
    static let garbage = Generator<Stream, Shrink.None<Stream>>.seeded { r in
        var bytes: [UInt8]
        if r.chance(60) {
            bytes = []
            for _ in 0..<Int.random(in: 1...3, using: &r) { bytes += encode(request(&r), &r) }
            FuzzBytes.damage(&bytes, times: Int.random(in: 1...3, using: &r), alphabet: damageAlphabet, &r)
        } else {
            let alphabet = Array("GET / HTTP/1.1\r\n\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n0123456789abcdef;: \t".utf8)
            bytes = (0..<Int.random(in: 0...200, using: &r)).map { _ in
                r.chance(90) ? r.pick(alphabet) : UInt8.random(in: 0...255, using: &r)
            }
        }
        return Stream(requests: [], bytes: bytes, chunkSizes: FuzzBytes.chunkSizes(total: bytes.count, &r))
    }

    @Test("Arbitrary bytes from a client never crash or spin; what is read is the same however the bytes are split")
    func requestGarbage() async {
        await propertyCheck(count: 3000, input: Self.garbage) { stream in
            let whole = Self.feed(stream.bytes, chunks: stream.bytes.isEmpty ? [] : [stream.bytes.count], maxHeaderBytes: 64, maxBodyBytes: 16)
            let split = Self.feed(stream.bytes, chunks: stream.chunkSizes, maxHeaderBytes: 64, maxBodyBytes: 16)
            #expect(whole == split)
        }
    }

    /// What an upstream connection ends up with: the answer, or that it
    /// was refused, or that it needs the close to end.
    struct Answer: Equatable {
        var status: Int?
        var fields: [[String]] = []
        var body: [UInt8] = []
        var reusable = false
        var failed = false
    }

    static func answer(_ bytes: [UInt8], chunks sizes: [Int], answersHead: Bool) -> Answer {
        var parser = UpstreamResponseParser(answersHead: answersHead, limit: 64)
        var offset = 0
        do {
            for size in sizes {
                let completed = try parser.read(ByteBuffer(bytes: bytes[offset..<offset + size]))
                offset += size
                if let completed {
                    return Answer(status: completed.answer.status, fields: completed.answer.headers.map { [$0.name, $0.value] },
                                  body: Array(completed.answer.body.readableBytesView), reusable: completed.reusable && offset == bytes.count)
                }
            }
        } catch {
            #expect(error is HTTPFramingError, "not an HTTPFramingError: \(error)")
            return Answer(failed: true)
        }
        guard let closed = parser.readToClose() else { return Answer() }
        return Answer(status: closed.answer.status, fields: closed.answer.headers.map { [$0.name, $0.value] },
                      body: Array(closed.answer.body.readableBytesView), reusable: closed.reusable)
    }

    /// Answers from HTTP's own alphabet, or valid answers damaged a little.
    static let answers = Generator<Stream, Shrink.None<Stream>>.seeded { r in
        var bytes: [UInt8]
        let body = (0..<Int.random(in: 0...20, using: &r)).map { _ in UInt8.random(in: 0...255, using: &r) }
        var head = "HTTP/1.\(r.pick(["0", "1"])) \(r.pick(["100 Continue\r\n\r\nHTTP/1.1 200", "200", "204", "304", "404", "101"])) X\r\n"
        for _ in 0..<Int.random(in: 0...3, using: &r) { head += "\(token(&r)): \(fieldValue(&r))\r\n" }
        switch Int.random(in: 0..<3, using: &r) {
        case 0: bytes = Array((head + "Content-Length: \(body.count)\r\n\r\n").utf8) + body
        case 1: bytes = Array((head + "Transfer-Encoding: chunked\r\n\r\n\(String(body.count, radix: 16))\r\n").utf8) + body
            + Array("\r\n0\r\n\r\n".utf8)
        default: bytes = Array((head + "\r\n").utf8) + body
        }
        FuzzBytes.damage(&bytes, times: Int.random(in: 0...3, using: &r), alphabet: damageAlphabet, &r)
        return Stream(requests: [], bytes: bytes, chunkSizes: FuzzBytes.chunkSizes(total: bytes.count, &r))
    }

    @Test("Arbitrary answers from an upstream never crash or spin; what is read is the same however the bytes are split",
          arguments: [false, true])
    func answerGarbage(answersHead: Bool) async {
        await propertyCheck(count: 3000, input: Self.answers) { stream in
            let whole = Self.answer(stream.bytes, chunks: stream.bytes.isEmpty ? [] : [stream.bytes.count], answersHead: answersHead)
            let split = Self.answer(stream.bytes, chunks: stream.chunkSizes, answersHead: answersHead)
            #expect(whole == split)
        }
    }
}
