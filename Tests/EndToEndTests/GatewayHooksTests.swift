import Foundation
import PortcullisGateway
import Testing

/// The JS hooks that run after auth, instead of the upstream, and on the
/// way back: post_key_auth with session meta_data, custom auth, virtual
/// endpoints, response hooks; and what /metrics counts.
@Suite("Gateway hooks", .serialized)
struct GatewayHooksTests {
    static let plugins = """
    var tagger = new TykJS.TykMiddleware.NewMiddleware({});
    tagger.NewProcessRequest(function (request, session, config) {
      var seen = parseInt((session.meta_data && session.meta_data.seen) || "0", 10) + 1;
      request.SetHeaders["X-Seen"] = String(seen);
      return tagger.ReturnData(request, {"seen": String(seen)});
    });

    var customAuth = new TykJS.TykMiddleware.NewMiddleware({});
    customAuth.NewProcessRequest(function (request, session, config) {
      if (request.Headers["X-Password"] != "open-sesame") {
        request.ReturnOverrides.ResponseCode = 401;
        request.ReturnOverrides.ResponseError = "Not authorized (JS middleware)";
        return customAuth.ReturnAuthData(request, {});
      }
      var result = customAuth.ReturnAuthData(request, {"expires": 0, "access_rights": {"custom": {"api_id": "custom"}}});
      result.AuthValue = "custom-user-1";
      return result;
    });

    var rewriter = new TykJS.TykMiddleware.NewMiddleware({});
    rewriter.NewProcessResponse(function (response, request, session, config) {
      if (response.Body.charAt(0) !== "{") { return rewriter.ReturnResponseData(response, {}); }
      response.StatusCode = 201;
      response.SetHeaders = {"X-Rewritten": "yes"};
      response.Body = "rewritten: " + JSON.parse(response.Body).method;
      return rewriter.ReturnResponseData(response, {});
    });

    function echoVirtual(request, session, config) {
      return TykJsResponse({Body: "virtual " + request.Params["q"][0], Headers: {"X-Virtual": "1"}, Code: 203}, {});
    }
    """

    private func harness() async throws -> GatewayHarness {
        try await GatewayHarness.make(files: [
            "apps/meta.json": Fixture.tokenAPI(id: "meta", listen: "/meta/", postKeyAuth: [("tagger", "plugins.js")]),
            "apps/custom.json": """
            {"api_id": "custom", "use_keyless": false, "custom_plugin_auth_enabled": true,
             "proxy": {"listen_path": "/custom/", "target_url": "{{upstream}}/echo", "strip_listen_path": true},
             "custom_middleware": {"driver": "otto", "auth_check": {"name": "customAuth", "path": "{{dir}}/plugins.js"},
                                   "response": [{"name": "rewriter", "path": "{{dir}}/plugins.js"}]},
             "version_data": {"versions": {"Default": {"extended_paths": {"virtual": [
               {"response_function_name": "echoVirtual", "function_source_type": "file",
                "function_source_uri": "{{dir}}/plugins.js", "path": "/virtual", "method": "GET"}]}}}}}
            """,
            "plugins.js": Self.plugins,
        ])
    }

    @Test("A require_session post_key_auth hook sees the session and its meta_data is stored")
    func metaData() async throws {
        let h = try await harness()
        await h.createKey("meta-key", Fixture.session(expires: 0, api: "meta"))
        for expected in 1...3 {
            let response = await h.send("/meta/x", headers: [("Authorization", "meta-key")])
            let headers = response.json?["headers"] as? [String: String]
            #expect(headers?["x-seen"] == String(expected), "\(response.text)")
        }
        #expect((await h.session("meta-key")?["meta_data"] as? [String: String])?["seen"] == "3")
        await h.close()
    }

    @Test("Custom JS auth: refusal from the hook, acceptance stores the session under AuthValue; response hooks rewrite")
    func customAuthAndResponse() async throws {
        let h = try await harness()
        let refused = await h.send("/custom/x")
        #expect(refused.status == 401)
        #expect(refused.json?["error"] as? String == "Not authorized (JS middleware)")
        let accepted = await h.send("/custom/x", headers: [("X-Password", "open-sesame")])
        #expect(accepted.status == 201, "\(accepted.text)")
        #expect(accepted.text == "rewritten: GET")
        #expect(accepted.headers.first("X-Rewritten") == "yes")
        #expect(await h.session("custom-user-1") != nil)
        await h.close()
    }

    @Test("A virtual endpoint answers without the upstream; its answer passes the response hooks")
    func virtualEndpoint() async throws {
        let h = try await harness()
        let before = h.upstream.requestCount
        let response = await h.send("/custom/virtual?q=42", headers: [("X-Password", "open-sesame")])
        #expect(response.headers.first("X-Virtual") == "1")
        #expect(response.text.hasPrefix("rewritten") == false)
        #expect(response.status == 203)
        #expect(response.text == "virtual 42")
        #expect(h.upstream.requestCount == before)
        await h.close()
    }

    @Test("/metrics counts requests by API and status, errors by a bounded reason, and plugin writes")
    func metrics() async throws {
        let h = try await harness()
        await h.createKey("metric-key", Fixture.session(expires: 0, api: "meta"))
        _ = await h.send("/meta/x", headers: [("Authorization", "metric-key")])
        _ = await h.send("/meta/x")
        // A plugin's own error text must not become a label value.
        #expect(await h.send("/custom/x").status == 401)
        let text = await h.send("/metrics").text
        #expect(text.contains(#"portcullis_requests_total{api_id="meta",code="200"} 1"#), "\(text)")
        #expect(text.contains(#"portcullis_requests_total{api_id="meta",code="401"} 1"#))
        #expect(text.contains(#"portcullis_request_errors_total{api_id="meta",reason="authorization_missing"} 1"#))
        #expect(text.contains(#"portcullis_request_errors_total{api_id="custom",reason="plugin_override"} 1"#), "\(text)")
        #expect(!text.contains("Not authorized (JS middleware)"), "the plugin's text stays out of the labels")
        await h.close()
    }

    @Test("Plugins in middleware_path/<api_id>/pre and post are loaded by file name, after the declared hooks")
    func middlewareFolder() async throws {
        let h = try await GatewayHarness.make(files: [
            "apps/folder.json": Fixture.keylessAPI(id: "folder", listen: "/folder/"),
            "middleware/folder/pre/stampPre.js": """
            var stampPre = new TykJS.TykMiddleware.NewMiddleware({});
            stampPre.NewProcessRequest(function (r) { r.SetHeaders["X-Folder-Pre"] = "1"; return stampPre.ReturnData(r, {}); });
            """,
            "middleware/folder/post/stampPost.js": """
            var stampPost = new TykJS.TykMiddleware.NewMiddleware({});
            stampPost.NewProcessRequest(function (r) { r.SetHeaders["X-Folder-Post"] = "1"; return stampPost.ReturnData(r, {}); });
            """,
            "middleware/folder/post/notes.txt": "not a plugin",
        ]) { config in config.middlewarePath = config.appPath.replacingOccurrences(of: "/apps", with: "/middleware") }
        let response = await h.send("/folder/x")
        let headers = response.json?["headers"] as? [String: String]
        #expect(headers?["x-folder-pre"] == "1", "\(response.text)")
        #expect(headers?["x-folder-post"] == "1")
        await h.close()
    }
}
