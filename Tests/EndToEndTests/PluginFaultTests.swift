import Foundation
import PortcullisGateway
import PortcullisScenarios
import PortcullisTestSupport
import Testing

/// Every way a plugin can misbehave gets a clear status, a log line a
/// plugin author can act on, and leaves the gateway serving.
@Suite("Plugin faults")
struct PluginFaultTests {
    static let plugins = """
    function hook(name, body) {
        var mw = new TykJS.TykMiddleware.NewMiddleware({});
        mw.NewProcessRequest(body);
        this[name] = mw;
    }
    hook("infinite", function (request, session, config) { while (true) {} });
    hook("recursion", function (request, session, config) {
        function down(n) { return down(n + 1) + 1; }
        return down(0);
    });
    hook("exception", function (request, session, config) {
        var missing = undefined;
        return missing.field;
    });
    hook("garbage", function (request, session, config) { return 42; });
    hook("hugeLog", function (request, session, config) {
        log(new Array(1024 * 1024 + 1).join("x"));
        return hugeLog.ReturnData(request, {});
    });
    hook("badSessionJSON", function (request, session, config) {
        TykSetKeyData("victim-key", "{not json");
        return badSessionJSON.ReturnData(request, {});
    });
    hook("nonObjectSession", function (request, session, config) {
        TykSetKeyData("victim-key", "[1, 2, 3]");
        return nonObjectSession.ReturnData(request, {});
    });
    hook("deadPort", function (request, session, config) {
        var reply = TykMakeHttpRequest(JSON.stringify({Method: "GET", Domain: "http://127.0.0.1:1", Resource: "/x"}));
        request.SetHeaders["X-Reply"] = reply === undefined ? "none" : "some";
        return deadPort.ReturnData(request, {});
    });
    hook("slowUpstream", function (request, session, config) {
        var reply = TykMakeHttpRequest(JSON.stringify({Method: "GET", Domain: config.config_data.upstream, Resource: "/slow", Timeout: 0.3}));
        request.SetHeaders["X-Reply"] = reply === undefined ? "none" : "some";
        return slowUpstream.ReturnData(request, {});
    });
    hook("crlfHeader", function (request, session, config) {
        request.SetHeaders["X-Injected"] = "a\\r\\nSet-Cookie: evil=1";
        return crlfHeader.ReturnData(request, {});
    });
    """

    static func api(_ name: String) -> String {
        Fixture.keylessAPI(id: name, listen: "/\(name)/", pre: [(name, "plugins.js")],
                           extra: #", "config_data": {"upstream": "{{upstream}}"}"#)
    }

    @Test("Loops, recursion, exceptions, garbage returns, bad TykSetKeyData and unsafe headers: clear statuses and log lines; other APIs keep serving")
    func faults() async throws {
        let names = ["infinite", "recursion", "exception", "garbage", "hugeLog", "badSessionJSON", "nonObjectSession",
                     "deadPort", "slowUpstream", "crlfHeader"]
        var files = ["plugins.js": Self.plugins, "apps/healthy.json": Fixture.keylessAPI(id: "healthy", listen: "/healthy/")]
        for name in names { files["apps/\(name).json"] = Self.api(name) }
        files["apps/broken.json"] = Fixture.keylessAPI(id: "broken", listen: "/broken/", pre: [("broken", "broken.js")])
        files["broken.js"] = "var broken = new TykJS.TykMiddleware.NewMiddleware({});\nbroken.NewProcessRequest(function (r) {\n  return r +;\n});\n"
        let logs = LogBook()
        let h = try await GatewayHarness.make(files: files, logs: logs) { config in config.jsvmTimeout = 0.5 }

        // A syntax error at first load is reported with file and line; the
        // API serves failing closed (its hook answers 500), as in Tyk, and the others load.
        let failure = try #require(h.gateway.lastLoadFailures.first { $0.contains("broken.js") })
        #expect(failure.contains("broken.js:3"), "\(failure)")
        #expect(await h.send("/broken/x").status == 500)

        let expectations: [(String, Int, String)] = [
            ("infinite", 504, "plugin infinite was stopped after running longer than 0.5 s"),
            ("recursion", 500, "plugins.js:8"),
            ("exception", 500, "plugins.js:13"),
            ("garbage", 500, "garbage"),
            ("badSessionJSON", 500, "plugins.js:"),
            ("nonObjectSession", 500, "plugins.js:"),
            ("crlfHeader", 500, "line break"),
        ]
        for (name, status, logged) in expectations {
            let mark = logs.count
            let response = await h.send("/\(name)/x")
            #expect(response.status == status, "\(name): \(response.text)")
            let lines = logs.since(mark).filter { $0.level >= .error }.map(\.text)
            #expect(lines.contains { $0.contains(logged) }, "\(name) logged: \(lines)")
            #expect(await h.send("/healthy/x").status == 200, "still serving after \(name)")
        }
        #expect(!(await h.session("victim-key") != nil), "no malformed session was stored")

        // A megabyte log line is logged truncated, and the request is served.
        let mark = logs.count
        #expect(await h.send("/hugeLog/x").status == 200)
        let logged = try #require(logs.since(mark).first { $0.text.contains("truncated") })
        #expect(logged.text.utf8.count < 20_000)
        #expect(logged.text.contains("1048576 bytes in all"))

        // TykMakeHttpRequest failures return undefined to the plugin and log why; the plugin decides.
        for name in ["deadPort", "slowUpstream"] {
            let started = ContinuousClock.now
            let mark = logs.count
            let response = await h.send("/\(name)/x")
            #expect(response.status == 200, "\(name): \(response.text)")
            #expect(response.text.contains("\"x-reply\":\"none\""), "\(name): \(response.text)")
            #expect(logs.since(mark).contains { $0.text.contains("TykMakeHttpRequest failed") }, "\(name)")
            #expect(ContinuousClock.now - started < .seconds(3), "\(name) is bounded by its timeout")
        }
        await h.close()
    }
}
