import Foundation
import PortcullisGateway
import PortcullisTestSupport
import Testing

/// How the gateway reads upstream answers framed in each way HTTP/1.1
/// allows, over real sockets, and what the client gets: always one answer
/// with the whole body and its own Content-Length.
@Suite("Upstream framing", .serialized)
struct UpstreamFramingTests {
    /// Sends one request through a gateway whose only API proxies to
    /// `answer`, and returns the raw bytes the client received.
    private static func proxied(answer: String, closeAfter: Bool = false, method: String = "GET") async throws -> String {
        let upstream = try await ScriptedUpstream.start(answer: answer, closeAfter: closeAfter)
        let api = """
        {"name": "up", "api_id": "up", "org_id": "org", "use_keyless": true,
         "proxy": {"listen_path": "/up/", "target_url": "\(upstream.base)", "strip_listen_path": true}}
        """
        let h = try await GatewayHarness.make(files: ["apps/up.json": api])
        var received = ""
        try await h.withServer { port in
            let request = "\(method) /up/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
            received = try await LoopbackSocket.exchangeText(port: port, request)
        }
        await h.close()
        await upstream.stop()
        return received
    }

    private static func body(of answer: String) -> String {
        answer.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
    }

    private static func header(_ name: String, in answer: String) -> String? {
        let head = answer.components(separatedBy: "\r\n\r\n").first ?? ""
        for line in head.components(separatedBy: "\r\n").dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == name.lowercased() { return parts[1].trimmingCharacters(in: .whitespaces) }
        }
        return nil
    }

    @Test("A chunked answer with a chunk extension and a trailer reaches the client whole, with its length and no chunking")
    func chunked() async throws {
        let answer = try await Self.proxied(answer: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Up: 1\r\n\r\n"
            + "5;note=first\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n")
        #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer)")
        #expect(Self.body(of: answer) == "hello world")
        #expect(Self.header("Content-Length", in: answer) == "11")
        #expect(Self.header("Transfer-Encoding", in: answer) == nil)
        #expect(Self.header("X-Up", in: answer) == "1")
    }

    @Test("An answer whose body ends when the upstream closes reaches the client whole, with its length")
    func closeDelimited() async throws {
        let answer = try await Self.proxied(answer: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nuntil the end",
                                            closeAfter: true)
        #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer)")
        #expect(Self.body(of: answer) == "until the end")
        #expect(Self.header("Content-Length", in: answer) == "13")
    }

    @Test("An interim 100 Continue is not passed on; the final answer is")
    func interimAnswer() async throws {
        let answer = try await Self.proxied(answer: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 4\r\n\r\nmade")
        #expect(answer.hasPrefix("HTTP/1.1 201"), "\(answer)")
        #expect(!answer.contains("100 Continue"))
        #expect(Self.body(of: answer) == "made")
    }

    @Test("An HTTP/1.0 answer with a length is served as HTTP/1.1 to the client")
    func http10() async throws {
        let answer = try await Self.proxied(answer: "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nold", closeAfter: true)
        #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer)")
        #expect(Self.body(of: answer) == "old")
    }

    @Test("An answer to HEAD has no body even when the upstream states a length")
    func headAnswer() async throws {
        let answer = try await Self.proxied(answer: "HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n", method: "HEAD")
        #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer)")
        #expect(Self.header("Content-Length", in: answer) == "42")
        #expect(Self.body(of: answer).isEmpty)
    }

    @Test("Broken framing from the upstream (a chunk size that is not hex) is a 502 to the client")
    func brokenChunking() async throws {
        let answer = try await Self.proxied(answer: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n")
        #expect(answer.hasPrefix("HTTP/1.1 502"), "\(answer)")
    }
}
