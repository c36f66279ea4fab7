import NIOCore
import NIOHTTP1
@testable import PortcullisGateway
import Testing

/// The bytes the gateway frames messages with: start lines, fields, and
/// what it refuses to let through.
@Suite("HTTP wire format")
struct HTTPWireFormatTests {
    private func text(_ write: (inout ByteBuffer) -> Void) -> String {
        var buffer = ByteBuffer()
        write(&buffer)
        return String(buffer: buffer)
    }

    @Test("Status lines carry the code and its reason; request lines keep the target on one line")
    func startLines() {
        #expect(text { HTTPWireFormat.writeStatusLine(200, into: &$0) } == "HTTP/1.1 200 OK\r\n")
        #expect(text { HTTPWireFormat.writeStatusLine(504, into: &$0) } == "HTTP/1.1 504 Gateway Timeout\r\n")
        #expect(text { HTTPWireFormat.writeStatusLine(7, into: &$0) }.hasPrefix("HTTP/1.1 7 "))
        #expect(text { HTTPWireFormat.writeRequestLine(method: .GET, target: "/a?b=1", into: &$0) } == "GET /a?b=1 HTTP/1.1\r\n")
        #expect(text { HTTPWireFormat.writeRequestLine(method: .POST, target: "/a b\r\nX: 1", into: &$0) }
            == "POST /a%20b%0D%0AX:%201 HTTP/1.1\r\n")
    }

    @Test("A value cannot end the line it is on; a name that is not a token is left out")
    func fields() {
        #expect(text { HTTPWireFormat.writeField("X-A", "v", into: &$0) } == "X-A: v\r\n")
        #expect(text { HTTPWireFormat.writeField("X-A", "v\r\nSet-Cookie: s=1\0", into: &$0) } == "X-A: v  Set-Cookie: s=1 \r\n")
        #expect(text { HTTPWireFormat.writeField("Bad Name", "x", into: &$0) } == "")
        #expect(text { HTTPWireFormat.writeField("X:Y", "x", into: &$0) } == "")
        #expect(text { HTTPWireFormat.writeField("", "x", into: &$0) } == "")
        #expect(text { HTTPWireFormat.writeField("X-\u{fc}", "x", into: &$0) } == "")
        #expect(text { HTTPWireFormat.writeField("X-\u{fc}ber", "\u{fc}", into: &$0) } == "")
        #expect(text { HTTPWireFormat.writeField("A!#$%&'*+-.^_`|~9", "\u{fc}", into: &$0) } == "A!#$%&'*+-.^_`|~9: \u{fc}\r\n")
        #expect(text { HTTPWireFormat.writeContentLength(0, into: &$0) } == "Content-Length: 0\r\n")
        #expect(text { HTTPWireFormat.writeContentLength(1_048_576, into: &$0) } == "Content-Length: 1048576\r\n")
    }

    @Test("Only 1xx, 204 and 304 answers are without a body")
    func bodies() {
        #expect(!HTTPWireFormat.statusAllowsBody(101))
        #expect(!HTTPWireFormat.statusAllowsBody(204))
        #expect(!HTTPWireFormat.statusAllowsBody(304))
        #expect(HTTPWireFormat.statusAllowsBody(200))
        #expect(HTTPWireFormat.statusAllowsBody(404))
    }

    @Test("An upstream's hop-by-hop headers are dropped in any spelling; the rest keep their order; HEAD keeps its length")
    func hopByHopDropped() throws {
        let hopByHop = ["Connection", "KEEP-ALIVE", "proxy-authenticate", "Proxy-Authorization", "TE", "Trailer",
                        "transfer-encoding", "Upgrade", "Content-Length"]
        let kept = ["Date", "Server", "Content-Type", "X-Te", "Keep-Alive-X", "Connections", "X-Content-Length", "Trailers"]
        let values = ["keep-alive", "v1", "v2", "v3", "v4", "v5", "identity", "v7", "0"]
        var head = "HTTP/1.1 200 OK\r\n"
        for (name, value) in zip(hopByHop, values) { head += "\(name): \(value)\r\n" }
        for (index, name) in kept.enumerated() { head += "\(name): k\(index)\r\n" }
        head += "\r\n"
        var parser = UpstreamResponseParser(answersHead: false, limit: 1 << 20)
        #expect(try parser.read(ByteBuffer(string: head + "body")) == nil, "identity transfer coding: the body ends at the close")
        let answerRead = parser.readToClose()
        let answer = try #require(answerRead)
        #expect(answer.answer.headers.map(\.name) == kept)
        #expect(answer.answer.headers.map(\.value) == kept.indices.map { "k\($0)" })
        #expect(answer.answer.body == ByteBuffer(string: "body"))
        #expect(!answer.reusable)
        var forHead = UpstreamResponseParser(answersHead: true, limit: 1 << 20)
        let headAnswerRead = try forHead.read(ByteBuffer(string: head))
        let headAnswer = try #require(headAnswerRead)
        #expect(headAnswer.answer.headers.map(\.name) == ["Content-Length"] + kept)
        #expect(headAnswer.answer.body.readableBytes == 0)
        var plain = UpstreamResponseParser(answersHead: false, limit: 1 << 20)
        let plainAnswerRead = try plain.read(ByteBuffer(string: "HTTP/1.1 204 No Content\r\nDate: today\r\n\r\n"))
        let plainAnswer = try #require(plainAnswerRead)
        #expect(plainAnswer.answer.headers.map(\.name) == ["Date"])
        #expect(plainAnswer.reusable)
    }

    /// Feeds `text` to a parser one byte at a time (the slowest a socket
    /// can deliver it) and in one piece, and checks both read the same.
    private func parsedBothWays(_ text: String, answersHead: Bool = false, limit: Int = 1 << 20) throws -> UpstreamResponseParser.Completed? {
        var whole = UpstreamResponseParser(answersHead: answersHead, limit: limit)
        let once = try whole.read(ByteBuffer(string: text))
        var bytewise = UpstreamResponseParser(answersHead: answersHead, limit: limit)
        var gradual: UpstreamResponseParser.Completed?
        for byte in Array(text.utf8) where gradual == nil {
            gradual = try bytewise.read(ByteBuffer(bytes: [byte]))
        }
        #expect(once?.answer.status == gradual?.answer.status)
        #expect(once?.answer.body == gradual?.answer.body)
        #expect(once?.reusable == gradual?.reusable)
        return once
    }

    @Test("Answers are read whole however the bytes arrive: by length, chunked with extensions and trailers, after interim 1xx answers")
    func upstreamFramings() throws {
        let sized = try #require(try parsedBothWays("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello"))
        #expect(sized.answer.body == ByteBuffer(string: "hello"))
        #expect(sized.answer.headers["X-A"] == ["1"])
        #expect(sized.reusable)
        let chunked = try #require(try parsedBothWays(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5;ext=1\r\nhello\r\n1 \r\n!\r\n0\r\nX-T: t\r\n\r\n"))
        #expect(chunked.answer.body == ByteBuffer(string: "hello!"))
        #expect(chunked.reusable)
        let interim = try #require(try parsedBothWays("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early\r\nLink: x\r\n\r\n"
            + "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"))
        #expect(interim.answer.status == 201)
        #expect(interim.answer.headers.map(\.name).isEmpty)
        let bareNewlines = try #require(try parsedBothWays("HTTP/1.1 200 OK\nContent-Length: 2\n\nok"))
        #expect(bareNewlines.answer.body == ByteBuffer(string: "ok"))
        let old = try #require(try parsedBothWays("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"))
        #expect(!old.reusable, "HTTP/1.0 without keep-alive closes")
        let oldKept = try #require(try parsedBothWays("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok"))
        #expect(oldKept.reusable)
        let closing = try #require(try parsedBothWays("HTTP/1.1 200 OK\r\nConnection: x, close\r\nContent-Length: 2\r\n\r\nok"))
        #expect(!closing.reusable)
        // (Fed byte by byte, the extra bytes come after the answer, when
        // the handler closes a connection that speaks out of turn.)
        var extraParser = UpstreamResponseParser(answersHead: false, limit: 1 << 20)
        let extraRead = try extraParser.read(ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA"))
        let extra = try #require(extraRead)
        #expect(extra.answer.body == ByteBuffer(string: "ok"))
        #expect(!extra.reusable, "bytes after the answer: the connection is out of step")
        let both = try #require(try parsedBothWays("HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"))
        #expect(both.answer.body == ByteBuffer(string: "ok"))
        #expect(!both.reusable, "a length beside a transfer coding: not trusted again")
        let noBody = try #require(try parsedBothWays("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"))
        #expect(noBody.answer.body.readableBytes == 0)
        #expect(noBody.reusable)
    }

    @Test("A body ended by the close is whole only at the close; an answer cut short is not whole")
    func upstreamCloses() throws {
        var untilClose = UpstreamResponseParser(answersHead: false, limit: 1 << 20)
        #expect(try untilClose.read(ByteBuffer(string: "HTTP/1.1 200 OK\r\n\r\npart one, ")) == nil)
        #expect(try untilClose.read(ByteBuffer(string: "part two")) == nil)
        let closedRead = untilClose.readToClose()
        let closed = try #require(closedRead)
        #expect(closed.answer.body == ByteBuffer(string: "part one, part two"))
        #expect(!closed.reusable)
        var cut = UpstreamResponseParser(answersHead: false, limit: 1 << 20)
        #expect(try cut.read(ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")) == nil)
        #expect(cut.sawHead)
        #expect(cut.readToClose() == nil)
        var headless = UpstreamResponseParser(answersHead: false, limit: 1 << 20)
        #expect(try headless.read(ByteBuffer(string: "HTTP/1.1 200 O")) == nil)
        #expect(!headless.sawHead)
    }

    @Test("Broken answers are refused with what was wrong; bodies and heads over their limits are refused")
    func upstreamRefusals() throws {
        let broken = [
            "HTTP/2 200 OK\r\n\r\n": "HTTP/1.x",
            "HTTP/1.1 20 OK\r\n\r\n": "three digits",
            "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n": "not a token",
            "HTTP/1.1 200 OK\r\nNo-Colon\r\n\r\n": "no field name",
            "HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n": "folded",
            "HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\n": "control character",
            "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n": "not a number",
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n": "two different",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n": "not hexadecimal",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokAB\r\n": "longer than its size",
        ]
        for (text, reason) in broken {
            var parser = UpstreamResponseParser(answersHead: false, limit: 1 << 20)
            do {
                _ = try parser.read(ByteBuffer(string: text))
                Issue.record("accepted: \(text)")
            } catch let failure as HTTPFramingError {
                #expect(failure.description.contains(reason), "\(failure) for \(text)")
            }
        }
        var sized = UpstreamResponseParser(answersHead: false, limit: 4)
        #expect(throws: HTTPFramingError.self) { try sized.read(ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")) }
        var chunks = UpstreamResponseParser(answersHead: false, limit: 4)
        #expect(throws: HTTPFramingError.self) {
            try chunks.read(ByteBuffer(string: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\n"))
        }
        var endless = UpstreamResponseParser(answersHead: false, limit: 4)
        _ = try endless.read(ByteBuffer(string: "HTTP/1.1 200 OK\r\n\r\nabc"))
        #expect(throws: HTTPFramingError.self) { try endless.read(ByteBuffer(string: "de")) }
        var huge = UpstreamResponseParser(answersHead: false, limit: 4)
        let field = "X-Big: " + String(repeating: "a", count: UpstreamResponseParser.headLimit) + "\r\n"
        #expect(throws: HTTPFramingError.self) { try huge.read(ByteBuffer(string: "HTTP/1.1 200 OK\r\n" + field)) }
    }
}
