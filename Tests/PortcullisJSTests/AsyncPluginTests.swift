import Foundation
import PortcullisCore
import PortcullisGateway
import PortcullisTestSupport
import Testing
@testable import PortcullisJS

/// Async handlers and `fetch()` (extensions): a handler may return a
/// Promise; fetches run in parallel against a real loopback server.
@Suite("Async plugins and fetch", .serialized)
struct AsyncPluginTests {
    private func run(_ source: String, timeoutSeconds: Double = 10, upstream: TestUpstream) async throws -> (MiddlewareOutcome?, (any Error)?, Double) {
        let transport = HTTPClientTransport()
        let engine = JSEngine(configuration: JSEngineConfiguration(workerCount: 1, timeoutSeconds: timeoutSeconds))
        try await engine.loadRealm("r", scripts: [PluginScript(path: "async.js", source: source)])
        let spec = PluginSpec(apiID: "api-1", configData: .object(["base": .string(upstream.base)]))
        let started = ContinuousClock.now
        var outcome: MiddlewareOutcome?
        var failure: (any Error)?
        do {
            outcome = try await engine.runMiddleware(realm: "r", handler: "mw", request: MiniRequest(), spec: spec,
                                                     host: LocalPluginHost(transport: transport))
        } catch {
            failure = error
        }
        let elapsed = (ContinuousClock.now - started).secondsValue
        engine.shutdown()
        try await transport.shutdown()
        return (outcome, failure, elapsed)
    }

    static func asyncMiddleware(_ body: String) -> String {
        """
        var mw = new TykJS.TykMiddleware.NewMiddleware({});
        mw.NewProcessRequest(async function (request, session, config) {
        \(body)
        });
        """
    }

    @Test("Three fetches to a 3 s endpoint run in parallel: the call takes about 3 s, not 9")
    func parallelFetches() async throws {
        let upstream = try await TestUpstream.start()
        let (outcome, failure, elapsed) = try await run(Self.asyncMiddleware("""
            var base = config.config_data.base;
            var replies = await Promise.all([fetch(base + "/slow", {timeout: 8000}), fetch(base + "/slow", {timeout: 8000}),
                                             fetch(base + "/slow", {timeout: 8000})]);
            request.SetHeaders["statuses"] = replies.map(function (r) { return r.status + ":" + r.ok; }).join(",");
            var echo = await (await fetch(base + "/echo/x", {method: "POST", headers: {"X-From": "plugin"}, body: "hi"})).json();
            request.SetHeaders["echo"] = echo.method + " " + echo.uri + " " + echo.headers["x-from"] + " " + echo.body;
            return mw.ReturnData(request, {});
            """), upstream: upstream)
        await upstream.stop()
        #expect(failure == nil, "\(String(describing: failure))")
        #expect(outcome?.request.setHeaders["statuses"] == "200:true,200:true,200:true")
        #expect(outcome?.request.setHeaders["echo"] == "POST /echo/x plugin hi")
        #expect(elapsed < 7, "three 3 s requests took \(elapsed) s; sequential would be 9 s")
    }

    @Test("A fetch past its timeout, or to a dead port, rejects with an Error the plugin can catch")
    func rejections() async throws {
        let upstream = try await TestUpstream.start()
        let (outcome, failure, elapsed) = try await run(Self.asyncMiddleware("""
            var base = config.config_data.base;
            try { await fetch(base + "/slow", {timeout: 200}); request.SetHeaders["slow"] = "resolved"; }
            catch (e) { request.SetHeaders["slow"] = "rejected:" + (e instanceof Error); }
            try { await fetch("http://127.0.0.1:1/"); } catch (e) { request.SetHeaders["dead"] = "rejected"; }
            try { await fetch("not a url"); } catch (e) { request.SetHeaders["bad"] = e.message; }
            return mw.ReturnData(request, {});
            """), upstream: upstream)
        await upstream.stop()
        #expect(failure == nil, "\(String(describing: failure))")
        let h = outcome?.request.setHeaders ?? [:]
        #expect(h["slow"] == "rejected:true")
        #expect(h["dead"] == "rejected")
        #expect(h["bad"]?.contains("not an absolute http(s) URL") == true, "\(h)")
        #expect(elapsed < 2.5)
        #expect(outcome?.logs.contains { $0.message.hasPrefix("fetch failed") } == true)
    }

    @Test("An async handler that throws after awaiting a fetch is reported like a throw, with the message")
    func asyncThrow() async throws {
        let upstream = try await TestUpstream.start()
        let (_, failure, _) = try await run(Self.asyncMiddleware("""
            await fetch(config.config_data.base + "/echo");
            throw new Error("upstream said no");
            """), upstream: upstream)
        await upstream.stop()
        let text = "\(String(describing: failure))"
        #expect(text.contains("upstream said no"), "\(text)")
    }

    @Test("A Promise that can never settle fails at once with a reason; one waiting on a slow fetch hits jsvm_timeout")
    func neverSettles() async throws {
        let upstream = try await TestUpstream.start()
        let (_, stuck, stuckTime) = try await run(Self.asyncMiddleware("""
            await new Promise(function () {});
            return mw.ReturnData(request, {});
            """), upstream: upstream)
        #expect("\(String(describing: stuck))".contains("never settled"))
        #expect(stuckTime < 2)
        let (_, slow, slowTime) = try await run(Self.asyncMiddleware("""
            await fetch(config.config_data.base + "/slow", {timeout: 8000});
            return mw.ReturnData(request, {});
            """), timeoutSeconds: 0.5, upstream: upstream)
        await upstream.stop()
        if case .timedOut = slow as? PluginError {} else { Issue.record("expected a timeout, got \(String(describing: slow))") }
        #expect(slowTime < 2.5)
    }

    @Test("A handler that returns a resolved value without awaiting anything works as a plain one")
    func asyncWithoutAwait() async throws {
        let upstream = try await TestUpstream.start()
        let (outcome, failure, _) = try await run(Self.asyncMiddleware("""
            request.SetHeaders["plain"] = "yes";
            return mw.ReturnData(request, {});
            """), upstream: upstream)
        await upstream.stop()
        #expect(failure == nil)
        #expect(outcome?.request.setHeaders["plain"] == "yes")
    }
}
