import Foundation
import Logging
import NIOPosix
import PortcullisCore
@testable import PortcullisSessions
import PortcullisTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

private func makeLinks(_ configuration: RedisConfiguration) -> BlockingRedisLinks {
    BlockingRedisLinks(connector: RedisConnector(configuration: configuration, group: MultiThreadedEventLoopGroup.singleton,
                                                 logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })))
}

@Suite("Blocking Redis connections of threads that may block")
struct BlockingRedisLinksTests {
    @Test("A thread that may block sends its commands itself, on the configured database, and keeps the connection for the next")
    func commandsOnTheCallingThread() async throws {
        let server = try RedisServer()
        let configuration = RedisConfiguration(port: server.port, database: 3)
        let links = makeLinks(configuration)
        let (reply, firstID, secondID) = try await onBlockingThread { () throws -> (RESPValue?, RESPValue?, RESPValue?) in
            let reply = try links.withConnection { try $0.send(["SET", "blocking-key", "from-a-worker"]) }
            let first = try links.withConnection { try $0.send(["CLIENT", "ID"]) }
            let second = try links.withConnection { try $0.send(["CLIENT", "ID"]) }
            return (reply, first, second)
        }
        #expect(reply == .simpleString("OK"))
        #expect(firstID != nil && firstID == secondID, "the connection is kept and lent again")
        // The event-loop pool reads what the blocking connection wrote, on the same database.
        let store = RedisStore(configuration: configuration)
        #expect(try await store.value(forKey: "blocking-key") == "from-a-worker")
        // Any other thread is refused one, and uses the pool.
        #expect(try links.withConnection { try $0.send(["PING"]) } == nil)
        links.shutdown()
        let afterShutdown = try await onBlockingThread { try links.withConnection { try $0.send(["PING"]) } }
        #expect(afterShutdown == nil)
        await store.shutdown()
        server.kill()
    }

    @Test("A stalled server times the command out within the command timeout; the late reply never answers a later command")
    func stalledServer() async throws {
        let server = try RedisServer()
        let configuration = RedisConfiguration(port: server.port, commandTimeout: 0.5)
        let links = makeLinks(configuration)
        let store = RedisStore(configuration: configuration)
        try await store.setValue("value-a", forKey: "a", ttlSeconds: 0)
        try await store.setValue("value-b", forKey: "b", ttlSeconds: 0)
        let pid = try #require(server.pid)
        let before = try await onBlockingThread { try links.withConnection { try $0.send(["CLIENT", "ID"]) } }
        kill(pid, SIGSTOP)
        let (error, seconds) = try await onBlockingThread { () -> (SessionStoreError?, Double) in
            let start = DispatchTime.now()
            var failure: SessionStoreError?
            do { _ = try links.withConnection { try $0.send(["GET", "a"]) } } catch { failure = error as? SessionStoreError }
            return (failure, Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9)
        }
        kill(pid, SIGCONT)
        #expect(error == .timeout(command: "GET", seconds: 0.5))
        #expect(seconds >= 0.45 && seconds < 5)
        let (answer, after) = try await onBlockingThread { () throws -> (RESPValue?, RESPValue?) in
            (try links.withConnection { try $0.send(["GET", "b"]) }, try links.withConnection { try $0.send(["CLIENT", "ID"]) })
        }
        #expect(answer?.text == "value-b")
        #expect(after != nil && after != before, "the timed-out connection was closed, not lent again")
        links.shutdown()
        await store.shutdown()
        server.kill()
    }

    @Test("A connection the server closed while it sat idle is replaced before the next command, which succeeds")
    func idleConnectionClosedByTheServer() async throws {
        let server = try RedisServer()
        let links = makeLinks(RedisConfiguration(port: server.port, commandTimeout: 1))
        let store = RedisStore(configuration: RedisConfiguration(port: server.port))
        // Redis drops clients idle for more than a second.
        _ = try await store.command(["CONFIG", "SET", "timeout", "1"])
        let before = try await onBlockingThread { try links.withConnection { try $0.send(["CLIENT", "ID"]) } }
        guard case .integer(let beforeID)? = before else {
            Issue.record("CLIENT ID answered \(String(describing: before))")
            return
        }
        var dropped = false
        for _ in 0..<100 where !dropped {
            try await Task.sleep(nanoseconds: 100_000_000)
            let clients = try await store.command(["CLIENT", "LIST"]).text ?? ""
            dropped = !clients.contains("id=\(beforeID) ")
        }
        try #require(dropped, "Redis closed the idle connection")
        let (reply, after) = try await onBlockingThread { () throws -> (RESPValue?, RESPValue?) in
            (try links.withConnection { try $0.send(["PING"]) }, try links.withConnection { try $0.send(["CLIENT", "ID"]) })
        }
        #expect(reply == .simpleString("PONG"))
        #expect(after != nil && after != before)
        links.shutdown()
        await store.shutdown()
        server.kill()
    }

    @Test("Bytes that are not RESP are a bad-reply error; nothing listening leaves the command to the pool")
    func brokenServers() async throws {
        let port = try RedisServer.freePort()
        let listener = try FakeServer(port: port, reply: "this is not RESP\r\n")
        let garbage = makeLinks(RedisConfiguration(port: port, commandTimeout: 1))
        let error = try await onBlockingThread { () -> SessionStoreError? in
            do { _ = try garbage.withConnection { try $0.send(["GET", "k"]) } } catch { return error as? SessionStoreError }
            return nil
        }
        guard case .badReply? = error else {
            Issue.record("expected a bad reply, got \(String(describing: error))")
            return
        }
        listener.stop()

        let refused = makeLinks(RedisConfiguration(port: try RedisServer.freePort(), commandTimeout: 1, connectTimeout: 1))
        let answered = try await onBlockingThread { try refused.withConnection { try $0.send(["PING"]) } }
        #expect(answered == nil, "no blocking connection could be opened; the event-loop pool reports the failure")
    }

    @Test("A reply that trickles in times out within the command timeout, counted from the command, not from the last bytes")
    func tricklingReplyKeepsTheDeadline() async throws {
        let port = try RedisServer.freePort()
        // A bulk string one byte every 0.9 s: each byte inside the 1 s
        // command timeout, the whole reply 8 s.
        let listener = try FakeServer(port: port, reply: "$3\r\nabc\r\n", drip: .milliseconds(900))
        defer { listener.stop() }
        let links = makeLinks(RedisConfiguration(port: port, commandTimeout: 1))
        let (error, waited) = try await onBlockingThread { () -> (SessionStoreError?, Double) in
            var failure: SessionStoreError?
            var waited = 0.0
            _ = try links.withConnection { connection in
                let started = ContinuousClock.now
                do { _ = try connection.send(["GET", "k"]) } catch { failure = error as? SessionStoreError }
                waited = (ContinuousClock.now - started).secondsValue
                return true
            }
            return (failure, waited)
        }
        #expect(error == .timeout(command: "GET", seconds: 1))
        // The wait after the byte at 0.9 s may only use the 0.1 s left:
        // waiting a full timeout again would end at the next byte, 1.8 s,
        // and with no deadline at all the reply would arrive after 8 s.
        #expect(waited >= 0.95 && waited < 1.6, "waited \(waited) s")
    }
}

@Suite("A blocking connection offers the wait for a late reply")
struct BlockingWaitOfferTests {
    @Test("A reply that has not arrived is first offered to the thread's waiting work, once per command, then read as before")
    func lateReplyIsOffered() async throws {
        let server = try RedisServer()
        let links = makeLinks(RedisConfiguration(port: server.port))
        let (reply, offers) = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<(RESPValue?, Int), any Error>) in
            let thread = Thread {
                let counter = Locked(0)
                BlockingThread.declareCurrent(whileWaiting: { counter.withLock { $0 += 1 } })
                continuation.resume(with: Result {
                    // BLPOP on an empty list answers after its timeout: the reply is late for certain.
                    let reply = try links.withConnection { try $0.send(["BLPOP", "offer-empty-list", "0.2"]) }
                    return (reply, counter.value)
                })
            }
            thread.start()
        }
        #expect(offers == 1)
        #expect(reply == .array(nil), "the late reply is still read, as BLPOP's timeout answer")
        links.shutdown()
        server.kill()
    }
}
