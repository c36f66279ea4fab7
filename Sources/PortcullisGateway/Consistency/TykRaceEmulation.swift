import Foundation
import Logging
import PortcullisCore
import PortcullisSessions

/// The moving parts of ``SessionSemantics/tykRace``: the stale node-local
/// session cache and the queue of deferred plugin writes.
///
/// It reproduces reference §7 causes 2 and 5: a `TykSetKeyData` in a pre
/// hook drops the key's cache entry and queues the write; auth then misses
/// the cache, reads the old session from the store and caches it for
/// 10 seconds; the write lands after the response. The request that
/// renewed the key, and any request within the next 10 s, is refused.
final class TykRaceEmulation: Sendable {
    private struct CachedSession {
        var session: VersionedSession
        var deadline: Date
    }

    private struct DeferredWrite {
        var key: String
        var json: String
        var suppressReset: Bool
    }

    /// How long a cached session is used (Tyk's hard-coded 10 s).
    static let cacheSeconds: TimeInterval = 10

    private let clock: any GatewayClock
    private let logger: Logger
    private let cache = Locked<[String: CachedSession]>([:])
    private let queued = Locked<[String: [DeferredWrite]]>([:])

    init(clock: any GatewayClock, logger: Logger) {
        self.clock = clock
        self.logger = logger
    }

    /// Auth's lookup: the cached copy when there is one, however stale;
    /// otherwise the store, whose answer is cached.
    func sessionForAuth(key: String, sessions: SessionManager) async throws -> SessionLookup {
        let now = clock.now()
        let cached = cache.withLock { entries -> VersionedSession? in
            guard let entry = entries[key] else { return nil }
            guard now < entry.deadline else {
                entries.removeValue(forKey: key)
                return nil
            }
            return entry.session
        }
        let found: VersionedSession
        if let cached {
            found = cached
        } else {
            guard let stored = try await sessions.keyData(key: key) else { return .notFound }
            cache.withLock { $0[key] = CachedSession(session: stored, deadline: now.addingTimeInterval(Self.cacheSeconds)) }
            found = stored
        }
        if found.session.isInactive { return .inactive(found) }
        if found.session.isExpired(at: clock.unixSeconds()) {
            logger.info("Attempted access from expired key.", metadata: ["key": .string(KeyMask.mask(key))])
            return .expired(found)
        }
        return .valid(found, source: cached == nil ? .store : .cache)
    }

    /// `TykSetKeyData`: checks the JSON, drops the cache entry and queues
    /// the write for after the response.
    func deferWrite(requestID: String, key: String, json: String, suppressReset: Bool) throws {
        _ = try SessionState(jsonText: json)
        forget(key: key)
        queued.withLock { $0[requestID, default: []].append(DeferredWrite(key: key, json: json, suppressReset: suppressReset)) }
    }

    /// Applies the writes a request queued, in order. Failures are only
    /// logged: the client already has its answer.
    func flush(requestID: String, sessions: SessionManager) async {
        let writes = queued.withLock { $0.removeValue(forKey: requestID) } ?? []
        for write in writes {
            do {
                try await sessions.writeFromPlugin(key: write.key, json: write.json, suppressReset: write.suppressReset)
            } catch {
                logger.error("deferred session write failed", metadata: ["key": .string(KeyMask.mask(write.key)),
                                                                          "error": .string("\(error)")])
            }
        }
    }

    /// Drops the node-local copy of `key` (an admin write on this node).
    func forget(key: String) {
        _ = cache.withLock { $0.removeValue(forKey: key) }
    }
}
