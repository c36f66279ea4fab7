import Foundation
import PortcullisCore
@testable import PortcullisSessions
import PortcullisTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("Redis failures")
struct RedisFailureTests {
    /// What one attempted write ended as.
    struct Attempt: Sendable {
        var key: String
        var expires: Int64
        var succeeded: Bool
        var error: String?
        var seconds: Double
        var afterKill: Bool
    }

    @Test("Kill redis-server mid-run: typed errors within a bounded time, no false acknowledgements, recovery without a new store")
    func killAndRestart() async throws {
        let server = try RedisServer(persistent: true)
        let configuration = RedisConfiguration(port: server.port, commandTimeout: 1, connectTimeout: 1)
        let store = RedisStore(configuration: configuration)
        let clock = VirtualClock(start: Date())
        let node = try await startManager(store, clock: clock) { $0.invalidationTimeout = 1 }
        #expect(node.isCacheLive)
        let known = "kill-test-known-key"
        try await node.writeFromPlugin(key: known, json: makeSession().jsonText(), suppressReset: false)
        let killed = Locked(false)
        let attempts = Locked([Attempt]())

        // Four writers, each writing its own keys, before and for 0.6 s after the kill.
        let writers = (0..<4).map { writer in
            Task {
                var i: Int64 = 0
                let stopAt = Date().addingTimeInterval(60)
                while Date() < stopAt {
                    i += 1
                    let key = "kill-test-\(writer)-\(i)"
                    let afterKill = killed.withLock { $0 }
                    let (result, seconds) = await elapsed { () async -> Result<VersionedSession, Error> in
                        do {
                            return .success(try await node.writeFromPlugin(key: key, json: makeSession(expires: i).jsonText(), suppressReset: true))
                        } catch {
                            return .failure(error)
                        }
                    }
                    let attempt: Attempt
                    switch result {
                    case .success: attempt = Attempt(key: key, expires: i, succeeded: true, error: nil, seconds: seconds, afterKill: afterKill)
                    case .failure(let error):
                        #expect(error is SessionError, "untyped error: \(error)")
                        attempt = Attempt(key: key, expires: i, succeeded: false, error: "\(error)", seconds: seconds, afterKill: afterKill)
                    }
                    attempts.withLock { $0.append(attempt) }
                    if Task.isCancelled { return }
                }
            }
        }
        // Let at least 25 writes be acknowledged, then pull the plug.
        try await waitFor(20) { attempts.withLock { $0.filter(\.succeeded).count } >= 25 }
        let killTime = Date()
        server.kill()
        killed.withLock { $0 = true }
        try await waitFor(3) { !node.isCacheLive }
        let noticed = Date().timeIntervalSince(killTime)
        // Reads fail closed once the server is gone, even for a key the cache held.
        let (readResult, readSeconds) = await elapsed { () async -> Error? in
            do { _ = try await node.sessionForAuth(key: known); return nil } catch { return error }
        }
        let readError = try #require(readResult, "a read succeeded with redis-server dead")
        guard case .storeFailed(_, _, let cause) = readError as? SessionError, case .unavailable = cause else {
            Issue.record("read failed with \(readError), expected storeFailed(unavailable)"); return
        }
        try await Task.sleep(nanoseconds: 600_000_000)
        for writer in writers { writer.cancel() }
        for writer in writers { await writer.value }

        let all = attempts.withLock { $0 }
        let acknowledged = all.filter(\.succeeded)
        let failedAfterKill = all.filter { $0.afterKill && !$0.succeeded }
        let succeededAfterKill = all.filter { $0.afterKill && $0.succeeded }
        let slowestFailure = all.filter { !$0.succeeded }.map(\.seconds).max() ?? 0
        #expect(acknowledged.count >= 25, "writers should have written before the kill")
        #expect(!failedAfterKill.isEmpty)
        #expect(succeededAfterKill.isEmpty, "\(succeededAfterKill.count) writes reported success after the kill")
        #expect(slowestFailure < 2.5, "a failure took \(slowestFailure) s")
        #expect(readSeconds < 1.5)

        // Restart on the same port from the append-only file; the same store object recovers.
        let restartTime = Date()
        try server.start()
        var recovered = false
        while Date().timeIntervalSince(restartTime) < 10 {
            if (try? await store.readSession(key: "apikey-" + known)) != nil { recovered = true; break }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        let recoverySeconds = Date().timeIntervalSince(restartTime)
        #expect(recovered)
        try await waitFor(5) { node.isCacheLive }
        let resubscribedSeconds = Date().timeIntervalSince(restartTime)

        // Every write that was reported as written is in Redis.
        var missing: [String] = []
        for attempt in acknowledged {
            let record = try await store.readSession(key: "apikey-" + attempt.key)
            if try record.map({ try SessionState(jsonText: $0.body).expires }) != attempt.expires { missing.append(attempt.key) }
        }
        #expect(missing.isEmpty, "acknowledged but missing: \(missing.prefix(5))")

        // The recovered node works end to end, pub/sub included.
        let other = RedisStore(configuration: configuration)
        let peer = try await startManager(other, clock: clock)
        #expect(try await node.sessionForAuth(key: known).isValid)
        _ = try await node.sessionForAuth(key: known)
        var revoked = makeSession()
        revoked.isInactive = true
        try await peer.addOrUpdate(key: known, session: revoked, suppressReset: true)
        guard case .inactive = try await node.sessionForAuth(key: known) else { Issue.record("invalidation lost after restart"); return }

        print("kill test: \(acknowledged.count) writes acknowledged (all present after restart), \(failedAfterKill.count) failed after the kill, "
              + "slowest failure \(String(format: "%.3f", slowestFailure)) s, loss noticed after \(String(format: "%.3f", noticed)) s, "
              + "read failed in \(String(format: "%.3f", readSeconds)) s, recovered \(String(format: "%.3f", recoverySeconds)) s "
              + "and resubscribed \(String(format: "%.3f", resubscribedSeconds)) s after restart")
        await node.stop()
        await peer.stop()
        await store.shutdown()
        await other.shutdown()
        server.kill()
    }

    @Test("A server that stops answering gives a timeout error within the command timeout, then recovers")
    func hungServer() async throws {
        let server = try RedisServer()
        let store = RedisStore(configuration: RedisConfiguration(port: server.port, commandTimeout: 0.5))
        try await store.setValue("1", forKey: "x", ttlSeconds: 0)
        let pid = try #require(server.pid)
        kill(pid, SIGSTOP)
        let (result, seconds) = await elapsed { () async -> Error? in
            do { _ = try await store.value(forKey: "x"); return nil } catch { return error }
        }
        kill(pid, SIGCONT)
        #expect(result as? SessionStoreError == .timeout(command: "GET", seconds: 0.5))
        #expect(seconds >= 0.45 && seconds < 5, "the timeout fires, and the call does not hang")
        var value: String?
        for _ in 0..<50 where value == nil {
            value = try? await store.value(forKey: "x")
            if value == nil { try await Task.sleep(nanoseconds: 20_000_000) }
        }
        #expect(value == "1")
        await store.shutdown()
        server.kill()
    }

    @Test("A plugin write that times out leaves no cached copy behind: Redis may apply it later without telling this node")
    func unknownWriteOutcomeEmptiesTheCache() async throws {
        let server = try RedisServer()
        let store = RedisStore(configuration: RedisConfiguration(port: server.port, commandTimeout: 0.5))
        let clock = VirtualClock(start: Date())
        let node = try await startManager(store, clock: clock)
        let key = "unknown-outcome-key-0001"
        let first = try await node.writeFromPlugin(key: key, json: makeSession(expires: clock.unixSeconds() + 60).jsonText(), suppressReset: true)
        #expect(try await node.sessionForAuth(key: key) == .valid(first, source: .cache))
        let pid = try #require(server.pid)
        kill(pid, SIGSTOP)
        let renewed = clock.unixSeconds() + 600
        do {
            try await node.writeFromPlugin(key: key, json: makeSession(expires: renewed).jsonText(), suppressReset: true)
            Issue.record("the write returned while Redis was stopped")
        } catch SessionError.storeFailed {}
        kill(pid, SIGCONT)
        // Redis runs the script it was sent once it continues; this node
        // is its only subscriber, so it publishes nothing about it.
        var applied = false
        for _ in 0..<100 where !applied {
            applied = (try? await store.readSession(key: node.storageKey(for: key))).flatMap { $0 }.map { $0.body.contains("\"expires\":\(renewed)") } ?? false
            if !applied { try await Task.sleep(nanoseconds: 20_000_000) }
        }
        try #require(applied, "Redis applied the write sent before it stopped")
        guard case .valid(let seen, _) = try await node.sessionForAuth(key: key) else {
            Issue.record("the renewed key is not valid")
            return
        }
        #expect(seen.session.expires == renewed, "the cached copy from before the write was not served")
        await node.stop()
        await store.shutdown()
        server.kill()
    }

    @Test("Commands overdue together each time out at their own deadline; their late replies never reach later commands")
    func overdueCommandsTimeOutInTurn() async throws {
        let server = try RedisServer()
        let store = RedisStore(configuration: RedisConfiguration(port: server.port, commandTimeout: 0.6))
        try await store.setValue("value-a", forKey: "a", ttlSeconds: 0)
        try await store.setValue("value-b", forKey: "b", ttlSeconds: 0)
        let pid = try #require(server.pid)
        kill(pid, SIGSTOP)
        let start = DispatchTime.now()
        async let first = elapsed { () async -> Error? in
            do { _ = try await store.value(forKey: "a"); return nil } catch { return error }
        }
        try await Task.sleep(nanoseconds: 300_000_000)
        let (secondError, secondSeconds) = await elapsed { () async -> Error? in
            do { _ = try await store.value(forKey: "b"); return nil } catch { return error }
        }
        let (firstError, firstSeconds) = await first
        let total = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        kill(pid, SIGCONT)
        #expect(firstError as? SessionStoreError == .timeout(command: "GET", seconds: 0.6))
        #expect(secondError as? SessionStoreError == .timeout(command: "GET", seconds: 0.6))
        #expect(firstSeconds >= 0.55 && firstSeconds < 5)
        // The later command gets its own full timeout, not the earlier one's.
        #expect(secondSeconds >= 0.55 && secondSeconds < 5)
        #expect(total >= 0.85, "the second command was sent 0.3 s later and waited its own 0.6 s")
        // The server now answers the two stalled GETs; those replies are
        // dropped, and each new command gets its own.
        var answers: [String?] = []
        for _ in 0..<50 {
            let b = try? await store.value(forKey: "b")
            let a = try? await store.value(forKey: "a")
            answers = [a, b]
            if a != nil && b != nil { break }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        #expect(answers == ["value-a", "value-b"])
        for _ in 0..<20 {
            #expect(try await store.value(forKey: "b") == "value-b")
            #expect(try await store.value(forKey: "a") == "value-a")
        }
        await store.shutdown()
        server.kill()
    }

    @Test("Nothing listening: connection refused is a typed error, quickly")
    func connectionRefused() async throws {
        let port = try RedisServer.freePort()
        let store = RedisStore(configuration: RedisConfiguration(port: port, commandTimeout: 1, connectTimeout: 1))
        let (result, seconds) = await elapsed { () async -> Error? in
            do { _ = try await store.readSession(key: "apikey-x"); return nil } catch { return error }
        }
        guard case .unavailable(let reason) = result as? SessionStoreError else {
            Issue.record("expected unavailable, got \(String(describing: result))"); return
        }
        #expect(reason.contains("127.0.0.1:\(port)"))
        // A no-hang bound, loose enough for a loaded 2-core machine running every suite at once.
        #expect(seconds < 15, "refused, not left hanging")
        await store.shutdown()
    }

    @Test("Garbage from the server is a bad-reply error, not a crash or a hang")
    func garbageServer() async throws {
        let port = try RedisServer.freePort()
        let listener = try FakeServer(port: port, reply: "this is not RESP\r\n")
        let store = RedisStore(configuration: RedisConfiguration(port: port, commandTimeout: 1))
        let (result, seconds) = await elapsed { () async -> Error? in
            do { _ = try await store.value(forKey: "k"); return nil } catch { return error }
        }
        guard case .badReply = result as? SessionStoreError else {
            Issue.record("expected badReply, got \(String(describing: result))"); return
        }
        // No hang: the bad reply ends the call. The bound is ten command
        // timeouts, not a speed target: beside the other suites on two cores
        // the call has waited several seconds for a thread.
        #expect(seconds < 10, "no hang: the bad reply ends the call")
        await store.shutdown()
        listener.stop()
    }
}
