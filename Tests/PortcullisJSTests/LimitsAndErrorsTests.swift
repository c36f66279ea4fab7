import Foundation
import PortcullisCore
import Testing
@testable import PortcullisJS

@Suite("Time limits, errors and concurrency")
struct LimitsAndErrorsTests {
    @Test("while(true){} is stopped at jsvm_timeout with a typed error, and the worker serves the next call")
    func timeoutRecovers() async throws {
        let engine = try await Fixtures.engine([
            "loop.js": "var loop = new TykJS.TykMiddleware.NewMiddleware({}); loop.NewProcessRequest(function (r) { while (true) {} });",
            "ok.js": "var ok = new TykJS.TykMiddleware.NewMiddleware({}); ok.NewProcessRequest(function (r) { return ok.ReturnData(r, {}); });",
        ], timeout: 0.2, workers: 1)
        defer { engine.shutdown() }
        let started = ContinuousClock.now
        await #expect(throws: PluginError.timedOut(handler: "loop", limitSeconds: 0.2)) {
            _ = try await engine.runMiddleware(realm: "test-api", handler: "loop", request: MiniRequest(), spec: Fixtures.spec, host: nil)
        }
        // The limit counts the looping thread's CPU time, which a machine
        // busy with the other suites hands out slowly: the bound only says
        // the loop was stopped rather than left to run.
        #expect(ContinuousClock.now - started < .seconds(30))
        for _ in 0..<3 {
            let outcome = try await engine.runMiddleware(realm: "test-api", handler: "ok", request: MiniRequest(url: "/x"),
                                                         spec: Fixtures.spec, host: nil)
            #expect(outcome.request.url == "/x")
        }
        await #expect(throws: PluginError.timedOut(handler: "loop", limitSeconds: 0.2)) {
            _ = try await engine.runMiddleware(realm: "test-api", handler: "loop", request: MiniRequest(), spec: Fixtures.spec, host: nil)
        }
        #expect(PluginError.timedOut(handler: "loop", limitSeconds: 0.2).description.contains("jsvm_timeout"))
    }

    #if os(Linux)
    @Test("Worker threads carry their names at the OS level, where top -H and perf read them")
    func workerThreadsAreNamed() async throws {
        let engine = try await Fixtures.engine([:], workers: 4)
        defer { engine.shutdown() }
        // Loading the realm ran a job on every worker, so each has started.
        let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")
        let names = Set(tasks.compactMap { try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8) }
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
        #expect(names.isSuperset(of: ["portcullis-js-0", "portcullis-js-3"]))
    }
    #endif

    @Test("try/catch in the plugin cannot swallow the time limit")
    func timeoutNotCatchable() async throws {
        let engine = try await Fixtures.engine(["mw.js": Fixtures.middleware("""
            try { while (true) {} } catch (e) { return mw.ReturnData(request, {}); }
            """)], timeout: 0.2, workers: 1)
        defer { engine.shutdown() }
        await #expect(throws: PluginError.timedOut(handler: "mw", limitSeconds: 0.2)) {
            _ = try await engine.runMiddleware(realm: "test-api", handler: "mw", request: MiniRequest(), spec: Fixtures.spec, host: nil)
        }
    }

    @Test("An exception names the plugin file, line and message")
    func exceptionLine() async throws {
        let engine = try await Fixtures.engine(["plugins/thrower.js": Fixtures.middleware("""
            var x = 1;
            throw new Error("boom " + x);
            """)])
        defer { engine.shutdown() }
        await #expect(throws: PluginError.exception(handler: "mw", location: SourceLocation(file: "plugins/thrower.js", line: 4),
                                                    message: "Error: boom 1")) {
            _ = try await engine.runMiddleware(realm: "test-api", handler: "mw", request: MiniRequest(), spec: Fixtures.spec, host: nil)
        }
    }

    @Test("A TypeError from plugin code is reported with its line")
    func typeError() async throws {
        let engine = try await Fixtures.engine(["te.js": Fixtures.middleware("return request.Nope.Deeper;")])
        defer { engine.shutdown() }
        await #expect {
            _ = try await engine.runMiddleware(realm: "test-api", handler: "mw", request: MiniRequest(), spec: Fixtures.spec, host: nil)
        } throws: { error in
            guard case PluginError.exception(_, let location, let message) = error else { return false }
            return location?.line == 3 && message.hasPrefix("TypeError")
        }
    }

    @Test("A syntax error at load names file and line, and the realm is not loaded")
    func syntaxError() async throws {
        let engine = JSEngine(configuration: JSEngineConfiguration(workerCount: 2))
        defer { engine.shutdown() }
        await #expect {
            try await engine.loadRealm("api", scripts: [PluginScript(path: "plugins/broken.js", source: "var ok = 1;\n\nvar x = {;\n")])
        } throws: { error in
            guard case PluginError.syntaxError(let location, let message) = error else { return false }
            return location == SourceLocation(file: "plugins/broken.js", line: 3) && !message.isEmpty
        }
        await #expect(throws: PluginError.realmNotLoaded("api")) {
            _ = try await engine.evaluate("1", realm: "api")
        }
    }

    @Test("A broken new version of a realm leaves the old one serving")
    func failedReloadKeepsOld() async throws {
        let engine = try await Fixtures.engine(["v.js": "var version = 1;"])
        defer { engine.shutdown() }
        await #expect(throws: PluginError.self) {
            try await engine.loadRealm("test-api", scripts: [PluginScript(path: "v.js", source: "var version = ;")])
        }
        #expect(try await engine.evaluate("version", realm: "test-api") == "1")
        try await engine.loadRealm("test-api", scripts: [PluginScript(path: "v.js", source: "var version = 2;")])
        #expect(try await engine.evaluate("version", realm: "test-api") == "2")
    }

    @Test("Realms are isolated: two APIs may define the same global name")
    func realmIsolation() async throws {
        let engine = JSEngine(configuration: JSEngineConfiguration(workerCount: 1))
        defer { engine.shutdown() }
        try await engine.loadRealm("a", scripts: [PluginScript(path: "a.js", source: "const handler = 'a';")])
        try await engine.loadRealm("b", scripts: [PluginScript(path: "b.js", source: "const handler = 'b';")])
        #expect(try await engine.evaluate("handler", realm: "a") == #""a""#)
        #expect(try await engine.evaluate("handler", realm: "b") == #""b""#)
    }

    @Test("An unknown handler name, or one that is not a plain identifier, is a clear error")
    func handlerNotFound() async throws {
        let engine = try await Fixtures.engine(["x.js": "var x = 1;"])
        defer { engine.shutdown() }
        for name in ["missing", "x; evil()"] {
            await #expect(throws: PluginError.handlerNotFound(handler: name, realm: "test-api")) {
                _ = try await engine.runMiddleware(realm: "test-api", handler: name, request: MiniRequest(), spec: Fixtures.spec, host: nil)
            }
        }
    }

    @Test("Deep recursion becomes a RangeError exception, and the worker keeps working")
    func deepRecursion() async throws {
        let engine = try await Fixtures.engine(["r.js": Fixtures.middleware("""
            function down(n) { return down(n + 1) + 1; }
            if (request.URL === "/deep") { down(0); }
            return mw.ReturnData(request, {});
            """)], workers: 1)
        defer { engine.shutdown() }
        await #expect {
            _ = try await engine.runMiddleware(realm: "test-api", handler: "mw", request: MiniRequest(url: "/deep"), spec: Fixtures.spec, host: nil)
        } throws: { error in
            guard case PluginError.exception(_, _, let message) = error else { return false }
            return message.contains("RangeError")
        }
        let outcome = try await engine.runMiddleware(realm: "test-api", handler: "mw", request: MiniRequest(url: "/ok"),
                                                     spec: Fixtures.spec, host: nil)
        #expect(outcome.request.url == "/ok")
    }

    @Test("Many concurrent tasks share the pool and each gets its own answer")
    func concurrentUse() async throws {
        let engine = try await Fixtures.engine(["mw.js": Fixtures.middleware("""
            var n = parseInt(request.Headers["N"][0], 10);
            var sum = 0; for (var i = 0; i <= n; i++) { sum += i; }
            request.SetHeaders["Sum"] = String(sum);
            return mw.ReturnData(request, {});
            """)], workers: 4)
        defer { engine.shutdown() }
        let results = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
            for n in 0..<400 {
                group.addTask {
                    let outcome = try await engine.runMiddleware(realm: "test-api", handler: "mw",
                                                                 request: MiniRequest(headers: ["N": [String(n)]]),
                                                                 spec: Fixtures.spec, host: nil)
                    return (n, outcome.request.setHeaders["Sum"])
                }
            }
            var collected: [(Int, String?)] = []
            for try await result in group { collected.append(result) }
            return collected
        }
        #expect(results.count == 400)
        #expect(results.allSatisfy { $0.1 == String($0.0 * ($0.0 + 1) / 2) })
    }

    @Test("After shutdown, calls fail with engineStopped instead of hanging")
    func shutdownStops() async throws {
        let engine = try await Fixtures.engine(["x.js": "var x = 1;"])
        engine.shutdown()
        try await Task.sleep(for: .milliseconds(50))
        await #expect(throws: PluginError.engineStopped) {
            _ = try await engine.evaluate("x", realm: "test-api")
        }
    }
}

@Suite("Injected clock")
struct ClockTests {
    @Test("Date.now(), new Date() and Date() follow the engine's clock; explicit dates do not")
    func virtualClock() async throws {
        let clock = VirtualClock(start: Date(timeIntervalSince1970: 1_500_000_000))
        let engine = try await Fixtures.engine(["c.js": "var c = 1;"], clock: clock)
        defer { engine.shutdown() }
        #expect(try await engine.evaluate("Date.now()", realm: "test-api") == "1500000000000")
        #expect(try await engine.evaluate("new Date().getTime()", realm: "test-api") == "1500000000000")
        #expect(try await engine.evaluate("Math.round(new Date().getTime() / 1000)", realm: "test-api") == "1500000000")
        clock.advance(by: 86_400)
        #expect(try await engine.evaluate("Date.now()", realm: "test-api") == "1500086400000")
        #expect(try await engine.evaluate("new Date(0).getTime()", realm: "test-api") == "0")
        #expect(try await engine.evaluate("new Date(2020, 0, 1) instanceof Date", realm: "test-api") == "true")
        #expect(try await engine.evaluate("typeof Date()", realm: "test-api") == #""string""#)
        #expect(try await engine.evaluate("Date.UTC(1970, 0, 2)", realm: "test-api") == "86400000")
    }
}
