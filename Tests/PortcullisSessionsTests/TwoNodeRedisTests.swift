import Foundation
import PortcullisCore
@testable import PortcullisSessions
import PortcullisTestSupport
import Testing

@Suite("Two nodes sharing Redis")
struct TwoNodeRedisTests {
    @Test("Node A renews, node B's next auth read sees the renewal: 1,000 rounds, zero stale reads")
    func renewalsVisibleOnOtherNode() async throws {
        let server = try RedisServer()
        let clock = VirtualClock(start: Date())
        let storeA = RedisStore(configuration: RedisConfiguration(port: server.port))
        let storeB = RedisStore(configuration: RedisConfiguration(port: server.port))
        let a = try await startManager(storeA, clock: clock) { $0.useAsyncSessionWrite = true }
        let b = try await startManager(storeB, clock: clock) { $0.useAsyncSessionWrite = true }
        #expect(a.isCacheLive && b.isCacheLive)
        let key = "two-node-renewal-key-0042"
        // Every version of the session is valid (far-future expires), so a stale
        // cached copy would be accepted: only the invalidation protects B.
        let base = clock.unixSeconds() + 1_000_000
        try await a.writeFromPlugin(key: key, json: makeSession(expires: base).jsonText(), suppressReset: false)
        var stale = 0
        var fromCache = 0
        let rounds = 1000
        let (_, seconds) = try await elapsed {
            for round in 1...rounds {
                // B reads (filling its cache) and queues its own bookkeeping write-back, as a request would.
                guard case .valid(let seen, let source) = try await b.sessionForAuth(key: key) else {
                    stale += 1
                    continue
                }
                if source == .cache { fromCache += 1 }
                var bookkeeping = seen.session
                bookkeeping.metaData["hits"] = .int(Int64(round))
                _ = try await b.writeBack(key: key, session: bookkeeping, baseVersion: seen.version, apiID: "api1")
                // A renews, the way a pre-hook calls TykSetKeyData.
                let renewedUntil = base + Int64(round)
                try await a.writeFromPlugin(key: key, json: makeSession(expires: renewedUntil).jsonText(), suppressReset: true)
                // B's next auth read must see exactly that renewal.
                guard case .valid(let after, _) = try await b.sessionForAuth(key: key), after.session.expires == renewedUntil else {
                    stale += 1
                    continue
                }
            }
            await b.flushPendingWrites()
        }
        for result in [try await b.keyData(key: key)] {
            #expect(result?.session.expires == base + Int64(rounds))
        }
        print("two-node: \(rounds) rounds in \(String(format: "%.2f", seconds)) s, stale reads: \(stale), B reads served from cache: \(fromCache)")
        #expect(stale == 0)
        #expect(fromCache > rounds / 2, "B's cache should be in use between renewals")
        await a.stop()
        await b.stop()
        await storeA.shutdown()
        await storeB.shutdown()
        server.kill()
    }
}
