import Foundation
import Logging
import PortcullisCore
@testable import PortcullisSessions
import PortcullisTestSupport
import Testing

/// The two store implementations every behavioural test runs against.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case memory
    case redis
    var testDescription: String { rawValue }
}

/// A store under test plus the means to move time for it: a virtual clock
/// for the memory store, real waiting for Redis (whose TTLs follow its
/// own clock). Holds the Redis server alive for the test's duration.
final class StoreFixture: @unchecked Sendable {
    let kind: StoreKind
    let clock: VirtualClock
    let store: any SessionStore
    let server: RedisServer?

    init(_ kind: StoreKind, commandTimeout: Double = 2) throws {
        self.kind = kind
        self.clock = VirtualClock(start: Date())
        switch kind {
        case .memory:
            server = nil
            store = MemoryStore(clock: clock)
        case .redis:
            let server = try RedisServer()
            self.server = server
            store = RedisStore(configuration: RedisConfiguration(port: server.port, commandTimeout: commandTimeout))
        }
    }

    /// Another store object on the same data (a second node).
    func secondStore() -> any SessionStore {
        if let server {
            return RedisStore(configuration: RedisConfiguration(port: server.port))
        }
        return store
    }

    /// Lets `seconds` pass for TTL purposes (and moves the clock).
    func advance(_ seconds: Double) async throws {
        clock.advance(by: seconds)
        if kind == .redis {
            try await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
        }
    }

    func close() async {
        await store.shutdown()
        server?.kill()
    }
}

extension LogBook {
    /// Everything logged, messages and metadata, as one text (to assert
    /// what was logged, and that keys are masked).
    var allText: String { all.map(\.text).joined(separator: "\n") }
}

/// A session with one API in `access_rights`.
func makeSession(expires: Int64 = 0, api: String = "api1", meta: [String: JSONValue] = [:]) -> SessionState {
    var session = SessionState()
    session.expires = expires
    session.accessRights[api] = AccessDefinition(apiID: api, apiName: "API \(api)", versions: ["Default"])
    session.metaData = meta
    return session
}

/// Measures how long `body` takes, in seconds.
func elapsed<T>(_ body: () async throws -> T) async rethrows -> (T, Double) {
    let start = DispatchTime.now()
    let value = try await body()
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    return (value, seconds)
}

/// Runs `body` on a new thread declared as one that may block, as a JS
/// worker is, and hands back what it returned or threw.
func onBlockingThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            BlockingThread.declareCurrent()
            continuation.resume(with: Result { try body() })
        }
        thread.start()
    }
}
