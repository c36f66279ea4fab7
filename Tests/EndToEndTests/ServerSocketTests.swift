import AsyncHTTPClient
import Foundation
import NIOCore
import PortcullisGateway
import Testing

/// The gateway behind its real HTTP server, over loopback sockets.
@Suite("HTTP server", .serialized)
struct ServerSocketTests {
    @Test("Requests over a socket reach the pipeline; a renewal in a pre hook serves the same request; big bodies get 413")
    func overSockets() async throws {
        let h = try await GatewayHarness.make(files: [
            "apps/forum.json": Fixture.tokenAPI(id: "forum-api", listen: "/forum/", header: "x-session-key",
                                                pre: [("forumRenewal", "forum-renewal.js")]),
            "forum-renewal.js": try Fixture.forumRenewal,
        ]) { config in config.maxRequestBodySize = 1024 }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        try await h.withServer { port in
            let base = "http://127.0.0.1:\(port)"
            var request = HTTPClientRequest(url: "\(base)/forum/items?x=1")
            request.headers.add(name: "x-session-key", value: "socket-key")
            let response = try await client.execute(request, timeout: .seconds(10))
            let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
            #expect(response.status.code == 200, "\(body)")
            let echo = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
            #expect(echo?["uri"] as? String == "/echo/items?x=1")
            #expect((echo?["headers"] as? [String: String])?["x-forwarded-for"] == "127.0.0.1")

            var big = HTTPClientRequest(url: "\(base)/forum/items")
            big.method = .POST
            big.headers.add(name: "x-session-key", value: "socket-key")
            big.body = .bytes(ByteBuffer(repeating: 0x41, count: 4096))
            let tooBig = try await client.execute(big, timeout: .seconds(10))
            #expect(tooBig.status.code == 413)

            let hello = try await client.execute(HTTPClientRequest(url: "\(base)/hello"), timeout: .seconds(10))
            #expect(hello.status.code == 200)
        }
        try await client.shutdown()
        await h.close()
    }
}
