import AsyncHTTPClient
import Foundation
import NIOCore
import PortcullisGateway
import PortcullisScenarios
import PortcullisSessions
import PortcullisTestSupport
import Testing

/// The admin API, keys at rest and in logs, the reach of plugin bindings.
@Suite("Security", .serialized)
struct SecurityTests {
    @Test("The admin API refuses a missing or wrong secret, and with control_api_port is served only on its own listener")
    func adminListener() async throws {
        let h = try await GatewayHarness.make(files: ["apps/a.json": Fixture.keylessAPI(id: "open", listen: "/open/")]) { config in
            config.controlAPIPort = try! RedisServer.freePort()
        }
        for secret in [nil, "", "test-secre", "test-secret-and-more"] {
            var headers: [(String, String)] = []
            if let secret { headers.append(("x-tyk-authorization", secret)) }
            let response = await h.send("/tyk/keys/k", headers: headers)
            #expect(response.status == 403, "secret \(secret ?? "none")")
        }
        let (ports, continuation) = AsyncStream.makeStream(of: (String, Int).self)
        let server = Task {
            try await GatewayServer(gateway: h.gateway).run(onListening: { continuation.yield(("main", $0)) },
                                                            onControlListening: { continuation.yield(("control", $0)) })
        }
        var bound: [String: Int] = [:]
        for await (name, port) in ports {
            bound[name] = port
            if bound.count == 2 { break }
        }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        func get(_ port: Int, _ path: String) async throws -> Int {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
            request.headers.add(name: "x-tyk-authorization", value: GatewayHarness.secret)
            return Int(try await client.execute(request, timeout: .seconds(10)).status.code)
        }
        let main = try #require(bound["main"]), control = try #require(bound["control"])
        #expect(try await get(main, "/open/x") == 200)
        #expect(try await get(main, "/tyk/keys/nobody") == 404, "no admin API on the main listener")
        #expect(try await get(main, "/tyk/reload") == 404)
        #expect(try await get(control, "/tyk/keys/nobody") == 404)
        #expect(try await get(control, "/tyk/reload") == 200)
        try await client.shutdown()
        server.cancel()
        _ = await server.result
        await h.close()
    }

    @Test("With hash_keys the store holds no raw key, and no log line shows one")
    func keysHashedAndMasked() async throws {
        let redis = try RedisServer()
        let logs = LogBook()
        let store = RedisStore(configuration: RedisConfiguration(port: redis.port))
        let key = "supersecret-token-4711"
        let h = try await GatewayHarness.make(files: [
            "apps/t.json": Fixture.tokenAPI(id: "tok", listen: "/tok/", pre: [("renew", "renew.js")]),
            "renew.js": Self.quietRenewal,
        ], store: store, logs: logs) { config in
            config.hashKeys = true
            config.hashKeyFunction = "sha256"
        }
        #expect(await h.createKey(key, Fixture.session(expires: h.now + 60, api: "tok")).status == 200)
        #expect(await h.send("/tok/x", headers: [("Authorization", key)]).status == 200)
        h.clock.advance(by: 120)
        #expect(await h.send("/tok/x", headers: [("Authorization", key)]).status == 200, "renewed by the hook")
        #expect(await h.send("/tok/x", headers: [("Authorization", key + "-wrong")]).status == 403)
        let stored = try redis.cli("--scan")
        #expect(!stored.isEmpty)
        #expect(!stored.contains(key), "raw key in Redis: \(stored)")
        let values = try redis.cli("--scan", "--pattern", "apikey-*")
        for name in values.split(separator: "\n") {
            #expect(!(try redis.cli("GET", String(name))).contains(key))
        }
        let leaked = logs.all.filter { $0.text.contains(key) || $0.text.contains("supersecret") }
        #expect(leaked.isEmpty, "log lines with the key: \(leaked.map(\.text))")
        #expect(logs.all.contains { $0.text.contains("****4711") }, "keys appear masked, showing only their last characters")
        await h.close()
        await store.shutdown()
    }

    /// Renews an expired session without logging anything itself (a
    /// plugin that logs the key leaks it by its own choice).
    static let quietRenewal = """
    var renew = new TykJS.TykMiddleware.NewMiddleware({});
    renew.NewProcessRequest(function (request, session, config) {
        var key = request.Headers["Authorization"][0];
        var stored = JSON.parse(TykGetKeyData(key, config.APIID));
        var now = Math.floor(Date.now() / 1000);
        if (stored.status !== "error" && stored.expires <= now) {
            stored.expires = now + 60;
            TykSetKeyData(key, JSON.stringify(stored));
        }
        return renew.ReturnData(request, {});
    });
    """

    static let scopePlugins = """
    var peek = new TykJS.TykMiddleware.NewMiddleware({});
    peek.NewProcessRequest(function (request, session, config) {
        var found = JSON.parse(TykGetKeyData(request.Headers["X-Target"][0], config.APIID));
        request.SetHeaders["X-Found"] = found.status === "error" ? "no" : "yes:" + found.expires;
        return peek.ReturnData(request, {});
    });
    var overwrite = new TykJS.TykMiddleware.NewMiddleware({});
    overwrite.NewProcessRequest(function (request, session, config) {
        TykSetKeyData(request.Headers["X-Target"][0], JSON.stringify({expires: 1, access_rights: {"open-a": {api_id: "open-a"}}}));
        return overwrite.ReturnData(request, {});
    });
    """

    @Test("A plugin reads or overwrites only sessions that grant its own API, unless plugin_key_scope is \"any\"")
    func pluginKeyScope() async throws {
        for scope in [PluginKeyScope.grantedAPIs, .any] {
            let h = try await GatewayHarness.make(files: [
                "apps/a.json": Fixture.keylessAPI(id: "open-a", listen: "/a/", pre: [("peek", "p.js")]),
                "apps/w.json": Fixture.keylessAPI(id: "open-w", listen: "/w/", pre: [("overwrite", "p.js")]),
                "apps/b.json": Fixture.tokenAPI(id: "private-b", listen: "/b/"),
                "p.js": Self.scopePlugins,
            ]) { config in config.pluginKeyScope = scope }
            let expires = h.now + 3600
            await h.createKey("b-key", Fixture.session(expires: expires, api: "private-b"))
            await h.createKey("a-key", Fixture.session(expires: expires, api: "open-a"))
            let own = await h.send("/a/x", headers: [("X-Target", "a-key")])
            #expect(own.text.contains("\"x-found\":\"yes:\(expires)\""), "\(own.text)")
            let other = await h.send("/a/x", headers: [("X-Target", "b-key")])
            let written = await h.send("/w/x", headers: [("X-Target", "b-key")])
            if scope == .grantedAPIs {
                #expect(other.text.contains("\"x-found\":\"no\""), "\(other.text)")
                #expect(written.status == 500)
                #expect((await h.session("b-key"))?["expires"] as? Int64 == expires, "b's session untouched")
            } else {
                #expect(other.text.contains("\"x-found\":\"yes:\(expires)\""))
                #expect(written.status == 200)
                #expect((await h.session("b-key"))?["expires"] as? Int64 == 1)
            }
            await h.close()
        }
    }

    static let httpPlugin = """
    var caller = new TykJS.TykMiddleware.NewMiddleware({});
    caller.NewProcessRequest(function (request, session, config) {
        var reply = TykMakeHttpRequest(JSON.stringify({Method: "GET", Domain: request.Headers["X-Domain"][0], Resource: "/echo", Timeout: 1}));
        request.SetHeaders["X-Reply"] = reply === undefined ? "refused" : String(JSON.parse(reply).Code);
        return caller.ReturnData(request, {});
    });
    """

    @Test("TykMakeHttpRequest honours plugin_http_deny and plugin_http_allow; link-local metadata addresses are denied by default")
    func httpPolicy() async throws {
        let logs = LogBook()
        let h = try await GatewayHarness.make(files: [
            "apps/c.json": Fixture.keylessAPI(id: "caller", listen: "/c/", pre: [("caller", "c.js")]),
            "c.js": Self.httpPlugin,
        ], logs: logs)
        let upstream = h.upstream.base
        let allowed = await h.send("/c/x", headers: [("X-Domain", upstream)])
        #expect(allowed.text.contains("\"x-reply\":\"200\""), "\(allowed.text)")
        let metadata = await h.send("/c/x", headers: [("X-Domain", "http://169.254.169.254")])
        #expect(metadata.text.contains("\"x-reply\":\"refused\""), "\(metadata.text)")
        #expect(logs.all.contains { $0.text.contains("host '169.254.169.254' is denied by plugin_http_deny rule '169.254.0.0/16'") })
        await h.close()

        let strict = try await GatewayHarness.make(files: [
            "apps/c.json": Fixture.keylessAPI(id: "caller", listen: "/c/", pre: [("caller", "c.js")]),
            "c.js": Self.httpPlugin,
        ]) { config in
            config.pluginHTTP = PluginHTTPPolicy(allow: ["*.example.com", "localhost"], deny: ["127.0.0.0/8"])
        }
        let denied = await strict.send("/c/x", headers: [("X-Domain", strict.upstream.base)])
        #expect(denied.text.contains("\"x-reply\":\"refused\""), "deny wins over allow: \(denied.text)")
        let notAllowed = await strict.send("/c/x", headers: [("X-Domain", "http://10.1.2.3")])
        #expect(notAllowed.text.contains("\"x-reply\":\"refused\""))
        await strict.close()
        #expect(PluginHTTPPolicy(allow: ["*.example.com"], deny: []).refusal(for: "https://api.example.com/x") == nil)
        #expect(PluginHTTPPolicy(allow: ["*.example.com"], deny: []).refusal(for: "https://example.com.evil.net/x") != nil)
        #expect(PluginHTTPPolicy().refusal(for: "http://[fe80::1]/x") != nil)
    }
}
