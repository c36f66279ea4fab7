import Foundation
import PortcullisCore
import PortcullisGateway
import PortcullisTestSupport
import Testing
@testable import PortcullisJS

/// TykMakeHttpRequest / TykBatchRequest against a real server on loopback.
@Suite("HTTP bindings", .serialized)
struct HTTPBindingTests {
    /// Waits (at most 10 s) until `condition` holds.
    static func eventually(_ condition: () -> Bool) async throws -> Bool {
        for _ in 0..<200 {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return condition()
    }

    private func run(_ body: String, upstream: TestUpstream, httpTimeout: Double? = nil) async throws -> MiddlewareOutcome {
        let transport = HTTPClientTransport()
        let engine = JSEngine(configuration: JSEngineConfiguration(workerCount: 1, timeoutSeconds: 10, httpTimeoutSeconds: httpTimeout))
        try await engine.loadRealm("r", scripts: [PluginScript(path: "http.js", source: Fixtures.middleware(body))])
        let spec = PluginSpec(apiID: "api-1", configData: .object(["base_url": .string(upstream.base)]))
        let result: Result<MiddlewareOutcome, any Error>
        do {
            result = .success(try await engine.runMiddleware(realm: "r", handler: "mw", request: MiniRequest(), spec: spec,
                                                             host: LocalPluginHost(transport: transport)))
        } catch {
            result = .failure(error)
        }
        engine.shutdown()
        try await transport.shutdown()
        return try result.get()
    }

    @Test("TykMakeHttpRequest returns Tyk's reply shape with the upstream's status, headers and body")
    func makeRequest() async throws {
        let upstream = try await TestUpstream.start()
        let outcome = try await run("""
            var reply = TykMakeHttpRequest(JSON.stringify({
              Method: "POST", Domain: config.config_data.base_url, Resource: "/echo?x=1",
              Headers: {"Content-Type": "text/plain", "X-Plugin": "yes"}, Body: "payload"}));
            var r = JSON.parse(reply);
            var echo = JSON.parse(r.Body);
            request.SetHeaders["code"] = r.Code + "/" + r.code;
            request.SetHeaders["method"] = echo.method + " " + echo.uri;
            request.SetHeaders["sent"] = echo.headers["x-plugin"] + "," + echo.body + "," + echo.headers["connection"];
            request.SetHeaders["upstreamHeader"] = r.Headers["X-Upstream"][0] + "," + r.headers["X-Upstream"][0];
            var missing = JSON.parse(TykMakeHttpRequest(JSON.stringify({Method: "GET", Domain: config.config_data.base_url, Resource: "/status/404"})));
            request.SetHeaders["notFound"] = String(missing.Code);
            var form = JSON.parse(JSON.parse(TykMakeHttpRequest(JSON.stringify({Method: "POST", Domain: config.config_data.base_url,
              Resource: "/echo", FormData: {"b": "2 3", "a": "1"}}))).Body);
            request.SetHeaders["form"] = form.body;
            return mw.ReturnData(request, {});
            """, upstream: upstream)
        await upstream.stop()
        let h = outcome.request.setHeaders
        #expect(h["code"] == "200/200")
        #expect(h["method"] == "POST /echo?x=1")
        #expect(h["sent"] == "yes,payload,close")
        #expect(h["upstreamHeader"] == "test,test")
        #expect(h["notFound"] == "404")
        #expect(h["form"] == "a=1&b=2+3")
    }

    @Test("Bad JSON, 'undefined', a relative URL and a dead port give undefined and a warning, as in Tyk")
    func failuresGiveUndefined() async throws {
        let upstream = try await TestUpstream.start()
        let deadPort = upstream.port
        await upstream.stop()
        let outcome = try await run("""
            var h = request.SetHeaders;
            h["badJSON"] = String(TykMakeHttpRequest("{nope"));
            h["undef"] = String(TykMakeHttpRequest(undefined));
            h["relative"] = String(TykMakeHttpRequest(JSON.stringify({Domain: "", Resource: "/x"})));
            h["dead"] = String(TykMakeHttpRequest(JSON.stringify({Domain: "http://127.0.0.1:\(deadPort)", Resource: "/"})));
            return mw.ReturnData(request, {});
            """, upstream: upstream)
        #expect(outcome.request.setHeaders == ["badJSON": "undefined", "undef": "undefined", "relative": "undefined", "dead": "undefined"])
        let warnings = outcome.logs.filter { $0.kind == .warning }.map(\.message)
        #expect(warnings.count == 3)
        #expect(warnings.contains { $0.contains("127.0.0.1:\(deadPort)") })
    }

    @Test("A slow upstream is cut off by the per-call Timeout field (an extension) with a named warning")
    func timeoutField() async throws {
        let upstream = try await TestUpstream.start()
        let started = ContinuousClock.now
        let outcome = try await run("""
            request.SetHeaders["slow"] = String(TykMakeHttpRequest(JSON.stringify(
              {Domain: config.config_data.base_url, Resource: "/slow", Timeout: 0.3})));
            return mw.ReturnData(request, {});
            """, upstream: upstream)
        let elapsed = ContinuousClock.now - started
        await upstream.stop()
        #expect(outcome.request.setHeaders["slow"] == "undefined")
        #expect(elapsed < .seconds(2.5))
        #expect(outcome.logs.contains { $0.message.contains("within 0.3 s") })
    }

    @Test("TykBatchRequest runs every request and returns Tyk's batch reply units")
    func batch() async throws {
        let upstream = try await TestUpstream.start()
        let outcome = try await run("""
            var base = config.config_data.base_url;
            var replies = JSON.parse(TykBatchRequest(JSON.stringify({requests: [
              {method: "GET", relative_url: base + "/echo/a", headers: {}, body: ""},
              {method: "GET", relative_url: base + "/status/418", headers: {}, body: ""},
              {method: "GET", relative_url: "http://127.0.0.1:1/", headers: {}, body: ""}
            ], suppress_parallel_execution: true})));
            request.SetHeaders["codes"] = replies.map(function (r) { return r.code; }).join(",");
            request.SetHeaders["urls"] = replies.map(function (r) { return r.relative_url.replace(base, ""); }).join(",");
            request.SetHeaders["bad"] = String(TykBatchRequest("{oops"));
            return mw.ReturnData(request, {});
            """, upstream: upstream)
        await upstream.stop()
        #expect(outcome.request.setHeaders["codes"] == "200,418,0")
        #expect(outcome.request.setHeaders["urls"] == "/echo/a,/status/418,")
        #expect(outcome.request.setHeaders["bad"] == "undefined")
    }

    @Test("Calls waiting on a slow service do not queue behind each other: workers are added up to the maximum, with every realm as reloaded")
    func workersAddedForWaitingCalls() async throws {
        let upstream = try await TestUpstream.start()
        let transport = HTTPClientTransport()
        let engine = JSEngine(configuration: JSEngineConfiguration(workerCount: 1, maxWorkerCount: 3, timeoutSeconds: 20))
        func plugin(version: Int) -> [PluginScript] {
            [PluginScript(path: "wait.js", source: "var hits = 0;\n" + Fixtures.middleware("""
                hits += 1;
                var r = JSON.parse(TykMakeHttpRequest(JSON.stringify({Domain: config.config_data.base_url,
                                                                      Resource: "/delay/" + request.Headers["X-Wait"][0]})));
                request.SetHeaders["seen"] = r.Code + " v\(version) hit " + hits;
                return mw.ReturnData(request, {});
                """))]
        }
        let spec = PluginSpec(apiID: "api-1", configData: .object(["base_url": .string(upstream.base)]))
        let host = LocalPluginHost(transport: transport)
        func start(waitingMilliseconds: Int) -> Task<String, any Error> {
            Task {
                let request = MiniRequest(headers: ["X-Wait": [String(waitingMilliseconds)]])
                return try await engine.runMiddleware(realm: "r", handler: "mw", request: request, spec: spec, host: host)
                    .request.setHeaders["seen"] ?? "none"
            }
        }
        /// Waits until `count` workers are blocked on the slow answers, then
        /// longer than ``JSEngine/slowWait``, after which the next call
        /// finds them all waiting: a loaded machine may take its time to
        /// start a call, but not to let a sleep run short.
        func waitUntilBlocked(_ count: Int) async throws -> Bool {
            guard try await Self.eventually({ engine.statistics.waitingOnIO == count }) else { return false }
            try await Task.sleep(for: .milliseconds(120))
            return true
        }

        try await engine.loadRealm("r", scripts: plugin(version: 1))
        #expect(engine.statistics.workers == 1)
        // The only worker waits on a slow answer; the next call finds every
        // worker waiting and starts another, which takes the calls after it.
        var calls = [start(waitingMilliseconds: 1500)]
        #expect(try await waitUntilBlocked(1))
        calls.append(start(waitingMilliseconds: 10))
        #expect(try await Self.eventually { engine.statistics.workers == 2 }, "a second worker should start")
        calls.append(start(waitingMilliseconds: 1500))
        #expect(try await waitUntilBlocked(2))
        calls.append(start(waitingMilliseconds: 10))
        #expect(try await Self.eventually { engine.statistics.workers == 3 }, "a third worker should start")
        calls.append(start(waitingMilliseconds: 1500))
        try await Task.sleep(for: .milliseconds(150))
        calls.append(start(waitingMilliseconds: 10))
        for call in calls { #expect(try await call.value.hasPrefix("200 v1")) }
        #expect(engine.statistics.workers == 3, "never more than the maximum")

        // A reload reaches the added workers: three calls, each started once
        // the one before it waits, find three fresh realms, all of the new version.
        try await engine.loadRealm("r", scripts: plugin(version: 2))
        var second: [Task<String, any Error>] = []
        for index in 0..<3 {
            second.append(start(waitingMilliseconds: 1500))
            #expect(try await waitUntilBlocked(index + 1))
        }
        var seen: [String] = []
        for call in second { seen.append(try await call.value) }
        #expect(seen == ["200 v2 hit 1", "200 v2 hit 1", "200 v2 hit 1"], "\(seen)")

        engine.shutdown()
        try await transport.shutdown()
        await upstream.stop()
    }

    @Test("A worker added for a slow service is stopped once it has taken no call for addedWorkerIdleSeconds; calls go on")
    func idleAddedWorkersRetire() async throws {
        let upstream = try await TestUpstream.start()
        let transport = HTTPClientTransport()
        let engine = JSEngine(configuration: JSEngineConfiguration(workerCount: 1, maxWorkerCount: 2, addedWorkerIdleSeconds: 2.5,
                                                                   timeoutSeconds: 10))
        try await engine.loadRealm("r", scripts: [PluginScript(path: "wait.js", source: Fixtures.middleware("""
            var r = JSON.parse(TykMakeHttpRequest(JSON.stringify({Domain: config.config_data.base_url,
                                                                  Resource: "/delay/" + request.Headers["X-Wait"][0]})));
            request.SetHeaders["code"] = String(r.Code);
            return mw.ReturnData(request, {});
            """))])
        let spec = PluginSpec(apiID: "api-1", configData: .object(["base_url": .string(upstream.base)]))
        let host = LocalPluginHost(transport: transport)
        func call(waitingMilliseconds: Int) async throws -> String? {
            let request = MiniRequest(headers: ["X-Wait": [String(waitingMilliseconds)]])
            return try await engine.runMiddleware(realm: "r", handler: "mw", request: request, spec: spec, host: host).request.setHeaders["code"]
        }

        // The only worker waits on a slow answer past JSEngine.slowWait; the next call adds a second.
        let slow = Task { try await call(waitingMilliseconds: 1200) }
        #expect(try await Self.eventually { engine.statistics.waitingOnIO == 1 })
        try await Task.sleep(for: .milliseconds(120))
        #expect(try await call(waitingMilliseconds: 10) == "200")
        #expect(try await Self.eventually { engine.statistics.workers == 2 }, "a second worker should start")
        #expect(try await slow.value == "200")

        // Nothing reaches the added worker now: it is stopped within a few idle spans, and calls still run.
        #expect(try await Self.eventually { engine.statistics.workers == 1 }, "the idle added worker should stop")
        for _ in 0..<3 { #expect(try await call(waitingMilliseconds: 1) == "200") }
        #expect(engine.statistics.workers == 1)

        engine.shutdown()
        try await transport.shutdown()
        await upstream.stop()
    }

    @Test("Without room to grow, waiting calls share the workers there are")
    func noWorkersPastTheMaximum() async throws {
        let upstream = try await TestUpstream.start()
        let transport = HTTPClientTransport()
        let engine = JSEngine(configuration: JSEngineConfiguration(workerCount: 1, maxWorkerCount: 1, timeoutSeconds: 10))
        try await engine.loadRealm("r", scripts: [PluginScript(path: "wait.js", source: Fixtures.middleware("""
            var r = JSON.parse(TykMakeHttpRequest(JSON.stringify({Domain: config.config_data.base_url, Resource: "/delay/400"})));
            request.SetHeaders["code"] = String(r.Code);
            return mw.ReturnData(request, {});
            """))])
        let spec = PluginSpec(apiID: "api-1", configData: .object(["base_url": .string(upstream.base)]))
        let host = LocalPluginHost(transport: transport)
        try await withThrowingTaskGroup(of: String?.self) { group in
            for index in 0..<4 {
                group.addTask {
                    try await Task.sleep(for: .milliseconds(90 * index))
                    return try await engine.runMiddleware(realm: "r", handler: "mw", request: MiniRequest(), spec: spec, host: host).request.setHeaders["code"]
                }
            }
            for try await code in group { #expect(code == "200") }
        }
        #expect(engine.statistics.workers == 1)
        engine.shutdown()
        try await transport.shutdown()
        await upstream.stop()
    }
}
