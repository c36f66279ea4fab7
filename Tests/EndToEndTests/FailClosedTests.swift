import Foundation
import PortcullisGateway
import PortcullisScenarios
import PortcullisTestSupport
import Testing

/// A plugin that guards access and fails must refuse the request: it never
/// reaches the upstream. (Tyk forwards a crashed virtual endpoint upstream
/// and skips a timed-out auth hook.)
@Suite("Fail closed when a guarding plugin fails")
struct FailClosedTests {
    static let plugins = """
    var throwingAuth = new TykJS.TykMiddleware.NewMiddleware({});
    throwingAuth.NewProcessRequest(function (request, session, config) {
        throw new Error("identity provider said no");
    });
    var loopingAuth = new TykJS.TykMiddleware.NewMiddleware({});
    loopingAuth.NewProcessRequest(function (request, session, config) {
        while (true) {}
    });
    var headerThenThrow = new TykJS.TykMiddleware.NewMiddleware({});
    headerThenThrow.NewProcessRequest(function (request, session, config) {
        request.SetHeaders["Authorization"] = "good-key";
        throw new Error("failed after choosing a key");
    });
    function throwingVirtual(request, session, config) {
        throw new Error("virtual endpoint broke");
    }
    function loopingVirtual(request, session, config) {
        for (;;) {}
    }
    """

    static func customAuthAPI(id: String, hook: String) -> String {
        """
        {"api_id": "\(id)", "use_keyless": false, "custom_plugin_auth_enabled": true,
         "proxy": {"listen_path": "/\(id)/", "target_url": "{{upstream}}/echo", "strip_listen_path": true},
         "custom_middleware": {"driver": "otto", "auth_check": {"name": "\(hook)", "path": "{{dir}}/plugins.js"}}}
        """
    }

    static func virtualAPI(id: String, function: String) -> String {
        """
        {"api_id": "\(id)", "use_keyless": true,
         "proxy": {"listen_path": "/\(id)/", "target_url": "{{upstream}}/echo", "strip_listen_path": true},
         "version_data": {"versions": {"Default": {"extended_paths": {"virtual": [
           {"response_function_name": "\(function)", "function_source_type": "file",
            "function_source_uri": "{{dir}}/plugins.js", "path": "/v", "method": "GET"}]}}}}}
        """
    }

    @Test("auth_check, pre hooks and virtual endpoints that throw answer 500, that time out answer 504; the upstream sees nothing")
    func guardingPluginsFailClosed() async throws {
        let logs = LogBook()
        let h = try await GatewayHarness.make(files: [
            "apps/a.json": Self.customAuthAPI(id: "throwauth", hook: "throwingAuth"),
            "apps/b.json": Self.customAuthAPI(id: "loopauth", hook: "loopingAuth"),
            "apps/c.json": Fixture.tokenAPI(id: "headerthrow", listen: "/headerthrow/", pre: [("headerThenThrow", "plugins.js")]),
            "apps/d.json": Self.virtualAPI(id: "throwvirtual", function: "throwingVirtual"),
            "apps/e.json": Self.virtualAPI(id: "loopvirtual", function: "loopingVirtual"),
            "apps/ok.json": Fixture.keylessAPI(id: "healthy", listen: "/healthy/"),
            "plugins.js": Self.plugins,
        ], logs: logs) { config in config.jsvmTimeout = 0.3 }
        await h.createKey("good-key", Fixture.session(expires: 0, api: "headerthrow"))
        let virtualError = "Error during virtual endpoint execution. Contact Administrator for more details."
        let cases: [(String, Int, String, String)] = [
            ("/throwauth/x", 500, "Internal Server Error", "identity provider said no"),
            ("/loopauth/x", 504, "Middleware timed out", "plugin loopingAuth was stopped"),
            ("/headerthrow/x", 500, "Internal Server Error", "failed after choosing a key"),
            ("/throwvirtual/v", 500, virtualError, "virtual endpoint broke"),
            ("/loopvirtual/v", 504, "Virtual endpoint timed out. Contact Administrator for more details.", "plugin loopingVirtual was stopped"),
        ]
        for (path, status, message, logged) in cases {
            let mark = logs.count
            let response = await h.send(path, headers: [("Authorization", "good-key")])
            #expect(response.status == status, "\(path): \(response.text)")
            #expect(response.json?["error"] as? String == message)
            let lines = logs.since(mark).filter { $0.level >= .error }.map(\.text)
            #expect(lines.contains { $0.contains(logged) && $0.contains("plugins.js") || $0.contains(logged) && status == 504 },
                    "\(path): \(lines)")
            let healthy = await h.send("/healthy/x")
            #expect(healthy.status == 200, "the gateway keeps serving after \(path)")
        }
        #expect(h.upstream.requestCount == cases.count, "only the healthy API's requests reached the upstream")
        await h.close()
    }
}
