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
    func hopByHopDropped() {
        let hopByHop = ["Connection", "KEEP-ALIVE", "proxy-authenticate", "Proxy-Authorization", "TE", "Trailer",
                        "transfer-encoding", "Upgrade", "Content-Length"]
        let kept = ["Date", "Server", "Content-Type", "X-Te", "Keep-Alive-X", "Connections", "X-Content-Length", "Trailers"]
        var headers = HTTPHeaders()
        for (index, name) in (hopByHop + kept).enumerated() { headers.add(name: name, value: "v\(index)") }
        let filtered = UpstreamHeaders.withoutHopByHop(headers)
        #expect(filtered.map(\.name) == kept)
        let forHead = UpstreamHeaders.withoutHopByHop(headers, keepingLength: true)
        #expect(forHead.map(\.name) == ["Content-Length"] + kept)
        var plain = HTTPHeaders()
        plain.add(name: "Date", value: "today")
        #expect(UpstreamHeaders.withoutHopByHop(plain).map(\.name) == ["Date"])
    }
}
