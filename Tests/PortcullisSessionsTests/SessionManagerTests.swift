import Foundation
import Logging
import PortcullisCore
import PortcullisTestSupport
@testable import PortcullisSessions
import Testing

/// Builds and starts a session layer on `store`.
func startManager(_ store: any SessionStore, clock: any GatewayClock, logger: Logger? = nil,
                  _ configure: (inout SessionManagerConfiguration) -> Void = { _ in }) async throws -> SessionManager {
    var configuration = SessionManagerConfiguration()
    configure(&configuration)
    let manager = SessionManager(store: store, clock: clock, configuration: configuration,
                                 logger: logger ?? Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    try await manager.start()
    return manager
}

/// The session layer's contract, on the embedded store and on Redis.
@Suite("Session layer (memory and Redis)")
struct SessionManagerTests {
    static let key = "5976507eb46f2e00016bb4a13a4e7ca913238ee243102a32d27e56bc"

    @Test("A plugin write is in the store, the overlay and this node's cache when it returns", arguments: StoreKind.allCases)
    func pluginWriteVisibleEverywhere(kind: StoreKind) async throws {
        let fixture = try StoreFixture(kind)
        let node = try await startManager(fixture.store, clock: fixture.clock)
        let now = fixture.clock.unixSeconds()
        let overlay = SessionOverlay()
        let written = try await node.writeFromPlugin(key: Self.key, json: makeSession(expires: now + 60).jsonText(), suppressReset: false, overlay: overlay)
        let stored = try #require(try await fixture.store.readSession(key: "apikey-" + Self.key))
        #expect(stored.version == written.version)
        #expect(try SessionState(jsonText: stored.body).expires == now + 60)
        #expect(try await node.sessionForAuth(key: Self.key, overlay: overlay) == .valid(written, source: .overlay))
        #expect(try await node.sessionForAuth(key: Self.key) == .valid(written, source: .cache))
        await node.stop()
        await fixture.close()
    }

    @Test("The renew-at-expiry forum case: a pre-hook renewal is what auth sees in the same request", arguments: StoreKind.allCases)
    func renewAtExpiry(kind: StoreKind) async throws {
        let fixture = try StoreFixture(kind)
        let node = try await startManager(fixture.store, clock: fixture.clock)
        let start = fixture.clock.unixSeconds()
        try await node.writeFromPlugin(key: Self.key, json: makeSession(expires: start + 60).jsonText(), suppressReset: false)
        #expect(try await node.sessionForAuth(key: Self.key).isValid)
        fixture.clock.advance(by: 86_400)
        guard case .expired = try await node.sessionForAuth(key: Self.key) else {
            Issue.record("a day later the key should be expired (not deleted)"); return
        }
        #expect(try await node.keyData(key: Self.key)?.session.expires == start + 60)
        let overlay = SessionOverlay()
        let renewedUntil = fixture.clock.unixSeconds() + 60
        try await node.writeFromPlugin(key: Self.key, json: makeSession(expires: renewedUntil).jsonText(), suppressReset: false, overlay: overlay)
        guard case .valid(let seen, _) = try await node.sessionForAuth(key: Self.key, overlay: overlay) else {
            Issue.record("auth rejected a session the plugin had renewed"); return
        }
        #expect(seen.session.expires == renewedUntil)
        await node.stop()
        await fixture.close()
    }

    @Test("A cache may only say yes: a rejection from cache is confirmed against the store", arguments: StoreKind.allCases)
    func cacheOnlySaysYes(kind: StoreKind) async throws {
        let fixture = try StoreFixture(kind)
        let node = try await startManager(fixture.store, clock: fixture.clock)
        let now = fixture.clock.unixSeconds()
        try await node.writeFromPlugin(key: Self.key, json: makeSession(expires: now - 10).jsonText(), suppressReset: false)
        guard case .expired = try await node.sessionForAuth(key: Self.key) else { Issue.record("should be expired"); return }
        // Renew behind the node's back: no invalidation reaches it, its cache still holds the expired copy.
        let storageKey = node.storageKey(for: Self.key)
        _ = try await fixture.store.writeSession(key: storageKey, body: makeSession(expires: now + 600).jsonText(), ttlSeconds: 0, condition: .always)
        guard case .valid(let found, let source) = try await node.sessionForAuth(key: Self.key) else {
            Issue.record("rejected from a stale cache entry"); return
        }
        #expect(source == .store)
        #expect(found.session.expires == now + 600)
        await node.stop()
        await fixture.close()
    }

    @Test("Revocation is immediate on every node: delete and deactivate", arguments: StoreKind.allCases)
    func revocation(kind: StoreKind) async throws {
        let fixture = try StoreFixture(kind)
        let storeB = fixture.secondStore()
        let a = try await startManager(fixture.store, clock: fixture.clock)
        let b = try await startManager(storeB, clock: fixture.clock)
        try await a.writeFromPlugin(key: Self.key, json: makeSession().jsonText(), suppressReset: false)
        #expect(try await b.sessionForAuth(key: Self.key).isValid)
        #expect(try await b.sessionForAuth(key: Self.key).source == .cache)
        try await a.deactivate(key: Self.key)
        guard case .inactive = try await b.sessionForAuth(key: Self.key) else { Issue.record("deactivated key still served"); return }
        try await a.writeFromPlugin(key: Self.key, json: makeSession().jsonText(), suppressReset: false)
        #expect(try await b.sessionForAuth(key: Self.key).source == .store)
        #expect(try await b.sessionForAuth(key: Self.key).source == .cache)
        #expect(try await a.delete(key: Self.key))
        #expect(try await b.sessionForAuth(key: Self.key) == .notFound)
        #expect(try await a.sessionForAuth(key: Self.key) == .notFound)
        await a.stop()
        await b.stop()
        if kind == .redis { await storeB.shutdown() }
        await fixture.close()
    }

    @Test("A write-back from an older read never replaces a renewal or revives a deleted key", arguments: StoreKind.allCases)
    func writeBackNoResurrection(kind: StoreKind) async throws {
        let fixture = try StoreFixture(kind)
        let node = try await startManager(fixture.store, clock: fixture.clock)
        let now = fixture.clock.unixSeconds()
        let first = try await node.writeFromPlugin(key: Self.key, json: makeSession(expires: now + 10).jsonText(), suppressReset: false)
        try await node.writeFromPlugin(key: Self.key, json: makeSession(expires: now + 999).jsonText(), suppressReset: false)
        var stale = first.session
        stale.metaData["touched"] = .bool(true)
        #expect(try await node.writeBack(key: Self.key, session: stale, baseVersion: first.version, apiID: "api1") == .superseded)
        #expect(try await node.keyData(key: Self.key)?.session.expires == now + 999)
        let current = try #require(try await node.keyData(key: Self.key))
        var fresh = current.session
        fresh.metaData["touched"] = .bool(true)
        guard case .written = try await node.writeBack(key: Self.key, session: fresh, baseVersion: current.version, apiID: "api1") else {
            Issue.record("a write-back on the current version must succeed"); return
        }
        let latest = try #require(try await node.keyData(key: Self.key))
        try await node.delete(key: Self.key)
        #expect(try await node.writeBack(key: Self.key, session: latest.session, baseVersion: latest.version, apiID: "api1") == .superseded)
        #expect(try await node.keyData(key: Self.key) == nil)
        await node.stop()
        await fixture.close()
    }

    @Test("doAddOrUpdate: quota reset unless suppressReset, last_updated, master keys refused", arguments: StoreKind.allCases)
    func addOrUpdateRules(kind: StoreKind) async throws {
        let fixture = try StoreFixture(kind)
        let node = try await startManager(fixture.store, clock: fixture.clock)
        let now = fixture.clock.unixSeconds()
        var session = makeSession()
        session.quotaMax = 10
        session.quotaRemaining = 3
        session.quotaRenewalRate = 3600
        try await fixture.store.setValue("7", forKey: "quota-" + Self.key, ttlSeconds: 0)
        let reset = try await node.addOrUpdate(key: Self.key, session: session, suppressReset: false)
        #expect(reset.session.quotaRemaining == 10)
        #expect(reset.session.quotaRenews == now + 3600)
        #expect(reset.session.lastUpdated == String(now))
        #expect(try await fixture.store.value(forKey: "quota-" + Self.key) == nil)
        try await fixture.store.setValue("7", forKey: "quota-" + Self.key, ttlSeconds: 0)
        let kept = try await node.addOrUpdate(key: Self.key, session: session, suppressReset: true)
        #expect(kept.session.quotaRemaining == 3)
        #expect(kept.session.lastUpdated == "")
        #expect(try await fixture.store.value(forKey: "quota-" + Self.key) == "7")
        await #expect(throws: SessionError.masterKeysNotAllowed(key: "****key1")) {
            try await node.writeFromPlugin(key: "masterkey1", json: #"{"expires":0,"access_rights":{}}"#, suppressReset: false)
        }
        #expect(try await node.keyData(key: "masterkey1") == nil)
        let allowed = try await startManager(fixture.store, clock: fixture.clock) { $0.allowMasterKeys = true }
        try await allowed.writeFromPlugin(key: "masterkey1", json: #"{"expires":0}"#, suppressReset: false)
        #expect(try await allowed.keyData(key: "masterkey1") != nil)
        await node.stop()
        await allowed.stop()
        await fixture.close()
    }

    @Test("Bad session JSON from a plugin is refused naming the field, and nothing is written", arguments: StoreKind.allCases)
    func pluginDecodeErrors(kind: StoreKind) async throws {
        let fixture = try StoreFixture(kind)
        let node = try await startManager(fixture.store, clock: fixture.clock)
        try await node.writeFromPlugin(key: Self.key, json: makeSession(expires: 100).jsonText(), suppressReset: false)
        await #expect {
            try await node.writeFromPlugin(key: Self.key, json: #"{"expires": 1700000000.5, "access_rights": {"a": {}}}"#, suppressReset: false)
        } throws: { error in
            (error as? SessionError)?.description == "session for key ****56bc not stored: field 'expires' must be an integer number of Unix seconds, got 1700000000.5"
        }
        #expect(try await node.keyData(key: Self.key)?.session.expires == 100)
        await node.stop()
        await fixture.close()
    }

    @Test("Lifetime: API session_lifetime deletes the record physically; expires alone never does", arguments: StoreKind.allCases)
    func lifetimeApplied(kind: StoreKind) async throws {
        let fixture = try StoreFixture(kind)
        let node = try await startManager(fixture.store, clock: fixture.clock) { configuration in
            configuration.apiSettings = { id in id == "short" ? APISessionSettings(apiID: id, sessionLifetime: 2) : nil }
        }
        let now = fixture.clock.unixSeconds()
        try await node.addOrUpdate(key: "deleted-key", session: makeSession(expires: now + 3600, api: "short"), suppressReset: false)
        try await node.addOrUpdate(key: "expired-key", session: makeSession(expires: now - 1, api: "forever"), suppressReset: false)
        // Redis rounds the TTL; a loaded machine may read less than 2, or -2 when the
        // record is already gone. Either shows the lifetime was set; -1 (no TTL) would not.
        let lifetimeTTL = try await fixture.store.timeToLive(forKey: node.storageKey(for: "deleted-key"))
        #expect(lifetimeTTL == -2 || (0...2).contains(lifetimeTTL), "a TTL is set (not -1), got \(lifetimeTTL)")
        #expect(try await fixture.store.timeToLive(forKey: node.storageKey(for: "expired-key")) == -1)
        try await fixture.advance(2.6)
        #expect(try await node.keyData(key: "deleted-key") == nil)
        #expect(try await node.sessionForAuth(key: "deleted-key") == .notFound)
        #expect(try await node.keyData(key: "expired-key") != nil)
        guard case .expired = try await node.sessionForAuth(key: "expired-key") else { Issue.record("expired ≠ deleted"); return }
        await node.stop()
        await fixture.close()
    }

    @Test("Async session write defers only bookkeeping write-backs, never a plugin write", arguments: StoreKind.allCases)
    func asyncWrites(kind: StoreKind) async throws {
        let fixture = try StoreFixture(kind)
        let node = try await startManager(fixture.store, clock: fixture.clock) { $0.useAsyncSessionWrite = true }
        let written = try await node.writeFromPlugin(key: Self.key, json: makeSession(expires: 50).jsonText(), suppressReset: false)
        #expect(try await fixture.store.readSession(key: node.storageKey(for: Self.key))?.version == written.version)
        var touched = written.session
        touched.metaData["n"] = .int(1)
        #expect(try await node.writeBack(key: Self.key, session: touched, baseVersion: written.version, apiID: nil) == .deferred)
        await node.flushPendingWrites()
        #expect(try await node.keyData(key: Self.key)?.session.metaData["n"] == .int(1))
        await node.stop()
        await fixture.close()
    }

    @Test("Quota: counts per window, refuses when exceeded, and repairs a stale window with the Tyk log line", arguments: StoreKind.allCases)
    func quota(kind: StoreKind) async throws {
        let fixture = try StoreFixture(kind)
        let capture = LogBook()
        let node = try await startManager(fixture.store, clock: fixture.clock, logger: capture.logger(node: "a", level: .trace))
        let now = fixture.clock.unixSeconds()
        var session = makeSession()
        session.quotaMax = 2
        session.quotaRenewalRate = 60
        session.quotaRenews = now + 60
        #expect(try await node.consumeQuota(key: Self.key, session: session) == .allowed(remaining: 1, renews: now + 60))
        #expect(try await node.consumeQuota(key: Self.key, session: session) == .allowed(remaining: 0, renews: now + 60))
        #expect(try await node.consumeQuota(key: Self.key, session: session) == .exceeded(renews: now + 60))
        #expect(!capture.allText.contains("Incorrect key expiry"))
        session.quotaRenews = now - 5
        #expect(try await node.consumeQuota(key: Self.key, session: session) == .allowed(remaining: 1, renews: now + 60))
        let repair = capture.all.filter { $0.message == "Incorrect key expiry setting detected, correcting" }
        #expect(repair.count == 1)
        #expect(repair.first?.level == .warning)
        #expect(repair.first?.metadata["key"] == "****56bc")
        session.quotaRenewalRate = 0
        _ = try await node.consumeQuota(key: Self.key, session: session)
        #expect(try await node.consumeQuota(key: Self.key, session: session) == .exceeded(renews: now - 5))
        var unlimited = makeSession()
        unlimited.quotaMax = -1
        #expect(try await node.consumeQuota(key: Self.key, session: unlimited) == .unlimited)
        await node.stop()
        await fixture.close()
    }

    @Test("Logs never show a whole key", arguments: StoreKind.allCases)
    func logsMaskKeys(kind: StoreKind) async throws {
        let fixture = try StoreFixture(kind)
        let capture = LogBook()
        let node = try await startManager(fixture.store, clock: fixture.clock, logger: capture.logger(node: "a", level: .trace))
        try await node.writeFromPlugin(key: Self.key, json: makeSession(expires: 1).jsonText(), suppressReset: false)
        _ = try await node.sessionForAuth(key: Self.key)
        _ = try? await node.writeFromPlugin(key: Self.key, json: "{", suppressReset: false)
        try await node.delete(key: Self.key)
        #expect(capture.allText.contains("****56bc"))
        #expect(capture.all.contains { $0.message == "Key added or updated." })
        #expect(!capture.allText.contains(Self.key))
        await node.stop()
        await fixture.close()
    }
}

extension SessionLookup {
    var isValid: Bool {
        if case .valid = self { return true }
        return false
    }

    var source: SessionSource? {
        if case .valid(_, let source) = self { return source }
        return nil
    }
}
