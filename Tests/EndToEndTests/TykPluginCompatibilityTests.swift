import Foundation
@testable import PortcullisGateway
@testable import PortcullisJS
import PortcullisTestSupport
import Testing

/// Plugins written the way third-party Tyk plugins are written, and the
/// bytes Tyk's source says they get back: error bodies, override
/// precedence, underscore, lower-case HTTP call keys, query and header
/// encoding, null sessions, unanchored virtual paths, sniffed types.
@Suite("Tyk plugin compatibility")
struct TykPluginCompatibilityTests {
    /// A keyless API on `/<id>/` with the given hooks and extra definition text.
    private static func api(_ id: String, driver: String = "otto", pre: [String] = [], post: [String] = [],
                            response: [String] = [], virtual: String = "", extra: String = "") -> String {
        func hooks(_ names: [String], session: Bool = false) -> String {
            names.map { #"{"name": "\#($0)", "path": "{{dir}}/plugins.js", "require_session": \#(session)}"# }.joined(separator: ",")
        }
        let versions = virtual.isEmpty ? "" : #", "version_data": {"versions": {"Default": {"extended_paths": {"virtual": [\#(virtual)]}}}}"#
        return """
        {"name": "\(id)", "api_id": "\(id)", "org_id": "org", "use_keyless": true,
         "proxy": {"listen_path": "/\(id)/", "target_url": "{{upstream}}/echo", "strip_listen_path": true},
         "config_data": {"upstream": "{{upstream}}"},
         "custom_middleware": {"driver": "\(driver)", "pre": [\(hooks(pre))], "post": [\(hooks(post, session: true))],
                               "response": [\(hooks(response))]} \(versions) \(extra)}
        """
    }

    private static func virtual(_ function: String, path: String) -> String {
        #"{"response_function_name": "\#(function)", "function_source_type": "file", "function_source_uri": "{{dir}}/plugins.js", "path": "\#(path)", "method": "GET"}"#
    }

    private static let plugins = #"""
    function hook(name, body) {
      var mw = new TykJS.TykMiddleware.NewMiddleware({});
      mw.NewProcessRequest(function (request, session, config) { return body(mw, request, session, config); });
      this[name] = mw;
    }
    hook("override200", function (mw, request) {
      request.ReturnOverrides.ResponseCode = 200;
      request.ReturnOverrides.ResponseBody = "body text";
      request.ReturnOverrides.ResponseError = "error text";
      return mw.ReturnData(request, {});
    });
    hook("overrideError403", function (mw, request) {
      request.ReturnOverrides.ResponseCode = 403;
      request.ReturnOverrides.ResponseError = "no \"entry\"\nhere";
      request.ReturnOverrides.OverrideError = true;
      return mw.ReturnData(request, {});
    });
    hook("template403", function (mw, request) {
      request.ReturnOverrides.ResponseCode = 403;
      request.ReturnOverrides.ResponseBody = "from body";
      return mw.ReturnData(request, {});
    });
    hook("codeZero", function (mw, request) {
      request.ReturnOverrides.ResponseError = "ignored without a code";
      return mw.ReturnData(request, {});
    });
    hook("templateBoth", function (mw, request) {
      request.ReturnOverrides.ResponseCode = 429;
      request.ReturnOverrides.ResponseError = "slow down";
      request.ReturnOverrides.ResponseBody = "unused body";
      request.ReturnOverrides.ResponseHeaders = {"X-Reason": "burst"};
      return mw.ReturnData(request, {});
    });
    hook("redirect", function (mw, request) {
      request.ReturnOverrides.ResponseCode = 302;
      request.ReturnOverrides.ResponseBody = "moved";
      request.ReturnOverrides.ResponseHeaders = {"Location": "https://example.com/new"};
      return mw.ReturnData(request, {});
    });
    hook("underscore", function (mw, request) {
      var users = [{name: "ada", admin: true}, {name: "bo", admin: false}];
      var admin = _.find(users, function (u) { return u.admin; });
      var tries = [];
      _.times(3, function (i) { tries.push(i); });
      request.SetHeaders["X-Admin"] = admin.name;
      request.SetHeaders["X-Times"] = tries.join(",");
      request.SetHeaders["X-Contains"] = String(_.contains(["a", "b"], "b"));
      return mw.ReturnData(request, {});
    });
    hook("noUnderscore", function (mw, request) {
      request.SetHeaders["X-Underscore"] = typeof _;
      return mw.ReturnData(request, {});
    });
    hook("lowercaseCall", function (mw, request, session, config) {
      var reply = TykMakeHttpRequest(JSON.stringify({
        method: "POST", domain: config.config_data.upstream, resource: "/echo/called",
        headers: {"X-From": "plugin"}, body: "payload"
      }));
      var parsed = JSON.parse(reply);
      var echo = JSON.parse(parsed.body);
      request.SetHeaders["X-Called"] = echo.method + " " + echo.uri + " " + echo.body + " " + parsed.Code + "/" + parsed.code;
      var batch = JSON.parse(TykBatchRequest(JSON.stringify({
        Requests: [{Method: "GET", Relative_URL: config.config_data.upstream + "/status/201"}]
      })));
      request.SetHeaders["X-Batch"] = String(batch[0].code);
      return mw.ReturnData(request, {});
    });
    hook("params", function (mw, request) {
      request.AddParams["b"] = "x y";
      request.DeleteParams.push("z");
      return mw.ReturnData(request, {});
    });
    hook("paramsUnchanged", function (mw, request) {
      request.AddParams["a"] = "3";
      request.DeleteParams.push("missing");
      return mw.ReturnData(request, {});
    });
    hook("headerNames", function (mw, request) {
      request.SetHeaders["X-Keys"] = Object.keys(request.Headers).join(",");
      request.SetHeaders["x-custom-id"] = "7";
      return mw.ReturnData(request, {});
    });
    hook("sessionKind", function (mw, request, session) {
      request.SetHeaders["X-Session"] = session === null ? "null" : typeof session;
      return mw.ReturnData(request, {});
    });
    function logout(request, session, config) {
      return TykJsResponse({Body: "bye from " + request.URL, Code: 200}, {});
    }
    function plainJSON(request, session, config) {
      return TykJsResponse({Body: '{"ok": true}', Code: 200}, {});
    }
    function markup(request, session, config) {
      return TykJsResponse({Body: '  <html><body>hi</body></html>', Code: 200}, {});
    }
    var dropType = new TykJS.TykMiddleware.NewMiddleware({});
    dropType.NewProcessResponse(function (response, request, session, config) {
      response.DeleteHeaders.push("Content-Type");
      response.Body = "plain words";
      return dropType.ReturnResponseData(response, {});
    });
    """#

    private static func harness(configure: (inout GatewayConfig) -> Void = { _ in }) async throws -> GatewayHarness {
        var files = ["plugins.js": plugins]
        let apis: [(String, String)] = [
            ("override200", api("override200", pre: ["override200"])),
            ("overrideerror", api("overrideerror", pre: ["overrideError403"])),
            ("template", api("template", pre: ["template403"])),
            ("codezero", api("codezero", pre: ["codeZero"])),
            ("templateboth", api("templateboth", pre: ["templateBoth"])),
            ("redirect", api("redirect", pre: ["redirect"])),
            ("underscore", api("underscore", pre: ["underscore"])),
            ("goja", api("goja", driver: "javascript", pre: ["noUnderscore"])),
            ("call", api("call", pre: ["lowercaseCall"])),
            ("params", api("params", pre: ["params"])),
            ("unchanged", api("unchanged", pre: ["paramsUnchanged"])),
            ("headers", api("headers", pre: ["headerNames"])),
            ("session", api("session", post: ["sessionKind"])),
            ("ve", api("ve", virtual: [virtual("logout", path: "logout"), virtual("plainJSON", path: "/status"),
                                       virtual("markup", path: "/page/{name}")].joined(separator: ","))),
            ("sniff", api("sniff", response: ["dropType"])),
            ("token", #"""
                {"name": "token", "api_id": "token", "org_id": "org", "use_keyless": false,
                 "auth": {"auth_header_name": "Authorization"},
                 "proxy": {"listen_path": "/token/", "target_url": "{{upstream}}/echo", "strip_listen_path": true}}
                """#),
        ]
        for (name, text) in apis { files["apps/\(name).json"] = text }
        return try await GatewayHarness.make(files: files, configure: configure)
    }

    private static func echoedURI(_ response: GatewayResponse) -> String? {
        response.json?["uri"] as? String
    }

    private static func echoedHeaders(_ response: GatewayResponse) -> [String: Any] {
        response.json?["headers"] as? [String: Any] ?? [:]
    }

    @Test("Error bodies are Tyk's error.json bytes, JSON-escaped; an XML request gets error.xml")
    func errorBodies() async throws {
        let h = try await Self.harness()
        let missing = await h.send("/token/x")
        #expect(missing.status == 401)
        #expect(missing.text == "{\n    \"error\": \"Authorization field missing\"\n}")
        #expect(missing.headers.first("Content-Type") == "application/json")
        let xml = await h.send("/token/x", headers: [("Content-Type", "text/xml; charset=utf-8")])
        #expect(xml.text == "<?xml version = \"1.0\" encoding = \"UTF-8\"?>\n<error>Authorization field missing</error>")
        #expect(xml.headers.first("Content-Type") == "text/xml")
        let template = await h.send("/template/x")
        #expect(template.status == 403)
        #expect(template.text == "{\n    \"error\": \"from body\"\n}")
        await h.close()
    }

    @Test("A non-empty ResponseError replaces ResponseBody before Tyk picks the template or a raw answer")
    func responseErrorPrecedence() async throws {
        let h = try await Self.harness()
        let ok = await h.send("/override200/x")
        #expect(ok.status == 200)
        #expect(ok.text == "error text")
        let raw = await h.send("/overrideerror/x")
        #expect(raw.status == 403)
        #expect(raw.text == "no \"entry\"\nhere")
        let zero = await h.send("/codezero/x")
        #expect(zero.status == 200)
        #expect(Self.echoedURI(zero) == "/echo/x", "code 0 goes on to the upstream")
        let both = await h.send("/templateboth/x")
        #expect(both.status == 429)
        #expect(both.text == "{\n    \"error\": \"slow down\"\n}")
        #expect(both.headers.first("X-Reason") == "burst")
        let moved = await h.send("/redirect/x")
        #expect(moved.status == 302)
        #expect(moved.text == "moved")
        #expect(moved.headers.first("Location") == "https://example.com/new")
        await h.close()
    }

    @Test("otto plugins get underscore as _; javascript (goja) plugins do not")
    func underscore() async throws {
        let h = try await Self.harness()
        let otto = Self.echoedHeaders(await h.send("/underscore/x"))
        #expect(otto["x-admin"] as? String == "ada")
        #expect(otto["x-times"] as? String == "0,1,2")
        #expect(otto["x-contains"] as? String == "true")
        let goja = Self.echoedHeaders(await h.send("/goja/x"))
        #expect(goja["x-underscore"] as? String == "undefined")
        await h.close()
    }

    @Test("TykMakeHttpRequest and TykBatchRequest read their keys in any letter case, as Go's JSON decoding does")
    func lowercaseKeys() async throws {
        let h = try await Self.harness()
        let headers = Self.echoedHeaders(await h.send("/call/x"))
        #expect(headers["x-called"] as? String == "POST /echo/called payload 200/200", "\(headers)")
        #expect(headers["x-batch"] as? String == "201", "\(headers)")
        await h.close()
    }

    @Test("Changed params rebuild the query as url.Values.Encode writes it; unchanged params leave it as sent")
    func queryEncoding() async throws {
        let h = try await Self.harness()
        #expect(Self.echoedURI(await h.send("/params/p?z=1&c=2&a=3")) == "/echo/p?a=3&b=x+y&c=2")
        #expect(Self.echoedURI(await h.send("/unchanged/p?c=2&a=3")) == "/echo/p?c=2&a=3")
        await h.close()
    }

    @Test("request.Headers keys are canonical and sorted; SetHeaders names are canonical unless ignore_canonical_mime_header_key")
    func headerNames() async throws {
        let sent: [(String, String)] = [("zeta", "1"), ("foo_bar", "2"), ("X-JWT-Assertion", "3")]
        let h = try await Self.harness()
        let canonical = Self.echoedHeaders(await h.send("/headers/x", headers: sent))
        #expect(canonical["x-keys"] as? String == "Foo_bar,X-Jwt-Assertion,Zeta", "\(canonical)")
        #expect(canonical["x-custom-id"] as? String == "7", "\(canonical)")
        await h.close()
    }

    @Test("SetHeaders names are written canonical, or as the plugin spelled them with ignore_canonical_mime_header_key")
    func headerSpelling() throws {
        let h = try GatewayRequestProbe.request()
        var changed = MiniRequest()
        changed.setHeaders = ["x-custom-id": "7"]
        var canonical = h
        try canonical.apply(changed, bodyEncoding: .utf8)
        #expect(canonical.headers.storage.map(\.name).contains("X-Custom-Id"))
        var kept = h
        try kept.apply(changed, bodyEncoding: .utf8, keepHeaderSpelling: true)
        #expect(kept.headers.storage.map(\.name).contains("x-custom-id"))
    }

    @Test("A require_session hook on a keyless API gets null as its session")
    func nullSession() async throws {
        let h = try await Self.harness()
        #expect(Self.echoedHeaders(await h.send("/session/x"))["x-session"] as? String == "null")
        await h.close()
    }

    @Test("Virtual endpoint paths match as Tyk's unanchored patterns: no leading slash, a prefix, a mux template")
    func virtualPaths() async throws {
        let h = try await Self.harness()
        let logout = await h.send("/ve/api/logout")
        #expect(logout.status == 200)
        #expect(logout.text == "bye from /ve/api/logout")
        #expect(await h.send("/ve/status/all").text == #"{"ok": true}"#)
        #expect(await h.send("/ve/page/home").text.contains("<html>"))
        #expect(await h.send("/ve/other").json?["uri"] as? String == "/echo/other")
        await h.close()
        let anchored = try await Self.harness { $0.pathPrefixMatching = true; $0.pathSuffixMatching = true }
        #expect(await anchored.send("/ve/status/all").json?["uri"] as? String == "/echo/status/all")
        #expect(await anchored.send("/ve/status").text == #"{"ok": true}"#)
        await anchored.close()
    }

    @Test("A body sent without Content-Type gets the type Go's server sniffs")
    func sniffedContentType() async throws {
        let h = try await Self.harness()
        try await h.withServer { port in
            func typeOf(_ path: String) async -> String? {
                let request = "GET \(path) HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
                guard let bytes = await LoopbackSocket.exchangeOnOwnThread(port: port, bytes: Array(request.utf8), receiveTimeoutSeconds: 5) else {
                    return nil
                }
                let head = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n\r\n")[0]
                return head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-type:") }
                    .map { $0.dropFirst("content-type:".count).trimmingCharacters(in: .whitespaces) }
            }
            #expect(await typeOf("/ve/status") == "text/plain; charset=utf-8")
            #expect(await typeOf("/ve/page/home") == "text/html; charset=utf-8")
            #expect(await typeOf("/sniff/x") == "text/plain; charset=utf-8")
        }
        await h.close()
    }
}

@Suite("Hook request text")
struct HookRequestTextTests {
    @Test("The hook's request text written from the header fields equals the one written from the header map")
    func sameText() throws {
        let headers = HeaderList([("x-b", "2"), ("Accept", "a"), ("X-B", "3"), ("foo_bar", "q\"uote"), ("host", "h.example"),
                                  ("X-JWT-Assertion", "t"), ("zeta", "z")])
        let request = try GatewayRequestProbe.request(headers: headers, query: "b=2&a=1&a=0")
        let (mini, _) = request.miniRequest()
        let (hook, _, json) = request.hookRequest()
        #expect(json == mini.jsonText())
        #expect(json.contains(#""Headers":{"Accept":["a"],"Foo_bar":["q\"uote"],"Host":["h.example"],"X-B":["2","3"],"X-Jwt-Assertion":["t"],"Zeta":["z"]}"#), "\(json)")
        #expect(hook.headers.isEmpty)
        #expect(hook.body == mini.body && hook.url == mini.url)
    }
}

/// A request on a minimal API, for checking what applying a hook's result does.
enum GatewayRequestProbe {
    static func request(headers: HeaderList = HeaderList(), query: String? = nil) throws -> GatewayRequest {
        let text = #"{"api_id": "probe", "use_keyless": true, "proxy": {"listen_path": "/probe/", "target_url": "http://127.0.0.1:1"}}"#
        let (definition, _) = try APIDefinitionParser.parse(text, file: "probe.json", readFile: { _ in "" })
        let api = LoadedAPI(definition: definition, realm: "probe@0")
        return GatewayRequest(id: "r", api: api, method: "GET", path: "/probe/x", query: query, headers: headers, body: [])
    }
}
