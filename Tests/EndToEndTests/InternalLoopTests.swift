import Foundation
import PortcullisGateway
import PortcullisTestSupport
import Testing

/// `tyk://` loops: a virtual endpoint or a plugin override answering 302
/// with a `tyk://` Location sends the request through an API's pipeline
/// inside the gateway.
@Suite("Internal tyk:// loops")
struct InternalLoopTests {
    private static let plugins = #"""
    function loopSelf(request, session, config) {
      return TykJsResponse({Code: 302, Headers: {"Location": "tyk://self/post_action?method=POST&keep=1"}, Body: ""}, {});
    }
    function loopById(request, session, config) {
      return TykJsResponse({Code: 301, Headers: {"Location": "tyk://other/by-id"}, Body: ""}, {});
    }
    function loopByName(request, session, config) {
      return TykJsResponse({Code: 302, Headers: {"Location": "tyk://My-Other-API/by-name"}, Body: ""}, {});
    }
    function loopForever(request, session, config) {
      return TykJsResponse({Code: 302, Headers: {"Location": "tyk://self/forever?loop_limit=2"}, Body: ""}, {});
    }
    function loopNowhere(request, session, config) {
      return TykJsResponse({Code: 302, Headers: {"Location": "tyk://no-such-api/x"}, Body: ""}, {});
    }
    function notALoop(request, session, config) {
      return TykJsResponse({Code: 302, Headers: {"Location": "https://example.com/elsewhere"}, Body: ""}, {});
    }
    var hookLoop = new TykJS.TykMiddleware.NewMiddleware({});
    hookLoop.NewProcessRequest(function (request, session, config) {
      request.ReturnOverrides.ResponseCode = 302;
      request.ReturnOverrides.ResponseHeaders = {"Location": "tyk://other/hooked"};
      return hookLoop.ReturnData(request, {});
    });
    """#

    private static func virtual(_ function: String, path: String) -> String {
        #"{"response_function_name": "\#(function)", "function_source_type": "file", "function_source_uri": "{{dir}}/plugins.js", "path": "\#(path)", "method": "GET"}"#
    }

    private static func harness() async throws -> GatewayHarness {
        let endpoints = [virtual("loopSelf", path: "/self"), virtual("loopById", path: "/by-id-start"),
                         virtual("loopByName", path: "/by-name-start"), virtual("loopNowhere", path: "/nowhere"),
                         virtual("notALoop", path: "/away"),
                         #"{"response_function_name": "loopForever", "function_source_type": "file", "function_source_uri": "{{dir}}/plugins.js", "path": "forever", "method": "GET"}"#]
        return try await GatewayHarness.make(files: [
            "plugins.js": plugins,
            "apps/ve.json": """
                {"name": "ve", "api_id": "ve", "org_id": "org", "use_keyless": true,
                 "proxy": {"listen_path": "/ve/", "target_url": "{{upstream}}/echo", "strip_listen_path": true},
                 "custom_middleware": {"driver": "otto"},
                 "version_data": {"versions": {"Default": {"extended_paths": {"virtual": [\(endpoints.joined(separator: ","))]}}}}}
                """,
            "apps/other.json": """
                {"name": "My Other API #internal", "api_id": "other", "org_id": "org", "use_keyless": true,
                 "proxy": {"listen_path": "/other/", "target_url": "{{upstream}}/echo", "strip_listen_path": true}}
                """,
            "apps/hooked.json": Fixture.keylessAPI(id: "hooked", listen: "/hooked/", pre: [("hookLoop", "plugins.js")]),
        ])
    }

    @Test("tyk://self runs the request through the same API again, with ?method= changing the verb and the rest of the query kept")
    func selfLoop() async throws {
        let h = try await Self.harness()
        let answer = await h.send("/ve/self?a=b")
        #expect(answer.status == 200, "\(answer.text)")
        #expect(answer.json?["uri"] as? String == "/echo/post_action?keep=1")
        #expect(answer.json?["method"] as? String == "POST")
        await h.close()
    }

    @Test("tyk://<api_id> and tyk://<looping name> reach another API; a plugin override loops too")
    func otherAPI() async throws {
        let h = try await Self.harness()
        #expect(await h.send("/ve/by-id-start").json?["uri"] as? String == "/echo/by-id")
        #expect(await h.send("/ve/by-name-start").json?["uri"] as? String == "/echo/by-name")
        #expect(await h.send("/hooked/x").json?["uri"] as? String == "/echo/hooked")
        await h.close()
    }

    @Test("Past loop_limit, or to an unknown API, a loop is a 500 with Tyk's message; other redirects reach the client")
    func limits() async throws {
        let h = try await Self.harness()
        let deep = await h.send("/ve/forever")
        #expect(deep.status == 500)
        #expect(deep.json?["error"] as? String == "Loop level too deep. Found more than 2 loops in single request")
        let nowhere = await h.send("/ve/nowhere")
        #expect(nowhere.status == 500)
        #expect(nowhere.json?["error"] as? String == "Can't detect loop target")
        let away = await h.send("/ve/away")
        #expect(away.status == 302)
        #expect(away.headers.first("Location") == "https://example.com/elsewhere")
        await h.close()
    }
}
