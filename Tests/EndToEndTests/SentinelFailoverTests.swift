import Foundation
import PortcullisCore
import PortcullisGateway
import PortcullisSessions
import PortcullisTestSupport
import Testing

/// Two gateway nodes on a Sentinel-managed Redis (one primary, one
/// replica, three sentinels) under load while the replica lags 0.4 s and
/// the primary is killed: the nodes follow the failover and fail closed
/// meanwhile; with `wait_replicas: 1` no acknowledged renewal is missing
/// afterwards, without it the renewals of those 0.4 s are.
@Suite("Redis Sentinel failover", .serialized)
struct SentinelFailoverTests {
    /// What one run saw.
    struct Report: CustomStringConvertible {
        var waitReplicas: Int
        var secondsToFirstWrite: Double?
        var secondsToFirstRefusal: Double?
        var unavailable = 0
        var readsRefused = 0
        var otherFailures: [Int: Int] = [:]
        var acknowledgedWrites = 0
        var lostWrites = 0
        var requests = 0
        /// Renewal latency before the kill: p50 and p99, milliseconds.
        var writeLatency: (p50: Double, p99: Double) = (0, 0)

        var description: String {
            let write = secondsToFirstWrite.map { String(format: "%.2f s", $0) } ?? "none"
            let refusal = secondsToFirstRefusal.map { String(format: "%.2f s", $0) } ?? "none"
            return "wait_replicas \(waitReplicas): \(requests) requests; after the kill: first 503 at \(refusal), "
                + "first acknowledged renewal on the new primary at \(write); 503s meanwhile \(unavailable) (\(readsRefused) of them reads); "
                + "other failures \(otherFailures); \(acknowledgedWrites) renewals acknowledged; of the 16 keys renewed before the kill, "
                + "\(lostWrites) lack their last acknowledged renewal on the new primary; "
                + String(format: "renewal latency before the kill p50 %.2f ms, p99 %.2f ms", writeLatency.p50, writeLatency.p99)
        }
    }

    /// Records outcomes from the load tasks.
    final class Recorder: @unchecked Sendable {
        private let lock = NSLock()
        private var acknowledged: [String: Int] = [:]
        private var events: [(at: Double, status: Int, write: Bool)] = []
        private var latencies: [(at: Double, milliseconds: Double)] = []

        func record(at: Double, status: Int, write: Bool, key: String, sequence: Int, milliseconds: Double = 0) {
            lock.withLock {
                events.append((at, status, write))
                if write, status == 200 { latencies.append((at, milliseconds)) }
                if write, status == 200 { acknowledged[key] = max(acknowledged[key] ?? 0, sequence) }
            }
        }

        var snapshot: (acknowledged: [String: Int], events: [(at: Double, status: Int, write: Bool)]) {
            lock.withLock { (acknowledged, events) }
        }

        /// p50 and p99 of acknowledged writes that ended before `time`.
        func latency(before time: Double) -> (p50: Double, p99: Double) {
            let sorted = lock.withLock { latencies.filter { $0.at < time }.map(\.milliseconds) }.sorted()
            guard !sorted.isEmpty else { return (0, 0) }
            return (sorted[sorted.count / 2], sorted[min(sorted.count - 1, sorted.count * 99 / 100)])
        }
    }

    static func session(sequence: Int) -> String {
        // `expires` carries the write's sequence number, so the survivor can be checked.
        #"{"expires": \#(2_000_000_000 + sequence), "quota_max": -1, "alias": "seq-\#(sequence)", "access_rights": {"api": {"api_id": "api", "versions": ["Default"]}}}"#
    }

    static func run(waitReplicas: Int) async throws -> Report {
        let group = try RedisSentinelGroup(downAfterMilliseconds: 1000)
        try group.waitUntilReady()
        let configuration = RedisConfiguration(commandTimeout: 1, connectTimeout: 0.5,
                                               sentinel: RedisSentinelSettings(masterName: RedisSentinelGroup.masterName,
                                                                               sentinels: group.sentinels.map { ("127.0.0.1", $0.port) }),
                                               waitReplicas: waitReplicas, waitTimeoutMilliseconds: 500)
        let a = try await GatewayHarness.make(files: ["apps/api.json": Fixture.tokenAPI(id: "api", listen: "/api/")],
                                              store: RedisStore(configuration: configuration))
        let b = try await a.secondNode(store: RedisStore(configuration: configuration))
        let nodes = [a.gateway, b]
        // Keys 0–15 are renewed until the kill, 16–31 after it, so what was
        // acknowledged before the kill is not overwritten before it is checked.
        let keys = (0..<32).map { "failover-key-\($0)" }
        for key in keys { #expect(await a.createKey(key, session(sequence: 0)).status == 200) }

        let recorder = Recorder()
        let started = ContinuousClock.now
        func elapsed() -> Double { (ContinuousClock.now - started).secondsValue }
        let stop = Locked(false)
        let afterKill = Locked(false)
        let sequence = Locked(0)
        let secret = GatewayHarness.secret
        let load = (0..<4).map { worker in
            Task {
                var round = 0
                while !stop.value {
                    round += 1
                    let node = nodes[(worker + round) % nodes.count]
                    // Each worker writes its own keys, one write at a time, so a key's acknowledged sequence only grows.
                    let key = keys[(afterKill.value ? 16 : 0) + worker * 4 + round % 4]
                    let next = sequence.withLock { $0 += 1; return $0 }
                    let sent = ContinuousClock.now
                    let write = await GatewayHarness.send(node, "/tyk/keys/\(key)", method: "POST",
                                                          headers: [("x-tyk-authorization", secret)], body: session(sequence: next))
                    recorder.record(at: elapsed(), status: write.status, write: true, key: key, sequence: next,
                                    milliseconds: (ContinuousClock.now - sent).secondsValue * 1000)
                    let read = await GatewayHarness.send(node, "/api/x", headers: [("Authorization", key)])
                    recorder.record(at: elapsed(), status: read.status, write: false, key: key, sequence: 0)
                    // About 100 rounds a second per worker: load enough to see the failover, not enough to starve the other suites.
                    try? await Task.sleep(for: .milliseconds(write.status != 200 || read.status != 200 ? 20 : 10))
                }
            }
        }
        try await Task.sleep(for: .seconds(1.5))
        let oldPrimaryPort = try #require(group.primaryPort())
        // The replica falls 0.4 s behind, then the primary dies: what it
        // acknowledged in those 0.4 s exists nowhere else.
        let replica = try #require(group.server(on: oldPrimaryPort == group.primary.port ? group.replica.port : group.primary.port))
        replica.pause()
        // The replication link goes too, or the kernel would still buffer what the primary sends.
        _ = try group.server(on: oldPrimaryPort)?.cli(["CLIENT", "KILL", "TYPE", "replica"])
        try await Task.sleep(for: .milliseconds(400))
        let killedAt = elapsed()
        afterKill.value = true
        group.server(on: oldPrimaryPort)?.kill()
        try await Task.sleep(for: .milliseconds(200))
        replica.resume()
        // The failover, then the old primary comes back (empty) and is made a replica of the new one.
        var newPrimaryPort: Int?
        for _ in 0..<100 {
            try await Task.sleep(for: .milliseconds(100))
            if let port = group.primaryPort(), port != oldPrimaryPort { newPrimaryPort = port; break }
        }
        try await Task.sleep(for: .seconds(1))
        try group.server(on: oldPrimaryPort)?.start()
        // Run until writes have been acknowledged for a while. With
        // wait_replicas 1 and one replica that is when the old primary has
        // rejoined as a replica, which Sentinel takes its time over.
        let deadline = killedAt + (waitReplicas > 0 ? 40 : 15)
        while elapsed() < deadline {
            try await Task.sleep(for: .milliseconds(200))
            let recent = recorder.snapshot.events.filter { $0.at > elapsed() - 2 && $0.write }
            if elapsed() > killedAt + 5, !recent.isEmpty, recent.allSatisfy({ $0.status == 200 }) { break }
        }
        stop.value = true
        for task in load { await task.value }

        let (acknowledged, events) = recorder.snapshot
        var report = Report(waitReplicas: waitReplicas)
        report.requests = events.count
        let after = events.filter { $0.at > killedAt }
        report.unavailable = after.filter { $0.status == 503 }.count
        report.readsRefused = after.filter { $0.status == 503 && !$0.write }.count
        for event in after where event.status != 200 && event.status != 503 { report.otherFailures[event.status, default: 0] += 1 }
        let firstOutage = after.first { $0.status == 503 }?.at
        report.secondsToFirstRefusal = firstOutage.map { $0 - killedAt }
        report.secondsToFirstWrite = after.first { $0.write && $0.status == 200 && $0.at > (firstOutage ?? killedAt) }.map { $0.at - killedAt }
        report.acknowledgedWrites = events.filter { $0.write && $0.status == 200 }.count
        report.writeLatency = recorder.latency(before: killedAt)

        // Every renewal acknowledged before the kill must be in the new primary.
        let primary = try #require(newPrimaryPort.flatMap { group.server(on: $0) })
        for (key, sequence) in acknowledged where keys.prefix(16).contains(key) {
            let stored = (try? primary.cli(["GET", "apikey-\(key)"])) ?? ""
            let expires = stored.range(of: #""expires":(\d+)"#, options: .regularExpression)
                .flatMap { Int(stored[$0].dropFirst(#""expires":"#.count)) } ?? 0
            if expires - 2_000_000_000 < sequence { report.lostWrites += 1 }
        }
        await b.shutdown()
        await a.close()
        _ = group
        return report
    }

    @Test("With wait_replicas 1: the nodes follow the failover, fail closed meanwhile, and no acknowledged renewal is lost")
    func failoverWithWaitReplicas() async throws {
        let report = try await Self.run(waitReplicas: 1)
        print("sentinel failover: \(report)")
        #expect(report.secondsToFirstWrite != nil, "writes resumed on the new primary: \(report)")
        #expect(report.unavailable > 0, "the outage was seen and answered 503 (fail closed): \(report)")
        #expect(report.otherFailures.isEmpty, "only 503 while the primary was gone: \(report)")
        #expect(report.lostWrites == 0, "\(report)")
    }

    @Test("Without wait_replicas the failover is followed the same way, and renewals acknowledged while the replica lagged are lost")
    func failoverWithoutWaitReplicas() async throws {
        let report = try await Self.run(waitReplicas: 0)
        print("sentinel failover: \(report)")
        #expect(report.secondsToFirstWrite != nil, "writes resumed on the new primary: \(report)")
        #expect(report.otherFailures.isEmpty, "only 503 while the primary was gone: \(report)")
        #expect(report.lostWrites > 0, "asynchronous replication loses what the lagging replica never got: \(report)")
    }
}
