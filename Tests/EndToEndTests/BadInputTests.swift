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

            let garbage = try await LoopbackSocket.exchangeText(port: port, "HELLO THERE\r\n\r\n", receiveTimeoutSeconds: 2)
            #expect(garbage.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), "\(garbage.prefix(80))")

            let traversal = try await LoopbackSocket.exchangeText(port: port, "GET /open/../tyk/keys/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", receiveTimeoutSeconds: 2)
            #expect(traversal.hasPrefix("HTTP/1.1 403"), "resolved to the admin API, which wants the secret: \(traversal.prefix(60))")
            let above = try await LoopbackSocket.exchangeText(port: port, "GET /open/../../etc/passwd HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", receiveTimeoutSeconds: 2)
            #expect(above.hasPrefix("HTTP/1.1 400"), "\(above.prefix(60))")
            let encoded = try await LoopbackSocket.exchangeText(port: port, "GET /open/%2e%2e/%2E%2E/etc HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", receiveTimeoutSeconds: 2)
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
