import Foundation
import PortcullisCore
import PortcullisJS

// Measures the JS engine on its own: one middleware call end to end (request
// JSON in, handler, result JSON decoded), the same with a TykGetKeyData +
// TykSetKeyData round trip against the in-memory host, and pool throughput
// with many concurrent callers. Prints one line per measurement.

let source = """
var bench = new TykJS.TykMiddleware.NewMiddleware({});
bench.NewProcessRequest(function (request, session, config) {
    request.SetHeaders["X-Bench"] = request.Headers["Authorization"][0];
    if (request.URL === "/renew") {
        var s = JSON.parse(TykGetKeyData(request.Headers["Authorization"][0], config.APIID));
        s.expires = Math.floor(Date.now() / 1000) + 60;
        TykSetKeyData(request.Headers["Authorization"][0], JSON.stringify(s), "1");
    }
    return bench.ReturnData(request, {});
});
"""

func measure(_ label: String, calls: Int, concurrency: Int, engine: JSEngine, url: String, host: LocalPluginHost) async throws {
    let request = MiniRequest(headers: ["Authorization": ["key-1"], "Accept": ["*/*"]], url: url)
    let spec = PluginSpec(apiID: "bench", orgID: "org")
    let perTask = calls / concurrency
    let start = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<concurrency {
            group.addTask {
                for _ in 0..<perTask {
                    _ = try await engine.runMiddleware(realm: "bench", handler: "bench", request: request, spec: spec, host: host)
                }
            }
        }
        try await group.waitForAll()
    }
    let elapsed = ContinuousClock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let total = perTask * concurrency
    print(String(format: "%-44@ %8.0f calls/s  %7.1f µs/call (wall, concurrency %d)",
                 label as NSString, Double(total) / seconds, seconds / Double(total) * 1e6 * Double(concurrency), concurrency))
}

let workers = ProcessInfo.processInfo.activeProcessorCount
let engine = JSEngine(configuration: JSEngineConfiguration(workerCount: workers))
try await engine.loadRealm("bench", scripts: [PluginScript(path: "bench.js", source: source)])
let host = LocalPluginHost(sessions: ["key-1": .object(["expires": .int(1), "access_rights": .object([:])])])
print("cores: \(workers), workers: \(workers)")
try await measure("warm-up", calls: 2_000, concurrency: 1, engine: engine, url: "/", host: host)
do {
    let calls = 20_000
    let start = ContinuousClock.now
    for _ in 0..<calls { _ = try await engine.evaluate("1", realm: "bench") }
    let elapsed = ContinuousClock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    print(String(format: "%-44@ %8.0f calls/s  %7.1f µs/call", "worker hop only (evaluate \"1\")" as NSString,
                 Double(calls) / seconds, seconds / Double(calls) * 1e6))
}
try await measure("middleware call, 1 caller", calls: 20_000, concurrency: 1, engine: engine, url: "/", host: host)
try await measure("middleware call, 32 callers", calls: 40_000, concurrency: 32, engine: engine, url: "/", host: host)
try await measure("get+set session binding, 1 caller", calls: 10_000, concurrency: 1, engine: engine, url: "/renew", host: host)
try await measure("get+set session binding, 32 callers", calls: 20_000, concurrency: 32, engine: engine, url: "/renew", host: host)
engine.shutdown()
