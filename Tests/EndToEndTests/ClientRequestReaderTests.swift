import NIOCore
import NIOHTTP1
@testable import PortcullisGateway
import PortcullisTestSupport
import Testing

/// How requests are read off a client connection: framings, pipelining,
/// the size limits, and the framings two readers could disagree on.
@Suite("Client request reader")
struct ClientRequestReaderTests {
    private static func reader(maxHeaderBytes: Int = 4096, maxBodyBytes: Int = 64) -> ClientRequestReader {
        ClientRequestReader(maxHeaderBytes: maxHeaderBytes, maxBodyBytes: maxBodyBytes)
    }

    /// Every request in `text`, read from one piece and again one byte at
    /// a time; both ways must read the same requests.
    private static func requests(_ text: String, maxHeaderBytes: Int = 4096, maxBodyBytes: Int = 64) throws -> [ReceivedRequest] {
        var whole = reader(maxHeaderBytes: maxHeaderBytes, maxBodyBytes: maxBodyBytes)
        whole.append(ByteBuffer(string: text))
        var once: [ReceivedRequest] = []
        while let request = try whole.next() { once.append(request) }
        var bytewise = reader(maxHeaderBytes: maxHeaderBytes, maxBodyBytes: maxBodyBytes)
        var gradual: [ReceivedRequest] = []
        for byte in Array(text.utf8) {
            bytewise.append(ByteBuffer(bytes: [byte]))
            while let request = try bytewise.next() { gradual.append(request) }
        }
        #expect(once.map(\.target) == gradual.map(\.target))
        #expect(once.map(\.body) == gradual.map(\.body))
        #expect(once.map { $0.refusal?.status } == gradual.map { $0.refusal?.status })
        return once
    }

    private static func malformed(_ text: String) -> String? {
        var reader = reader()
        reader.append(ByteBuffer(string: text))
        do {
            while try reader.next() != nil {}
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test("Pipelined requests are read in order with their bodies, by length or chunked, blank lines between them skipped")
    func framings() throws {
        let text = "GET /a?x=1 HTTP/1.1\r\nHost: h\r\nX-Multi: 1\r\nx-multi: 2\r\n\r\n"
            + "\r\nPOST /b HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
            + "PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;ext\r\nabc\r\n2\r\nde\r\n0\r\nTrailer-A: x\r\n\r\n"
            + "DELETE /d HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
            + "GET /e HTTP/1.0\n\n"
            + "GET /f HTTP/1.1\r\nConnection: upgrade, close\r\n\r\n"
        let read = try Self.requests(text)
        #expect(read.map(\.method) == ["GET", "POST", "PUT", "DELETE", "GET", "GET"])
        #expect(read.map(\.target) == ["/a?x=1", "/b", "/c", "/d", "/e", "/f"])
        #expect(read.map(\.keepAlive) == [true, true, true, true, false, false])
        #expect(read[0].headers.map(\.name) == ["Host", "X-Multi", "x-multi"], "every field, as spelled, in order")
        #expect(read[0].body == nil)
        #expect(read[1].body == ByteBuffer(string: "hello"))
        #expect(read[2].body == ByteBuffer(string: "abcde"))
        #expect(read[2].headers.first(name: "transfer-encoding") == "chunked", "plugins see the fields as sent")
        #expect(read.allSatisfy { $0.refusal == nil })
    }

    @Test("Fields over the limit are refused with 431, a declared or chunked body over the limit with 413, and nothing after is read")
    func limits() throws {
        let big = try Self.requests("GET /a HTTP/1.1\r\nX-Big: \(String(repeating: "a", count: 5000))\r\n\r\nGET /next HTTP/1.1\r\n\r\n")
        #expect(big.count == 1)
        #expect(big.first?.refusal?.status == 431)
        let declared = try Self.requests("POST /a HTTP/1.1\r\nContent-Length: 65\r\n\r\nGET /next HTTP/1.1\r\n\r\n")
        #expect(declared.map { $0.refusal?.status } == [413])
        let chunked = try Self.requests("POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n" + String(repeating: "b", count: 64)
            + "\r\n1\r\nc\r\n0\r\n\r\nGET /next HTTP/1.1\r\n\r\n")
        #expect(chunked.map { $0.refusal?.status } == [413])
        #expect(chunked.first?.body == nil)
        var endless = Self.reader(maxHeaderBytes: 100)
        endless.append(ByteBuffer(string: "GET / HTTP/1.1\r\nX-A: " + String(repeating: "a", count: endless.headLimit)))
        #expect(try endless.next()?.refusal?.status == 431, "a head that never ends is refused once it passes the limit")
        #expect(try endless.next() == nil)
    }

    @Test("Framings two readers could disagree on, and bytes that are not a request, are refused as malformed")
    func refusals() throws {
        let cases = [
            "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n": "both Content-Length and Transfer-Encoding",
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n": "does not end in chunked",
            "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n": "two different Content-Length",
            "POST / HTTP/1.1\r\nContent-Length: -3\r\n\r\n": "not a number",
            "POST / HTTP/1.1\r\nContent-Length: 3 3\r\n\r\n": "not a number",
            "GET / HTTP/1.1\r\nX-A: 1\r\n folded\r\n\r\n": "folded",
            "GET / HTTP/1.1\r\nX A: 1\r\n\r\n": "not a token",
            "GET / HTTP/1.1\r\nX-A : 1\r\n\r\n": "not a token",
            "GET / HTTP/1.1\r\nX-A: a\u{0}b\r\n\r\n": "control character",
            "GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n": "control character",
            "HELLO THERE\r\n\r\n": "request target",
            "GET /a b HTTP/1.1\r\n\r\n": "HTTP/1.x",
            "GET / HTTP/2.0\r\n\r\n": "HTTP/1.x",
            "G(T / HTTP/1.1\r\n\r\n": "method",
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n": "not hexadecimal",
        ]
        for (text, reason) in cases {
            let error = Self.malformed(text)
            #expect(error?.contains(reason) == true, "\(String(describing: error)) for \(text.debugDescription)")
        }
        #expect(Self.malformed("GET /ok HTTP/1.1\r\nX-Obs: caf\u{e9}\r\n\r\n") == nil, "bytes above 0x7F are allowed in values")
        var broken = Self.reader()
        broken.append(ByteBuffer(string: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"))
        #expect(throws: HTTPFramingError.self) { try broken.next() }
        #expect(!broken.isReadingRequest, "a connection draining after malformed bytes is not waiting on a body")
        broken.append(ByteBuffer(string: "GET / HTTP/1.1\r\n\r\n"))
        #expect(try broken.next() == nil, "nothing after malformed bytes is read")
    }
}

/// The reader behind real sockets: what a smuggling attempt and a chunked
/// upload get.
@Suite("Client request framing over the socket", .serialized)
struct ClientRequestFramingTests {
    @Test("A chunked upload reaches the upstream whole with its length; a request framed two ways is a 400 and is not forwarded")
    func overTheSocket() async throws {
        let h = try await GatewayHarness.make(files: ["apps/open.json": Fixture.keylessAPI(id: "open", listen: "/open/")])
        try await h.withServer { port in
            let upload = try await LoopbackSocket.exchangeText(port: port, "POST /open/echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                + "4\r\nwiki\r\n5\r\npedia\r\n0\r\n\r\n")
            #expect(upload.hasPrefix("HTTP/1.1 200"), "\(upload.prefix(120))")
            #expect(upload.contains(#""body":"wikipedia""#), "\(upload)")
            #expect(upload.contains(#""content-length":"9""#), "the upstream gets a length, not the client's chunking: \(upload)")
            #expect(!upload.contains("transfer-encoding"), "\(upload)")
            let smuggled = try await LoopbackSocket.exchangeText(port: port, "POST /open/echo HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "0\r\n\r\nGET /open/echo?smuggled HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(smuggled.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), "\(smuggled.prefix(120))")
            #expect(!smuggled.contains("smuggled"), "nothing after the refused request is served: \(smuggled)")
        }
        await h.close()
    }
}
