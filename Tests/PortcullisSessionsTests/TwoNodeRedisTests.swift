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

    @Test("A node that receives invalidations but never acknowledges them makes a plugin write fail, the writer's own copy not counted for it")
    func silentReceiverIsAwaited() async throws {
        let server = try RedisServer()
        let clock = VirtualClock(start: Date())
        let store = RedisStore(configuration: RedisConfiguration(port: server.port))
        let listener = RedisStore(configuration: RedisConfiguration(port: server.port))
        let writer = try await startManager(store, clock: clock) { $0.invalidationTimeout = 0.5 }
        let key = "silent-receiver-key-0001"
        // Alone, the writer waits for no one: its own cache holds the write.
        let alone = try await writer.writeFromPlugin(key: key, json: makeSession(expires: clock.unixSeconds() + 60).jsonText(), suppressReset: true)
        #expect(try await writer.sessionForAuth(key: key) == .valid(alone, source: .cache))

        // A second subscriber on the invalidation channel that never answers.
        let silent = try await InvalidationListener.live(on: listener)
        do {
            try await writer.writeFromPlugin(key: key, json: makeSession(expires: clock.unixSeconds() + 120).jsonText(), suppressReset: true)
            Issue.record("the write returned although one receiver never acknowledged it")
        } catch SessionError.invalidationNotAcknowledged(_, let acknowledged, let expected) {
            #expect(expected == 2)
            #expect(acknowledged == 1, "only the writer itself counts")
        }
        #expect(silent.received == 1)

        // Once it is gone, writing alone needs no acknowledgement again.
        silent.subscription.cancel()
        var writtenAlone = false
        for _ in 0..<10 where !writtenAlone {
            writtenAlone = (try? await writer.writeFromPlugin(key: key, json: makeSession(expires: clock.unixSeconds() + 180).jsonText(),
                                                                suppressReset: true)) != nil
        }
        #expect(writtenAlone)
        await writer.stop()
        await store.shutdown()
        await listener.shutdown()
        server.kill()
    }

    @Test("The write script reports whether the writer's own connection received the invalidation")
    func writerReceiptFromTheScript() async throws {
        let server = try RedisServer()
        let store = RedisStore(configuration: RedisConfiguration(port: server.port))
        let own = InvalidationBus.nodeChannel("receipt-node")
        let announcement = SessionAnnouncement(channel: InvalidationBus.invalidateChannel, prefix: "receipt-node -", ownChannel: own)
        let body = makeSession(expires: 4_000_000_000).jsonText()
        let (_, nobody) = try await store.writeSession(key: "apikey-receipt", body: body, ttlSeconds: 0, condition: .always,
                                                        deleting: [], announcing: announcement)
        #expect(nobody == AnnouncementReceipt(receivers: 0, includesWriter: false))

        let live = Locked(Set<String>())
        let messages = Locked(0)
        var subscriptions: [StoreSubscription] = []
        for channel in [InvalidationBus.invalidateChannel, own] {
            subscriptions.append(try await store.subscribe(channel: channel) { event in
                switch event {
                case .subscribed: live.withLock { _ = $0.insert(channel) }
                case .message: messages.withLock { $0 += 1 }
                case .lost: break
                }
            })
        }
        try await waitFor(5) { live.withLock { $0.count } == 2 }
        let (_, itself) = try await store.writeSession(key: "apikey-receipt", body: body, ttlSeconds: 0, condition: .always,
                                                        deleting: [], announcing: announcement)
        #expect(itself == AnnouncementReceipt(receivers: 1, includesWriter: true))

        // Without the own channel the script cannot tell, and says so.
        let plain = SessionAnnouncement(channel: InvalidationBus.invalidateChannel, prefix: "receipt-node -")
        let (_, unknown) = try await store.writeSession(key: "apikey-receipt", body: body, ttlSeconds: 0, condition: .always,
                                                         deleting: [], announcing: plain)
        #expect(unknown == AnnouncementReceipt(receivers: 1, includesWriter: false))
        // Only that write was published: the one the writer alone would
        // have received was not sent at all.
        try await waitFor(5) { messages.withLock { $0 } >= 1 }
        try await Task.sleep(nanoseconds: 200_000_000)
        #expect(messages.withLock { $0 } == 1)

        // With a second subscriber (another node's connection) the
        // writer's write is published again.
        let listener = RedisStore(configuration: RedisConfiguration(port: server.port))
        let other = try await InvalidationListener.live(on: listener)
        let (_, shared) = try await store.writeSession(key: "apikey-receipt", body: body, ttlSeconds: 0, condition: .always,
                                                        deleting: [], announcing: announcement)
        #expect(shared == AnnouncementReceipt(receivers: 2, includesWriter: true))
        try await waitFor(5) { other.received == 1 }
        other.subscription.cancel()
        for subscription in subscriptions { subscription.cancel() }
        await listener.shutdown()
        await store.shutdown()
        server.kill()
    }
}

/// Another node's connection on the invalidation channel that counts what
/// it receives and never acknowledges anything.
private struct InvalidationListener: Sendable {
    let subscription: StoreSubscription
    private let count: Locked<Int>

    /// Messages received so far.
    var received: Int { count.value }

    /// Subscribes through `store` and returns once the subscription is live.
    static func live(on store: RedisStore) async throws -> InvalidationListener {
        let live = Locked(false)
        let count = Locked(0)
        let subscription = try await store.subscribe(channel: InvalidationBus.invalidateChannel) { event in
            switch event {
            case .subscribed: live.withLock { $0 = true }
            case .message: count.withLock { $0 += 1 }
            case .lost: live.withLock { $0 = false }
            }
        }
        try await waitFor(5) { live.value }
        return InvalidationListener(subscription: subscription, count: count)
    }
}
