import AsyncHTTPClient
import Foundation
import NIOCore
import PortcullisGateway
import PortcullisTestSupport
import Testing

/// Hostile or broken requests over a real socket: refused with the right
/// status, and the server keeps serving.
@Suite("Bad input over the socket", .serialized)
struct BadInputTests {
    /// Sends raw bytes and returns what came back before the server closed or 2 s passed.
    private func raw(_ port: Int, _ bytes: String) async throws -> String {
        guard let received = await LoopbackSocket.exchangeOnOwnThread(port: port, bytes: Array(bytes.utf8)) else {
            throw CancellationError()
        }
        return String(decoding: received, as: UTF8.self)
    }

    @Test("Oversized headers get 431, invalid HTTP gets 400, traversal is resolved or refused, odd keys work")
    func hostileRequests() async throws {
        let h = try await GatewayHarness.make(files: [
            "apps/t.json": Fixture.tokenAPI(id: "tok", listen: "/tok/"),
            "apps/k.json": Fixture.keylessAPI(id: "open", listen: "/open/"),
        ]) { config in config.maxHeaderBytes = 4096 }
        let oddKey = "k+/=:;~!$&'()*,@ü"
        let created = await h.send("/tyk/keys/" + (oddKey.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? oddKey),
                                   method: "POST", headers: [("x-tyk-authorization", GatewayHarness.secret)],
                                   body: Fixture.session(expires: 0, api: "tok"))
        #expect(created.status == 200, "\(created.text)")
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        try await h.withServer { port in
            let base = "http://127.0.0.1:\(port)"
            var big = HTTPClientRequest(url: "\(base)/open/x")
            big.headers.add(name: "X-Big", value: String(repeating: "a", count: 5000))
            #expect(try await client.execute(big, timeout: .seconds(10)).status.code == 431)

            let garbage = try await raw(port, "HELLO THERE\r\n\r\n")
            #expect(garbage.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), "\(garbage.prefix(80))")

            let traversal = try await raw(port, "GET /open/../tyk/keys/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            #expect(traversal.hasPrefix("HTTP/1.1 403"), "resolved to the admin API, which wants the secret: \(traversal.prefix(60))")
            let above = try await raw(port, "GET /open/../../etc/passwd HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            #expect(above.hasPrefix("HTTP/1.1 400"), "\(above.prefix(60))")
            let encoded = try await raw(port, "GET /open/%2e%2e/%2E%2E/etc HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            #expect(encoded.hasPrefix("HTTP/1.1 400"), "\(encoded.prefix(60))")

            var odd = HTTPClientRequest(url: "\(base)/tok/x")
            odd.headers.add(name: "Authorization", value: "k+/=:;~!$&'()*,@\u{fc}")
            let oddResponse = try await client.execute(odd, timeout: .seconds(10))
            #expect(oddResponse.status.code == 200)

            #expect(try await client.execute(HTTPClientRequest(url: "\(base)/open/still-serving"), timeout: .seconds(10)).status.code == 200)
        }
        try await client.shutdown()
        await h.close()
    }
}
