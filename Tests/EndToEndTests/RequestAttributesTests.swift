import AsyncHTTPClient
import Foundation
import PortcullisGateway
import Testing

/// `request.RemoteAddr`, `Host`, `APIID`, `APIName` and `ListenPath`:
/// what a plugin can see that Tyk never passed (Tyk issues 961, 994).
@Suite("Request attributes")
struct RequestAttributesTests {
    static let plugin = """
    var attrs = new TykJS.TykMiddleware.NewMiddleware({});
    attrs.NewProcessRequest(function (request, session, config) {
        request.SetHeaders["X-Seen"] = [request.RemoteAddr, request.Host, request.APIID, request.APIName, request.ListenPath].join("|");
        request.RemoteAddr = "10.0.0.1";
        return attrs.ReturnData(request, {});
    });
    function attrsVirtual(request, session, config) {
        return TykJsResponse({Code: 200, Headers: {},
            Body: [request.RemoteAddr, request.Host, request.APIID, request.ListenPath].join("|")}, {});
    }
    """

    @Test("Over a real socket a pre hook and a virtual endpoint see the client address, the Host header and the matched API")
    func overSocket() async throws {
        let h = try await GatewayHarness.make(files: [
            "apps/open.json": Fixture.keylessAPI(id: "open-api", listen: "/open/", pre: [("attrs", "attrs.js")]),
            "attrs.js": Self.plugin,
            "apps/virtual.json": FailClosedTests.virtualAPI(id: "vapi", function: "attrsVirtual")
                .replacingOccurrences(of: "{{dir}}/plugins.js", with: "{{dir}}/attrs.js"),
        ])
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        try await h.withServer { port in
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/open/echo")
            request.headers.replaceOrAdd(name: "Host", value: "api.example.test")
            let response = try await client.execute(request, timeout: .seconds(10))
            let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
            #expect(response.status.code == 200)
            let echoed = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
            let headers = echoed?["headers"] as? [String: String]
            #expect(headers?["x-seen"] == "127.0.0.1|api.example.test|open-api|open-api|/open/", "\(body)")
            // Assigning to an attribute changes nothing the gateway sends upstream.
            #expect(!body.contains("10.0.0.1"))
            var virtual = HTTPClientRequest(url: "http://127.0.0.1:\(port)/vapi/v")
            virtual.headers.replaceOrAdd(name: "Host", value: "virtual.example.test")
            let answer = try await client.execute(virtual, timeout: .seconds(10))
            #expect(String(buffer: try await answer.body.collect(upTo: 1 << 16)) == "127.0.0.1|virtual.example.test|vapi|/vapi/")
        }
        try await client.shutdown()
        await h.close()
    }
}
