import Foundation
import PortcullisCore
@testable import PortcullisSessions
import Testing

/// The same behaviour, checked on the embedded store and on a real Redis.
@Suite("Store behaviour (memory and Redis)")
struct StoreBehaviourTests {
    @Test("Session records: write, read, versions grow, delete", arguments: StoreKind.allCases)
    func sessionRecords(kind: StoreKind) async throws {
        let fixture = try StoreFixture(kind)
        let store = fixture.store
        let body = makeSession(expires: 10).jsonText()
        #expect(try await store.readSession(key: "apikey-a") == nil)
        guard case .written(let v1, _) = try await store.writeSession(key: "apikey-a", body: body, ttlSeconds: 0, condition: .always) else {
            Issue.record("first write refused"); return
        }
        let read = try #require(try await store.readSession(key: "apikey-a"))
        #expect(read.version == v1)
        #expect(try SessionState(jsonText: read.body).expires == 10)
        guard case .written(let v2, _) = try await store.writeSession(key: "apikey-a", body: body, ttlSeconds: 0, condition: .always) else {
            Issue.record("second write refused"); return
        }
        #expect(v2 > v1)
        let deleted = try await store.deleteSession(key: "apikey-a")
        #expect(deleted.existed)
        #expect(deleted.version > v2)
        #expect(try await store.readSession(key: "apikey-a") == nil)
        #expect(try await store.deleteSession(key: "apikey-a").existed == false)
        await fixture.close()
    }

    @Test("A write returns the record it replaced (nil for a new key); prefix listing finds live keys only", arguments: StoreKind.allCases)
    func replacedAndListed(kind: StoreKind) async throws {
        let fixture = try StoreFixture(kind)
        let store = fixture.store
        guard case .written(let v1, let first) = try await store.writeSession(
            key: "apikey-r", body: makeSession(expires: 100).jsonText(), ttlSeconds: 0, condition: .always) else {
            Issue.record("write refused"); return
        }
        #expect(first == nil)
        guard case .written(_, let replaced) = try await store.writeSession(
            key: "apikey-r", body: makeSession(expires: 200).jsonText(), ttlSeconds: 0, condition: .always) else {
            Issue.record("write refused"); return
        }
        #expect(replaced?.version == v1)
        #expect(try replaced.map { try SessionState(jsonText: $0.body).expires } == 100)
        _ = try await store.writeSession(key: "apikey-s", body: makeSession(expires: 1).jsonText(), ttlSeconds: 0, condition: .always)
        try await store.setValue("x", forKey: "quota-r", ttlSeconds: 0)
        _ = try await store.deleteSession(key: "apikey-s")
        #expect(try await store.keys(withPrefix: "apikey-").sorted() == ["apikey-r"])
        await fixture.close()
    }

    @Test("Conditional writes: a stale version never replaces a newer record, a deleted one is not revived", arguments: StoreKind.allCases)
    func noResurrection(kind: StoreKind) async throws {
        let fixture = try StoreFixture(kind)
        let store = fixture.store
        let old = makeSession(expires: 100).jsonText()
        let renewed = makeSession(expires: 200).jsonText()
        guard case .written(let v1, _) = try await store.writeSession(key: "apikey-k", body: old, ttlSeconds: 0, condition: .always),
              case .written(let v2, _) = try await store.writeSession(key: "apikey-k", body: renewed, ttlSeconds: 0, condition: .always)
        else { Issue.record("writes refused"); return }
        #expect(try await store.writeSession(key: "apikey-k", body: old, ttlSeconds: 0, condition: .ifVersion(v1)) == .conflict(current: v2))
        #expect(try SessionState(jsonText: #require(try await store.readSession(key: "apikey-k")).body).expires == 200)
        guard case .written(let v3, _) = try await store.writeSession(key: "apikey-k", body: renewed, ttlSeconds: 0, condition: .ifVersion(v2)) else {
            Issue.record("matching conditional write refused"); return
        }
        #expect(v3 > v2)
        _ = try await store.deleteSession(key: "apikey-k")
        #expect(try await store.writeSession(key: "apikey-k", body: old, ttlSeconds: 0, condition: .ifVersion(v3)) == .conflict(current: nil))
        #expect(try await store.readSession(key: "apikey-k") == nil)
        await fixture.close()
    }

    @Test("TTLs expire records and values; 0 keeps them", arguments: StoreKind.allCases)
    func ttlExpiry(kind: StoreKind) async throws {
        let fixture = try StoreFixture(kind)
        let store = fixture.store
        _ = try await store.writeSession(key: "apikey-short", body: makeSession().jsonText(), ttlSeconds: 1, condition: .always)
        _ = try await store.writeSession(key: "apikey-forever", body: makeSession().jsonText(), ttlSeconds: 0, condition: .always)
        try await store.setValue("v", forKey: "plain-short", ttlSeconds: 1)
        try await store.setValue("v", forKey: "plain-forever", ttlSeconds: 0)
        // A TTL is set and is at most one second (-2: already gone on a loaded machine).
        let shortTTL = try await store.timeToLive(forKey: "plain-short")
        #expect(shortTTL != -1 && shortTTL <= 1)
        #expect(try await store.timeToLive(forKey: "plain-forever") == -1)
        #expect(try await store.timeToLive(forKey: "missing") == -2)
        try await fixture.advance(1.6)
        #expect(try await store.readSession(key: "apikey-short") == nil)
        #expect(try await store.readSession(key: "apikey-forever") != nil)
        #expect(try await store.value(forKey: "plain-short") == nil)
        #expect(try await store.value(forKey: "plain-forever") == "v")
        #expect(try await store.timeToLive(forKey: "plain-short") == -2)
        await fixture.close()
    }

    @Test("Counters are atomic, get their TTL on create, and quota counters repair a missing TTL", arguments: StoreKind.allCases)
    func counters(kind: StoreKind) async throws {
        let fixture = try StoreFixture(kind)
        let store = fixture.store
        let results = try await withThrowingTaskGroup(of: Int64.self) { group in
            for _ in 0..<200 {
                group.addTask { try await store.increment(key: "quota-c", ttlSecondsOnCreate: 60, repairMissingTTL: true) }
            }
            var all: [Int64] = []
            for try await value in group { all.append(value) }
            return all
        }
        #expect(Set(results) == Set(1...200))
        let ttl = try await store.timeToLive(forKey: "quota-c")
        #expect(ttl > 0 && ttl <= 60)
        try await store.setValue("5", forKey: "no-ttl", ttlSeconds: 0)
        #expect(try await store.increment(key: "no-ttl", ttlSecondsOnCreate: 30, repairMissingTTL: false) == 6)
        #expect(try await store.timeToLive(forKey: "no-ttl") == -1)
        #expect(try await store.increment(key: "no-ttl", ttlSecondsOnCreate: 30, repairMissingTTL: true) == 7)
        #expect(try await store.timeToLive(forKey: "no-ttl") > 0)
        try await store.setValue("text", forKey: "not-a-number", ttlSeconds: 0)
        await #expect(throws: SessionStoreError.wrongValue(key: "not-a-number", reason: "it is not an integer")) {
            _ = try await store.increment(key: "not-a-number", ttlSecondsOnCreate: 0, repairMissingTTL: false)
        }
        await fixture.close()
    }

    @Test("Plugin key-value store: jsvm-store: prefix, SetNX has one winner, Del/TTL/Incr semantics", arguments: StoreKind.allCases)
    func pluginKeyValue(kind: StoreKind) async throws {
        let fixture = try StoreFixture(kind)
        let kv = PluginKeyValueStore(store: fixture.store)
        #expect(try await kv.get("k") == nil)
        try await kv.set("k", value: "v1", ttlSeconds: 0)
        #expect(try await fixture.store.value(forKey: "jsvm-store:k") == "v1")
        #expect(try await kv.get("k") == "v1")
        let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
            for i in 0..<20 { group.addTask { try await kv.setIfAbsent("lock", value: "owner\(i)", ttlSeconds: 30) } }
            var count = 0
            for try await won in group where won { count += 1 }
            return count
        }
        #expect(winners == 1)
        let lockTTL = try await kv.ttl("lock")
        #expect(lockTTL > 0 && lockTTL <= 30)
        #expect(try await kv.delete("k") == 1)
        #expect(try await kv.delete("k") == 0)
        #expect(try await kv.ttl("k") == -2)
        #expect(try await kv.increment("n", ttlSeconds: 0) == 1)
        #expect(try await kv.increment("n", ttlSeconds: 100) == 2)
        #expect(try await kv.ttl("n") == -1)
        await fixture.close()
    }

    @Test("Publish/subscribe delivers to every subscriber and counts them; cancel stops delivery", arguments: StoreKind.allCases)
    func pubSub(kind: StoreKind) async throws {
        let fixture = try StoreFixture(kind)
        let store = fixture.store
        let received = Locked([String]())
        let live = Locked(false)
        let subscription = try await store.subscribe(channel: "news") { event in
            switch event {
            case .subscribed: live.withLock { $0 = true }
            case .message(let text): received.withLock { $0.append(text) }
            case .lost: live.withLock { $0 = false }
            }
        }
        try await waitFor { live.withLock { $0 } }
        #expect(try await store.publish(channel: "news", message: "one") == 1)
        #expect(try await store.publish(channel: "other", message: "x") == 0)
        try await waitFor { received.withLock { $0 } == ["one"] }
        subscription.cancel()
        _ = try await store.publish(channel: "news", message: "two")
        try await Task.sleep(nanoseconds: 100_000_000)
        #expect(received.withLock { $0 } == ["one"])
        await fixture.close()
    }

    @Test("An announcing write deletes, writes and publishes in one step, says who received it, and sends nothing to a writer alone",
          arguments: StoreKind.allCases)
    func announcingWrite(kind: StoreKind) async throws {
        let fixture = try StoreFixture(kind)
        let store = try #require(fixture.store as? any AnnouncingSessionWrites)
        let channel = "announce-test"
        let own = "announce-test.node.a"
        let announcement = SessionAnnouncement(channel: channel, prefix: "a 7", ownChannel: own)
        let body = makeSession(expires: 100).jsonText()
        let live = Locked(Set<String>())
        let writerHeard = Locked([String]())
        var subscriptions: [StoreSubscription] = []
        subscriptions.append(try await store.subscribe(channel: channel) { event in
            switch event {
            case .subscribed: live.withLock { _ = $0.insert(channel) }
            case .message(let text): writerHeard.withLock { $0.append(text) }
            case .lost: break
            }
        })
        subscriptions.append(try await store.subscribe(channel: own) { event in
            if case .subscribed = event { live.withLock { _ = $0.insert(own) } }
        })
        try await waitFor { live.withLock { $0.count } == 2 }

        // The writer alone: written, the quota counter gone, nothing sent.
        try await store.setValue("3", forKey: "quota-announce", ttlSeconds: 0)
        let (first, alone) = try await store.writeSession(key: "apikey-announce", body: body, ttlSeconds: 0, condition: .always,
                                                           deleting: ["quota-announce"], announcing: announcement)
        guard case .written(let v1, _) = first else { Issue.record("write refused"); return }
        #expect(alone == AnnouncementReceipt(receivers: 1, includesWriter: true))
        #expect(try await store.value(forKey: "quota-announce") == nil)
        #expect(try await store.readSession(key: "apikey-announce")?.version == v1)

        // A conflict writes, deletes and sends nothing.
        try await store.setValue("5", forKey: "quota-announce", ttlSeconds: 0)
        let (refused, nobody) = try await store.writeSession(key: "apikey-announce", body: body, ttlSeconds: 0, condition: .ifVersion(v1 + 1000),
                                                             deleting: ["quota-announce"], announcing: announcement)
        #expect(refused == .conflict(current: v1))
        #expect(nobody == AnnouncementReceipt(receivers: 0))
        #expect(try await store.value(forKey: "quota-announce") == "5")

        // Another node listening: both receive "<prefix> <version> <key>".
        let otherHeard = Locked([String]())
        let otherLive = Locked(false)
        let otherNode = fixture.secondStore()
        let other = try await otherNode.subscribe(channel: channel) { event in
            switch event {
            case .subscribed: otherLive.withLock { $0 = true }
            case .message(let text): otherHeard.withLock { $0.append(text) }
            case .lost: break
            }
        }
        try await waitFor { otherLive.withLock { $0 } }
        let (second, shared) = try await store.writeSession(key: "apikey-announce", body: body, ttlSeconds: 0, condition: .ifVersion(v1),
                                                            deleting: [], announcing: announcement)
        guard case .written(let v2, let replaced) = second else { Issue.record("write refused"); return }
        #expect(replaced?.version == v1)
        #expect(shared == AnnouncementReceipt(receivers: 2, includesWriter: true))
        try await waitFor { otherHeard.withLock { $0 } == ["a 7 \(v2) apikey-announce"] }
        try await waitFor { writerHeard.withLock { $0 } == ["a 7 \(v2) apikey-announce"] }
        other.cancel()
        for subscription in subscriptions { subscription.cancel() }
        if fixture.kind == .redis { await otherNode.shutdown() }
        await fixture.close()
    }
}

/// Polls `condition` until it holds, failing the test after `seconds`.
func waitFor(_ seconds: Double = 5, _ condition: @Sendable () -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() {
        if Date() > deadline {
            Issue.record("condition not met within \(seconds) s")
            return
        }
        try await Task.sleep(nanoseconds: 10_000_000)
    }
}
