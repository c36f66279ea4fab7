import Foundation
import PortcullisGateway
import PortcullisSessions
import PortcullisTestSupport
import Testing

/// Redis killed, restarted and paused while plugin writes are in flight:
/// every request ends within a bound, an acknowledged write is never lost,
/// and service comes back without restarting the gateway.
@Suite("Store faults under load", .serialized)
struct StoreFaultLoadTests {
    static let writer = """
    var writer = new TykJS.TykMiddleware.NewMiddleware({});
    writer.NewProcessRequest(function (request, session, config) {
        var n = request.Headers["X-N"][0];
        TykSetKeyData("load-" + n, JSON.stringify({expires: 0, quota_max: -1,
            access_rights: {"writer": {api_id: "writer", api_name: "writer", versions: ["Default"]}}}));
        return writer.ReturnData(request, {});
    });
    """

    /// A node on `redis` serving the writer plugin at `/w/`, with store
    /// commands and connections given up after `timeout` seconds.
    static func writerGateway(on redis: RedisServer, timeout: Double,
                              configure: (inout GatewayConfig) -> Void = { _ in }) async throws -> (GatewayHarness, RedisStore) {
        let store = RedisStore(configuration: RedisConfiguration(port: redis.port, commandTimeout: timeout, connectTimeout: timeout))
        let h = try await GatewayHarness.make(files: [
            "apps/w.json": Fixture.keylessAPI(id: "writer", listen: "/w/", pre: [("writer", "w.js")]),
            "w.js": Self.writer,
        ], store: store) { config in
            config.storage.timeout = timeout
            configure(&config)
        }
        return (h, store)
    }

    struct Outcome: Sendable {
        var number: Int
        var status: Int
        var seconds: Double
    }

    @Test("Kill, restart and SIGSTOP Redis during 6-way load: bounded failures, no acknowledged write lost, recovery in place")
    func faultsDuringLoad() async throws {
        let redis = try RedisServer(persistent: true)
        let (h, store) = try await Self.writerGateway(on: redis, timeout: 0.5)
        let total = 360
        let counter = LockedCounter()
        let outcomes = try await withThrowingTaskGroup(of: [Outcome].self) { group in
            for _ in 0..<6 {
                group.addTask {
                    var mine: [Outcome] = []
                    while let n = counter.next(below: total) {
                        let started = ContinuousClock.now
                        let response = await h.send("/w/x", headers: [("X-N", String(n))])
                        let elapsed = ContinuousClock.now - started
                        mine.append(Outcome(number: n, status: response.status,
                                            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
                        try await Task.sleep(for: .milliseconds(5))
                    }
                    return mine
                }
            }
            group.addTask {
                while counter.value < 80 { try await Task.sleep(for: .milliseconds(5)) }
                redis.kill()
                while counter.value < 160 { try await Task.sleep(for: .milliseconds(5)) }
                try redis.start()
                while counter.value < 240 { try await Task.sleep(for: .milliseconds(5)) }
                if let pid = redis.pid { kill(pid, SIGSTOP) }
                while counter.value < 290 { try await Task.sleep(for: .milliseconds(5)) }
                if let pid = redis.pid { kill(pid, SIGCONT) }
                return []
            }
            var all: [Outcome] = []
            for try await part in group { all += part }
            return all
        }
        #expect(outcomes.count == total)
        let acknowledged = Set(outcomes.filter { $0.status == 200 }.map(\.number))
        let failed = outcomes.filter { $0.status != 200 }
        #expect(!failed.isEmpty, "the faults were felt")
        #expect(failed.allSatisfy { $0.status == 503 }, "a plugin that loses the store answers 503: \(Set(failed.map(\.status)))")
        let slowest = outcomes.map(\.seconds).max() ?? 0
        #expect(slowest < 5, "every request ends within a bound; slowest \(slowest) s")
        let recovered = outcomes.filter { $0.number >= 340 }
        #expect(recovered.allSatisfy { $0.status == 200 }, "service is back without a restart")

        let names = Set(try redis.cli("--scan", "--pattern", "apikey-load-*").split(separator: "\n").map(String.init))
        let found = Set((0..<total).filter { names.contains(h.gateway.services.sessions.storageKey(for: "load-\($0)")) })
        #expect(acknowledged.isSubset(of: found), "acknowledged but missing: \(acknowledged.subtracting(found).sorted())")
        let extra = found.subtracting(acknowledged)
        #expect(extra.count <= 12, "writes that landed although their request failed (in flight at a fault): \(extra.count)")
        print("store faults under load: \(total) requests, \(acknowledged.count) acknowledged, \(failed.count) failed "
              + "(\(Set(failed.map(\.status)).sorted())), \(found.count) in Redis, slowest \(String(format: "%.2f", slowest)) s")
        await h.close()
        await store.shutdown()
    }

    @Test("A stalled store holds the JS workers but starts no more of them; the calls finish once it answers")
    func stalledStoreAddsNoWorkers() async throws {
        let redis = try RedisServer(persistent: false)
        let (h, store) = try await Self.writerGateway(on: redis, timeout: 3) { config in
            config.jsvmWorkers = 1
            config.jsvmMaxWorkers = 4
        }
        let engine = h.gateway.services.engine
        #expect(await h.send("/w/x", headers: [("X-N", "0")]).status == 200)
        #expect(engine.statistics.workers == 1)

        guard let pid = redis.pid else { Issue.record("redis-server has no pid"); return }
        kill(pid, SIGSTOP)
        // The first call blocks on the stalled write; the ones after it find
        // the only worker blocked for longer than JSEngine.slowWait.
        var calls: [Task<Int, Never>] = []
        for n in 1...3 {
            calls.append(Task { await h.send("/w/x", headers: [("X-N", String(n))]).status })
            try await Task.sleep(for: .milliseconds(150))
        }
        kill(pid, SIGCONT)
        var statuses: [Int] = []
        for call in calls { statuses.append(await call.value) }
        #expect(statuses == [200, 200, 200], "\(statuses)")
        #expect(engine.statistics.workers == 1, "store waits must not grow the pool")
        await h.close()
        await store.shutdown()
    }
}

/// Hands out request numbers to the load tasks.
final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var current = 0

    var value: Int { lock.withLock { current } }

    func next(below limit: Int) -> Int? {
        lock.withLock {
            guard current < limit else { return nil }
            defer { current += 1 }
            return current
        }
    }
}
