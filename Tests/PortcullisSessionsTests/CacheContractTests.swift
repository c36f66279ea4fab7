import Foundation
import PortcullisCore
@testable import PortcullisSessions
import Testing

@Suite("Cache contract details")
struct CacheContractTests {
    static let key = "cache-contract-key-0001"

    @Test("A fill read before an invalidation can never land after it (no resurrection)")
    func fillRaceNoResurrection() {
        let clock = VirtualClock()
        let cache = SessionCache(clock: clock, timeout: 10)
        cache.resume()
        let old = VersionedSession(session: makeSession(expires: 1), version: 5)
        let ticket = cache.beginFill()
        cache.invalidate("apikey-k", version: 6)
        #expect(!cache.complete(ticket, storageKey: "apikey-k", value: old))
        #expect(cache.lookup("apikey-k") == nil)
        // A fill that read after the delete (version 7) finds nothing; one that read the old record still cannot land.
        let late = cache.beginFill()
        let stale = cache.beginFill()
        cache.invalidate("apikey-k", version: 7)
        #expect(!cache.complete(stale, storageKey: "apikey-k", value: old))
        #expect(!cache.complete(late, storageKey: "apikey-k", value: nil))
        // The writer's own newer version goes in, and an older one never replaces it.
        cache.stored(cache.beginFill(), storageKey: "apikey-k", value: VersionedSession(session: makeSession(expires: 2), version: 9))
        // A write-back that started earlier and stored version 8 cannot replace it either.
        let slowWrite = cache.beginFill()
        cache.invalidate("apikey-k", version: 9)
        cache.stored(slowWrite, storageKey: "apikey-k", value: VersionedSession(session: makeSession(expires: 4), version: 8))
        #expect(cache.lookup("apikey-k")?.version == 9)
        let older = cache.beginFill()
        #expect(!cache.complete(older, storageKey: "apikey-k", value: VersionedSession(session: makeSession(expires: 3), version: 8)))
        #expect(cache.lookup("apikey-k")?.version == 9)
        // The same when the newer version is known only as an invalidation (no entry to compare with):
        // a write-back that began before it and lands after it must not be cached.
        let other = "apikey-other"
        cache.stored(cache.beginFill(), storageKey: other, value: VersionedSession(session: makeSession(expires: 1), version: 20))
        let lateWriteBack = cache.beginFill()
        cache.invalidate(other, version: 22)
        cache.stored(lateWriteBack, storageKey: other, value: VersionedSession(session: makeSession(expires: 1), version: 21))
        #expect(cache.lookup(other) == nil)
        // An invalidation at the cached version itself (the writer's own echo) keeps it.
        cache.invalidate("apikey-k", version: 9)
        #expect(cache.lookup("apikey-k")?.version == 9)
    }

    @Test("This node's own announcement keeps the entry until the write ends; a failed or outrun write drops it")
    func ownAnnouncementKeepsEntryUntilWriteEnds() {
        let clock = VirtualClock()
        let cache = SessionCache(clock: clock, timeout: 10)
        cache.resume()
        let key = "apikey-k"
        cache.stored(cache.beginFill(), storageKey: key, value: VersionedSession(session: makeSession(expires: 1), version: 5))
        // A renewal to version 6: its announcement arrives before its reply.
        let write = cache.beginFill()
        let staleRead = cache.beginFill()
        cache.announcedOwnWrite(key, version: 6)
        #expect(cache.lookup(key)?.version == 5)
        // A read that began before it still cannot land.
        #expect(!cache.complete(staleRead, storageKey: key, value: VersionedSession(session: makeSession(expires: 1), version: 5)))
        cache.stored(write, storageKey: key, value: VersionedSession(session: makeSession(expires: 2), version: 6))
        #expect(cache.lookup(key)?.version == 6)
        // A renewal whose reply never comes: the kept entry goes with it.
        let failed = cache.beginFill()
        cache.announcedOwnWrite(key, version: 7)
        #expect(cache.lookup(key)?.version == 6)
        cache.stored(failed, storageKey: key, value: nil)
        #expect(cache.lookup(key) == nil)
        // Two renewals in flight, the later one announced first: when the
        // earlier one returns, nothing older than it is left to serve.
        cache.stored(cache.beginFill(), storageKey: key, value: VersionedSession(session: makeSession(expires: 3), version: 8))
        let first = cache.beginFill()
        let second = cache.beginFill()
        cache.announcedOwnWrite(key, version: 10)
        cache.announcedOwnWrite(key, version: 9)
        cache.stored(first, storageKey: key, value: VersionedSession(session: makeSession(expires: 4), version: 9))
        #expect(cache.lookup(key) == nil)
        cache.stored(second, storageKey: key, value: VersionedSession(session: makeSession(expires: 5), version: 10))
        #expect(cache.lookup(key)?.version == 10)
        // Another node's announcement still drops the entry at once.
        cache.invalidate(key, version: 11)
        #expect(cache.lookup(key) == nil)
    }

    @Test("Cached entries time out after cached_session_timeout")
    func cacheTimeout() {
        let clock = VirtualClock()
        let cache = SessionCache(clock: clock, timeout: 10)
        cache.resume()
        cache.stored(cache.beginFill(), storageKey: "apikey-k", value: VersionedSession(session: makeSession(), version: 1))
        clock.advance(by: 9)
        #expect(cache.lookup("apikey-k") != nil)
        clock.advance(by: 2)
        #expect(cache.lookup("apikey-k") == nil)
    }

    @Test("A node whose subscription is lost serves nothing from cache until resubscribed")
    func subscriptionLoss() async throws {
        let clock = VirtualClock()
        let store = MemoryStore(clock: clock)
        let a = try await startManager(store, clock: clock)
        let b = try await startManager(store, clock: clock)
        try await a.writeFromPlugin(key: Self.key, json: makeSession().jsonText(), suppressReset: false)
        #expect(try await b.sessionForAuth(key: Self.key).isValid)
        #expect(try await b.sessionForAuth(key: Self.key).source == .cache)
        store.interruptSubscriptions()
        #expect(!b.isCacheLive)
        #expect(b.cachedSessionCount == 0)
        // Changed while b cannot hear about it: b must not answer from an old copy.
        let storageKey = a.storageKey(for: Self.key)
        _ = try await store.writeSession(key: storageKey, body: makeSession(expires: 5).jsonText(), ttlSeconds: 0, condition: .always)
        guard case .expired = try await b.sessionForAuth(key: Self.key) else { Issue.record("served a stale session while unsubscribed"); return }
        #expect(try await b.sessionForAuth(key: Self.key) == (try await b.sessionForAuth(key: Self.key)))
        #expect(b.cachedSessionCount == 0)
        store.resumeSubscriptions()
        #expect(b.isCacheLive)
        try await a.writeFromPlugin(key: Self.key, json: makeSession().jsonText(), suppressReset: false)
        _ = try await b.sessionForAuth(key: Self.key)
        #expect(try await b.sessionForAuth(key: Self.key).source == .cache)
        await a.stop()
        await b.stop()
    }

    @Test("Store unreachable: auth and plugin writes fail closed with a typed error naming the masked key")
    func failClosed() async throws {
        let clock = VirtualClock()
        let store = MemoryStore(clock: clock)
        let node = try await startManager(store, clock: clock)
        store.setUnavailable("connection refused")
        await #expect {
            _ = try await node.sessionForAuth(key: Self.key)
        } throws: { error in
            guard case .storeFailed(let key, _, let cause) = error as? SessionError else { return false }
            return key == "****0001" && cause == .unavailable(reason: "connection refused")
        }
        await #expect(throws: SessionError.self) {
            try await node.writeFromPlugin(key: Self.key, json: makeSession().jsonText(), suppressReset: false)
        }
        store.setUnavailable(nil)
        #expect(try await node.keyData(key: Self.key) == nil)
        await node.stop()
    }

    @Test("Overlay keeps the newest version per stored name and is safe across tasks")
    func overlay() async {
        let overlay = SessionOverlay()
        await withTaskGroup(of: Void.self) { group in
            for version in 1...100 {
                group.addTask { overlay.record(storageKey: "apikey-k", VersionedSession(session: makeSession(expires: Int64(version)), version: UInt64(version))) }
            }
        }
        #expect(overlay.entry(storageKey: "apikey-k")?.version == 100)
        #expect(overlay.count == 1)
    }

    @Test("With hash_keys, store, cache and invalidation use one name per key")
    func oneNamePerKey() async throws {
        let clock = VirtualClock()
        let store = MemoryStore(clock: clock)
        let naming = KeyNaming(hashKeys: true, hashFunction: .murmur64)
        let a = try await startManager(store, clock: clock) { $0.naming = naming }
        let b = try await startManager(store, clock: clock) { $0.naming = naming }
        try await a.writeFromPlugin(key: Self.key, json: makeSession().jsonText(), suppressReset: false)
        #expect(try await store.readSession(key: "apikey-" + KeyHashFunction.murmur32.hexDigest(Self.key)) != nil)
        #expect(try await b.sessionForAuth(key: Self.key).isValid)
        #expect(try await b.sessionForAuth(key: Self.key).source == .cache)
        var revoked = makeSession()
        revoked.isInactive = true
        try await a.addOrUpdate(key: Self.key, session: revoked, suppressReset: false)
        guard case .inactive = try await b.sessionForAuth(key: Self.key) else { Issue.record("b kept a stale cache entry"); return }
        await a.stop()
        await b.stop()
    }
}
