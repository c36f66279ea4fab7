import Foundation
import PortcullisCore
@testable import PortcullisSessions
import PortcullisTestSupport
import Testing

/// What an immediate write came to, without the closure.
private enum Came: Equatable {
    case written(VersionedSession)
    case confirming
    case mustWait

    init(_ write: ImmediateWrite) {
        switch write {
        case .written(let session): self = .written(session)
        case .confirming: self = .confirming
        case .mustWait: self = .mustWait
        }
    }
}

/// `TykSetKeyData` made on the worker's own thread: the same write, the
/// same acknowledgements, without a task per call.
@Suite("Plugin writes on the calling thread")
struct ImmediateWriteTests {
    @Test("On the memory store the write is made at once, and the node's cache and the request's overlay hold it")
    func memoryStoreWritesAtOnce() async throws {
        let clock = VirtualClock(start: Date())
        let store = MemoryStore(clock: clock)
        let manager = try await startManager(store, clock: clock)
        let key = "immediate-memory-key-0001"
        let overlay = SessionOverlay()
        let expires = clock.unixSeconds() + 60
        let write = try manager.writeFromPluginImmediately(key: key, json: makeSession(expires: expires).jsonText(),
                                                           suppressReset: false, overlay: overlay)
        guard case .written(let written) = write else {
            Issue.record("expected the write to be made at once, got \(Came(write))")
            return
        }
        #expect(written.session.expires == expires)
        #expect(written.session.lastUpdated == String(clock.unixSeconds()), "Tyk's quota reset still stamps the write")
        #expect(overlay.entry(storageKey: manager.storageKey(for: key)) == written)
        #expect(try await manager.sessionForAuth(key: key) == .valid(written, source: .cache))
        #expect(try await store.readSession(key: manager.storageKey(for: key))?.version == written.version)
        await manager.stop()
    }

    @Test("A store that has to wait writes nothing here: the write goes the waiting way, and refusals still throw")
    func slowStoreMustWait() async throws {
        let clock = VirtualClock(start: Date())
        let store = MemoryStore(clock: clock)
        let manager = try await startManager(store, clock: clock)
        let key = "immediate-slow-key-0001"
        store.setLatency(0.01)
        let write = try manager.writeFromPluginImmediately(key: key, json: makeSession(expires: clock.unixSeconds() + 60).jsonText(),
                                                           suppressReset: true)
        #expect(Came(write) == .mustWait)
        store.setLatency(0)
        #expect(try await store.readSession(key: manager.storageKey(for: key)) == nil, "nothing was written")
        #expect(throws: SessionError.self) {
            _ = try manager.writeFromPluginImmediately(key: key, json: #"{"expires":"soon"}"#, suppressReset: true)
        }
        #expect(throws: SessionError.self) {
            _ = try manager.writeFromPluginImmediately(key: key, json: #"{"expires":1}"#, suppressReset: true)
        }
        await manager.stop()
    }

    @Test("On Redis a worker thread writes on its own connection; another node's acknowledgement is still waited for")
    func redisOnTheWorkerThread() async throws {
        let server = try RedisServer()
        let clock = VirtualClock(start: Date())
        let storeA = RedisStore(configuration: RedisConfiguration(port: server.port))
        let a = try await startManager(storeA, clock: clock)
        let key = "immediate-redis-key-0001"
        let first = makeSession(expires: clock.unixSeconds() + 60).jsonText()

        // A thread that may not block (this test's) writes nothing, and is told so before any work.
        #expect(!a.writesPluginSessionsOnCallingThread)
        #expect(try await onBlockingThread { a.writesPluginSessionsOnCallingThread })
        // Over TLS the workers use the event-loop pool, so not even a worker writes here.
        let overTLS = RedisStore(configuration: RedisConfiguration(port: server.port, tls: RedisTLSSettings()))
        #expect(try await onBlockingThread { overTLS.writesOnCallingThread } == false)
        #expect(Came(try a.writeFromPluginImmediately(key: key, json: first, suppressReset: true)) == .mustWait)
        #expect(try await a.keyData(key: key) == nil)

        // Alone, a worker's write needs no acknowledgement.
        let alone = try await onBlockingThread { Came(try a.writeFromPluginImmediately(key: key, json: first, suppressReset: true)) }
        guard case .written(let written) = alone else {
            Issue.record("expected the write to be made on the worker thread, got \(alone)")
            return
        }
        #expect(try await a.keyData(key: key) == written)

        // With a second node caching the key, its confirmation is left to wait for.
        let storeB = RedisStore(configuration: RedisConfiguration(port: server.port))
        let b = try await startManager(storeB, clock: clock)
        guard case .valid(let cached, _) = try await b.sessionForAuth(key: key) else {
            Issue.record("node B does not see the key")
            return
        }
        #expect(cached == written)
        let renewedUntil = clock.unixSeconds() + 120
        let renewal = makeSession(expires: renewedUntil).jsonText()
        let confirmations = try await onBlockingThread { () throws -> (@Sendable () async throws -> VersionedSession)? in
            guard case .confirming(let wait) = try a.writeFromPluginImmediately(key: key, json: renewal, suppressReset: true) else { return nil }
            return wait
        }
        let wait = try #require(confirmations, "a write another node has to confirm returned before it did")
        let renewed = try await wait()
        #expect(renewed.session.expires == renewedUntil)
        #expect(try await b.sessionForAuth(key: key) == .valid(renewed, source: .store), "B dropped its copy before the write returned")
        // A counts the first write as a key created and the second as a renewal.
        #expect(a.statistics.snapshot.keysCreated == 1)
        #expect(a.statistics.snapshot.keysRenewed == 1)
        await b.stop()
        await a.stop()
        await storeA.shutdown()
        await storeB.shutdown()
        await overTLS.shutdown()
        server.kill()
    }
}
